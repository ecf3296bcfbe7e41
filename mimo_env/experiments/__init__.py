"""Reproduction of the paper's Figs. 3-5: the benchmark runner, its results store, figures and table.

``run_benchmark(BenchmarkSettings(...), out_dir)`` trains every method at every CSI condition and seed and writes
one JSON file per run; ``write_report(out_dir)`` turns a results directory into PNG figures and a markdown table.
The ``mimo-fl benchmark`` and ``mimo-fl report`` commands call exactly these.
"""

from mimo_env.experiments.baseline_env import BaselineEnv
from mimo_env.experiments.report import write_report
from mimo_env.experiments.runner import BenchmarkOutcome, run_benchmark, run_method
from mimo_env.experiments.settings import DEFAULT_METHODS, DEFAULT_SIGMA2S, METHODS, BenchmarkSettings
from mimo_env.experiments.store import ResultsStore, RunResult
from mimo_env.experiments.summary import ConditionSummary, MethodSummary, summarize

__all__ = [
    "DEFAULT_METHODS",
    "DEFAULT_SIGMA2S",
    "METHODS",
    "BaselineEnv",
    "BenchmarkOutcome",
    "BenchmarkSettings",
    "ConditionSummary",
    "MethodSummary",
    "ResultsStore",
    "RunResult",
    "run_benchmark",
    "run_method",
    "summarize",
    "write_report",
]
