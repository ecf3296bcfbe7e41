"""The action contract of the environment: a subset of at most S EPs, as a mask, and the score -> top-S rule.

- :class:`SubsetMask` is the action space: ``MultiBinary(N)`` whose members also satisfy ``1 <= |subset| <= S`` and
  whose :meth:`SubsetMask.sample` draws a uniformly random subset of exactly S EPs.
- :func:`validate_subset_mask` turns a user action into a ``[N] bool`` mask or raises ``ValueError`` saying why.
- :func:`top_s_mask` maps a score vector to the mask of the S highest scores, ties broken towards the lower EP index;
  the score-action wrapper and the stable-baselines3 selector share it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray


def check_budget(num_eps: object, budget: object) -> tuple[int, int]:
    """``(num_eps, budget)`` as ints, or ``ValueError`` unless ``num_eps >= 1`` and ``1 <= budget <= num_eps``."""
    if isinstance(num_eps, bool) or not isinstance(num_eps, (int, np.integer)) or num_eps < 1:
        raise ValueError(f"num_eps must be a positive integer, got {num_eps!r}")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or not 1 <= budget <= num_eps:
        raise ValueError(f"budget must be an integer in [1, num_eps={num_eps}], got {budget!r}")
    return int(num_eps), int(budget)


def top_s_mask(scores: NDArray[np.floating[Any]] | list[float], budget: int) -> NDArray[np.bool_]:
    """The mask of the ``budget`` highest scores.

    Ties are broken deterministically: a stable sort of ``-scores`` keeps the lower EP index first among equal
    scores, so e.g. all-equal scores select EPs ``0 .. S-1``.

    Args:
        scores: [N] finite floats, one score per EP.
        budget: S, the number of EPs to select (1 <= S <= N).

    Returns:
        mask : [N] bool with exactly S True entries.

    Raises:
        ValueError: ``scores`` is not a finite 1-D vector, or ``budget`` is out of range.
    """
    try:
        values = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"scores must be a numeric [N] vector, got {scores!r}") from error
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"scores must be a non-empty 1-D vector, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"scores must be finite, got {values}")
    check_budget(values.size, budget)
    order = np.argsort(-values, kind="stable")
    mask = np.zeros(values.size, dtype=bool)
    mask[order[:budget]] = True
    return mask


def validate_subset_mask(action: object, num_eps: int, budget: int) -> NDArray[np.bool_]:
    """Check an action against the subset contract and return it as a fresh ``[N] bool`` mask.

    Accepted: any array-like of shape ``[N]`` whose entries are exactly 0 or 1 (bool, integer or float dtype), with
    between 1 and S ones.

    Args:
        action: the action passed to ``env.step``.
        num_eps: N.
        budget: S.

    Returns:
        mask : [N] bool (a copy; the caller's array is never aliased).

    Raises:
        ValueError: wrong shape, non-numeric, non-finite (NaN, inf), non-binary entries, an empty subset, or more
            than S EPs; the message names the problem and the offending value.
    """
    check_budget(num_eps, budget)
    try:
        values = np.array(action)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"action must be a [{num_eps}] array of 0/1, got {action!r}") from exc
    if values.shape != (num_eps,):
        raise ValueError(f"action must have shape ({num_eps},), got shape {values.shape}: {action!r}")
    if values.dtype != np.bool_:
        if not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)):
            raise ValueError(f"action must be numeric or bool, got dtype {values.dtype}: {action!r}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"action must be finite (no NaN or inf), got {values}")
        if not np.all((values == 0) | (values == 1)):
            raise ValueError(f"action must be binary (entries 0 or 1), got {values}")
    mask = values.astype(bool)
    count = int(mask.sum())
    if count == 0:
        raise ValueError(f"action selects no EP: select at least 1 and at most budget={budget} EPs, got {values}")
    if count > budget:
        raise ValueError(f"action selects {count} EPs, more than the budget S={budget}: {values}")
    return mask


class SubsetMask(spaces.MultiBinary):
    """``MultiBinary(N)`` restricted to subsets of 1 to S EPs: the action space of ``MIMOClusteredFL-v0``.

    Members are ``[N]`` int8 arrays of 0/1 with ``1 <= sum <= S``. :meth:`sample` draws a uniformly random subset
    of exactly S EPs from the space's own RNG (seed it with ``space.seed(seed)``), so every sample is a valid action.

    Args:
        num_eps: N, the number of EPs.
        budget: S, the most EPs one round may select (1 <= S <= N).
        seed: optional seed of the space's RNG.
    """

    def __init__(self, num_eps: int, budget: int, seed: int | np.random.Generator | None = None) -> None:
        check_budget(num_eps, budget)
        super().__init__(int(num_eps), seed=seed)
        self.budget = int(budget)

    @property
    def num_eps(self) -> int:
        """N."""
        return int(self.shape[0])

    def sample(
        self,
        mask: NDArray[np.int8] | None = None,
        probability: NDArray[np.float64] | None = None,
    ) -> NDArray[np.int8]:
        """A uniformly random subset of exactly S EPs, as a ``[N] int8`` 0/1 array.

        Args:
            mask: optional ``[N] int8`` with MultiBinary's semantics: 0 excludes the EP, 1 forces it in, 2 leaves it
                free; the sample then holds every forced EP plus uniformly drawn free EPs up to S in total.
            probability: not supported (independent coin tosses cannot respect the budget); must be None.

        Returns:
            [N] int8 with exactly S ones.

        Raises:
            ValueError: ``probability`` is given, or ``mask`` is malformed or cannot make a subset of S EPs.
        """
        if probability is not None:
            raise ValueError(f"SubsetMask.sample does not support probability, got {probability!r}")
        n = self.num_eps
        out = np.zeros(n, dtype=np.int8)
        if mask is None:
            out[self.np_random.choice(n, size=self.budget, replace=False)] = 1
            return out
        m = np.asarray(mask)
        if m.shape != (n,) or not np.all((m == 0) | (m == 1) | (m == 2)):
            raise ValueError(f"mask must be a ({n},) array of 0, 1 or 2, got {mask!r}")
        forced = np.flatnonzero(m == 1)
        free = np.flatnonzero(m == 2)
        missing = self.budget - forced.size
        if missing < 0 or missing > free.size:
            raise ValueError(
                f"mask {mask!r} cannot give a subset of exactly S={self.budget} EPs "
                f"({forced.size} forced, {free.size} free)"
            )
        out[forced] = 1
        out[self.np_random.choice(free, size=missing, replace=False)] = 1
        return out

    def contains(self, x: Any) -> bool:
        """True for a ``[N]`` 0/1 array (MultiBinary's test) with between 1 and S ones."""
        if not super().contains(x):
            return False
        count = int(np.asarray(x).sum())
        return 1 <= count <= self.budget

    def __repr__(self) -> str:
        return f"SubsetMask({self.num_eps}, budget={self.budget})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SubsetMask) and self.n == other.n and self.budget == other.budget
