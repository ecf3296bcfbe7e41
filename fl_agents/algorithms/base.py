"""Shared machinery of the federated algorithms: data on the device, rounds, aggregation, evaluation, state.

An algorithm is a small subclass that fills three hooks:

- :meth:`FederatedBase.num_models_for` — how many models it trains;
- :meth:`FederatedBase.current_models` — the model each EP uses now ([N] int64; eq. 9 for clustered FL);
- :meth:`FederatedBase.make_jobs` — the round's local trainings (which rows, into which model, with which
  aggregation weight).

A round: validate the mask (``ValueError`` naming the round, models untouched) -> choose models -> run all jobs'
local training batched (:meth:`fl_agents.engine.BatchedEngine.local_train`, one batch per group of equal training
size) -> drop non-finite jobs (reported in ``RoundReport.skipped``, with a warning naming EP and round) ->
aggregate eq. (11) -> commit the new models and the round index together.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from fl_agents.api import Evaluation, RoundReport
from fl_agents.config import FLConfig
from fl_agents.data import DeviceFederation, DeviceSplit
from fl_agents.engine import BatchedEngine, ModelStack, aggregate, concat_stacks
from fl_agents.models import build_model
from fl_agents.objectives import Objective, min_se, slot_se
from mimo_env.federation import Federation


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a ``torch.device``."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str) or not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda[:i]' or a torch.device, got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return torch.device(device)


@dataclass(frozen=True)
class Job:
    """One local training of a round.

    Attributes:
        target: index of the model it starts from and is aggregated into.
        eps: the EPs whose data it uses (one for EP-local training; all selected for centralized training).
        rows: [n] int64 (device), the training rows.
        weight: aggregation weight (|T_n|, the number of rows).
    """

    target: int
    eps: tuple[int, ...]
    rows: torch.Tensor
    weight: float


class FederatedBase:
    """Base of every algorithm (implements :class:`fl_agents.api.FederatedAlgorithm`).

    Args:
        federation: the EPs' datasets (:func:`mimo_env.dataset.build_federation`).
        config: the hyperparameters.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or a ``torch.device``.
        seed: seeds model initialisation and the minibatch shuffles (separate ``torch.Generator`` per purpose;
            torch's global RNG is never advanced).
    """

    name = "base"
    has_cluster_models = False

    def __init__(
        self, federation: Federation, config: FLConfig, device: str | torch.device = "auto", seed: int = 0
    ) -> None:
        if not isinstance(federation, Federation):
            raise ValueError(f"federation must be a mimo_env.federation.Federation, got {type(federation).__name__}")
        if not isinstance(config, FLConfig):
            raise ValueError(f"config must be an FLConfig, got {type(config).__name__}")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        scenario = federation.config
        self.config = config
        self.device = resolve_device(device)
        self.num_eps = federation.num_eps
        self.data = DeviceFederation.from_federation(federation, self.device)
        self.objective = Objective(config.objective, scenario.p_max_mw, scenario.se_prefactor, config.se_temperature)
        self.se_prefactor = scenario.se_prefactor
        self.engine = BatchedEngine(
            lambda: build_model(
                config.model,
                k_max=scenario.k_max,
                num_cells=scenario.num_cells,
                p_max=scenario.p_max_mw,
                width=config.width,
            ),
            self.device,
        )
        init_seed, shuffle_seed = np.random.SeedSequence(int(seed)).generate_state(2, dtype=np.uint64)
        self._init_generator = torch.Generator().manual_seed(int(init_seed))
        self._shuffle_generator = torch.Generator().manual_seed(int(shuffle_seed))
        self.num_models = self.num_models_for(config)
        self.models: ModelStack = self.engine.init_stack(self.num_models, self._init_generator)
        self.round_index = 0
        self._version_counter = 0
        self._model_versions = np.zeros(self.num_models, dtype=np.int64)  # bumped whenever a model changes
        self._loss_rows = np.zeros((self.num_models, self.num_eps))  # cached train_loss_matrix rows ...
        self._loss_row_versions = np.full(self.num_models, -1, dtype=np.int64)  # ... for these model versions

    # ----- hooks ---------------------------------------------------------------------------------------------------
    def num_models_for(self, config: FLConfig) -> int:
        """Number of models the algorithm trains."""
        raise NotImplementedError

    def current_models(self) -> np.ndarray:
        """[N] int64, the model each EP uses now."""
        raise NotImplementedError

    def make_jobs(self, selected: np.ndarray, chosen: np.ndarray) -> list[Job]:
        """The round's local trainings. Default: each selected EP trains its chosen model on its own data."""
        train = self.data.train
        return [
            Job(int(chosen[n]), (int(n),), train.ep_rows(int(n)), float(train.sizes[n]))
            for n in np.flatnonzero(selected)
        ]

    # ----- rounds --------------------------------------------------------------------------------------------------
    def _validate_selection(self, selected: object, round_index: int) -> np.ndarray:
        array = np.asarray(selected)
        if array.shape != (self.num_eps,):
            raise ValueError(
                f"round {round_index}: selected must have shape ({self.num_eps},), got shape {array.shape}"
            )
        if array.dtype != np.bool_:
            if not np.issubdtype(array.dtype, np.integer):
                raise ValueError(
                    f"round {round_index}: selected must be a bool (or 0/1 integer) mask, got dtype {array.dtype}"
                )
            bad = np.flatnonzero((array != 0) & (array != 1))
            if bad.size:
                raise ValueError(
                    f"round {round_index}: selected must be binary, got {array[bad[0]].item()!r} at EP {int(bad[0])}"
                )
            array = array.astype(bool)
        if not array.any():
            raise ValueError(f"round {round_index}: selected is empty; select at least one EP")
        return array

    def run_round(self, selected: np.ndarray) -> RoundReport:
        """One global round with the selected EPs (a [N] bool mask); see the module docstring.

        Raises:
            ValueError: the mask has the wrong shape or dtype, is not binary, or is empty (models unchanged).
        """
        round_index = self.round_index + 1
        mask = self._validate_selection(selected, round_index)
        chosen = self.current_models()
        jobs = self.make_jobs(mask, chosen)
        lr = self.config.learning_rate(round_index)
        train_loss = np.full(self.num_eps, np.nan)
        skipped = np.zeros(self.num_eps, dtype=bool)
        trained, targets, weights, oks = [], [], [], []
        for size in sorted({int(job.rows.numel()) for job in jobs}):
            group = [job for job in jobs if int(job.rows.numel()) == size]
            target = torch.as_tensor([job.target for job in group], device=self.device)
            result = self.engine.local_train(
                self.models.select(target),
                torch.stack([job.rows for job in group]),
                self.data.train,
                self.objective,
                lr=lr,
                epochs=self.config.local_epochs,
                batch_size=self.config.batch_size,
                generator=self._shuffle_generator,
            )
            for job, loss, ok in zip(group, result.mean_loss, result.ok, strict=True):
                train_loss[list(job.eps)] = loss
                skipped[list(job.eps)] = not ok
            trained.append(result.models)
            targets.extend(job.target for job in group)
            weights.extend(job.weight for job in group)
            oks.extend(result.ok.tolist())
        new_models = aggregate(
            self.models, concat_stacks(trained), np.asarray(targets), np.asarray(weights), np.asarray(oks, dtype=bool)
        )
        for n in np.flatnonzero(skipped):
            warnings.warn(
                f"round {round_index}: EP {int(n)}'s local update is non-finite (loss {train_loss[n]}); "
                "left out of the aggregation",
                stacklevel=2,
            )
        self.models = new_models
        self.round_index = round_index
        self.mark_models_changed(np.unique(np.asarray(targets)[np.asarray(oks, dtype=bool)]))
        return RoundReport(
            round=round_index,
            selected=mask.copy(),
            chosen_cluster=chosen.astype(np.int64),
            train_loss=train_loss,
            skipped=skipped,
            learning_rate=lr,
        )

    # ----- evaluation ------------------------------------------------------------------------------------------------
    def mark_models_changed(self, models: np.ndarray | None = None) -> None:
        """Invalidate cached losses of ``models`` (indices; all when None) after their weights changed."""
        self._version_counter += 1
        self._model_versions[slice(None) if models is None else np.asarray(models, dtype=np.int64)] = (
            self._version_counter
        )

    def train_loss_matrix(self) -> np.ndarray:
        """[M, N] float64, every model's loss F on every EP's training set (all EPs' data in one pass per model).

        Rows are cached per model and recomputed only for models that changed since (e.g. a cluster nobody
        selected keeps its row); each row is computed alone, so cached and fresh rows are bitwise identical.
        """
        split = self.data.train
        every_row = torch.arange(split.num_rows, device=self.device)
        for m in np.flatnonzero(self._loss_row_versions != self._model_versions):
            single = self.models.select(torch.tensor([int(m)], device=self.device))
            rho = self.engine.predict_shared(single, split.features, split.mask)
            losses = self.objective(rho, split.gather(every_row, self.objective.fields))
            self._loss_rows[m] = split.per_ep_mean(losses.to(torch.float64)).cpu().numpy()[0]
            self._loss_row_versions[m] = self._model_versions[m]
        return self._loss_rows.copy()

    def train_losses(self, models: np.ndarray) -> np.ndarray:
        """[N] float64, the loss F of model ``models[n]`` on EP n's training set (from :meth:`train_loss_matrix`)."""
        return self.train_loss_matrix()[models, np.arange(self.num_eps)]

    def predict(self, split: DeviceSplit, models: np.ndarray) -> torch.Tensor:
        """rho of every row of ``split``, each EP using model ``models[n]``: -> [R, U] float."""
        rho = self.engine.predict_shared(self.models, split.features, split.mask)  # [M, R, U]
        row_model = torch.as_tensor(models, device=self.device)[split.ep_of_row]
        return rho[row_model, torch.arange(split.num_rows, device=self.device)]

    def _split_metrics(self, split: DeviceSplit, models: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-EP loss [N], per-EP mean true min-SE [N] and per-row true min-SE [R] (float64 numpy)."""
        rho = self.predict(split, models)
        every_row = torch.arange(split.num_rows, device=self.device)
        loss = self.objective(rho, split.gather(every_row, self.objective.fields)).to(torch.float64)
        row_se = min_se(slot_se(rho, split.true_a, split.true_b, self.se_prefactor), split.mask).to(torch.float64)
        return (split.per_ep_mean(loss).cpu().numpy(), split.per_ep_mean(row_se).cpu().numpy(), row_se.cpu().numpy())

    def cluster_accuracy(self, models: np.ndarray) -> float:
        """Fraction of EPs whose model matches their true topology cluster after the best one-to-one matching."""
        if not self.has_cluster_models:
            return float("nan")
        truth = self.data.topology_clusters
        confusion = np.zeros((self.num_models, self.data.num_topology_clusters))
        np.add.at(confusion, (models, truth), 1.0)
        learned, true = linear_sum_assignment(confusion, maximize=True)
        return float(confusion[learned, true].sum() / self.num_eps)

    def evaluate(self) -> Evaluation:
        """The current models as each EP sees them (models unchanged); see :class:`fl_agents.api.Evaluation`."""
        models = self.current_models()
        train_loss = self.train_losses(models)
        val_loss, val_min_se, _ = self._split_metrics(self.data.val, models)
        _, test_min_se, test_rows = self._split_metrics(self.data.test, models)
        test = self.data.test
        clusters = test.topology_cluster_of_row
        count = np.bincount(clusters, minlength=self.data.num_topology_clusters)

        def per_cluster(values: np.ndarray) -> np.ndarray:
            return np.bincount(clusters, weights=values, minlength=self.data.num_topology_clusters) / count

        return Evaluation(
            chosen_cluster=models.astype(np.int64),
            train_loss=train_loss,
            val_loss=val_loss,
            val_min_se=val_min_se,
            test_min_se=test_min_se,
            cluster_test_min_se=per_cluster(test_rows),
            cluster_optimal_min_se=per_cluster(test.optimal_min_se),
            cluster_equal_power_min_se=per_cluster(test.equal_power_min_se),
            cluster_accuracy=self.cluster_accuracy(models),
            reward=float(np.min(val_min_se)),
        )

    # ----- checkpoints -----------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Models (CPU copies), round index and every RNG state: enough to continue a run exactly."""
        cpu = self.models.to(torch.device("cpu")).clone()
        return {
            "algorithm": self.name,
            "round_index": self.round_index,
            "params": cpu.params,
            "buffers": cpu.buffers,
            "init_generator": self._init_generator.get_state(),
            "shuffle_generator": self._shuffle_generator.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (same algorithm, architecture and number of models).

        Raises:
            ValueError: the state belongs to another algorithm or its tensors do not match this architecture.
        """
        if state.get("algorithm") != self.name:
            raise ValueError(f"state is for algorithm {state.get('algorithm')!r}, not {self.name!r}")
        for kind in ("params", "buffers"):
            ours = getattr(self.models, kind)
            theirs = state[kind]
            if set(theirs) != set(ours) or any(theirs[k].shape != ours[k].shape for k in ours):
                raise ValueError(
                    f"state {kind} do not match this algorithm's {self.num_models} {self.config.model!r} model(s)"
                )
        self.models = ModelStack(
            {k: v.clone() for k, v in state["params"].items()}, {k: v.clone() for k, v in state["buffers"].items()}
        ).to(self.device)
        self.round_index = int(state["round_index"])
        self._init_generator.set_state(state["init_generator"])
        self._shuffle_generator.set_state(state["shuffle_generator"])
        self.mark_models_changed()
