r"""Exact and approximate neuron-group matches (Wang et al. 2018), numpy only.

A neuron's activation vector is its output over the examples: a row of ``X`` ``(p1, n)``.
Groups ``X'`` of network 1 and ``Y'`` of network 2 form an *epsilon-approximate match* when
both are non-empty and every vector of each group is epsilon-close to the span of the other
group: the sine of its angle to that span is at most ``eps`` (``eps = 0``: an exact match,
equal spans; in floating point nothing is that exact, so ask for exact matches with an epsilon
at rounding level, about ``1e-10`` for float64 activations and ``1e-6`` for float32).  Matches are closed under union, so there is one *maximum match*; a *simple
match* is one that is not a union of smaller matches, and every match is a union of simple
matches.  A group never matches an empty one, even at ``eps = 1`` (where the sine to the empty
span, 1, would let it): with no live neurons on one side nothing matches.

Activations are used as they are (not centred), as Wang et al. did with ReLU outputs.  Dead
neurons (an activation vector of exact zeros) have no direction: they are left out of every
match and of the neuron counts of :func:`match_similarity`.  Every other neuron is live,
however small: angles do not depend on a neuron's scale, so each is scaled to unit maximum
first.

Numerics: angles are computed from the Gram matrix of all neurons of both layers, computed
once (``(p1 + p2)^2`` numbers; the activations are kept for the refinement below).  The span of a group is orthonormalised from
its Gram block (by Cholesky, or by an eigendecomposition when the block is ill-conditioned) at
numerical rank: directions whose squared singular value is below ``tol`` times the largest are
not part of the span.  The projection of every neuron is then one small product, not a
least-squares solve per neuron over ``n`` dimensions.  A sine from the Gram matrix is
``sqrt(1 - cos^2)``, which loses half the digits: below ``_REFINE`` it is recomputed from the
activations, as the norm of the neuron's residual after projecting on an orthonormal basis of
the span (pivoted QR), so that a neuron in the span has a sine at rounding level (about 1e-15
for float64 activations).  In the match functions this happens only for epsilons below
``_REFINE`` (Wang et al.'s, 0.15 to 0.5, never need it); :func:`neuron_sines` and
:func:`min_epsilon_all` always refine the small sines.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import qr

from ._validate import LAYOUT_HINT, check_activations, check_tol, is_real, warn_few_examples
from .cca import _whitener

_REFINE = 1e-2  # sines below this are recomputed from the activations (see the module docstring)


class _Neurons:
    """Both layers' neurons stacked (X first), each scaled to unit maximum, and their Gram matrix."""

    def __init__(self, X, Y, tol):
        X, Y = check_activations(X, "X"), check_activations(Y, "Y")
        check_tol(tol)
        if X.shape[1] != Y.shape[1]:
            raise ValueError(f"X and Y must hold the same examples: X has {X.shape[1]}, Y has {Y.shape[1]} "
                             f"({LAYOUT_HINT})")
        if max(len(X), len(Y)) >= X.shape[1]:
            warn_few_examples(f"matching {len(X)} and {len(Y)} neurons over {X.shape[1]} data points: that many "
                              "neurons can span every direction, so every neuron matches trivially")
        z = np.concatenate([X, Y]).astype(np.float64)
        scale = np.abs(z).max(axis=1)
        self.alive = scale > 0
        z[self.alive] /= scale[self.alive, None]
        self.z, self.p1, self.tol = z, len(X), tol
        self.gram = z @ z.T
        self.norm2 = np.diag(self.gram).copy()
        self.x = np.flatnonzero(self.alive[:self.p1])
        self.y = np.flatnonzero(self.alive[self.p1:]) + self.p1

    def sines(self, rows, span, refine=True):
        """Sine of the angle between each neuron in ``rows`` and the span of the neurons ``span``;
        ``refine``: recompute those below ``_REFINE`` from the activations."""
        if len(span) == 0:
            return np.ones(len(rows))
        proj = self.gram[np.ix_(rows, span)] @ _whitener(self.gram[np.ix_(span, span)], self.tol, "span")
        sines = np.sqrt(np.clip(1 - np.sum(proj**2, axis=1) / self.norm2[rows], 0, 1))
        small = sines < _REFINE
        if refine and small.any():
            sines[small] = self._residual_sines(rows[small], span)
        return sines

    def _residual_sines(self, rows, span):
        """Accurate sines: norms of the residuals after projecting on an orthonormal basis of the span."""
        q, r, _ = qr(self.z[span].T, mode="economic", pivoting=True)
        d = np.abs(np.diag(r))
        q = q[:, : np.count_nonzero(d**2 > self.tol * d[0] ** 2)]  # numerical rank, as the whitener's
        residual = self.z[rows].T
        for _ in range(2):  # a second pass removes what rounding left along the span
            residual = residual - q @ (q.T @ residual)
        return np.sqrt(np.minimum(np.sum(residual**2, axis=0) / self.norm2[rows], 1))

    def max_match(self, xs, ys, eps):
        """Remove the neurons not eps-close to the other side's span until nothing changes.

        Started from any groups that contain the maximum match, this ends at it: a neuron of
        the maximum match is always close to the span of the other side, which contains the
        maximum match's other side, so it is never removed.  A side left empty empties the other."""
        refine = eps < _REFINE  # larger epsilons cannot hinge on the digits sqrt(1 - cos^2) loses
        while True:
            kept_x = xs[self.sines(xs, ys, refine) <= eps]
            kept_y = ys[self.sines(ys, kept_x, refine) <= eps]
            if len(kept_x) == 0 or len(kept_y) == 0:
                return xs[:0], ys[:0]
            if len(kept_x) == len(xs) and len(kept_y) == len(ys):
                return xs, ys
            xs, ys = kept_x, kept_y

    def split(self, xs, ys):
        return xs, ys - self.p1


