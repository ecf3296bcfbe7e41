"""``MIMOClusteredFL-v0``: clustered federated learning for massive-MIMO power allocation as a Gymnasium env.

One ``step`` is one global round of clustered FL (IFCA, :mod:`fl_agents`); the agent chooses which EPs train.
See :class:`MassiveMIMOFLEnv` for the manual.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from numpy.typing import NDArray

from fl_agents import FLConfig, make_algorithm
from fl_agents.algorithms.base import resolve_device
from fl_agents.api import Evaluation, RoundReport
from mimo_env.config import PRESETS, ScenarioConfig
from mimo_env.dataset import build_federation
from mimo_env.federation import Federation
from mimo_env.info import round_info
from mimo_env.resume import check_setup, generator_state, restore_generator, setup_fields
from mimo_env.spaces import SubsetMask, validate_subset_mask
from mimo_env.validation import is_int

#: Loss ratios of the contexts are clipped to [0, RATIO_CLIP] (non-finite losses map to RATIO_CLIP), so the
#: observation space is bounded; a ratio of 100 means the EP's loss is 100 times its round-1 value (divergence).
RATIO_CLIP = 100.0

#: Federations kept in memory, by (scenario, data seed); the least recently used is dropped beyond this many.
FEDERATION_CACHE_SIZE = 4
_FEDERATIONS: OrderedDict[tuple[ScenarioConfig, int], Federation] = OrderedDict()


def cached_federation(
    config: ScenarioConfig, data_seed: int, cache_dir: str | Path | None = None, progress: bool = False
) -> Federation:
    """The federation of ``(config, data_seed)``, built once per process (and cached on disk by
    :func:`mimo_env.dataset.build_federation` when ``cache_dir`` is given).

    Args:
        config: the scenario.
        data_seed: the data seed.
        cache_dir: optional on-disk cache folder of ``build_federation``.
        progress: show ``build_federation``'s progress bar when it has to build.
    """
    key = (config, int(data_seed))
    if key in _FEDERATIONS:
        _FEDERATIONS.move_to_end(key)
        return _FEDERATIONS[key]
    federation = build_federation(config, int(data_seed), cache_dir=cache_dir, progress=progress)
    _FEDERATIONS[key] = federation
    while len(_FEDERATIONS) > FEDERATION_CACHE_SIZE:
        _FEDERATIONS.popitem(last=False)
    return federation


def _resolve_scenario(preset: str | ScenarioConfig, sigma2: float | None) -> ScenarioConfig:
    if isinstance(preset, ScenarioConfig):
        scenario = preset
    elif isinstance(preset, str) and preset in PRESETS:
        scenario = PRESETS[preset]
    else:
        raise ValueError(f"preset must be one of {sorted(PRESETS)} or a ScenarioConfig, got {preset!r}")
    if sigma2 is None:
        return scenario
    if isinstance(sigma2, bool) or not isinstance(sigma2, (int, float)) or not math.isfinite(sigma2) or sigma2 < 0:
        raise ValueError(f"sigma2 must be None or a finite number >= 0, got {sigma2!r}")
    return scenario.replace(sigma2=float(sigma2))


class MassiveMIMOFLEnv(gym.Env[NDArray[np.float32], NDArray[np.int8]]):
    """Clustered federated learning of massive-MIMO max-min power allocation; the agent selects the EPs.

    ## Description

    N edge processors (EPs) each hold a dataset of large-scale fading coefficients (features) and max-min power
    allocations (labels) of their own 4-cell massive-MIMO network (Yan et al., Sections II-III). C cluster models are
    trained by clustered federated learning: every round each EP picks the cluster model with the lowest training
    loss (eq. 9), the selected EPs train it for E local epochs, and the server averages the updates per cluster
    (eq. 11). The agent's job is the paper's Section III-B: choose which EPs train in each round so that the global
    minimum spectral efficiency (SE) rises fast. Round 1 trains all EPs and is run by ``reset``; every ``step`` runs
    one more round with the chosen EPs, on the GPU when there is one (``device="auto"``).

    ## Observation Space

    ``Box(0, high, (N, 2 + C), float32)``: one context row per EP, eq. (13).

    | column     | value                                                                         | range      |
    |------------|-------------------------------------------------------------------------------|------------|
    | 0          | F(T_n) at the EP's last participation / F(T_n) after round 1 (eq. 14)         | [0, 100]   |
    | 1          | F(V_n) now / F(V_n) after round 1 (eq. 15)                                    | [0, 100]   |
    | 2 .. 1 + C | one-hot of the cluster model the EP chooses now (eq. 9 on the current models)  | {0, 1}     |

    F is the FL objective (``objective``) of the EP's chosen model, evaluated after the round's aggregation:
    ``F(T_n)`` is ``Evaluation.train_loss`` (training set) and ``F(V_n)`` is ``Evaluation.val_loss`` (validation
    set). "At the EP's last participation" means right after the last round that selected the EP (round 1 for an
    EP never selected since). Ratios are clipped to ``[0, RATIO_CLIP]`` (100); a non-finite loss gives 100.

    ## Action Space

    :class:`~mimo_env.spaces.SubsetMask` ``(N, budget=S)``: a ``[N]`` 0/1 mask selecting 1 to S EPs (S =
    ``ep_budget``). ``action_space.sample()`` draws exactly S EPs uniformly. An empty, oversized, wrong-shape,
    non-binary or NaN action raises ``ValueError`` and changes nothing. For agents with continuous actions use
    :class:`~mimo_env.wrappers.ScoreToSubsetWrapper` (scores in [-1, 1] -> top-S).

    ## Rewards

    The global minimum SE of eq. (12) after the round's aggregation, in bit/s/Hz (a Python float): for each EP the
    mean over its validation samples of the sample's minimum SE under the EP's chosen model, evaluated with the true
    noise-free coefficients; the reward is the minimum over EPs (``Evaluation.reward``).

    ## Starting State

    ``reset`` builds C freshly initialised cluster models (torch seed drawn from ``self.np_random``), runs round 1
    with every EP and returns its contexts: columns 0 and 1 are exactly 1. The datasets do not change between
    resets: they depend only on the scenario and ``data_seed`` and are built once per process.

    ## Episode End

    ``terminated`` is always False (training has no terminal state). ``truncated`` is True when the round index
    reaches ``max_rounds``; rounds are counted including round 1, so an episode has ``max_rounds - 1`` steps.
    Stepping a truncated episode without ``reset`` raises ``RuntimeError``.

    ## Info

    Every value is a numpy array or a Python scalar, and nothing depends on wall-clock time, so a seeded rollout
    repeats exactly on the CPU. ``N`` EPs, ``T`` ground-truth topology clusters, ``S'`` EPs selected this round.

    | key                          | value                                                                   |
    |------------------------------|-------------------------------------------------------------------------|
    | ``round``                    | index of the round just run (1 after ``reset``)                         |
    | ``selected``                 | [N] bool, the EPs that trained                                          |
    | ``selected_eps``             | [S'] int64, their indices                                               |
    | ``round_cluster``            | [N] int64, the model each EP picked at the start of the round           |
    | ``local_train_loss``         | [S'] float64, the selected EPs' mean local training loss this round     |
    | ``skipped``                  | [N] bool, selected EPs whose update was non-finite and left out         |
    | ``learning_rate``            | the round's local learning rate                                         |
    | ``chosen_cluster``           | [N] int64, the model each EP chooses now                                |
    | ``topology_cluster``         | [N] int64, each EP's ground-truth topology cluster                      |
    | ``train_loss``, ``val_loss`` | [N] float64, the chosen model's loss on each EP's train / val set       |
    | ``val_min_se``               | [N] float64, each EP's mean validation min-SE (bit/s/Hz)                |
    | ``test_min_se``              | [N] float64, the same on the test set                                   |
    | ``global_min_se``            | the reward of the round: ``min(val_min_se)``                            |
    | ``cluster_test_min_se``      | [T] float64, expected min-SE of each topology cluster on its test sets   |
    | ``cluster_optimal_min_se``   | [T] float64, the same for the exact max-min optimum                     |
    | ``cluster_equal_power_min_se`` | [T] float64, the same for equal power                                 |
    | ``cluster_accuracy``         | fraction of EPs in their ground-truth cluster (best matching)           |

    ## Arguments

    ```python
    import gymnasium as gym
    import mimo_env
    env = gym.make("MIMOClusteredFL-v0", preset="quick", sigma2=5e-4, model="mlp", ep_budget=3, max_rounds=30)
    ```

    | argument       | default   | meaning                                                                       |
    |----------------|-----------|-------------------------------------------------------------------------------|
    | ``preset``     | "quick"   | "paper", "quick", "tiny" or a :class:`~mimo_env.config.ScenarioConfig`        |
    | ``sigma2``     | None      | CSI-error variance of eq. (3) for the noisy labels; None keeps the scenario's |
    | ``model``      | "mlp"     | FL model architecture (:data:`fl_agents.MODEL_NAMES`)                          |
    | ``objective``  | "mse"     | FL objective: "mse" (the paper's) or "se"                                     |
    | ``ep_budget``  | 3         | S, EPs selected per step (1 <= S <= N)                                        |
    | ``max_rounds`` | 30        | round budget, round 1 included (>= 2)                                         |
    | ``num_clusters`` | 3       | C, cluster models                                                             |
    | ``device``     | "auto"    | training device: "auto" (CUDA when available), "cpu", "cuda[:i]"             |
    | ``data_seed``  | 0         | seed of the datasets (independent of ``reset``'s seed)                        |
    | ``cache_dir``  | None      | on-disk dataset cache folder (None: ``mimo_env.dataset.default_cache_dir()``) |
    | ``render_mode``| None      | None or "ansi" (a text table of the EPs)                                      |
    | ``**fl_overrides`` |       | other :class:`fl_agents.FLConfig` fields: width, lr, lr_decay, batch_size,     |
    |                |           | local_epochs, se_temperature                                                  |

    ## Version History

    * v0: initial version.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}  # fps: Gymnasium's checker

    def __init__(
        self,
        preset: str | ScenarioConfig = "quick",
        sigma2: float | None = None,
        model: str = "mlp",
        objective: str = "mse",
        ep_budget: int = 3,
        max_rounds: int = 30,
        num_clusters: int = 3,
        device: str | torch.device = "auto",
        data_seed: int = 0,
        cache_dir: str | Path | None = None,
        render_mode: str | None = None,
        **fl_overrides: Any,
    ) -> None:
        self.scenario = _resolve_scenario(preset, sigma2)
        reserved = {"num_clusters", "model", "objective"} & set(fl_overrides)
        if reserved:
            raise ValueError(f"fl_overrides must not repeat the explicit arguments {sorted(reserved)}")
        self.fl_config = FLConfig().replace(num_clusters=num_clusters, model=model, objective=objective, **fl_overrides)
        num_eps = self.scenario.num_eps
        if not is_int(ep_budget) or not 1 <= ep_budget <= num_eps:
            raise ValueError(f"ep_budget must be an integer in [1, N={num_eps}], got {ep_budget!r}")
        if not is_int(max_rounds) or max_rounds < 2:
            raise ValueError(f"max_rounds must be an integer >= 2 (round 1 is run by reset), got {max_rounds!r}")
        if not is_int(data_seed) or data_seed < 0:
            raise ValueError(f"data_seed must be a non-negative integer, got {data_seed!r}")
        if cache_dir is not None and not isinstance(cache_dir, (str, Path)):
            raise ValueError(f"cache_dir must be None or a path, got {cache_dir!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.device = resolve_device(device)
        self.ep_budget = int(ep_budget)
        self.max_rounds = int(max_rounds)
        self.data_seed = int(data_seed)
        self.cache_dir = cache_dir
        self.render_mode = render_mode

        context_dim = 2 + self.fl_config.num_clusters
        high = np.ones((num_eps, context_dim), dtype=np.float32)
        high[:, :2] = RATIO_CLIP
        self.observation_space = spaces.Box(np.zeros_like(high), high, dtype=np.float32)
        self.action_space = SubsetMask(num_eps, self.ep_budget)

        #: the seed of the current episode's FL algorithm (model init, minibatch shuffles), drawn by ``reset``
        self.torch_seed: int | None = None
        self._algorithm: Any = None
        self._federation: Federation | None = None
        self._episode_over = False
        self._last_info: dict[str, Any] | None = None

    # ----- properties ---------------------------------------------------------------------------------------------
    @property
    def num_eps(self) -> int:
        """N."""
        return self.scenario.num_eps

    @property
    def num_clusters(self) -> int:
        """C."""
        return self.fl_config.num_clusters

    @property
    def algorithm(self) -> Any:
        """The current episode's clustered-FL algorithm (:class:`fl_agents.api.FederatedAlgorithm`), or None."""
        return self._algorithm

    @property
    def federation(self) -> Federation:
        """The datasets (built on first use, then shared by every env of the same scenario and data seed)."""
        if self._federation is None:
            self._federation = cached_federation(self.scenario, self.data_seed, self.cache_dir)
        return self._federation

    # ----- Gymnasium API ------------------------------------------------------------------------------------------
    def reset(
        self,
        *,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Fresh cluster models, round 1 with every EP; returns (contexts [N, 2 + C], info). No options exist."""
        if options:
            raise ValueError(f"options are not supported, got {options!r}")
        if seed is not None and (not is_int(seed) or seed < 0):
            raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
        super().reset(seed=None if seed is None else int(seed))
        self.torch_seed = int(self.np_random.integers(0, 2**31 - 1))
        self._algorithm = make_algorithm(
            "clustered", self.federation, self.fl_config, device=self.device, seed=self.torch_seed
        )
        report = self._algorithm.run_round(np.ones(self.num_eps, dtype=bool))
        evaluation = self._algorithm.evaluate()
        self._first_train_loss = evaluation.train_loss.copy()
        self._first_val_loss = evaluation.val_loss.copy()
        self._last_train_loss = evaluation.train_loss.copy()
        self._episode_over = False
        return self._observe(report, evaluation)

    def step(self, action: NDArray[np.int8]) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        """One clustered-FL round with the selected EPs.

        Args:
            action: [N] 0/1 mask of 1 to S EPs.

        Returns:
            (contexts [N, 2 + C] float32, reward float, terminated False, truncated, info).

        Raises:
            ValueError: malformed action (nothing changes).
            RuntimeError: ``reset`` was not called, or the episode is over.
        """
        mask = validate_subset_mask(action, self.num_eps, self.ep_budget)
        if self._algorithm is None:
            raise RuntimeError("call reset() before step()")
        if self._episode_over:
            raise RuntimeError(f"the episode ended at round {self.max_rounds} (max_rounds); call reset()")
        report = self._algorithm.run_round(mask)
        evaluation = self._algorithm.evaluate()
        self._last_train_loss[mask] = evaluation.train_loss[mask]
        observation, info = self._observe(report, evaluation)
        self._episode_over = report.round >= self.max_rounds
        return observation, float(evaluation.reward), False, self._episode_over, info

    def render(self) -> str | None:
        """``"ansi"``: a text table of the EPs after the last round; None without a render mode."""
        if self.render_mode != "ansi":
            return None
        if self._last_info is None:
            return "MIMOClusteredFL-v0: call reset() first\n"
        info = self._last_info
        obs = self._contexts
        lines = [
            f"round {info['round']}/{self.max_rounds}  reward (global min-SE) "
            f"{info['global_min_se']:.4f} bit/s/Hz  cluster accuracy {info['cluster_accuracy']:.2f}",
            " EP  topo  model  sel  train/1st  val/1st  val min-SE",
        ]
        for n in range(self.num_eps):
            lines.append(
                f"{n:3d}  {info['topology_cluster'][n]:4d}  {info['chosen_cluster'][n]:5d}  "
                f"{'*' if info['selected'][n] else ' ':>3}  {obs[n, 0]:9.3f}  {obs[n, 1]:7.3f}  "
                f"{info['val_min_se'][n]:10.4f}"
            )
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        """Release the algorithm (and its device memory); the shared datasets stay cached."""
        self._algorithm = None
        self._last_info = None

    # ----- checkpoints --------------------------------------------------------------------------------------------
    def run_setup(self) -> dict[str, Any]:
        """What a state of this env must match: scenario fields, FL config, data seed, S and ``max_rounds``
        (:func:`mimo_env.resume.setup_fields`; the device, cache folder and render mode are free to change)."""
        return setup_fields(
            self.scenario,
            self.fl_config,
            env=type(self).__name__,
            data_seed=self.data_seed,
            ep_budget=self.ep_budget,
            max_rounds=self.max_rounds,
        )

    def get_state(self) -> dict[str, Any]:
        """Everything the run needs to continue exactly; pass it to :meth:`set_state` (or use
        :func:`mimo_env.resume.save_run`, which writes it to a verified file with the selector's state).

        Returns:
            ``setup`` (:meth:`run_setup`); ``np_random`` / ``np_random_seed`` (the env's generator), the action and
            observation spaces' generators; ``algorithm`` (the clustered-FL state: C models, round index, its
            torch generators) or None before the first ``reset``; ``episode`` (torch seed, round-1 train and
            validation losses [N], train losses at last participation [N], the last contexts [N, 2 + C] and
            info, whether the episode is over) or None; ``observation`` (the last contexts) or None.
        """
        started = self._algorithm is not None
        episode = None
        if started:
            episode = {
                "torch_seed": self.torch_seed,
                "first_train_loss": self._first_train_loss.copy(),
                "first_val_loss": self._first_val_loss.copy(),
                "last_train_loss": self._last_train_loss.copy(),
                "contexts": self._contexts.copy(),
                "last_info": dict(self._last_info),
                "episode_over": bool(self._episode_over),
            }
        return {
            "setup": self.run_setup(),
            "np_random": generator_state(self.np_random),
            "np_random_seed": self.np_random_seed,
            "action_space_rng": generator_state(self.action_space.np_random),
            "observation_space_rng": generator_state(self.observation_space.np_random),
            "algorithm": self._algorithm.state_dict() if started else None,
            "episode": episode,
            "observation": self._contexts.copy() if started else None,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`get_state` of an env with the same :meth:`run_setup`; the next ``step`` continues the
        saved run exactly. Everything is checked before anything changes.

        Raises:
            ValueError: another setup (the message names the first differing setting), or a malformed state.
        """
        if not isinstance(state, dict):
            raise ValueError(f"state must be a dict from get_state(), got {type(state).__name__}")
        check_setup(state.get("setup"), self.run_setup(), type(self).__name__)
        episode, algorithm_state = state.get("episode"), state.get("algorithm")
        algorithm = None
        if (episode is None) != (algorithm_state is None):
            raise ValueError("state must hold both the algorithm and the episode, or neither (before reset)")
        if episode is not None:
            n, shape = self.num_eps, self.observation_space.shape
            for key in ("first_train_loss", "first_val_loss", "last_train_loss"):
                if np.shape(episode.get(key)) != (n,):
                    raise ValueError(f"state episode.{key} must have shape ({n},), got {np.shape(episode.get(key))}")
            if np.shape(episode.get("contexts")) != shape:
                raise ValueError(
                    f"state episode.contexts must have shape {shape}, got {np.shape(episode.get('contexts'))}"
                )
            seed = episode.get("torch_seed")
            if not is_int(seed) or seed < 0:
                raise ValueError(f"state episode.torch_seed must be a non-negative integer, got {seed!r}")
            algorithm = make_algorithm("clustered", self.federation, self.fl_config, device=self.device, seed=seed)
            algorithm.load_state_dict(algorithm_state)
        generators = {
            "np_random": self.np_random,
            "action_space_rng": self.action_space.np_random,
            "observation_space_rng": self.observation_space.np_random,
        }
        for name in generators:  # check all before setting any
            restore_generator(np.random.default_rng(), state.get(name), f"state {name}")
        for name, generator in generators.items():
            restore_generator(generator, state[name], f"state {name}")
        self._np_random_seed = state.get("np_random_seed")
        self._algorithm = algorithm
        if episode is None:
            self.torch_seed, self._episode_over, self._last_info = None, False, None
            return
        self.torch_seed = int(episode["torch_seed"])
        self._first_train_loss = np.array(episode["first_train_loss"], dtype=np.float64)
        self._first_val_loss = np.array(episode["first_val_loss"], dtype=np.float64)
        self._last_train_loss = np.array(episode["last_train_loss"], dtype=np.float64)
        self._contexts = np.array(episode["contexts"], dtype=np.float32)
        self._last_info = dict(episode["last_info"])
        self._episode_over = bool(episode["episode_over"])

    # ----- internals ----------------------------------------------------------------------------------------------
    def _ratio(self, loss: NDArray[np.float64], first: NDArray[np.float64]) -> NDArray[np.float64]:
        ratio = loss / np.maximum(first, np.finfo(np.float64).tiny)
        return np.clip(np.nan_to_num(ratio, nan=RATIO_CLIP, posinf=RATIO_CLIP), 0.0, RATIO_CLIP)

    def _observe(
        self,
        report: RoundReport,
        evaluation: Evaluation,
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        contexts = np.zeros(self.observation_space.shape, dtype=np.float32)
        contexts[:, 0] = self._ratio(self._last_train_loss, self._first_train_loss)
        contexts[:, 1] = self._ratio(evaluation.val_loss, self._first_val_loss)
        contexts[np.arange(self.num_eps), 2 + evaluation.chosen_cluster] = 1.0
        info = round_info(report, evaluation, self.federation.topology_clusters)
        self._contexts = contexts
        self._last_info = info
        return contexts.copy(), info
