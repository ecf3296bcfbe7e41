"""``mimo-fl``: the benchmark end to end on the tiny preset (results, PNGs, table, resume), report, dataset, train,
and argument errors that stop before any work."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from matplotlib.image import imread
from stable_baselines3 import PPO
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import mimo_env
import mimo_env.experiments.runner as runner
from mimo_env.cli import main
from mimo_env.experiments.report import TABLE_FILE
from mimo_env.experiments.store import ResultsStore
from mimo_env.wrappers import ScoreToSubsetWrapper

# torch 2.13 warns whenever the FL engine's oneDNN guard (DESIGN.md "Machine facts") restores the TF32 flag
pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = [
    "--preset",
    "tiny",
    "--rounds",
    "2",
    "--ep-budget",
    "2",
    "--model",
    "mlp",
    "--width",
    "16",
    "--device",
    "cpu",
    "--quiet",
]
METHODS = ["centralized", "fedavg", "clustered-uniform"]


def _mtimes(out):
    return {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    assert main(["benchmark", "--out", str(out), "--sigma2", "0", "--seeds", "1", "--methods", *METHODS, *TINY]) == 0
    return out


def test_benchmark_writes_results_figures_and_table(bench_dir):
    runs = sorted(p.name for p in (bench_dir / "runs").glob("*.json"))
    assert runs == sorted(f"{m}__sigma2=0.0__seed=0.json" for m in METHODS)
    for result in ResultsStore(bench_dir).load_all():
        assert result.cluster_test_min_se.shape == (2, 3) and np.all(result.cluster_test_min_se > 0)
        assert np.all(result.selected[0])  # round 1 trains every EP, for every method
        clustered = result.method.startswith("clustered")
        assert result.selected[1].sum() == (2 if clustered else 6)
        assert np.all(result.optimal_min_se > result.equal_power_min_se)
        data = json.loads((bench_dir / "runs" / f"{result.method}__sigma2=0.0__seed=0.json").read_text())
        assert data["settings"]["preset"] == "tiny" and data["settings"]["rounds"] == 2
    for name in ("min_se_sigma2=0.0.png", "convergence_sigma2=0.0.png"):
        png = bench_dir / name
        assert png.read_bytes()[:8] == PNG_SIGNATURE
        assert imread(png).ndim == 3
    table = (bench_dir / TABLE_FILE).read_text()
    for label in ("Centralized", "Global aggregation", "Clustered FL + uniform", "Optimal (max-min)", "Equal power"):
        assert f"| {label} |" in table


def test_second_invocation_skips_finished_runs(bench_dir, monkeypatch, capsys):
    before = _mtimes(bench_dir)

    def must_not_run(*args, **kwargs):
        raise AssertionError(f"run_method called again: {args[:3]}")

    monkeypatch.setattr(runner, "run_method", must_not_run)
    assert (
        main(
            [
                "benchmark",
                "--out",
                str(bench_dir),
                "--sigma2",
                "0",
                "--seeds",
                "1",
                "--methods",
                *METHODS,
                "--no-report",
                *TINY,
            ]
        )
        == 0
    )
    assert "0 run(s) trained, 3 already finished" in capsys.readouterr().out
    assert _mtimes(bench_dir) == before


def test_mixing_settings_in_one_directory_is_refused(bench_dir, monkeypatch, capsys):
    before = _mtimes(bench_dir)
    monkeypatch.setattr(runner, "run_method", lambda *a, **k: pytest.fail("trained despite mixed settings"))
    args = ["benchmark", "--out", str(bench_dir), "--sigma2", "0", "--seeds", "1", "--methods", *METHODS, *TINY]
    args[args.index("--rounds") + 1] = "3"
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert "different settings (rounds: 2 there, 3 now)" in capsys.readouterr().err
    assert _mtimes(bench_dir) == before


def test_report_regenerates_figures_and_table(bench_dir, capsys):
    (bench_dir / TABLE_FILE).unlink()
    assert main(["report", "--out", str(bench_dir)]) == 0
    assert (bench_dir / TABLE_FILE).is_file()
    assert f"wrote {bench_dir / TABLE_FILE}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--methods", "fedavg", "bogus"], "argument --methods: invalid choice: 'bogus'"),
        (["--sigma2", "0", "-0.001"], "argument --sigma2: must be a finite number >= 0, got '-0.001'"),
        (["--sigma2", "0", "-1e-3"], "argument --sigma2: must be a finite number >= 0, got '-1e-3'"),
        (["--sigma2", "nan"], "argument --sigma2: must be a finite number >= 0, got 'nan'"),
        (["--seeds", "0"], "argument --seeds: must be a positive integer, got '0'"),
        (["--rounds", "-3"], "argument --rounds: must be a positive integer, got '-3'"),
        (["--rounds", "1"], "rounds must be an integer >= 2"),
        (["--preset", "huge"], "argument --preset: invalid choice: 'huge'"),
        (["--model", "transformer"], "FLConfig.model must be one of"),
        (["--methods", "clustered-sb3"], "needs sb3_model"),
        (["--ep-budget", "9"], "ep_budget must be at most the preset's 6 EPs, got 9"),
    ],
)
def test_bad_arguments_fail_clearly_before_any_work(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.setattr(runner, "run_method", lambda *a, **k: pytest.fail("work started despite bad arguments"))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--out", str(out), "--preset", "tiny", "--quiet", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "mimo-fl benchmark: error:" in err and message in err
    assert not out.exists()


def test_dataset_describes_cluster_sizes_and_noisy_fractions(capsys):
    assert main(["dataset", "--preset", "tiny", "--sigma2", "0.01", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert "6 EPs" in text and "sigma2 = 0.01" in text
    assert "0.00, 0.20" in text  # cluster 3's noisy fractions in the tiny preset


def _tags_and_rewards(log_dir):
    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return set(acc.Tags()["scalars"]), [e.value for e in acc.Scalars("round/reward")]


def test_train_logs_baselines_and_clustered_fl_under_the_same_tags(tmp_path, capsys):
    for method in ("fedavg", "clustered-cmab"):
        assert (
            main(
                ["train", "--method", method, "--logdir", str(tmp_path / method), *[a for a in TINY if a != "--quiet"]]
            )
            == 0
        )
    printed = capsys.readouterr().out
    assert "TensorBoard logs in" in printed
    fedavg_tags, fedavg_rewards = _tags_and_rewards(tmp_path / "fedavg")
    cmab_tags, cmab_rewards = _tags_and_rewards(tmp_path / "clustered-cmab")
    assert fedavg_tags == cmab_tags
    assert {"round/reward", "cluster/0/test_min_se", "cluster/2/optimal_min_se", "episode/return"} <= cmab_tags
    assert len(fedavg_rewards) == len(cmab_rewards) == 2
    # the printed per-round table shows the logged rewards
    for reward in fedavg_rewards + cmab_rewards:
        assert f"{reward:6.4f}" in printed


def test_benchmark_runs_a_saved_sb3_selector(tmp_path, capsys):
    env = ScoreToSubsetWrapper(
        gym.make(mimo_env.ENV_ID, preset="tiny", model="mlp", width=16, ep_budget=2, max_rounds=2, device="cpu")
    )
    path = tmp_path / "ppo.zip"
    PPO("MlpPolicy", env, n_steps=4, batch_size=4, seed=0, device="cpu").save(path)
    out = tmp_path / "out"
    assert (
        main(
            [
                "benchmark",
                "--out",
                str(out),
                "--sigma2",
                "0",
                "--seeds",
                "1",
                "--methods",
                "clustered-sb3",
                "--sb3-model",
                str(path),
                "--no-report",
                *TINY,
            ]
        )
        == 0
    )
    (result,) = ResultsStore(out).load_all()
    assert result.method == "clustered-sb3" and result.identity["sb3_algo"] == "PPO"
    assert len(result.identity["sb3_model_sha256"]) == 64
    assert result.selected[1].sum() == 2
