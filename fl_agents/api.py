"""The interface every federated algorithm implements, and what a round and an evaluation report.

``N`` is the number of EPs, ``C`` the number of cluster models (1 for single-model algorithms), ``T`` the number of
ground-truth topology clusters. Every array is numpy on the CPU, so callers never touch the training device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class RoundReport:
    """What one global round did.

    Attributes:
        round: 1-based index of the round just run.
        selected: [N] bool, the EPs that trained this round.
        chosen_cluster: [N] int64, the cluster model each EP picked by eq. (9) at the start of the round
            (0 for single-model algorithms; each EP's own model index for decentralized training is its EP index).
        train_loss: [N] float64, each selected EP's mean local training loss this round; NaN where not selected.
        skipped: [N] bool, selected EPs whose local update was non-finite and was left out of the aggregation.
        learning_rate: the local learning rate used this round.
    """

    round: int
    selected: np.ndarray
    chosen_cluster: np.ndarray
    train_loss: np.ndarray
    skipped: np.ndarray
    learning_rate: float


@dataclass(frozen=True)
class Evaluation:
    """The state of the models after a round, as each EP sees it.

    Attributes:
        chosen_cluster: [N] int64, the model each EP uses now (eq. 9 on the current models).
        train_loss: [N] float64, the chosen model's loss on each EP's training set.
        val_loss: [N] float64, the chosen model's loss on each EP's validation set.
        val_min_se: [N] float64, mean over the EP's validation samples of the sample's minimum SE (bit/s/Hz),
            evaluated with the true noise-free coefficients.
        test_min_se: [N] float64, the same on the test set.
        cluster_test_min_se: [T] float64, expected minimum SE of each ground-truth topology cluster (mean over all
            test samples of the cluster's EPs, each EP using its chosen model).
        cluster_optimal_min_se: [T] float64, the same for the exact max-min allocation (the optimum).
        cluster_equal_power_min_se: [T] float64, the same for equal power (the naive baseline).
        cluster_accuracy: fraction of EPs whose chosen cluster matches their true topology cluster, after the best
            one-to-one matching of learned clusters to true ones; NaN for algorithms without cluster models.
        reward: the global minimum SE of eq. (12), ``min(val_min_se)``.
    """

    chosen_cluster: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_min_se: np.ndarray
    test_min_se: np.ndarray
    cluster_test_min_se: np.ndarray
    cluster_optimal_min_se: np.ndarray
    cluster_equal_power_min_se: np.ndarray
    cluster_accuracy: float
    reward: float


class FederatedAlgorithm(Protocol):
    """A federated training algorithm over a federation's EPs.

    ``run_round(selected)`` runs one global round with the selected EPs (a [N] bool mask) and returns a
    :class:`RoundReport`; invalid input raises ``ValueError`` and leaves the models unchanged. ``evaluate()``
    computes an :class:`Evaluation` of the current models without changing them.
    """

    num_eps: int
    num_models: int
    round_index: int

    def run_round(self, selected: np.ndarray) -> RoundReport: ...

    def evaluate(self) -> Evaluation: ...

    def state_dict(self) -> dict:
        """Models, round index and every RNG state (CPU tensors): enough to continue the run exactly."""
        ...

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict` of the same algorithm and architecture."""
        ...
