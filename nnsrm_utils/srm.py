r"""The Shared Response Model (SRM): align networks by orthogonal maps.

Each network's (centred) activity on the same examples is modelled as an
orthonormal map of one shared response:

.. math::  X_i - \mu_i \approx W_i S, \qquad W_i^\top W_i = I_k,

with ``X_i`` of shape ``(n_units_i, n_examples)``, ``W_i`` of shape
``(n_units_i, k)`` and ``S`` of shape ``(k, n_examples)``.  Networks may have
different numbers of units; ``k`` may not exceed any of them.

Two estimators with the scikit-learn contract (hyper-parameters in
``__init__``, learned state in ``w_``, ``s_``, ``mu_`` after ``fit``):

:class:`DetSRM`
    Deterministic SRM: minimise ``0.5/T * sum_i ||X_i - mu_i - W_i S||_F^2`` by
    alternating ``S = mean_i W_i^T X_i`` and the orthogonal Procrustes step
    ``W_i = U V^T`` from the SVD of ``X_i S^T``.
:class:`SRM`
    Probabilistic SRM (Chen et al. 2015), fitted by EM; the model BrainIAK's
    ``SRM`` implements and the one the paper used.

Deliberate differences from BrainIAK 0.12 (``brainiak.funcalign.srm``):

* ``transform`` subtracts the unit means learned in ``fit``.  BrainIAK returns
  ``W_i^T X_i`` without centring (its issue 406), so a constant offset in a
  network leaks into the shared space.
* The EM noise-variance update uses the *centred* data, the quantity the model
  is written for.  BrainIAK uses the uncentred ``||X_i||^2``, which inflates
  ``rho_i^2`` for networks with large unit means (ReLU layers; tested against its
  update equations).  On centred data the updates are the same.
* The deterministic SRM centres the units, as the probabilistic one does.
  BrainIAK's ``DetSRM`` does not centre at all, so on layers with unit offsets its
  ``W_i`` differ from these (and from its own ``SRM``'s).
* BrainIAK adds ``0.001 I`` to ``X_i S^T`` before every SVD, in both estimators; here
  the polar factor is taken as is (it is well defined for rank-deficient input).  On
  centred data this is the only difference left: BrainIAK's ``W_i`` differ from these
  by about 1e-5 on unit-variance data (tested); the perturbation is absolute, so its
  effect grows as the data's scale shrinks.
* The noise variances are floored at machine precision times each network's
  variance, so noise-free data (the simulation) give finite results.
* Networks with more units than examples (wide conv layers) are fitted on a square-root
  factor of their Gram matrix, exactly and in memory set by the number of examples.
* ``k <= n_units_i`` is checked (BrainIAK only checks ``k <= n_examples``), and an
  optional tolerance stops the iterations early.

``SRM(brainiak=True)`` runs BrainIAK's EM as it is written instead: the ``0.001 I``
before each Procrustes step and the noise update from the uncentred ``||X_i||^2``.  It
exists to reproduce results computed with BrainIAK: on the paper's noise-free simulation,
where the centred activity has tiny singular directions, the perturbation (not the data)
sets the copies' maps along those directions, and the uncentred ``W_i^T X_i`` carry the
units' large common level through them, differently for each copy (chapter 4).

Initialisation is BrainIAK's, so results are comparable: the ``W_i`` start as
the Q factor of a QR decomposition of ``RandomState(seed_i).random_sample``,
with the per-network seeds drawn from ``RandomState(random_state)``.

Precision: large products run in the input's dtype (float32 activations stay
float32, about twice as fast); small ``k x k`` algebra and all sums of squares
are accumulated in float64.

Torch tensors (float32 or float64, every network on one device and in one dtype) are accepted
by :func:`procrustes`, ``fit``, ``transform``, ``fit_network`` and :func:`variance_explained`:
the work runs on their device and ``w_``, ``s_``, ``mu_``, ``sigma_s_`` and ``rho2_`` are tensors
there (the per-iteration ``objective_`` and ``loglik_`` stay numpy); see
``nnsrm_utils._backend``.  The initial ``W_i`` draw the same numbers as for numpy input.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ._backend import NUMPY, array_namespace, eps
from ._validate import check_activations, check_count, check_float_tensor, check_layer, namespace, rounding_level


def _sumsq(a, b=None):
    """Sum of ``a * b`` (default ``a * a``), products and sum in float64."""
    a, xp = a.ravel(), array_namespace(a)
    return float(xp.einsum("i,i->", a, a if b is None else b.ravel(), dtype=xp.float64))


def procrustes(A: ArrayLike) -> NDArray[np.floating]:
    """Orthonormal ``W`` maximising ``trace(W^T A)``: the polar factor ``U V^T`` of ``A = U S V^T``.

    Computed as ``A (A^T A)^{-1/2}`` in float64 from an eigendecomposition of the small
    ``k x k`` Gram matrix, two to three times faster than an SVD of ``A``.  Squaring the
    condition number costs accuracy only along ``A``'s tiny singular directions: ``W^T W``
    is off ``I`` by about ``eps * cond(A)^2``, and where that exceeds the output's rounding
    one Newton-Schulz step restores it.  A (nearly) singular ``A``, whose polar factor is
    not unique, goes to the SVD.  Integer input gives float64.

    Parameters
    ----------
    A : array_like
        ``(n, k)`` with ``n >= k``, e.g. ``X_i S^T`` of a network's ``(n_units, n_examples)``
        responses and a ``(k, n_examples)`` shared response.

    Returns
    -------
    numpy.ndarray
        ``(n, k)`` with orthonormal columns, in ``A``'s float dtype (a tensor for tensor input).

    Raises
    ------
    ValueError
        If ``A`` is not 2-D, has no columns or fewer rows than columns, or has NaN or infinite
        values.
    TypeError
        For a tensor that is not float32 or float64.

    Examples
    --------
    >>> import numpy as np
    >>> W = procrustes(np.random.default_rng(0).standard_normal((5, 2)))
    >>> W.shape, bool(np.allclose(W.T @ W, np.eye(2)))
    ((5, 2), True)
    """
    xp = array_namespace(A)
    if xp is NUMPY:
        A = np.asarray(A)
        if A.dtype not in (np.float32, np.float64):
            A = A.astype(np.float64)
    else:
        check_float_tensor(A, "A")
    if A.ndim != 2 or A.shape[0] < A.shape[1] or A.shape[1] < 1:
        raise ValueError(f"A must be a 2-D array with at least one column and as many rows; got shape {tuple(A.shape)}")
    if not xp.all(xp.isfinite(A)):
        raise ValueError("A contains NaN or infinite values")
    a64 = xp.astype(A, xp.float64)
    evals, evecs = xp.linalg.eigh(a64.T @ a64)
    if not evals[0] > 1e-12 * evals[-1] > 0:
        U, _, Vt = xp.linalg.svd(A, full_matrices=False)
        return U @ Vt
    half = evecs / xp.sqrt(xp.sqrt(evals))  # (A^T A)^{-1/2} = half half^T: a symmetric product
    W = a64 @ (half @ half.T)
    if eps(np.float64) * evals[-1] / evals[0] > eps(A.dtype):
        W = 1.5 * W - 0.5 * W @ (W.T @ W)
    return xp.astype(W, A.dtype)


def _each(fn, *args, k):
    """``[fn(*a) for a in zip(*args)]`` for factorisations with ``k`` columns; from ``k = 256`` up,
    two or more at a time with one BLAS thread each.

    Used for the per-network QR and Procrustes steps: LAPACK keeps only one core busy for
    much of a ``1000 x 1000`` factorisation, so side by side is about 25% faster on two cores.
    """
    workers = min(len(args[0]), os.cpu_count() or 1)
    if k < 256 or workers < 2 or array_namespace(*args[-1]) is not NUMPY:  # torch schedules its own threads
        return list(map(fn, *args))
    with threadpool_limits(1), ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, *args))


def _procrustes_each(As):
    """:func:`procrustes` of every network's matrix."""
    return _each(procrustes, As, k=min(a.shape[1] for a in As))


