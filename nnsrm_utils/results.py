"""A run's results artifact: the small, versioned numbers the book's "At the paper's scale" sections draw.

A trained run (:func:`~nnsrm_utils.experiment.run_experiment`) holds hundreds of megabytes of
recorded activations; its artifact holds what the chapters print and draw (RSMs are kept class-mean sized,
trajectories as 2-D points): an estimated fraction of a MB for CIFAR-10, more for CIFAR-100,
whose class-mean RSMs are 100 x 100 (about 15 MB for a ResNet18 run, by estimate).  It is a folder of three files:

- ``summary.json``: the chapter 7 and 8 summaries (CCA family and CKA between networks,
  layer identification, neuron-match sweeps), the classes, layers and epochs;
- ``arrays.npz``: per layer, arrays over the logged epochs (read with ``allow_pickle=False``);
- ``manifest.json``: schema version, profile, dataset, variant, seeds, hardware, versions, the
  project's git commit, wall time per stage, the SHA-256 of every activation file the
  artifact was computed from, and of the two files above; plus a checksum of itself.

:func:`compute` makes one from a run folder with the analyses of :mod:`~nnsrm_utils.analysis`
and :mod:`~nnsrm_utils.comparison`; :func:`write` writes it without ever replacing an existing
artifact silently; :func:`read` checks the schema version, the manifest's own checksum and the SHA-256 of the
two data files (the activations' checksums are a record of the run, checked by ``analyse``
when it reads the activations), so a corrupt,
truncated or mismatched artifact is a ``ValueError`` naming the problem, never a figure.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from . import analysis, comparison
from ._validate import check_count
from .experiment import TIMING
from .record import MANIFEST, sha256
from .rsm import class_mean_rsm, compare_rsms
from .stats import bootstrap_ci

SCHEMA_VERSION = 1
SUMMARY, ARRAYS = "summary.json", "arrays.npz"
#: The between-network measures an artifact keeps.  RBF CKA is left out, because each layer's
#: kernel has ``n_examples`` squared entries (10^8 at the ``colab`` profile's 10,000 images),
#: computed twice on the CPU for every layer compared (:mod:`nnsrm_utils.comparison`).
MEASURES = ("mean CCA", "SVCCA", "PWCCA", "linear CKA")
#: Wang et al.'s sweep of epsilon values for the maximum match.
EPSILONS = (0.15, 0.2, 0.25, 0.3, 0.5)
#: The per-layer arrays, over the logged epochs, each name with what it holds (shape with E
#: epochs, N networks, C classes).
LAYER_ARRAYS = {
    "variance_explained": "(E, N) SRM variance explained, the authors' measure",
    "variance_explained_loo": "(E, N) leave-one-network-out variance explained",
    "pairwise_w_rsm_r": "(E, N) each network's mean RSM correlation with the others",
    "ci_variance_explained": "(E, 2) 95% bootstrap CI over networks of the mean",
    "ci_variance_explained_loo": "(E, 2) the same, leave-one-network-out",
    "ci_pairwise_w_rsm_r": "(E, 2) the same, pairwise RSM correlation",
    "i_rsm_shared_vs_w": "(E,) r(shared-space iRSM, wRSM), same epoch",
    "i_rsm_native_vs_w": "(E,) r(native-space iRSM, wRSM), same epoch",
    "settling": "(E,) r(shared-space iRSM, final epoch's wRSM): Fig. 3, top",
    "w_rsm_vs_pixels": "(E,) r(wRSM, the pixels' RSM)",
    "w_rsm_vs_same_class": "(E,) r(wRSM, the task's RSM)",
    "class_rsm_w": "(E, C, C) class-mean wRSM",
    "class_rsm_shared": "(E, C, C) class-mean shared-space iRSM",
    "class_rsm_native": "(E, C, C) class-mean native-space iRSM",
    "trajectory_native": "(E, N, 2, C) class means, native spaces, on the last epoch's top two PCs",
    "trajectory_shared": "(E, N, 2, C) the same in the shared space, each epoch rotated onto the last",
}


@dataclass
class Results:
    """One artifact in memory: ``manifest`` and ``summary`` (JSON-able dicts) and ``arrays``
    (name -> array; per-layer arrays are named ``"<name>.<layer>"``, see :data:`LAYER_ARRAYS`).

    Use :meth:`layer` for a per-layer array; ``manifest["layers"]``, ``["epochs"]`` and
    ``summary["classes"]`` say what its axes are.

    Examples
    --------
    A tiny artifact in memory (:func:`compute` makes real ones, :func:`read` reads them):

    >>> import numpy as np
    >>> res = Results({"architecture": "convnet", "dataset": "cifar10", "profile": "quick", "variant": None,
    ...                "layers": ["dense"]}, {}, {"settling.dense": np.array([0.2, 0.9])})
    >>> res.name, res.layer("settling", "dense")
    ('convnet-cifar10-quick', array([0.2, 0.9]))
    """

    manifest: dict
    summary: dict
    arrays: dict = field(default_factory=dict)

    def layer(self, name: str, layer: str) -> NDArray:
        """The per-layer array ``name`` (a key of :data:`LAYER_ARRAYS`) of ``layer``.

        Returns
        -------
        numpy.ndarray
            Its first axis the epochs, ``manifest["epochs"]`` (shapes: :data:`LAYER_ARRAYS`).

        Raises
        ------
        ValueError
            If the artifact has no such array for ``layer``.
        """
        key = f"{name}.{layer}"
        if key not in self.arrays:
            raise ValueError(f"the artifact has no {name!r} for layer {layer!r}; layers: {self.manifest['layers']}")
        return self.arrays[key]

    @property
    def name(self) -> str:
        """``<architecture>-<dataset>-<profile>[-<variant>]``, as the run folder is named."""
        m = self.manifest
        return artifact_name(m["architecture"], m["dataset"], m["profile"], m["variant"])


def artifact_name(architecture: str, dataset: str, profile: str, variant: str | None = None) -> str:
    """The folder name of a run's artifact, the run folder's own: ``convnet-cifar10-colab``.

    Returns
    -------
    str
        ``<architecture>-<dataset>-<profile>[-<variant>]``.

    Examples
    --------
    >>> artifact_name("convnet", "cifar10", "colab", "random-labels")
    'convnet-cifar10-colab-random-labels'
    """
    return "-".join([architecture, dataset, profile] + ([variant] if variant else []))


# ---- computing -------------------------------------------------------------------------------------

def default_device() -> str | None:
    """The device :func:`compute` is given by the command line when none is named: ``"cuda"``
    where torch sees a GPU, else None (numpy on the CPU, where it is faster than torch).

    Returns
    -------
    str or None

    Examples
    --------
    >>> default_device() in ("cuda", None)
    True
    """
    try:
        import torch
    except ImportError:
        return None
    return "cuda" if torch.cuda.is_available() else None


def compute(run: analysis.Run, layers: Sequence[str] | None = None, epochs: Sequence[int] | None = None,
            n_boot: int = 10_000, random_state: int = 0, references: bool = True,
            compare: bool = True, compare_networks: int | None = 5, identify_networks: int | None = 3,
            neurons: bool = True, match_networks: int | None = 5, neuron_images: int = 10_000,
            neuron_positions: int = 10_000, device: str | None = None) -> Results:
    """The artifact of a trained run folder.

    For ``layers`` (None: every recorded layer) and ``epochs`` (None: every logged epoch; the
    last of them is "final" below), per layer and epoch (:func:`~nnsrm_utils.analysis.layer_summary`, test images):
    variance explained both ways and the mean pairwise RSM correlation, each per network with a
    95% bootstrap CI of the mean over networks (``n_boot`` resamples, seeded with
    ``random_state``); the iRSMs' correlations with the wRSM; class-mean RSMs; class-mean
    trajectories (Fig. 1A and the animation); with ``references``, the wRSM's correlation with
    the pixels' and the task's RSMs (loads the run's dataset).  Held-out accuracy per logged
    epoch (from the recorded logits, or recomputed from the checkpoints where the logits are
    not recorded, as for the ResNet18) and the training history.  With ``compare``, chapter 7's summaries at the final
    epoch on all analysis images: :data:`MEASURES` between the first ``compare_networks``
    networks (None: all), trained, untrained (epoch 0, if logged) and with examples shuffled;
    layer identification among the first ``identify_networks``.  With ``neurons``, chapter 8's
    maximum-match sweeps over :data:`EPSILONS` between the first ``match_networks`` networks (None: all; the
    default 5 gives 10 pairs, as for chapter 7's summaries; all 10 of the ``colab`` profile's, 45),
    from neurons recomputed from the checkpoints (needs torch and the dataset;
    ``neuron_images``, ``neuron_positions``: see :func:`~nnsrm_utils.experiment.load_neurons`).
    ``device`` (a torch device, e.g. ``"cuda"``; None: numpy and the CPU): where the per-layer
    SRM fits and RSMs run (:func:`~nnsrm_utils.analysis.layer_summary`) and the neurons
    are recomputed.

    Parameters
    ----------
    run : str or os.PathLike
        A run folder, as :func:`~nnsrm_utils.experiment.run_experiment` returns it.
    layers, epochs, n_boot, random_state, references, compare, compare_networks, identify_networks, neurons, \
match_networks, neuron_images, neuron_positions, device
        As above.

    Returns
    -------
    Results

    Raises
    ------
    ValueError
        If ``run`` is not a recorded run folder, a layer or epoch is not recorded in it, or
        ``n_boot`` or a number of networks is not a positive integer (at least 2 networks).

    Examples
    --------
    >>> compute("no/such/run")
    Traceback (most recent call last):
    ...
    ValueError: no/such/run is not a run folder (no manifest.json); make one with python -m nnsrm_utils run
    """
    path = Path(run)
    if not (path / MANIFEST).is_file():
        raise ValueError(f"{run} is not a run folder (no {MANIFEST}); make one with python -m nnsrm_utils run")
    for name, n in (("n_boot", n_boot), ("compare_networks", compare_networks),
                    ("identify_networks", identify_networks), ("match_networks", match_networks)):
        if n is not None:
            check_count(n, name, 1 if name == "n_boot" else 2)
    run = analysis.read_run(path)
    for name, chosen in (("layers", layers), ("epochs", epochs)):
        unknown = [] if chosen is None else [c for c in chosen if c not in run[name]]
        if unknown or (chosen is not None and len(chosen) == 0):
            raise ValueError(f"{name} {unknown or chosen} not recorded in {path}; choose from {run[name]}")
    run["run_epochs"], run["recorded"] = run["epochs"], run["layers"]
    run["layers"], run["epochs"] = list(layers or run["layers"]), sorted(epochs or run["epochs"])
    labels = run["test_labels"]
    settings = {"n_boot": n_boot, "random_state": random_state, "ci": 0.95, "references": references,
                "compare": compare, "compare_networks": compare_networks, "identify_networks": identify_networks,
                "neurons": neurons, "match_networks": match_networks, "neuron_images": neuron_images,
                "neuron_positions": neuron_positions, "measures": list(MEASURES), "epsilons": list(EPSILONS),
                "device": None if device is None else str(device)}
    arrays, summary, wall = {}, {"classes": list(run["classes"]), "class_indices": np.unique(labels).tolist()}, {}

    start = time.perf_counter()
    refs = analysis.reference_rsms(run) if references else {}
    for layer in run["layers"]:
        arrays |= {f"{k}.{layer}": v
                   for k, v in _layer_arrays(run, layer, labels, refs, n_boot, random_state, device).items()}
    arrays["held_out_accuracy"] = np.stack([_held_out_accuracy(run, e, device) for e in run["epochs"]])
    arrays |= _history(path, len(run["seeds"]))
    wall["srm"] = time.perf_counter() - start
    if compare:
        start = time.perf_counter()
        summary["comparisons"] = _comparisons(run, compare_networks, identify_networks, random_state)
        wall["comparisons"] = time.perf_counter() - start
    if neurons:
        start = time.perf_counter()
        summary["neurons"] = _neuron_matches(run, match_networks, neuron_images, neuron_positions, device,
                                             random_state)
        wall["neurons"] = time.perf_counter() - start
    return Results(_manifest(run, path, settings, wall), summary, arrays)


def _layer_arrays(run, layer, labels, refs, n_boot, seed, device):
    """:data:`LAYER_ARRAYS` of one layer, from one SRM per logged epoch."""
    summaries = [analysis.layer_summary(*analysis.load_layer(run, layer, e), device=device) for e in run["epochs"]]
    final_w = summaries[-1]["w_rsm"]
    out = {key: np.stack([s[key] for s in summaries])
           for key in ("variance_explained", "variance_explained_loo", "pairwise_w_rsm_r")}
    for key in list(out):
        out[f"ci_{key}"] = np.array([bootstrap_ci(v, n_boot=n_boot, random_state=seed) for v in out[key]])
    columns = {"i_rsm_shared_vs_w": lambda s: compare_rsms(s["i_rsm_shared"], s["w_rsm"]),
               "i_rsm_native_vs_w": lambda s: compare_rsms(s["i_rsm_native"], s["w_rsm"]),
               "settling": lambda s: compare_rsms(s["i_rsm_shared"], final_w)}
    if refs:
        columns |= {"w_rsm_vs_pixels": lambda s: compare_rsms(s["w_rsm"], refs["pixels"]),
                    "w_rsm_vs_same_class": lambda s: compare_rsms(s["w_rsm"], refs["same class"])}
    out |= {key: np.array([f(s) for s in summaries]) for key, f in columns.items()}
    for key, rsm_key in (("class_rsm_w", "w_rsm"), ("class_rsm_shared", "i_rsm_shared"),
                         ("class_rsm_native", "i_rsm_native")):
        out[key] = np.stack([class_mean_rsm(s[rsm_key], labels) for s in summaries])
    frames = analysis.rotate_to_last_frame(summaries)
    for p, space in enumerate(("native", "shared")):
        out[f"trajectory_{space}"] = np.stack([analysis.project_class_means(f[p], labels, onto=frames[-1][p])
                                               for f in frames])
    return out


def _held_out_accuracy(run, epoch, device):
    """From the recorded logits, else (a ResNet18 run) from the checkpoints."""
    if "logits" in run["recorded"]:
        return analysis.held_out_accuracy(run, epoch)
    from .experiment import checkpoint_accuracy

    return checkpoint_accuracy(run["path"], epoch, device=device)


def _history(path, n_networks):
    """Training loss and accuracy per epoch ``(N, epochs)``, from each network's ``history.json``."""
    files = [path / f"net{i:02d}" / "history.json" for i in range(n_networks)]
    if not all(f.is_file() for f in files):
        return {}
    rows = [json.loads(f.read_text()) for f in files]
    return {f"train_{key}": np.array([[r[key] for r in h] for h in rows]) for key in ("loss", "accuracy")}


def _comparisons(run, n_compare, n_identify, seed):
    """Chapter 7's numbers at the last epoch, on all analysis images."""
    last, n = run["epochs"][-1], len(run["seeds"])
    n_compare, n_identify = min(n_compare or n, n), min(n_identify or n, n)
    out = {"epoch": last, "networks": n_compare, "pairs": [list(p) for p in combinations(range(n_compare), 2)],
           "layers": {}}
    nets = []
    for layer in run["layers"]:
        trained = analysis.load_activity(run, layer, last)
        conditions = {"trained": trained[:n_compare], "shuffled": comparison.shuffled(trained[:n_compare], seed)}
        if 0 in run["run_epochs"]:
            conditions["untrained"] = analysis.load_activity(run, layer, 0)[:n_compare]
        out["layers"][layer] = {c: {m: v.tolist() for m, v in comparison.pairwise(xs, MEASURES).items()}
                                for c, xs in conditions.items()}
        nets.append(trained[:n_identify])
    by_network = [[layer[i] for layer in nets] for i in range(n_identify)]
    out["identification"] = {"networks": n_identify, "chance": 1 / len(run["layers"]),
                             "found": comparison.layer_identification(by_network, MEASURES)}
    out["layer_similarities"] = {m: v.tolist() for m, v in comparison.layer_similarities(
        by_network[0], by_network[1], ["linear CKA", "PWCCA"]).items()}
    return out


def _neuron_matches(run, n_match, n_images, n_positions, device, seed):
    """Chapter 8's maximum-match sweeps, trained, untrained and shuffled, at the last epoch."""
    from . import matching
    from .experiment import load_neurons

    last, n = run["epochs"][-1], len(run["seeds"])
    n_match = min(n_match or n, n)
    pairs = list(combinations(range(n_match), 2))
    epochs = {"trained": last} | ({"untrained": 0} if 0 in run["run_epochs"] else {})
    neurons = {c: load_neurons(run["path"], e, run["layers"], n_images=n_images, max_positions=n_positions,
                               device=device, networks=n_match)
               for c, e in epochs.items()}
    out = {"epoch": last, "epsilons": list(EPSILONS), "pairs": [list(p) for p in pairs], "n_images": n_images,
           "max_positions": n_positions, "layers": {}}
    for layer, nets in neurons["trained"].items():
        sources = {c: neurons[c][layer] for c in epochs} | {"shuffled": comparison.shuffled(nets, seed)}
        out["layers"][layer] = {"n_neurons": len(nets[0])} | {
            c: [matching.epsilon_sweep(xs[i], xs[j], EPSILONS).tolist() for i, j in pairs] for c, xs in sources.items()}
    return out


def _git_commit(root):
    """``(commit, dirty)`` of the checkout the package lives in, or ``(None, None)`` when it is not one."""
    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)

    try:
        top = git("rev-parse", "--show-toplevel")
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != root.resolve():
            return None, None
        return git("rev-parse", "HEAD").stdout.strip() or None, bool(git("status", "--porcelain",
                                                                          "--untracked-files=no").stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


def _hardware():
    """This machine: GPU model (None without CUDA or torch), CPU count, platform; torch and CUDA versions."""
    info = {"gpu": None, "cpu_count": os.cpu_count(), "platform": platform.platform(), "torch": None, "cuda": None}
    try:
        import torch
    except ImportError:
        return info
    info |= {"torch": torch.__version__, "cuda": torch.version.cuda}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _activation_checksums(path, run):
    """``{relative path: SHA-256}`` of the recorded activation files of the artifact's epochs (and
    epoch 0, the untrained baseline), from the recordings' manifests: the analyses checked each
    file against it as they loaded it.  (Neuron matches are recomputed from the checkpoints.)"""
    out = {}
    for i in range(len(run["seeds"])):
        for e in sorted(set(run["epochs"]) | ({0} & set(run["run_epochs"]))):
            rec = Path(f"net{i:02d}") / f"activations_epoch{e:03d}"
            for entry in json.loads((path / rec / MANIFEST).read_text())["layers"].values():
                out[(rec / entry["file"]).as_posix()] = entry["sha256"]
    return out


def _manifest(run, path, settings, wall):
    commit, dirty = _git_commit(Path(__file__).resolve().parents[1])
    timing_file = Path(path) / TIMING  # absent from runs trained before times were kept
    timing = json.loads(timing_file.read_text()) if timing_file.exists() else {}
    keys = ("architecture", "profile", "dataset", "dataset_label", "variant", "seeds", "layers", "epochs",
            "run_epochs", "n_fit", "n_test", "max_units", "train_images")
    return {"schema_version": SCHEMA_VERSION, **{k: run.get(k) for k in keys},
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "hardware": _hardware(), "commit": commit, "uncommitted_changes": dirty,
            "run_versions": run.get("versions"), "train_config": run.get("train_config"),
            "settings": settings, "training_devices": timing.get("devices"),
            "wall_time_s": {"training": timing.get("training_s"), "recording": timing.get("recording_s"), **wall},
            "activations": _activation_checksums(path, run)}


# ---- writing and reading ---------------------------------------------------------------------------

def _self_checksum(manifest):
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write(results: Results, out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write ``results`` as the artifact folder ``out``; returns its path.

    The files are written into a temporary folder beside ``out`` and moved into place in one
    step, so an interrupted write leaves no half-written artifact.  An existing ``out`` is
    replaced only with ``overwrite=True``.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    ValueError
        If ``out`` exists and ``overwrite`` is False, or an array is of object dtype (it
        could not be read back without pickle).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> res = Results({"architecture": "convnet", "dataset": "toy", "profile": "quick", "variant": None},
    ...               {"classes": ["a", "b"]}, {"held_out_accuracy": np.array([[0.5, 0.75]])})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write(res, f"{tmp}/{res.name}")
    ...     print(path.name, read(path).arrays["held_out_accuracy"].tolist())
    convnet-toy-quick [[0.5, 0.75]]
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise ValueError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    bad = [k for k, v in results.arrays.items() if np.asarray(v).dtype == object]
    if bad:
        raise ValueError(f"arrays {bad} have object dtype, which cannot be stored without pickle")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / SUMMARY).write_text(json.dumps(results.summary, indent=1))
        np.savez_compressed(tmp / ARRAYS, **{k: np.asarray(v) for k, v in results.arrays.items()})
        manifest = {**results.manifest, "schema_version": SCHEMA_VERSION,
                    "files": {name: sha256(tmp / name) for name in (SUMMARY, ARRAYS)}}
        manifest["checksum"] = _self_checksum(manifest)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        if out.exists():  # overwrite: move the old one aside first (a folder cannot be renamed onto another)
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old / "artifact")
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def read(path: str | os.PathLike) -> Results:
    """The artifact at ``path``, after checking its schema version and every checksum.

    Returns
    -------
    Results

    Raises
    ------
    ValueError
        If the folder or one of its files is missing, the manifest is not valid JSON or does
        not match its own checksum, the schema version is another, or a file's SHA-256 differs
        from the manifest's (corrupt, truncated or swapped).

    Examples
    --------
    >>> read("no/such/artifact")
    Traceback (most recent call last):
    ...
    ValueError: no/such/artifact is not a results artifact (no manifest.json)
    """
    path = Path(path)
    if not (path / MANIFEST).is_file():
        raise ValueError(f"{path} is not a results artifact (no {MANIFEST})")
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path / MANIFEST} is corrupt (not valid JSON: {err})") from None
    version = manifest.get("schema_version") if isinstance(manifest, dict) else None
    if version != SCHEMA_VERSION:
        raise ValueError(f"{path} has results schema version {version!r}; this package reads version "
                         f"{SCHEMA_VERSION}: recompute it with python -m nnsrm_utils analyse")
    if manifest.get("checksum") != _self_checksum(manifest):
        raise ValueError(f"{path / MANIFEST} does not match its own checksum: it was changed or is corrupt")
    for name in (SUMMARY, ARRAYS):
        if not (path / name).is_file():
            raise ValueError(f"{path} is missing {name}")
        if sha256(path / name) != manifest.get("files", {}).get(name):
            raise ValueError(f"{path / name} does not match the SHA-256 in its manifest: corrupt, truncated or "
                             "from another artifact")
    with np.load(path / ARRAYS, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return Results(manifest, json.loads((path / SUMMARY).read_text()), arrays)


# ---- finding and describing ------------------------------------------------------------------------

def book_results_dir(start: str | os.PathLike = ".") -> Path | None:
    """The book's ``book/results`` folder, looked for in ``start`` and its parent (a chapter runs
    in ``notebooks/``), or None outside a checkout (e.g. a notebook opened on Colab without a clone).

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(book_results_dir(tmp))
    ...     (Path(tmp) / "book" / "results").mkdir(parents=True)
    ...     print(book_results_dir(tmp).relative_to(tmp).as_posix())
    None
    book/results
    """
    for folder in (Path(start), Path(start).resolve().parent):
        if (folder / "book" / "results").is_dir():
            return folder / "book" / "results"
    return None


def default_dir(architecture: str, dataset: str, profile: str, variant: str | None = None,
                start: str | os.PathLike = ".") -> Path:
    """Where ``analyse`` writes an artifact: ``book/results/<name>`` of the checkout found from
    ``start`` (:func:`book_results_dir`), else ``./results/<name>``.

    Returns
    -------
    pathlib.Path
        Relative to the working directory outside a checkout.

    Examples
    --------
    Outside a checkout of the book:

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     default_dir("convnet", "cifar10", "colab", start=tmp).as_posix()
    'results/convnet-cifar10-colab'
    """
    root = book_results_dir(start) or Path("results")
    return root / artifact_name(architecture, dataset, profile, variant)


def book_results(architecture: str, profile: str = "colab", dataset: str | None = None, variant: str | None = None,
                 start: str | os.PathLike = ".") -> Results | None:
    """The committed artifact a chapter's "At the paper's scale" section reads, or None when it is
    absent (:func:`absent` says what to do); a present but broken one is a ``ValueError`` (:func:`read`).
    ``dataset`` None: the profile's, else the CIFAR-10 JPEG copy's (what a GPU machine without
    internet trains on; :func:`provenance` names the dataset either way).

    Returns
    -------
    Results or None

    Raises
    ------
    ValueError
        If the artifact is present but corrupt, truncated or of another schema version (:func:`read`),
        or for an unknown profile.

    Examples
    --------
    Outside a checkout of the book there is none:

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(book_results("convnet", start=tmp))
    None
    """
    from .profiles import get_profile

    root = book_results_dir(start)
    if root is None:
        return None
    for name in [dataset] if dataset else dict.fromkeys([get_profile(profile).dataset, "cifar10-jpeg"]):
        path = root / artifact_name(architecture, name, profile, variant)
        if (path / MANIFEST).exists():
            return read(path)
    return None


def absent(architecture: str, profile: str = "colab", dataset: str | None = None, variant: str | None = None,
           start: str | os.PathLike = ".") -> str:
    """What a chapter prints where an artifact is missing: what, why, and the commands that make it;
    outside a clone of the book (no ``book/results`` in ``start`` or its parent), where to find it.

    Returns
    -------
    str
        In a clone: a paragraph, then the two commands (one per line), then what to commit.
        Elsewhere: one paragraph.

    Raises
    ------
    ValueError
        For an unknown profile.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as clone:
    ...     (pathlib.Path(clone) / "book" / "results").mkdir(parents=True)
    ...     print(absent("convnet", start=clone).splitlines()[1])
        python -m nnsrm_utils run convnet --profile colab
    """
    from .profiles import get_profile

    dataset = dataset or get_profile(profile).dataset
    name = artifact_name(architecture, dataset, profile, variant)
    extra = (f" --dataset {dataset}" if dataset != get_profile(profile).dataset else "") + (
        f" --variant {variant}" if variant else "")
    if book_results_dir(start) is None:  # e.g. a chapter opened on Colab without a clone
        return (f"This notebook is not in a clone of the book's repository, so its results artifacts (book/results/) "
                f"are not here: the rendered book shows {name} once it is committed, or clone the repository and "
                f"run the notebook there.")
    return (f"No results artifact book/results/{name} in this copy of the book: it is made from a run of the "
            f"{profile!r} profile, which needs a GPU, and none has been committed yet. To make it, on a GPU machine "
            f"in a clone of the repository:\n"
            f"    python -m nnsrm_utils run {architecture} --profile {profile}{extra}\n"
            f"    python -m nnsrm_utils analyse {architecture} --profile {profile}{extra}\n"
            f"then commit book/results/{name}.")


def provenance(results: Results) -> str:
    """One line on where an artifact's numbers come from (its manifest).

    Returns
    -------
    str
        The artifact's name, profile, dataset, networks and epochs; the hardware and versions
        it was analysed with; the commit and the date.

    Examples
    --------
    >>> res = Results({"architecture": "convnet", "dataset": "cifar10", "profile": "colab", "variant": None,
    ...                "dataset_label": "CIFAR-10", "seeds": list(range(10)), "epochs": [0, 50],
    ...                "hardware": {"gpu": "NVIDIA T4", "cpu_count": 2, "torch": "2.5.1", "cuda": "12.4"},
    ...                "commit": "0123456789abcdef", "created": "2025-01-01T00:00:00+00:00"}, {})
    >>> print(provenance(res))  # doctest: +NORMALIZE_WHITESPACE
    convnet-cifar10-colab: profile colab, CIFAR-10, 10 networks, epochs [0, 50]; analysed on NVIDIA T4
    (2 CPUs), torch 2.5.1, CUDA 12.4; commit 0123456789ab; 2025-01-01T00:00:00+00:00
    """
    m, hw = results.manifest, results.manifest["hardware"]
    commit = (m["commit"] or "not a git checkout")[:12] + (" with uncommitted changes" if m.get("uncommitted_changes") else "")
    return (f"{results.name}: profile {m['profile']}, {m['dataset_label']}, {len(m['seeds'])} networks, "
            f"epochs {m['epochs']}; analysed on {hw['gpu'] or 'CPU only'} ({hw['cpu_count']} CPUs), "
            f"torch {hw['torch']}, CUDA {hw['cuda']}; commit {commit}; {m['created']}")


def before_and_after(results: Results, first: int | None = None, last: int | None = None) -> str:
    """Chapter 5's table (:func:`~nnsrm_utils.analysis.before_and_after`) from an artifact:
    epochs ``first`` (default the first logged) and ``last`` (default the last).

    Returns
    -------
    str
        The table (:func:`~nnsrm_utils.analysis.format_before_and_after`); the reference
        columns only when the artifact was computed with ``references``.

    Raises
    ------
    ValueError
        If ``first`` or ``last`` is not a logged epoch of the artifact.

    Examples
    --------
    An artifact in memory with the table's arrays for one layer (two networks, epochs 0 and 3):

    >>> import numpy as np
    >>> arrays = {"variance_explained": [[0.41, 0.43], [0.97, 0.99]],   # (epochs, networks)
    ...           "variance_explained_loo": [[-0.3, -0.2], [0.95, 0.96]], "pairwise_w_rsm_r": [[0.1, 0.0], [0.7, 0.6]],
    ...           "i_rsm_shared_vs_w": [0.2, 0.7], "i_rsm_native_vs_w": [0.2, 0.1]}   # (epochs,)
    >>> res = Results({"epochs": [0, 3], "layers": ["dense"]}, {}, {f"{k}.dense": np.array(v) for k, v in arrays.items()})
    >>> print(before_and_after(res))
      epoch               VE       VE (LOO)    iRSM shared    iRSM native  RSMs pairwise
                      0 -> 3         0 -> 3         0 -> 3         0 -> 3         0 -> 3
      dense     0.42 -> 0.98  -0.25 -> 0.95   0.20 -> 0.70   0.20 -> 0.10   0.05 -> 0.65
    """
    epochs = results.manifest["epochs"]
    first, last = epochs[0] if first is None else first, epochs[-1] if last is None else last
    if first not in epochs or last not in epochs:
        raise ValueError(f"epochs {first} and {last} must be logged ones: {epochs}")
    rows = {"VE": ("variance_explained", np.mean), "VE (LOO)": ("variance_explained_loo", np.mean),
            "iRSM shared": ("i_rsm_shared_vs_w", None), "iRSM native": ("i_rsm_native_vs_w", None),
            "RSMs pairwise": ("pairwise_w_rsm_r", np.mean), "wRSM~pixels": ("w_rsm_vs_pixels", None),
            "wRSM~same class": ("w_rsm_vs_same_class", None)}
    numbers = {}
    for column, (key, reduce) in rows.items():
        if f"{key}.{results.manifest['layers'][0]}" not in results.arrays:
            continue  # computed without references
        numbers[column] = {layer: tuple(float(reduce(v) if reduce else v)
                                        for v in results.layer(key, layer)[[epochs.index(first), epochs.index(last)]])
                           for layer in results.manifest["layers"]}
    return analysis.format_before_and_after(numbers, results.manifest["layers"], first, last)


def comparison_table(results: Results) -> str:
    """Chapter 7's table from an artifact: per layer, each measure's mean over pairs of networks,
    trained (untrained, shuffled), and the layer identification.

    Returns
    -------
    str
        A header line, one line per layer, and a line of layer identification.

    Raises
    ------
    ValueError
        If the artifact was computed without its comparisons (``compare=False``).

    Examples
    --------
    An artifact in memory with the comparisons of one layer between two networks:

    >>> c = {"epoch": 3, "networks": 2, "identification": {"networks": 2, "chance": 0.25, "found": {"linear CKA": 1.0}},
    ...      "layers": {"dense": {"trained": {"linear CKA": [0.81]}, "untrained": {"linear CKA": [0.4]},
    ...                           "shuffled": {"linear CKA": [0.02]}}}}
    >>> res = Results({"dataset_label": "CIFAR-10", "architecture": "convnet", "profile": "quick"}, {"comparisons": c})
    >>> print(comparison_table(res))
    CIFAR-10, convnet, profile quick, epoch 3, 2 networks; mean over pairs: trained (untrained, shuffled)
      dense: linear CKA 0.81 (0.40, 0.02)
    layer identification (2 networks, chance 25%): linear CKA 100%
    """
    c = _section(results, "comparisons", "compare")
    m = results.manifest
    lines = [f"{m['dataset_label']}, {m['architecture']}, profile {m['profile']}, epoch {c['epoch']}, "
             f"{c['networks']} networks; mean over pairs: trained (untrained, shuffled)"]
    for layer, r in c["layers"].items():
        lines.append(f"{layer:>7}: " + "  ".join(
            f"{name} {np.mean(r['trained'][name]):.2f} ({np.mean(r['untrained'][name]) if 'untrained' in r else np.nan:.2f}, "
            f"{np.mean(r['shuffled'][name]):.2f})" for name in r["trained"]))
    found = c["identification"]
    lines.append(f"layer identification ({found['networks']} networks, chance {100 * found['chance']:.0f}%): "
                 + "  ".join(f"{name} {100 * v:.0f}%" for name, v in found["found"].items()))
    return "\n".join(lines)


def match_table(results: Results) -> str:
    """Chapter 8's table from an artifact: per layer, the maximum-match similarity at each
    epsilon, mean over pairs of networks: trained | untrained | shuffled.

    Returns
    -------
    str
        A header line, then one line per layer.

    Raises
    ------
    ValueError
        If the artifact was computed without its neuron matches (``neurons=False``).

    Examples
    --------
    An artifact in memory with the sweeps of one layer, one pair of networks, two epsilons:

    >>> n = {"epoch": 3, "pairs": [[0, 1]], "epsilons": [0.15, 0.5],
    ...      "layers": {"dense": {"n_neurons": 300, "trained": [[0.1, 0.6]], "shuffled": [[0.0, 0.2]]}}}
    >>> res = Results({"dataset_label": "CIFAR-10", "architecture": "convnet", "profile": "quick"}, {"neurons": n})
    >>> print(match_table(res))  # doctest: +NORMALIZE_WHITESPACE
    CIFAR-10, convnet, profile quick, epoch 3, 1 pairs of networks; maximum-match similarity at eps
    (0.15, 0.5): trained | shuffled
      dense (300 neurons): 0.10 0.60 | 0.00 0.20
    """
    s = _section(results, "neurons", "neurons")
    m = results.manifest
    conditions = [c for c in ("trained", "untrained", "shuffled") if c in next(iter(s["layers"].values()))]
    lines = [f"{m['dataset_label']}, {m['architecture']}, profile {m['profile']}, epoch {s['epoch']}, "
             f"{len(s['pairs'])} pairs of networks; maximum-match similarity at eps {tuple(s['epsilons'])}: "
             + " | ".join(conditions)]
    for layer, r in s["layers"].items():
        lines.append(f"{layer:>7} ({r['n_neurons']:3d} neurons): " + " | ".join(
            " ".join(f"{v:.2f}" for v in np.mean(r[c], axis=0)) for c in conditions))
    return "\n".join(lines)


def _section(results, key, option):
    if key not in results.summary:
        raise ValueError(f"the artifact {results.name} was computed without its {key} ({option}=False)")
    return results.summary[key]

