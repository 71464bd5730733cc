"""Config -> train -> record: the deep-network runs behind chapters 5 and 6.

A run is a folder (under ``$NNSRM_RUNS``, default ``~/.cache/nnsrm/runs``) named after its
architecture, dataset and profile.  It holds ``manifest.json`` (profile, dataset label, seeds,
training configuration, analysis images, package versions) and one folder per network with
its checkpoints (:mod:`nnsrm_utils.train`) and, per logged epoch, its recorded activations
on the analysis images (:mod:`nnsrm_utils.record`).  Every step is skipped when its output
exists, so an interrupted run resumes where it stopped and a finished run is only loaded.
``.lock`` is held while a process trains or records the run (see :func:`run_experiment`).
The analyses read the folder with numpy alone (:mod:`nnsrm_utils.analysis`).
"""
from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from itertools import islice
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from . import data
from ._validate import check_count
from ._progress import progress_bar
from .profiles import Profile, Variant, get_profile
from .record import MANIFEST, neuron_activity, record_activations, versions

RUNS_ENV = "NNSRM_RUNS"
#: The environment variable (0 or 1) that says whether runs train their networks as one batched
#: model, when a caller leaves it open.
BATCHED_ENV = "NNSRM_BATCHED"
#: A run's wall times, summed over the sessions that trained and recorded it.
TIMING = "timing.json"


def runs_root(root: str | os.PathLike | None = None) -> Path:
    """Where trained runs are kept: ``root``, else ``$NNSRM_RUNS``, else ``~/.cache/nnsrm/runs``.

    Returns
    -------
    pathlib.Path
        The folder, ``~`` expanded (not created).

    Examples
    --------
    >>> runs_root("/data/runs").as_posix()
    '/data/runs'
    """
    return Path(root or os.environ.get(RUNS_ENV) or data.cache_home() / "runs").expanduser()


def run_path(architecture: str, profile: str, dataset: str, root: str | os.PathLike | None = None,
             variant: str | None = None) -> Path:
    """The folder of one run, named after its architecture, dataset, profile and variant.

    Returns
    -------
    pathlib.Path
        ``<runs_root(root)>/<architecture>-<dataset>-<profile>[-<variant>]`` (not created).

    Examples
    --------
    >>> run_path("convnet", "quick", "cifar10", root="/data/runs", variant="random-labels").as_posix()
    '/data/runs/convnet-cifar10-quick-random-labels'
    """
    return runs_root(root) / "-".join([architecture, dataset, profile] + ([variant] if variant else []))


