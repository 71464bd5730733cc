"""Analyses of a recorded run (numpy only): SRM per layer and epoch, RSMs, variance explained.

Follows the authors: each image's activity vector is z-scored across units, SRM is fitted on
the fit images with ``k`` equal to the number of units (the smallest network's, where the
networks' widths differ), and everything is evaluated on the test images (ordered by label).
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from itertools import combinations
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ._backend import is_tensor, svd
from ._validate import LAYOUT_HINT, check_activations, check_device, check_layer
from .record import MANIFEST, load_activations
from .rsm import Similarity, compare_rsms, inter_rsm, rsm, within_rsm
from .srm import SRM, procrustes, variance_explained

#: A run's folder (as :func:`~nnsrm_utils.experiment.run_experiment` returns it); the functions that
#: also take ``dict`` accept what :func:`read_run` returns, to read the manifest once.
Run = str | os.PathLike


def read_run(run: Run) -> dict:
    """The run's manifest, with the logged epochs, layer names and test labels added.

    Parameters
    ----------
    run : str or os.PathLike
        A run folder (:func:`~nnsrm_utils.experiment.run_experiment`).

    Returns
    -------
    dict
        ``manifest.json``'s entries, plus ``"layers"`` (the recorded layer names),
        ``"epochs"`` (the logged epochs), ``"test_labels"`` (``(n_test,)``, the labels of the
        test images, which follow the ``n_fit`` fit images) and ``"path"`` (the folder).

    Raises
    ------
    FileNotFoundError
        If ``run`` or its first network's epoch-0 recording has no ``manifest.json``.

    Examples
    --------
    A run folder made by hand, as :func:`~nnsrm_utils.experiment.run_experiment` lays it out
    (a manifest, and per network a recording per logged epoch), so that the example is fast:

    >>> import json, shutil, tempfile, torch
    >>> from nnsrm_utils.record import record_activations
    >>> run, x = Path(tempfile.mkdtemp()), torch.eye(3)[[0, 1, 2, 0, 1, 2]]   # 6 one-hot "images": 3 fit, 3 test
    >>> for i, net in enumerate([torch.nn.Identity(), torch.nn.Softmin(1)]):   # two "networks", their logits
    ...     _ = record_activations(net, {"logits": net}, x, run / f"net{i:02d}" / "activations_epoch000")
    >>> _ = (run / "manifest.json").write_text(json.dumps({"seeds": [0, 1], "n_fit": 3,
    ...     "analysis_labels": [0, 1, 2, 0, 1, 2], "train_config": {"logged_epochs": [0]}}))
    >>> manifest = read_run(run)
    >>> manifest["layers"], manifest["epochs"], manifest["test_labels"]
    (['logits'], [0], array([0, 1, 2]))
    >>> shutil.rmtree(run)
    """
    run = Path(run)
    manifest = json.loads((run / MANIFEST).read_text())
    first = run / "net00" / "activations_epoch000"
    manifest["layers"] = list(json.loads((first / MANIFEST).read_text())["layers"])
    manifest["epochs"] = list(manifest["train_config"]["logged_epochs"])
    manifest["test_labels"] = np.asarray(manifest["analysis_labels"][manifest["n_fit"]:])
    manifest["path"] = run
    return manifest


def zscore_examples(x: NDArray) -> NDArray[np.float64]:
    """The authors' normalisation: z-score each example's vector across units.

    Parameters
    ----------
    x : numpy.ndarray
        ``(n_units, n_examples)`` activations.

    Returns
    -------
    numpy.ndarray
        ``(n_units, n_examples)``: each column with mean 0 and standard deviation 1 over the
        units (a constant column only centred).

    Examples
    --------
    >>> import numpy as np
    >>> z = zscore_examples(np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]]))   # 3 units, 2 examples
    >>> z.round(3)
    array([[-1.225,  0.   ],
           [ 0.   ,  0.   ],
           [ 1.225,  0.   ]])
    """
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1)


def load_activity(run: Run | dict, layer: str, epoch: int) -> list[NDArray[np.float32]]:
    """The recorded activity of every network on all analysis images (fit and test), as recorded.

    Parameters
    ----------
    run : str, os.PathLike or dict
        A run folder, or :func:`read_run`'s manifest of one.
    layer : str
        A recorded layer (``read_run(run)["layers"]``).
    epoch : int
        A logged epoch (``read_run(run)["epochs"]``).

    Returns
    -------
    list of numpy.ndarray
        One float32 ``(n_units, n_fit + n_test)`` array per network, in seed order.

    Raises
    ------
    FileNotFoundError
        If the epoch was not recorded.
    KeyError
        If the layer was not recorded.
    ValueError
        If a recorded file does not match its checksum (:func:`~nnsrm_utils.record.load_activations`).

    Examples
    --------
    A run folder made by hand (see :func:`read_run`):

    >>> import json, shutil, tempfile, torch
    >>> from nnsrm_utils.record import record_activations
    >>> run, x = Path(tempfile.mkdtemp()), torch.eye(3)[[0, 1, 2, 0, 1, 2]]   # 6 one-hot "images": 3 fit, 3 test
    >>> for i, net in enumerate([torch.nn.Identity(), torch.nn.Softmin(1)]):   # two "networks", their logits
    ...     _ = record_activations(net, {"logits": net}, x, run / f"net{i:02d}" / "activations_epoch000")
    >>> _ = (run / "manifest.json").write_text(json.dumps({"seeds": [0, 1], "n_fit": 3,
    ...     "analysis_labels": [0, 1, 2, 0, 1, 2], "train_config": {"logged_epochs": [0]}}))
    >>> [x.shape for x in load_activity(run, "logits", 0)]   # 3 units, 6 images, per network
    [(3, 6), (3, 6)]
    >>> shutil.rmtree(run)
    """
    run = read_run(run) if not isinstance(run, dict) else run
    return [load_activations(run["path"] / f"net{i:02d}" / f"activations_epoch{epoch:03d}", layer)
            for i in range(len(run["seeds"]))]


def load_layer(run: Run | dict, layer: str, epoch: int) -> tuple[list[NDArray], list[NDArray]]:
    """Every network's activity, z-scored per example (:func:`zscore_examples`) and split into the
    fit and the test images.

    Parameters
    ----------
    run : str, os.PathLike or dict
        A run folder, or :func:`read_run`'s manifest of one.
    layer : str
        A recorded layer.
    epoch : int
        A logged epoch.

    Returns
    -------
    fit, test : list of numpy.ndarray
        One ``(n_units, n_fit)`` and one ``(n_units, n_test)`` array per network.

    Raises
    ------
    FileNotFoundError, KeyError, ValueError
        As :func:`load_activity`.

    Examples
    --------
    A run folder made by hand (see :func:`read_run`):

    >>> import json, shutil, tempfile, torch
    >>> from nnsrm_utils.record import record_activations
    >>> run, x = Path(tempfile.mkdtemp()), torch.eye(3)[[0, 1, 2, 0, 1, 2]]   # 6 one-hot "images": 3 fit, 3 test
    >>> for i, net in enumerate([torch.nn.Identity(), torch.nn.Softmin(1)]):   # two "networks", their logits
    ...     _ = record_activations(net, {"logits": net}, x, run / f"net{i:02d}" / "activations_epoch000")
    >>> _ = (run / "manifest.json").write_text(json.dumps({"seeds": [0, 1], "n_fit": 3,
    ...     "analysis_labels": [0, 1, 2, 0, 1, 2], "train_config": {"logged_epochs": [0]}}))
    >>> fit, test = load_layer(run, "logits", 0)
    >>> [x.shape for x in fit], [x.shape for x in test]
    ([(3, 3), (3, 3)], [(3, 3), (3, 3)])
    >>> shutil.rmtree(run)
    """
    run = read_run(run) if not isinstance(run, dict) else run
    n_fit = run["n_fit"]
    xs = [zscore_examples(x) for x in load_activity(run, layer, epoch)]
    # copies, not views: a summary that keeps the test part must not keep every image alive
    return [x[:, :n_fit].copy() for x in xs], [x[:, n_fit:].copy() for x in xs]


def held_out_accuracy(run: Run | dict, epoch: int) -> NDArray[np.float64]:
    """Each network's accuracy on the held-out test images, from its recorded logits.

    Parameters
    ----------
    run : str, os.PathLike or dict
        A run folder, or :func:`read_run`'s manifest of one.
    epoch : int
        A logged epoch.

    Returns
    -------
    numpy.ndarray
        ``(n_networks,)``: the share of test images whose largest logit is their label's.

    Raises
    ------
    FileNotFoundError, KeyError, ValueError
        As :func:`load_activity` (``"logits"`` must be recorded).

    Examples
    --------
    A run folder made by hand (see :func:`read_run`); network 1 always picks a wrong class:

    >>> import json, shutil, tempfile, torch
    >>> from nnsrm_utils.record import record_activations
    >>> run, x = Path(tempfile.mkdtemp()), torch.eye(3)[[0, 1, 2, 0, 1, 2]]   # 6 one-hot "images": 3 fit, 3 test
    >>> for i, net in enumerate([torch.nn.Identity(), torch.nn.Softmin(1)]):   # two "networks", their logits
    ...     _ = record_activations(net, {"logits": net}, x, run / f"net{i:02d}" / "activations_epoch000")
    >>> _ = (run / "manifest.json").write_text(json.dumps({"seeds": [0, 1], "n_fit": 3,
    ...     "analysis_labels": [0, 1, 2, 0, 1, 2], "train_config": {"logged_epochs": [0]}}))
    >>> held_out_accuracy(run, 0)
    array([1., 0.])
    >>> shutil.rmtree(run)
    """
    run = read_run(run) if not isinstance(run, dict) else run
    return np.array([np.mean(x[:, run["n_fit"]:].argmax(axis=0) == run["test_labels"])
                     for x in load_activity(run, "logits", epoch)])


def align_layer(fit: Sequence[NDArray], test: Sequence[NDArray], n_iter: int = 10,
                centre: bool = True) -> tuple[SRM, list[NDArray]]:
    """SRM with ``k`` = the smallest layer width, fitted on ``fit``; returns the model and shared test data.

    Parameters
    ----------
    fit, test : sequence of numpy.ndarray
        One ``(n_units_i, n_fit)`` and one ``(n_units_i, n_test)`` array per network (as
        :func:`load_layer` returns them).
    n_iter : int
        EM iterations of :class:`~nnsrm_utils.srm.SRM` (seeded with ``random_state=0``).
    centre : bool
        As in :meth:`SRM.transform <nnsrm_utils.srm.SRM.transform>`: True ``W_i^T (X_i - mu_i)``,
        False ``W_i^T X_i`` (each network's mean response kept: the shared responses to compare
        with RSMs of uncentred activity).

    Returns
    -------
    model : nnsrm_utils.srm.SRM
        The fitted model.
    shared : list of numpy.ndarray
        Each network's test data in the shared space, ``(k, n_test)``.

    Raises
    ------
    ValueError
        As :meth:`SRM.fit <nnsrm_utils.srm.SRM.fit>` and :meth:`~nnsrm_utils.srm.SRM.transform`
        (fewer than two networks, examples that differ between networks, NaN values).

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> S = rng.standard_normal((4, 30))   # one response to 30 images: 20 to fit, 10 to test
    >>> xs = [random_orthogonal(4, i) @ S + 0.1 * rng.standard_normal((4, 30)) for i in range(3)]   # 3 networks
    >>> model, shared = align_layer([x[:, :20] for x in xs], [x[:, 20:] for x in xs])
    >>> model.n_features, [z.shape for z in shared]
    (4, [(4, 10), (4, 10), (4, 10)])
    """
    fit = check_layer(fit, "fit", min_networks=2)  # before min() below, which an empty list would fail
    model = SRM(n_features=min(x.shape[0] for x in fit), n_iter=n_iter, random_state=0).fit(fit)
    return model, model.transform(test, centre=centre)


def layer_summary(fit: Sequence[NDArray], test: Sequence[NDArray], similarity: Similarity = "pearson",
                  device: str | None = None, activity: bool = True) -> dict:
    """Per-layer numbers of the paper's Fig. 3, the RSMs of Fig. 1B and the test data behind Fig. 1A.

    SRM is fitted on ``fit`` (:func:`align_layer`) and everything is evaluated on ``test``, the
    RSMs on uncentred activity in both spaces (the shared responses are ``W_i^T X_i``).

    Parameters
    ----------
    fit, test : sequence of numpy.ndarray
        One ``(n_units_i, n_fit)`` and one ``(n_units_i, n_test)`` array per network.
    similarity : {"pearson", "cosine", "gram"}
        The RSMs' similarity (:mod:`nnsrm_utils.rsm`).
    device : str, optional
        A torch device (e.g. ``"cuda"``) to compute on, with the numpy path's precision (large
        products in the activations' dtype, sums in float64), so the results agree to that
        dtype's rounding; they are numpy arrays either way.  None: numpy.
    activity : bool
        Keep ``"native"`` and ``"shared"``, the test activity in both spaces (for plots of the
        class means).  They are most of a summary's memory: at the ``colab`` profile (float32
        activity) 160 MB for a layer of 1,000 units, against 48 MB for its three RSMs.

    Returns
    -------
    dict
        ``"variance_explained"`` and ``"variance_explained_loo"`` (``(n_networks,)``, the
        authors' and leave-one-network-out, :func:`~nnsrm_utils.srm.variance_explained`),
        ``"w_rsm"``, ``"i_rsm_shared"`` and ``"i_rsm_native"`` (``(n_test, n_test)``),
        ``"pairwise_w_rsm_r"`` (``(n_networks,)``, :func:`per_network_mean_pairwise`),
        ``"native"`` (``test``) and ``"shared"`` (``(k, n_test)`` per network), if ``activity``.

    Raises
    ------
    ValueError
        As :func:`align_layer` and the RSM functions, and for a CUDA device without CUDA.

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> S = rng.standard_normal((4, 30))   # one response to 30 images: 20 to fit, 10 to test
    >>> xs = [random_orthogonal(4, i) @ S + 0.1 * rng.standard_normal((4, 30)) for i in range(3)]   # 3 networks
    >>> summary = layer_summary([x[:, :20] for x in xs], [x[:, 20:] for x in xs])
    >>> summary["variance_explained_loo"].round(2), summary["w_rsm"].shape
    (array([0.97, 0.96, 0.98]), (10, 10))
    >>> on_torch = layer_summary([x[:, :20] for x in xs], [x[:, 20:] for x in xs], device="cpu")
    >>> bool(np.allclose(on_torch["w_rsm"], summary["w_rsm"], rtol=0, atol=1e-12))   # float64 here
    True
    """
    native = test
    if device is not None:  # the same code on tensors there (the geometry's torch backend)
        import torch

        device = check_device(device)
        fit, test = ([torch.as_tensor(np.asarray(x)).to(device) for x in xs] for xs in (fit, test))
    # The RSMs are of the activity as it is (the paper's), so the shared responses they are compared
    # with keep each network's mean response too (W_i^T X_i, as the authors' BrainIAK transform):
    # centring only the shared side would compare two different geometries (chapter 5).
    model, shared = align_layer(fit, test, centre=False)
    summary = {
        "variance_explained": variance_explained(model, test),
        "variance_explained_loo": variance_explained(model, test, leave_one_out=True),
        "w_rsm": within_rsm(test, similarity),
        "i_rsm_shared": inter_rsm(shared, similarity),
        "i_rsm_native": inter_rsm(test, similarity),
        "pairwise_w_rsm_r": per_network_mean_pairwise(test, similarity),
    }
    if activity:
        summary |= {"native": native, "shared": shared}
    return {key: _to_numpy(value) for key, value in summary.items()}


#: The treatments of the units' means that :func:`shared_agreement` compares, in its order.
TREATMENTS = ("as recorded", "common mean", "both centred", "shared side centred")


def shared_agreement(fit: Sequence[NDArray], test: Sequence[NDArray],
                     similarity: Similarity = "pearson") -> dict[str, float]:
    """r(shared-space iRSM, wRSM) under four treatments of the units' means (chapter 5).

    SRM is fitted on ``fit`` (:func:`align_layer`); ``mu_i`` are its unit means, learned on
    ``fit``.  The three treatments that handle both sides alike give 1 for orthogonal copies
    of one response with cosine RSMs; with Pearson RSMs, which a rotation changes, they need not
    (chapter 2).

    Parameters
    ----------
    fit, test : sequence of numpy.ndarray
        As for :func:`layer_summary` (numpy arrays).
    similarity : {"pearson", "cosine", "gram"}
        The RSMs' similarity.

    Returns
    -------
    dict
        ``"as recorded"``: ``W_i^T X_i`` against the wRSM of ``X_i`` (:func:`layer_summary`'s);
        ``"common mean"``: the same with each network's mapped mean ``W_i^T mu_i`` replaced by
        their average (what the networks' differing means cost); ``"both centred"``:
        ``W_i^T (X_i - mu_i)`` against the wRSM of ``X_i - mu_i``; ``"shared side centred"``:
        ``W_i^T (X_i - mu_i)`` against the wRSM of ``X_i``, a mix of two geometries.

    Raises
    ------
    ValueError
        As :func:`align_layer` and the RSM functions.

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> S = rng.standard_normal((4, 30)) + 3   # units with large means
    >>> xs = [random_orthogonal(4, i) @ S for i in range(3)]
    >>> {k: round(v, 2) for k, v in shared_agreement([x[:, :20] for x in xs], [x[:, 20:] for x in xs], "cosine").items()}
    {'as recorded': 1.0, 'common mean': 1.0, 'both centred': 1.0, 'shared side centred': 0.35}
    """
    model, centred = align_layer(fit, test)
    means = [w.T @ mu for w, mu in zip(model.w_, model.mu_)]
    common = np.mean(means, axis=0)[:, None]
    w_rsm, i_rsm_centred = within_rsm(test, similarity), inter_rsm(centred, similarity)

    def r(i_rsm, w):
        return float(compare_rsms(i_rsm, w))

    return dict(zip(TREATMENTS, (
        r(inter_rsm([z + m[:, None] for z, m in zip(centred, means)], similarity), w_rsm),
        r(inter_rsm([z + common for z in centred], similarity), w_rsm),
        r(i_rsm_centred, within_rsm([x - mu[:, None] for x, mu in zip(test, model.mu_)], similarity)),
        r(i_rsm_centred, w_rsm))))


def format_shared_agreement(run: Run | dict, first: int, last: int) -> str:
    """:func:`shared_agreement` for every layer of ``run`` at epochs ``first`` and ``last``, as the
    table chapters 5 and 6 print (each cell ``first -> last``).

    Parameters
    ----------
    run : str, os.PathLike or dict
        A run folder, or :func:`read_run`'s manifest of one.
    first, last : int
        Two logged epochs.

    Returns
    -------
    str
        A title line, a header naming :data:`TREATMENTS`, and one row per layer.

    Raises
    ------
    ValueError
        As :func:`load_layer` and :func:`shared_agreement`.

    Examples
    --------
    A recorded run (trains or loads the quick ConvNets, so not run here):

    >>> from nnsrm_utils.experiment import run_experiment
    >>> print(format_shared_agreement(read_run(run_experiment("convnet", "quick")), 0, 3))  # doctest: +SKIP
    r(shared iRSM, wRSM), epoch 0 -> 3
                      as recorded           common mean          both centred   shared side centred
      pool1          0.99 -> 0.99          0.99 -> 0.99          1.00 -> 0.99          0.97 -> 0.98
    ...
    """
    run = read_run(run) if not isinstance(run, dict) else run
    rows = [f"r(shared iRSM, wRSM), epoch {first} -> {last}", " " * 7 + "".join(f"{t:>22}" for t in TREATMENTS)]
    for layer in run["layers"]:
        before, after = (shared_agreement(*load_layer(run, layer, e)) for e in (first, last))
        rows.append(f"{layer:>7}" + "".join(f"{before[t]:>14.2f} -> {after[t]:.2f}" for t in TREATMENTS))
    return "\n".join(rows)


def _to_numpy(x):
    """A tensor (or a list of them) as numpy; numpy arrays unchanged."""
    if isinstance(x, list):
        return [_to_numpy(a) for a in x]
    return x.cpu().numpy() if is_tensor(x) else x


def reference_rsms(run: Run | dict) -> dict[str, NDArray[np.float64]]:
    """RSMs of the test images that a layer's geometry can be read against: ``"pixels"`` (each
    image z-scored across pixels, as activity is across units) and ``"same class"`` (1 for two
    images of one class, else 0: the task's geometry).

    Parameters
    ----------
    run : str, os.PathLike or dict
        A run folder, or :func:`read_run`'s manifest of one.

    Returns
    -------
    dict
        ``{"pixels": ..., "same class": ...}``, each ``(n_test, n_test)``.

    Examples
    --------
    The test images of a recorded run (loads its dataset, so not run here):

    >>> from nnsrm_utils.experiment import run_experiment
    >>> rsms = reference_rsms(read_run(run_experiment("convnet", "quick")))  # doctest: +SKIP
    >>> {name: r.shape for name, r in rsms.items()}  # doctest: +SKIP
    {'pixels': (400, 400), 'same class': (400, 400)}
    """
    from . import data

    run = read_run(run) if not isinstance(run, dict) else run
    images = data.load_images(run["dataset"])
    x = data.preprocess(images, images.x_test[run["analysis_indices"][run["n_fit"]:]])
    labels = run["test_labels"]
    return {"pixels": rsm(zscore_examples(x.reshape(len(x), -1).T)),
            "same class": (labels[:, None] == labels[None, :]).astype(float)}


def before_and_after(summaries: Mapping[tuple[str, int], dict], layers: Sequence[str], first: int, last: int,
                     references: Mapping[str, NDArray] | None = None) -> str:
    """A table, as text: per layer, the numbers of :func:`layer_summary` at epoch ``first`` and
    at epoch ``last`` (``summaries`` maps ``(layer, epoch)`` to a summary).  Columns: variance
    explained (the authors'; leave-one-network-out), the iRSM's correlation with the wRSM (shared
    space; native spaces), the mean pairwise correlation of the networks' RSMs, and the wRSM's
    correlation with each of ``references`` (name -> RSM, e.g. :func:`reference_rsms`).

    Returns
    -------
    str
        The table, one row per layer (:func:`format_before_and_after`).

    Raises
    ------
    KeyError
        If ``summaries`` lacks a ``(layer, epoch)`` of ``layers`` at ``first`` or ``last``.

    Examples
    --------
    The same three networks before training (unrelated noise) and after (one shared response):

    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> S = rng.standard_normal((4, 30))   # one response to 30 images: 20 to fit, 10 to test
    >>> xs = [random_orthogonal(4, i) @ S + 0.1 * rng.standard_normal((4, 30)) for i in range(3)]   # 3 networks
    >>> noise = [rng.standard_normal((4, 30)) for _ in range(3)]
    >>> summaries = {("dense", e): layer_summary([x[:, :20] for x in nets], [x[:, 20:] for x in nets])
    ...              for e, nets in ((0, noise), (3, xs))}
    >>> print(before_and_after(summaries, ["dense"], 0, 3))
      epoch               VE       VE (LOO)    iRSM shared    iRSM native  RSMs pairwise
                      0 -> 3         0 -> 3         0 -> 3         0 -> 3         0 -> 3
      dense     0.41 -> 0.99  -0.34 -> 0.97   0.12 -> 0.72  0.16 -> -0.15  -0.11 -> 0.68
    """
    columns = {"VE": lambda s: s["variance_explained"].mean(),
               "VE (LOO)": lambda s: s["variance_explained_loo"].mean(),
               "iRSM shared": lambda s: compare_rsms(s["i_rsm_shared"], s["w_rsm"]),
               "iRSM native": lambda s: compare_rsms(s["i_rsm_native"], s["w_rsm"]),
               "RSMs pairwise": lambda s: s["pairwise_w_rsm_r"].mean()}
    columns |= {f"wRSM~{name}": (lambda r: lambda s: compare_rsms(s["w_rsm"], r))(r)
                for name, r in (references or {}).items()}
    numbers = {c: {layer: tuple(f(summaries[layer, e]) for e in (first, last)) for layer in layers}
               for c, f in columns.items()}
    return format_before_and_after(numbers, layers, first, last)


def format_before_and_after(numbers: Mapping[str, Mapping[str, tuple[float, float]]], layers: Sequence[str],
                            first: int, last: int) -> str:
    """The text of :func:`before_and_after`: ``numbers`` maps a column to ``{layer: (value at
    first, value at last)}``; a results artifact prints the same table from its stored numbers.

    Returns
    -------
    str
        A header of two lines, then one line per layer of ``layers``, values to 2 decimals.

    Raises
    ------
    KeyError
        If a column of ``numbers`` lacks one of ``layers``.

    Examples
    --------
    >>> print(format_before_and_after({"VE": {"dense": (0.7312, 0.91)}}, ["dense"], 0, 3))
      epoch              VE
                     0 -> 3
      dense    0.73 -> 0.91
    """
    width = max(14, *(len(c) + 2 for c in numbers))
    lines = [f"{'epoch':>7}  " + "".join(f"{c:>{width}}" for c in numbers),
             f"{'':>7}  " + "".join(f"{f'{first} -> {last}':>{width}}" for _ in numbers)]
    for layer in layers:
        lines.append(f"{layer:>7}  " + "".join(
            f"{' -> '.join(f'{v:.2f}' for v in column[layer]):>{width}}" for column in numbers.values()))
    return "\n".join(lines)


def per_network_mean_pairwise(test: Sequence[NDArray], similarity: Similarity = "pearson") -> NDArray[np.float64]:
    """For each network, its mean RSM correlation with every other network (for CIs over networks).

    Parameters
    ----------
    test : sequence of numpy.ndarray
        One ``(n_units_i, n_examples)`` array per network, at least two.
    similarity : {"pearson", "cosine", "gram"}
        The RSMs' similarity.

    Returns
    -------
    numpy.ndarray
        ``(n_networks,)``: network ``i``'s mean Pearson correlation (lower triangles,
        :func:`~nnsrm_utils.rsm.compare_rsms`) with the other networks' RSMs.

    Raises
    ------
    ValueError
        Fewer than two networks, or as :func:`~nnsrm_utils.rsm.rsm` and
        :func:`~nnsrm_utils.rsm.compare_rsms`.

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> S = rng.standard_normal((4, 30))   # one response to 30 images: 20 to fit, 10 to test
    >>> xs = [random_orthogonal(4, i) @ S + 0.1 * rng.standard_normal((4, 30)) for i in range(3)]   # 3 networks
    >>> per_network_mean_pairwise([x[:, 20:] for x in xs]).round(2)
    array([0.64, 0.77, 0.65])
    """
    if isinstance(test, np.ndarray) or len(test) < 2:
        raise ValueError(f"test must be a list of at least two networks' (n_units, n_examples) arrays; got "
                         f"{'one array' if isinstance(test, np.ndarray) else len(test)}")
    rsms = [rsm(x, similarity) for x in test]
    r = np.ones((len(rsms), len(rsms)))
    for i, j in combinations(range(len(rsms)), 2):
        r[i, j] = r[j, i] = compare_rsms(rsms[i], rsms[j])
    return (r.sum(axis=1) - 1) / (len(rsms) - 1)


def rotate_to_last_frame(summaries: Sequence[dict]) -> list[tuple[list[NDArray], list[NDArray]]]:
    """Native and shared test responses over training, comparable from frame to frame.

    ``summaries`` are :func:`layer_summary` results of one layer at successive epochs, made with
    ``activity=True`` (the responses are read from them; without, a ``KeyError``).  Each
    epoch has its own SRM fit, hence its own arbitrary rotation of the shared space; each is
    rotated onto the last epoch's (Procrustes on the networks' mean response), so that the
    frames of an animation show real movement.

    Returns
    -------
    list of tuple
        One ``(native, shared)`` pair per epoch: the ``(n_units_i, n_test)`` native responses,
        and the ``(k, n_test)`` shared responses rotated onto the last epoch's shared space.

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> rng = np.random.default_rng(0)
    >>> S = rng.standard_normal((4, 30))   # one response to 30 images: 20 to fit, 10 to test
    >>> xs = [random_orthogonal(4, i) @ S + 0.1 * rng.standard_normal((4, 30)) for i in range(3)]   # 3 networks
    >>> summaries = [layer_summary([x[:, :20] for x in xs], [x[:, 20:] for x in xs]) for _ in range(2)]
    >>> frames = rotate_to_last_frame(summaries)
    >>> len(frames), [z.shape for z in frames[0][1]]
    (2, [(4, 10), (4, 10), (4, 10)])
    """
    target = np.mean(summaries[-1]["shared"], axis=0)
    return [(s["native"], [procrustes(target @ np.mean(s["shared"], axis=0).T) @ z for z in s["shared"]])
            for s in summaries]


def class_means(x: NDArray, labels: NDArray) -> NDArray[np.float64]:
    """Each class's mean response, ``(n_units, n_classes)`` in the order of ``np.unique(labels)``.

    Parameters
    ----------
    x : numpy.ndarray
        ``(n_units, n_examples)`` activations.
    labels : numpy.ndarray
        ``(n_examples,)`` class labels.

    Returns
    -------
    numpy.ndarray
        ``(n_units, n_classes)``.

    Raises
    ------
    ValueError
        If ``x`` is not a finite 2-D array, or ``labels`` does not have one finite entry per
        example (column) of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> class_means(np.array([[1.0, 3.0, 10.0]]), np.array([0, 0, 1]))
    array([[ 2., 10.]])
    """
    x, labels = check_activations(x, "x", min_examples=1), np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"need one label per example; got labels of shape {labels.shape}")
    if x.shape[1] != len(labels):
        raise ValueError(f"{len(labels)} labels for {x.shape[1]} examples ({LAYOUT_HINT})")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError("labels contain NaN or infinite values")
    return np.stack([x[:, labels == c].mean(axis=1) for c in np.unique(labels)], axis=1)


def project_class_means(xs: Sequence[NDArray], labels: NDArray, basis_from: int = 0,
                        onto: Sequence[NDArray] | None = None) -> NDArray[np.float64]:
    """Every network's class means on the top two principal components of network ``basis_from``'s
    class means (Fig. 1A), ``(n_networks, 2, n_classes)``.

    ``onto`` takes the components from other networks of the same space instead (an animation's
    last frame, so that every frame uses one projection); ``xs`` are ``(n_units, n_examples)``
    arrays over the same examples, labelled by ``labels``.

    Returns
    -------
    numpy.ndarray
        ``(n_networks, 2, n_classes)``: each network's class means on the two components,
        classes in the order of ``np.unique(labels)``.

    Raises
    ------
    ValueError
        If ``xs`` is not a list of finite 2-D arrays of one width over the same examples,
        ``basis_from`` does not index one of them, or ``labels`` does not have one finite entry
        per example (:func:`class_means`).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((5, 40))
    >>> project_class_means([x, -x], np.repeat([0, 1, 2, 3], 10)).shape
    (2, 2, 4)
    """
    xs = check_layer(xs, "xs", min_networks=1, min_examples=1, same_units=True)
    if isinstance(basis_from, bool) or not isinstance(basis_from, (int, np.integer)) or not 0 <= basis_from < len(xs):
        raise ValueError(f"basis_from must index one of the {len(xs)} networks; got {basis_from!r}")
    means = [class_means(x, labels) for x in xs]
    target = means[basis_from] if onto is None else class_means(onto[basis_from], labels)
    centre = target.mean(axis=1, keepdims=True)
    basis = svd(target - centre, full_matrices=False)[0][:, :2]
    return np.stack([basis.T @ (m - centre) for m in means])
