"""Global aggregation (FedAvg): one model, the |T_n|-weighted average of the selected EPs' local updates."""

from __future__ import annotations

import numpy as np

from fl_agents.algorithms.base import FederatedBase
from fl_agents.config import FLConfig


class FedAvg(FederatedBase):
    """One global model; the selected EPs train it locally and the server averages them weighted by |T_n|.

    The paper's baseline selects all N EPs every round (its runner passes an all-True mask).
    """

    name = "fedavg"

    def num_models_for(self, config: FLConfig) -> int:
        return 1

    def current_models(self) -> np.ndarray:
        return np.zeros(self.num_eps, dtype=np.int64)
