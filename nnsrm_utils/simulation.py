"""The orthogonal-transform simulation of the paper (Fig. 2; chapter 4).

A small non-linear network learns XOR; its hidden layer is copied ``N`` times,
each copy rotated by its own orthogonal (or permutation) matrix.  The copies
share one geometry by construction, so SRM should find it: the inter-network
RSM in the shared space should match the within-network RSM, while in the
native space (no alignment) it should not.

Training uses torch (imported only here); the analysis is numpy.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import transforms
from ._validate import check_activations, check_count
from .rsm import compare_rsms, inter_rsm, within_rsm
from .srm import SRM

if TYPE_CHECKING:  # torch is imported only where a network is trained or run
    from torch import nn

CORNERS = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])


def xor_clouds(n_per_cloud: int = 50, noise: float = 0.35, shift: float = 0.0,
               random_state: int | np.random.SeedSequence | np.random.Generator | None = None,
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Four Gaussian clouds on the corners of a square; label 1 where the signs differ.

    The clouds are centred on the corners, moved by ``shift`` in both coordinates
    (the authors' noise had mean 1, which shifted every cloud by (+1, +1); harmless
    for the task, but not intended, so the book's default is 0).

    Returns
    -------
    x : numpy.ndarray
        Inputs ``(n, 2)``, ``n = 4 * n_per_cloud`` (rows are examples, as torch expects),
        cloud by cloud.
    y : numpy.ndarray
        Labels ``(n,)``, 0.0 or 1.0.

    Examples
    --------
    >>> x, y = xor_clouds(n_per_cloud=2, random_state=0)
    >>> x.shape, y.tolist()
    ((8, 2), [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    """
    rng = np.random.default_rng(random_state)
    x = np.repeat(CORNERS + shift, n_per_cloud, axis=0) + noise * rng.standard_normal((4 * n_per_cloud, 2))
    y = (np.repeat(CORNERS[:, 0] * CORNERS[:, 1], n_per_cloud) < 0).astype(float)
    return x, y


def train_xor_net(x: ArrayLike, y: ArrayLike, n_hidden: int = 50, epochs: int = 1000, lr: float = 3e-3,
                  seed: int = 0, linear_output: bool = False) -> nn.Sequential:
    """2-``n_hidden``-1 network with sigmoid hidden units, MSE loss, Adam, full batch (the authors' settings).

    ``x`` ``(n, 2)`` and ``y`` ``(n,)`` as from :func:`xor_clouds`; ``seed`` sets the initial
    weights.  The output unit is a sigmoid, or linear (as in the authors' code) with ``linear_output``.

    Returns
    -------
    torch.nn.Sequential
        Linear, Sigmoid (the hidden layer), Linear, and a final Sigmoid unless ``linear_output``.

    Examples
    --------
    >>> x, y = xor_clouds(25, random_state=0)
    >>> net = train_xor_net(x, y, n_hidden=8, epochs=50, lr=0.1)
    >>> accuracy(net, *xor_clouds(25, random_state=1))
    1.0
    """
    import torch

    torch.manual_seed(seed)
    output = [] if linear_output else [torch.nn.Sigmoid()]
    net = torch.nn.Sequential(torch.nn.Linear(2, n_hidden), torch.nn.Sigmoid(), torch.nn.Linear(n_hidden, 1), *output)
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)[:, None]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(xt), yt)
        loss.backward()
        opt.step()
    return net


def hidden_activity(net: nn.Sequential, x: ArrayLike) -> NDArray[np.float64]:
    """Hidden-layer activity, ``(n_hidden, n_examples)`` float64, of the network of
    :func:`train_xor_net` on points ``x`` ``(n_examples, 2)``.

    Returns
    -------
    numpy.ndarray, float64, shape ``(n_hidden, n_examples)``
        The outputs of the hidden sigmoid units, each in ``(0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> net = train_xor_net(*xor_clouds(5, random_state=0), n_hidden=8, epochs=1)
    >>> h = hidden_activity(net, xor_clouds(25, random_state=1)[0])
    >>> h.shape, bool(np.all((h > 0) & (h < 1)))   # sigmoid units
    ((8, 100), True)
    """
    import torch

    with torch.no_grad():
        h = net[1](net[0](torch.as_tensor(x, dtype=torch.float32)))
    return h.numpy().T.astype(np.float64)


