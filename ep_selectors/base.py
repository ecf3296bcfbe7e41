"""The protocol every EP selector implements, and the observation check they share.

A selector sees the environment's observation, the contexts ``x : [N, d] float`` (one row per EP, eq. 13),
answers with a subset mask ``[N] bool`` of at most S EPs, and may learn from the global reward of that round.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray


@runtime_checkable
class EPSelector(Protocol):
    """An EP-selection agent.

    Attributes:
        num_eps: N, the number of EPs it selects from.
        budget: S, the number of EPs it selects each round.
    """

    num_eps: int
    budget: int

    def reset(self, seed: int | None = None) -> None:
        """Forget what was learned and reseed the selector's own random generator."""
        ...

    def select(self, observation: NDArray[Any]) -> NDArray[np.bool_]:
        """Choose this round's EPs from the contexts ``observation : [N, d]``; returns ``[N] bool``."""
        ...

    def update(self, observation: NDArray[Any], mask: NDArray[np.bool_], reward: float) -> None:
        """Learn from the round: the contexts it selected from, the mask it played and the reward observed."""
        ...


def check_positive_int(name: str, value: object) -> int:
    """``value`` as an int, or ``ValueError`` naming ``name`` when it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_observation(observation: object, num_eps: int, context_dim: int | None = None) -> NDArray[np.float64]:
    """The contexts as a ``[N, d] float64`` array, or ``ValueError`` on a wrong shape or non-finite entries.

    Args:
        observation: the environment's observation.
        num_eps: N, the expected number of rows.
        context_dim: d, the expected number of columns (None accepts any).
    """
    x = np.asarray(observation, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != num_eps or (context_dim is not None and x.shape[1] != context_dim):
        expected = f"({num_eps}, {context_dim if context_dim is not None else 'd'})"
        raise ValueError(f"observation must have shape {expected}, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"observation must be finite, got {x}")
    return x
