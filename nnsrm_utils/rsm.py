"""Representational similarity matrices (RSMs) within and between networks.

An RSM holds the similarity of every pair of examples in one representation.
The similarity is always named, because the choice decides what an RSM is
invariant to (chapter 2, Proposition 1):

``"pearson"``
    Correlation between example columns across units, ``np.corrcoef`` on the
    columns, as in the authors' code.  Each column is centred *across units*,
    which does not commute with a rotation of the unit space, so a Pearson RSM
    changes when the representation is rotated.
``"cosine"``
    Cosine of the angle between example columns.  Invariant to orthogonal maps.
``"gram"``
    Plain inner products ``X.T @ X``.  Invariant to orthogonal maps; Proposition
    1 is an exact statement about these.

All inputs are ``(n_units, n_examples)``; ``nnsrm_utils._validate`` checks them.  Every
function also accepts torch tensors (float32 or float64, all on one device) and computes on
their device in their dtype, returning tensors (``nnsrm_utils._backend``); only
:func:`compare_rsms` with Spearman or Kendall correlations needs numpy arrays.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ._backend import NUMPY, array_namespace, is_tensor
from ._validate import as_float64, check_activations, check_layer, namespace, rounding_level

SIMILARITIES = ("pearson", "cosine", "gram")
Similarity = Literal["pearson", "cosine", "gram"]
CORRELATIONS = ("pearson", "spearman", "kendall")


def _check_similarity(similarity):
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {SIMILARITIES}; got {similarity!r}")


def _columns(X, similarity):
    """Transform columns so that the RSM is a plain inner product of them."""
    if similarity == "gram":
        return X
    xp = array_namespace(X)
    scale = xp.max(xp.abs(X), axis=0)
    X = X / xp.where(scale > 0, scale, 1)  # each column to unit maximum: any magnitude is judged alike
    if similarity == "pearson":
        X = X - xp.mean(X, axis=0)
    norms = xp.linalg.norm(X, axis=0)
    flat = xp.flatnonzero(norms <= np.sqrt(len(X)) * rounding_level(1.0, X.dtype))
    if len(flat):
        what = "constant across units" if similarity == "pearson" else "all zero"
        raise ValueError(
            f"{len(flat)} example column(s) are {what} (first: {int(flat[0])}), so their "
            f"{similarity} similarity is undefined; drop them or use similarity='gram'"
        )
    return X / norms


def rsm(X: ArrayLike, similarity: Similarity = "pearson") -> NDArray[np.float64]:
    """RSM of one representation: ``(n_examples, n_examples)``.

    Parameters
    ----------
    X : array_like
        ``(n_units, n_examples)`` activations.
    similarity : {"pearson", "cosine", "gram"}
        See the module docstring.

    Returns
    -------
    numpy.ndarray
        ``(n_examples, n_examples)``, symmetric (a tensor for tensor input).

    Raises
    ------
    ValueError
        For an unknown ``similarity``, ``X`` not 2-D, with fewer than 2 examples or NaN or
        infinite values, or an example column whose similarity is undefined (constant across
        units for ``"pearson"``, all zero for ``"cosine"``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((50, 4))   # 50 units, 4 examples
    >>> R = rsm(X)
    >>> R.shape, bool(np.allclose(np.diag(R), 1))
    ((4, 4), True)
    """
    _check_similarity(similarity)
    X = check_activations(X, tensors=True)
    Z = _columns(X, similarity)
    return Z.T @ Z


def cross_rsm(X: ArrayLike, Y: ArrayLike, similarity: Similarity = "pearson") -> NDArray[np.float64]:
    """Similarity of every example in ``X`` with every example in ``Y`` (rows: ``X``).

    Parameters
    ----------
    X, Y : array_like
        ``(n_units, n_examples)`` activations in one unit space (e.g. two networks after SRM).
    similarity : {"pearson", "cosine", "gram"}
        See the module docstring.

    Returns
    -------
    numpy.ndarray
        ``(n_examples, n_examples)``; ``cross_rsm(X, X)`` is ``rsm(X)``.

    Raises
    ------
    ValueError
        As :func:`rsm`, and if ``X`` and ``Y`` differ in units or in examples.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((20, 4)), rng.standard_normal((20, 4))   # 20 units, 4 examples
    >>> cross_rsm(X, Y).shape, bool(np.allclose(cross_rsm(X, X), rsm(X)))
    ((4, 4), True)
    """
    _check_similarity(similarity)
    X, Y = check_layer([X, Y], name="[X, Y]", same_units=True)
    return _columns(X, similarity).T @ _columns(Y, similarity)


def within_rsm(Xs: Sequence[ArrayLike], similarity: Similarity = "pearson") -> NDArray[np.float64]:
    """Within-network RSM (wRSM): the mean of each network's own RSM.

    Networks may have different numbers of units.

    Parameters
    ----------
    Xs : sequence of array_like
        One ``(n_units_i, n_examples)`` array per network, over the same examples.
    similarity : {"pearson", "cosine", "gram"}
        See the module docstring.

    Returns
    -------
    numpy.ndarray
        ``(n_examples, n_examples)``.

    Raises
    ------
    ValueError
        As :func:`rsm`, if ``Xs`` is one array rather than a list of them, or if the networks
        disagree on the number of examples.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> W = within_rsm([rng.standard_normal((20, 6)), rng.standard_normal((35, 6))])   # 20 and 35 units
    >>> W.shape, bool(np.allclose(np.diag(W), 1))
    ((6, 6), True)
    """
    _check_similarity(similarity)
    Xs = check_layer(Xs)
    total = 0
    for X in Xs:
        Z = _columns(X, similarity)
        total = total + Z.T @ Z
    return total / len(Xs)


def inter_rsm(Xs: Sequence[ArrayLike], similarity: Similarity = "pearson") -> NDArray[np.float64]:
    """Inter-network RSM (iRSM), leave one network out, as the authors define it.

    For each network ``i`` the examples of ``X_i`` are compared with the examples
    of the mean of the other networks; the ``N`` cross-RSMs are averaged.  The
    result is not symmetric.  Averaging networks unit by unit only makes sense in
    a common space, so all networks must have the same units (e.g. after SRM).

    Parameters
    ----------
    Xs : sequence of array_like
        One ``(k, n_examples)`` array per network, at least two, in one unit space.
    similarity : {"pearson", "cosine", "gram"}
        See the module docstring.

    Returns
    -------
    numpy.ndarray
        ``(n_examples, n_examples)``, rows the networks' own examples.

    Raises
    ------
    ValueError
        As :func:`rsm`, for fewer than 2 networks, or networks that differ in units or examples.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> inter_rsm([rng.standard_normal((20, 6)), rng.standard_normal((20, 6))]).shape   # 2 networks, 6 examples
    (6, 6)
    """
    _check_similarity(similarity)
    Xs = check_layer(Xs, min_networks=2, same_units=True)
    total = sum(Xs)
    out = 0
    for X in Xs:
        others = (total - X) / (len(Xs) - 1)
        out = out + _columns(X, similarity).T @ _columns(others, similarity)
    return out / len(Xs)


def class_mean_rsm(A: ArrayLike, labels: ArrayLike) -> NDArray[np.float64]:
    """Mean similarity between the examples of every pair of classes, ``(n_classes, n_classes)``
    in the order of ``np.unique(labels)``: an RSM's class blocks, each reduced to one number.

    Diagonal blocks leave out each example's similarity with itself (1 for a Pearson RSM),
    which says nothing about the class.

    Parameters
    ----------
    A : array_like
        ``(n_examples, n_examples)`` RSM.
    labels : array_like
        ``(n_examples,)`` class labels, any kind.

    Returns
    -------
    numpy.ndarray
        ``(n_classes, n_classes)``.

    Raises
    ------
    ValueError
        If ``A`` is not square or holds NaN or infinite values, ``labels`` has not one entry per
        example, or a class has fewer than 2 examples.

    Examples
    --------
    >>> import numpy as np
    >>> R = rsm(np.random.default_rng(0).standard_normal((30, 6)))
    >>> class_mean_rsm(R, [0, 0, 0, 1, 1, 1]).round(2)
    array([[0.06, 0.08],
           [0.08, 0.09]])
    """
    A = as_float64(A)
    xp = array_namespace(A)
    labels = np.asarray(labels.cpu() if is_tensor(labels) else labels)  # labels of any kind: only A is data
    if A.ndim != 2 or A.shape[0] != A.shape[1] or labels.shape != (A.shape[0],):
        raise ValueError(f"need a square RSM and one label per example; got shapes {tuple(A.shape)} and {labels.shape}")
    if not xp.all(xp.isfinite(A)):
        raise ValueError("the RSM contains NaN or infinite values")
    classes, codes = np.unique(labels, return_inverse=True)
    onehot = xp.astype(xp.asarray(codes[:, None] == np.arange(len(classes))[None, :], device=xp.device(A)), A.dtype)
    sizes = xp.sum(onehot, axis=0)
    if sizes.min() < 2:
        raise ValueError("every class needs at least 2 examples for the mean similarity within it")
    sums = onehot.T @ (A - xp.diag(xp.diag(A))) @ onehot
    return sums / (xp.outer(sizes, sizes) - xp.diag(sizes))


def lower_triangle(A: ArrayLike) -> NDArray[np.float64]:
    """Entries strictly below the diagonal, row by row.

    Returns
    -------
    numpy.ndarray
        ``(n (n - 1) / 2,)`` for an ``(n, n)`` ``A``.

    Raises
    ------
    ValueError
        If ``A`` is not a square 2-D array.

    Examples
    --------
    >>> import numpy as np
    >>> lower_triangle(np.arange(9.0).reshape(3, 3))
    array([3., 6., 7.])
    """
    xp = namespace(A)
    A = xp.asarray(A)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"an RSM must be a square 2-D array; got shape {tuple(A.shape)}")
    return A[xp.tril_indices(A.shape[0], k=-1, device=xp.device(A))]


def compare_rsms(A: ArrayLike, B: ArrayLike, method: Literal["pearson", "spearman", "kendall"] = "pearson",
                 part: Literal["lower", "full"] = "lower") -> float:
    """Second-order comparison: correlation between two RSMs.

    ``part="lower"`` uses the strict lower triangle (the usual choice: the
    diagonal and the mirrored half add nothing).  ``part="full"`` correlates all
    entries, diagonal included, which is what the authors' simulation did.
    ``method`` is ``"pearson"``, ``"spearman"`` or ``"kendall"`` (tau-b).

    Parameters
    ----------
    A, B : array_like
        Two ``(n_examples, n_examples)`` RSMs over the same examples.
    method : {"pearson", "spearman", "kendall"}
        The correlation.
    part : {"lower", "full"}
        Which entries are correlated.

    Returns
    -------
    float
        The correlation.

    Raises
    ------
    ValueError
        For an unknown ``method`` or ``part``, RSMs of different or non-square shapes, fewer
        than 3 entries to correlate (3 examples for the lower triangle, 2 for the full matrix),
        NaN or infinite values, or an RSM constant over the compared entries.
    TypeError
        For tensors with ``"spearman"`` or ``"kendall"`` (numpy arrays only), or tensors mixed
        with arrays.

    Examples
    --------
    A rotation of the units leaves a cosine RSM unchanged (Proposition 1):

    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> X = np.random.default_rng(0).standard_normal((20, 30))
    >>> round(compare_rsms(rsm(X, "cosine"), rsm(random_orthogonal(20, 1) @ X, "cosine")), 6)
    1.0
    """
    if method not in CORRELATIONS:
        raise ValueError(f"method must be one of {CORRELATIONS}; got {method!r}")
    xp = namespace(A, B, name="the RSMs")
    if xp is not NUMPY and method != "pearson":
        raise TypeError(f"method={method!r} needs numpy arrays (scipy's rank correlations); pass "
                        "A.cpu().numpy() and B.cpu().numpy(), or use method='pearson'")
    A, B = as_float64(A, "A"), as_float64(B, "B")
    if A.shape != B.shape:
        raise ValueError(f"RSMs must have the same shape; got {tuple(A.shape)} and {tuple(B.shape)}")
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"an RSM must be a square 2-D array; got shape {tuple(A.shape)}")
    if part == "lower":
        a, b = lower_triangle(A), lower_triangle(B)
    elif part == "full":
        a, b = A.ravel(), B.ravel()
    else:
        raise ValueError(f"part must be 'lower' or 'full'; got {part!r}")
    if len(a) < 3:
        raise ValueError(f"RSMs must give at least 3 entries to correlate; got {len(a)} "
                         f"({'3 examples for the lower triangle' if part == 'lower' else '2 examples'} at least)")
    if not (xp.all(xp.isfinite(a)) and xp.all(xp.isfinite(b))):
        raise ValueError("RSMs contain NaN or infinite values")
    for name, v in (("A", a), ("B", b)):
        if not xp.max(v) > xp.min(v):
            raise ValueError(f"RSM {name} is constant over the compared entries: its correlation is undefined")
    if method == "pearson":
        return xp.pearsonr(a, b)
    if method == "spearman":
        return float(stats.spearmanr(a, b)[0])
    return float(stats.kendalltau(a, b)[0])
