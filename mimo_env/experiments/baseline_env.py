"""A non-selecting baseline (centralized, decentralized, FedAvg) behind the env's ``reset``/``step``/``info`` API.

The baselines train every EP in every round, so they have no decision to learn; wrapping them in the same
episode interface as ``MIMOClusteredFL-v0`` lets the benchmark record every method from the same ``info`` keys and
lets :class:`mimo_env.wrappers.TensorBoardLogger` log a baseline under exactly the tags it logs clustered FL with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from numpy.typing import NDArray

from fl_agents import FLConfig, make_algorithm
from mimo_env.config import ScenarioConfig
from mimo_env.env import cached_federation
from mimo_env.federation import Federation
from mimo_env.info import round_info
from mimo_env.resume import check_setup, generator_state, restore_generator, setup_fields

BASELINE_ALGORITHMS = {"centralized": "centralized", "decentralized": "decentralized", "fedavg": "fedavg"}
"""Benchmark method name -> ``fl_agents.make_algorithm`` name."""


class BaselineEnv(gym.Env[NDArray[np.float32], NDArray[np.int8]]):
    """One baseline trained for ``max_rounds`` rounds with all N EPs in every round (the paper's Section IV).

    ``reset(seed)`` builds the algorithm with ``make_algorithm(name, federation, fl_config, device, seed)`` and
    runs round 1; each ``step`` runs one more round. The action must select every EP (all ones): a baseline has no
    EP selection. Observation: ``val_min_se : [N] float32``, each EP's mean validation min-SE (bit/s/Hz); reward:
    the global min-SE of eq. (12). ``info`` carries the keys of ``MassiveMIMOFLEnv``'s info that describe the round
    and the evaluation: ``round``, ``selected``, ``skipped``, ``learning_rate``, ``chosen_cluster``,
    ``topology_cluster``, ``train_loss``, ``val_loss``, ``val_min_se``, ``test_min_se``, ``global_min_se``,
    ``cluster_test_min_se``, ``cluster_optimal_min_se``, ``cluster_equal_power_min_se``, ``cluster_accuracy``
    (NaN for the single-model baselines). ``truncated`` is True at round ``max_rounds``.

    Args:
        method: ``"centralized"``, ``"decentralized"`` or ``"fedavg"`` (global aggregation).
        scenario: the scenario (e.g. ``preset("quick", sigma2=5e-4)``).
        fl_config: the hyperparameters.
        max_rounds: round budget, round 1 included (>= 1).
        data_seed: seed of the datasets (shared with ``MIMOClusteredFL-v0``'s in-process cache).
        device: training device.
        cache_dir: dataset cache folder (None: ``build_federation``'s default).
    """

    def __init__(
        self,
        method: str,
        scenario: ScenarioConfig,
        fl_config: FLConfig,
        max_rounds: int,
        data_seed: int = 0,
        device: str | torch.device = "auto",
        cache_dir: str | Path | None = None,
    ) -> None:
        if not isinstance(method, str) or method not in BASELINE_ALGORITHMS:
            raise ValueError(f"method must be one of {sorted(BASELINE_ALGORITHMS)}, got {method!r}")
        if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
            raise ValueError(f"max_rounds must be a positive integer, got {max_rounds!r}")
        if not isinstance(scenario, ScenarioConfig):
            raise ValueError(f"scenario must be a ScenarioConfig, got {scenario!r}")
        if not isinstance(fl_config, FLConfig):
            raise ValueError(f"fl_config must be an FLConfig, got {fl_config!r}")
        if isinstance(data_seed, bool) or not isinstance(data_seed, (int, np.integer)) or data_seed < 0:
            raise ValueError(f"data_seed must be a non-negative integer, got {data_seed!r}")
        if cache_dir is not None and not isinstance(cache_dir, (str, Path)):
            raise ValueError(f"cache_dir must be None or a path, got {cache_dir!r}")
        self.method = method
        self.scenario = scenario
        self.fl_config = fl_config
        self.max_rounds = max_rounds
        self.data_seed = data_seed
        self.device = device
        self.cache_dir = cache_dir
        n = scenario.num_eps
        self.observation_space = spaces.Box(0.0, np.inf, shape=(n,), dtype=np.float32)
        self.action_space = spaces.MultiBinary(n)
        self._algorithm: Any = None
        self._federation: Federation | None = None
        self._observation: NDArray[np.float32] | None = None

    def reset(
        self,
        *,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Fresh model(s) seeded by ``seed`` (0 when None), round 1 with every EP."""
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
        super().reset(seed=None if seed is None else int(seed))
        if options:
            raise ValueError(f"options are not supported, got {options!r}")
        self._federation = cached_federation(self.scenario, self.data_seed, self.cache_dir)
        self._algorithm = make_algorithm(
            BASELINE_ALGORITHMS[self.method],
            self._federation,
            self.fl_config,
            device=self.device,
            seed=0 if seed is None else int(seed),
        )
        observation, _, _, _, info = self._round()
        return observation, info

    def step(self, action: NDArray[np.int8]) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        """One more round with every EP; ``action`` must be the all-ones mask."""
        mask = np.asarray(action)
        if mask.shape != (self.scenario.num_eps,) or not np.all(mask == 1):
            raise ValueError(f"a baseline trains every EP: action must be {self.scenario.num_eps} ones, got {action!r}")
        if self._algorithm is None:
            raise RuntimeError("call reset() before step()")
        return self._round()

    def _round(self) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        report = self._algorithm.run_round(np.ones(self.scenario.num_eps, dtype=bool))
        evaluation = self._algorithm.evaluate()
        info = round_info(report, evaluation, self._federation.topology_clusters)
        truncated = report.round >= self.max_rounds
        self._observation = evaluation.val_min_se.astype(np.float32)
        return self._observation.copy(), float(evaluation.reward), False, truncated, info

    def run_setup(self) -> dict[str, Any]:
        """What a state of this env must match: method, scenario fields, FL config, data seed and ``max_rounds``."""
        return setup_fields(
            self.scenario,
            self.fl_config,
            env=type(self).__name__,
            method=self.method,
            data_seed=self.data_seed,
            max_rounds=self.max_rounds,
        )

    def get_state(self) -> dict[str, Any]:
        """``setup``, the env's generator, the algorithm's state (models, round index, torch generators; None
        before ``reset``) and the last ``observation``: enough for :meth:`set_state` to continue exactly."""
        started = self._algorithm is not None
        return {
            "setup": self.run_setup(),
            "np_random": generator_state(self.np_random),
            "np_random_seed": self.np_random_seed,
            "algorithm": self._algorithm.state_dict() if started else None,
            "observation": self._observation.copy() if started else None,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`get_state` of an env with the same :meth:`run_setup` (``ValueError`` otherwise, naming
        the first difference); everything is checked before anything changes."""
        if not isinstance(state, dict):
            raise ValueError(f"state must be a dict from get_state(), got {type(state).__name__}")
        check_setup(state.get("setup"), self.run_setup(), type(self).__name__)
        restore_generator(np.random.default_rng(), state.get("np_random"), "state np_random")
        algorithm, observation = None, None
        if state.get("algorithm") is not None:
            observation = np.asarray(state.get("observation"), dtype=np.float32)
            if observation.shape != self.observation_space.shape:
                raise ValueError(
                    f"state observation must have shape {self.observation_space.shape}, got {observation.shape}"
                )
            federation = cached_federation(self.scenario, self.data_seed, self.cache_dir)
            algorithm = make_algorithm(BASELINE_ALGORITHMS[self.method], federation, self.fl_config, device=self.device)
            algorithm.load_state_dict(state["algorithm"])
            self._federation = federation
        restore_generator(self.np_random, state["np_random"], "state np_random")
        self._np_random_seed = state.get("np_random_seed")
        self._algorithm, self._observation = algorithm, observation

    def close(self) -> None:
        self._algorithm = None
