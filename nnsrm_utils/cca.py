r"""CCA, SVCCA, projection-weighted CCA and CKA: the measures SRM is compared with.

Same layout as the rest of the package: ``X`` is ``(p1, n)``, ``Y`` is ``(p2, n)``, units
by examples, the same ``n`` examples in the same order.  Everything is computed from the
centred covariances ``C_xx, C_yy, C_xy`` (accumulated in float64 over blocks of examples),
so 10,000+ examples never need an ``n x n`` matrix; only the RBF kernel of :func:`cka`
does, by definition.

Canonical correlations are the singular values of ``W_x^T C_xy W_y``, where ``W_x`` whitens
``X`` on the directions in which it actually varies (eigenvalues of ``C_xx`` above ``tol``
times the largest).  Dead units and layers whose units span fewer dimensions than they
have units therefore give exactly their rank's worth of correlations and zeros for the
rest, where google/svcca's ``get_cca_similarity`` inverts the square root of a singular
matrix and returns NaN or fails to converge.

Choices made on purpose, differing from google/svcca's ``compute_pwcca``:

* PWCCA follows Morcos, Raghu & Bengio (2018): the weights come from the canonical
  variates ``h_i = a_i^T X`` of the *first* argument, ``alpha_i = sum_j |<h_i, z_j>|`` over
  its neurons ``z_j``.  The reference projects the unwhitened activity on the singular
  vectors (``u_i^T X``), which equals the paper only when ``X`` is already whitened; it
  weights by whichever layer keeps fewer neurons after its epsilon cut (the first on a tie),
  not by the first argument; and that second branch indexes the first layer with the second
  layer's neuron mask, an ``IndexError`` when the first layer has more neurons.
* PWCCA is asymmetric: ``pwcca(X, Y) != pwcca(Y, X)`` in general.

Every function also accepts torch tensors (float32 or float64, all on one device) and computes
on their device, returning tensors, or Python floats where numpy input gives floats
(``nnsrm_utils._backend``).  The covariances are float64 either way.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import lapack

from ._backend import NUMPY, array_namespace
from ._validate import (LAYOUT_HINT, as_float64, check_activations, check_tol, is_real, namespace, rounding_level,
                        warn_few_examples)

_BLOCK = 16384  # examples per block when accumulating covariances


def _check_pair(X, Y):
    # finiteness is checked on the means in covariances(): one pass over the data fewer
    namespace(X, Y, name="X and Y")
    X = check_activations(X, "X", min_examples=3, check_finite=False, tensors=True)
    Y = check_activations(Y, "Y", min_examples=3, check_finite=False, tensors=True)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must hold the same examples: X has {X.shape[1]}, Y has {Y.shape[1]} ({LAYOUT_HINT})"
        )
    return X, Y


def _finite_mean(X, name):
    xp = array_namespace(X)
    mean = xp.mean(X, axis=1, dtype=xp.float64)[:, None]
    if not xp.all(xp.isfinite(mean)):  # any NaN or infinity in a row makes its mean non-finite
        raise ValueError(f"{name} contains NaN or infinite values")
    return mean


def covariances(X: ArrayLike, Y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Centred ``(C_xx, C_yy, C_xy)`` in float64, accumulated over blocks of examples.

    Parameters
    ----------
    X, Y : numpy.ndarray or torch.Tensor, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' activations over the same ``n`` examples (unchecked: the public measures
        check them first).

    Returns
    -------
    C_xx, C_yy, C_xy : numpy.ndarray
        ``(p1, p1)``, ``(p2, p2)`` and ``(p1, p2)`` covariances (divided by ``n - 1``).

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` contains NaN or infinite values or does not vary across examples.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((3, 100))
    >>> cxx, cyy, cxy = covariances(X, X[:2])
    >>> cxx.shape, cyy.shape, cxy.shape, bool(np.allclose(cxx, np.cov(X)))
    ((3, 3), (2, 2), (3, 2), True)
    """
    xp = namespace(X, Y, name="X and Y")
    n, p = X.shape[1], len(X)
    mx, my = _finite_mean(X, "X"), _finite_mean(Y, "Y")
    c = 0.0
    for start in range(0, n, _BLOCK):
        block = slice(start, start + _BLOCK)
        z = xp.empty((p + len(Y), min(_BLOCK, n - start)), xp.float64, device=xp.device(X))
        xp.subtract(X[:, block], mx, out=z[:p])
        xp.subtract(Y[:, block], my, out=z[p:])
        c = c + z @ z.T  # one symmetric product for all three blocks
    c /= n - 1
    _check_varies(c[:p, :p], X, "X")
    _check_varies(c[p:, p:], Y, "Y")
    return c[:p, :p], c[p:, p:], c[:p, p:]


