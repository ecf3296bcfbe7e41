"""Clustered FL (IFCA): eq. (9) cluster choice, eq. (10) local training, eq. (11) per-cluster aggregation."""

from __future__ import annotations

import numpy as np
import torch

from fl_agents.algorithms.base import FederatedBase
from fl_agents.api import RoundReport
from fl_agents.config import FLConfig
from fl_agents.engine import ModelStack, concat_stacks


class ClusteredFL(FederatedBase):
    """C cluster models; each EP uses the one with the lowest training loss F (eq. 9).

    A round: every EP picks ``argmin_c F(T_n; W_c)`` from the current models' training losses (non-finite losses
    count as +inf; ties go to the lowest index); each selected EP trains its pick for E local epochs (eq. 10); each
    cluster model becomes the |T_n|-weighted average of the copies that picked it (eq. 11), and a cluster nobody
    picked keeps its model.

    With ``FLConfig.cluster_init == "farthest"`` the first round is preceded by a farthest-first warm start
    (:meth:`farthest_first_models`), so that distinct topologies start on distinct models.
    """

    name = "clustered"
    has_cluster_models = True

    def num_models_for(self, config: FLConfig) -> int:
        return config.num_clusters

    def current_models(self) -> np.ndarray:
        losses = self.train_loss_matrix()
        return np.where(np.isfinite(losses), losses, np.inf).argmin(axis=0).astype(np.int64)

    def farthest_first_models(self, selected: np.ndarray) -> ModelStack:
        """Warm-start cluster models from the selected EPs' local copies of model 0 (see ``FLConfig``).

        Every selected EP trains a copy of model 0 for E local epochs (round-1 learning rate). With ``D[j, i]`` =
        loss of EP j's copy on EP i's training set minus that of EP i's own copy, the first centre is the
        lowest-indexed usable EP and each next centre is ``argmax_i min_{c in centres} D[c, i]``, the EP worst
        served so far. Cluster model k becomes centre k's copy; with fewer usable EPs than C the remaining models
        keep their random start.

        Args:
            selected: [N] bool, the round-1 EPs.

        Returns:
            The C starting models.
        """
        train = self.data.train
        eps = np.flatnonzero(selected)
        copies, usable, order = [], [], []
        for size in sorted({int(train.sizes[n]) for n in eps}):
            group = eps[train.sizes[eps] == size]
            result = self.engine.local_train(
                self.models.select(torch.zeros(len(group), dtype=torch.int64, device=self.device)),
                torch.stack([train.ep_rows(int(n)) for n in group]),
                train,
                self.objective,
                lr=self.config.learning_rate(1),
                epochs=self.config.local_epochs,
                batch_size=self.config.batch_size,
                generator=self._shuffle_generator,
            )
            copies.append(result.models)
            usable.extend(result.ok.tolist())
            order.extend(group.tolist())
        stack = concat_stacks(copies)
        rho = self.engine.predict_shared(stack, train.features, train.mask)
        losses = self.objective(
            rho, train.gather(torch.arange(train.num_rows, device=self.device), self.objective.fields)
        )
        cross = train.per_ep_mean(losses.to(torch.float64)).cpu().numpy()[:, np.asarray(order)]  # [S, S]
        with np.errstate(invalid="ignore"):  # inf - inf where an EP's own copy diverged: made inf just below
            cross = cross - np.diag(cross)[None, :]  # excess loss over the EP's own copy
        cross = np.where(np.isfinite(cross), cross, np.inf)
        candidates = [s for s in np.argsort(order) if usable[s]]
        centres: list[int] = []
        while candidates and len(centres) < self.num_models:
            if centres:
                pick = max(candidates, key=lambda s: cross[centres, s].min())
            else:
                pick = candidates[0]
            centres.append(pick)
            candidates.remove(pick)
        start = self.models.clone()
        for k, s in enumerate(centres):
            for kind in ("params", "buffers"):
                for key, value in getattr(start, kind).items():
                    value[k] = getattr(stack, kind)[key][s]
        return start

    def run_round(self, selected: np.ndarray) -> RoundReport:
        if self.round_index > 0 or self.config.cluster_init != "farthest":
            return super().run_round(selected)
        mask = self._validate_selection(selected, 1)
        previous = self.models, self._model_versions.copy()
        self.models = self.farthest_first_models(mask)
        self.mark_models_changed()
        try:
            return super().run_round(mask)
        except BaseException:
            self.models, self._model_versions = previous
            raise
