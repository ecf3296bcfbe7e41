"""Smoke tests of the env examples with tiny settings: they run, print their tables and write their outputs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ep_selectors import SB3Selector

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TINY = ["--preset", "tiny", "--width", "16", "--device", "cpu"]


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")
def test_quickstart(tmp_path, capsys):
    results = load("quickstart").main([*TINY, "--max-rounds", "3", "--log-dir", str(tmp_path / "quick")])
    out = capsys.readouterr().out
    assert set(results) == {"thompson", "uniform"} and all(len(r) == 2 for r in results.values())
    assert "After 3 rounds" in out and "optimal" in out and "tensorboard --logdir" in out
    for name in results:
        assert list((tmp_path / "quick" / name).glob("events.out.tfevents.*"))
        assert f"{results[name][-1]['reward']:.4f}" in out
    # same episode seed: both selectors start from the same round-1 models
    assert results["thompson"][0]["reset_info"]["global_min_se"] == results["uniform"][0]["reset_info"]["global_min_se"]


@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")
def test_train_sb3_selector(tmp_path, capsys):
    save = tmp_path / "ppo.zip"
    path = load("train_sb3_selector").main(
        [
            *TINY,
            "--max-rounds",
            "2",
            "--total-timesteps",
            "4",
            "--n-steps",
            "4",
            "--log-dir",
            str(tmp_path / "runs"),
            "--save-path",
            str(save),
        ]
    )
    out = capsys.readouterr().out
    assert path == save and save.exists()
    assert "evaluation episode, learned" in out and "evaluation episode, uniform" in out
    assert list((tmp_path / "runs" / "PPO_env").glob("events.out.tfevents.*"))
    assert list((tmp_path / "runs").glob("PPO_1/events.out.tfevents.*"))  # SB3's own run, same log tree
    selector = SB3Selector.load(save, budget=3)
    assert selector.select(np.ones((6, 5), dtype=np.float32)).sum() == 3


@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")
def test_sweep_thompson(capsys):
    summary = load("sweep_thompson").main(
        [*TINY, "--seeds", "2", "--max-rounds", "2", "--lambdas", "1", "--epsilons", "0.1"]
    )
    out = capsys.readouterr().out
    assert set(summary) == {"uniform", "thompson lambda=1 eps=0.1"}
    assert summary["uniform"]["diff_to_uniform"] == 0.0
    assert "mean - uniform" in out
