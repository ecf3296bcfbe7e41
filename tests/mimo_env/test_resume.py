"""Checkpoint and resume: exact continuation in a new process, refusal of damaged or foreign files, atomic saves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from resume_continue import KWARGS, SELECTOR_ARGS, play

import mimo_env
from ep_selectors import ThompsonSelector, UniformSelector
from fl_agents import FLConfig
from mimo_env.checkpoint import CheckpointError, load_checkpoint
from mimo_env.cli import main
from mimo_env.config import preset
from mimo_env.env import MassiveMIMOFLEnv
from mimo_env.experiments.baseline_env import BaselineEnv
from mimo_env.resume import load_run, run_setup, save_run

# torch 2.13 warns whenever the FL engine's oneDNN guard (DESIGN.md "Machine facts") restores the TF32 flag
pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")

HELPER = Path(__file__).with_name("resume_continue.py")
K, M = 2, 2  # rounds before the checkpoint, rounds after it


def make_env(cache_dir: Path, **overrides) -> gym.Env:
    return gym.make(mimo_env.ENV_ID, cache_dir=cache_dir, **(KWARGS | overrides))


def assert_same_info(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert a[key].dtype == b[key].dtype, key
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        else:
            assert a[key] == b[key] or (np.isnan(a[key]) and np.isnan(b[key])), key


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("datasets")


@pytest.fixture(scope="module")
def saved_run(cache_dir, tmp_path_factory):
    """A Thompson run of K + M rounds after reset; the checkpoint is taken after round K (and its history)."""
    env, selector = make_env(cache_dir), ThompsonSelector(**SELECTOR_ARGS)
    observation, reset_info = env.reset(seed=11)
    selector.reset(12)
    head = play(env, selector, observation, K)
    path = tmp_path_factory.mktemp("ckpt") / "run.ckpt"
    save_run(path, env, selector, history=[reset_info] + [r["info"] for r in head])
    tail = play(env, selector, head[-1]["observation"], M)
    return path, head, tail


def test_k_plus_m_rounds_equal_k_saved_loaded_in_a_new_process_and_m_more(saved_run, cache_dir, tmp_path):
    path, head, tail = saved_run
    trace_path = tmp_path / "trace.ckpt"
    subprocess.run(
        [sys.executable, str(HELPER), str(path), str(trace_path), str(M), str(torch.get_num_threads()), str(cache_dir)],
        check=True,
        cwd=Path(__file__).parents[2],
        timeout=300,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[2])},
    )
    resumed = load_checkpoint(trace_path, kind="trace", fingerprint="")
    assert len(resumed["trace"]) == M
    for ours, theirs in zip(tail, resumed["trace"], strict=True):
        np.testing.assert_array_equal(ours["mask"], theirs["mask"])  # Thompson's choices
        assert ours["observation"].dtype == theirs["observation"].dtype
        np.testing.assert_array_equal(ours["observation"], theirs["observation"])
        assert ours["reward"] == theirs["reward"] and isinstance(theirs["reward"], float)
        assert (ours["terminated"], ours["truncated"]) == (theirs["terminated"], theirs["truncated"])
        assert_same_info(ours["info"], theirs["info"])
    assert [i["round"] for i in resumed["history"]] == list(range(1, K + 2))
    assert_same_info(resumed["history"][-1], head[-1]["info"])


def test_uniform_run_and_the_action_space_sampler_resume_in_process(cache_dir, tmp_path):
    env, selector = make_env(cache_dir), UniformSelector(6, 2)
    observation, _ = env.reset(seed=5)
    selector.reset(6)
    observation = play(env, selector, observation, 1)[-1]["observation"]
    save_run(tmp_path / "u.ckpt", env, selector)
    sample = env.action_space.sample()
    tail = play(env, selector, observation, 1)
    env2, selector2 = make_env(cache_dir), UniformSelector(6, 2, seed=99)
    resumed = load_run(tmp_path / "u.ckpt", env2, selector2)
    np.testing.assert_array_equal(resumed.observation, observation)
    np.testing.assert_array_equal(env2.action_space.sample(), sample)
    again = play(env2, selector2, resumed.observation, 1)
    np.testing.assert_array_equal(again[0]["mask"], tail[0]["mask"])
    np.testing.assert_array_equal(again[0]["observation"], tail[0]["observation"])
    assert_same_info(again[0]["info"], tail[0]["info"])
    assert env2.render() is None and env2.unwrapped.np_random_seed == env.unwrapped.np_random_seed


def test_baseline_env_resumes_exactly(cache_dir, tmp_path):
    def make() -> BaselineEnv:
        return BaselineEnv(
            "fedavg",
            preset("tiny"),
            FLConfig(model="mlp", width=16),
            max_rounds=4,
            data_seed=0,
            device="cpu",
            cache_dir=cache_dir,
        )

    env, all_eps = make(), np.ones(6, dtype=np.int8)
    env.reset(seed=3)
    env.step(all_eps)
    save_run(tmp_path / "b.ckpt", env)
    expected = env.step(all_eps)
    env2 = make()
    resumed = load_run(tmp_path / "b.ckpt", env2)
    assert resumed.history == [] and resumed.observation.shape == (6,)
    got = env2.step(all_eps)
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[1:4] == expected[1:4]
    assert_same_info(got[4], expected[4])
    with pytest.raises(CheckpointError, match="method is 'fedavg' in the checkpoint but 'centralized' now"):
        load_run(
            tmp_path / "b.ckpt",
            BaselineEnv("centralized", preset("tiny"), FLConfig(model="mlp", width=16), max_rounds=4, device="cpu"),
        )


@pytest.mark.parametrize("damage", ["truncated", "corrupted", "not a checkpoint"])
def test_damaged_checkpoint_is_refused_and_changes_nothing(saved_run, cache_dir, tmp_path, damage):
    raw = saved_run[0].read_bytes()
    damaged = {
        "truncated": raw[: len(raw) // 2],
        "corrupted": raw[:-100] + bytes([raw[-100] ^ 1]) + raw[-99:],
        "not a checkpoint": b"PK\x03\x04" + raw[4:],
    }[damage]
    path = tmp_path / "damaged.ckpt"
    path.write_bytes(damaged)
    env, selector = make_env(cache_dir), ThompsonSelector(**SELECTOR_ARGS, seed=1)
    before = selector.state_dict()
    with pytest.raises(CheckpointError, match="truncated or corrupted" if damage != "not a checkpoint" else "header"):
        load_run(path, env, selector)
    assert env.unwrapped.algorithm is None
    after = selector.state_dict()
    np.testing.assert_array_equal(after["v_inv"], before["v_inv"])
    assert after["rng"] == before["rng"]


def test_a_failed_save_leaves_the_existing_checkpoint_intact(saved_run, cache_dir, tmp_path, monkeypatch):
    path = tmp_path / "run.ckpt"
    path.write_bytes(saved_run[0].read_bytes())
    env, selector = make_env(cache_dir), ThompsonSelector(**SELECTOR_ARGS)
    resumed = load_run(path, env, selector)
    play(env, selector, resumed.observation, 1)
    original = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr("mimo_env.checkpoint.os.replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_run(path, env, selector)
    monkeypatch.undo()
    with pytest.raises(TypeError, match="cannot checkpoint"):
        save_run(path, env, selector, history=[object()])
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt"]  # no temporary file left behind
    reloaded = load_run(path, make_env(cache_dir), ThompsonSelector(**SELECTOR_ARGS))
    assert [i["round"] for i in reloaded.history] == [i["round"] for i in resumed.history] == [1, 2, 3]


@pytest.mark.parametrize(
    ("env_overrides", "selector", "difference"),
    [
        (dict(sigma2=5e-4), ThompsonSelector(**SELECTOR_ARGS), "scenario.sigma2 is 0.0 in the checkpoint but 0.0005"),
        (dict(preset="quick"), ThompsonSelector(**(SELECTOR_ARGS | {"num_eps": 15})), "scenario.clusters"),
        (dict(model="setnet"), ThompsonSelector(**SELECTOR_ARGS), "fl.model is 'mlp' in the checkpoint but 'setnet'"),
        (dict(objective="se"), ThompsonSelector(**SELECTOR_ARGS), "fl.objective"),
        (dict(data_seed=1), ThompsonSelector(**SELECTOR_ARGS), "data_seed is 0 in the checkpoint but 1 now"),
        (dict(max_rounds=12), ThompsonSelector(**SELECTOR_ARGS), "max_rounds is 10 in the checkpoint but 12 now"),
        (dict(ep_budget=3), ThompsonSelector(**(SELECTOR_ARGS | {"budget": 3})), "ep_budget"),
        (dict(num_clusters=2), ThompsonSelector(**(SELECTOR_ARGS | {"context_dim": 4})), "fl.num_clusters"),
        ({}, ThompsonSelector(**(SELECTOR_ARGS | {"exploration": 2.0})), "selector.exploration is 1.0"),
        ({}, UniformSelector(6, 2), "selector is 'thompson' in the checkpoint but 'uniform' now"),
        ({}, None, "selector is 'thompson' in the checkpoint but None now"),
    ],
)
def test_a_checkpoint_of_another_setup_is_refused_naming_the_difference(
    saved_run, cache_dir, env_overrides, selector, difference
):
    env = make_env(cache_dir, **env_overrides)
    with pytest.raises(CheckpointError, match="saved for another setup") as error:
        load_run(saved_run[0], env, selector)
    assert difference in str(error.value)
    assert env.unwrapped.algorithm is None


def test_device_and_cache_folder_are_not_part_of_the_setup(cache_dir, tmp_path):
    a = run_setup(make_env(cache_dir), ThompsonSelector(**SELECTOR_ARGS))
    b = run_setup(make_env(tmp_path, render_mode="ansi"), ThompsonSelector(**SELECTOR_ARGS, seed=3))
    assert a == b and a["env"] == "MassiveMIMOFLEnv" and a["fl.width"] == 16 and a["ep_budget"] == 2


def test_env_state_before_reset_round_trips_and_malformed_states_raise(cache_dir):
    env = make_env(cache_dir).unwrapped
    state = env.get_state()
    assert state["algorithm"] is None and state["observation"] is None
    other = make_env(cache_dir).unwrapped
    other.set_state(state)
    assert other.algorithm is None
    np.testing.assert_array_equal(other.action_space.sample(), env.action_space.sample())
    with pytest.raises(ValueError, match="state must be a dict"):
        other.set_state([state])
    with pytest.raises(ValueError, match="state np_random"):
        other.set_state(state | {"np_random": {"bit_generator": "MT19937"}})
    with pytest.raises(ValueError, match="both the algorithm and the episode"):
        other.set_state(state | {"algorithm": {"algorithm": "clustered"}})
    with pytest.raises(ValueError, match="max_rounds is 10 in the state but 11 here"):
        make_env(cache_dir, max_rounds=11).unwrapped.set_state(state)


def test_thompson_state_dict_continues_the_draws_and_refuses_foreign_states():
    rng = np.random.default_rng(0)
    selector = ThompsonSelector(**SELECTOR_ARGS, seed=1)
    for _ in range(4):
        x = rng.random((6, 5))
        selector.update(x, selector.select(x), float(rng.random()))
    state = selector.state_dict()
    copy = ThompsonSelector(**SELECTOR_ARGS, seed=2)
    copy.load_state_dict(state)
    x = rng.random((6, 5))
    for _ in range(3):
        np.testing.assert_array_equal(copy.select(x), selector.select(x))
    np.testing.assert_array_equal(copy.posterior_mean, selector.posterior_mean)
    assert copy.num_rows == selector.num_rows == 8
    with pytest.raises(ValueError, match=r"regularization=0\.5, this one has regularization=1\.0"):
        ThompsonSelector(**(SELECTOR_ARGS | {"regularization": 1.0})).load_state_dict(state)
    with pytest.raises(ValueError, match="'thompson' selector, not 'uniform'"):
        UniformSelector(6, 2).load_state_dict(state)
    fresh = ThompsonSelector(**SELECTOR_ARGS, seed=2)
    for bad, match in [
        ({"v_inv": np.eye(4)}, "shapes"),
        ({"b": np.full(5, np.nan)}, "finite"),
        ({"num_rows": -1}, "num_rows"),
        ({"rng": "seed"}, "state rng"),
    ]:
        with pytest.raises(ValueError, match=match):
            fresh.load_state_dict(state | bad)
    assert fresh.num_rows == 0 and np.array_equal(fresh.posterior_mean, np.zeros(5))


def test_sb3_selector_state_is_its_policy_fingerprint():
    from stable_baselines3 import PPO

    from ep_selectors import SB3Selector
    from mimo_env.wrappers import ScoreToSubsetWrapper

    env = ScoreToSubsetWrapper(gym.make(mimo_env.ENV_ID, **KWARGS))
    first = SB3Selector(PPO("MlpPolicy", env, n_steps=8, batch_size=8, seed=0, device="cpu"), budget=2)
    second = SB3Selector(PPO("MlpPolicy", env, n_steps=8, batch_size=8, seed=1, device="cpu"), budget=2)
    state = first.state_dict()
    assert set(state) == {"selector", "params"} and state["params"]["algo"] == "PPO"
    first.load_state_dict(state)
    with pytest.raises(ValueError, match="policy_sha256"):
        second.load_state_dict(state)
    with pytest.raises(ValueError, match="deterministic"):
        SB3Selector(first.model, budget=2, deterministic=False).load_state_dict(state)


def _table(printed: str) -> list[str]:
    """The per-round rows and the optimum row of ``mimo-fl train``'s table."""
    return [line for line in printed.splitlines() if line[:5].strip().isdigit() or line.startswith("optimal")]