def _check_varies(c, X, name):
    """Refuse a layer whose covariance ``c`` is zero up to the rounding of centring ``X``."""
    xp = array_namespace(c)
    if not xp.trace(c) > len(c) * rounding_level(xp.max(xp.abs(X))) ** 2:
        raise ValueError(f"{name} does not vary across examples (its units are constant): no similarity is defined")


def _whitener(c, tol, name):
    """``W`` with ``W^T C W = I`` on the directions in which ``C`` has variance.

    Well-conditioned ``C`` (the usual case): the inverse Cholesky factor, 5x faster than an
    eigendecomposition.  Otherwise the eigen-directions with eigenvalues above ``tol`` times
    the largest.  Both give the same correlations whenever no direction would be dropped:
    Cholesky is used only when LAPACK's estimate of the reciprocal 1-norm condition number
    exceeds ``10 p tol``, and ``cond_2 <= p cond_1``.
    """
    xp = array_namespace(c)
    if xp.max(xp.diag(c)) <= 0:
        raise ValueError(f"{name} does not vary across examples; CCA is undefined")
    inverse_factor = _inverse_cholesky(c, 10 * len(c) * tol)
    if inverse_factor is not None:
        return inverse_factor
    lam, v = xp.linalg.eigh(c)
    keep = lam > tol * lam[-1]
    return v[:, keep] / xp.sqrt(lam[keep])


def _inverse_cholesky(c, rcond_min):
    """``L^-T`` for ``C = L L^T``, or None where ``C`` is not safely positive definite: LAPACK's
    estimate of the reciprocal 1-norm condition number at most ``rcond_min`` (tensors: the
    exact one, from the inverse, as torch has no estimator)."""
    if array_namespace(c) is not NUMPY:
        return array_namespace(c).inverse_cholesky(c, rcond_min)
    low, info = lapack.dpotrf(c, lower=1, clean=1)
    if info == 0 and lapack.dpocon(low.T, np.abs(c).sum(axis=0).max())[0] > rcond_min:
        return lapack.dtrtri(low, lower=1)[0].T
    return None


def _canonical(cxx, cyy, cxy, tol, weights=True):
    """Canonical correlations (descending) and, if ``weights``, the weights ``a`` of X's variates."""
    xp = array_namespace(cxx)
    wx, wy = _whitener(cxx, tol, "X"), _whitener(cyy, tol, "Y")
    m = wx.T @ cxy @ wy
    if not weights:  # squared correlations are eigenvalues of the smaller Gram matrix of m
        lam = xp.flip(xp.linalg.eigvalsh(m.T @ m if m.shape[1] <= m.shape[0] else m @ m.T), 0)
        return xp.sqrt(xp.clip(lam, 0.0, 1.0))
    u, rho, _ = xp.linalg.svd(m, full_matrices=False)
    return xp.clip(rho, 0.0, 1.0), wx @ u


def _warn_if_degenerate(p, n):
    if p >= n - 1:
        warn_few_examples(f"CCA on {p} dimensions (both sides together) from {n} examples: at least {p - n + 1} "
                          "canonical correlations are 1 by construction, related layers or not; use many more "
                          "examples than units")


def _warn_if_biased_cka(cxx, cyy, n):
    """Biased linear CKA of unrelated layers is about ``sqrt(d_x d_y) / n``, with ``d`` a layer's
    effective dimensionality (participation ratio ``tr(C)^2 / ||C||_F^2``); warn when that is high."""
    xp = array_namespace(cxx)
    dx, dy = (float(xp.trace(c) ** 2 / xp.sum(c**2)) for c in (cxx, cyy))
    chance = np.sqrt(dx * dy) / n
    if chance > 0.3:
        warn_few_examples(f"biased linear CKA from {n} examples of layers with effective dimensionalities "
                          f"{dx:.0f} and {dy:.0f}: unrelated layers like these score about {min(chance, 1):.2f} "
                          "(debiased=True corrects that)")


