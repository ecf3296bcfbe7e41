"""Run one episode of any selector on any environment with the subset-mask action contract."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from ep_selectors.base import EPSelector, check_seed


def episode_seeds(seed: int | None) -> tuple[int | None, int | None]:
    """Independent seeds for the environment and the selector, both derived from one episode seed.

    Using the same integer for both would make their generators draw identical streams (both are PCG64 seeded
    through ``SeedSequence(seed)``); spawning two children of ``SeedSequence(seed)`` keeps them independent.

    Returns:
        (env_seed, selector_seed), both None when ``seed`` is None.
    """
    seed = check_seed(seed)
    if seed is None:
        return None, None
    env_seq, selector_seq = np.random.SeedSequence(seed).spawn(2)
    return int(env_seq.generate_state(1)[0]), int(selector_seq.generate_state(1)[0])


def run_episode(
    env: gym.Env,
    selector: EPSelector,
    seed: int | None = None,
    max_steps: int | None = None,
) -> list[dict[str, Any]]:
    """Reset ``env`` and ``selector``, then let the selector pick every round until the episode ends.

    Each step: ``mask = selector.select(obs)``, ``env.step(mask)``, ``selector.update(obs, mask, reward)``. The
    round run by ``env.reset`` (round 1 with all EPs for ``MIMOClusteredFL-v0``) is not a selector decision and
    has no record; ``env.reset``'s info is available as ``records[0]["reset_info"]`` when there is a step.

    Args:
        env: a Gymnasium env whose action is a ``[N]`` subset mask (e.g. ``gym.make("MIMOClusteredFL-v0")``).
        selector: any :class:`~ep_selectors.base.EPSelector`.
        seed: episode seed; the env and the selector get independent seeds derived from it (:func:`episode_seeds`).
        max_steps: stop after this many steps even if the env has not ended (None: until terminated/truncated).

    Returns:
        One dict per step: the step's ``info`` entries plus ``"reward"`` (float), ``"selected_mask"`` ([N] bool,
        the mask played), ``"terminated"`` and ``"truncated"``.
    """
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
        raise ValueError(f"max_steps must be a positive integer or None, got {max_steps!r}")
    env_seed, selector_seed = episode_seeds(seed)
    observation, reset_info = env.reset(seed=env_seed)
    selector.reset(selector_seed)
    records: list[dict[str, Any]] = []
    while max_steps is None or len(records) < max_steps:
        mask = selector.select(observation)
        next_observation, reward, terminated, truncated, info = env.step(mask)
        selector.update(observation, mask, float(reward))
        record = dict(info)
        record.update(
            reward=float(reward),
            selected_mask=np.asarray(mask, dtype=bool),
            terminated=bool(terminated),
            truncated=bool(truncated),
        )
        if not records:
            record["reset_info"] = reset_info
        records.append(record)
        observation = next_observation
        if terminated or truncated:
            break
    return records
