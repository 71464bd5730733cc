r"""Generalized shape metrics (Williams, Kunz, Kornblith & Linderman 2021): distances between
layers that are metrics in the mathematical sense (symmetric, zero between equivalent layers,
and obeying the triangle inequality), so that they can be averaged, clustered and embedded like
any distance, which similarity scores such as CCA and CKA cannot.

Each layer ``X`` ``(p, n)`` is centred over its examples, scaled to unit Frobenius norm, and
partially whitened, ``phi_alpha(X) = (alpha I + (1 - alpha) C^{-1/2}) X`` with ``C = X X^T``
(Williams et al.'s definition, in this package's layout; directions in which the layer does not
vary are left out of ``C^{-1/2}``), then scaled to unit norm again.  The distance between two
layers is the angle between them after the best transformation from a group:

* :func:`shape_distance`: orthogonal maps.  ``alpha = 1`` is the Procrustes distance;
  ``alpha = 0`` whitens, which makes it blind to every invertible linear map (its cosine is
  then the sum of the canonical correlations over ``sqrt(rank X rank Y)``: mean CCA when both
  layers have full rank and equal width).
* :func:`permutation_distance`: permutations of the units only (an optimal assignment).

A narrower layer is compared as if zero units were added to it.  Every distance here also
ignores translations (centring) and isotropic scaling (unit norm).  ``kind="angular"`` gives
the angle in ``[0, pi/2]``; ``kind="euclidean"`` the distance between the two normalised layers
after the best transformation, ``2 sin(angle / 2)``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment

from ._validate import LAYOUT_HINT, check_activations

#: The two forms of each distance, the angle or the Euclidean distance between the normalised layers.
KINDS = ("angular", "euclidean")
Kind = Literal["angular", "euclidean"]


def _check_options(alpha=1.0, kind="angular"):
    if isinstance(alpha, bool) or not (isinstance(alpha, (int, float, np.floating)) and 0 <= alpha <= 1):
        raise ValueError(f"alpha must be a number in [0, 1]; got {alpha!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")


def _unit(X, name):
    X = X - X.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(X)
    if not norm > 1e-12 * max(1.0, np.abs(X).max()):
        raise ValueError(f"{name} does not vary over its examples: its shape is undefined")
    return X / norm


def prepare(X: ArrayLike, alpha: float = 1.0, tol: float = 1e-10, name: str = "X") -> NDArray[np.float64]:
    """``phi_alpha(X)``: centred, partially whitened and of unit norm (see the module).

    Examples
    --------
    >>> import numpy as np
    >>> P = prepare(np.random.default_rng(0).standard_normal((5, 300)))
    >>> P.shape, round(float(np.linalg.norm(P)), 6), bool(np.allclose(P.mean(axis=1), 0))
    ((5, 300), 1.0, True)
    """
    _check_options(alpha)
    X = _unit(check_activations(X, name, min_examples=2).astype(np.float64), name)
    if alpha == 1:
        return X
    lam, V = np.linalg.eigh(X @ X.T)
    keep = lam > tol * lam.max()
    scale = np.full_like(lam, float(alpha))
    scale[keep] += (1 - alpha) / np.sqrt(lam[keep])
    return _unit((V * scale) @ (V.T @ X), name)


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
    cosine = np.linalg.svd(_pair(X, Y, alpha, tol), compute_uv=False).sum()  # max over Q of <X, Q Y>
    return float(_from_cosine(cosine, kind))


def permutation_distance(X: ArrayLike, Y: ArrayLike, kind: Kind = "angular") -> float:
    """The distance between ``X`` ``(p1, n)`` and ``Y`` ``(p2, n)`` over permutations of units:
    each unit of the narrower layer paired with one of the other, the pairing that best aligns
    them (``scipy.optimize.linear_sum_assignment``).

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


def pairwise_distances(Xs: Sequence[ArrayLike], alpha: float = 1.0, kind: Kind = "angular",
                       tol: float = 1e-10) -> NDArray[np.float64]:
    """:func:`shape_distance` between every pair of ``Xs`` (a list of ``(p_i, n)`` layers over
    the same examples), as a symmetric ``(N, N)`` matrix with a zero diagonal.  Each layer is
    prepared once, and all the cross-products come from one matrix product.

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
    prepared = [prepare(X, alpha, tol, f"Xs[{i}]") for i, X in enumerate(Xs)]
    if len({X.shape[1] for X in prepared}) > 1:
        raise ValueError(f"the layers must hold the same examples; got {sorted({X.shape[1] for X in prepared})} ({LAYOUT_HINT})")
    edges = np.cumsum([0] + [len(X) for X in prepared])
    stacked = np.concatenate(prepared)
    products = stacked @ stacked.T
    D = np.zeros((len(prepared), len(prepared)))
    for i in range(len(prepared)):
        for j in range(i + 1, len(prepared)):
            block = products[edges[i]:edges[i + 1], edges[j]:edges[j + 1]]
            D[i, j] = D[j, i] = _from_cosine(np.linalg.svd(block, compute_uv=False).sum(), kind)
    return D