def cca(X: ArrayLike, Y: ArrayLike, tol: float = 1e-10) -> NDArray[np.float64]:
    """Canonical correlations of ``X`` ``(p1, n)`` and ``Y`` ``(p2, n)``, descending, in [0, 1].

    Returns ``min(p1, p2)`` values: one per pair of canonical variates, zeros beyond the
    number of dimensions the two layers actually span (``tol``: eigenvalues of a
    covariance below ``tol`` times its largest count as no variance).  Invariant to any
    invertible linear map and translation of either layer.  Warns when ``p1 + p2 >= n - 1``.
    Squared correlations are accurate to machine precision, so a correlation near 0 to
    about 1e-8 (:func:`pwcca` takes the slower SVD route and is exact to ~1e-15).

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' activations over the same ``n`` examples.
    tol : float
        Relative eigenvalue below which a direction counts as without variance.

    Returns
    -------
    numpy.ndarray
        ``(min(p1, p2),)`` canonical correlations, descending.

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 3 examples, NaN or infinite values or does
        not vary, or the two hold different numbers of examples.
    TypeError
        For torch tensors mixed with numpy arrays, or tensors of another dtype than float32/float64.

    Examples
    --------
    An invertible map of a layer leaves every canonical correlation at 1:

    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((5, 300))
    >>> M = np.random.default_rng(1).standard_normal((5, 5))
    >>> cca(X, M @ X).round(6).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    >>> cca(X, np.random.default_rng(3).standard_normal((4, 300))).round(2).tolist()   # unrelated: small
    [0.23, 0.14, 0.1, 0.02]
    """
    X, Y = _check_pair(X, Y)
    check_tol(tol)
    _warn_if_degenerate(len(X) + len(Y), X.shape[1])
    rho = _canonical(*covariances(X, Y), tol, weights=False)
    return array_namespace(rho).pad(rho, (0, min(len(X), len(Y)) - len(rho)))


def _keep_variance(c, keep, name, tol=1e-10):
    """Eigenvectors of ``C`` (descending variance) that SVCCA keeps, and their variances.

    Directions without variance (below ``tol`` times the largest) are never kept, even when an
    integer ``keep`` asks for more: they have no canonical correlation to contribute."""
    if not is_real(keep):
        raise ValueError(f"keep must be a fraction of variance in (0, 1] or a number of directions; got {keep!r}")
    xp = array_namespace(c)
    lam, v = xp.linalg.eigh(c)
    lam, v = xp.clip(xp.flip(lam, 0), 0, None), xp.flip(v, 1)
    if not lam[0] > 0:
        raise ValueError(f"{name} does not vary across examples; SVCCA is undefined")
    if isinstance(keep, (int, np.integer)):
        if not 1 <= keep <= len(lam):
            raise ValueError(f"keep={keep} directions requested: it must be between 1 and {name}'s {len(lam)} units")
        d = int(keep)
    elif 0 < keep <= 1:
        d = int(xp.searchsorted(xp.cumsum(lam) / lam.sum(), keep - 1e-12) + 1)
    else:
        raise ValueError(f"keep must be a fraction of variance in (0, 1] or a number of directions; got {keep!r}")
    d = min(d, int(xp.sum(lam > tol * lam[0])))
    return v[:, :d], lam[:d]


