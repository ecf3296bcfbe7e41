"""Centralized training: one model trained at the server on the selected EPs' pooled training data."""

from __future__ import annotations

import numpy as np
import torch

from fl_agents.algorithms.base import FederatedBase, Job
from fl_agents.config import FLConfig


class Centralized(FederatedBase):
    """One model; a round is E epochs of Adam over the pooled training sets of the selected EPs.

    ``RoundReport.train_loss`` gives every selected EP the pooled mean minibatch loss. The paper's baseline pools
    all EPs (its runner passes an all-True mask).
    """

    name = "centralized"

    def num_models_for(self, config: FLConfig) -> int:
        return 1

    def current_models(self) -> np.ndarray:
        return np.zeros(self.num_eps, dtype=np.int64)

    def make_jobs(self, selected: np.ndarray, chosen: np.ndarray) -> list[Job]:
        eps = tuple(int(n) for n in np.flatnonzero(selected))
        rows = torch.cat([self.data.train.ep_rows(n) for n in eps])
        return [Job(0, eps, rows, float(rows.numel()))]
