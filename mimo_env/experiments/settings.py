"""The benchmark's settings: which methods, CSI conditions, seeds and round budget, validated before any work.

A benchmark is the grid ``methods x sigma2s x seeds``; every cell is one *run* (one method trained for ``rounds``
global rounds on the federation of ``preset(preset, sigma2=s)`` built with data seed ``seed``). Everything else
(preset, rounds, model, objective, EP budget, SB3 model) defines what a run *means*: that part is the experiment's
identity (:meth:`BenchmarkSettings.identity`), and one output directory only ever holds runs of one identity.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ep_selectors.sb3 import ALGORITHMS as SB3_ALGORITHMS
from fl_agents.algorithms.base import resolve_device
from fl_agents.config import FLConfig
from mimo_env.config import PRESETS
from mimo_env.validation import is_int, plain_scalars

BASELINE_METHODS = ("centralized", "decentralized", "fedavg")
"""Methods trained through ``fl_agents.make_algorithm`` with every EP in every round."""

CLUSTERED_METHODS = ("clustered-uniform", "clustered-cmab", "clustered-sb3")
"""Methods run as episodes of the ``MIMOClusteredFL-v0`` env, driven by an EP selector."""

METHODS = BASELINE_METHODS + CLUSTERED_METHODS
"""Every benchmark method, in the order figures and tables show them."""

DEFAULT_METHODS = ("centralized", "decentralized", "fedavg", "clustered-uniform", "clustered-cmab")
"""What runs when no method list is given (plus ``clustered-sb3`` when an SB3 model is given)."""

DEFAULT_SIGMA2S = (0.0, 5e-4, 1e-2)
"""The CSI-noise variances of the paper's Figs. 3, 4 and 5."""

METHOD_LABELS = {
    "centralized": "Centralized",
    "decentralized": "Decentralized",
    "fedavg": "Global aggregation",
    "clustered-uniform": "Clustered FL + uniform",
    "clustered-cmab": "Clustered FL + CMAB",
    "clustered-sb3": "Clustered FL + SB3",
}
"""Names as the paper's legends write them."""

