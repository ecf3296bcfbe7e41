import math

import pytest

from mimo_env.experiments.settings import DEFAULT_METHODS, BenchmarkSettings


def test_defaults_are_the_papers_conditions_and_methods():
    s = BenchmarkSettings()
    assert s.sigma2s == (0.0, 5e-4, 1e-2)
    assert s.methods == DEFAULT_METHODS and s.seeds == 3
    assert len(s.runs()) == 3 * 3 * len(DEFAULT_METHODS)


def test_runs_cover_the_grid_once_grouped_by_federation():
    s = BenchmarkSettings(preset="tiny", sigma2s=(0.0, 1e-2), seeds=2, methods=("fedavg", "clustered-cmab"))
    runs = s.runs()
    assert len(set(runs)) == len(runs) == 8
    # consecutive runs share (sigma2, seed) so a federation is built once per group
    assert [(r[1], r[2]) for r in runs[:2]] == [(0.0, 0), (0.0, 0)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"methods": ("fedavg", "bogus")}, "unknown method 'bogus'"),
        ({"methods": ()}, "at least one method"),
        ({"methods": ("fedavg", "fedavg")}, "repeat"),
        ({"sigma2s": (0.0, -1e-3)}, "sigma2 must be a finite number >= 0, got -0.001"),
        ({"sigma2s": (math.nan,)}, "sigma2 must be a finite number >= 0"),
        ({"sigma2s": (math.inf,)}, "sigma2 must be a finite number >= 0"),
        ({"sigma2s": ()}, "at least one value"),
        ({"sigma2s": (0.0, 0.0)}, "repeat"),
        ({"seeds": 0}, "seeds must be a positive integer, got 0"),
        ({"seeds": -2}, "seeds must be a positive integer"),
        ({"rounds": 0}, "rounds must be an integer >= 2 (round 1, with all EPs, is included), got 0"),
        ({"rounds": 1}, "rounds must be an integer >= 2"),
        ({"rounds": 2.5}, "rounds must be an integer >= 2"),
        ({"device": "tpu"}, "device must be"),
        ({"methods": ("clustered-sb3",), "sb3_model": __file__, "sb3_algo": "DQN"}, "sb3_algo must be one of"),
        ({"ep_budget": 0}, "ep_budget must be a positive integer"),
        ({"ep_budget": 7}, "at most the preset's 6 EPs"),
        ({"preset": "nope"}, "preset must be one of"),
        ({"model": "nope"}, "model must be one of"),
        ({"objective": "nope"}, "objective must be one of"),
        ({"methods": ("clustered-sb3",)}, "needs sb3_model"),
        ({"methods": ("clustered-sb3",), "sb3_model": "/nonexistent/model.zip"}, "existing file"),
    ],
)
def test_bad_settings_fail_with_a_message_naming_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BenchmarkSettings(**{"preset": "tiny", **kwargs})


def test_identity_ignores_grid_and_device_but_not_meaning(tmp_path):
    base = BenchmarkSettings(preset="tiny", rounds=3)
    assert (
        base.identity()
        == BenchmarkSettings(
            preset="tiny", rounds=3, seeds=5, sigma2s=(0.0,), methods=("fedavg",), device="cpu"
        ).identity()
    )
    for change in ({"rounds": 4}, {"objective": "se"}, {"ep_budget": 2}, {"preset": "quick"}):
        assert BenchmarkSettings(**{"preset": "tiny", "rounds": 3, **change}).identity() != base.identity()
    model = tmp_path / "m.zip"
    model.write_bytes(b"one")
    with_sb3 = BenchmarkSettings(preset="tiny", rounds=3, methods=("clustered-sb3",), sb3_model=str(model))
    model.write_bytes(b"two")
    assert (
        with_sb3.identity()
        != BenchmarkSettings(preset="tiny", rounds=3, methods=("clustered-sb3",), sb3_model=str(model)).identity()
    )


def test_sb3_model_path_may_leave_off_zip_like_sb3(tmp_path):
    (tmp_path / "ppo.zip").write_bytes(b"model")
    s = BenchmarkSettings(preset="tiny", methods=("clustered-sb3",), sb3_model=str(tmp_path / "ppo"))
    assert s.sb3_model == str(tmp_path / "ppo.zip") and s.sb3_model_sha256 is not None
