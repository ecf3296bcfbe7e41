"""PNG figures of a benchmark: per-cluster bars in the style of the paper's Figs. 3-5, and convergence curves.

Figures are drawn on :class:`matplotlib.figure.Figure` objects rendered by the Agg backend, never through
``pyplot``, so no global backend or GUI state is touched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mimo_env.experiments.settings import METHOD_LABELS
from mimo_env.experiments.summary import ConditionSummary

_COLORS = {
    "centralized": "tab:blue",
    "decentralized": "tab:orange",
    "fedavg": "tab:green",
    "clustered-uniform": "tab:purple",
    "clustered-cmab": "tab:red",
    "clustered-sb3": "tab:brown",
}


def condition_title(sigma2: float) -> str:
    """How the paper names a CSI condition."""
    return "perfect CSI (σ² = 0)" if sigma2 == 0 else f"imperfect CSI (σ² = {sigma2:g})"


def sigma2_tag(sigma2: float) -> str:
    """File-name tag of a CSI condition, exact (``repr``) so that distinct values never collide."""
    return f"sigma2={float(sigma2)!r}"


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=120)
    return path


def plot_cluster_bars(condition: ConditionSummary, path: str | Path) -> Path:
    """Grouped bars of the final per-cluster expected minimum SE of every method (the paper's Figs. 3-5).

    Bar height: mean over seeds; error bar: standard deviation over seeds (none with one seed). A solid black
    segment across each cluster's group marks the optimum (exact max-min), a dashed grey one equal power.

    Args:
        condition: the summary of one sigma2.
        path: the PNG to write.

    Returns:
        The path written.
    """
    t, m = condition.num_clusters, len(condition.methods)
    fig = Figure(figsize=(1.9 * t + 3.2, 4.2), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(t, dtype=float)
    width = 0.8 / max(m, 1)
    for i, ms in enumerate(condition.methods):
        final = ms.final
        ax.bar(
            x - 0.4 + (i + 0.5) * width,
            final.mean(axis=0),
            width,
            yerr=final.std(axis=0) if final.shape[0] > 1 else None,
            capsize=3,
            color=_COLORS[ms.method],
            label=METHOD_LABELS[ms.method],
        )
    for c in range(t):
        ax.hlines(
            condition.optimal[c],
            c - 0.45,
            c + 0.45,
            colors="black",
            linewidths=2,
            label="Optimal (max-min)" if c == 0 else None,
        )
        ax.hlines(
            condition.equal_power[c],
            c - 0.45,
            c + 0.45,
            colors="grey",
            linestyles="dashed",
            linewidths=1.5,
            label="Equal power" if c == 0 else None,
        )
    ax.set_xticks(x, [f"Cluster {c + 1}" for c in range(t)])
    ax.set_ylabel("Expected minimum SE (bit/s/Hz)")
    seeds = max((len(ms.seeds) for ms in condition.methods), default=0)
    ax.set_title(f"Expected minimum SE per cluster, {condition_title(condition.sigma2)}, {seeds} seed(s)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.set_ylim(bottom=0)
    return _save(fig, Path(path))


def plot_convergence(condition: ConditionSummary, path: str | Path) -> Path:
    """Per-cluster expected minimum SE over rounds, one panel per cluster plus the reward (eq. 12).

    Lines: mean over seeds; shading: min to max over seeds; dashed black line: the optimum.

    Args:
        condition: the summary of one sigma2.
        path: the PNG to write.

    Returns:
        The path written.
    """
    t = condition.num_clusters
    fig = Figure(figsize=(3.6 * (t + 1), 3.6), layout="constrained")
    axes = fig.subplots(1, t + 1, sharey=True)
    for ms in condition.methods:
        rounds = np.arange(1, ms.curves.shape[1] + 1)
        series = [ms.curves[:, :, c] for c in range(t)] + [ms.reward]
        for ax, values in zip(axes, series, strict=True):
            ax.plot(rounds, values.mean(axis=0), color=_COLORS[ms.method], label=METHOD_LABELS[ms.method])
            ax.fill_between(
                rounds, values.min(axis=0), values.max(axis=0), color=_COLORS[ms.method], alpha=0.2, linewidth=0
            )
    for c in range(t):
        axes[c].axhline(condition.optimal[c], color="black", linestyle="dashed", linewidth=1, label="Optimal")
        axes[c].set_title(f"Cluster {c + 1}")
    axes[t].set_title("Reward: global min SE (eq. 12)")
    axes[0].set_ylabel("Expected minimum SE (bit/s/Hz)")
    for ax in axes:
        ax.set_xlabel("Global round")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize="small")
    fig.suptitle(f"Convergence, {condition_title(condition.sigma2)}")
    return _save(fig, Path(path))