FORMAT_VERSION = 1
"""Version of the result files; bump when their content changes meaning."""


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (identifies an SB3 model independently of where it lies)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class BenchmarkSettings:
    """What a benchmark runs. Construction validates every field, so bad input fails before any work.

    Attributes:
        preset: scenario preset name (``"paper"``, ``"quick"``, ``"tiny"``); each run uses
            ``preset(preset, sigma2=s)``, so the preset's noisy-label schedule applies at every sigma2.
        sigma2s: CSI-noise variances (normalised units), finite and >= 0, no duplicates.
        seeds: number of seeds; run ``i`` uses data seed and episode seed ``i`` for ``i`` in ``range(seeds)``.
        rounds: global rounds per run, round 1 included (>= 2; round 1 trains all EPs for every method).
        methods: a subset of :data:`METHODS`, without duplicates.
        model: FL model name (``fl_agents.models.MODEL_NAMES``).
        width: the model's width (None: the model's default).
        objective: training objective (``fl_agents.config.OBJECTIVES``: the paper's ``"mse"``, SE-aware ``"se"``).
        ep_budget: S, the EPs a clustered method selects per round after round 1.
        device: training device (``"auto"``, ``"cpu"``, ``"cuda"``...); not part of the identity.
        cache_dir: dataset cache folder of ``mimo_env.dataset.build_federation`` (None: its default,
            ``$MIMO_FL_CACHE`` or ``~/.cache/mimo-clustered-fl``); not part of the identity.
        sb3_model: path of a trained stable-baselines3 model (``.zip``, which may be left off as in SB3); required
            by, and only used by, ``clustered-sb3``.
        sb3_algo: its algorithm (``"PPO"``, ``"A2C"``, ``"SAC"``, ``"TD3"``).
        sb3_model_sha256: SHA-256 of that file when the settings were made (set by the constructor), so that a
            retrained model is a different experiment even at the same path.
    """

    preset: str = "quick"
    sigma2s: tuple[float, ...] = DEFAULT_SIGMA2S
    seeds: int = 3
    rounds: int = 50
    methods: tuple[str, ...] = DEFAULT_METHODS
    model: str = "mlp"
    width: int | None = None
    objective: str = "mse"
    ep_budget: int = 3
    device: str = "auto"
    cache_dir: str | None = None
    sb3_model: str | None = None
    sb3_algo: str = "PPO"
    sb3_model_sha256: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        for name in ("sigma2s", "methods"):
            if not isinstance(getattr(self, name), (tuple, list)):
                raise ValueError(f"{name} must be a tuple, got {getattr(self, name)!r}")
        object.__setattr__(self, "sigma2s", tuple(self.sigma2s))
        object.__setattr__(self, "methods", tuple(self.methods))
        if not isinstance(self.preset, str) or self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {self.preset!r}")
        if not self.sigma2s:
            raise ValueError("sigma2s must hold at least one value, got ()")
        for s in self.sigma2s:
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s < 0:
                raise ValueError(f"sigma2 must be a finite number >= 0, got {s!r}")
        object.__setattr__(self, "sigma2s", tuple(float(s) for s in self.sigma2s))
        if len(set(self.sigma2s)) != len(self.sigma2s):
            raise ValueError(f"sigma2s must not repeat a value, got {self.sigma2s!r}")
        for name in ("seeds", "ep_budget"):
            value = getattr(self, name)
            if not is_int(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not is_int(self.rounds) or self.rounds < 2:
            raise ValueError(
                f"rounds must be an integer >= 2 (round 1, with all EPs, is included), got {self.rounds!r}"
            )
        num_eps = PRESETS[self.preset].num_eps
        if self.ep_budget > num_eps:
            raise ValueError(f"ep_budget must be at most the preset's {num_eps} EPs, got {self.ep_budget!r}")
        if not self.methods:
            raise ValueError("methods must hold at least one method, got ()")
        for m in self.methods:
            if m not in METHODS:
                raise ValueError(f"unknown method {m!r}; choose from {list(METHODS)}")
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods must not repeat a method, got {self.methods!r}")
        if "clustered-sb3" in self.methods and self.sb3_model is None:
            raise ValueError("method 'clustered-sb3' needs sb3_model (--sb3-model PATH), got None")
        if self.sb3_model is not None:
            if not isinstance(self.sb3_model, (str, Path)):
                raise ValueError(f"sb3_model must be None or a path, got {self.sb3_model!r}")
            path = Path(self.sb3_model)
            if not path.is_file() and path.suffix != ".zip" and path.with_name(path.name + ".zip").is_file():
                object.__setattr__(self, "sb3_model", str(path.with_name(path.name + ".zip")))  # SB3's own rule
            if not Path(self.sb3_model).is_file():
                raise ValueError(f"sb3_model must be an existing file, got {self.sb3_model!r}")
            if "clustered-sb3" not in self.methods:
                raise ValueError(
                    f"sb3_model {self.sb3_model!r} is given but 'clustered-sb3' is not among the "
                    f"methods {list(self.methods)}"
                )
            object.__setattr__(self, "sb3_model_sha256", file_sha256(self.sb3_model))
        self.fl_config()  # validates model, width and objective
        resolve_device(self.device)  # validates the device name and CUDA availability
        if self.sb3_algo not in SB3_ALGORITHMS:
            raise ValueError(f"sb3_algo must be one of {sorted(SB3_ALGORITHMS)}, got {self.sb3_algo!r}")
        if self.cache_dir is not None and not isinstance(self.cache_dir, str):
            raise ValueError(f"cache_dir must be None or a path string, got {self.cache_dir!r}")
        plain_scalars(self)

    def fl_config(self) -> FLConfig:
        """The federated-learning hyperparameters of every run (the paper's, with this model and objective)."""
        return FLConfig(model=self.model, width=self.width, objective=self.objective)

    @property
    def seed_list(self) -> tuple[int, ...]:
        """The seeds of the runs, ``(0, 1, ..., seeds - 1)``."""
        return tuple(range(self.seeds))

    def runs(self) -> list[tuple[str, float, int]]:
        """Every ``(method, sigma2, seed)`` of the grid, ordered so that consecutive runs share a federation."""
        return [(m, s, seed) for s in self.sigma2s for seed in self.seed_list for m in self.methods]

    def identity(self) -> dict[str, Any]:
        """What makes two runs of the same ``(method, sigma2, seed)`` the same experiment (JSON-ready).

        The method list, sigma2 list, number of seeds, the device and the dataset cache are left out: they choose
        which runs exist or where they run, not what a run means, so a later invocation may add methods, CSI
        conditions or seeds to a directory.
        """
        return {
            "format": FORMAT_VERSION,
            "preset": self.preset,
            "rounds": self.rounds,
            "fl_config": dataclasses.asdict(self.fl_config()),
            "ep_budget": self.ep_budget,
            "sb3_model_sha256": self.sb3_model_sha256,
            "sb3_algo": self.sb3_algo if self.sb3_model is not None else None,
        }

    def to_dict(self) -> dict[str, Any]:
        """All fields, JSON-ready."""
        out = dataclasses.asdict(self)
        out["sigma2s"] = list(self.sigma2s)
        out["methods"] = list(self.methods)
        return out
