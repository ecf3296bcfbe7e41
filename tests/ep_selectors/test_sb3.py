"""SB3Selector: PPO trains a few steps through the score wrapper, is saved, loaded and drives an episode."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import FlattenObservation
from stable_baselines3 import PPO

import mimo_env
from ep_selectors import SB3Selector, run_episode
from mimo_env.spaces import top_s_mask
from mimo_env.wrappers import ScoreToSubsetWrapper

# torch 2.13 warns whenever the FL engine's oneDNN guard (DESIGN.md "Machine facts") restores the TF32 flag
pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")

KWARGS = dict(preset="tiny", model="mlp", width=16, ep_budget=2, max_rounds=4, device="cpu")


@pytest.fixture(scope="module")
def saved_ppo(tmp_path_factory):
    env = ScoreToSubsetWrapper(gym.make(mimo_env.ENV_ID, **KWARGS))
    model = PPO("MlpPolicy", env, n_steps=8, batch_size=8, n_epochs=1, seed=0, device="cpu")
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=8)
    assert any(not np.allclose(a, b.detach()) for a, b in zip(before, model.policy.parameters(), strict=True))
    path = tmp_path_factory.mktemp("sb3") / "ppo_selector.zip"
    model.save(path)
    return path


def test_loaded_ppo_selector_drives_an_episode(saved_ppo):
    selector = SB3Selector.load(saved_ppo, budget=2, algo="PPO")
    assert selector.num_eps == 6 and selector.budget == 2
    env = gym.make(mimo_env.ENV_ID, **KWARGS)
    records = run_episode(env, selector, seed=3)
    assert len(records) == 3 and records[-1]["truncated"]
    obs = records[0]["reset_info"]  # the first decision is made from reset's contexts
    assert obs["round"] == 1
    for record in records:
        assert record["selected"].sum() == 2
        np.testing.assert_array_equal(record["selected"], record["selected_mask"])
    again = run_episode(gym.make(mimo_env.ENV_ID, **KWARGS), selector, seed=3)
    assert [r["selected_eps"].tolist() for r in records] == [r["selected_eps"].tolist() for r in again]


def test_selector_mask_is_top_s_of_policy_scores(saved_ppo):
    selector = SB3Selector.load(saved_ppo, budget=2)
    obs = np.random.default_rng(0).uniform(0, 2, size=(6, 5)).astype(np.float32)
    scores, _ = selector.model.predict(obs, deterministic=True)
    np.testing.assert_array_equal(selector.select(obs), top_s_mask(scores, 2))
    selector.update(obs, selector.select(obs), 1.0)  # a trained policy does not learn online
    np.testing.assert_array_equal(selector.select(obs), top_s_mask(scores, 2))


def test_selector_accepts_flattened_policies(tmp_path):
    env = FlattenObservation(ScoreToSubsetWrapper(gym.make(mimo_env.ENV_ID, **KWARGS)))
    model = PPO("MlpPolicy", env, n_steps=4, batch_size=4, n_epochs=1, seed=0, device="cpu")
    selector = SB3Selector(model, budget=2)
    obs, _ = gym.make(mimo_env.ENV_ID, **KWARGS).reset(seed=0)
    assert selector.select(obs).sum() == 2
    with pytest.raises(ValueError, match="observation"):
        selector.select(np.zeros((6, 4), dtype=np.float32))


def test_invalid_use_raises(saved_ppo, tmp_path):
    with pytest.raises(ValueError, match="algo"):
        SB3Selector.load(saved_ppo, budget=2, algo="DQN")
    with pytest.raises(ValueError, match="path"):
        SB3Selector.load(tmp_path / "missing.zip", budget=2)
    with pytest.raises(ValueError, match="budget"):
        SB3Selector.load(saved_ppo, budget=7)
    discrete = PPO("MlpPolicy", gym.make("CartPole-v1"), n_steps=4, batch_size=4, device="cpu")
    with pytest.raises(ValueError, match="Box"):
        SB3Selector(discrete, budget=1)