def accuracy(net: nn.Sequential, x: ArrayLike, y: ArrayLike) -> float:
    """The XOR network's accuracy on points ``x`` ``(n, 2)`` with labels ``y`` (output above 0.5 is class 1).

    Returns
    -------
    float
        The fraction of the ``n`` points classified correctly, in ``[0, 1]``.

    Examples
    --------
    >>> x, y = xor_clouds(25, random_state=0)
    >>> net = train_xor_net(x, y, n_hidden=8, epochs=50, lr=0.1)
    >>> accuracy(net, x, y), accuracy(net, x, 1 - y)
    (1.0, 0.0)
    """
    import torch

    with torch.no_grad():
        p = net(torch.as_tensor(x, dtype=torch.float32)).numpy()[:, 0]
    return float(np.mean((p > 0.5) == (y > 0.5)))


# The data and network of the book (clouds centred on the corners, sigmoid output) and of the
# authors' code (noise with mean 1 shifting every cloud by (+1, +1), SD 0.3, linear output).
SETTINGS = {
    "book": {"noise": 0.35, "shift": 0.0, "linear_output": False},
    "authors": {"noise": 0.3, "shift": 1.0, "linear_output": True},
}


def xor_experiment(seed: int, n_per_cloud: int = 50, n_hidden: int = 50, epochs: int = 1000,
                   settings: Literal["book", "authors"] = "book") -> dict[str, Any]:
    """Train one XOR network; return its hidden activity on fresh alignment and test points.

    Three independent draws of the clouds: one trains the network, one fits
    SRM (alignment split), one evaluates (test split).  ``settings`` names the
    data and output unit (a key of ``SETTINGS``).

    Returns
    -------
    dict
        ``h_align`` and ``h_test``, each ``(n_hidden, 4 * n_per_cloud)``; ``y_test``
        ``(4 * n_per_cloud,)``; and the test ``accuracy`` (a float).

    Examples
    --------
    >>> data = xor_experiment(0, n_per_cloud=10, n_hidden=8, epochs=20)
    >>> data["h_align"].shape, data["h_test"].shape, data["y_test"].shape
    ((8, 40), (8, 40), (40,))
    """
    if settings not in SETTINGS:
        raise ValueError(f"settings must be one of {tuple(SETTINGS)}; got {settings!r}")
    noise, shift, linear_output = (SETTINGS[settings][key] for key in ("noise", "shift", "linear_output"))
    ss = np.random.SeedSequence(seed).spawn(3)
    x_train, y_train = xor_clouds(n_per_cloud, noise, shift, random_state=ss[0])
    x_align, _ = xor_clouds(n_per_cloud, noise, shift, random_state=ss[1])
    x_test, y_test = xor_clouds(n_per_cloud, noise, shift, random_state=ss[2])
    net = train_xor_net(x_train, y_train, n_hidden, epochs, seed=seed, linear_output=linear_output)
    return {
        "h_align": hidden_activity(net, x_align),
        "h_test": hidden_activity(net, x_test),
        "y_test": y_test,
        "accuracy": accuracy(net, x_test, y_test),
    }


TRANSFORMS = {
    "orthogonal": transforms.random_orthogonal,
    "qr_uniform": transforms.qr_uniform_orthogonal,
    "permutation": transforms.random_permutation,
}


