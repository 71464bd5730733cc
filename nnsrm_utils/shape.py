r"""Generalized shape metrics (Williams, Kunz, Kornblith & Linderman 2021): distances between
layers that are metrics in the mathematical sense (symmetric, zero between equivalent layers,
and obeying the triangle inequality), so that they can be averaged, clustered and embedded like
any distance, which similarity scores such as CCA and CKA cannot.

Each layer ``X`` ``(p, n)`` is centred over its examples, scaled to unit Frobenius norm, and
partially whitened, ``phi_alpha(X) = (alpha I + (1 - alpha) C^{-1/2}) X`` with ``C = X X^T``
(a variant of Williams et al.'s definition, whose ``C`` is the covariance: the two agree at
``alpha`` 0 and 1, not in between; directions in which the layer does not vary are left out of
``C^{-1/2}``), then scaled to unit norm again.  The distance between two
layers is the angle between them after the best transformation from a group:

* :func:`shape_distance`: orthogonal maps.  ``alpha = 1`` is the Procrustes distance;
  ``alpha = 0`` whitens, which makes it blind to every invertible linear map (its cosine is
  then the sum of the canonical correlations over ``sqrt(rank X rank Y)``: mean CCA when both
  layers have full rank and equal width).
* :func:`permutation_distance`: permutations of the units only (an optimal assignment).
* :func:`soft_matching_distance`: permutations relaxed to transport plans between the units
  (Khosla & Williams 2023), for layers of any widths; equal to :func:`permutation_distance`
  when the widths are equal.

Except in :func:`soft_matching_distance`, a narrower layer is compared as if zero units were
added to it.  Every distance here also ignores translations (centring) and isotropic scaling
(unit norm).  ``kind="angular"`` gives the angle (in ``[0, pi/2]`` for :func:`shape_distance`,
at most ``pi`` for the matchings); ``kind="euclidean"`` the distance between the two normalised
layers after the best transformation, ``2 sin(angle / 2)``.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.optimize import linear_sum_assignment, linprog
from threadpoolctl import threadpool_limits

from ._backend import svd
from ._validate import LAYOUT_HINT, check_activations, check_tol, is_real, rounding_level

#: The two forms of each distance, the angle or the Euclidean distance between the normalised layers.
KINDS = ("angular", "euclidean")
Kind = Literal["angular", "euclidean"]


def _check_options(alpha=1.0, kind="angular"):
    if not (is_real(alpha) and 0 <= alpha <= 1):
        raise ValueError(f"alpha must be a number in [0, 1]; got {alpha!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")


def _unit(X, name):
    size = np.abs(X).max()
    X = X - X.mean(axis=1, keepdims=True)
    spread = np.abs(X).max()
    if not spread > rounding_level(size):  # what centring leaves of constant units is no variation
        raise ValueError(f"{name} does not vary over its examples: its shape is undefined")
    X = X / spread  # first to unit maximum, so that the norm neither overflows nor underflows
    return X / np.linalg.norm(X)


def prepare(X: ArrayLike, alpha: float = 1.0, tol: float = 1e-10, name: str = "X") -> NDArray[np.float64]:
    """``phi_alpha(X)``: centred, partially whitened and of unit norm (see the module).

    Parameters
    ----------
    X : array_like, shape ``(n_units, n_examples)``
        One layer's activations.
    alpha : float
        In ``[0, 1]``: 1 leaves the centred layer as it is, 0 whitens it fully.
    tol : float
        Directions of ``C = X X^T`` with eigenvalues at most ``tol`` times the largest are not
        whitened (the layer does not vary in them).
    name : str
        What error messages call ``X``.

    Returns
    -------
    numpy.ndarray, float64, shape ``(n_units, n_examples)``
        ``phi_alpha(X)``, each unit of mean zero, Frobenius norm 1.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, has fewer than 2 examples, NaN or infinite values, or does not vary
        over its examples, or ``alpha`` is not in ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> P = prepare(np.random.default_rng(0).standard_normal((5, 300)))
    >>> P.shape, round(float(np.linalg.norm(P)), 6), bool(np.allclose(P.mean(axis=1), 0))
    ((5, 300), 1.0, True)
    """
    _check_options(alpha)
    check_tol(tol)
    X = _unit(check_activations(X, name, min_examples=2).astype(np.float64), name)
    if alpha == 1:
        return X
    lam, V = np.linalg.eigh(X @ X.T)
    keep = lam > tol * lam.max()
    scale = np.full_like(lam, float(alpha))
    scale[keep] += (1 - alpha) / np.sqrt(lam[keep])
    return _unit(((V * scale) @ V.T) @ X, name)  # the p x p whitening matrix first: one product with X


def _from_cosine(cosine, kind):
    angle = np.arccos(np.clip(cosine, -1.0, 1.0))
    return angle if kind == "angular" else 2 * np.sin(angle / 2)


def _pair(X, Y, alpha, tol):
    X, Y = prepare(X, alpha, tol, "X"), prepare(Y, alpha, tol, "Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must hold the same examples: X has {X.shape[1]}, Y has {Y.shape[1]} ({LAYOUT_HINT})")
    return X @ Y.T


def shape_distance(X: ArrayLike, Y: ArrayLike, alpha: float = 1.0, kind: Kind = "angular", tol: float = 1e-10) -> float:
    """Williams et al.'s distance between ``X`` ``(p1, n)`` and ``Y`` ``(p2, n)`` over orthogonal
    maps: ``alpha=1`` Procrustes, ``alpha=0`` invariant to every invertible linear map.

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Activations of two layers over the same ``n`` examples.
    alpha : float
        In ``[0, 1]``: how much of each layer is left unwhitened (:func:`prepare`).
    kind : {"angular", "euclidean"}
        The angle or the distance ``2 sin(angle / 2)``.
    tol : float
        As in :func:`prepare`.

    Returns
    -------
    float
        The angle in radians, in ``[0, pi/2]``, or the Euclidean distance, in ``[0, sqrt(2)]``;
        0 when ``Y`` is ``X`` up to an orthogonal map (any invertible linear map for
        ``alpha=0``), a translation and a scaling.

    Raises
    ------
    ValueError
        A layer not 2-D, with fewer than 2 examples or NaN or infinite values, other example counts,
        a layer that does not vary, ``alpha`` outside ``[0, 1]``, an unknown ``kind``.

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> X = np.random.default_rng(0).standard_normal((10, 200))
    >>> round(shape_distance(X, 3 * random_orthogonal(10, 1) @ X + 1), 6)   # the same shape
    0.0
    >>> round(shape_distance(X, np.random.default_rng(2).standard_normal((10, 200))), 2)   # radians
    1.37
    """
    _check_options(alpha, kind)
    cosine = svd(_pair(X, Y, alpha, tol), compute_uv=False).sum()  # max over Q of <X, Q Y>
    return float(_from_cosine(cosine, kind))


def permutation_distance(X: ArrayLike, Y: ArrayLike, kind: Kind = "angular") -> float:
    """The distance between ``X`` ``(p1, n)`` and ``Y`` ``(p2, n)`` over permutations of units:
    each unit of the narrower layer paired with one of the other, the pairing that best aligns
    them (``scipy.optimize.linear_sum_assignment``).

    Returns
    -------
    float
        The angle in radians, in ``[0, pi]``, or the Euclidean distance ``2 sin(angle / 2)``;
        0 when ``Y`` is ``X`` with its units reordered, translated and scaled.

    Raises
    ------
    ValueError
        A layer not 2-D, with fewer than 2 examples or NaN or infinite values, other example counts,
        a layer that does not vary, an unknown ``kind``.

    Examples
    --------
    Reordered units cost nothing; a rotation is not a reordering:

    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> X = np.random.default_rng(0).standard_normal((5, 300))
    >>> round(permutation_distance(X, X[::-1]), 6), round(permutation_distance(X, random_orthogonal(5, 1) @ X), 2)
    (0.0, 0.75)
    """
    _check_options(kind=kind)
    M = _pair(X, Y, 1.0, 0.0)
    rows, cols = linear_sum_assignment(M, maximize=True)
    return float(_from_cosine(M[rows, cols].sum(), kind))


def soft_matching_distance(X: ArrayLike, Y: ArrayLike, kind: Kind = "angular") -> float:
    r"""Khosla & Williams's (2023) soft matching distance between ``X`` ``(p1, n)`` and ``Y``
    ``(p2, n)``: units matched by an optimal transport plan, so the widths may differ.  A
    normalised variant: theirs compares the raw tuning curves; here each layer is first centred
    and scaled, and an angular form is offered beside the Euclidean one.

    Each layer is centred and scaled so that its units have mean squared norm 1 (``x_i``, the
    rows of ``sqrt(p1)`` times the unit-norm layer of :func:`prepare`; likewise ``y_j``).  The
    cosine is the best average inner product over the transport plans ``P >= 0`` with row sums
    ``1/p1`` and column sums ``1/p2``,

    ``c = max_P sum_ij P_ij <x_i, y_j>``  (at most 1, by Cauchy-Schwarz),

    found exactly as a linear programme (HiGHS).  ``kind="euclidean"`` gives
    ``sqrt(2 - 2c) = sqrt(min_P sum_ij P_ij |x_i - y_j|^2)``, the 2-Wasserstein distance between
    the two layers' distributions of units, a metric; ``kind="angular"`` gives ``arccos(c)``, a
    metric too (scaling the layers by ``s`` and ``t`` gives a 2-Wasserstein distance
    ``sqrt(s^2 + t^2 - 2 s t c)``, a law of cosines, from which the triangle inequality carries
    over to the angle).  Both are zero exactly when the two distributions are equal: the units
    of ``Y`` are those of ``X`` reordered, or each repeated the same number of times (the
    scaling to mean squared norm 1 is chosen for that).  When ``p1 == p2`` the optimal plans
    include a permutation matrix over ``p1`` (Birkhoff-von Neumann), so both forms equal
    :func:`permutation_distance`'s exactly.  The programme has ``p1 * p2`` variables.

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Activations of two layers over the same ``n`` examples.
    kind : {"angular", "euclidean"}
        The angle in ``[0, pi]`` or the distance ``2 sin(angle / 2)``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        A layer not 2-D, with fewer than 2 examples or NaN or infinite values, other example counts,
        a layer that does not vary, an unknown ``kind``.

    Examples
    --------
    A layer against itself with every unit duplicated (and scaled), and against a rotation:

    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> X = np.random.default_rng(0).standard_normal((4, 300))
    >>> round(soft_matching_distance(X, 3 * np.concatenate([X, X[::-1]])), 6)
    0.0
    >>> round(soft_matching_distance(X, random_orthogonal(4, 1) @ X), 2)
    0.96
    """
    _check_options(kind=kind)
    M = _pair(X, Y, 1.0, 0.0)
    p1, p2 = M.shape
    return float(_from_cosine(_best_plan(np.sqrt(p1 * p2) * M) / (p1 * p2), kind))


def _best_plan(C):
    """``max sum_ij Q_ij C_ij`` over ``Q >= 0`` with row sums ``p2`` and column sums ``p1``:
    ``p1 p2`` times the plans of :func:`soft_matching_distance`, so the optimal vertices are
    integers and the simplex method lands on one exactly."""
    p1, p2 = C.shape
    rows = sparse.kron(sparse.eye(p1), np.ones((1, p2)))
    cols = sparse.kron(np.ones((1, p1)), sparse.eye(p2))
    sums = np.concatenate([np.full(p1, float(p2)), np.full(p2, float(p1))])
    result = linprog(-C.ravel(), A_eq=sparse.vstack([rows, cols]).tocsr(), b_eq=sums, method="highs")
    if result.status != 0:  # the uniform plan is feasible and the objective bounded: a solver failure
        raise RuntimeError(f"the transport problem was not solved: {result.message}")
    return -result.fun


def pairwise_distances(Xs: Sequence[ArrayLike], alpha: float = 1.0, kind: Kind = "angular",
                       tol: float = 1e-10) -> NDArray[np.float64]:
    """:func:`shape_distance` between every pair of ``Xs`` (a list of ``(p_i, n)`` layers over
    the same examples), as a symmetric ``(N, N)`` matrix with a zero diagonal.  Each layer is
    prepared once; the cross-products above the diagonal come from a few large products of the
    stacked layers, each followed by the singular values of its blocks, several at a time on
    the machine's cores.

    Parameters
    ----------
    Xs : sequence of array_like
        ``N`` layers, each ``(p_i, n)``, over the same ``n`` examples.
    alpha, kind, tol
        As in :func:`shape_distance`.

    Returns
    -------
    numpy.ndarray, float64, shape ``(N, N)``
        ``D[i, j]`` the distance between ``Xs[i]`` and ``Xs[j]``.

    Raises
    ------
    ValueError
        If ``Xs`` is a single 2-D array rather than a list, a layer is invalid (as for
        :func:`prepare`), the layers hold different numbers of examples, or ``alpha`` or
        ``kind`` is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((5, 300))
    >>> pairwise_distances([X, random_orthogonal(5, 1) @ X, rng.standard_normal((4, 300))]).round(2)
    array([[0.  , 0.  , 1.46],
           [0.  , 0.  , 1.46],
           [1.46, 1.46, 0.  ]])
    """
    _check_options(alpha, kind)
    if isinstance(Xs, np.ndarray) and Xs.ndim == 2:
        raise ValueError("Xs must be a list of (n_units, n_examples) arrays, one per network; got one array")
    prepared = _in_parallel(lambda i: prepare(Xs[i], alpha, tol, f"Xs[{i}]"), range(len(Xs)))
    if len({X.shape[1] for X in prepared}) > 1:
        raise ValueError(f"the layers must hold the same examples; got {sorted({X.shape[1] for X in prepared})} ({LAYOUT_HINT})")
    D = np.zeros((len(prepared), len(prepared)))
    if len(prepared) > 1:
        D[np.triu_indices(len(prepared), 1)] = _from_cosine(_upper_nuclear_norms(prepared), kind)
    return D + D.T


def _upper_nuclear_norms(prepared, rows_per_task=256):
    """The nuclear norm of ``X_i X_j^T`` for every ``i < j``, in that order.  Each task takes a
    group of consecutive layers (about ``rows_per_task`` units: large enough for the product to
    run at full BLAS speed) against every later layer, then the singular values of the blocks."""
    widths = [len(X) for X in prepared]
    stacked = np.concatenate(prepared)
    edges = np.cumsum([0] + widths)
    starts = [0]
    for i in range(1, len(prepared) - 1):
        if edges[i] - edges[starts[-1]] >= rows_per_task:
            starts.append(i)
    groups = list(zip(starts, starts[1:] + [len(prepared) - 1]))

    def task(group):
        a, b = group
        strip = stacked[edges[a]:edges[b]] @ stacked[edges[a + 1]:].T
        return [_block_nuclear_norms(strip[edges[i] - edges[a]:edges[i + 1] - edges[a], edges[i + 1] - edges[a + 1]:],
                                     widths[i + 1:]) for i in range(a, b)]

    return np.concatenate([norms for rows in _in_parallel(task, groups) for norms in rows])


def _in_parallel(fn, items):
    """``list(map(fn, items))`` on the machine's cores, one BLAS thread each, so that no core waits
    for a step of another (the tasks here are many small products and decompositions)."""
    items = list(items)
    workers = min(len(items), os.cpu_count() or 1)
    if workers < 2:  # one task or one core: no pool to start
        return list(map(fn, items))
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


def _block_nuclear_norms(strip, widths):
    """Sum of singular values of each block of ``strip``'s columns (``widths`` wide, in order);
    runs of equal widths as one batched SVD."""
    norms, start = [], 0
    for width, run in groupby(widths):
        m = len(list(run))
        blocks = strip[:, start:start + m * width].reshape(len(strip), m, width).transpose(1, 0, 2)
        norms.append(svd(blocks, compute_uv=False).sum(axis=-1))
        start += m * width
    return np.concatenate(norms)
