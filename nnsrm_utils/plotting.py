"""Every figure the book draws: small functions that take results and an optional axis."""
import matplotlib.pyplot as plt
import numpy as np

from ._validate import LAYOUT_HINT


def _axis(ax, figsize=(4, 3.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _legend_outside(ax):
    """The legend right of the axes, where it covers no bar or line."""
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)


def plot_rsm(rsm, ax=None, title=None, labels=None, vmin=-1, vmax=1, colorbar=True, what="example", names=None):
    """Heatmap of an RSM; ``labels`` (sorted class labels per example) draw class boundaries.
    ``what`` the rows and columns are: examples, or classes for a class-mean RSM, whose
    ``names`` then label the rows and columns."""
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


def plot_rsm_row(rsms, titles, labels=None, vmin=-1, vmax=1, size=3.2, what="example", names=None):
    """Several RSMs side by side on one colour scale."""
    fig, axes = plt.subplots(1, len(rsms), figsize=(size * len(rsms) + 0.8, size), layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, r, t in zip(axes, rsms, titles):
        plot_rsm(r, ax=ax, title=t, labels=labels, vmin=vmin, vmax=vmax, colorbar=False, what=what,
                 names=names)
    fig.colorbar(axes[0].images[0], ax=axes, shrink=0.8, label="similarity")
    return fig


def plot_curve(values, ax=None, xlabel="iteration", ylabel=None, label=None, **kwargs):
    """A convergence (or any 1-D) curve against 1-based step numbers."""
    ax = _axis(ax)
    ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=3, label=label, **kwargs)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    return ax


def plot_rsm_summary(summary, labels, names):
    """The paper's Fig. 1B from a :func:`nnsrm_utils.analysis.layer_summary`: the wRSM and the
    iRSMs in the shared and the native spaces, examples ordered by class (``labels``), and below
    them each class block's mean on the same scale, rows and columns named by ``names``."""
    from .rsm import class_mean_rsm

    rsms = [summary["w_rsm"], summary["i_rsm_shared"], summary["i_rsm_native"]]
    titles = ["wRSM", "iRSM, shared space", "iRSM, native spaces"]
    return (plot_rsm_row(rsms, titles, labels=labels),
            plot_rsm_row([class_mean_rsm(r, labels) for r in rsms], [f"{t}, class means" for t in titles],
                         what="class", names=names))


def plot_bars_ci(means, lows, highs, labels, ax=None, ylabel=None, reference=None, reference_label="paper"):
    """Bars with confidence intervals; optional reference values (e.g. the paper's) as markers."""
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


def plot_points(points, labels, ax=None, title=None, xlabel="dimension 1", ylabel="dimension 2"):
    """2-D scatter of examples (columns of ``points``) coloured by label."""
    ax = _axis(ax)
    sc = ax.scatter(points[0], points[1], c=labels, cmap="coolwarm", s=12, edgecolors="none")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return sc


def plot_layer_curves(x, curves, ax=None, xlabel="epoch", ylabel=None, title=None, errors=None, ordered=True):
    """One line per entry of ``curves`` (name -> values over ``x``).  ``errors`` maps a name to
    error-bar half-lengths (e.g. the standard deviation over pairs of networks).

    ``ordered`` lines (layers, from the input up) are coloured on one sequential scale, light to
    dark, as in the paper's Fig. 3; unordered ones (measures, groups) in distinct colours."""
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


def _class_means(x, labels, classes):
    if x.shape[1] != len(labels):
        raise ValueError(f"{len(labels)} labels for {x.shape[1]} examples ({LAYOUT_HINT})")
    return np.stack([x[:, labels == c].mean(axis=1) for c in classes], axis=1)


def _pc_projection(means):
    """Centre and top-two principal axes of a set of class means: ``p = basis.T @ (m - centre)``."""
    centre = means.mean(axis=1, keepdims=True)
    return centre, np.linalg.svd(means - centre, full_matrices=False)[0][:, :2]


def plot_class_means(spaces, labels, basis_from=0, title=None):
    """Fig. 1A: each network's class means, projected on the top two PCs of one network's.

    ``spaces`` maps a panel title to a list of ``(n_units, n_examples)`` arrays (one per
    network, same units within a panel); markers tell networks apart, colours classes.
    """
    fig, axes = plt.subplots(1, len(spaces), figsize=(4.5 * len(spaces), 4), layout="constrained")
    labels = np.asarray(labels)
    classes = np.unique(labels)
    for ax, (panel, xs) in zip(np.atleast_1d(axes), spaces.items()):
        means = [_class_means(x, labels, classes) for x in xs]
        centre, basis = _pc_projection(means[basis_from])
        for i, m in enumerate(means):
            p = basis.T @ (m - centre)
            ax.scatter(p[0], p[1], c=classes, cmap="tab10", vmin=0, vmax=max(9, classes.max()),
                       marker="os^Dv*Xph"[i % 9], s=40, edgecolors="k", linewidths=0.3, label=f"network {i}")
        ax.set(title=panel, xlabel=f"PC 1 of network {basis_from}", ylabel=f"PC 2 of network {basis_from}")
    np.atleast_1d(axes)[-1].legend(fontsize="small")
    fig.suptitle(title)
    return fig


def plot_shared_fraction(summaries, layers, reference=None, reference_label="paper", title=None, untrained=None):
    """Fig. 3 middle and bottom: variance explained and mean pairwise wRSM correlation per layer.

    ``summaries`` maps a layer to :func:`nnsrm_utils.analysis.layer_summary` output; bars are
    means over networks with 95% bootstrap intervals over networks.  ``reference`` maps a layer
    to a published variance-explained value; ``untrained`` maps a layer to the summary of the
    same networks before training (epoch 0), drawn as a marker on each bar: the baseline a
    trained value is to be read against.
    """
    from .stats import bootstrap_ci

    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), layout="constrained")
    for ax, key, ylabel in ((axes[0], "variance_explained", "variance explained (held-out)"),
                            (axes[1], "pairwise_w_rsm_r", "mean pairwise RSM correlation")):
        values = [summaries[layer][key] for layer in layers]
        lows, highs = zip(*[bootstrap_ci(v, random_state=0) for v in values])
        ref = None
        if key == "variance_explained" and reference:
            ref = [reference.get(layer, np.nan) for layer in layers]
        plot_bars_ci([v.mean() for v in values], lows, highs, layers, ax=ax, ylabel=ylabel,
                     reference=ref, reference_label=reference_label)
        if untrained:
            ax.scatter(range(len(layers)), [untrained[layer][key].mean() for layer in layers], marker="_", s=400,
                       linewidths=2, color="0.25", zorder=3, label="untrained (epoch 0)")
            _legend_outside(ax)
        ax.set_ylim(0, 1)
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(title)
    return fig


