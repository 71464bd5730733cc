"""The orthogonal-transform simulation of the paper (Fig. 2; chapter 4).

A small non-linear network learns XOR; its hidden layer is copied ``N`` times,
each copy rotated by its own orthogonal (or permutation) matrix.  The copies
share one geometry by construction, so SRM should find it: the inter-network
RSM in the shared space should match the within-network RSM, while in the
native space (no alignment) it should not.

Training uses torch (imported only here); the analysis is numpy.
"""
import numpy as np

from . import transforms
from .rsm import compare_rsms, inter_rsm, within_rsm
from .srm import SRM

CORNERS = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])


def xor_clouds(n_per_cloud=50, noise=0.35, random_state=None):
    """Four Gaussian clouds on the corners of a square; label 1 where the signs differ.

    Returns inputs ``(n, 2)`` (rows are examples, as torch expects) and labels ``(n,)``.
    The clouds are centred on the corners (the authors' noise had mean 1, which
    shifted every cloud by (+1, +1); harmless for the task, but not intended).
    """
    rng = np.random.default_rng(random_state)
    x = np.repeat(CORNERS, n_per_cloud, axis=0) + noise * rng.standard_normal((4 * n_per_cloud, 2))
    y = (np.repeat(CORNERS[:, 0] * CORNERS[:, 1], n_per_cloud) < 0).astype(float)
    return x, y


def train_xor_net(x, y, n_hidden=50, epochs=1000, lr=3e-3, seed=0):
    """2-``n_hidden``-1 sigmoid network, MSE loss, Adam, full batch (the authors' settings)."""
    import torch

    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, n_hidden), torch.nn.Sigmoid(), torch.nn.Linear(n_hidden, 1), torch.nn.Sigmoid()
    )
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)[:, None]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(xt), yt)
        loss.backward()
        opt.step()
    return net


def hidden_activity(net, x):
    """Hidden-layer activity, ``(n_hidden, n_examples)`` float64."""
    import torch

    with torch.no_grad():
        h = net[1](net[0](torch.as_tensor(x, dtype=torch.float32)))
    return h.numpy().T.astype(np.float64)


def accuracy(net, x, y):
    """The XOR network's accuracy on points ``x`` ``(n, 2)`` with labels ``y`` (output above 0.5 is class 1)."""
    import torch

    with torch.no_grad():
        p = net(torch.as_tensor(x, dtype=torch.float32)).numpy()[:, 0]
    return float(np.mean((p > 0.5) == (y > 0.5)))


def xor_experiment(seed, n_per_cloud=50, n_hidden=50, epochs=1000):
    """Train one XOR network; return its hidden activity on fresh alignment and test points.

    Three independent draws of the clouds: one trains the network, one fits
    SRM (alignment split), one evaluates (test split).  Returns a dict with
    ``h_align``, ``h_test`` (``(n_hidden, 4 * n_per_cloud)``), ``y_test`` and
    the test ``accuracy``.
    """
    ss = np.random.SeedSequence(seed).spawn(3)
    x_train, y_train = xor_clouds(n_per_cloud, random_state=ss[0])
    x_align, _ = xor_clouds(n_per_cloud, random_state=ss[1])
    x_test, y_test = xor_clouds(n_per_cloud, random_state=ss[2])
    net = train_xor_net(x_train, y_train, n_hidden, epochs, seed=seed)
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


def network_copies(n_units, n_copies=10, transform="orthogonal", random_state=None):
    """``n_copies`` independent ``(n_units, n_units)`` transforms of the kind named."""
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {tuple(TRANSFORMS)}; got {transform!r}")
    seeds = np.random.SeedSequence(random_state).spawn(n_copies)
    return [TRANSFORMS[transform](n_units, s) for s in seeds]


def align_copies(h_align, h_test, qs, n_features=50, srm_seed=0):
    """Make the copies, fit SRM on the alignment split and map the test split into the shared space.

    Returns a dict with the copies' test responses in their native spaces (``native``), the
    same centred with SRM's unit means (``centred``) and in the shared space (``shared``).
    """
    test = [q @ h_test for q in qs]
    srm = SRM(n_features=n_features, n_iter=10, random_state=srm_seed).fit([q @ h_align for q in qs])
    return {"native": test, "centred": [x - mu[:, None] for x, mu in zip(test, srm.mu_)],
            "shared": srm.transform(test)}


def copy_rsms(aligned, similarity="pearson", centre=False):
    """The three RSMs of the simulation on the test split, from :func:`align_copies`.

    ``within``: wRSM of the copies in their native spaces.  ``shared``: iRSM after SRM.
    ``native``: iRSM without alignment.  ``centre=True`` computes the native RSMs from
    activity centred with the SRM unit means, matching the centring of the shared space.
    """
    native = aligned["centred" if centre else "native"]
    return {
        "within": within_rsm(native, similarity),
        "shared": inter_rsm(aligned["shared"], similarity),
        "native": inter_rsm(native, similarity),
    }


# The two ways of scoring a run: the authors' (Pearson RSMs of uncentred activity,
# correlated over the full matrices, diagonal included) and the one for which
# Proposition 1 is exact (cosine RSMs of centred activity, strict lower triangle).
ANALYSES = {
    "as published": {"similarity": "pearson", "centre": False, "part": "full"},
    "cosine, centred": {"similarity": "cosine", "centre": True, "part": "lower"},
}


def simulation_run(seed, n_copies=10, n_features=50, transform_kinds=("orthogonal", "permutation", "qr_uniform")):
    """One run of the simulation: train a network, copy it, align, score.

    Returns ``(scores, accuracy)`` where ``scores`` maps
    ``(transform, analysis, space, method)`` to the correlation between the
    ``space`` ("shared" or "native") iRSM and the wRSM.
    """
    data = xor_experiment(seed)
    scores = {}
    for kind in transform_kinds:
        qs = network_copies(data["h_test"].shape[0], n_copies, kind, random_state=(seed, 1))
        aligned = align_copies(data["h_align"], data["h_test"], qs, n_features)
        for name, setting in ANALYSES.items():
            rsms = copy_rsms(aligned, setting["similarity"], setting["centre"])
            for space in ("shared", "native"):
                for method in ("pearson", "kendall"):
                    scores[kind, name, space, method] = compare_rsms(rsms[space], rsms["within"], method, setting["part"])
    return scores, data["accuracy"]