def _with_brainiak_identity(a):
    """A copy of ``a`` (``n x k``) plus BrainIAK's ``0.001 I``: 0.001 on its leading diagonal."""
    xp, k = array_namespace(a), a.shape[1]
    b = a + 0
    b[:k] += 0.001 * xp.eye(k, dtype=a.dtype, device=xp.device(a))
    return b


def _centred_product(X, mu, M, transpose=False):
    """``(X - mu 1^T) @ M``, or ``(X - mu 1^T)^T @ M`` for ``X`` given as its transpose, without a centred copy."""
    if transpose:  # X is (examples, units) here; centring subtracts mu from every row
        return X @ M - (mu @ M)[None, :]
    return X @ M - array_namespace(X).outer(mu, M.sum(axis=0))


def _row_space(X, mu, k):
    """A square-root factor of a wide network's centred Gram matrix, and the map back to units.

    With more units than examples, ``X_c = X - mu 1^T`` has rank ``r <= n_examples``.  Writing
    ``X_c^T X_c = E L E^T`` gives ``X_c = U R`` with ``R = L^(1/2) E^T`` (``r x n_examples``) and
    ``U = X_c B``, ``B = E L^(-1/2)``, orthonormal columns never formed.  SRM sees ``X_c`` only
    through ``W^T X_c``, ``X_c S^T`` and ``||X_c||``, and every Procrustes step gives a ``W``
    in the range of ``U``, so fitting on ``R`` and returning ``W = X_c B W~`` is exact, with
    memory and time set by the number of examples.  Returns None when ``r < k``.
    """
    xp = array_namespace(X)
    x64 = xp.astype(X, xp.float64)  # one network at a time: the Gram in float64
    xtm = x64.T @ xp.astype(mu, xp.float64)
    gram = x64.T @ x64 - xtm[:, None] - xtm[None, :] + mu @ mu
    del x64
    evals, evecs = xp.linalg.eigh((gram + gram.T) / 2)
    keep = evals > evals[-1] * 1e-12 * len(evals)
    if keep.sum() < k:
        return None
    evals, evecs = evals[keep], evecs[:, keep]
    return (evecs * xp.sqrt(evals)).T, evecs / xp.sqrt(evals)


