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
  vectors (``u_i^T X``), which equals the paper only when ``X`` is already whitened, and
  its second branch indexes the first layer with the second layer's neuron mask, an
  ``IndexError`` when the first layer has more neurons.
* PWCCA is asymmetric: ``pwcca(X, Y) != pwcca(Y, X)`` in general.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import lapack

from ._validate import LAYOUT_HINT, check_activations, rounding_level, warn_few_examples

_BLOCK = 16384  # examples per block when accumulating covariances


def _check_pair(X, Y):
    # finiteness is checked on the means in covariances(): one pass over the data fewer
    X = check_activations(X, "X", min_examples=3, check_finite=False)
    Y = check_activations(Y, "Y", min_examples=3, check_finite=False)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must hold the same examples: X has {X.shape[1]}, Y has {Y.shape[1]} ({LAYOUT_HINT})"
        )
    return X, Y


def _finite_mean(X, name):
    mean = X.mean(axis=1, dtype=np.float64)[:, None]
    if not np.all(np.isfinite(mean)):  # any NaN or infinity in a row makes its mean non-finite
        raise ValueError(f"{name} contains NaN or infinite values")
    return mean


def covariances(X: ArrayLike, Y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Centred ``(C_xx, C_yy, C_xy)`` in float64, accumulated over blocks of examples."""
    n, p = X.shape[1], len(X)
    mx, my = _finite_mean(X, "X"), _finite_mean(Y, "Y")
    c = 0.0
    for start in range(0, n, _BLOCK):
        block = slice(start, start + _BLOCK)
        z = np.empty((p + len(Y), min(_BLOCK, n - start)))
        np.subtract(X[:, block], mx, out=z[:p])
        np.subtract(Y[:, block], my, out=z[p:])
        c = c + z @ z.T  # one symmetric product for all three blocks
    c /= n - 1
    _check_varies(c[:p, :p], X, "X")
    _check_varies(c[p:, p:], Y, "Y")
    return c[:p, :p], c[p:, p:], c[:p, p:]


def _check_varies(c, X, name):
    """Refuse a layer whose covariance ``c`` is zero up to the rounding of centring ``X``."""
    if not np.trace(c) > len(c) * rounding_level(np.abs(X).max()) ** 2:
        raise ValueError(f"{name} does not vary across examples (its units are constant): no similarity is defined")


def _whitener(c, tol, name):
    """``W`` with ``W^T C W = I`` on the directions in which ``C`` has variance.

    Well-conditioned ``C`` (the usual case): the inverse Cholesky factor, 5x faster than an
    eigendecomposition.  Otherwise the eigen-directions with eigenvalues above ``tol`` times
    the largest.  Both give the same correlations whenever no direction would be dropped:
    Cholesky is used only when LAPACK's estimate of the reciprocal 1-norm condition number
    exceeds ``10 p tol``, and ``cond_2 <= p cond_1``.
    """
    if np.max(np.diag(c)) <= 0:
        raise ValueError(f"{name} does not vary across examples; CCA is undefined")
    low, info = lapack.dpotrf(c, lower=1, clean=1)
    if info == 0 and lapack.dpocon(low.T, np.abs(c).sum(axis=0).max())[0] > 10 * len(c) * tol:
        return lapack.dtrtri(low, lower=1)[0].T
    lam, v = np.linalg.eigh(c)
    keep = lam > tol * lam[-1]
    return v[:, keep] / np.sqrt(lam[keep])


def _canonical(cxx, cyy, cxy, tol, weights=True):
    """Canonical correlations (descending) and, if ``weights``, the weights ``a`` of X's variates."""
    wx, wy = _whitener(cxx, tol, "X"), _whitener(cyy, tol, "Y")
    m = wx.T @ cxy @ wy
    if not weights:  # squared correlations are eigenvalues of the smaller Gram matrix of m
        lam = np.linalg.eigvalsh(m.T @ m if m.shape[1] <= m.shape[0] else m @ m.T)[::-1]
        return np.sqrt(np.clip(lam, 0.0, 1.0))
    u, rho, _ = np.linalg.svd(m, full_matrices=False)
    return np.clip(rho, 0.0, 1.0), wx @ u


def _warn_if_degenerate(p, n):
    if p >= n - 1:
        warn_few_examples(f"CCA on {p} dimensions (both sides together) from {n} examples: at least {p - n + 1} "
                          "canonical correlations are 1 by construction, related layers or not; use many more "
                          "examples than units")


def _warn_if_biased_cka(cxx, cyy, n):
    """Biased linear CKA of unrelated layers is about ``sqrt(d_x d_y) / n``, with ``d`` a layer's
    effective dimensionality (participation ratio ``tr(C)^2 / ||C||_F^2``); warn when that is high."""
    dx, dy = (np.trace(c) ** 2 / np.sum(c**2) for c in (cxx, cyy))
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
    _warn_if_degenerate(len(X) + len(Y), X.shape[1])
    rho = _canonical(*covariances(X, Y), tol, weights=False)
    return np.pad(rho, (0, min(len(X), len(Y)) - len(rho)))


def _keep_variance(c, keep, name, tol=1e-10):
    """Eigenvectors of ``C`` (descending variance) that SVCCA keeps, and their variances.

    Directions without variance (below ``tol`` times the largest) are never kept, even when an
    integer ``keep`` asks for more: they have no canonical correlation to contribute."""
    if isinstance(keep, bool) or not isinstance(keep, (int, np.integer, float, np.floating)):
        raise ValueError(f"keep must be a fraction of variance in (0, 1] or a number of directions; got {keep!r}")
    lam, v = np.linalg.eigh(c)
    lam, v = np.clip(lam[::-1], 0, None), v[:, ::-1]
    if not lam[0] > 0:
        raise ValueError(f"{name} does not vary across examples; SVCCA is undefined")
    if isinstance(keep, (int, np.integer)):
        if not 1 <= keep <= len(lam):
            raise ValueError(f"keep={keep} directions requested but {name} has {len(lam)} units")
        d = int(keep)
    elif 0 < keep <= 1:
        d = int(np.searchsorted(np.cumsum(lam) / lam.sum(), keep - 1e-12) + 1)
    else:
        raise ValueError(f"keep must be a fraction of variance in (0, 1] or a number of directions; got {keep!r}")
    d = min(d, int(np.sum(lam > tol * lam[0])))
    return v[:, :d], lam[:d]


def svcca(X: ArrayLike, Y: ArrayLike, keep: float = 0.99, tol: float = 1e-10) -> float:
    """SVCCA (Raghu et al. 2017): the mean canonical correlation after an SVD step.

    The SVD step keeps the top singular directions of each centred layer: by default as
    many as explain 99% of its variance (from squared singular values); an integer
    ``keep`` keeps that many, but never directions without variance (eigenvalues below
    ``tol`` times the largest).  google/svcca's ``get_cca_similarity`` drops them likewise
    with ``epsilon=1e-10``, as its tutorial calls it (its covariances are divided by their
    largest entry first, so that is this ``tol``; its default ``epsilon=0`` keeps them).
    Returns the mean over ``min(d1, d2)`` correlations of the ``d1``, ``d2`` directions kept.
    """
    X, Y = _check_pair(X, Y)
    cxx, cyy, cxy = covariances(X, Y)
    (vx, lx), (vy, ly) = _keep_variance(cxx, keep, "X", tol), _keep_variance(cyy, keep, "Y", tol)
    _warn_if_degenerate(len(lx) + len(ly), X.shape[1])
    rho = _canonical(np.diag(lx), np.diag(ly), vx.T @ cxy @ vy, tol, weights=False)
    return float(rho.sum() / min(len(lx), len(ly)))


def pwcca(X: ArrayLike, Y: ArrayLike, tol: float = 1e-10,
          return_weights: bool = False) -> float | tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """Projection-weighted CCA similarity of ``Y`` to ``X`` (Morcos et al. 2018); asymmetric.

    ``sum_i alpha_i rho_i`` with ``alpha_i`` proportional to ``sum_j |<h_i, z_j>|``: how much
    of ``X``'s neurons ``z_j`` the canonical variate ``h_i`` of ``X`` accounts for.  The
    distance of the paper is ``1 - pwcca(X, Y)``.  With ``return_weights`` also returns
    ``(alpha, rho)``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((5, 300))
    >>> round(pwcca(X, np.random.default_rng(1).standard_normal((5, 5)) @ X), 6)
    1.0
    """
    X, Y = _check_pair(X, Y)
    _warn_if_degenerate(len(X) + len(Y), X.shape[1])
    cxx, cyy, cxy = covariances(X, Y)
    rho, a = _canonical(cxx, cyy, cxy, tol)
    alpha = np.abs(a.T @ cxx).sum(axis=1)  # <h_i, z_j> = (n - 1) (a_i^T C_xx)_j
    alpha /= alpha.sum()
    similarity = float(alpha @ rho)
    return (similarity, alpha, rho) if return_weights else similarity


def gram_linear(X: NDArray) -> NDArray[np.float64]:
    """Linear kernel between examples, ``X^T X`` (``n x n``)."""
    return X.T @ X


def gram_rbf(X: NDArray, sigma: float = 1.0) -> NDArray[np.float64]:
    """RBF kernel between examples, ``exp(-d^2 / (2 sigma^2 m))``, Kornblith et al.'s (2019).

    ``d`` is the distance between two examples and ``m`` the median of the squared distances
    over all ``n x n`` pairs, the zero diagonal included (their definition, so their published
    numbers compare); ``sigma`` is their "threshold", the bandwidth as a fraction of the
    median distance (they report 0.4 and 0.8 besides the default 1.0)."""
    sq = np.sum(X * X, axis=0)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * (X.T @ X), 0)
    np.fill_diagonal(d2, 0)
    median = np.median(d2)
    if not median > 0:
        raise ValueError("most examples coincide (median distance 0): the layer does not vary; RBF CKA is undefined")
    return np.exp(-d2 / (2 * sigma**2 * median))


