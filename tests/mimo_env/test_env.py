"""MassiveMIMOFLEnv on the tiny preset: both env checkers, registration, determinism, contexts, validation."""

from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from gymnasium.wrappers import FlattenObservation
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import mimo_env
from mimo_env.env import RATIO_CLIP, MassiveMIMOFLEnv
from mimo_env.spaces import SubsetMask
from mimo_env.wrappers import ScoreToSubsetWrapper

# torch 2.13 warns whenever the FL engine's oneDNN guard (DESIGN.md "Machine facts") restores the TF32 flag
pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")

KWARGS = dict(preset="tiny", model="mlp", width=16, ep_budget=2, max_rounds=4, device="cpu")
N, C, T = 6, 3, 3

#: Warnings that are not the env's: torch 2.13 emits this UserWarning each time ``torch.backends.mkldnn.flags``
#: (the FL engine's Conv3d guard, DESIGN.md "Machine facts") restores the oneDNN TF32 flag on a CPU build.
EXPLAINED = ("TF32 acceleration on top of oneDNN is available for Intel GPUs",)


def unexplained(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if not any(text in str(w.message) for text in EXPLAINED)]


def make(**overrides) -> MassiveMIMOFLEnv:
    return gym.make(mimo_env.ENV_ID, **(KWARGS | overrides)).unwrapped


def rollout(env: MassiveMIMOFLEnv, seed: int, actions: list[np.ndarray]):
    obs, info = env.reset(seed=seed)
    out = [(obs, None, info)]
    for action in actions:
        obs, reward, *_, info = env.step(action)
        out.append((obs, reward, info))
    return out


ACTIONS = [np.array([1, 1, 0, 0, 0, 0]), np.array([0, 0, 0, 1, 0, 1]), np.array([0, 0, 1, 0, 0, 0])]


def test_gymnasium_check_env_passes_without_warnings():
    env = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env)
    assert unexplained(caught) == []


def test_sb3_check_env_passes_with_only_the_documented_shape_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(make())
    # the contract's observation is [N, 2 + C]; SB3 warns about any 2-D Box (its MlpPolicy flattens it anyway)
    messages = unexplained(caught)
    assert len(messages) == 1 and "unconventional shape" in messages[0], messages
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(FlattenObservation(ScoreToSubsetWrapper(make())))
    assert unexplained(caught) == []


def test_gym_make_by_id_and_module_form():
    env = gym.make(mimo_env.ENV_ID, **KWARGS)
    assert isinstance(env.unwrapped, MassiveMIMOFLEnv)
    assert env.observation_space.shape == (N, 2 + C) and env.observation_space.dtype == np.float32
    assert env.action_space == SubsetMask(N, 2)
    # the "module:id" form imports mimo_env itself: check it in a fresh interpreter
    code = (
        "import gymnasium as gym; env = gym.make('mimo_env:MIMOClusteredFL-v0', preset='tiny', device='cpu'); "
        "print(type(env.unwrapped).__name__, env.observation_space.shape)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.split() == ["MassiveMIMOFLEnv", "(6,", "5)"]


def test_same_seed_same_actions_identical_rollouts():
    first, second = rollout(make(), 7, ACTIONS), rollout(make(), 7, ACTIONS)
    for (obs_a, rew_a, info_a), (obs_b, rew_b, info_b) in zip(first, second, strict=True):
        np.testing.assert_array_equal(obs_a, obs_b)
        assert rew_a == rew_b
        assert info_a.keys() == info_b.keys()
        for key in info_a:
            a, b = info_a[key], info_b[key]
            assert type(a) is type(b), key
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype and np.array_equal(a, b), key
            else:
                assert a == b, key
    other = rollout(make(), 8, ACTIONS)
    assert not np.array_equal(first[-1][2]["train_loss"], other[-1][2]["train_loss"])


def test_federation_is_shared_not_rebuilt():
    a, b = make(), make()
    a.reset(seed=0)
    a.reset(seed=1)
    assert a.federation is b.federation
    assert make(data_seed=1).federation is not a.federation


def test_contexts_follow_eq13_from_the_losses_in_info():
    env = make(max_rounds=5)
    obs, info = env.reset(seed=3)
    assert obs.dtype == np.float32 and obs in env.observation_space
    np.testing.assert_array_equal(obs[:, :2], 1.0)
    np.testing.assert_array_equal(np.argmax(obs[:, 2:], axis=1), info["chosen_cluster"])
    first_train, first_val = info["train_loss"], info["val_loss"]
    last_train = first_train.copy()
    for action in [*ACTIONS, np.array([1, 0, 0, 0, 0, 1])]:
        previous = obs
        obs, *_, info = env.step(action)
        selected = action.astype(bool)
        np.testing.assert_array_equal(info["selected"], selected)
        np.testing.assert_array_equal(info["selected_eps"], np.flatnonzero(selected))
        last_train[selected] = info["train_loss"][selected]
        np.testing.assert_allclose(obs[:, 0], np.clip(last_train / first_train, 0, RATIO_CLIP), rtol=1e-6)
        np.testing.assert_array_equal(obs[~selected, 0], previous[~selected, 0])
        np.testing.assert_allclose(obs[:, 1], np.clip(info["val_loss"] / first_val, 0, RATIO_CLIP), rtol=1e-6)
        one_hot = np.zeros((N, C), dtype=np.float32)
        one_hot[np.arange(N), info["chosen_cluster"]] = 1
        np.testing.assert_array_equal(obs[:, 2:], one_hot)
        assert obs in env.observation_space


def test_reward_info_and_truncation():
    env = make(max_rounds=4)
    _, info = env.reset(seed=0)
    assert info["round"] == 1 and info["selected"].all()
    for step in range(3):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert type(reward) is float and reward == info["global_min_se"] == float(np.min(info["val_min_se"]))
        assert terminated is False and truncated is (step == 2) and info["round"] == step + 2
        assert info["local_train_loss"].shape == (int(info["selected"].sum()),)
        assert info["cluster_test_min_se"].shape == (T,) and info["cluster_optimal_min_se"].shape == (T,)
        assert np.all(info["cluster_test_min_se"] <= info["cluster_optimal_min_se"] + 1e-9)
        assert 0.0 <= info["cluster_accuracy"] <= 1.0
        np.testing.assert_array_equal(info["topology_cluster"], [0, 0, 1, 1, 2, 2])
        for key, value in info.items():
            assert isinstance(value, (np.ndarray, int, float)), key
            assert np.all(np.isfinite(value)), key
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.action_space.sample())
    env.reset(seed=0)
    env.step(env.action_space.sample())