def _check_varies(X, mu, name):
    """Refuse a network whose every unit is constant over the examples: its centred activity is
    zero (or rounding), so any ``W_i`` fits it equally and SRM would place it arbitrarily."""
    xp = array_namespace(X)
    if not float(xp.max(xp.abs(X - mu[:, None]))) > rounding_level(float(xp.max(xp.abs(X))), X.dtype):
        raise ValueError(f"{name} does not vary over the examples (every unit is constant): SRM cannot place it")


def init_w(n_units: Sequence[int], n_features: int, random_state: int = 0, dtype: type = np.float64) -> list[NDArray]:
    """BrainIAK's initial ``W_i``: Q of a QR of uniform noise, one seeded stream per network.

    Parameters
    ----------
    n_units : sequence of int
        Each network's number of units (at least ``n_features``).
    n_features : int
        The shared dimension ``k``.
    random_state : int
        Seed of the per-network seeds.
    dtype : type
        The arrays' dtype.

    Returns
    -------
    list of numpy.ndarray
        One ``(n_units_i, n_features)`` array with orthonormal columns per network.

    Raises
    ------
    ValueError
        If ``n_features`` is not a positive integer, a network has fewer units, or ``dtype`` is
        not a floating dtype.

    Examples
    --------
    >>> import numpy as np
    >>> w = init_w([5, 8], n_features=3)
    >>> [x.shape for x in w], all(np.allclose(x.T @ x, np.eye(3)) for x in w)
    ([(5, 3), (8, 3)], True)
    """
    n_units = list(n_units)
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"dtype must be a floating dtype (orthonormal columns); got {dtype!r}")
    if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or n_features < 1:
        raise ValueError(f"n_features must be a positive integer; got {n_features!r}")
    if min(n_units, default=n_features) < n_features:
        raise ValueError(f"every network needs at least n_features={n_features} units; got {n_units}")
    return _init_w(n_units, n_features, random_state, dtype, NUMPY)


def _init_w(n_units, n_features, random_state, dtype, xp, device=None):
    """:func:`init_w`, the QR on ``device`` (the noise is numpy's either way, so torch input starts alike)."""
    seeder = np.random.RandomState(random_state)
    seeds = [seeder.randint(2**32) for _ in n_units]

    def one(seed, v):
        noise = xp.asarray(np.random.RandomState(seed).random_sample((v, n_features)), device=device)
        return xp.astype(xp.linalg.qr(noise)[0], dtype)

    return _each(one, seeds, n_units, k=n_features) if xp is NUMPY else list(map(one, seeds, n_units))


