"""Federated datasets: paper structure, labels and noisy labels, determinism, the on-disk cache."""

import dataclasses
import warnings

import numpy as np
import pytest

from mimo_env import dataset as dataset_module
from mimo_env.channel import estimated_se_coefficients, se_coefficients
from mimo_env.config import preset
from mimo_env.dataset import (
    build_federation,
    cache_key,
    cache_path,
    default_cache_dir,
    describe_federation,
    generate_federation,
)
from mimo_env.federation import SPLITS, Split
from mimo_env.layout import features_to_gains, grid_to_slots, slot_cells
from mimo_env.metrics import min_se
from mimo_env.power import maxmin_power

FIELDS = [f.name for f in dataclasses.fields(Split)]
PAPER = preset("paper", sigma2=1e-2)  # the full paper federation (~3 s to generate), with CSI noise


@pytest.fixture(scope="module")
def paper():
    return generate_federation(PAPER, seed=3, progress=False)


@pytest.fixture(scope="module")
def tiny():
    return generate_federation(preset("tiny"), seed=0, progress=False)


def _all(ep, field):
    return np.concatenate([getattr(ep.split(s), field) for s in SPLITS])


def _assert_same(fed_a, fed_b):
    assert fed_a.config == fed_b.config and fed_a.seed == fed_b.seed
    for ep_a, ep_b in zip(fed_a.eps, fed_b.eps, strict=True):
        assert (ep_a.index, ep_a.topology_cluster, ep_a.noisy_fraction) == (
            ep_b.index,
            ep_b.topology_cluster,
            ep_b.noisy_fraction,
        )
        for s in SPLITS:
            for field in FIELDS:
                x, y = getattr(ep_a.split(s), field), getattr(ep_b.split(s), field)
                assert x.dtype == y.dtype
                np.testing.assert_array_equal(x, y)


def test_paper_structure(paper):
    fed, config = paper, PAPER
    assert fed.num_eps == 15
    np.testing.assert_array_equal(fed.topology_clusters, [0] * 2 + [1] * 3 + [2] * 10)
    expected_fractions = [0.0, 0.1, 0.0, 0.1, 0.2, *np.linspace(0, 0.4, 10)]
    k, cells, slots = config.k_max, config.num_cells, config.num_slots
    for ep, fraction in zip(fed.eps, expected_fractions, strict=True):
        assert ep.noisy_fraction == pytest.approx(fraction)
        assert [len(ep.split(s)) for s in SPLITS] == [900, 100, 100]
        assert int(_all(ep, "noisy").sum()) == round(fraction * 1100)
        topology = slot_cells(config.clusters[ep.topology_cluster].ues_per_cell, k)
        split = ep.train
        assert split.features.shape == (900, k, cells, cells) and split.labels.shape == (900, k, cells)
        assert split.est_b.shape == split.true_b.shape == (900, slots, slots)
        np.testing.assert_array_equal(split.cell, np.broadcast_to(topology, (900, slots)))
        np.testing.assert_array_equal(split.mask, split.cell >= 0)


def test_zero_padding_and_feasible_labels(paper):
    config = PAPER
    for ep in paper.eps:
        mask, cell = _all(ep, "mask"), _all(ep, "cell")
        gains = features_to_gains(_all(ep, "features"))
        rho = grid_to_slots(_all(ep, "labels"))
        assert np.all(gains[:, :, ~mask[0]] == 0) and np.all(gains[:, :, mask[0]] > 0)
        assert np.all(rho[~mask] == 0) and np.all(rho >= 0)
        for field in ("est_a", "true_a"):
            assert np.all(_all(ep, field)[~mask] == 0)
        for ap in range(config.num_cells):
            assert np.all(np.where(cell == ap, rho, 0).sum(axis=1) <= config.p_max_mw * (1 + 1e-12))
        loads = np.stack([np.where(cell == ap, rho, 0).sum(axis=1) for ap in range(config.num_cells)], axis=1)
        np.testing.assert_allclose(loads.max(axis=1), config.p_max_mw, rtol=1e-12)


def test_labels_solve_the_eps_own_coefficients(paper):
    config = PAPER
    ep = paper.eps[14]  # 40% noisy
    mask, cell, noisy = _all(ep, "mask"), _all(ep, "cell"), _all(ep, "noisy")
    gains = features_to_gains(_all(ep, "features"))
    true_a, true_b = se_coefficients(gains, cell, 0.0, config.antennas)
    np.testing.assert_allclose(_all(ep, "true_a"), true_a)
    np.testing.assert_allclose(_all(ep, "true_b"), true_b)
    est_a, est_b = _all(ep, "est_a"), _all(ep, "est_b")
    noisy_a, noisy_b = estimated_se_coefficients(gains[noisy], cell[noisy], config.sigma2, config.antennas)
    np.testing.assert_allclose(est_a[noisy], noisy_a)
    np.testing.assert_allclose(est_b[noisy], noisy_b)
    np.testing.assert_array_equal(est_a[~noisy], true_a[~noisy])
    np.testing.assert_array_equal(est_b[~noisy], true_b[~noisy])
    labels = grid_to_slots(_all(ep, "labels"))
    np.testing.assert_allclose(labels, maxmin_power(est_a, est_b, cell, config.p_max_mw).rho, rtol=1e-9)
    # noise-free labels reach the optimum on the true coefficients; noisy ones cannot beat it
    label_se = min_se(labels, true_a, true_b, mask, config.se_prefactor)
    optimal = _all(ep, "optimal_min_se")
    np.testing.assert_allclose(label_se[~noisy], optimal[~noisy], rtol=1e-9)
    assert np.all(label_se[noisy] <= optimal[noisy] * (1 + 1e-9))
    assert np.mean(label_se[noisy] < optimal[noisy] * (1 - 1e-6)) > 0.5
    assert np.all(optimal >= _all(ep, "equal_power_min_se") * (1 - 1e-12))


