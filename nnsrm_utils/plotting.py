"""Every figure the book draws: small functions that take results and an optional axis."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # the artifact's class, for the type hints only
    from .results import Results


def _axis(ax, figsize=(4, 3.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _legend_outside(ax):
    """The legend right of the axes, where it covers no bar or line."""
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)


def plot_rsm(rsm: ArrayLike, ax: Axes | None = None, title: str | None = None, labels: ArrayLike | None = None,
             vmin: float = -1, vmax: float = 1, colorbar: bool = True, what: str = "example",
             names: Sequence[str] | None = None) -> Axes:
    """Heatmap of an RSM; ``labels`` (sorted class labels per example) draw class boundaries.
    ``what`` the rows and columns are: examples, or classes for a class-mean RSM, whose
    ``names`` then label the rows and columns.

    Parameters
    ----------
    rsm : array_like
        ``(n_examples, n_examples)`` (or ``(n_classes, n_classes)``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (None: a new figure).
    title : str, optional
    labels : array_like, optional
        ``(n_examples,)`` class labels, sorted: a line between two classes' blocks.
    vmin, vmax : float
        The colour scale's ends.
    colorbar : bool
        Draw a colour bar beside the axes.
    what : str
        The axes' label.
    names : sequence of str, optional
        Tick labels, one per row.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``labels`` does not have one entry per row of ``rsm``.

    Examples
    --------
    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_rsm(np.eye(4), labels=[0, 0, 1, 1], title="wRSM")
    >>> ax.get_title(), len(ax.lines)   # one horizontal and one vertical line between the two classes
    ('wRSM', 2)
    >>> plt.close(ax.figure)
    """
    ax = _axis(ax)
    im = ax.imshow(rsm, cmap="RdBu_r", vmin=vmin, vmax=vmax, interpolation="nearest")
    if labels is not None:
        if len(labels) != len(rsm):
            raise ValueError(f"{len(labels)} labels for an RSM of {len(rsm)} examples")
        for edge in np.flatnonzero(np.diff(np.asarray(labels))) + 0.5:
            ax.axhline(edge, color="k", lw=0.6)
            ax.axvline(edge, color="k", lw=0.6)
    ax.set(title=title, xlabel=what, ylabel=what)
    if names is not None:
        ticks = np.arange(len(names))
        ax.set_xticks(ticks, names, rotation=90, fontsize="small")
        ax.set_yticks(ticks, names, fontsize="small")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8, label="similarity")
    return ax


def plot_rsm_row(rsms: Sequence[ArrayLike], titles: Sequence[str], labels: ArrayLike | None = None, vmin: float = -1,
                 vmax: float = 1, size: float = 3.2, what: str = "example",
                 names: Sequence[str] | None = None) -> Figure:
    """Several RSMs side by side on one colour scale.

    ``rsms`` are ``(n_examples, n_examples)`` arrays, one panel each, titled by ``titles``;
    ``size`` is a panel's size in inches; the other arguments as :func:`plot_rsm`.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per RSM, then the colour bar's.

    Raises
    ------
    ValueError
        As :func:`plot_rsm`.

    Examples
    --------
    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> fig = plot_rsm_row([np.eye(4), -np.eye(4)], ["network 0", "network 1"])
    >>> [ax.get_title() for ax in fig.axes]
    ['network 0', 'network 1', '']
    >>> plt.close(fig)
    """
    fig, axes = plt.subplots(1, len(rsms), figsize=(size * len(rsms) + 0.8, size), layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, r, t in zip(axes, rsms, titles):
        plot_rsm(r, ax=ax, title=t, labels=labels, vmin=vmin, vmax=vmax, colorbar=False, what=what,
                 names=names)
    fig.colorbar(axes[0].images[0], ax=axes, shrink=0.8, label="similarity")
    return fig


def plot_curve(values: ArrayLike, ax: Axes | None = None, xlabel: str = "iteration", ylabel: str | None = None,
               label: str | None = None, **kwargs: Any) -> Axes:
    """A convergence (or any 1-D) curve against 1-based step numbers.

    ``values`` is ``(n_steps,)``; ``kwargs`` go to ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_curve([3.0, 2.0, 1.5], ylabel="objective")
    >>> ax.lines[0].get_xdata().tolist()
    [1, 2, 3]
    >>> plt.close(ax.figure)
    """
    ax = _axis(ax)
    ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=3, label=label, **kwargs)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    return ax


def plot_rsm_summary(summary: Mapping[str, NDArray], labels: ArrayLike,
                     names: Sequence[str]) -> tuple[Figure, Figure]:
    """The paper's Fig. 1B from a :func:`nnsrm_utils.analysis.layer_summary`: the wRSM and the
    iRSMs in the shared and the native spaces, examples ordered by class (``labels``), and below
    them each class block's mean on the same scale, rows and columns named by ``names``.

    Returns
    -------
    examples, classes : matplotlib.figure.Figure
        The three ``(n_examples, n_examples)`` RSMs, and their ``(n_classes, n_classes)`` class means.

    Raises
    ------
    ValueError
        If ``labels`` does not have one entry per example, or a class has fewer than 2 examples.

    Examples
    --------
    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> from nnsrm_utils.analysis import layer_summary
    >>> xs = [np.random.default_rng(i).standard_normal((5, 8)) for i in range(2)]   # 2 networks, 8 images
    >>> examples, classes = plot_rsm_summary(layer_summary(xs, xs), [0, 0, 0, 0, 1, 1, 1, 1], ["cat", "dog"])
    >>> [ax.get_title() for ax in classes.axes][:2]
    ['wRSM, class means', 'iRSM, shared space, class means']
    >>> plt.close(examples); plt.close(classes)
    """
    from .rsm import class_mean_rsm

    rsms = [summary["w_rsm"], summary["i_rsm_shared"], summary["i_rsm_native"]]
    titles = ["wRSM", "iRSM, shared space", "iRSM, native spaces"]
    return (plot_rsm_row(rsms, titles, labels=labels),
            plot_rsm_row([class_mean_rsm(r, labels) for r in rsms], [f"{t}, class means" for t in titles],
                         what="class", names=names))


def plot_bars_ci(means: ArrayLike, lows: ArrayLike, highs: ArrayLike, labels: Sequence[str], ax: Axes | None = None,
                 ylabel: str | None = None, reference: ArrayLike | None = None,
                 reference_label: str = "paper") -> Axes:
    """Bars with confidence intervals; optional reference values (e.g. the paper's) as markers.

    ``means``, ``lows``, ``highs`` and ``reference`` have one entry per bar, ``labels`` names them.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_bars_ci([0.6, 0.8], [0.5, 0.7], [0.7, 0.9], ["conv", "dense"], reference=[0.65, 0.85])
    >>> len(ax.patches), sorted(t.get_text() for t in ax.get_legend().get_texts())
    (2, ['95% bootstrap CI', 'paper', 'this run'])
    >>> plt.close(ax.figure)
    """
    ax = _axis(ax)
    x = np.arange(len(means))
    means = np.asarray(means)
    ax.bar(x, means, color="tab:blue", alpha=0.8, label="this run")
    ax.errorbar(x, means, yerr=[means - np.asarray(lows), np.asarray(highs) - means],
                fmt="none", color="k", capsize=4, label="95% bootstrap CI")
    if reference is not None:
        ax.scatter(x, reference, marker="D", color="tab:orange", zorder=3, label=reference_label)
    ax.set_xticks(x, labels)
    ax.set(ylabel=ylabel)
    _legend_outside(ax)
    return ax


def plot_points(points: NDArray, labels: ArrayLike, ax: Axes | None = None, title: str | None = None,
                xlabel: str = "dimension 1", ylabel: str = "dimension 2") -> PathCollection:
    """2-D scatter of examples (columns of ``points``) coloured by label.

    ``points`` is ``(2, n_examples)`` (more rows are ignored), ``labels`` ``(n_examples,)``.

    Returns
    -------
    matplotlib.collections.PathCollection
        The scatter (its ``axes`` is the axes).

    Examples
    --------
    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> sc = plot_points(np.random.default_rng(0).standard_normal((2, 10)), np.arange(10) % 2)
    >>> sc.get_offsets().shape
    (10, 2)
    >>> plt.close(sc.figure)
    """
    ax = _axis(ax)
    sc = ax.scatter(points[0], points[1], c=labels, cmap="coolwarm", s=12, edgecolors="none")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return sc


def plot_layer_curves(x: Sequence, curves: Mapping[str, ArrayLike], ax: Axes | None = None, xlabel: str = "epoch",
                      ylabel: str | None = None, title: str | None = None,
                      errors: Mapping[str, ArrayLike] | None = None, ordered: bool = True) -> Axes:
    """One line per entry of ``curves`` (name -> values over ``x``).  ``errors`` maps a name to
    error-bar half-lengths (e.g. the standard deviation over pairs of networks).

    ``ordered`` lines (layers, from the input up) are coloured on one sequential scale, light to
    dark, as in the paper's Fig. 3; unordered ones (measures, groups) in distinct colours.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    KeyError
        If ``errors`` lacks one of ``curves``.

    Examples
    --------
    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_layer_curves([0, 1, 2], {"conv": [0.2, 0.5, 0.6], "dense": [0.1, 0.6, 0.8]}, ylabel="VE")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['conv', 'dense']
    >>> plt.close(ax.figure)
    """
    from matplotlib.ticker import MaxNLocator

    ax = _axis(ax, figsize=(5, 3.4))
    colours = plt.cm.viridis_r(np.linspace(0.1, 1, len(curves))) if ordered else [None] * len(curves)
    for colour, (name, values) in zip(colours, curves.items()):
        ax.errorbar(x, values, yerr=None if errors is None else errors[name], marker="o", ms=3, capsize=3,
                    label=name, color=colour)
    if all(isinstance(v, (int, np.integer)) for v in x):  # epochs: no ticks between them
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize="small")
    return ax


def plot_class_means(spaces: Mapping[str, Sequence[NDArray]], labels: ArrayLike, basis_from: int = 0,
                     title: str | None = None) -> Figure:
    """Fig. 1A: each network's class means, projected on the top two PCs of one network's.

    ``spaces`` maps a panel title to a list of ``(n_units, n_examples)`` arrays (one per
    network, same units within a panel); markers tell networks apart, colours classes.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel.

    Raises
    ------
    ValueError
        If ``labels`` does not have one entry per example.

    Examples
    --------
    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> x = np.random.default_rng(0).standard_normal((5, 40))   # 5 units, 40 images of 4 classes
    >>> fig = plot_class_means({"native": [x, -x], "shared": [x, x]}, np.repeat([0, 1, 2, 3], 10))
    >>> [ax.get_title() for ax in fig.axes]
    ['native', 'shared']
    >>> plt.close(fig)
    """
    from .analysis import project_class_means

    points = {panel: project_class_means(xs, labels, basis_from) for panel, xs in spaces.items()}
    return plot_class_mean_points(points, np.unique(np.asarray(labels)), basis_from, title)


def plot_class_mean_points(points: Mapping[str, NDArray], classes: ArrayLike, basis_from: int = 0,
                           title: str | None = None) -> Figure:
    """Fig. 1A from projected class means: ``points`` maps a panel title to an ``(n_networks, 2,
    n_classes)`` array (:func:`nnsrm_utils.analysis.project_class_means`), ``classes`` the class
    indices (colours).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel.

    Examples
    --------
    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> points = {"shared space": np.random.default_rng(0).standard_normal((3, 2, 4))}   # 3 networks, 4 classes
    >>> fig = plot_class_mean_points(points, [0, 1, 2, 3], title="class means")
    >>> [ax.get_title() for ax in fig.axes], fig.axes[0].get_xlabel()
    (['shared space'], 'PC 1 of network 0')
    >>> plt.close(fig)
    """
    fig, axes = plt.subplots(1, len(points), figsize=(4.5 * len(points), 4), layout="constrained")
    classes = np.asarray(classes)
    for ax, (panel, ps) in zip(np.atleast_1d(axes), points.items()):
        for i, p in enumerate(ps):
            ax.scatter(p[0], p[1], c=classes, cmap="tab10", vmin=0, vmax=max(9, classes.max()),
                       marker="os^Dv*Xph"[i % 9], s=40, edgecolors="k", linewidths=0.3, label=f"network {i}")
        ax.set(title=panel, xlabel=f"PC 1 of network {basis_from}", ylabel=f"PC 2 of network {basis_from}")
    np.atleast_1d(axes)[-1].legend(fontsize="small")
    fig.suptitle(title)
    return fig


def plot_shared_fraction(summaries: Mapping[str, Mapping[str, NDArray]], layers: Sequence[str],
                         reference: Mapping[str, float] | None = None, reference_label: str = "paper",
                         title: str | None = None,
                         untrained: Mapping[str, Mapping[str, NDArray]] | None = None) -> Figure:
    """Fig. 3 middle and bottom: variance explained and mean pairwise wRSM correlation per layer.

    ``summaries`` maps a layer to :func:`nnsrm_utils.analysis.layer_summary` output; bars are
    means over networks with 95% bootstrap intervals over networks.  ``reference`` maps a layer
    to a published variance-explained value; ``untrained`` maps a layer to the summary of the
    same networks before training (epoch 0), drawn as a marker on each bar: the baseline a
    trained value is to be read against.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: variance explained, and mean pairwise RSM correlation.

    Raises
    ------
    ValueError
        If a layer has fewer than 2 networks (no bootstrap interval).

    Examples
    --------
    Only the two entries drawn are needed of each layer's summary (4 networks here):

    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> rng = np.random.default_rng(0)
    >>> summaries = {layer: {"variance_explained": rng.uniform(0.5, 0.9, 4),
    ...                      "pairwise_w_rsm_r": rng.uniform(0.3, 0.6, 4)} for layer in ("conv", "dense")}
    >>> fig = plot_shared_fraction(summaries, ["conv", "dense"], reference={"dense": 0.8})
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['variance explained (held-out)', 'mean pairwise RSM correlation']
    >>> plt.close(fig)
    """
    from .stats import bootstrap_ci

    keys = ("variance_explained", "pairwise_w_rsm_r")
    means = {key: [summaries[layer][key].mean() for layer in layers] for key in keys}
    cis = {key: list(zip(*[bootstrap_ci(summaries[layer][key], random_state=0) for layer in layers])) for key in keys}
    before = {key: [untrained[layer][key].mean() for layer in layers] for key in keys} if untrained else None
    return _shared_fraction_bars(layers, means, cis, before, reference, reference_label, title)


def _shared_fraction_bars(layers, means, cis, untrained, reference, reference_label, title):
    """The two panels of :func:`plot_shared_fraction` from ``{key: per-layer means}``, ``{key:
    (lows, highs)}`` and, optionally, ``{key: per-layer means before training}``."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), layout="constrained")
    for ax, key, ylabel in ((axes[0], "variance_explained", "variance explained (held-out)"),
                            (axes[1], "pairwise_w_rsm_r", "mean pairwise RSM correlation")):
        ref = None
        if key == "variance_explained" and reference:
            ref = [reference.get(layer, np.nan) for layer in layers]
        plot_bars_ci(means[key], *cis[key], layers, ax=ax, ylabel=ylabel, reference=ref,
                     reference_label=reference_label)
        if untrained:
            ax.scatter(range(len(layers)), untrained[key], marker="_", s=400,
                       linewidths=2, color="0.25", zorder=3, label="untrained (epoch 0)")
            _legend_outside(ax)
        ax.set_ylim(0, 1)
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(title)
    return fig


def animate_class_means(frames: Sequence[tuple[Sequence[NDArray], Sequence[NDArray]]], labels: ArrayLike,
                        epochs: Sequence[int], title: str = "") -> bytes:
    """The demo page's animation: class means of every network over training, native vs shared.

    ``frames`` is :func:`nnsrm_utils.analysis.rotate_to_last_frame` output.  Every frame uses the
    projection of the last one (top two PCs of network 0's class means), so movement is real.
    ``labels`` has one entry per example, ``epochs`` one per frame.

    Returns
    -------
    bytes
        The GIF, one frame per second.

    Examples
    --------
    Two frames of two networks' 5 units over 40 images of 4 classes (the same data in both
    spaces here):

    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> native = [np.random.default_rng(i).standard_normal((5, 40)) for i in range(2)]
    >>> frames = [(native, native), ([2 * x for x in native], native)]
    >>> animate_class_means(frames, np.repeat([0, 1, 2, 3], 10), epochs=[0, 3])[:6]
    b'GIF89a'
    """
    from .analysis import project_class_means

    points = np.stack([[project_class_means(xs, labels, onto=last) for xs, last in zip(frame, frames[-1])]
                       for frame in frames])
    return animate_class_mean_points(points, np.unique(np.asarray(labels)), epochs, title)


def animate_class_mean_points(points: NDArray, classes: ArrayLike, epochs: Sequence[int], title: str = "") -> bytes:
    """:func:`animate_class_means` from projected class means: ``points`` is ``(n_frames, 2,
    n_networks, 2, n_classes)`` (panels native and shared; each frame on the last frame's
    components), ``classes`` the class indices.

    Returns
    -------
    bytes
        The GIF, one frame per epoch.

    Examples
    --------
    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> points = np.random.default_rng(0).standard_normal((2, 2, 3, 2, 4))   # 2 frames, 3 networks, 4 classes
    >>> animate_class_mean_points(points, [0, 1, 2, 3], epochs=[0, 3])[:6]
    b'GIF89a'
    """
    import os
    import tempfile

    from matplotlib.animation import FuncAnimation, PillowWriter

    classes = np.asarray(classes)
    panels = ("native spaces", "shared space (SRM)")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
    for p, ax in enumerate(axes):
        allp = np.concatenate([np.concatenate(list(f[p]), axis=1) for f in points], axis=1)
        pad = 0.1 * (allp.max(axis=1) - allp.min(axis=1))
        ax.set(xlim=(allp[0].min() - pad[0], allp[0].max() + pad[0]), ylim=(allp[1].min() - pad[1], allp[1].max() + pad[1]),
               xlabel="PC 1 of network 0 (last epoch)", ylabel="PC 2", title=panels[p])
    scatters = [[ax.scatter([], [], c=[], cmap="tab10", vmin=0, vmax=max(9, classes.max()), s=40,
                            marker="os^Dv*Xph"[i % 9], edgecolors="k", linewidths=0.3)
                 for i in range(len(points[0][p]))] for p, ax in enumerate(axes)]
    # which marker is which network, in every frame (grey markers: the colours are the classes)
    handles = [plt.Line2D([], [], ls="", marker="os^Dv*Xph"[i % 9], color="0.6", markeredgecolor="k",
                          label=f"network {i}") for i in range(len(points[0][0]))]
    fig.legend(handles=handles, loc="outside right center", fontsize="small")

    def draw(t):
        for p in range(2):
            for sc, pts in zip(scatters[p], points[t][p]):
                sc.set_offsets(pts.T)
                sc.set_array(classes)
        fig.suptitle(f"{title} epoch {epochs[t]}")
        return [sc for row in scatters for sc in row]

    anim = FuncAnimation(fig, draw, frames=len(points), blit=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "animation.gif")
        anim.save(path, writer=PillowWriter(fps=1))
        plt.close(fig)
        with open(path, "rb") as f:
            return f.read()


# ---- from a results artifact (nnsrm_utils.results): the "At the paper's scale" sections ----------

def _where(results):
    m = results.manifest
    return f"{m['dataset_label']}, profile {m['profile']}"


def plot_results_class_means(results: Results, layer: str) -> Figure:
    """Fig. 1A of ``layer`` at the last logged epoch, from a :class:`nnsrm_utils.results.Results`.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the native spaces and the shared space.

    Raises
    ------
    ValueError
        If the artifact has no trajectories of ``layer``.

    Examples
    --------
    An artifact in memory with the arrays drawn (2 epochs, 4 networks, 3 classes):

    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> from nnsrm_utils.results import Results
    >>> where = {"dataset_label": "CIFAR-10", "profile": "quick"}   # the manifest's entries used in titles
    >>> rng = np.random.default_rng(0)
    >>> res = Results(where, {"class_indices": [0, 1, 2]},
    ...               {f"trajectory_{s}.dense": rng.standard_normal((2, 4, 2, 3)) for s in ("native", "shared")})
    >>> fig = plot_results_class_means(res, "dense")
    >>> [ax.get_title() for ax in fig.axes]
    ['dense, native spaces', 'dense, shared space (SRM)']
    >>> plt.close(fig)
    """
    points = {f"{layer}, native spaces": results.layer("trajectory_native", layer)[-1],
              f"{layer}, shared space (SRM)": results.layer("trajectory_shared", layer)[-1]}
    return plot_class_mean_points(points, results.summary["class_indices"],
                                  title=f"class means (colour: class), {_where(results)}")


def animate_results(results: Results, layer: str) -> bytes:
    """The animation of ``layer``'s class means over the logged epochs, from an artifact (GIF bytes).

    Returns
    -------
    bytes
        The GIF (:func:`animate_class_mean_points`).

    Raises
    ------
    ValueError
        If the artifact has no trajectories of ``layer``.

    Examples
    --------
    An artifact in memory with the arrays drawn (2 epochs, 4 networks, 3 classes):

    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> from nnsrm_utils.results import Results
    >>> rng = np.random.default_rng(0)
    >>> res = Results({"dataset_label": "CIFAR-10", "profile": "quick", "epochs": [0, 3]}, {"class_indices": [0, 1, 2]},
    ...               {f"trajectory_{s}.dense": rng.standard_normal((2, 4, 2, 3)) for s in ("native", "shared")})
    >>> animate_results(res, "dense")[:6]
    b'GIF89a'
    """
    points = np.stack([results.layer("trajectory_native", layer), results.layer("trajectory_shared", layer)], axis=1)
    return animate_class_mean_points(points, results.summary["class_indices"], results.manifest["epochs"],
                                     title=f"{layer}, {_where(results)},")


def plot_results_rsms(results: Results, layer: str) -> Figure:
    """Fig. 1B's class-mean RSMs of ``layer`` at the last logged epoch, from an artifact (the
    example-sized RSMs are not kept).

    Returns
    -------
    matplotlib.figure.Figure
        The wRSM's and the two iRSMs' class means (:func:`plot_rsm_row`).

    Raises
    ------
    ValueError
        If the artifact has no class-mean RSMs of ``layer``.

    Examples
    --------
    An artifact in memory with the arrays drawn (1 epoch, 2 classes):

    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> from nnsrm_utils.results import Results
    >>> where = {"dataset_label": "CIFAR-10", "profile": "quick"}   # the manifest's entries used in titles
    >>> res = Results(where, {"classes": ["cat", "dog"]},
    ...               {f"class_rsm_{k}.dense": np.array([[[1.0, 0.2], [0.2, 1.0]]]) for k in ("w", "shared", "native")})
    >>> fig = plot_results_rsms(res, "dense")
    >>> [ax.get_title() for ax in fig.axes][:2]
    ['dense, wRSM, class means', 'dense, iRSM, shared space, class means']
    >>> plt.close(fig)
    """
    rsms = [results.layer(k, layer)[-1] for k in ("class_rsm_w", "class_rsm_shared", "class_rsm_native")]
    titles = [f"{layer}, {t}, class means" for t in ("wRSM", "iRSM, shared space", "iRSM, native spaces")]
    return plot_rsm_row(rsms, titles, what="class", names=results.summary["classes"])


def plot_results_settling(results: Results, ax: Axes | None = None) -> Axes:
    """Fig. 3, top, from an artifact: r(shared iRSM at each epoch, final wRSM), one line per layer.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the artifact lacks ``"settling"`` of one of its layers.

    Examples
    --------
    An artifact in memory with the arrays drawn (2 layers, 3 epochs):

    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> from nnsrm_utils.results import Results
    >>> where = {"dataset_label": "CIFAR-10", "profile": "quick"}   # the manifest's entries used in titles
    >>> res = Results(where | {"layers": ["conv", "dense"], "epochs": [0, 1, 3]}, {},
    ...               {"settling.conv": np.array([0.2, 0.5, 0.6]), "settling.dense": np.array([0.1, 0.7, 0.9])})
    >>> ax = plot_results_settling(res)
    >>> ax.get_title(), [t.get_text() for t in ax.get_legend().get_texts()]
    ('CIFAR-10, profile quick', ['conv', 'dense'])
    >>> plt.close(ax.figure)
    """
    layers = results.manifest["layers"]
    return plot_layer_curves(results.manifest["epochs"], {layer: results.layer("settling", layer) for layer in layers},
                             ax=ax, ylabel="r(shared iRSM, final wRSM)", title=_where(results))


def plot_results_shared_fraction(results: Results, reference: Mapping[str, float] | None = None,
                                 reference_label: str = "paper") -> Figure:
    """Fig. 3, middle and bottom, from an artifact: per layer at the last logged epoch, variance
    explained and mean pairwise RSM correlation with the artifact's bootstrap CIs, and the
    untrained values (epoch 0) as markers when epoch 0 was logged.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes, as :func:`plot_shared_fraction`.

    Raises
    ------
    ValueError
        If the artifact lacks one of the arrays drawn for one of its layers.

    Examples
    --------
    An artifact in memory with the arrays drawn (1 layer, 2 epochs, 2 networks):

    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> from nnsrm_utils.results import Results
    >>> where = {"dataset_label": "CIFAR-10", "profile": "quick"}   # the manifest's entries used in titles
    >>> ve, r = np.array([[0.4, 0.5], [0.8, 0.9]]), np.array([[0.1, 0.2], [0.5, 0.6]])
    >>> res = Results(where | {"layers": ["dense"], "epochs": [0, 3]}, {},
    ...               {"variance_explained.dense": ve, "ci_variance_explained.dense": ve,   # CIs (E, 2): (low, high)
    ...                "pairwise_w_rsm_r.dense": r, "ci_pairwise_w_rsm_r.dense": r})
    >>> fig = plot_results_shared_fraction(res, reference={"dense": 0.7})
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['variance explained (held-out)', 'mean pairwise RSM correlation']
    >>> plt.close(fig)
    """
    layers, epochs = results.manifest["layers"], results.manifest["epochs"]
    keys = ("variance_explained", "pairwise_w_rsm_r")
    means = {key: [results.layer(key, layer)[-1].mean() for layer in layers] for key in keys}
    cis = {key: tuple(np.array([results.layer(f"ci_{key}", layer)[-1] for layer in layers]).T) for key in keys}
    before = ({key: [results.layer(key, layer)[0].mean() for layer in layers] for key in keys}
              if epochs[0] == 0 else None)
    return _shared_fraction_bars(layers, means, cis, before, reference, reference_label,
                                 f"after {epochs[-1]} epochs, {_where(results)}")


def plot_results_accuracy(results: Results, ax: Axes | None = None) -> Axes:
    """Held-out accuracy per logged epoch (mean and range over networks), and the training
    accuracy per epoch when the artifact has it.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    KeyError
        If the artifact has no ``"held_out_accuracy"``.

    Examples
    --------
    An artifact in memory with the array drawn (3 epochs, 2 networks):

    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> from nnsrm_utils.results import Results
    >>> where = {"dataset_label": "CIFAR-10", "profile": "quick"}   # the manifest's entries used in titles
    >>> accuracy = np.array([[0.1, 0.12], [0.3, 0.35], [0.5, 0.55]])
    >>> res = Results(where | {"epochs": [0, 1, 3]}, {}, {"held_out_accuracy": accuracy})
    >>> ax = plot_results_accuracy(res)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['held out (analysis images)']
    >>> plt.close(ax.figure)
    """
    ax = _axis(ax, figsize=(5, 3.4))
    epochs, acc = results.manifest["epochs"], results.arrays["held_out_accuracy"]
    ax.errorbar(epochs, acc.mean(axis=1), yerr=[acc.mean(axis=1) - acc.min(axis=1), acc.max(axis=1) - acc.mean(axis=1)],
                marker="o", ms=3, capsize=3, label="held out (analysis images)")
    if "train_accuracy" in results.arrays:
        train = results.arrays["train_accuracy"]
        ax.plot(np.arange(1, train.shape[1] + 1), train.mean(axis=0), ls="--", label="training (mean)")
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title=_where(results))
    ax.legend(fontsize="small")
    return ax


def plot_results_comparisons(results: Results) -> tuple[Figure, Figure]:
    """Chapter 7 from an artifact: each measure per layer (mean over pairs of networks), trained,
    untrained and shuffled, and the layer-by-layer heatmaps of networks 0 and 1.

    Returns
    -------
    curves, heatmaps : matplotlib.figure.Figure
        One axes per condition; one heatmap per measure, and a colour bar.

    Raises
    ------
    ValueError
        If the artifact was computed without its comparisons (``compare=False``).

    Examples
    --------
    An artifact in memory with the comparisons drawn (2 layers, one pair of networks, one measure):

    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> from nnsrm_utils.results import Results
    >>> where = {"dataset_label": "CIFAR-10", "profile": "quick"}   # the manifest's entries used in titles
    >>> c = {"layers": {"conv": {"trained": {"linear CKA": [0.9]}, "shuffled": {"linear CKA": [0.1]}},
    ...                 "dense": {"trained": {"linear CKA": [0.8]}, "shuffled": {"linear CKA": [0.05]}}},
    ...      "layer_similarities": {"linear CKA": [[0.9, 0.5], [0.4, 0.8]]}}
    >>> curves, heatmaps = plot_results_comparisons(Results(where | {"architecture": "convnet"}, {"comparisons": c}))
    >>> [ax.get_title() for ax in curves.axes], heatmaps.axes[0].get_title()
    (['trained', 'shuffled'], 'convnet, linear CKA')
    >>> plt.close(curves); plt.close(heatmaps)
    """
    from .results import _section

    c = _section(results, "comparisons", "compare")
    layers = list(c["layers"])
    conditions = [k for k in ("trained", "untrained", "shuffled") if k in c["layers"][layers[0]]]
    fig, axes = plt.subplots(1, len(conditions), figsize=(4.4 * len(conditions), 3.6), sharey=True,
                             layout="constrained")
    for ax, condition in zip(np.atleast_1d(axes), conditions):
        plot_layer_curves(layers, {m: [np.mean(c["layers"][layer][condition][m]) for layer in layers]
                                   for m in c["layers"][layers[0]][condition]},
                          ax=ax, xlabel="layer", ylabel="similarity between networks", title=condition, ordered=False)
    fig.suptitle(f"{results.manifest['architecture']}, {_where(results)}: mean over pairs of networks")
    matrices = c["layer_similarities"]
    heat, hax = plt.subplots(1, len(matrices), figsize=(4.5 * len(matrices), 4), layout="constrained")
    for ax, (m, matrix) in zip(np.atleast_1d(hax), matrices.items()):
        im = ax.imshow(np.asarray(matrix), vmin=0, vmax=1, cmap="magma")
        ax.set_xticks(range(len(layers)), layers, rotation=90, fontsize="small")
        ax.set_yticks(range(len(layers)), layers, fontsize="small")
        ax.set(title=f"{results.manifest['architecture']}, {m}", xlabel="network 1", ylabel="network 0")
    heat.colorbar(im, ax=hax, shrink=0.6, label="similarity")
    return fig, heat


def plot_results_matches(results: Results) -> Figure:
    """Chapter 8 from an artifact: maximum-match similarity against epsilon per layer (mean over
    pairs of networks), trained, untrained and shuffled.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per condition.

    Raises
    ------
    ValueError
        If the artifact was computed without its neuron matches (``neurons=False``).

    Examples
    --------
    An artifact in memory with the sweeps drawn (1 layer, one pair of networks, 2 epsilons):

    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> from nnsrm_utils.results import Results
    >>> where = {"dataset_label": "CIFAR-10", "profile": "quick"}   # the manifest's entries used in titles
    >>> n = {"epsilons": [0.15, 0.5], "layers": {"conv": {"trained": [[0.1, 0.6]], "shuffled": [[0.0, 0.2]]}}}
    >>> fig = plot_results_matches(Results(where | {"architecture": "convnet"}, {"neurons": n}))
    >>> [ax.get_title() for ax in fig.axes]
    ['trained', 'shuffled']
    >>> plt.close(fig)
    """
    from .results import _section

    s = _section(results, "neurons", "neurons")
    layers = list(s["layers"])
    conditions = [k for k in ("trained", "untrained", "shuffled") if k in s["layers"][layers[0]]]
    fig, axes = plt.subplots(1, len(conditions), figsize=(4.4 * len(conditions), 3.6), sharey=True,
                             layout="constrained")
    for ax, condition in zip(np.atleast_1d(axes), conditions):
        plot_layer_curves(s["epsilons"], {layer: np.mean(s["layers"][layer][condition], axis=0) for layer in layers},
                          ax=ax, xlabel=r"$\epsilon$", ylabel="maximum-match similarity", title=condition)
    fig.suptitle(f"{results.manifest['architecture']}, {_where(results)}: fraction of neurons in the maximum match")
    return fig


def plot_results_figures(results: Results, layer: str, reference: Mapping[str, float] | None = None,
                         reference_label: str = "paper") -> list[Figure]:
    """Chapters 5 and 6 at the paper's scale, from an artifact: accuracy over training, Fig. 1A
    and Fig. 1B (class-mean RSMs) of ``layer`` after training, and every row of Fig. 3
    (``reference``: published variance explained per layer).  Returns the figures; the animation
    is :func:`animate_results`.

    Returns
    -------
    list of matplotlib.figure.Figure
        Five figures: :func:`plot_results_accuracy`, :func:`plot_results_class_means`,
        :func:`plot_results_rsms`, :func:`plot_results_settling`, :func:`plot_results_shared_fraction`.

    Raises
    ------
    ValueError, KeyError
        If the artifact lacks an array drawn.

    Examples
    --------
    An artifact in memory with every array drawn (1 layer, 2 epochs, 3 networks, 2 classes):

    >>> import numpy as np, matplotlib; matplotlib.use("Agg")   # draw off screen
    >>> import matplotlib.pyplot as plt
    >>> from nnsrm_utils.results import Results
    >>> rng = np.random.default_rng(0)
    >>> shapes = {"variance_explained": (2, 3), "pairwise_w_rsm_r": (2, 3), "settling": (2,), "class_rsm_w": (2, 2, 2),
    ...           "class_rsm_shared": (2, 2, 2), "class_rsm_native": (2, 2, 2), "trajectory_native": (2, 3, 2, 2),
    ...           "trajectory_shared": (2, 3, 2, 2), "ci_variance_explained": (2, 2), "ci_pairwise_w_rsm_r": (2, 2)}
    >>> arrays = {f"{name}.dense": rng.uniform(size=shape) for name, shape in shapes.items()}
    >>> arrays["ci_variance_explained.dense"][:] = arrays["ci_pairwise_w_rsm_r.dense"][:] = [0.0, 1.0]   # (low, high)
    >>> res = Results({"layers": ["dense"], "epochs": [0, 3], "dataset_label": "CIFAR-10", "profile": "quick"},
    ...               {"classes": ["cat", "dog"], "class_indices": [0, 1]},
    ...               arrays | {"held_out_accuracy": rng.uniform(size=(2, 3))})
    >>> figures = plot_results_figures(res, "dense")
    >>> len(figures)
    5
    >>> for fig in figures:
    ...     plt.close(fig)
    """
    return [plot_results_accuracy(results).figure, plot_results_class_means(results, layer),
            plot_results_rsms(results, layer), plot_results_settling(results).figure,
            plot_results_shared_fraction(results, reference, reference_label)]
