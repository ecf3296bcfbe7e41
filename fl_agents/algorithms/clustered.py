"""Clustered FL (IFCA): eq. (9) cluster choice, eq. (10) local training, eq. (11) per-cluster aggregation."""

from __future__ import annotations

import numpy as np

from fl_agents.algorithms.base import FederatedBase
from fl_agents.config import FLConfig


class ClusteredFL(FederatedBase):
    """C cluster models; each EP uses the one with the lowest training loss F (eq. 9).

    A round: every EP picks ``argmin_c F(T_n; W_c)`` from the current models' training losses (non-finite losses
    count as +inf; ties go to the lowest index); each selected EP trains its pick for E local epochs (eq. 10); each
    cluster model becomes the |T_n|-weighted average of the copies that picked it (eq. 11), and a cluster nobody
    picked keeps its model.
    """

    name = "clustered"
    has_cluster_models = True

    def num_models_for(self, config: FLConfig) -> int:
        return config.num_clusters

    def current_models(self) -> np.ndarray:
        losses = np.where(np.isfinite(self.train_loss_matrix()), self.train_loss_matrix(), np.inf)
        return losses.argmin(axis=0).astype(np.int64)