def svcca(X: ArrayLike, Y: ArrayLike, keep: float | int = 0.99, tol: float = 1e-10) -> float:
    """SVCCA (Raghu et al. 2017): the mean canonical correlation after an SVD step.

    The SVD step keeps the top singular directions of each centred layer: by default as
    many as explain 99% of its variance (from squared singular values); an integer
    ``keep`` keeps that many, but never directions without variance (eigenvalues below
    ``tol`` times the largest).  google/svcca's ``get_cca_similarity`` drops them likewise
    with ``epsilon=1e-10``, as its tutorial calls it (its covariances are divided by their
    largest entry first, so that is this ``tol``; its default ``epsilon=0`` keeps them).

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' activations over the same ``n`` examples.
    keep : float or int
        A float in (0, 1] is the fraction of variance to keep; an int is a number of directions
        (so ``keep=1`` keeps one direction, and ``keep=1.0`` all the variance).
    tol : float
        Relative eigenvalue below which a direction counts as without variance.

    Returns
    -------
    float
        The mean over ``min(d1, d2)`` canonical correlations of the ``d1``, ``d2`` directions kept.

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 3 examples, NaN or infinite values or does
        not vary, or the two hold different numbers of examples; for a ``keep`` that is
        neither a fraction in (0, 1] nor a number of directions between 1 and the units.
    TypeError
        For torch tensors mixed with numpy arrays, or tensors of another dtype than float32/float64.

    Examples
    --------
    An invertible map of all ten units: every kept direction correlates fully; unrelated data do not:

    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((10, 300))
    >>> round(svcca(X, np.random.default_rng(1).standard_normal((10, 10)) @ X), 6)
    1.0
    >>> round(svcca(X, np.random.default_rng(2).standard_normal((10, 300))), 2)
    0.15
    """
    X, Y = _check_pair(X, Y)
    check_tol(tol)
    cxx, cyy, cxy = covariances(X, Y)
    (vx, lx), (vy, ly) = _keep_variance(cxx, keep, "X", tol), _keep_variance(cyy, keep, "Y", tol)
    _warn_if_degenerate(len(lx) + len(ly), X.shape[1])
    xp = array_namespace(cxx)
    rho = _canonical(xp.diag(lx), xp.diag(ly), vx.T @ cxy @ vy, tol, weights=False)
    return float(rho.sum() / min(len(lx), len(ly)))


def pwcca(X: ArrayLike, Y: ArrayLike, tol: float = 1e-10,
          return_weights: bool = False) -> float | tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """Projection-weighted CCA similarity of ``Y`` to ``X`` (Morcos et al. 2018); asymmetric.

    ``sum_i alpha_i rho_i`` with ``alpha_i`` proportional to ``sum_j |<h_i, z_j>|``: how much
    of ``X``'s neurons ``z_j`` the canonical variate ``h_i`` of ``X`` accounts for.  The
    distance of the paper is ``1 - pwcca(X, Y)``.  With ``return_weights`` also returns
    ``(alpha, rho)``.

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' activations over the same ``n`` examples; the weights come from ``X``.
    tol : float
        Relative eigenvalue below which a direction counts as without variance.
    return_weights : bool
        Also return the weights and the correlations.

    Returns
    -------
    float, or (float, numpy.ndarray, numpy.ndarray)
        The similarity; with ``return_weights``, also ``alpha`` and ``rho``, each with one entry
        per pair of canonical variates with variance (the smaller of the two layers' ranks;
        :func:`cca` pads zeros up to ``min(p1, p2)``), ``rho`` descending, ``alpha`` summing to 1.

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 3 examples, NaN or infinite values or does
        not vary, or the two hold different numbers of examples.
    TypeError
        For torch tensors mixed with numpy arrays, or tensors of another dtype than float32/float64.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((5, 300))
    >>> round(pwcca(X, np.random.default_rng(1).standard_normal((5, 5)) @ X), 6)
    1.0
    """
    X, Y = _check_pair(X, Y)
    check_tol(tol)
    _warn_if_degenerate(len(X) + len(Y), X.shape[1])
    cxx, cyy, cxy = covariances(X, Y)
    rho, a = _canonical(cxx, cyy, cxy, tol)
    alpha = abs(a.T @ cxx).sum(axis=1)  # <h_i, z_j> = (n - 1) (a_i^T C_xx)_j
    alpha /= alpha.sum()
    similarity = float(alpha @ rho)
    return (similarity, alpha, rho) if return_weights else similarity


def gram_linear(X: NDArray) -> NDArray[np.float64]:
    """Linear kernel between examples, ``X^T X`` (``n x n``).

    Parameters
    ----------
    X : numpy.ndarray or torch.Tensor
        ``(p, n)`` activations (centre them first for CKA's kernel of centred data).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        ``(n, n)``.

    Examples
    --------
    >>> import numpy as np
    >>> gram_linear(np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]]))   # 2 units, 3 examples
    array([[1., 0., 1.],
           [0., 1., 2.],
           [1., 2., 5.]])
    """
    return X.T @ X


