"""Decentralized training: every EP trains its own model on its own data only."""

from __future__ import annotations

import numpy as np
import torch

from fl_agents.algorithms.base import FederatedBase
from fl_agents.config import FLConfig
from fl_agents.data import DeviceSplit


class Decentralized(FederatedBase):
    """N models, model n belongs to EP n; the selected EPs train their own model (no aggregation across EPs).

    Evaluation runs model n on EP n's data only (batched over EPs of equal split size).
    """

    name = "decentralized"

    def num_models_for(self, config: FLConfig) -> int:
        return self.num_eps

    def current_models(self) -> np.ndarray:
        return np.arange(self.num_eps, dtype=np.int64)

    def train_losses(self, models: np.ndarray) -> np.ndarray:
        return self._split_metrics(self.data.train, models)[0]  # own model only, not all N models on all data

    def predict(self, split: DeviceSplit, models: np.ndarray) -> torch.Tensor:
        rho = torch.empty((split.num_rows, split.mask.shape[1]), device=self.device)
        for size in np.unique(split.sizes):
            eps = np.flatnonzero(split.sizes == size)
            rows = torch.stack([split.ep_rows(int(n)) for n in eps])  # [G, n]
            stack = self.models.select(torch.as_tensor(models[eps], device=self.device))
            rho[rows] = self.engine.predict_paired(stack, split.features[rows], split.mask[rows])
        return rho