def run_experiment(architecture: Literal["convnet", "resnet18"], profile: str | Profile | None = None,
                   dataset: str | None = None, root: str | os.PathLike | None = None,
                   data_root: str | os.PathLike | None = None, device: str | None = None, progress: bool | None = None,
                   variant: str | None = None, batched: bool | None = None) -> Path:
    """Train the profile's networks, recording activations at every logged epoch; returns the run folder.

    ``variant`` names one of the profile's :class:`~nnsrm_utils.profiles.Variant` (wider or
    narrower networks, random labels), trained into a run folder of its own.  ``progress``:
    show progress bars, for a download too (``None``: only on Colab or in a terminal).
    ``batched``: train all the networks at once as one model (:mod:`nnsrm_utils.batched`; the
    same files) rather than one at a time (``None``: ``$NNSRM_BATCHED``, ``0`` or ``1``, when
    set; otherwise batched on CUDA, one at a time on the CPU).
    A run that another process on the same machine is training (a second notebook, another user
    of one JupyterHub server) is waited for, then loaded: the run folder's ``.lock`` file is held
    meanwhile.  Not on Windows, and not between machines (Colab runtimes on one Drive folder).

    Parameters
    ----------
    architecture : {"convnet", "resnet18"}
        The networks trained.
    profile : str or Profile, optional
        A profile's name or the profile (:mod:`nnsrm_utils.profiles`; None: ``$NNSRM_PROFILE``, else ``quick``).
    dataset : str, optional
        The dataset (None: the profile's).
    root : str or os.PathLike, optional
        Where runs are kept (:func:`runs_root`).
    data_root : str or os.PathLike, optional
        Where datasets are kept (:func:`nnsrm_utils.data.data_root`).
    device : str, optional
        torch's device (None: CUDA when available, else the CPU).
    progress, variant, batched
        As above.

    Returns
    -------
    pathlib.Path
        The run folder (:func:`run_path`), read by :func:`nnsrm_utils.analysis.read_run`.

    Raises
    ------
    ValueError
        If the run folder holds a run of another configuration, for an unknown profile,
        variant or dataset, or for a ``$NNSRM_BATCHED`` other than ``0`` or ``1``.
    FileNotFoundError
        If the dataset is not on this machine and cannot be downloaded.

    Examples
    --------
    Trains four small networks on a CIFAR-10 subset (minutes on a CPU, and the dataset is
    downloaded first), so not run here:

    >>> run = run_experiment("convnet", "quick")  # doctest: +SKIP
    >>> run.name  # doctest: +SKIP
    'convnet-cifar10-jpeg-quick'
    """
    import torch

    from .batched import train_networks
    from .train import load_weights, train_network

    profile = get_profile(profile)
    dataset = dataset or profile.dataset
    images = data.load_images(dataset, root=data_root, progress=progress)
    config = profile.train_config(architecture, len(images.classes), variant)
    v = profile.variant(variant) if variant else Variant()
    run = run_path(architecture, profile.name, dataset, root, variant)
    run.mkdir(parents=True, exist_ok=True)

    seeds = [(profile.seed if v.seed is None else v.seed) + i for i in range(profile.n_networks)]
    # seeds[0] fixes the random labels: training_activity reads it back from the manifest
    train_idx, x_train, y_train = _training_set(images, v.train_subset or profile.train_subset, v.random_labels,
                                                seeds[0])
    fit, test = data.analysis_split(images.y_test, profile.n_fit, profile.n_test)
    analysis_idx = np.concatenate([fit, test])
    x_analysis = data.preprocess(images, images.x_test[analysis_idx])
    manifest = {
        "architecture": architecture, "profile": profile.name, "dataset": dataset, "dataset_label": images.label,
        "variant": variant, "variant_config": asdict(v),
        "classes": list(images.classes), "seeds": seeds, "train_images": len(train_idx),
        "train_config": asdict(config), "max_units": profile.max_units,
        "n_fit": profile.n_fit, "n_test": profile.n_test, "analysis_indices": analysis_idx.tolist(),
        "analysis_labels": images.y_test[analysis_idx].tolist(), "versions": versions(),
    }
    with _locked(run):  # another process asking for this run waits for it, then loads it
        _check_same_run(run, manifest)
        partial = run / f"{MANIFEST}.partial"  # a reader without the lock never sees half a manifest
        partial.write_text(json.dumps(manifest))
        os.replace(partial, run / MANIFEST)

        net_dirs = [run / f"net{i:02d}" for i in range(len(seeds))]
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if batched is None:
            batched = _batched_default(device)
        seconds = {"training": 0.0, "recording": 0.0}
        untimed = not (run / TIMING).exists() and any(d.exists() for d in net_dirs)  # begun before times were kept
        steps = len(seeds) * (config.epochs + len(config.logged_epochs))
        with progress_bar(steps, f"{architecture} ({images.label})", progress, unit="step") as bar:
            start = time.perf_counter()
            if batched:
                train_networks(config, x_train, y_train, seeds, net_dirs, device,
                               progress=lambda epoch, rows: bar.update(len(rows)))
            seconds["training"] += time.perf_counter() - start
            for seed, net_dir in zip(seeds, net_dirs):
                start = time.perf_counter()
                if not batched:
                    train_network(config, x_train, y_train, seed, net_dir, device,
                                  progress=lambda epoch, row: bar.update(1))
                seconds["training"] += time.perf_counter() - start
                start = time.perf_counter()
                for epoch in config.logged_epochs:
                    rec = net_dir / f"activations_epoch{epoch:03d}"
                    if not (rec / MANIFEST).exists():
                        model = load_weights(config, net_dir, epoch, device)
                        record_activations(model, model.analysed_layers, x_analysis, rec,
                                           max_units=profile.max_units, unit_seed=seed, device=device,
                                           metadata={"seed": seed, "epoch": epoch, "profile": profile.name,
                                                     "dataset": images.label})
                    bar.update(1)
                seconds["recording"] += time.perf_counter() - start
        _add_wall_time(run, None if untimed else seconds, device)
    return run