def gram_rbf(X: NDArray, sigma: float = 1.0) -> NDArray[np.float64]:
    """RBF kernel between examples, ``exp(-d^2 / (2 sigma^2 m))``, Kornblith et al.'s (2019).

    ``d`` is the distance between two examples and ``m`` the median of the squared distances
    over all ``n x n`` pairs, the zero diagonal included (their definition, so their published
    numbers compare); ``sigma`` is their "threshold", the bandwidth as a fraction of the
    median distance (they report 0.4 and 0.8 besides the default 1.0).

    Parameters
    ----------
    X : numpy.ndarray or torch.Tensor
        ``(p, n)`` activations.
    sigma : float
        The bandwidth, as a fraction of the median distance.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        ``(n, n)``, ones on the diagonal.

    Raises
    ------
    ValueError
        If ``sigma`` is not a positive number, or the median squared distance is 0 (most
        examples coincide).

    Examples
    --------
    >>> import numpy as np
    >>> gram_rbf(np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]])).round(3)
    array([[1.   , 0.607, 0.368],
           [0.607, 1.   , 0.607],
           [0.368, 0.607, 1.   ]])
    """
    if not (is_real(sigma) and 0 < sigma < np.inf):
        raise ValueError(f"sigma must be a positive number (a fraction of the median distance); got {sigma!r}")
    xp = array_namespace(X)
    d2 = _sq_distances(X)
    median = xp.median(d2)
    if not median > 0:
        raise ValueError("most examples coincide (median distance 0): the layer does not vary; RBF CKA is undefined")
    return xp.exp(-d2 / (2 * sigma**2 * median))


def _sq_distances(X, start=0, stop=None):
    """Squared distances from examples ``start:stop`` of ``X`` ``(p, n)`` to all ``n``: a band of
    rows of the ``n x n`` matrix (all of it by default), exactly 0 from an example to itself."""
    xp = array_namespace(X)
    sq = xp.sum(X * X, axis=0)
    d2 = xp.maximum(sq[start:stop, None] + sq[None, :] - 2 * (X[:, start:stop].T @ X), 0)
    d2[np.arange(len(d2)), start + np.arange(len(d2))] = 0
    return d2


def _hsic(K, L, debiased):
    """HSIC of two kernel matrices, up to a factor common to numerator and denominator of CKA."""
    n, xp = len(K), array_namespace(K)
    if not debiased:  # tr(H K H L) with H the centring matrix, in O(n^2)
        return xp.sum((K - xp.mean(K, axis=0) - xp.mean(K, axis=1)[:, None] + xp.mean(K)) * L)
    K, L = K - xp.diag(xp.diag(K)), L - xp.diag(xp.diag(L))
    k1, l1 = xp.sum(K, axis=0), xp.sum(L, axis=0)
    return xp.sum(K * L) + k1.sum() * l1.sum() / ((n - 1) * (n - 2)) - 2 * (k1 @ l1) / (n - 2)


def gram_cka(K: ArrayLike, L: ArrayLike, debiased: bool = False) -> float:
    """CKA from two ``n x n`` kernel matrices (biased HSIC, or Song et al.'s unbiased HSIC).

    Parameters
    ----------
    K, L : array_like
        ``(n, n)`` kernel matrices of two layers over the same examples (:func:`gram_linear`,
        :func:`gram_rbf`).
    debiased : bool
        Use the unbiased HSIC estimator (at least 4 examples).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the matrices are not square and of equal shape, contain NaN or infinite values, are
        constant after centring, or ``debiased`` with fewer than 4 examples.
    TypeError
        If ``K`` and ``L`` are tensors of different dtypes, or a tensor is mixed with an array.

    Examples
    --------
    Linear CKA ignores scaling; RBF CKA ignores a reordering of the units:

    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((10, 50))
    >>> round(gram_cka(gram_linear(X), gram_linear(2 * X)), 6), round(gram_cka(gram_rbf(X), gram_rbf(X[::-1])), 6)
    (1.0, 1.0)
    """
    xp = namespace(K, L, name="K and L")
    K, L = as_float64(K, "K"), as_float64(L, "L")
    if K.shape != L.shape or K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"kernel matrices must be square and of equal shape; got {tuple(K.shape)} and "
                         f"{tuple(L.shape)}")
    if K.dtype != L.dtype:
        raise TypeError(f"K and L have different dtypes ({K.dtype}, {L.dtype}): cast them to one")
    if debiased and len(K) < 4:
        raise ValueError("the debiased HSIC estimator needs at least 4 examples")
    if not (xp.all(xp.isfinite(K)) and xp.all(xp.isfinite(L))):
        raise ValueError("kernel matrices contain NaN or infinite values")
    kk, ll = _hsic(K, K, debiased), _hsic(L, L, debiased)
    for name, self_hsic, M in (("K", kk, K), ("L", ll, L)):
        if not self_hsic > len(M) ** 2 * rounding_level(xp.max(xp.abs(M))) ** 2:
            raise ValueError(f"{name} is constant after centring (the layer does not vary); CKA is undefined")
    return float(_hsic(K, L, debiased) / xp.sqrt(kk * ll))


