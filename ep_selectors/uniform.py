"""Uniform sampling: S EPs uniformly at random each round (the paper's "clustered FL + uniform" baseline)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ep_selectors.base import check_observation, check_seed, check_state
from mimo_env.resume import generator_state, restore_generator
from mimo_env.spaces import check_budget, validate_subset_mask


class UniformSelector:
    """Selects S of the N EPs uniformly at random, ignoring the contexts.

    Args:
        num_eps: N.
        budget: S (1 <= S <= N).
        seed: seed of its own ``np.random.Generator`` (also settable by :meth:`reset`).
    """

    def __init__(self, num_eps: int, budget: int, seed: int | None = None) -> None:
        self.num_eps, self.budget = check_budget(num_eps, budget)
        self._rng = np.random.default_rng(check_seed(seed))

    def reset(self, seed: int | None = None) -> None:
        """Reseed the generator (nothing else to forget)."""
        self._rng = np.random.default_rng(check_seed(seed))

    def state_dict(self) -> dict[str, Any]:
        """The generator's state (``rng``) and ``params`` (N, S), checked by :meth:`load_state_dict`."""
        return {
            "selector": "uniform",
            "params": {"num_eps": self.num_eps, "budget": self.budget},
            "rng": generator_state(self._rng),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` of a selector with the same N and S (``ValueError`` otherwise)."""
        check_state(state, "uniform", {"num_eps": self.num_eps, "budget": self.budget})
        restore_generator(self._rng, state.get("rng"), "state rng")

    def select(self, observation: NDArray[Any]) -> NDArray[np.bool_]:
        """A uniformly random subset of exactly S EPs; ``observation : [N, d]`` is only shape-checked.

        Returns:
            mask : [N] bool.
        """
        check_observation(observation, self.num_eps)
        mask = np.zeros(self.num_eps, dtype=bool)
        mask[self._rng.choice(self.num_eps, size=self.budget, replace=False)] = True
        return mask

    def update(self, observation: NDArray[Any], mask: NDArray[np.bool_], reward: float) -> None:
        """Uniform sampling does not learn; the arguments are validated like every selector's."""
        check_observation(observation, self.num_eps)
        validate_subset_mask(mask, self.num_eps, self.budget)
        if (
            isinstance(reward, bool)
            or not isinstance(reward, (int, float, np.integer, np.floating))
            or not np.isfinite(reward)
        ):
            raise ValueError(f"reward must be finite, got {reward!r}")