def _batched_default(device):
    """Whether :func:`run_experiment` trains as one batched model when not told: ``$NNSRM_BATCHED``
    (``0`` or ``1``) when set, otherwise on CUDA only (where batching pays; on a CPU it does not)."""
    import torch

    value = os.environ.get(BATCHED_ENV, "")
    if value not in ("", "0", "1"):
        raise ValueError(f"${BATCHED_ENV} must be 0 or 1 (or unset); got {value!r}")
    return value == "1" if value else torch.device(device).type == "cuda"


@contextlib.contextmanager
def _locked(run: Path) -> Iterator[None]:
    """Hold ``run``'s lock file for the block.  Without ``fcntl`` (Windows), where the lock file
    cannot be written, or on a file system without locks (ENOLCK, ENOSYS), the block runs
    unguarded: the lock only spares training a run twice."""
    try:
        import fcntl
        lock = open(run / ".lock", "w")  # the lock goes when the file closes
    except (ImportError, OSError):
        lock = None
    if lock is None:  # outside the except clause: the block's own errors chain to nothing
        yield
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # say why nothing happens (training can take hours)
            print(f"{run}: another process is using this run; waiting for it", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        except OSError:
            pass
        yield


def _add_wall_time(run, seconds, device):
    """Add this call's training and recording ``seconds`` to the run's ``timing.json``: a run
    resumed over several sessions sums them, and a run begun before times were kept (``seconds``
    None) has none (the manifest defines the run, so it holds no times)."""
    path = run / TIMING
    timing = json.loads(path.read_text()) if path.exists() else {"training_s": 0.0, "recording_s": 0.0, "devices": []}
    for key in ("training", "recording"):
        known = seconds is not None and timing[f"{key}_s"] is not None
        timing[f"{key}_s"] = round(timing[f"{key}_s"] + seconds[key], 1) if known else None
    timing["devices"] = sorted(set(timing["devices"]) | {str(device)})
    path.write_text(json.dumps(timing))


def _training_set(images, n_images, random_labels, seed):
    """``(indices, images, labels)`` a run's networks are trained on: ``n_images`` stratified
    training images (None: all), their labels permuted once with ``seed`` if ``random_labels``."""
    train_idx = data.stratified_subset(images.y_train, n_images)
    x_train, y_train = data.preprocess(images, images.x_train[train_idx]), images.y_train[train_idx]
    if random_labels:  # one fixed permutation for every network: the same task, only memorisable
        y_train = np.random.default_rng(seed).permutation(y_train)
    return train_idx, x_train, y_train


def training_activity(run: str | os.PathLike, epoch: int, n_images: int | None = None,
                      data_root: str | os.PathLike | None = None,
                      device: str | None = None) -> tuple[dict[str, list[NDArray[np.float32]]], NDArray]:
    """Every network's recorded layers at ``epoch`` on the images it was *trained* on, as
    Morcos et al. (2018) compared networks: ``({layer: list of (n_units, n_images) arrays},
    labels)``, the labels being the ones the networks were trained with (permuted for a
    random-label variant).

    Recomputed from the checkpoints, with the same units kept as in the run's recordings;
    ``n_images`` keeps a stratified subset of the training images (None: all of them).

    Parameters
    ----------
    run : str or os.PathLike
        A run folder with its checkpoints.
    epoch : int
        A logged epoch.
    n_images : int, optional
        Training images kept (None: all).
    data_root : str or os.PathLike, optional
        Where datasets are kept.
    device : str, optional
        torch's device (None: the CPU).

    Returns
    -------
    activity : dict
        Layer -> one float32 ``(n_units, n_images)`` array per network.
    labels : numpy.ndarray
        ``(n_images,)`` training labels.

    Raises
    ------
    FileNotFoundError
        If the run has no manifest or no checkpoint of ``epoch``, or its dataset is not on this
        machine and cannot be downloaded.

    Examples
    --------
    Needs a trained run and its dataset (recomputed from the checkpoints), so not run here:

    >>> activity, labels = training_activity(run_experiment("convnet", "quick"), 3, n_images=500)  # doctest: +SKIP
    >>> activity["dense"][0].shape, labels.shape  # doctest: +SKIP
    ((300, 500), (500,))
    """
    from .record import layer_outputs

    manifest, images = _saved_run(run, data_root)
    _, x, labels = _training_set(images, manifest["train_images"], manifest["variant_config"]["random_labels"],
                                 manifest["seeds"][0])
    keep = data.stratified_subset(labels, n_images)  # the copy is stored class by class: never "the first n"
    x, labels = x[keep], labels[keep]
    activity = {}
    for seed, model in zip(manifest["seeds"], _networks(run, manifest, epoch, device)):
        outputs = layer_outputs(model, model.analysed_layers, x, max_units=manifest["max_units"], unit_seed=seed,
                                device=device or "cpu")
        for name, out in outputs.items():
            activity.setdefault(name, []).append(out)
    return activity, labels


def checkpoint_accuracy(run: str | os.PathLike, epoch: int, data_root: str | os.PathLike | None = None,
                        device: str | None = None) -> NDArray[np.float64]:
    """Each network's accuracy at ``epoch`` on the run's held-out analysis images (those after
    the ``n_fit`` fitting images), recomputed from the checkpoints: what
    :func:`nnsrm_utils.analysis.held_out_accuracy` reads from recorded logits, for runs that do
    not record them (the ResNet18's analysed layers are its batch norms).

    Parameters
    ----------
    run : str or os.PathLike
        A run folder with its checkpoints.
    epoch : int
        A logged epoch.
    data_root : str or os.PathLike, optional
        Where datasets are kept.
    device : str, optional
        torch's device (None: the CPU).

    Returns
    -------
    numpy.ndarray
        ``(n_networks,)`` accuracies in [0, 1].

    Raises
    ------
    FileNotFoundError
        If the run has no manifest or no checkpoint of ``epoch``, or its dataset is not on this
        machine and cannot be downloaded.

    Examples
    --------
    Needs a trained run and its dataset, so not run here:

    >>> checkpoint_accuracy(run_experiment("resnet18", "quick"), 3).round(2)  # doctest: +SKIP
    array([0.43, 0.45, 0.44, 0.42])
    """
    import torch

    from .train import accuracy

    manifest, images = _saved_run(run, data_root)
    test = np.asarray(manifest["analysis_indices"][manifest["n_fit"]:])
    x, y = data.preprocess(images, images.x_test[test]), images.y_test[test]
    with torch.no_grad():
        return np.array([accuracy(model, x, y, device=device or "cpu")
                         for model in _networks(run, manifest, epoch, device)])


def load_neurons(run: str | os.PathLike, epoch: int, layers: Sequence[str] | None = None, n_images: int = 10_000,
                 max_positions: int = 10_000, relu: bool = True, data_root: str | os.PathLike | None = None,
                 device: str | None = None, networks: int | None = None) -> dict[str, list[NDArray[np.float32]]]:
    """Every network's neurons at ``epoch``, as Wang et al. (2018) define them: layer -> list of arrays.

    Recomputed from the checkpoints on ``n_images`` test images (stratified; Wang et al. used
    the whole test set), with a conv channel as one neuron over ``max_positions`` sampled
    (image, position) pairs (:func:`~nnsrm_utils.record.neuron_activity`).  Each layer maps to
    one ``(n_neurons, n_points)`` array per network, all over the same data points.  With
    ``relu=True`` (theirs) a neuron's activity is its ReLU output: layers recorded before the
    ReLU that follows them (the ConvNet's ``dense``, the ResNet's batch norms) get it here;
    only the ConvNet's ``logits``, the network's output, stay linear.

    Parameters
    ----------
    run : str or os.PathLike
        A run folder with its checkpoints.
    epoch : int
        A logged epoch.
    layers : sequence of str, optional
        The layers (None: every analysed layer).
    n_images, max_positions, relu
        As above.
    data_root : str or os.PathLike, optional
        Where datasets are kept.
    device : str, optional
        torch's device (None: the CPU).
    networks : int, optional
        Only the run's first ``networks`` networks (None: all).

    Returns
    -------
    dict
        Layer -> one float32 ``(n_neurons, n_points)`` array per network.

    Raises
    ------
    FileNotFoundError
        If the run has no manifest or no checkpoint of ``epoch``, or its dataset is not on this
        machine and cannot be downloaded.
    ValueError
        If ``networks`` is not a positive integer.

    Examples
    --------
    Needs a trained run and its dataset (recomputed from the checkpoints), so not run here; the
    ConvNet's ``pool1`` has 32 channels, each a neuron over 10,000 sampled (image, position) points:

    >>> neurons = load_neurons(run_experiment("convnet", "quick"), 3, ["pool1"], n_images=100)  # doctest: +SKIP
    >>> len(neurons["pool1"]), neurons["pool1"][0].shape  # doctest: +SKIP
    (4, (32, 10000))
    """
    if networks is not None:
        check_count(networks, "networks")
    manifest, images = _saved_run(run, data_root)
    x = data.preprocess(images, images.x_test[data.stratified_subset(images.y_test, n_images)])
    per_network = []
    for model in islice(_networks(run, manifest, epoch, device), networks):
        names = layers or list(model.analysed_layers)
        per_network.append(neuron_activity(model, {n: model.analysed_layers[n] for n in names}, x, max_positions,
                                           device=device or "cpu"))
    linear = {"logits"} if relu else set(per_network[0])
    return {name: [net[name] if name in linear else np.maximum(net[name], 0) for net in per_network]
            for name in per_network[0]}


def _saved_run(run, data_root):
    """A trained run's manifest and its dataset (what recomputing from the checkpoints needs)."""
    manifest = json.loads((Path(run) / MANIFEST).read_text())
    return manifest, data.load_images(manifest["dataset"], root=data_root)


def _networks(run, manifest, epoch, device):
    """Each network of the run at ``epoch``, one at a time, on ``device`` (None: the CPU)."""
    from .train import TrainConfig, load_weights

    config = TrainConfig(**manifest["train_config"])
    for i in range(len(manifest["seeds"])):
        yield load_weights(config, Path(run) / f"net{i:02d}", epoch, device or "cpu")


def _check_same_run(run, manifest):
    """Refuse to mix a new configuration into an existing run folder."""
    path = run / MANIFEST
    if not path.exists():
        return
    old = json.loads(path.read_text())
    old["variant_config"] = {**asdict(Variant()), **old.get("variant_config", {})}  # runs from before a field was added
    keys = ("architecture", "profile", "dataset", "seeds", "train_config", "max_units", "analysis_indices",
            "variant_config")
    changed = [k for k in keys if old.get(k) != json.loads(json.dumps(manifest[k]))]
    if changed:
        raise ValueError(f"{run} holds a run with different {changed}; delete it or choose another root")
