"""Property-based checks of FLConfig: any field value either validates or raises ValueError naming the field."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fl_agents import MODEL_NAMES, FLConfig
from fl_agents.config import CLUSTER_INITS, OBJECTIVES

VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(),  # unbounded: also ints too large for a float
    st.booleans(),
    st.none(),
    st.text(max_size=4),
    st.sampled_from([*MODEL_NAMES, *OBJECTIVES, *CLUSTER_INITS]),
    st.just(np.float64(1e-3)),
    st.just(np.int64(3)),
    st.just([1]),
    st.just({"lr": 1}),
)
FIELDS = [f.name for f in dataclasses.fields(FLConfig)]


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(FIELDS), value=VALUES)
def test_any_field_value_validates_or_raises_value_error_naming_it(field, value):
    try:
        config = FLConfig().replace(**{field: value})
    except ValueError as error:
        assert f"FLConfig.{field}" in str(error)
        return
    assert getattr(config, field) == value
    rates = [config.learning_rate(t) for t in (1, 2, 100)]
    # lr_decay close to 1 may underflow the rate to 0 after many rounds: harmless (Adam accepts lr = 0)
    assert all(math.isfinite(r) and r >= 0 for r in rates) and rates[0] > 0 and rates[0] >= rates[1] >= rates[2]


@settings(max_examples=50, deadline=None)
@given(round_index=st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), st.text(max_size=2)))
def test_learning_rate_of_any_round_is_finite_or_raises_value_error(round_index):
    try:
        rate = FLConfig().learning_rate(round_index)
    except ValueError as error:
        assert "round_index" in str(error)
        return
    assert math.isfinite(rate) and 0 <= rate <= FLConfig().lr