class _Stack:
    """Every network's centred data stacked in one array, and the product SRM takes from it.

    Each update needs ``Z_i = X_i Y^T`` for every network, where ``Y = sum_j c_j W_j^T X_j``
    (``c_j = 1/m`` in DetSRM, ``1/rho_j^2`` in SRM).  Formed directly that costs ``4 N k T``
    flops (``N`` units in all, ``T`` examples); from the Gram matrix ``C = X X^T`` of the stack
    it is one product ``Z = C [c_j W_j]``, ``2 N^2 k`` flops, after ``N^2 T`` once.  The Gram
    matrix is used when that saves flops over ``n_iter`` iterations, which needs ``N < 2 T``
    (so it never holds more than twice the data).
    """

    def __init__(self, x, rows, k, n_iter, gram=True):
        self.x, self.rows = x, rows
        n, t = x.shape
        self.gram = x @ x.T if gram and n_iter * k * (4 * t - 2 * n) > n * t else None

    def split(self, a):
        """Network ``i``'s rows of a stacked array."""
        return [a[i:j] for i, j in zip(self.rows[:-1], self.rows[1:])]

    def stack(self, w, c):
        """``[c_j W_j]`` stacked, ``(N, k)``."""
        xp = array_namespace(self.x)
        wc = xp.empty((self.rows[-1], w[0].shape[1]), self.x.dtype, device=xp.device(self.x))
        for wj, cj, part in zip(w, c, self.split(wc)):
            xp.multiply(wj, float(cj), out=part)
        return wc

    def shared(self, wc):
        """``Y = sum_j c_j W_j^T X_j`` for ``wc = stack(w, c)``."""
        return wc.T @ self.x

    def cross(self, wc):
        """``X Y^T`` (stacked ``Z_i``) for ``wc = stack(w, c)``."""
        return self.x @ self.shared(wc).T if self.gram is None else self.gram @ wc