def _hsic(K, L, debiased):
    """HSIC of two kernel matrices, up to a factor common to numerator and denominator of CKA."""
    n = len(K)
    if not debiased:  # tr(H K H L) with H the centring matrix, in O(n^2)
        return np.sum((K - K.mean(axis=0) - K.mean(axis=1)[:, None] + K.mean()) * L)
    K, L = K - np.diag(np.diag(K)), L - np.diag(np.diag(L))
    k1, l1 = K.sum(axis=0), L.sum(axis=0)
    return np.sum(K * L) + k1.sum() * l1.sum() / ((n - 1) * (n - 2)) - 2 * (k1 @ l1) / (n - 2)


def gram_cka(K: ArrayLike, L: ArrayLike, debiased: bool = False) -> float:
    """CKA from two ``n x n`` kernel matrices (biased HSIC, or Song et al.'s unbiased HSIC)."""
    K, L = np.asarray(K, dtype=np.float64), np.asarray(L, dtype=np.float64)
    if K.shape != L.shape or K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"kernel matrices must be square and of equal shape; got {K.shape} and {L.shape}")
    if debiased and len(K) < 4:
        raise ValueError("the debiased HSIC estimator needs at least 4 examples")
    if not (np.all(np.isfinite(K)) and np.all(np.isfinite(L))):
        raise ValueError("kernel matrices contain NaN or infinite values")
    kk, ll = _hsic(K, K, debiased), _hsic(L, L, debiased)
    for name, self_hsic, M in (("K", kk, K), ("L", ll, L)):
        if not self_hsic > len(M) ** 2 * rounding_level(np.abs(M).max()) ** 2:
            raise ValueError(f"{name} is constant after centring (the layer does not vary); CKA is undefined")
    return float(_hsic(K, L, debiased) / np.sqrt(kk * ll))


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
    n = X.shape[1]
    if kernel not in ("linear", "rbf"):
        raise ValueError(f"kernel must be 'linear' or 'rbf'; got {kernel!r}")
    if debiased and n < 4:
        raise ValueError("the debiased HSIC estimator needs at least 4 examples")
    if kernel == "linear" and not debiased:  # the n - 1 normalisation of the covariances cancels
        cxx, cyy, cxy = covariances(X, Y)
        _warn_if_biased_cka(cxx, cyy, n)
        return float(np.sum(cxy**2) / np.sqrt(np.sum(cxx**2) * np.sum(cyy**2)))
    Xc, Yc = X - _finite_mean(X, "X"), Y - _finite_mean(Y, "Y")
    if kernel == "rbf":
        return gram_cka(gram_rbf(Xc, sigma), gram_rbf(Yc, sigma), debiased)
    cxx, cyy, cxy = covariances(X, Y)
    dx, dy = np.sum(Xc * Xc, axis=0), np.sum(Yc * Yc, axis=0)
    s = (n - 1) ** 2  # the covariances are the products divided by n - 1
    xy = _linear_hsic(s * np.sum(cxy**2), dx, dy, n, debiased)
    xx = _linear_hsic(s * np.sum(cxx**2), dx, dx, n, debiased)
    yy = _linear_hsic(s * np.sum(cyy**2), dy, dy, n, debiased)
    return float(xy / np.sqrt(xx * yy))
