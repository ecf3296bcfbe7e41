"""Hand-made run results for tests that need no training."""

from __future__ import annotations

import numpy as np

from mimo_env.experiments.settings import BenchmarkSettings
from mimo_env.experiments.store import RunResult


def fake_result(
    settings: BenchmarkSettings,
    method: str,
    sigma2: float,
    seed: int,
    level: float = 1.0,
    num_clusters: int = 3,
    num_eps: int = 6,
) -> RunResult:
    """A run whose cluster-c curve rises linearly to ``level * (c + 1) + 0.1 * seed`` over the round budget.

    Its optimum is ``2 * (c + 1)`` and equal power ``c + 1``, so every final value is known in closed form.
    """
    rounds = settings.rounds
    final = level * np.arange(1, num_clusters + 1) + 0.1 * seed
    ramp = np.linspace(0.5, 1.0, rounds)[:, None]
    selected = np.zeros((rounds, num_eps), dtype=bool)
    selected[0] = True
    selected[1:, : settings.ep_budget] = True
    return RunResult(
        method=method,
        sigma2=sigma2,
        seed=seed,
        settings=settings.to_dict(),
        identity=settings.identity(),
        cluster_test_min_se=ramp * final,
        reward=ramp[:, 0] * final.min(),
        cluster_accuracy=np.full(rounds, np.nan if method in ("centralized", "fedavg") else 1.0),
        selected=selected,
        optimal_min_se=2.0 * np.arange(1, num_clusters + 1),
        equal_power_min_se=1.0 * np.arange(1, num_clusters + 1),
        wall_time_s=1.5,
    )
