"""Hyperparameters of federated training as one validated, frozen dataclass."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from fl_agents.models import MODEL_NAMES
from mimo_env.validation import is_finite_number, is_int, plain_scalars

OBJECTIVES = ("mse", "se")
CLUSTER_INITS = ("random", "farthest")


def _require(condition: bool, name: str, value: object, expected: str) -> None:
    """Raise ``ValueError`` naming the field and the value when ``condition`` is false."""
    if not condition:
        raise ValueError(f"FLConfig.{name} must be {expected}, got {value!r}")


@dataclass(frozen=True)
class FLConfig:
    """Federated-learning hyperparameters (defaults: the paper's Section IV).

    Attributes:
        num_clusters: C, the number of cluster models of clustered FL (ignored by the single-model baselines).
        model: architecture name, one of :data:`fl_agents.models.MODEL_NAMES`.
        width: the architecture's width (channels or hidden units); ``None`` takes the model's default
            (64 for ``resnet3d18``, the paper's).
        objective: ``"mse"`` (the paper's: MSE between rho and rho* over real slots, in units of p_max) or
            ``"se"`` (relative regret of a smooth minimum of the SE on the EP's estimated coefficients); also the
            loss F of eq. (9) and of the contexts. See :mod:`fl_agents.objectives`.
        lr: eta, the initial local learning rate of Adam.
        lr_decay: relative decrease of the learning rate per round: ``lr_t = lr * (1 - lr_decay) ** (t - 1)``.
        batch_size: local minibatch size.
        local_epochs: E, local epochs per round (eq. 10).
        se_temperature: tau (bit/s/Hz) of the smooth minimum ``-tau * logsumexp(-SE / tau)`` of the ``"se"``
            objective; smaller is closer to the hard minimum.
        cluster_init: how clustered FL's C models start. ``"random"``: independently initialised (the paper's);
            eq. (9) then maps topologies to models at random in round 1 and topologies that share a model stay
            merged. ``"farthest"``: before round 1 each round-1 EP trains a copy of one random model for E local
            epochs, and the C cluster models start as the copies of C EPs picked farthest-first by their excess
            cross-losses (EP j's copy on EP i's training data, minus EP i's own copy's); eqs. (9)-(11) then run
            unchanged.
    """

    num_clusters: int = 3
    model: str = "mlp"
    width: int | None = None
    objective: str = "mse"
    lr: float = 1e-3
    lr_decay: float = 0.002
    batch_size: int = 32
    local_epochs: int = 1
    se_temperature: float = 0.05
    cluster_init: str = "farthest"

    def __post_init__(self) -> None:
        for name in ("num_clusters", "batch_size", "local_epochs"):
            value = getattr(self, name)
            _require(is_int(value) and value >= 1, name, value, "a positive integer")
        _require(self.model in MODEL_NAMES, "model", self.model, f"one of {MODEL_NAMES}")
        _require(
            self.width is None or (is_int(self.width) and self.width >= 1),
            "width",
            self.width,
            "None or a positive integer",
        )
        _require(self.objective in OBJECTIVES, "objective", self.objective, f"one of {OBJECTIVES}")
        _require(is_finite_number(self.lr) and self.lr > 0, "lr", self.lr, "a finite number > 0")
        _require(is_finite_number(self.lr_decay) and 0 <= self.lr_decay < 1, "lr_decay", self.lr_decay, "in [0, 1)")
        _require(self.cluster_init in CLUSTER_INITS, "cluster_init", self.cluster_init, f"one of {CLUSTER_INITS}")
        _require(
            is_finite_number(self.se_temperature) and self.se_temperature > 0,
            "se_temperature",
            self.se_temperature,
            "a finite number > 0",
        )
        plain_scalars(self)

    def learning_rate(self, round_index: int) -> float:
        """``lr * (1 - lr_decay) ** (t - 1)`` for the 1-based round ``t``."""
        if not is_int(round_index) or round_index < 1:
            raise ValueError(f"round_index must be a positive integer, got {round_index!r}")
        return self.lr * (1.0 - self.lr_decay) ** (round_index - 1)

    def replace(self, **changes: object) -> FLConfig:
        """A copy with ``changes`` applied (validated like a new config)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown FLConfig field(s): {sorted(unknown)}")
        return dataclasses.replace(self, **changes)
