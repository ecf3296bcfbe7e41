"""The protocol every EP selector implements, and the observation check they share.

A selector sees the environment's observation, the contexts ``x : [N, d] float`` (one row per EP, eq. 13),
answers with a subset mask ``[N] bool`` of at most S EPs, and may learn from the global reward of that round.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from mimo_env.resume import first_difference


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


def check_seed(seed: object) -> int | None:
    """``seed`` as an int (or None), or ``ValueError`` unless it is None or a non-negative integer."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
    return int(seed)


def check_observation(observation: object, num_eps: int, context_dim: int | None = None) -> NDArray[np.float64]:
    """The contexts as a ``[N, d] float64`` array, or ``ValueError`` on a wrong shape or non-finite entries.

    Args:
        observation: the environment's observation.
        num_eps: N, the expected number of rows.
        context_dim: d, the expected number of columns (None accepts any).
    """
    try:
        x = np.asarray(observation, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"observation must be a numeric [N, d] array, got {observation!r}") from error
    if x.ndim != 2 or x.shape[0] != num_eps or (context_dim is not None and x.shape[1] != context_dim):
        expected = f"({num_eps}, {context_dim if context_dim is not None else 'd'})"
        raise ValueError(f"observation must have shape {expected}, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"observation must be finite, got {x}")
    return x


def check_state(state: object, selector: str, params: dict[str, Any]) -> dict[str, Any]:
    """A selector's ``state_dict`` checked against the selector loading it; ``ValueError`` on a mismatch.

    Args:
        state: what ``load_state_dict`` received.
        selector: the expected ``state["selector"]`` (the selector's kind, e.g. ``"thompson"``).
        params: the loading selector's parameters; ``state["params"]`` must equal them.

    Returns:
        ``state`` as a dict.
    """
    if not isinstance(state, dict):
        raise ValueError(f"state must be a dict from state_dict(), got {type(state).__name__}")
    if state.get("selector") != selector:
        raise ValueError(f"state is for a {state.get('selector')!r} selector, not {selector!r}")
    stored = state.get("params")
    if not isinstance(stored, dict):
        raise ValueError(f"state params must be a dict, got {stored!r}")
    key = first_difference(stored, params)
    if key is not None:
        raise ValueError(
            f"state was saved by a selector with {key}={stored.get(key)!r}, this one has {key}={params.get(key)!r}"
        )
    return state
