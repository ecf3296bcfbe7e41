"""Property-based checks of the remaining public entry points (baseline env, benchmark settings, dataset builder,
metrics, checkpoint loader): a malformed argument raises ValueError naming it, never TypeError or AttributeError."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fl_agents import FLConfig
from mimo_env import metrics
from mimo_env.checkpoint import CheckpointError, load_checkpoint
from mimo_env.config import preset
from mimo_env.dataset import build_federation
from mimo_env.experiments.baseline_env import BaselineEnv
from mimo_env.experiments.settings import BenchmarkSettings

NOT_A_PATH = st.one_of(
    st.floats(allow_nan=True),
    st.integers(),
    st.booleans(),
    st.just([1, [2]]),
    st.just({"x": 1}),
    st.just(object()),
)
ANYTHING = st.one_of(NOT_A_PATH, st.none(), st.text(max_size=3), st.integers(-3, 3), st.just(10**400))
NOT_A_SEED = st.one_of(
    st.integers(max_value=-1),
    st.floats(allow_nan=True),
    st.booleans(),
    st.text(max_size=2),
    st.just([1, [2]]),
    st.just({"x": 1}),
    st.just(object()),
)


@settings(max_examples=150, deadline=None)
@given(
    argument=st.sampled_from(["scenario", "fl_config", "max_rounds", "data_seed", "cache_dir", "method"]),
    value=ANYTHING,
)
def test_baseline_env_arguments_validate_or_raise_value_error(argument, value):
    kwargs = dict(method="fedavg", scenario=preset("tiny"), fl_config=FLConfig(), max_rounds=3, device="cpu")
    try:
        env = BaselineEnv(**(kwargs | {argument: value}))
    except ValueError as error:
        assert argument in str(error)
        return
    assert env.observation_space.shape == (6,) and env.max_rounds >= 1


@settings(max_examples=60, deadline=None)
@given(seed=NOT_A_SEED)
def test_baseline_env_reset_refuses_a_malformed_seed(seed):
    env = BaselineEnv("fedavg", preset("tiny"), FLConfig(), 3, device="cpu")
    with pytest.raises(ValueError, match="seed must be None or a non-negative integer"):
        env.reset(seed=seed)


@settings(max_examples=150, deadline=None)
@given(
    argument=st.sampled_from(
        [
            "preset",
            "sigma2s",
            "seeds",
            "rounds",
            "methods",
            "model",
            "width",
            "ep_budget",
            "device",
            "cache_dir",
            "sb3_model",
        ]
    ),
    value=ANYTHING,
)
def test_benchmark_settings_validate_or_raise_value_error(argument, value):
    try:
        settings_ = BenchmarkSettings(**{argument: value})
    except ValueError:
        return
    assert settings_.rounds >= 2 and settings_.seeds >= 1 and settings_.preset in ("paper", "quick", "tiny")


@settings(max_examples=40, deadline=None)
@given(cache_dir=NOT_A_PATH, seed=NOT_A_SEED)
def test_build_federation_refuses_malformed_seeds_and_cache_folders(cache_dir, seed):
    with pytest.raises(ValueError, match="cache_dir"):
        build_federation(preset("tiny"), 0, cache_dir=cache_dir, progress=False)
    with pytest.raises(ValueError, match="seed"):
        build_federation(preset("tiny"), seed, progress=False)


@settings(max_examples=100, deadline=None)
@given(rho=ANYTHING, which=st.integers(0, 2))
def test_metrics_refuse_malformed_arrays_with_value_error(rho, which):
    args = [np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3, 3))]
    args[which] = rho
    try:
        values = metrics.sinr(*args)
    except ValueError:
        return
    assert np.all(np.isfinite(values))


@settings(max_examples=40, deadline=None)
@given(path=NOT_A_PATH)
def test_load_checkpoint_refuses_a_malformed_path(path):
    with pytest.raises(CheckpointError, match="path"):
        load_checkpoint(path, kind="run")
