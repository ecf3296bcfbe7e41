"""run_episode on the synthetic linear bandit: records, seeding, max_steps."""

from __future__ import annotations

import numpy as np
import pytest
from linear_bandit import LinearBanditEnv

from ep_selectors import EPSelector, ThompsonSelector, UniformSelector, episode_seeds, run_episode


def test_selectors_follow_the_protocol():
    assert isinstance(ThompsonSelector(4, 3, 2), EPSelector)
    assert isinstance(UniformSelector(4, 2), EPSelector)


def test_records_and_repeatability():
    env = LinearBanditEnv(num_eps=5, context_dim=3, budget=2, horizon=6)
    records = run_episode(env, ThompsonSelector(5, 3, 2), seed=1)
    assert len(records) == 6 and [r["truncated"] for r in records] == [False] * 5 + [True]
    assert "reset_info" in records[0] and "reset_info" not in records[1]
    assert all(r["selected_mask"].sum() == 2 and isinstance(r["reward"], float) for r in records)
    again = run_episode(env, ThompsonSelector(5, 3, 2), seed=1)
    assert [r["reward"] for r in records] == [r["reward"] for r in again]
    other = run_episode(env, ThompsonSelector(5, 3, 2), seed=2)
    assert [r["reward"] for r in records] != [r["reward"] for r in other]


def test_max_steps_and_validation():
    env = LinearBanditEnv(num_eps=5, context_dim=3, budget=2, horizon=50)
    assert len(run_episode(env, UniformSelector(5, 2), seed=0, max_steps=4)) == 4
    with pytest.raises(ValueError, match="max_steps"):
        run_episode(env, UniformSelector(5, 2), seed=0, max_steps=0)


def test_episode_seeds_are_distinct_and_deterministic():
    env_seed, selector_seed = episode_seeds(5)
    assert env_seed != selector_seed and (env_seed, selector_seed) == episode_seeds(5)
    assert episode_seeds(None) == (None, None)
    # the selector's stream differs from the env's even though both derive from the same episode seed
    assert not np.array_equal(np.random.default_rng(env_seed).random(4), np.random.default_rng(selector_seed).random(4))
