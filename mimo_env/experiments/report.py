"""Regenerate a benchmark's figures and table from its results directory (no training involved)."""

from __future__ import annotations

from pathlib import Path

from mimo_env.experiments.figures import plot_cluster_bars, plot_convergence, sigma2_tag
from mimo_env.experiments.store import ResultsStore
from mimo_env.experiments.summary import summarize
from mimo_env.experiments.table import markdown_table

TABLE_FILE = "results.md"


def write_report(out_dir: str | Path) -> list[Path]:
    """Write, into ``out_dir``, for every CSI condition with finished runs the bar figure
    ``min_se_<sigma2 tag>.png`` and the convergence figure ``convergence_<sigma2 tag>.png``, and the table
    ``results.md`` over all conditions.

    Args:
        out_dir: a directory written by :func:`mimo_env.experiments.runner.run_benchmark`.

    Returns:
        The paths written, figures first, the table last.

    Raises:
        ValueError: the directory holds no results.
    """
    store = ResultsStore(out_dir)
    results = store.load_all()
    if not results:
        raise ValueError(f"{str(store.root)!r} holds no finished run yet")
    conditions = summarize(results)
    written = []
    for cond in conditions:
        written.append(plot_cluster_bars(cond, store.root / f"min_se_{sigma2_tag(cond.sigma2)}.png"))
        written.append(plot_convergence(cond, store.root / f"convergence_{sigma2_tag(cond.sigma2)}.png"))
    identity = store.stored_identity() or {}
    flat = {**{k: v for k, v in identity.items() if k not in ("format", "fl_config")}, **identity.get("fl_config", {})}
    settings = ", ".join(f"{k} = {v}" for k, v in flat.items() if v is not None)
    wall = sum(r.wall_time_s for r in results)
    header = (
        f"## Benchmark results\n\nSettings: {settings}. {len(results)} finished run(s), "
        f"{wall:.0f} s of training in total. Values: final expected minimum SE per ground-truth cluster "
        "on the test sets (bit/s/Hz), mean ± std over seeds, and as a fraction of the optimum."
    )
    table = store.root / TABLE_FILE
    table.write_text(markdown_table(conditions, header=header))
    written.append(table)
    return written
