"""ScoreToSubsetWrapper (top-S of scores) and TensorBoardLogger (event files read back) on the tiny preset."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import mimo_env
from mimo_env.spaces import top_s_mask
from mimo_env.wrappers import ScoreToSubsetWrapper, TensorBoardLogger

# torch 2.13 warns whenever the FL engine's oneDNN guard (DESIGN.md "Machine facts") restores the TF32 flag
pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")

KWARGS = dict(preset="tiny", model="mlp", width=16, ep_budget=2, max_rounds=4, device="cpu")


def make() -> gym.Env:
    return gym.make(mimo_env.ENV_ID, **KWARGS)


def test_score_wrapper_space_and_top_s_selection():
    env = ScoreToSubsetWrapper(make())
    space = env.action_space
    assert isinstance(space, gym.spaces.Box) and space.shape == (6,) and space.dtype == np.float32
    assert np.all(space.low == -1) and np.all(space.high == 1)
    env.reset(seed=0)
    scores = np.array([0.1, -0.5, 0.9, 0.3, 0.9, -1.0], dtype=np.float32)
    _, _, _, _, info = env.step(scores)
    np.testing.assert_array_equal(info["selected"], [False, False, True, False, True, False])
    _, _, _, _, info = env.step(np.zeros(6, dtype=np.float32))  # all tied: the lowest indices
    np.testing.assert_array_equal(info["selected_eps"], [0, 1])
    space.seed(1)
    for _ in range(5):
        scores = space.sample()
        np.testing.assert_array_equal(env.action(scores).astype(bool), top_s_mask(scores, 2))


def test_score_wrapper_rejects_bad_scores_and_envs():
    env = ScoreToSubsetWrapper(make())
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(5, dtype=np.float32))
    with pytest.raises(ValueError, match="finite"):
        env.step(np.array([np.nan, 0, 0, 0, 0, 0], dtype=np.float32))
    with pytest.raises(ValueError, match="SubsetMask"):
        ScoreToSubsetWrapper(gym.make("CartPole-v1"))


def scalars(log_dir, tag):
    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return acc, [(e.step, e.value) for e in acc.Scalars(tag)]


def test_tensorboard_logger_writes_rounds_and_episodes(tmp_path):
    env = TensorBoardLogger(make(), log_dir=tmp_path / "env")
    rewards, infos, selections = [], [], np.zeros(6, dtype=int)
    for episode in range(2):
        _, info = env.reset(seed=episode)
        infos.append(info)
        rewards.append(info["global_min_se"])
        truncated = False
        while not truncated:
            _, reward, _, truncated, info = env.step(env.action_space.sample())
            infos.append(info)
            rewards.append(reward)
            selections += info["selected"]
    env.close()
    env.close()  # closing twice is allowed

    acc, reward_events = scalars(tmp_path / "env", "round/reward")
    assert [s for s, _ in reward_events] == list(range(1, 9))
    np.testing.assert_allclose([v for _, v in reward_events], rewards, rtol=1e-6)
    _, returns = scalars(tmp_path / "env", "episode/return")
    assert [s for s, _ in returns] == [4, 8]
    np.testing.assert_allclose([v for _, v in returns], [sum(rewards[1:4]), sum(rewards[5:8])], rtol=1e-6)
    _, lengths = scalars(tmp_path / "env", "episode/length")
    assert [v for _, v in lengths] == [3, 3]
    for n in range(6):
        _, counts = scalars(tmp_path / "env", f"selection/ep_{n:02d}")
        assert counts[-1] == (8, selections[n])
    for t in range(3):
        _, cluster = scalars(tmp_path / "env", f"cluster/{t}/test_min_se")
        np.testing.assert_allclose([v for _, v in cluster], [i["cluster_test_min_se"][t] for i in infos], rtol=1e-6)
    _, accuracy = scalars(tmp_path / "env", "round/cluster_accuracy")
    np.testing.assert_allclose([v for _, v in accuracy], [i["cluster_accuracy"] for i in infos], rtol=1e-6)
    tags = set(acc.Tags()["scalars"])
    assert {
        "loss/train_mean",
        "loss/val_mean",
        "cluster/0/optimal_min_se",
        "cluster/2/equal_power_min_se",
        "episode/final_reward",
        "round/index",
    } <= tags


def test_tensorboard_logger_under_the_score_wrapper(tmp_path):
    env = TensorBoardLogger(ScoreToSubsetWrapper(make()), log_dir=tmp_path)
    env.reset(seed=0)
    _, reward, _, _, _ = env.step(np.linspace(-1, 1, 6, dtype=np.float32))
    env.close()
    _, events = scalars(tmp_path, "round/reward")
    assert len(events) == 2 and events[1][1] == pytest.approx(reward, rel=1e-6)
