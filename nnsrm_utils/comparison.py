"""Comparing networks layer by layer with the measures of :mod:`nnsrm_utils.cca` (numpy only).

Every measure is a similarity in [0, 1] between two layers over the same examples.  Comparing
many layers with many others (Kornblith et al.'s layer identification: every layer of one
network against every layer of another) repeats the same per-layer work, so each layer is
prepared once: centred, its covariance, and its data whitened in full (for CCA and PWCCA) and
after SVCCA's SVD step.  Canonical correlations of two layers are then the singular values of
the product of their whitened data (one product and one SVD for mean CCA and PWCCA together).
A prepared layer holds its data about three times over, so layer identification keeps only as
many networks prepared as fit a memory budget and prepares the others again.  RBF CKA needs
each layer's ``n x n`` kernel, too large to keep for dozens of layers at 10,000 examples: the
kernels' inner products are summed over bands of rows instead, so memory stays bounded however
many layers are compared.
``tests/test_comparison.py`` checks every measure against the functions of :mod:`nnsrm_utils.cca`.

PWCCA is asymmetric: here it weights by the first layer of each pair (network ``i`` of
``i < j``; the row layer in layer identification).
"""
from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import cached_property, lru_cache
from itertools import combinations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._backend import svd
from ._validate import check_activations, rounding_level
from .cca import _check_varies, _keep_variance, _sq_distances, _warn_if_biased_cka, _warn_if_degenerate, _whitener

#: The measures this module computes, each a similarity in [0, 1].
MEASURES = ("mean CCA", "SVCCA", "PWCCA", "linear CKA", "RBF CKA")


class _Layer:
    """One network's layer, prepared once for comparisons with many others: each part of the
    preparation is made when a measure first needs it (linear CKA needs no whitening)."""

    def __init__(self, x, name, keep=0.99, tol=1e-10):
        x = check_activations(x, name, min_examples=4)
        self.name, self.n, self.units, self.keep, self.tol = name, x.shape[1], x.shape[0], keep, tol
        self.data = np.asarray(x, dtype=np.float64) - x.mean(axis=1, keepdims=True, dtype=np.float64)
        self.cov = self.data @ self.data.T / (self.n - 1)
        _check_varies(self.cov, x, name)

    @cached_property
    def whitening(self):
        """``W`` with ``W^T C W = I`` on the directions in which the layer varies."""
        return _whitener(self.cov, self.tol, self.name)

    @cached_property
    def white(self):
        """The data whitened in full: rows uncorrelated, of unit variance (CCA, PWCCA)."""
        return self.whitening.T @ self.data

    @cached_property
    def weights(self):
        """``<h, z_j> / (n - 1)`` for each unit variate ``h = a^T x`` (PWCCA's weights)."""
        return self.whitening.T @ self.cov

    @cached_property
    def svd_white(self):
        """The data whitened after SVCCA's SVD step (the directions keeping ``keep`` of the variance)."""
        v, lam = _keep_variance(self.cov, self.keep, self.name, self.tol)
        return (v / np.sqrt(lam)).T @ self.data

    def permuted(self, order):
        """The same layer with its examples in ``order``: covariances, whitening and weights do not
        change, only the columns of the prepared data (and the order of its kernel's row means)."""
        other = copy.copy(self)
        for part in ("data", "white", "svd_white"):  # those made so far; the rest follow from the permuted data
            if part in self.__dict__:
                setattr(other, part, self.__dict__[part][:, order])
        if "kernel_stats" in self.__dict__:
            median, row_means, mean = self.kernel_stats
            other.kernel_stats = median, row_means[order], mean
        return other

    @cached_property
    def kernel_stats(self):
        """The RBF kernel's bandwidth (:func:`~nnsrm_utils.cca.gram_rbf`'s median squared distance),
        row means and mean, from the whole ``n x n`` kernel, which is not kept."""
        d2 = _sq_distances(self.data)
        median = np.median(d2)
        if not median > 0:
            raise ValueError(f"{self.name}: most examples coincide (median distance 0), the layer does not vary; "
                             "RBF CKA is undefined")
        row_means = np.exp(-d2 / (2 * median)).mean(axis=1)
        return median, row_means, row_means.mean()

    def kernel_rows(self, start, stop):
        """Rows ``start:stop`` of the layer's RBF kernel, centred: ``H K H``."""
        median, row_means, mean = self.kernel_stats
        K = np.exp(-_sq_distances(self.data, start, stop) / (2 * median))
        return K - row_means[start:stop, None] - row_means + mean