MALFORMED = [
    (np.zeros(N), "no EP"),
    (np.array([1, 1, 1, 0, 0, 0]), "more than the budget"),
    (np.ones(N + 1), "shape"),
    (np.array([[1, 0, 0, 0, 0, 0]]), "shape"),
    (np.array([1, 0.5, 0, 0, 0, 0]), "binary"),
    (np.array([1, np.nan, 0, 0, 0, 0]), "finite"),
    ("100000", "shape"),
]


def test_malformed_actions_raise_and_change_nothing():
    env, twin = make(), make()
    env.reset(seed=5)
    twin.reset(seed=5)
    for action, message in MALFORMED:
        with pytest.raises(ValueError, match=message):
            env.step(action)
    obs, reward, _, _, info = env.step(ACTIONS[0])
    obs_twin, reward_twin, _, _, info_twin = twin.step(ACTIONS[0])
    assert info["round"] == info_twin["round"] == 2
    np.testing.assert_array_equal(obs, obs_twin)
    assert reward == reward_twin


def test_step_before_reset_raises():
    with pytest.raises(RuntimeError, match="reset"):
        make().step(ACTIONS[0])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"preset": "huge"}, "preset"),
        ({"sigma2": -1.0}, "sigma2"),
        ({"sigma2": float("nan")}, "sigma2"),
        ({"model": "transformer"}, "model"),
        ({"objective": "mae"}, "objective"),
        ({"ep_budget": 0}, "ep_budget"),
        ({"ep_budget": N + 1}, "ep_budget"),
        ({"max_rounds": 1}, "max_rounds"),
        ({"num_clusters": 0}, "num_clusters"),
        ({"device": "tpu"}, "device"),
        ({"data_seed": -1}, "data_seed"),
        ({"render_mode": "human"}, "render_mode"),
        ({"lr": -1.0}, "lr"),
        ({"warp_drive": True}, "warp_drive"),
    ],
)
def test_invalid_arguments_raise_value_error(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MassiveMIMOFLEnv(**(KWARGS | kwargs))


def test_sigma2_and_scenario_config_arguments():
    env = MassiveMIMOFLEnv(**(KWARGS | {"sigma2": 5e-4}))
    assert env.scenario == mimo_env.preset("tiny", sigma2=5e-4)
    custom = mimo_env.preset("tiny", samples_per_ep=30, split=(20, 5, 5))
    env = MassiveMIMOFLEnv(**(KWARGS | {"preset": custom, "num_clusters": 2, "ep_budget": 3}))
    assert env.scenario is custom and env.observation_space.shape == (N, 4) and env.action_space.budget == 3


def test_ansi_render_and_options():
    env = make(render_mode="ansi")
    env.reset(seed=0)
    env.step(ACTIONS[0])
    text = env.render()
    assert isinstance(text, str) and len(text.strip().splitlines()) == N + 2 and "round 2/4" in text
    assert make().render() is None
    with pytest.raises(ValueError, match="options"):
        env.reset(options={"anything": 1})