def _linear_hsic(cxy_sq, dx, dy, n, debiased):
    """Linear-kernel HSIC from ``||Y_c X_c^T||_F^2`` and the squared norms of the centred
    examples, without an ``n x n`` matrix (for centred data ``K 1 = 0``, so the debiased
    estimator's row sums reduce to minus the diagonal)."""
    if not debiased:
        return cxy_sq
    diag = dx @ dy
    return cxy_sq - diag + dx.sum() * dy.sum() / ((n - 1) * (n - 2)) - 2 * diag / (n - 2)


def cka(X: ArrayLike, Y: ArrayLike, kernel: Literal["linear", "rbf"] = "linear", debiased: bool = False,
        sigma: float = 1.0) -> float:
    """Centred kernel alignment (Kornblith et al. 2019) of ``X`` ``(p1, n)`` and ``Y`` ``(p2, n)``.

    ``kernel="linear"``: ``||Y_c X_c^T||_F^2 / (||X_c X_c^T||_F ||Y_c Y_c^T||_F)``, computed in
    feature space (no ``n x n`` matrix).  ``kernel="rbf"``: Gaussian kernels with bandwidth
    ``sigma`` times the median distance, as :func:`gram_rbf` (needs ``n x n`` memory).
    ``debiased`` uses the unbiased HSIC estimator (Song et al. 2012), better with few examples.  Invariant to
    orthogonal maps, isotropic scaling and translation; not to general invertible maps.

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' activations over the same ``n`` examples.
    kernel : {"linear", "rbf"}
        The kernel between examples.
    debiased : bool
        Use the unbiased HSIC estimator (at least 4 examples).
    sigma : float
        The RBF bandwidth, as a fraction of the median distance.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 3 examples, NaN or infinite values or does
        not vary, or the two hold different numbers of examples; for an unknown ``kernel``, a
        ``debiased`` that is not a bool, ``debiased`` with fewer than 4 examples, or a ``sigma``
        that is not a positive number.
    TypeError
        For torch tensors mixed with numpy arrays, or tensors of another dtype than float32/float64.

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> X = np.random.default_rng(0).standard_normal((10, 200))
    >>> round(cka(X, 3 * random_orthogonal(10, 1) @ X + 1), 6)   # rotated, scaled, shifted
    1.0
    >>> round(cka(X, np.random.default_rng(2).standard_normal((10, 200))), 2)   # unrelated
    0.05
    """
    X, Y = _check_pair(X, Y)
    n, xp = X.shape[1], array_namespace(X)
    if kernel not in ("linear", "rbf"):
        raise ValueError(f"kernel must be 'linear' or 'rbf'; got {kernel!r}")
    if not isinstance(debiased, (bool, np.bool_)):
        raise ValueError(f"debiased must be True or False; got {debiased!r}")
    if debiased and n < 4:
        raise ValueError("the debiased HSIC estimator needs at least 4 examples")
    if kernel == "linear" and not debiased:  # the n - 1 normalisation of the covariances cancels
        cxx, cyy, cxy = covariances(X, Y)
        _warn_if_biased_cka(cxx, cyy, n)
        return float(xp.sum(cxy**2) / xp.sqrt(xp.sum(cxx**2) * xp.sum(cyy**2)))
    Xc, Yc = X - _finite_mean(X, "X"), Y - _finite_mean(Y, "Y")
    if kernel == "rbf":
        return gram_cka(gram_rbf(Xc, sigma), gram_rbf(Yc, sigma), debiased)
    cxx, cyy, cxy = covariances(X, Y)
    dx, dy = xp.sum(Xc * Xc, axis=0), xp.sum(Yc * Yc, axis=0)
    s = (n - 1) ** 2  # the covariances are the products divided by n - 1
    xy = _linear_hsic(s * xp.sum(cxy**2), dx, dy, n, debiased)
    xx = _linear_hsic(s * xp.sum(cxx**2), dx, dx, n, debiased)
    yy = _linear_hsic(s * xp.sum(cyy**2), dy, dy, n, debiased)
    return float(xy / xp.sqrt(xx * yy))
