"""The per-round ``info`` dict shared by ``MassiveMIMOFLEnv`` and the benchmark's baseline envs."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fl_agents.api import Evaluation, RoundReport


def round_info(report: RoundReport, evaluation: Evaluation, topology_cluster: NDArray[np.int64]) -> dict[str, Any]:
    """What a round did and how the models stand after it, as fresh numpy arrays and Python scalars.

    Args:
        report: the algorithm's report of the round.
        evaluation: the evaluation after the round's aggregation.
        topology_cluster: [N] int, each EP's ground-truth topology cluster.

    Returns:
        ``round``, ``selected`` [N] bool, ``selected_eps`` (their indices), ``round_cluster`` [N] (model picked at the
        round's start), ``local_train_loss`` (of the selected EPs), ``skipped`` [N], ``learning_rate``,
        ``chosen_cluster`` [N] (model picked now), ``topology_cluster`` [N], ``train_loss`` / ``val_loss`` /
        ``val_min_se`` / ``test_min_se`` [N], ``global_min_se`` (the reward of eq. 12), ``cluster_test_min_se`` /
        ``cluster_optimal_min_se`` / ``cluster_equal_power_min_se`` [T] and ``cluster_accuracy``. Nothing
        wall-clock, so a seeded rollout repeats exactly.
    """
    selected = np.asarray(report.selected, dtype=bool)

    def floats(values: Any) -> NDArray[np.float64]:
        return np.array(values, dtype=np.float64)

    return {
        "round": int(report.round),
        "selected": selected.copy(),
        "selected_eps": np.flatnonzero(selected),
        "round_cluster": np.array(report.chosen_cluster, dtype=np.int64),
        "local_train_loss": floats(report.train_loss)[selected],
        "skipped": np.array(report.skipped, dtype=bool),
        "learning_rate": float(report.learning_rate),
        "chosen_cluster": np.array(evaluation.chosen_cluster, dtype=np.int64),
        "topology_cluster": np.array(topology_cluster, dtype=np.int64),
        "train_loss": floats(evaluation.train_loss),
        "val_loss": floats(evaluation.val_loss),
        "val_min_se": floats(evaluation.val_min_se),
        "test_min_se": floats(evaluation.test_min_se),
        "global_min_se": float(evaluation.reward),
        "cluster_test_min_se": floats(evaluation.cluster_test_min_se),
        "cluster_optimal_min_se": floats(evaluation.cluster_optimal_min_se),
        "cluster_equal_power_min_se": floats(evaluation.cluster_equal_power_min_se),
        "cluster_accuracy": float(evaluation.cluster_accuracy),
    }