def _check_eps(eps):
    if not (is_real(eps) and 0 <= eps <= 1):
        raise ValueError(f"eps is the sine of an angle and must be in [0, 1]; got {eps!r}")


def max_match(X: ArrayLike, Y: ArrayLike, eps: float, tol: float = 1e-10) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The maximum ``eps``-approximate match: ``(ix, iy)``, indices of X's and Y's matched neurons.

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' neurons (rows) over the same ``n`` examples.
    eps : float
        The largest sine, in [0, 1], of a neuron's angle to the other group's span.
    tol : float
        Relative squared singular value below which a direction is not part of a span.

    Returns
    -------
    ix, iy : numpy.ndarray
        Ascending indices into the rows of ``X`` and of ``Y``; both empty when nothing matches.

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 2 examples or NaN or infinite values, the two
        hold different numbers of examples, or ``eps`` is not in [0, 1].

    Examples
    --------
    Two neurons of each layer are mixtures of one shared 2-dimensional signal; the rest are private:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> latent = rng.standard_normal((2, 100))
    >>> X = np.vstack([rng.standard_normal((2, 2)) @ latent, rng.standard_normal((3, 100))])
    >>> Y = np.vstack([rng.standard_normal((4, 100)), rng.standard_normal((2, 2)) @ latent])
    >>> ix, iy = max_match(X, Y, eps=0.01)
    >>> ix.tolist(), iy.tolist()
    ([0, 1], [4, 5])
    """
    _check_eps(eps)
    neurons = _Neurons(X, Y, tol)
    return neurons.split(*neurons.max_match(neurons.x, neurons.y, eps))


def _simple_match(neurons, xs, ys, eps, v):
    """Within the match ``(xs, ys)``, delete every other neuron whose deletion keeps ``v`` matched.

    A match restricted to fewer neurons can only shrink, so each maximum match is computed
    from the current one rather than from all neurons."""
    for u in [n for n in np.concatenate([xs, ys]) if n != v]:
        if u not in xs and u not in ys:
            continue  # already dropped along with an earlier deletion
        tx, ty = neurons.max_match(xs[xs != u], ys[ys != u], eps)
        if v in tx or v in ty:
            xs, ys = tx, ty
    return xs, ys


def simple_match(X: ArrayLike, Y: ArrayLike, eps: float, neuron: int, side: Literal["x", "y"] = "x",
                 tol: float = 1e-10) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """A simple ``eps``-match containing ``neuron`` (an index into X, or into Y with ``side="y"``).

    A neuron can lie in several simple matches; the one returned is found by trying deletions in
    index order (X's neurons, then Y's).

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' neurons (rows) over the same ``n`` examples.
    eps : float
        The largest sine, in [0, 1], of a neuron's angle to the other group's span.
    neuron : int
        A row of ``X`` (or of ``Y``).
    side : {"x", "y"}
        Which layer ``neuron`` is in.
    tol : float
        Relative squared singular value below which a direction is not part of a span.

    Returns
    -------
    ix, iy : numpy.ndarray
        Indices into the rows of ``X`` and of ``Y`` of the simple match.

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 2 examples or NaN or infinite values, the two
        hold different numbers of examples, ``eps`` is not in [0, 1], ``side`` is unknown or
        ``neuron`` is not an index into that layer; when the neuron is in no match at all (not in
        the maximum match).

    Examples
    --------
    The layers of :func:`max_match`'s example; neuron 0 of ``X`` matches, private neuron 3 does not:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> latent = rng.standard_normal((2, 100))
    >>> X = np.vstack([rng.standard_normal((2, 2)) @ latent, rng.standard_normal((3, 100))])
    >>> Y = np.vstack([rng.standard_normal((4, 100)), rng.standard_normal((2, 2)) @ latent])
    >>> ix, iy = simple_match(X, Y, eps=0.01, neuron=0)
    >>> ix.tolist(), iy.tolist()
    ([0, 1], [4, 5])
    >>> simple_match(X, Y, eps=0.01, neuron=3)
    Traceback (most recent call last):
    ...
    ValueError: neuron 3 of X is in no 0.01-match (not in the maximum match)
    """
    _check_eps(eps)
    if side not in ("x", "y"):
        raise ValueError(f"side must be 'x' or 'y'; got {side!r}")
    neurons = _Neurons(X, Y, tol)
    width = neurons.p1 if side == "x" else len(neurons.z) - neurons.p1
    if isinstance(neuron, bool) or not isinstance(neuron, (int, np.integer)) or not 0 <= neuron < width:
        raise ValueError(f"neuron must be an index into {side.upper()}'s {width} neurons; got {neuron!r}")
    v = neuron if side == "x" else neuron + neurons.p1
    xs, ys = neurons.max_match(neurons.x, neurons.y, eps)
    if v not in xs and v not in ys:
        raise ValueError(f"neuron {neuron} of {side.upper()} is in no {eps}-match (not in the maximum match)")
    return neurons.split(*_simple_match(neurons, xs, ys, eps, v))


def simple_matches(X: ArrayLike, Y: ArrayLike, eps: float,
                   tol: float = 1e-10) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """The maximum match decomposed into simple matches: a list of ``(ix, iy)`` whose union it is.

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' neurons (rows) over the same ``n`` examples.
    eps : float
        The largest sine, in [0, 1], of a neuron's angle to the other group's span.
    tol : float
        Relative squared singular value below which a direction is not part of a span.

    Returns
    -------
    list of tuple of numpy.ndarray
        One ``(ix, iy)`` per simple match, indices into the rows of ``X`` and of ``Y``.

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 2 examples or NaN or infinite values, the two
        hold different numbers of examples, or ``eps`` is not in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> latent = rng.standard_normal((2, 100))
    >>> X = np.vstack([rng.standard_normal((2, 2)) @ latent, rng.standard_normal((3, 100))])
    >>> Y = np.vstack([rng.standard_normal((4, 100)), rng.standard_normal((2, 2)) @ latent])
    >>> [(x.tolist(), y.tolist()) for x, y in simple_matches(X, Y, eps=0.01)]   # one group of two on each side
    [([0, 1], [4, 5])]
    >>> round(match_similarity(X, Y, eps=0.01), 2)   # 4 of the 11 neurons are matched
    0.36
    """
    _check_eps(eps)
    neurons = _Neurons(X, Y, tol)
    xs, ys = neurons.max_match(neurons.x, neurons.y, eps)
    found, covered = [], set()
    for v in np.concatenate([xs, ys]):
        if v not in covered:
            sx, sy = _simple_match(neurons, xs, ys, eps, v)
            covered.update(sx.tolist() + sy.tolist())
            found.append(neurons.split(sx, sy))
    return found


def _live(neurons, both=False):
    """The number of live neurons; a ``ValueError`` when there are none (``both``: on either side)."""
    if both and not (len(neurons.x) and len(neurons.y)):
        raise ValueError("one layer has no live neuron (all zero activation vectors): no epsilon gives a match")
    n = len(neurons.x) + len(neurons.y)
    if n == 0:
        raise ValueError("both layers' neurons are all dead (zero activation vectors): nothing to match")
    return n


def match_similarity(X: ArrayLike, Y: ArrayLike, eps: float, tol: float = 1e-10) -> float:
    """Matched neurons over all live neurons of both layers, in the maximum ``eps``-match
    (0 when one layer has no live neuron; a ``ValueError`` when neither has).

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' neurons (rows) over the same ``n`` examples.
    eps : float
        The largest sine, in [0, 1], of a neuron's angle to the other group's span.
    tol : float
        Relative squared singular value below which a direction is not part of a span.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 2 examples or NaN or infinite values, the two
        hold different numbers of examples, ``eps`` is not in [0, 1], or no neuron of either layer
        is live.

    Examples
    --------
    The layers of :func:`max_match`'s example: 4 of their 11 neurons are matched:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> latent = rng.standard_normal((2, 100))
    >>> X = np.vstack([rng.standard_normal((2, 2)) @ latent, rng.standard_normal((3, 100))])
    >>> Y = np.vstack([rng.standard_normal((4, 100)), rng.standard_normal((2, 2)) @ latent])
    >>> round(match_similarity(X, Y, eps=0.01), 2)
    0.36
    """
    _check_eps(eps)
    neurons = _Neurons(X, Y, tol)
    xs, ys = neurons.max_match(neurons.x, neurons.y, eps)
    return (len(xs) + len(ys)) / _live(neurons)


def epsilon_sweep(X: ArrayLike, Y: ArrayLike, eps_values: Sequence[float] = (0.15, 0.2, 0.25, 0.3, 0.5),
                  tol: float = 1e-10) -> NDArray[np.float64]:
    """:func:`match_similarity` for each epsilon (Wang et al.'s values by default); the Gram
    matrix is computed once.

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' neurons (rows) over the same ``n`` examples.
    eps_values : sequence of float
        Epsilons in [0, 1], any order.
    tol : float
        Relative squared singular value below which a direction is not part of a span.

    Returns
    -------
    numpy.ndarray
        ``(len(eps_values),)`` similarities, in the order of ``eps_values``.

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 2 examples or NaN or infinite values, the two
        hold different numbers of examples, an epsilon is not in [0, 1], or no neuron is live.

    Examples
    --------
    The layers of :func:`max_match`'s example: at a large enough epsilon private neurons match too:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> latent = rng.standard_normal((2, 100))
    >>> X = np.vstack([rng.standard_normal((2, 2)) @ latent, rng.standard_normal((3, 100))])
    >>> Y = np.vstack([rng.standard_normal((4, 100)), rng.standard_normal((2, 2)) @ latent])
    >>> epsilon_sweep(X, Y, (0.01, 0.5, 0.99)).round(2)
    array([0.36, 0.36, 0.91])
    """
    for eps in eps_values:
        _check_eps(eps)
    neurons = _Neurons(X, Y, tol)
    sizes, xs, ys = {}, neurons.x, neurons.y
    for eps in sorted(eps_values, reverse=True):  # a smaller epsilon's match lies inside a larger one's
        xs, ys = neurons.max_match(xs, ys, eps)
        sizes[eps] = len(xs) + len(ys)
    return np.array([sizes[eps] for eps in eps_values]) / _live(neurons)


def _sines(neurons):
    sines = np.full(len(neurons.norm2), np.nan)
    sines[neurons.x] = neurons.sines(neurons.x, neurons.y)
    sines[neurons.y] = neurons.sines(neurons.y, neurons.x)
    return sines[:neurons.p1], sines[neurons.p1:]


def neuron_sines(X: ArrayLike, Y: ArrayLike, tol: float = 1e-10) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(sx, sy)``: the sine of each live neuron's angle to the span of the whole other layer
    (the first step of the maximum-match loop); dead neurons get ``nan``.

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' neurons (rows) over the same ``n`` examples.
    tol : float
        Relative squared singular value below which a direction is not part of a span.

    Returns
    -------
    sx, sy : numpy.ndarray
        ``(p1,)`` and ``(p2,)`` sines in [0, 1].

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 2 examples or NaN or infinite values, the two
        hold different numbers of examples.

    Examples
    --------
    The layers of :func:`max_match`'s example: the shared neurons lie in the other layer's span:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> latent = rng.standard_normal((2, 100))
    >>> X = np.vstack([rng.standard_normal((2, 2)) @ latent, rng.standard_normal((3, 100))])
    >>> Y = np.vstack([rng.standard_normal((4, 100)), rng.standard_normal((2, 2)) @ latent])
    >>> sx, sy = neuron_sines(X, Y)
    >>> sx.round(2), sy.round(2)
    (array([0.  , 0.  , 0.95, 0.97, 0.98]), array([0.97, 0.98, 0.99, 0.93, 0.  , 0.  ]))
    """
    return _sines(_Neurons(X, Y, tol))


def min_epsilon_all(X: ArrayLike, Y: ArrayLike, tol: float = 1e-10) -> float:
    """The smallest epsilon at which every live neuron matches: the largest sine of a neuron's
    angle to the whole other layer.

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' neurons (rows) over the same ``n`` examples.
    tol : float
        Relative squared singular value below which a direction is not part of a span.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 2 examples or NaN or infinite values, the two
        hold different numbers of examples, or a layer has no live neuron.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> latent = rng.standard_normal((2, 100))
    >>> X = np.vstack([rng.standard_normal((2, 2)) @ latent, rng.standard_normal((3, 100))])
    >>> Y = np.vstack([rng.standard_normal((4, 100)), rng.standard_normal((2, 2)) @ latent])
    >>> round(min_epsilon_all(X, Y), 2)
    0.99
    """
    neurons = _Neurons(X, Y, tol)
    _live(neurons, both=True)
    return float(max(np.nanmax(s) for s in _sines(neurons)))


def min_epsilon_for_size(X: ArrayLike, Y: ArrayLike, size: int, tol: float = 1e-10, precision: float = 1e-4) -> float:
    """The smallest epsilon (to ``precision``) whose maximum match holds at least ``size`` neurons
    of both layers together (the match only grows with epsilon, so bisection finds it).

    Parameters
    ----------
    X, Y : array_like, shapes ``(p1, n)`` and ``(p2, n)``
        Two layers' neurons (rows) over the same ``n`` examples.
    size : int
        Matched neurons wanted, from 1 to the live neurons of both layers.
    tol : float
        Relative squared singular value below which a direction is not part of a span.
    precision : float
        The bisection's tolerance on epsilon.

    Returns
    -------
    float
        In (0, 1]; within ``precision`` above the exact value.

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, has fewer than 2 examples or NaN or infinite values, the two
        hold different numbers of examples, a layer has no live neuron, ``size`` is not an integer
        in range, or ``precision`` is not in ``[1e-12, 1)``.

    Examples
    --------
    The layers of :func:`max_match`'s example: their 4 shared neurons match at once, 6 need more:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> latent = rng.standard_normal((2, 100))
    >>> X = np.vstack([rng.standard_normal((2, 2)) @ latent, rng.standard_normal((3, 100))])
    >>> Y = np.vstack([rng.standard_normal((4, 100)), rng.standard_normal((2, 2)) @ latent])
    >>> round(min_epsilon_for_size(X, Y, 4), 3), round(min_epsilon_for_size(X, Y, 6), 3)
    (0.0, 0.958)
    """
    if not (is_real(precision) and 1e-12 <= precision < 1):
        raise ValueError(f"precision must be a number in [1e-12, 1); got {precision!r}")
    neurons = _Neurons(X, Y, tol)
    _live(neurons, both=True)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= len(neurons.x) + len(neurons.y):
        raise ValueError(f"size must be between 1 and the {len(neurons.x) + len(neurons.y)} live neurons; got {size}")
    low, high = 0.0, 1.0
    while high - low > precision:
        mid = (low + high) / 2
        low, high = (low, mid) if sum(map(len, neurons.max_match(neurons.x, neurons.y, mid))) >= size else (mid, high)
    return high