def network_copies(n_units: int, n_copies: int = 10,
                   transform: Literal["orthogonal", "qr_uniform", "permutation"] = "orthogonal",
                   random_state: int | Sequence[int] | None = None) -> list[NDArray[np.float64]]:
    """``n_copies`` independent ``(n_units, n_units)`` transforms of the kind named (a key of
    ``TRANSFORMS``), each from its own seed spawned from ``random_state``.

    Returns
    -------
    list of numpy.ndarray
        ``n_copies`` float64 ``(n_units, n_units)`` matrices, orthogonal (permutation matrices
        for ``"permutation"``).

    Raises
    ------
    ValueError
        For an unknown ``transform``, an ``n_copies`` that is not a positive integer (and, from
        :mod:`~nnsrm_utils.transforms`, a bad ``n_units``).

    Examples
    --------
    >>> import numpy as np
    >>> qs = network_copies(4, n_copies=3, random_state=0)
    >>> len(qs), all(np.allclose(q.T @ q, np.eye(4)) for q in qs)
    (3, True)
    >>> network_copies(2, n_copies=2, transform="permutation", random_state=0)[0]
    array([[0., 1.],
           [1., 0.]])
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {tuple(TRANSFORMS)}; got {transform!r}")
    check_count(n_copies, "n_copies")
    seeds = np.random.SeedSequence(random_state).spawn(n_copies)
    return [TRANSFORMS[transform](n_units, s) for s in seeds]


def align_copies(h_align: ArrayLike, h_test: ArrayLike, qs: Sequence[NDArray], n_features: int = 50,
                 srm_seed: int = 0, brainiak: bool = False) -> dict[str, list[NDArray[np.float64]]]:
    """Make the copies, fit SRM on the alignment split and map the test split into the shared space.

    ``h_align`` ``(n_units, n_align)`` and ``h_test`` ``(n_units, n_test)`` are one network's
    activity; copy ``i`` is ``qs[i] @ h``.  ``brainiak=True`` fits SRM with BrainIAK's updates,
    as the authors did (:class:`~nnsrm_utils.srm.SRM`).

    Returns
    -------
    dict
        The copies' test responses in their native spaces (``native``, each ``(n_units,
        n_test)``), the same centred with SRM's unit means (``centred``), and in the shared space
        (each ``(n_features, n_test)``): from centred activity (``shared``, ``SRM.transform``)
        and from uncentred activity (``shared_uncentred``, ``W_i^T X_i``, what BrainIAK's
        ``transform`` returns and the authors used).

    Raises
    ------
    ValueError
        If ``h_align`` or ``h_test`` is not a finite 2-D array, the two hold different units,
        ``qs`` is empty or holds a transform of another size, or as :class:`~nnsrm_utils.srm.SRM`.

    Examples
    --------
    >>> import numpy as np
    >>> h = np.random.default_rng(0).random((6, 60))   # any activity: 6 units, 60 examples
    >>> aligned = align_copies(h[:, :40], h[:, 40:], network_copies(6, 3, random_state=0), n_features=6)
    >>> {space: [x.shape for x in xs] for space, xs in aligned.items()}["shared"]
    [(6, 20), (6, 20), (6, 20)]
    """
    h_align, h_test = check_activations(h_align, "h_align"), check_activations(h_test, "h_test", min_examples=1)
    if len(h_test) != len(h_align):
        raise ValueError(f"h_align and h_test must hold the same units; got {len(h_align)} and {len(h_test)}")
    if not qs or any(np.shape(q) != (len(h_align),) * 2 for q in qs):
        raise ValueError(f"qs must be a non-empty list of ({len(h_align)}, {len(h_align)}) transforms, one per copy")
    test = [q @ h_test for q in qs]
    srm = SRM(n_features=n_features, n_iter=10, random_state=srm_seed, brainiak=brainiak).fit([q @ h_align for q in qs])
    return {"native": test, "centred": [x - mu[:, None] for x, mu in zip(test, srm.mu_)],
            "shared": srm.transform(test), "shared_uncentred": [w.T @ x for w, x in zip(srm.w_, test)]}


def copy_rsms(aligned: dict[str, list[NDArray]], similarity: Literal["pearson", "cosine", "gram"] = "pearson",
              centre: bool = False) -> dict[str, NDArray[np.float64]]:
    """The three RSMs of the simulation on the test split, from :func:`align_copies`.

    ``within``: wRSM of the copies in their native spaces.  ``shared``: iRSM after SRM.
    ``native``: iRSM without alignment.  ``centre=True`` computes all three from activity
    centred with the SRM unit means; ``centre=False`` from uncentred activity on both sides,
    as the authors did (native activity, and the shared space ``W_i^T X_i``).

    Returns
    -------
    dict
        ``within``, ``shared`` and ``native``, each ``(n_test, n_test)``.

    Examples
    --------
    Orthogonal copies share one geometry: with cosine RSMs of centred activity, SRM's shared
    space recovers the within-network RSM exactly (Proposition 1), the native spaces do not:

    >>> import numpy as np
    >>> from nnsrm_utils.rsm import compare_rsms
    >>> h = np.random.default_rng(0).random((6, 60))
    >>> aligned = align_copies(h[:, :40], h[:, 40:], network_copies(6, 3, random_state=0), n_features=6)
    >>> rsms = copy_rsms(aligned, "cosine", centre=True)
    >>> [round(compare_rsms(rsms[space], rsms["within"], part="lower"), 2) for space in ("shared", "native")]
    [1.0, 0.31]
    """
    native = aligned["centred" if centre else "native"]
    return {
        "within": within_rsm(native, similarity),
        "shared": inter_rsm(aligned["shared" if centre else "shared_uncentred"], similarity),
        "native": inter_rsm(native, similarity),
    }


# The ways of scoring a run: the authors' (SRM fitted by BrainIAK's updates; Pearson RSMs of
# uncentred activity in both the native and the shared space, correlated over the full
# matrices, diagonal included), the same with the exact EM updates, and the one for which
# Proposition 1 is exact (cosine RSMs of centred activity, strict lower triangle).
ANALYSES = {
    "as published": {"brainiak": True, "similarity": "pearson", "centre": False, "part": "full"},
    "exact EM": {"brainiak": False, "similarity": "pearson", "centre": False, "part": "full"},
    "cosine, centred": {"brainiak": False, "similarity": "cosine", "centre": True, "part": "lower"},
}


def simulation_run(seed: int, n_copies: int = 10, n_features: int = 50,
                   transform_kinds: Sequence[str] = ("orthogonal", "permutation", "qr_uniform"),
                   analyses: Sequence[str] = tuple(ANALYSES), settings: Literal["book", "authors"] = "book",
                   ) -> tuple[dict[tuple[str, str, str, str], float], float]:
    """One run of the simulation: train a network (the authors' 1,000 epochs), copy it, align, score.

    ``analyses`` are keys of ``ANALYSES``; ``settings`` a key of ``SETTINGS``.

    Returns
    -------
    scores : dict
        Maps ``(transform, analysis, space, method)`` to the correlation (``method``
        ``"pearson"`` or ``"kendall"``) between the ``space`` ("shared" or "native") iRSM and
        the wRSM, for each of ``analyses``.
    accuracy : float
        The trained network's test accuracy.

    Raises
    ------
    ValueError
        For an unknown transform kind, analysis or settings.

    Examples
    --------
    Not run here (training takes seconds); the values are from one run on a CPU:

    >>> scores, acc = simulation_run(0, n_copies=3, n_features=10, transform_kinds=("orthogonal",))  # doctest: +SKIP
    >>> acc, round(scores["orthogonal", "cosine, centred", "shared", "pearson"], 2)  # doctest: +SKIP
    (1.0, 1.0)
    """
    unknown = set(analyses) - set(ANALYSES)
    if unknown:
        raise ValueError(f"analyses must be among {tuple(ANALYSES)}; got {sorted(unknown)}")
    data = xor_experiment(seed, settings=settings)
    scores = {}
    for kind in transform_kinds:
        qs = network_copies(data["h_test"].shape[0], n_copies, kind, random_state=(seed, 1))
        aligned = {brainiak: align_copies(data["h_align"], data["h_test"], qs, n_features, brainiak=brainiak)
                   for brainiak in {ANALYSES[name]["brainiak"] for name in analyses}}
        for name in analyses:
            setting = ANALYSES[name]
            rsms = copy_rsms(aligned[setting["brainiak"]], setting["similarity"], setting["centre"])
            for space in ("shared", "native"):
                for method in ("pearson", "kendall"):
                    scores[kind, name, space, method] = compare_rsms(rsms[space], rsms["within"], method, setting["part"])
    return scores, data["accuracy"]
