"""BaselineEnv: a baseline behind the env's episode API, with the info keys the TensorBoard logger reads."""

from __future__ import annotations

import numpy as np
import pytest

from fl_agents import FLConfig
from mimo_env.config import preset
from mimo_env.experiments.baseline_env import BaselineEnv
from mimo_env.wrappers import LOGGED_INFO_KEYS

# torch 2.13 warns whenever the FL engine's oneDNN guard (DESIGN.md "Machine facts") restores the TF32 flag
pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")


def make(method: str = "decentralized") -> BaselineEnv:
    return BaselineEnv(method, preset("tiny"), FLConfig(model="mlp", width=16), max_rounds=2, device="cpu")


def test_episode_trains_every_ep_and_truncates_at_the_budget():
    env = make()
    _, info = env.reset(seed=1)
    assert set(LOGGED_INFO_KEYS) <= set(info)
    assert info["round"] == 1 and info["selected"].all()
    obs, reward, terminated, truncated, info = env.step(np.ones(6, dtype=np.int8))
    assert info["round"] == 2 and truncated and not terminated
    assert reward == info["global_min_se"] == pytest.approx(float(np.min(info["val_min_se"])))
    np.testing.assert_allclose(obs, info["val_min_se"], rtol=1e-6)
    # decentralized: each EP uses its own model
    np.testing.assert_array_equal(info["chosen_cluster"], np.arange(6))


def test_seeded_episodes_repeat_exactly():
    a, b = make("fedavg"), make("fedavg")
    _, info_a = a.reset(seed=3)
    _, info_b = b.reset(seed=3)
    np.testing.assert_array_equal(info_a["cluster_test_min_se"], info_b["cluster_test_min_se"])


def test_bad_actions_and_arguments_raise():
    env = make()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.ones(6, dtype=np.int8))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="a baseline trains every EP"):
        env.step(np.array([1, 1, 0, 1, 1, 1]))
    with pytest.raises(ValueError, match="method must be one of"):
        BaselineEnv("clustered", preset("tiny"), FLConfig(), max_rounds=2)
    with pytest.raises(ValueError, match="max_rounds must be a positive integer, got 0"):
        BaselineEnv("fedavg", preset("tiny"), FLConfig(), max_rounds=0)
