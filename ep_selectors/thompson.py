"""Linear Thompson sampling over EP contexts: the paper's CMAB selector, eq. (16).

Model: the global reward is linear in the context of each selected EP, ``r ~ omega^T x``. Every selected EP's
context row ``x : [d]`` of a round is one regression row paired with that round's global reward ``r``. With the
history stacked as ``X : [m, d]`` and ``r : [m]``,

    V = X^T X + lambda I,        mu = V^{-1} X^T r,        omega ~ N(mu, epsilon^2 V^{-1}),

and the selector plays the S EPs with the highest scores ``omega^T x_n``. ``V^{-1}`` is kept up to date with the
Sherman-Morrison rank-one formula ``(A + x x^T)^{-1} = A^{-1} - A^{-1} x x^T A^{-1} / (1 + x^T A^{-1} x)`` and
``b = X^T r`` is accumulated, so neither ``X`` nor ``r`` is stored.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ep_selectors.base import check_observation, check_positive_int, check_seed, check_state
from mimo_env.resume import generator_state, restore_generator
from mimo_env.spaces import check_budget, top_s_mask, validate_subset_mask

#: Default ridge regularisation lambda (see the sweep in ``examples/sweep_thompson.py`` and the README).
DEFAULT_REGULARIZATION = 1.0
#: Default exploration scale epsilon (same evidence).
DEFAULT_EXPLORATION = 1.0


def _positive_float(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


class ThompsonSelector:
    """Linear Thompson sampling with a Gaussian posterior, eq. (16).

    Args:
        num_eps: N.
        context_dim: d, the context length (``2 + C`` for the environment's contexts).
        budget: S, EPs selected per round (1 <= S <= N).
        regularization: lambda > 0, the ridge prior ``V_0 = lambda I``.
        exploration: epsilon > 0, the scale of the posterior covariance ``epsilon^2 V^{-1}``.
        seed: seed of its own ``np.random.Generator`` (also settable by :meth:`reset`).
    """

    def __init__(
        self,
        num_eps: int,
        context_dim: int,
        budget: int,
        regularization: float = DEFAULT_REGULARIZATION,
        exploration: float = DEFAULT_EXPLORATION,
        seed: int | None = None,
    ) -> None:
        self.num_eps, self.budget = check_budget(num_eps, budget)
        self.context_dim = check_positive_int("context_dim", context_dim)
        self.regularization = _positive_float("regularization", regularization)
        self.exploration = _positive_float("exploration", exploration)
        try:  # the prior V^{-1} = I / lambda and its scale epsilon^2 V^{-1} must be representable
            prior = (1.0 / self.regularization, self.exploration**2 / self.regularization)
        except OverflowError:
            prior = (math.inf, math.inf)
        if not all(math.isfinite(v) and v > 0 for v in prior):
            raise ValueError(
                f"1 / regularization and exploration**2 / regularization (the prior covariance scale) "
                f"must be finite and > 0, got exploration={exploration!r}, "
                f"regularization={regularization!r}"
            )
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Back to the prior (``V = lambda I``, ``b = 0``) with a generator seeded by ``seed``."""
        self._rng = np.random.default_rng(check_seed(seed))
        self._v_inv = np.eye(self.context_dim) / self.regularization
        self._b = np.zeros(self.context_dim)
        self.num_rows = 0

    def state_dict(self) -> dict[str, Any]:
        """The learned state and the generator: ``v_inv`` [d, d] = V^{-1}, ``b`` [d] = X^T r, ``num_rows``, ``rng``
        (bit-generator state), plus ``params`` (N, d, S, lambda, epsilon), checked by :meth:`load_state_dict`."""
        return {
            "selector": "thompson",
            "params": {
                "num_eps": self.num_eps,
                "context_dim": self.context_dim,
                "budget": self.budget,
                "regularization": self.regularization,
                "exploration": self.exploration,
            },
            "v_inv": self._v_inv.copy(),
            "b": self._b.copy(),
            "num_rows": self.num_rows,
            "rng": generator_state(self._rng),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` of a selector with the same parameters; the next :meth:`select` draws what
        the saved selector would have drawn.

        Raises:
            ValueError: other parameters (named), or a malformed state (nothing changes then).
        """
        check_state(
            state,
            "thompson",
            {
                "num_eps": self.num_eps,
                "context_dim": self.context_dim,
                "budget": self.budget,
                "regularization": self.regularization,
                "exploration": self.exploration,
            },
        )
        d = self.context_dim
        v_inv, b = np.asarray(state.get("v_inv")), np.asarray(state.get("b"))
        if v_inv.shape != (d, d) or b.shape != (d,):
            raise ValueError(
                f"state v_inv and b must have shapes ({d}, {d}) and ({d},), got {v_inv.shape} and {b.shape}"
            )
        if not (
            np.issubdtype(v_inv.dtype, np.floating)
            and np.issubdtype(b.dtype, np.floating)
            and np.all(np.isfinite(v_inv))
            and np.all(np.isfinite(b))
        ):
            raise ValueError("state v_inv and b must be finite float arrays")
        num_rows = state.get("num_rows")
        if isinstance(num_rows, bool) or not isinstance(num_rows, int) or num_rows < 0:
            raise ValueError(f"state num_rows must be a non-negative integer, got {num_rows!r}")
        rng = np.random.default_rng()
        restore_generator(rng, state.get("rng"), "state rng")
        self._rng, self._v_inv, self._b = rng, v_inv.astype(np.float64), b.astype(np.float64)
        self.num_rows = num_rows

    @property
    def posterior_mean(self) -> NDArray[np.float64]:
        """mu = V^{-1} X^T r : [d] float64, the ridge-regression solution of the history."""
        return self._v_inv @ self._b

    @property
    def posterior_covariance(self) -> NDArray[np.float64]:
        """epsilon^2 V^{-1} : [d, d] float64."""
        return self.exploration**2 * self._v_inv

    def sample_weights(self) -> NDArray[np.float64]:
        """One draw ``omega ~ N(mu, epsilon^2 V^{-1}) : [d]``, as ``mu + epsilon L z`` with ``L L^T = V^{-1}``."""
        chol = np.linalg.cholesky(self._v_inv)
        z = self._rng.standard_normal(self.context_dim)
        return self.posterior_mean + self.exploration * (chol @ z)

    def select(self, observation: NDArray[Any]) -> NDArray[np.bool_]:
        """The S EPs with the highest sampled scores ``omega^T x_n``.

        Args:
            observation: x : [N, d] contexts.

        Returns:
            mask : [N] bool with exactly S True (ties to the lower EP index).
        """
        x = check_observation(observation, self.num_eps, self.context_dim)
        return top_s_mask(x @ self.sample_weights(), self.budget)

    def update(self, observation: NDArray[Any], mask: NDArray[np.bool_], reward: float) -> None:
        """Add one regression row ``(x_n, reward)`` per selected EP n.

        Args:
            observation: x : [N, d], the contexts the mask was chosen from.
            mask: [N] bool, the EPs played (1 to S of them).
            reward: the global reward observed after the round.

        Raises:
            ValueError: malformed observation, mask or reward, or contexts so large that the update would overflow
                or make V^{-1} lose positive definiteness; nothing is learned then.
        """
        x = check_observation(observation, self.num_eps, self.context_dim)
        selected = validate_subset_mask(mask, self.num_eps, self.budget)
        if (
            isinstance(reward, bool)
            or not isinstance(reward, (int, float, np.integer, np.floating))
            or not math.isfinite(reward)
        ):
            raise ValueError(f"reward must be a finite number, got {reward!r}")
        v_inv, b = self._v_inv.copy(), self._b.copy()
        with np.errstate(all="ignore"):
            for row in x[selected]:
                v_row = v_inv @ row
                v_inv -= np.outer(v_row, v_row) / (1.0 + row @ v_row)
                v_inv = 0.5 * (v_inv + v_inv.T)
                b += float(reward) * row
        if not (np.all(np.isfinite(v_inv)) and np.all(np.isfinite(b))):
            raise ValueError(f"observation {x[selected]} and reward {reward!r} overflow the posterior; nothing learned")
        try:
            np.linalg.cholesky(v_inv)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"observation {x[selected]} is too large for a stable rank-one update (V^-1 would lose "
                "positive definiteness); nothing learned"
            ) from None
        self._v_inv, self._b = v_inv, b
        self.num_rows += int(selected.sum())
