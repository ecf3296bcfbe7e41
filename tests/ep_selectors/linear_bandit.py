"""A synthetic linear contextual bandit with the environment's subset-mask contract, for selector tests.

Each round draws fresh contexts ``x : [N, d]`` (standard normal); playing a subset S gives the reward
``mean_{n in S} omega*^T x_n + noise``, so the best subset is the top-S of ``omega*^T x``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from mimo_env.spaces import SubsetMask, top_s_mask, validate_subset_mask


class LinearBanditEnv(gym.Env):
    """N arms, d-dimensional contexts, budget S, ``horizon`` steps per episode, Gaussian reward noise."""

    def __init__(
        self, num_eps: int = 10, context_dim: int = 4, budget: int = 3, horizon: int = 200, noise: float = 0.1
    ) -> None:
        self.num_eps, self.context_dim, self.budget, self.horizon, self.noise = (
            num_eps,
            context_dim,
            budget,
            horizon,
            noise,
        )
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (num_eps, context_dim), np.float64)
        self.action_space = SubsetMask(num_eps, budget)
        self.omega = np.linspace(1.0, -1.0, context_dim)

    def _contexts(self) -> np.ndarray:
        self._x = self.np_random.standard_normal((self.num_eps, self.context_dim))
        return self._x.copy()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._t = 0
        return self._contexts(), {}

    def step(self, action):
        mask = validate_subset_mask(action, self.num_eps, self.budget)
        means = self._x @ self.omega
        best = means[top_s_mask(means, self.budget)].mean()
        expected = means[mask].mean()
        reward = float(expected + self.noise * self.np_random.standard_normal())
        self._t += 1
        info = {"regret": float(best - expected)}
        return self._contexts(), reward, False, self._t >= self.horizon, info