def test_zero_sigma2_makes_noisy_labels_noise_free(tiny):
    for ep in tiny.eps:
        noisy = _all(ep, "noisy")
        assert noisy.sum() == round(ep.noisy_fraction * 60)
        np.testing.assert_array_equal(_all(ep, "est_a"), _all(ep, "true_a"))
        np.testing.assert_array_equal(_all(ep, "est_b"), _all(ep, "true_b"))


def test_same_seed_identical_other_seed_different(tiny):
    _assert_same(tiny, generate_federation(preset("tiny"), seed=0, progress=False))
    other = generate_federation(preset("tiny"), seed=1, progress=False)
    assert not np.array_equal(tiny.eps[0].train.features, other.eps[0].train.features)


def test_eps_draw_independent_streams(tiny):
    assert not np.array_equal(tiny.eps[0].train.features, tiny.eps[1].train.features)


def test_local_scattering_uses_monte_carlo(monkeypatch):
    monkeypatch.setattr(dataset_module, "MONTE_CARLO_REALIZATIONS", 50)
    config = preset("tiny", correlation="local_scattering", antennas=8, samples_per_ep=4, split=(2, 1, 1), sigma2=1e-2)
    fed = generate_federation(config, seed=0, progress=False)
    ep = fed.eps[5]  # 20% noisy: 1 of 4
    mask, cell = _all(ep, "mask"), _all(ep, "cell")
    gains = features_to_gains(_all(ep, "features"))
    closed_a, _ = se_coefficients(gains, cell, 0.0, 8)
    true_a = _all(ep, "true_a")
    assert np.all(true_a[mask] > 0) and not np.allclose(true_a, closed_a)
    np.testing.assert_allclose(true_a[mask], closed_a[mask], rtol=0.5)  # same scale, different fading
    noisy = _all(ep, "noisy")
    assert noisy.sum() == 1 and not np.array_equal(_all(ep, "est_a")[noisy], true_a[noisy])


def test_cache_roundtrip_and_hit(tmp_path, monkeypatch):
    config = preset("tiny")
    built = build_federation(config, 0, cache_dir=tmp_path, progress=False)
    path = cache_path(config, 0, tmp_path)
    assert path.exists() and [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left

    def fail(*args, **kwargs):
        raise AssertionError("a cache hit must not rebuild")

    monkeypatch.setattr(dataset_module, "generate_federation", fail)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = build_federation(config, 0, cache_dir=tmp_path, progress=False)
    _assert_same(built, loaded)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_corrupt_cache_is_rebuilt(tmp_path, damage):
    config = preset("tiny")
    built = build_federation(config, 0, cache_dir=tmp_path, progress=False)
    path = cache_path(config, 0, tmp_path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a zip file")
    else:  # one byte flipped in the middle: the zip CRC catches it
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    with pytest.warns(UserWarning, match="unusable"):
        rebuilt = build_federation(config, 0, cache_dir=tmp_path, progress=False)
    _assert_same(built, rebuilt)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _assert_same(built, build_federation(config, 0, cache_dir=tmp_path, progress=False))


def test_stale_cache_is_rebuilt(tmp_path):
    config = preset("tiny")
    build_federation(config, 1, cache_dir=tmp_path, progress=False)
    cache_path(config, 1, tmp_path).replace(cache_path(config, 0, tmp_path))  # seed 1's file under seed 0's name
    with pytest.warns(UserWarning, match="stale"):
        fed = build_federation(config, 0, cache_dir=tmp_path, progress=False)
    _assert_same(fed, generate_federation(config, 0, progress=False))


def test_unwritable_cache_warns_and_still_builds(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.warns(UserWarning, match="could not write"):
        fed = build_federation(preset("tiny"), 0, cache_dir=blocker / "cache", progress=False)
    assert fed.num_eps == 6


def test_cache_key_depends_on_config_and_seed(tmp_path, monkeypatch):
    config = preset("tiny")
    assert cache_key(config, 0) == cache_key(preset("tiny"), 0)
    assert cache_key(config, 0) != cache_key(config, 1)
    assert cache_key(config, 0) != cache_key(config.replace(sigma2=1e-2), 0)
    monkeypatch.setenv("MIMO_FL_CACHE", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    assert cache_path(config, 0).parent == tmp_path / "here"


def test_describe_federation(paper):
    text = describe_federation(paper)
    assert "15 EPs" in text and "900" not in text.split("\n")[0]
    rows = [line.split() for line in text.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in rows] == ["1", "2", "3"] and [row[1] for row in rows] == ["2", "3", "10"]
    assert "0.00, 0.10, 0.20" in text


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        build_federation(preset("tiny"), seed, cache_dir="/nonexistent")


def test_bad_config():
    with pytest.raises(ValueError, match="config"):
        build_federation({"preset": "tiny"}, 0, cache_dir="/nonexistent")
    with pytest.raises(ValueError, match="unknown preset"):
        preset("huge")