class _BaseSRM(BaseEstimator):
    """Validation, centring and the transforms shared by both estimators.

    scikit-learn estimators: ``get_params``/``set_params``, ``clone`` and their repr come from
    :class:`sklearn.base.BaseEstimator`; methods that need a fitted model raise
    :class:`sklearn.exceptions.NotFittedError` (a ``ValueError``) before ``fit``, and
    ``fit(Xs, y=None)`` ignores ``y`` as unsupervised scikit-learn estimators do.
    """

    # Exact shortcuts, switched off only to test and benchmark the direct path:
    _reduce_wide = True  # fit wide networks on their Gram factor
    _gram_products = True  # form X_i S^T from the stack's Gram matrix where that is cheaper

    def __init__(self, n_features: int = 50, n_iter: int = 10, tol: float | None = None,
                 random_state: int = 0) -> None:
        self.n_features = n_features
        self.n_iter = n_iter
        self.tol = tol
        self.random_state = random_state

    def _prepare(self, Xs, reduce_wide=True):
        Xs = check_layer(Xs, min_networks=2)
        xp = array_namespace(*Xs)
        k, n_examples = self.n_features, Xs[0].shape[1]
        check_count(k, "n_features")
        check_count(self.n_iter, "n_iter")
        if self.tol is not None and not self.tol > 0:
            raise ValueError(f"tol must be positive or None; got {self.tol!r}")
        if k > n_examples:
            raise ValueError(f"n_features={k} exceeds the number of examples ({n_examples}): too few examples")
        small = [i for i, X in enumerate(Xs) if X.shape[0] < k]
        if small:
            raise ValueError(
                f"n_features={k} exceeds the number of units of network(s) {small} "
                f"({[Xs[i].shape[0] for i in small]}); choose k <= the smallest layer"
            )
        dtype = np.result_type(*Xs) if xp is NUMPY else Xs[0].dtype  # tensors: one dtype (checked)
        self.mu_ = [X.mean(axis=1) for X in Xs]
        for i, (X, mu) in enumerate(zip(Xs, self.mu_)):
            _check_varies(X, mu, f"network {i}")
        w = _init_w([X.shape[0] for X in Xs], k, self.random_state, dtype, xp, xp.device(Xs[0]))
        parts, bases = [], []  # what is stacked for each network: X_i and its means, or R_i
        for i, (X, mu) in enumerate(zip(Xs, self.mu_)):
            reduced = _row_space(X, mu, k) if reduce_wide and self._reduce_wide and X.shape[0] > n_examples else None
            if reduced is None:
                parts.append((X, mu))
                bases.append(None)
            else:  # fit on R_i; the first S-step sees W_i^T X_i = (B_i^T X_i^T W_i)^T R_i
                r, basis = reduced
                parts.append((xp.astype(r, dtype), xp.zeros(len(r), dtype=dtype, device=xp.device(r))))
                bases.append(basis)
                product = _centred_product(X.T, mu, w[i], transpose=True)
                w[i] = xp.astype(basis.T @ xp.astype(product, basis.dtype), dtype)
        rows = [int(r) for r in np.cumsum([0] + [len(p) for p, _ in parts])]
        x = xp.empty((rows[-1], n_examples), dtype, device=xp.device(Xs[0]))
        for (p, mu), a, b in zip(parts, rows, rows[1:]):
            xp.subtract(p, mu[:, None], out=x[a:b])
        self._fit_inputs = (Xs, bases)
        return _Stack(x, rows, k, self.n_iter, self._gram_products), w

    def _lift(self, w):
        """Map the ``W_i`` of reduced (wide) networks back to unit space: ``W_i = X_i B_i W~_i``."""
        Xs, bases = self._fit_inputs
        del self._fit_inputs
        xp = array_namespace(*w)
        return [wi if b is None else _centred_product(X, mu, xp.astype(b @ xp.astype(wi, b.dtype), X.dtype))
                for X, mu, b, wi in zip(Xs, self.mu_, bases, w)]

    def _converged(self, history):
        if self.tol is None or len(history) < 2:
            return False
        return abs(history[-1] - history[-2]) <= self.tol * abs(history[-2])

    def _check_fitted(self):
        check_is_fitted(self, "w_")

    def transform(self, Xs: Sequence[ArrayLike], centre: bool = True) -> list[NDArray[np.floating]]:
        """Shared-space responses ``W_i^T (X_i - mu_i)`` of the fitted networks, any examples.

        Parameters
        ----------
        Xs : sequence of array_like
            One ``(n_units_i, n_examples)`` array per fitted network, in the order of ``fit``,
            over any (the same) examples.
        centre : bool
            False: ``W_i^T X_i``, as BrainIAK's transform, which keeps each network's mean
            response ``W_i^T mu_i``.  Those differ between networks unless their means are one
            shared mean response mapped by each ``W_i`` (chapter 3); comparisons with RSMs of
            uncentred activity need them kept.

        Returns
        -------
        list of numpy.ndarray
            One ``(k, n_examples)`` array per network.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            For another number of networks or of units than in ``fit``, or invalid arrays.
        TypeError
            For tensors of another dtype than the fitted model's.
        """
        self._check_fitted()
        Xs = check_layer(Xs, min_examples=1)
        namespace(*Xs, *self.w_, name="Xs and the fitted w_")
        if len(Xs) != len(self.w_):
            raise ValueError(f"expected {len(self.w_)} networks (as in fit); got {len(Xs)}")
        for i, (X, w) in enumerate(zip(Xs, self.w_)):
            if X.shape[0] != w.shape[0]:
                raise ValueError(f"Xs[{i}] has {X.shape[0]} units; network {i} was fitted with {w.shape[0]}")
        if array_namespace(*Xs) is not NUMPY and Xs[0].dtype != self.w_[0].dtype:  # numpy promotes; torch refuses
            raise TypeError(f"Xs are {Xs[0].dtype} tensors but the model was fitted on {self.w_[0].dtype}: cast them")
        return [w.T @ (X - mu[:, None]) if centre else w.T @ X for X, w, mu in zip(Xs, self.w_, self.mu_)]

    def fit_network(self, X: ArrayLike) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
        """Map a network not seen in ``fit`` into the shared space.

        ``X`` holds its responses to the examples used in ``fit`` (same order).
        Its shared response to new examples ``Z`` is ``w.T @ (Z - mu[:, None])``.

        Parameters
        ----------
        X : array_like
            ``(n_units, n_fit_examples)``, at least ``k`` units.

        Returns
        -------
        w : numpy.ndarray
            ``(n_units, k)``, orthonormal columns.
        mu : numpy.ndarray
            ``(n_units,)`` unit means.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            If ``X`` does not cover the fit examples or has fewer than ``k`` units.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> Xs = [rng.standard_normal((6, 40)) for _ in range(3)]
        >>> w, mu = DetSRM(n_features=2).fit(Xs[:2]).fit_network(Xs[2])   # a third network, fitted afterwards
        >>> w.shape, mu.shape
        ((6, 2), (6,))
        """
        self._check_fitted()
        xp = namespace(X, self.s_, name="X and the fitted s_")
        X = check_activations(X, tensors=True)
        if X.shape[1] != self.s_.shape[1]:
            raise ValueError(f"X must respond to the {self.s_.shape[1]} fit examples; got {X.shape[1]}")
        k = self.s_.shape[0]  # as fitted (n_features may have been set anew since)
        if X.shape[0] < k:
            raise ValueError(f"X has {X.shape[0]} units, fewer than the {k} shared features")
        mu = X.mean(axis=1)
        _check_varies(X, mu, "X")
        return procrustes((X - mu[:, None]) @ xp.astype(self.s_.T, X.dtype)), mu

    def transform_subject(self, X: ArrayLike) -> NDArray[np.floating]:
        """BrainIAK's name for :meth:`fit_network`, returning only ``w`` as BrainIAK does.

        BrainIAK's ``transform_subject`` fits ``w`` on uncentred ``X``; here ``X`` is centred
        first, and its unit means ``mu`` (needed to map new examples) come from
        :meth:`fit_network`.

        Returns
        -------
        numpy.ndarray
            ``(n_units, k)``, the ``w`` of :meth:`fit_network`.
        """
        return self.fit_network(X)[0]


