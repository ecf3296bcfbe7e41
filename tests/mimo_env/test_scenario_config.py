"""Scenario constants of DESIGN.md and the UE-slot layout conventions (named test_scenario_config.py, not
test_config.py: tests/fl_agents/test_config.py exists and pytest's default import mode needs unique basenames)."""

import dataclasses

import numpy as np
import pytest

from mimo_env.config import preset
from mimo_env.layout import features_to_gains, gains_to_features, grid_to_slots, slot_cells, slots_to_grid


def test_paper_constants():
    c = preset("paper")
    assert (c.antennas, c.cells_per_side, c.cell_side_m, c.min_distance_m) == (100, 2, 500.0, 35.0)
    assert (c.pathloss_at_1km_db, c.pathloss_exponent, c.shadowing_std_db) == (-148.1, 3.76, 10.0)
    assert (c.noise_power_dbm, c.p_max_mw, c.tau_c, c.tau_d) == (-94.0, 1000.0, 200, 190)
    assert c.correlation == "uncorrelated" and c.sigma2 == 0.0
    assert [cl.ues_per_cell for cl in c.clusters] == [(2, 2, 2, 2), (5, 1, 1, 1), (3, 3, 1, 1)]
    assert c.num_slots == 20 and c.se_prefactor == pytest.approx(0.95)
    np.testing.assert_allclose(c.clusters[2].noisy_fractions, np.linspace(0, 0.4, 10))


def test_config_is_frozen_and_hashable():
    c = preset("tiny")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.antennas = 3
    assert hash(c) == hash(preset("tiny")) and c == preset("tiny")
    assert c.replace(sigma2=1e-2) != c


def test_slot_cells_layout():
    cell = slot_cells((2, 0, 1, 3), 3)
    np.testing.assert_array_equal(cell, [0, 0, -1, -1, -1, -1, 2, -1, -1, 3, 3, 3])
    with pytest.raises(ValueError, match="more UEs than K_max"):
        slot_cells((4, 1), 3)


def test_layout_roundtrips_and_meaning():
    rng = np.random.default_rng(0)
    k_max, cells = 3, 4
    features = rng.random((2, k_max, cells, cells))
    gains = features_to_gains(features)
    assert gains.shape == (2, cells, cells * k_max)
    # feature [k, l, j] is the gain from AP j to slot u = l * K_max + k
    assert gains[1, 3, 2 * k_max + 1] == features[1, 1, 2, 3]
    np.testing.assert_array_equal(gains_to_features(gains, k_max), features)
    grid = rng.random((2, k_max, cells))
    slots = grid_to_slots(grid)
    assert slots[0, 3 * k_max + 2] == grid[0, 2, 3]
    np.testing.assert_array_equal(slots_to_grid(slots, k_max), grid)