def animate_class_means(frames, labels, epochs, title=""):
    """The demo page's animation: class means of every network over training, native vs shared.

    ``frames`` is :func:`nnsrm_utils.analysis.rotate_to_last_frame` output.  Every frame uses the
    projection of the last one (top two PCs of network 0's class means), so movement is real.
    Returns the GIF as bytes.
    """
    import os
    import tempfile

    from matplotlib.animation import FuncAnimation, PillowWriter

    labels = np.asarray(labels)
    classes = np.unique(labels)

    panels = ("native spaces", "shared space (SRM)")
    bases = [_pc_projection(_class_means(xs[0], labels, classes)) for xs in frames[-1]]
    points = [[[basis.T @ (_class_means(x, labels, classes) - centre) for x in xs]
               for xs, (centre, basis) in zip(frame, bases)] for frame in frames]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
    for p, ax in enumerate(axes):
        allp = np.concatenate([np.concatenate(f[p], axis=1) for f in points], axis=1)
        pad = 0.1 * (allp.max(axis=1) - allp.min(axis=1))
        ax.set(xlim=(allp[0].min() - pad[0], allp[0].max() + pad[0]), ylim=(allp[1].min() - pad[1], allp[1].max() + pad[1]),
               xlabel="PC 1 of network 0 (last epoch)", ylabel="PC 2", title=panels[p])
    scatters = [[ax.scatter([], [], c=[], cmap="tab10", vmin=0, vmax=max(9, classes.max()), s=40,
                            marker="os^Dv*Xph"[i % 9], edgecolors="k", linewidths=0.3)
                 for i in range(len(frames[0][p]))] for p, ax in enumerate(axes)]
    # which marker is which network, in every frame (grey markers: the colours are the classes)
    handles = [plt.Line2D([], [], ls="", marker="os^Dv*Xph"[i % 9], color="0.6", markeredgecolor="k",
                          label=f"network {i}") for i in range(len(frames[0][0]))]
    fig.legend(handles=handles, loc="outside right center", fontsize="small")

    def draw(t):
        for p in range(2):
            for sc, pts in zip(scatters[p], points[t][p]):
                sc.set_offsets(pts.T)
                sc.set_array(classes)
        fig.suptitle(f"{title} epoch {epochs[t]}")
        return [sc for row in scatters for sc in row]

    anim = FuncAnimation(fig, draw, frames=len(frames), blit=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "animation.gif")
        anim.save(path, writer=PillowWriter(fps=1))
        plt.close(fig)
        with open(path, "rb") as f:
            return f.read()
