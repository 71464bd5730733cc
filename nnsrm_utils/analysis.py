"""Analyses of a recorded run (numpy only): SRM per layer and epoch, RSMs, variance explained.

Follows the authors: each image's activity vector is z-scored across units, SRM is fitted on
the fit images with ``k`` equal to the number of units, and everything is evaluated on the
test images (ordered by label).
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from itertools import combinations
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .record import MANIFEST, load_activations
from .rsm import Similarity, compare_rsms, inter_rsm, rsm, within_rsm
from .srm import SRM, procrustes, variance_explained

#: A run's folder (as :func:`~nnsrm_utils.experiment.run_experiment` returns it); the functions that
#: also take ``dict`` accept what :func:`read_run` returns, to read the manifest once.
Run = str | os.PathLike


def read_run(run: Run) -> dict:
    """The run's manifest, with the logged epochs, layer names and test labels added."""
    run = Path(run)
    manifest = json.loads((run / MANIFEST).read_text())
    first = run / "net00" / "activations_epoch000"
    manifest["layers"] = list(json.loads((first / MANIFEST).read_text())["layers"])
    manifest["epochs"] = list(manifest["train_config"]["logged_epochs"])
    manifest["test_labels"] = np.asarray(manifest["analysis_labels"][manifest["n_fit"]:])
    manifest["path"] = run
    return manifest


def zscore_examples(x: NDArray) -> NDArray[np.float64]:
    """The authors' normalisation: z-score each example's vector across units."""
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1)


def load_activity(run: Run | dict, layer: str, epoch: int) -> list[NDArray[np.float32]]:
    """The recorded ``(n_units, n_examples)`` activity of every network on all analysis images."""
    run = read_run(run) if not isinstance(run, dict) else run
    return [load_activations(run["path"] / f"net{i:02d}" / f"activations_epoch{epoch:03d}", layer)
            for i in range(len(run["seeds"]))]


def load_layer(run: Run | dict, layer: str, epoch: int) -> tuple[list[NDArray], list[NDArray]]:
    """``(fit, test)`` lists of z-scored ``(n_units, n_examples)`` arrays, one per network."""
    run = read_run(run) if not isinstance(run, dict) else run
    n_fit = run["n_fit"]
    xs = [zscore_examples(x) for x in load_activity(run, layer, epoch)]
    return [x[:, :n_fit] for x in xs], [x[:, n_fit:] for x in xs]


def held_out_accuracy(run: Run | dict, epoch: int) -> NDArray[np.float64]:
    """Each network's accuracy on the held-out test images, from its recorded logits."""
    run = read_run(run) if not isinstance(run, dict) else run
    return np.array([np.mean(x[:, run["n_fit"]:].argmax(axis=0) == run["test_labels"])
                     for x in load_activity(run, "logits", epoch)])


def align_layer(fit: Sequence[NDArray], test: Sequence[NDArray], n_iter: int = 10) -> tuple[SRM, list[NDArray]]:
    """SRM with ``k`` = the smallest layer width, fitted on ``fit``; returns the model and shared test data."""
    model = SRM(n_features=min(x.shape[0] for x in fit), n_iter=n_iter, random_state=0).fit(fit)
    return model, model.transform(test)


def layer_summary(fit: Sequence[NDArray], test: Sequence[NDArray], similarity: Similarity = "pearson") -> dict:
    """Per-layer numbers of the paper's Fig. 3, the RSMs of Fig. 1B and the test data behind Fig. 1A."""
    model, shared = align_layer(fit, test)
    return {
        "variance_explained": variance_explained(model, test),
        "variance_explained_loo": variance_explained(model, test, leave_one_out=True),
        "w_rsm": within_rsm(test, similarity),
        "i_rsm_shared": inter_rsm(shared, similarity),
        "i_rsm_native": inter_rsm(test, similarity),
        "pairwise_w_rsm_r": per_network_mean_pairwise(test, similarity),
        "native": test,
        "shared": shared,
    }


def reference_rsms(run: Run | dict) -> dict[str, NDArray[np.float64]]:
    """RSMs of the test images that a layer's geometry can be read against: ``"pixels"`` (each
    image z-scored across pixels, as activity is across units) and ``"same class"`` (1 for two
    images of one class, else 0: the task's geometry)."""
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
    correlation with each of ``references`` (name -> RSM, e.g. :func:`reference_rsms`)."""
    columns = {"VE": lambda s: s["variance_explained"].mean(),
               "VE (LOO)": lambda s: s["variance_explained_loo"].mean(),
               "iRSM shared": lambda s: compare_rsms(s["i_rsm_shared"], s["w_rsm"]),
               "iRSM native": lambda s: compare_rsms(s["i_rsm_native"], s["w_rsm"]),
               "RSMs pairwise": lambda s: s["pairwise_w_rsm_r"].mean()}
    columns |= {f"wRSM~{name}": (lambda r: lambda s: compare_rsms(s["w_rsm"], r))(r)
                for name, r in (references or {}).items()}
    width = max(14, *(len(c) + 2 for c in columns))
    lines = [f"{'epoch':>7}  " + "".join(f"{c:>{width}}" for c in columns),
             f"{'':>7}  " + "".join(f"{f'{first} -> {last}':>{width}}" for _ in columns)]
    for layer in layers:
        lines.append(f"{layer:>7}  " + "".join(
            f"{' -> '.join(f'{number(summaries[layer, e]):.2f}' for e in (first, last)):>{width}}"
            for number in columns.values()))
    return "\n".join(lines)


def per_network_mean_pairwise(test: Sequence[NDArray], similarity: Similarity = "pearson") -> NDArray[np.float64]:
    """For each network, its mean RSM correlation with every other network (for CIs over networks)."""
    rsms = [rsm(x, similarity) for x in test]
    r = np.ones((len(rsms), len(rsms)))
    for i, j in combinations(range(len(rsms)), 2):
        r[i, j] = r[j, i] = compare_rsms(rsms[i], rsms[j])
    return (r.sum(axis=1) - 1) / (len(rsms) - 1)


def rotate_to_last_frame(summaries: Sequence[dict]) -> list[tuple[list[NDArray], list[NDArray]]]:
    """Native and shared test responses over training, comparable from frame to frame.

    ``summaries`` are :func:`layer_summary` results of one layer at successive epochs.  Each
    epoch has its own SRM fit, hence its own arbitrary rotation of the shared space; each is
    rotated onto the last epoch's (Procrustes on the networks' mean response), so that the
    frames of an animation show real movement.  Returns a list of ``(native, shared)`` pairs.
    """
    target = np.mean(summaries[-1]["shared"], axis=0)
    return [(s["native"], [procrustes(target @ np.mean(s["shared"], axis=0).T) @ z for z in s["shared"]])
            for s in summaries]