class DetSRM(_BaseSRM):
    """Deterministic SRM (alternating least squares with orthonormal ``W_i``).

    Parameters
    ----------
    n_features : int
        The dimension ``k`` of the shared space.
    n_iter : int
        The maximum number of iterations (BrainIAK's default, 10).
    tol : float or None
        Stop when the objective changes by less than ``tol`` relative to its previous value.
    random_state : int
        Seed of the initial ``W_i`` (see the module docstring).

    Attributes
    ----------
    w_ : list of ndarray
        One ``(n_units_i, k)`` array per network, with orthonormal columns.
    s_ : ndarray
        ``(k, n_examples)`` shared response on the fit examples.
    mu_ : list of ndarray
        One ``(n_units_i,)`` array of unit means per network.
    objective_ : ndarray
        ``0.5/T * sum_i ||X_i - mu_i - W_i S||_F^2`` of the ``W_i`` and ``S`` after each
        iteration (the last is that of ``w_`` and ``s_``); never increases (up to rounding).
    n_iter_ : int
        Iterations run.

    Examples
    --------
    Four networks of 8 units, each an orthonormal embedding (3 columns of a random rotation) of
    one 3-dimensional response, plus a little noise:

    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> S = rng.standard_normal((3, 200))
    >>> Xs = [random_orthogonal(8, i)[:, :3] @ S + 0.1 * rng.standard_normal((8, 200)) for i in range(4)]
    >>> model = DetSRM(n_features=3, n_iter=20).fit(Xs)
    >>> [round(float(v), 2) for v in variance_explained(model, Xs, leave_one_out=True)]
    [0.97, 0.97, 0.97, 0.97]
    """

    def fit(self, Xs: Sequence[ArrayLike], y: None = None) -> DetSRM:
        """Fit the ``W_i`` and ``S`` to the networks' responses to the same examples.

        Parameters
        ----------
        Xs : sequence of array_like
            One ``(n_units_i, n_examples)`` array per network, at least two, each with at least
            ``n_features`` units.
        y : None
            Ignored (scikit-learn's signature).

        Returns
        -------
        DetSRM
            ``self``, fitted.

        Raises
        ------
        ValueError
            For fewer than two networks, networks over different examples, NaN or infinite
            values, or an ``n_features`` above the examples or a network's units; for invalid
            ``n_features``, ``n_iter`` or ``tol``.
        """
        data, w = self._prepare(Xs)
        m, n_examples = len(w), data.x.shape[1]
        mean = np.full(m, 1 / m)
        sq = _sumsq(data.x)
        sc = data.stack(w, mean)  # S = sc^T X = mean_i W_i^T X_i
        a = data.cross(sc)  # X_i S^T, stacked
        history = []
        for _ in range(self.n_iter):
            w = _procrustes_each(data.split(a))
            sc = data.stack(w, mean)
            a = data.cross(sc)  # for the new S; the next iteration's Procrustes step needs it too
            # The objective of the new W and S: sum_i <W_i S, X_i> = m ||S||^2 = m <sc, X S^T>
            # and ||W_i S|| = ||S||, so 0.5/T (||X||^2 - m ||S||^2).
            history.append(0.5 / n_examples * (sq - m * _sumsq(sc, a)))
            if self._converged(history):
                break
        self.s_ = data.shared(sc)
        self.w_ = self._lift(w)
        self.objective_ = np.array(history)
        self.n_iter_ = len(history)
        return self


