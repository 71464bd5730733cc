"""Every figure the book draws: small functions that take results and an optional axis."""
import matplotlib.pyplot as plt
import numpy as np


def _axis(ax, figsize=(4, 3.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_rsm(rsm, ax=None, title=None, labels=None, vmin=-1, vmax=1, colorbar=True):
    """Heatmap of an RSM; ``labels`` (sorted class labels per example) draw class boundaries."""
    ax = _axis(ax)
    im = ax.imshow(rsm, cmap="RdBu_r", vmin=vmin, vmax=vmax, interpolation="nearest")
    if labels is not None:
        for edge in np.flatnonzero(np.diff(np.asarray(labels))) + 0.5:
            ax.axhline(edge, color="k", lw=0.6)
            ax.axvline(edge, color="k", lw=0.6)
    ax.set(title=title, xlabel="example", ylabel="example")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8, label="similarity")
    return ax


def plot_rsm_row(rsms, titles, labels=None, vmin=-1, vmax=1, size=3.2):
    """Several RSMs side by side on one colour scale."""
    fig, axes = plt.subplots(1, len(rsms), figsize=(size * len(rsms) + 0.8, size), layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, r, t in zip(axes, rsms, titles):
        plot_rsm(r, ax=ax, title=t, labels=labels, vmin=vmin, vmax=vmax, colorbar=False)
    fig.colorbar(axes[0].images[0], ax=axes, shrink=0.8, label="similarity")
    return fig


def plot_curve(values, ax=None, xlabel="iteration", ylabel=None, label=None, **kwargs):
    """A convergence (or any 1-D) curve against 1-based step numbers."""
    ax = _axis(ax)
    ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=3, label=label, **kwargs)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    return ax


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
    ax.legend(fontsize="small")
    return ax


def plot_points(points, labels, ax=None, title=None, xlabel="dimension 1", ylabel="dimension 2"):
    """2-D scatter of examples (columns of ``points``) coloured by label."""
    ax = _axis(ax)
    sc = ax.scatter(points[0], points[1], c=labels, cmap="coolwarm", s=12, edgecolors="none")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return sc