def test_cli_train_checkpoint_resumes_an_interrupted_run_exactly(cache_dir, tmp_path, capsys, monkeypatch):
    env_class = MassiveMIMOFLEnv
    args = [
        "train",
        "--method",
        "clustered-cmab",
        "--preset",
        "tiny",
        "--rounds",
        "3",
        "--ep-budget",
        "2",
        "--model",
        "mlp",
        "--width",
        "16",
        "--device",
        "cpu",
        "--cache-dir",
        str(cache_dir),
        "--seed",
        "1",
    ]
    assert main([*args, "--logdir", str(tmp_path / "plain")]) == 0
    plain = _table(capsys.readouterr().out)
    assert len(plain) == 4
    checkpoint = [*args, "--logdir", str(tmp_path / "resumed"), "--checkpoint", str(tmp_path / "train.ckpt")]
    step, calls = env_class.step, []

    def interrupted_at_round_3(self, action):
        calls.append(action)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return step(self, action)

    monkeypatch.setattr(env_class, "step", interrupted_at_round_3)
    with pytest.raises(KeyboardInterrupt):
        main(checkpoint)
    monkeypatch.undo()
    capsys.readouterr()
    assert main(checkpoint) == 0
    printed = capsys.readouterr().out
    assert f"resumed from {tmp_path / 'train.ckpt'} after round 2" in printed
    assert _table(printed) == plain
    assert main(checkpoint) == 0  # a finished run is only reported again
    assert _table(capsys.readouterr().out) == plain
    with pytest.raises(SystemExit) as error:
        main([*checkpoint, "--sigma2", "0.01"])
    assert error.value.code == 2
    assert "scenario.sigma2 is 0.0 in the checkpoint but 0.01 now" in capsys.readouterr().err