class SRM(_BaseSRM):
    """Probabilistic SRM fitted by EM (Chen et al. 2015; BrainIAK's ``SRM``).

    Model: ``x_i = W_i s + mu_i + n_i`` with ``s ~ N(0, Sigma_s)``,
    ``n_i ~ N(0, rho_i^2 I)``, ``W_i^T W_i = I``.

    Parameters
    ----------
    n_features : int
        The dimension ``k`` of the shared space.
    n_iter : int
        The maximum number of iterations (BrainIAK's default, 10).
    tol : float or None
        Stop when the log-likelihood (``loglik_``) changes by less than ``tol`` relative to its
        previous value.
    random_state : int
        Seed of the initial ``W_i`` (see the module docstring).
    brainiak : bool
        Run BrainIAK's updates as written (``0.001 I`` added to ``X_i S^T`` before each
        Procrustes step, noise variances from the uncentred ``||X_i||^2``) to reproduce
        results computed with it; see the module docstring.  Default False.

    Attributes
    ----------
    w_ : list of ndarray
        As in :class:`DetSRM`.
    mu_ : list of ndarray
        As in :class:`DetSRM`.
    n_iter_ : int
        Iterations run.
    s_ : ndarray
        ``(k, n_examples)`` posterior mean of the shared response under the final parameters.
    sigma_s_ : ndarray
        ``(k, k)`` shared-response covariance.
    rho2_ : ndarray
        ``(n_networks,)`` noise variances.
    loglik_ : ndarray
        Log-likelihood of the centred data at the start of each iteration (the parameters that
        iteration improves); never decreases (with ``brainiak=False``).

    Examples
    --------
    Four networks of 8 units, each an orthonormal embedding of one 3-dimensional response, plus
    noise of variance 0.01, which the model recovers:

    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> S = rng.standard_normal((3, 200))
    >>> Xs = [random_orthogonal(8, i)[:, :3] @ S + 0.1 * rng.standard_normal((8, 200)) for i in range(4)]
    >>> model = SRM(n_features=3, n_iter=20).fit(Xs)
    >>> model.rho2_.round(3), [z.shape for z in model.transform(Xs)]
    (array([0.01, 0.01, 0.01, 0.01]), [(3, 200), (3, 200), (3, 200), (3, 200)])
    """

    def __init__(self, n_features: int = 50, n_iter: int = 10, tol: float | None = None,
                 random_state: int = 0, brainiak: bool = False) -> None:
        super().__init__(n_features, n_iter, tol, random_state)
        self.brainiak = brainiak

    def fit(self, Xs: Sequence[ArrayLike], y: None = None) -> SRM:
        """Fit the model by EM to the networks' responses to the same examples.

        Parameters
        ----------
        Xs : sequence of array_like
            One ``(n_units_i, n_examples)`` array per network, at least two, each with at least
            ``n_features`` units.
        y : None
            Ignored (scikit-learn's signature).

        Returns
        -------
        SRM
            ``self``, fitted.

        Raises
        ------
        ValueError
            As :meth:`DetSRM.fit`.
        """
        # BrainIAK's 0.001 I acts in unit space, so wide networks are not reduced then.
        data, w = self._prepare(Xs, reduce_wide=not self.brainiak)
        n_examples, k = data.x.shape[1], self.n_features
        xp = array_namespace(data.x)
        device = xp.device(data.x)
        units = np.array([X.shape[0] for X in self._fit_inputs[0]])  # per-network numbers stay on the host
        sq = np.array([_sumsq(x) for x in data.split(data.x)])
        # BrainIAK's noise update reads the uncentred ||X_i||^2 = ||X_i - mu_i||^2 + T ||mu_i||^2.
        noise_sq = sq + n_examples * np.array([_sumsq(mu) for mu in self.mu_]) if self.brainiak else sq
        rho2, sigma_s = np.ones(len(w)), xp.eye(k, dtype=xp.float64, device=device)
        history = []
        for _ in range(self.n_iter):
            # E-step.  With y = sum_i W_i^T x_i / rho_i^2, the posterior mean is s = P y, so
            # every product with the data goes through X_i y^T (stacked z) and y y^T.
            wc = data.stack(w, 1 / rho2)
            z = data.cross(wc)
            yy = xp.astype(wc.T @ z, xp.float64)
            post_cov, logdet_ratio = self._posterior(sigma_s, rho2)
            history.append(self._loglik(yy, post_cov, logdet_ratio, rho2, sq, units, n_examples))
            # M-step: each parameter block is maximised exactly given the posterior.
            sigma_s = post_cov + post_cov @ yy @ post_cov / n_examples  # E[s s^T]
            trace_term = n_examples * float(xp.trace(sigma_s))
            a = data.split(z @ xp.astype(post_cov, z.dtype))  # X_i s^T
            w = _procrustes_each([_with_brainiak_identity(ai) for ai in a] if self.brainiak else a)
            fit_term = np.array([_sumsq(wi, ai) for wi, ai in zip(w, a)])
            rho2 = (noise_sq - 2 * fit_term + trace_term) / (n_examples * units)
            # Noise-free data drive rho2 to 0 (and rounding below it): floor it at
            # machine precision relative to each network's variance.
            rho2 = np.maximum(rho2, eps(data.x.dtype) * sq / (n_examples * units))
            if self._converged(history):
                break
        post_cov = self._posterior(sigma_s, rho2)[0]
        self.s_ = xp.astype(post_cov, data.x.dtype) @ data.shared(data.stack(w, 1 / rho2))
        self.w_, self.rho2_, self.sigma_s_ = self._lift(w), xp.asarray(rho2, device=device), sigma_s
        self.loglik_ = np.array(history)
        self.n_iter_ = len(history)
        return self

    @staticmethod
    def _posterior(sigma_s, rho2):
        """Posterior covariance of ``s``, ``P = (Sigma_s^-1 + rho0 I)^-1`` with ``rho0 = sum_i 1/rho_i^2``
        (``W_i^T W_i = I``), and ``log det Sigma_s - log det P``.

        Both from ``C = I + rho0 Sigma_s``: ``P = C^-1 Sigma_s`` and the log-determinant ratio is
        ``log det C``.  One solve with a matrix whose eigenvalues are at least 1, instead of two
        inverses, one of them of the possibly ill-conditioned ``Sigma_s``.
        """
        xp = array_namespace(sigma_s)
        c = np.sum(1 / rho2) * sigma_s
        c += xp.eye(len(c), dtype=c.dtype, device=xp.device(c))
        post_cov = xp.linalg.solve(c, sigma_s)
        return (post_cov + post_cov.T) / 2, float(xp.linalg.slogdet(c)[1])

    @staticmethod
    def _loglik(yy, post_cov, logdet_ratio, rho2, sq, units, n_examples):
        """Marginal log-likelihood of the centred data, via Woodbury: ``C = W Sigma_s W^T + Psi``."""
        logdet_c = np.sum(units * np.log(rho2)) + logdet_ratio
        # sum_i ||x_i||^2 / rho_i^2 - y^T P y
        quad = np.sum(sq / rho2) - float(array_namespace(yy).sum(yy * post_cov))
        return -0.5 * (n_examples * (units.sum() * np.log(2 * np.pi) + logdet_c) + quad)


