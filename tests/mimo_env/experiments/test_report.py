import numpy as np
import pytest
from matplotlib.image import imread

from mimo_env.experiments.report import TABLE_FILE, write_report
from mimo_env.experiments.settings import BenchmarkSettings
from mimo_env.experiments.store import ResultsStore
from mimo_env.experiments.summary import relative_gain, summarize

from .fakes import fake_result

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SETTINGS = BenchmarkSettings(
    preset="tiny",
    rounds=4,
    seeds=2,
    sigma2s=(0.0, 1e-2),
    methods=("centralized", "clustered-uniform", "clustered-cmab"),
)
LEVELS = {"centralized": 1.0, "clustered-uniform": 1.2, "clustered-cmab": 1.5}


def _results():
    return [fake_result(SETTINGS, m, s, k, level=LEVELS[m]) for m, s, k in SETTINGS.runs()]


def test_summary_stacks_seeds_and_matches_closed_form():
    conds = summarize(_results())
    assert [c.sigma2 for c in conds] == [0.0, 1e-2]
    cmab = conds[0].method("clustered-cmab")
    assert cmab.curves.shape == (2, 4, 3) and cmab.seeds == (0, 1)
    # final = 1.5 * (c + 1) + 0.1 * seed; optimum = 2 (c + 1)
    np.testing.assert_allclose(cmab.final.mean(axis=0), 1.5 * np.arange(1, 4) + 0.05)
    np.testing.assert_allclose(cmab.final_fraction[0], 0.75)
    np.testing.assert_allclose(conds[0].optimal, [2.0, 4.0, 6.0])
    expected = np.mean((1.5 * np.arange(1, 4) + 0.05) / (1.2 * np.arange(1, 4) + 0.05)) - 1
    assert relative_gain(conds[0], "clustered-cmab", "clustered-uniform") == pytest.approx(expected)
    assert relative_gain(conds[0], "clustered-cmab", "fedavg") is None
    assert conds[0].method("fedavg") is None


def test_report_writes_readable_pngs_and_the_table(tmp_path):
    store = ResultsStore(tmp_path)
    store.claim(SETTINGS.identity())
    for r in _results():
        store.save(r)
    written = write_report(tmp_path)
    pngs = [p for p in written if p.suffix == ".png"]
    assert len(pngs) == 4  # bars and convergence for each sigma2
    for p in pngs:
        assert p.read_bytes()[:8] == PNG_SIGNATURE
        image = imread(p)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    table = (tmp_path / TABLE_FILE).read_text()
    assert "### perfect CSI (σ² = 0)" in table and "### imperfect CSI (σ² = 0.01)" in table
    # cluster 1 of CMAB: finals 1.5 and 1.6 -> 1.550 ± 0.050, fractions 0.75 and 0.80 -> 77.5% ± 2.5%
    assert "| Clustered FL + CMAB | 2 | 1.550 ± 0.050 (77.5% ± 2.5%) |" in table
    assert "| Optimal (max-min) | | 2.000 (100%) | 4.000 (100%) | 6.000 (100%) |" in table
    assert "| Equal power | | 1.000 (50.0%) |" in table
    assert "Clustered FL + CMAB against Clustered FL + uniform: +" in table


def test_report_on_a_directory_without_runs_fails_clearly(tmp_path):
    ResultsStore(tmp_path).claim(SETTINGS.identity())
    with pytest.raises(ValueError, match="no finished run"):
        write_report(tmp_path)
