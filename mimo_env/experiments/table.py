"""The markdown table of a benchmark's final values: mean ± std over seeds, and as a fraction of the optimum."""

from __future__ import annotations

from collections.abc import Sequence

from mimo_env.experiments.figures import condition_title
from mimo_env.experiments.settings import METHOD_LABELS
from mimo_env.experiments.summary import ConditionSummary, relative_gain

_GAIN_OVER = ("clustered-uniform", "decentralized", "centralized", "fedavg")


def markdown_table(conditions: Sequence[ConditionSummary], header: str = "") -> str:
    """One table per CSI condition: rows are methods (then the optimum and equal power), columns clusters.

    A method's cell reads ``mean ± std (fraction of optimum mean ± std)`` of the final expected minimum SE over
    its seeds (bit/s/Hz); the fraction is taken per seed against that seed's optimum. Below each table, when
    ``clustered-cmab`` ran, its gain over the other methods in the paper's terms (mean over clusters of the ratio
    of seed means, minus 1).

    Args:
        conditions: the summaries, one per sigma2.
        header: text placed above the tables (e.g. the settings).

    Returns:
        The markdown text.
    """
    lines = [header.rstrip(), ""] if header else []
    for cond in conditions:
        t = cond.num_clusters
        lines.append(f"### {condition_title(cond.sigma2)}")
        lines.append("")
        lines.append("| method | seeds | " + " | ".join(f"cluster {c + 1}" for c in range(t)) + " |")
        lines.append("|---|---|" + "---|" * t)
        for ms in cond.methods:
            mean, std = ms.final.mean(axis=0), ms.final.std(axis=0)
            fmean, fstd = ms.final_fraction.mean(axis=0), ms.final_fraction.std(axis=0)
            cells = [f"{mean[c]:.3f} ± {std[c]:.3f} ({fmean[c]:.1%} ± {fstd[c]:.1%})" for c in range(t)]
            lines.append(f"| {METHOD_LABELS[ms.method]} | {len(ms.seeds)} | " + " | ".join(cells) + " |")
        lines.append("| Optimal (max-min) | | " + " | ".join(f"{v:.3f} (100%)" for v in cond.optimal) + " |")
        lines.append(
            "| Equal power | | "
            + " | ".join(f"{v:.3f} ({v / o:.1%})" for v, o in zip(cond.equal_power, cond.optimal, strict=True))
            + " |"
        )
        gains = [(other, relative_gain(cond, "clustered-cmab", other)) for other in _GAIN_OVER]
        gains = [(other, g) for other, g in gains if g is not None]
        if gains:
            lines.append("")
            lines.append(
                "Clustered FL + CMAB against "
                + ", ".join(f"{METHOD_LABELS[other]}: {g:+.1%}" for other, g in gains)
                + " (mean over clusters)."
            )
        lines.append("")
    return "\n".join(lines)