def variance_explained(model: DetSRM | SRM, Xs: Sequence[ArrayLike], leave_one_out: bool = False) -> NDArray[np.float64]:
    """Fraction of each network's held-out variance that the shared space reconstructs.

    ``Xs`` are the fitted networks' responses to new examples.  The shared
    response is estimated from the networks, ``S_bar = mean_j W_j^T (X_j - mu_j)``,
    and mapped back: ``VE_i = 1 - ||R_i - W_i S_bar||^2 / ||R_i||^2`` with
    ``R_i = X_i - mu_i``.

    ``leave_one_out=False`` is the authors' computation: ``S_bar`` includes
    network ``i`` itself, whose own responses make up ``1/N`` of it, which flatters
    the score.  ``leave_one_out=True`` estimates ``S_bar`` from the other networks
    only, a true prediction of network ``i``.

    Parameters
    ----------
    model : DetSRM or SRM
        A fitted model.
    Xs : sequence of array_like
        One ``(n_units_i, n_examples)`` array per fitted network, new examples (or the fit ones).
    leave_one_out : bool
        Estimate ``S_bar`` without network ``i``.

    Returns
    -------
    numpy.ndarray
        ``(n_networks,)`` (a tensor for tensor input).

    Raises
    ------
    ValueError
        As ``model.transform`` (which needs as many networks as were fitted, at least two); if
        a network's ``X_i`` equals its unit means (no variance).

    Examples
    --------
    Held-out examples of four networks sharing a 3-dimensional response (see :class:`SRM`):

    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> maps = [random_orthogonal(8, i)[:, :3] for i in range(4)]
    >>> def networks(n):   # n examples of one shared response, seen by each network plus noise
    ...     S = rng.standard_normal((3, n))
    ...     return [w @ S + 0.1 * rng.standard_normal((8, n)) for w in maps]
    >>> model = SRM(n_features=3).fit(networks(200))
    >>> variance_explained(model, networks(50), leave_one_out=True).round(2)
    array([0.97, 0.97, 0.97, 0.97])
    """
    shared = model.transform(Xs)
    xp = array_namespace(*shared)
    total = sum(shared)
    n = len(shared)
    if leave_one_out and n < 2:
        raise ValueError("leave_one_out needs at least 2 networks")
    out = []
    for i, (X, w, mu, z) in enumerate(zip(Xs, model.w_, model.mu_, shared)):
        s_bar = (total - z) / (n - 1) if leave_one_out else total / n
        r = xp.astype(xp.asarray(X), w.dtype) - mu[:, None]
        variance = _sumsq(r)
        if not variance > 0:
            raise ValueError(f"Xs[{i}] equals the unit means learned in fit: no variance to explain")
        out.append(1 - _sumsq(r - w @ s_bar) / variance)
    return xp.asarray(out, dtype=xp.float64, device=xp.device(shared[0]))