def _prepared(xs, label):
    """Each of ``xs`` prepared once, named ``label[i]`` in error messages."""
    return [_Layer(x, f"{label}[{i}]") for i, x in enumerate(_networks(xs, label))]


def _networks(xs, label):
    """``xs`` as a non-empty list of layers, one per network (a single array is a mistake)."""
    if isinstance(xs, np.ndarray) and xs.ndim == 2:
        raise ValueError(f"{label} must be a list of (n_units, n_examples) arrays, one per network; got one array")
    xs = list(xs)
    if not xs:
        raise ValueError(f"{label} holds no networks")
    return xs


def _correlations(za, zb, n):
    _warn_if_degenerate(len(za) + len(zb), n)
    return np.clip(svd(za @ zb.T / (n - 1), compute_uv=False), 0, 1)


def _rbf_cka(a, b, band_bytes=2**26):
    """RBF CKA between every layer of ``a`` and every layer of ``b`` (prepared, over the same
    examples): a ``(len(a), len(b))`` matrix.

    CKA is the cosine between centred kernels, ``<H K H, H L H> / (||H K H|| ||H L H||)``.  A
    kernel has ``n^2`` entries (800 MB at 10,000 examples), too many to keep one for each of
    dozens of layers, so the inner products between all the layers' kernels are summed over
    bands of rows, each band computed when it is needed: memory stays near ``band_bytes``,
    besides one layer's whole kernel at a time (for its bandwidth), however many layers."""
    layers = list({id(x): x for x in (*a, *b)}.values())
    n = layers[0].n
    rows = max(1, band_bytes // (8 * n * len(layers)))
    gram = np.zeros((len(layers), len(layers)))
    band = np.empty((len(layers), min(rows, n), n))
    for start in range(0, n, rows):
        k = min(rows, n - start)
        for i, x in enumerate(layers):
            band[i, :k] = x.kernel_rows(start, start + k)
        flat = band[:, :k].reshape(len(layers), -1)
        gram += flat @ flat.T
    norms = np.sqrt(np.diag(gram))
    for x, norm in zip(layers, norms):
        if not norm > n * rounding_level(1.0):
            raise ValueError(f"{x.name}: the RBF kernel is constant after centring (the layer does not vary); "
                             "CKA is undefined")
    index = {id(x): i for i, x in enumerate(layers)}
    ia, ib = [index[id(x)] for x in a], [index[id(x)] for x in b]
    return gram[np.ix_(ia, ib)] / np.outer(norms[ia], norms[ib])


def _similarities(a, b, names):
    if a.n != b.n:
        raise ValueError(f"layers disagree on the number of examples ({a.n} and {b.n})")
    out = {}
    if "mean CCA" in names or "PWCCA" in names:  # one product and one SVD serve both
        _warn_if_degenerate(a.units + b.units, a.n)
        m = a.white @ b.white.T / (a.n - 1)
        if "PWCCA" in names:
            u, rho, _ = svd(m, full_matrices=False)
            alpha = np.abs(u.T @ a.weights).sum(axis=1)
            out["PWCCA"] = float(alpha @ np.clip(rho, 0, 1) / alpha.sum())
        else:
            rho = svd(m, compute_uv=False)
        out["mean CCA"] = float(np.clip(rho, 0, 1).sum() / min(a.units, b.units))
    if "SVCCA" in names:
        rho = _correlations(a.svd_white, b.svd_white, a.n)
        out["SVCCA"] = float(rho.sum() / min(len(a.svd_white), len(b.svd_white)))
    if "linear CKA" in names:
        _warn_if_biased_cka(a.cov, b.cov, a.n)
        cxy = a.data @ b.data.T
        out["linear CKA"] = float(np.sum(cxy**2) / (a.n - 1) ** 2 / np.sqrt(np.sum(a.cov**2) * np.sum(b.cov**2)))
    return out


def _check_names(names):
    if isinstance(names, str):
        raise ValueError(f"names must be a list of measure names, e.g. [{names!r}]; got the string {names!r}")
    unknown = set(names) - set(MEASURES)
    if unknown:
        raise ValueError(f"unknown measure(s) {sorted(unknown)}; choose from {list(MEASURES)}")
    return list(names)


def pairwise(xs: Sequence[ArrayLike], names: Sequence[str] = MEASURES) -> dict[str, NDArray[np.float64]]:
    """Each measure between every pair of networks ``i < j``: ``{name: array over pairs}``.

    ``xs`` is one layer of each network, ``(n_units_i, n_examples)`` over the same examples;
    ``names`` are some of :data:`MEASURES`.

    Returns
    -------
    dict
        ``{name: (n_pairs,) array}``, the pairs in the order of ``itertools.combinations``;
        PWCCA weighted by network ``i`` of each pair.

    Raises
    ------
    ValueError
        For an unknown measure name, or a layer that is not 2-D, has NaN or infinite values,
        fewer than 4 examples or does not vary, or layers over different numbers of examples.
        The CCA family and linear CKA warn (``RuntimeWarning``) where they are degenerate.

    Examples
    --------
    Three networks whose layers are rotations of one another:

    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> X = np.random.default_rng(0).standard_normal((5, 300))
    >>> scores = pairwise([random_orthogonal(5, i) @ X for i in range(3)], ["linear CKA", "mean CCA"])
    >>> {name: values.round(2).tolist() for name, values in scores.items()}   # pairs (0, 1), (0, 2), (1, 2)
    {'linear CKA': [1.0, 1.0, 1.0], 'mean CCA': [1.0, 1.0, 1.0]}
    """
    names = _check_names(names)
    layers = _prepared(xs, "xs")
    pairs = [_similarities(layers[i], layers[j], names) for i, j in combinations(range(len(xs)), 2)]
    if "RBF CKA" in names:
        upper = _rbf_cka(layers, layers)[np.triu_indices(len(layers), 1)]
        pairs = [{**p, "RBF CKA": float(s)} for p, s in zip(pairs, upper)]
    return {name: np.array([p[name] for p in pairs]) for name in names}


def between(xs: Sequence[ArrayLike], ys: Sequence[ArrayLike], names: Sequence[str] = MEASURES) -> dict[str, NDArray[np.float64]]:
    """Each measure between every network of one group and every network of another (Morcos et
    al.'s "inter" comparison): ``{name: array over the pairs (i, j)}``, PWCCA weighted by ``xs[i]``.
    ``between(xs, xs)`` (the same list) compares every network with every one, each prepared once.

    Returns
    -------
    dict
        ``{name: (len(xs) * len(ys),) array}``, the pairs ``(i, j)`` in row-major order.

    Raises
    ------
    ValueError
        For an unknown measure name, or a layer that is not 2-D, has NaN or infinite values,
        fewer than 4 examples or does not vary, or layers over different numbers of examples.
        The CCA family and linear CKA warn (``RuntimeWarning``) where they are degenerate.

    Examples
    --------
    A network and its rotated copy, against an unrelated network and the first again:

    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((5, 300))
    >>> scores = between([X, random_orthogonal(5, 1) @ X], [rng.standard_normal((5, 300)), X], ["linear CKA"])
    >>> scores["linear CKA"].round(2).tolist()   # pairs (0, 0), (0, 1), (1, 0), (1, 1)
    [0.02, 1.0, 0.02, 1.0]
    """
    names = _check_names(names)
    a = _prepared(xs, "xs")
    b = a if ys is xs else _prepared(ys, "ys")  # every network against every other: prepared once
    return {name: m.ravel() for name, m in _matrices(a, b, names).items()}


def distances(xs: Sequence[ArrayLike], names: Sequence[str] = MEASURES) -> dict[str, NDArray[np.float64]]:
    """``1 - similarity`` between every two networks of ``xs``, for clustering them (Morcos et
    al.'s Fig. 5): ``{name: (n, n) matrix}``, symmetric with a zero diagonal.  PWCCA, which
    weights by one network of the pair, is symmetrised by averaging both ways; rounding below
    zero is clipped.

    Returns
    -------
    dict
        ``{name: (len(xs), len(xs)) array}``.

    Raises
    ------
    ValueError
        As :func:`between`.

    Examples
    --------
    A network, its rotated copy and an unrelated network:

    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((5, 300))
    >>> distances([X, random_orthogonal(5, 1) @ X, rng.standard_normal((5, 300))], ["PWCCA"])["PWCCA"].round(1)
    array([[0. , 0. , 0.9],
           [0. , 0. , 0.9],
           [0.9, 0.9, 0. ]])
    """
    layers, out = _prepared(xs, "xs"), {}
    for name, s in _matrices(layers, layers, _check_names(names)).items():
        out[name] = np.clip(1 - (s + s.T) / 2, 0, None)
        np.fill_diagonal(out[name], 0)
    return out


def shuffled(xs: Sequence[NDArray], random_state: int = 0) -> list[NDArray]:
    """The same networks with the examples of each permuted independently: what each measure
    gives when the layers share nothing but their sizes and marginal statistics.

    Returns
    -------
    list of numpy.ndarray
        Each of ``xs`` ``(n_units, n_examples)`` with its columns in a new order, drawn with
        ``random_state``.

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils.cca import cka
    >>> X = np.random.default_rng(0).standard_normal((5, 300))
    >>> X2, = shuffled([X])
    >>> sorted(X2[0]) == sorted(X[0]), round(cka(X, X2), 1)   # the same values, no correspondence left
    (True, 0.0)
    """
    rng = np.random.default_rng(random_state)
    return [x[:, rng.permutation(x.shape[1])] for x in _networks(xs, "xs")]


def shuffled_similarities(x: ArrayLike, y: ArrayLike, name: str, orders: Sequence[ArrayLike]) -> NDArray[np.float64]:
    """``name`` between ``x`` and ``y`` ``(n_units, n_examples)``, followed by its value with the
    examples of ``y`` in each of ``orders`` (a permutation null): each layer is prepared once.

    Returns
    -------
    numpy.ndarray
        ``(1 + len(orders),)``: the score, then one per order.

    Raises
    ------
    ValueError
        For an unknown measure name, an order that is not a permutation of the examples, or a
        layer that is not 2-D, has NaN or infinite values, fewer than 4 examples or does not
        vary, or layers over different numbers of examples.  The CCA family and linear CKA warn
        (``RuntimeWarning``) where they are degenerate.

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((5, 300))
    >>> orders = [rng.permutation(300) for _ in range(3)]
    >>> shuffled_similarities(X, random_orthogonal(5, 1) @ X, "linear CKA", orders).round(1)
    array([1., 0., 0., 0.])
    """
    names = _check_names([name])
    a, b = _Layer(x, "X"), _Layer(y, "Y")
    orders = [np.asarray(o) for o in orders]
    for o in orders:
        if o.dtype.kind not in "iu" or o.shape != (b.n,) or not np.array_equal(np.sort(o), np.arange(b.n)):
            raise ValueError(f"each of orders must be a permutation of Y's {b.n} example indices")
    if name == "RBF CKA":
        _similarities(a, b, [])  # checks the numbers of examples
        b.kernel_stats           # b's bandwidth and row means, for every shuffle to reuse
        return _rbf_cka([a], [b, *(b.permuted(o) for o in orders)])[0]
    score = _similarities(a, b, names)[name]  # prepares what the measure needs of b, for every shuffle to reuse
    return np.array([score, *(_similarities(a, b.permuted(o), names)[name] for o in orders)])


def layer_similarities(net_a: Sequence[ArrayLike], net_b: Sequence[ArrayLike],
                       names: Sequence[str] = ("linear CKA",)) -> dict[str, NDArray[np.float64]]:
    """Every layer of one network against every layer of another: ``{name: (layers of a, layers
    of b) array}`` (Kornblith et al.'s layer-by-layer heatmaps); each network is a list of
    ``(n_units, n_examples)`` arrays over the same examples.

    Returns
    -------
    dict
        ``{name: (len(net_a), len(net_b)) array}``; PWCCA weighted by the row layer.

    Raises
    ------
    ValueError
        For an unknown measure name, or a layer that is not 2-D, has NaN or infinite values,
        fewer than 4 examples or does not vary, or layers over different numbers of examples.
        The CCA family and linear CKA warn (``RuntimeWarning``) where they are degenerate.

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> a = [rng.standard_normal((5, 300)), rng.standard_normal((6, 300))]   # two layers of network a
    >>> b = [random_orthogonal(5, 1) @ a[0], rng.standard_normal((6, 300))]  # its first layer, rotated
    >>> layer_similarities(a, b)["linear CKA"].round(1).tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """
    names = _check_names(names)
    return _matrices(_prepared(net_a, "net_a"), _prepared(net_b, "net_b"), names)


def _matrices(a, b, names, rbf=None):
    """``{name: matrix}`` of each measure between every prepared layer of ``a`` and of ``b``
    (``rbf``: RBF CKA's matrix when already computed)."""
    s = [[_similarities(x, y, names) for y in b] for x in a]
    out = {name: np.array([[cell[name] for cell in row] for row in s]) for name in names if name != "RBF CKA"}
    if "RBF CKA" in names:
        out["RBF CKA"] = _rbf_cka(a, b) if rbf is None else rbf
    return {name: out[name] for name in names}


def layer_identification(nets: Sequence[Sequence[ArrayLike]],
                         names: Sequence[str] = ("mean CCA", "SVCCA", "PWCCA", "linear CKA"),
                         prepared_bytes: int = 2**30) -> dict[str, float]:
    """Kornblith et al.'s sanity check: is a layer of one network most similar to the same
    layer of another, independently trained one?

    ``nets`` is a list over networks of lists over layers of ``(n_units, n_examples)`` arrays,
    at least two networks with the same number of layers (layer ``l`` of one network is the
    counterpart of layer ``l`` of every other).  For every pair of networks, every layer of the first is compared with every layer of the
    second; a layer counts as identified when its own counterpart is the most similar,
    looked up from both networks' sides.  Prepared networks are kept while they fit in
    ``prepared_bytes`` (at least one); the others are prepared again for each pair, so memory
    stays bounded however many networks are compared (RBF CKA needs every layer's data at once).

    Returns
    -------
    dict
        ``{name: fraction identified}``; guessing identifies ``1 / number of layers``.

    Raises
    ------
    ValueError
        For an unknown measure name, fewer than two networks, networks with different numbers
        of layers, or a layer that is not 2-D, has NaN or infinite values, fewer than 4 examples
        or does not vary, or layers over different numbers of examples.  The CCA family and
        linear CKA warn (``RuntimeWarning``) where they are degenerate.

    Examples
    --------
    Three networks whose layers are noisy rotations of the same three layers:

    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> layers = [rng.standard_normal((p, 200)) for p in (6, 5, 4)]
    >>> nets = [[random_orthogonal(len(x), i) @ x + rng.standard_normal(x.shape) for x in layers] for i in range(3)]
    >>> layer_identification(nets, ["linear CKA", "PWCCA"])
    {'linear CKA': 1.0, 'PWCCA': 1.0}
    """
    names = _check_names(names)
    depths = {len(net) for net in nets}
    if len(nets) < 2 or len(depths) > 1:
        raise ValueError("layer identification needs at least two networks with the same number of layers; got "
                         f"{len(nets)} with {sorted(depths)} layers")
    rbf = _rbf_blocks(nets) if "RBF CKA" in names else None
    hits = {name: [] for name in names}
    # A prepared layer holds about three float64 copies of its data (ten ResNets of the colab
    # profile would take 20 GB at once): keep as many prepared networks as fit in
    # `prepared_bytes`, at least one, and prepare the others again when their pair comes up.
    size = 24 * max([sum(map(np.size, net)) for net in nets] + [1])
    prepared = lru_cache(maxsize=max(1, prepared_bytes // size))(lambda i: _prepared(nets[i], f"nets[{i}]"))
    for i in range(len(nets)):
        a = prepared(i)
        for j in range(i + 1, len(nets)):
            b = prepared(j)
            for name, m in _matrices(a, b, names, None if rbf is None else rbf[i][j]).items():
                truth = np.arange(len(m))
                hits[name] += list(m.argmax(axis=1) == truth) + list(m.argmax(axis=0) == truth)
    return {name: float(np.mean(h)) for name, h in hits.items()}


def _rbf_blocks(nets):
    """RBF CKA between every layer of every network at once (each kernel computed once, none
    kept), split into the blocks ``[i][j]`` of networks ``i`` and ``j``."""
    flat = [x for i, net in enumerate(nets) for x in _prepared(net, f"nets[{i}]")]
    if len({x.n for x in flat}) > 1:
        raise ValueError(f"layers disagree on the number of examples ({sorted({x.n for x in flat})})")
    gram, edges = _rbf_cka(flat, flat), np.cumsum([0] + [len(net) for net in nets])
    return [[gram[edges[i]:edges[i + 1], edges[j]:edges[j + 1]] for j in range(len(nets))] for i in range(len(nets))]
