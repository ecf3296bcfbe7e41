"""Property-based checks of the scenario config: every construction either validates or raises ValueError."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mimo_env.config import PRESETS, ScenarioConfig, TopologyCluster, preset

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
FIELDS = (
    "antennas",
    "cells_per_side",
    "cell_side_m",
    "min_distance_m",
    "pathloss_at_1km_db",
    "pathloss_exponent",
    "shadowing_std_db",
    "noise_power_dbm",
    "p_max_mw",
    "tau_c",
    "tau_d",
    "angular_std_deg",
    "antenna_spacing",
    "sigma2",
    "samples_per_ep",
)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(FIELDS), value=NUMBERS)
def test_any_field_value_validates_or_raises_value_error_naming_it(field, value):
    try:
        config = preset("tiny", **{field: value})
    except ValueError as error:
        assert field in str(error) or "split" in str(error) or "clusters" in str(error)
        return
    assert getattr(config, field) == value
    assert config.num_slots == config.num_cells * config.k_max
    assert math.isfinite(config.se_prefactor) and 0 < config.se_prefactor <= 1


@settings(max_examples=200, deadline=None)
@given(
    ues=st.lists(st.integers(min_value=-2, max_value=7), min_size=0, max_size=5),
    fractions=st.lists(st.one_of(st.floats(min_value=-0.5, max_value=1.5), st.just(math.nan)), min_size=0, max_size=4),
)
def test_topology_cluster_validates_or_raises(ues, fractions):
    try:
        cluster = TopologyCluster(ues_per_cell=tuple(ues), noisy_fractions=tuple(fractions))
    except ValueError:
        return
    assert all(k >= 0 for k in cluster.ues_per_cell) and sum(cluster.ues_per_cell) > 0
    assert all(0.0 <= f <= 1.0 for f in cluster.noisy_fractions) and cluster.num_eps == len(fractions)


def test_presets_follow_the_design():
    paper = PRESETS["paper"]
    assert paper.num_eps == 15 and [c.num_eps for c in paper.clusters] == [2, 3, 10]
    assert paper.split == (900, 100, 100) and paper.k_max == 5 and paper.num_cells == 4
    assert [sum(c.ues_per_cell) for c in paper.clusters] == [8, 8, 8]
    assert paper.ep_noisy_fraction[:5] == (0.0, 0.1, 0.0, 0.1, 0.2)
    assert paper.ep_noisy_fraction[5] == 0.0 and paper.ep_noisy_fraction[-1] == pytest.approx(0.4)
    assert PRESETS["quick"].clusters == paper.clusters


def test_unknown_preset_and_field_raise():
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        preset("huge")
    with pytest.raises(ValueError, match="unknown ScenarioConfig field"):
        preset("tiny", antenas=10)
    with pytest.raises(ValueError, match="UE counts for each of the 4 cells"):
        ScenarioConfig(clusters=(TopologyCluster(ues_per_cell=(1, 1), noisy_fractions=(0.0,)),))
