import json
import math
import os

import numpy as np
import pytest

from mimo_env.experiments.settings import BenchmarkSettings
from mimo_env.experiments.store import ResultsStore, RunResult, run_filename, write_json_atomic

from .fakes import fake_result

SETTINGS = BenchmarkSettings(preset="tiny", rounds=4, seeds=2)


def test_run_result_round_trips_through_json_with_nan_as_null():
    result = fake_result(SETTINGS, "centralized", 5e-4, 1)
    data = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert data["rounds"][0]["cluster_accuracy"] is None
    back = RunResult.from_json(data)
    np.testing.assert_array_equal(back.cluster_test_min_se, result.cluster_test_min_se)
    np.testing.assert_array_equal(back.selected, result.selected)
    assert np.isnan(back.cluster_accuracy).all()
    assert (back.method, back.sigma2, back.seed, back.identity) == ("centralized", 5e-4, 1, SETTINGS.identity())


def test_from_json_refuses_foreign_format_and_missing_fields():
    data = fake_result(SETTINGS, "fedavg", 0.0, 0).to_json()
    with pytest.raises(ValueError, match="format"):
        RunResult.from_json({**data, "format": 999})
    with pytest.raises(ValueError, match="malformed"):
        RunResult.from_json({k: v for k, v in data.items() if k != "optimal_min_se"})


def test_run_filenames_are_exact_and_distinct():
    names = {
        run_filename(m, s, k) for m in ("fedavg", "clustered-cmab") for s in (0.0, 5e-4, 5.0000001e-4) for k in (0, 1)
    }
    assert len(names) == 12
    assert run_filename("clustered-cmab", 5e-4, 2) == "clustered-cmab__sigma2=0.0005__seed=2.json"
    with pytest.raises(ValueError, match="unknown method"):
        run_filename("bogus", 0.0, 0)


def test_atomic_write_leaves_old_file_intact_on_failure(tmp_path):
    path = tmp_path / "x.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(ValueError):
        write_json_atomic(path, {"a": math.nan})  # allow_nan=False fails mid-write
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["x.json"]  # no temporary file left behind
    mask = os.umask(0o022)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's private 0600


def test_store_saves_loads_and_refuses_mixed_settings(tmp_path):
    store = ResultsStore(tmp_path / "out")
    store.claim(SETTINGS.identity())
    store.claim(SETTINGS.identity())  # same experiment: fine
    assert not store.has("fedavg", 0.0, 0)
    store.save(fake_result(SETTINGS, "fedavg", 0.0, 0))
    assert store.has("fedavg", 0.0, 0)
    assert [r.method for r in store.load_all()] == ["fedavg"]
    other = BenchmarkSettings(preset="tiny", rounds=5, seeds=2)
    with pytest.raises(ValueError, match=r"different settings \(rounds: 4 there, 5 now\)"):
        store.claim(other.identity())
    # a run file of another experiment dropped into the directory is refused on load
    foreign = fake_result(other, "centralized", 0.0, 0)
    (store.runs_dir / run_filename("centralized", 0.0, 0)).write_text(json.dumps(foreign.to_json()))
    with pytest.raises(ValueError, match="another experiment"):
        store.load_all()


def test_load_all_on_an_empty_directory_says_so(tmp_path):
    with pytest.raises(ValueError, match="no benchmark results"):
        ResultsStore(tmp_path).load_all()
