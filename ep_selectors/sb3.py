"""A trained stable-baselines3 policy as an EP selector.

The policy was trained through :class:`mimo_env.wrappers.ScoreToSubsetWrapper`: its action is a score vector
``[N]`` in [-1, 1] and the played subset is the top-S of it (:func:`mimo_env.spaces.top_s_mask`, the same rule).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from stable_baselines3 import A2C, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm

from ep_selectors.base import check_state
from mimo_env.spaces import check_budget, top_s_mask

#: The algorithms :meth:`SB3Selector.load` knows, by name.
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"PPO": PPO, "A2C": A2C, "SAC": SAC, "TD3": TD3}


class SB3Selector:
    """Wraps any stable-baselines3 model whose action space is ``Box(-1, 1, (N,))`` scores.

    Args:
        model: a trained SB3 model (PPO, A2C, SAC, TD3, ...).
        budget: S, the EPs played per round (1 <= S <= N).
        deterministic: use the policy's deterministic action (mean) rather than a sample.
    """

    def __init__(self, model: BaseAlgorithm, budget: int, deterministic: bool = True) -> None:
        action_space = model.action_space
        if not isinstance(action_space, spaces.Box) or len(action_space.shape) != 1:
            raise ValueError(f"model must act in a 1-D Box of EP scores, got action space {action_space}")
        self.model = model
        self.num_eps, self.budget = check_budget(action_space.shape[0], budget)
        self.deterministic = bool(deterministic)

    @classmethod
    def load(
        cls,
        path: str | Path,
        budget: int,
        algo: str = "PPO",
        deterministic: bool = True,
        device: str = "cpu",
    ) -> SB3Selector:
        """Load a model saved by ``model.save(path)`` (e.g. by ``examples/train_sb3_selector.py``).

        Args:
            path: the ``.zip`` file (SB3 adds the suffix when it is missing).
            budget: S, as in training.
            algo: one of ``ALGORITHMS`` ("PPO", "A2C", "SAC", "TD3").
            deterministic: see the class.
            device: where the policy runs (SB3 policies are cheap; the CPU is the default).
        """
        if algo not in ALGORITHMS:
            raise ValueError(f"algo must be one of {sorted(ALGORITHMS)}, got {algo!r}")
        if not isinstance(path, (str, Path)):
            raise ValueError(f"path must be a file path, got {path!r}")
        file = Path(path)
        if not file.exists() and not file.with_suffix(".zip").exists():
            raise ValueError(f"path {str(path)!r} does not exist")
        return cls(ALGORITHMS[algo].load(str(file), device=device), budget, deterministic=deterministic)

    def policy_digest(self) -> str:
        """SHA-256 of the policy's parameters (names, shapes, dtypes and values, in name order): identifies it."""
        digest = hashlib.sha256()
        for name, tensor in sorted(self.model.policy.state_dict().items()):
            value = tensor.detach().cpu().contiguous()
            digest.update(f"{name}:{tuple(value.shape)}:{value.dtype};".encode())
            digest.update(value.numpy().tobytes())
        return digest.hexdigest()

    def state_dict(self) -> dict[str, Any]:
        """``params`` only (algorithm, N, S, deterministic, :meth:`policy_digest`): a trained policy does not learn
        while it selects, so the model file (loaded again with :meth:`load`) is its whole state. A stochastic policy
        (``deterministic=False``) draws from torch's global generator, which is not part of the state."""
        return {
            "selector": "sb3",
            "params": {
                "algo": type(self.model).__name__,
                "num_eps": self.num_eps,
                "budget": self.budget,
                "deterministic": self.deterministic,
                "policy_sha256": self.policy_digest(),
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Check that ``state`` was saved with this very policy and settings (``ValueError`` naming the first
        difference); there is nothing else to restore."""
        check_state(state, "sb3", self.state_dict()["params"])

    def reset(self, seed: int | None = None) -> None:
        """Seed SB3's generators for stochastic actions (``deterministic=False``); a no-op otherwise."""
        if seed is not None and not self.deterministic:
            self.model.set_random_seed(seed)

    def select(self, observation: NDArray[Any]) -> NDArray[np.bool_]:
        """The top-S EPs of the policy's scores for ``observation`` (the env's contexts ``[N, d]``).

        The observation is reshaped to the model's observation space, so a policy trained on flattened contexts
        (``gymnasium.wrappers.FlattenObservation``) works too.

        Returns:
            mask : [N] bool with exactly S True.
        """
        shape = self.model.observation_space.shape
        x = np.asarray(observation, dtype=np.float32)
        if shape is None or x.size != int(np.prod(shape)):
            raise ValueError(f"observation of shape {x.shape} does not fit the model's observation space {shape}")
        scores, _ = self.model.predict(x.reshape(shape), deterministic=self.deterministic)
        return top_s_mask(np.asarray(scores).reshape(self.num_eps), self.budget)

    def update(self, observation: NDArray[Any], mask: NDArray[np.bool_], reward: float) -> None:
        """A trained policy stays fixed while it selects: nothing to learn here (train it with SB3 instead)."""
