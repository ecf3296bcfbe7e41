"""Property-based checks of the env's public entry points: ``gym.make`` keyword arguments, ``reset`` seeds, actions
(``step``, the subset-mask validator, the action space's sampler, the score wrapper) and scenario configs. Every call
either succeeds with a valid, finite result or raises ``ValueError``; a refused action changes nothing."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mimo_env
from mimo_env.config import PRESETS, ScenarioConfig, preset
from mimo_env.spaces import SubsetMask, top_s_mask, validate_subset_mask
from mimo_env.wrappers import ScoreToSubsetWrapper

# torch 2.13 warns whenever the FL engine's oneDNN guard (DESIGN.md "Machine facts") restores the TF32 flag
pytestmark = [
    pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN"),
    pytest.mark.filterwarnings("ignore:.*not in the possible render_modes"),
]  # gym.make's own warning

N, S = 6, 2  # the tiny preset's EPs, and the EP budget used here
ANYTHING = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(),
    st.booleans(),
    st.none(),
    st.text(max_size=4),
    st.just([1, 0]),
    st.just({"x": 1}),
    st.just(np.float32(0.5)),
    st.just(np.int64(2)),
)
KWARG_VALUES = {
    "preset": st.one_of(st.sampled_from([*PRESETS, *PRESETS.values()]), ANYTHING),
    "sigma2": st.one_of(st.sampled_from([None, 0.0, 5e-4, 1e-2]), ANYTHING),
    "model": st.one_of(st.sampled_from(["mlp", "setnet", "cnn3d", "resnet3d18"]), ANYTHING),
    "objective": st.one_of(st.sampled_from(["mse", "se"]), ANYTHING),
    "ep_budget": st.one_of(st.integers(-2, 20), ANYTHING),
    "max_rounds": st.one_of(st.integers(-2, 100), ANYTHING),
    "num_clusters": st.one_of(st.integers(-2, 8), ANYTHING),
    "device": st.one_of(st.sampled_from(["auto", "cpu", "cuda", "cuda:1", "tpu", ""]), ANYTHING),
    "data_seed": st.one_of(st.integers(-5, 2**64), ANYTHING),
    "cache_dir": st.one_of(st.none(), st.just("/tmp/mimo-fl-cache"), ANYTHING),
    # gym.make itself reads render_mode as a string (AttributeError on e.g. 0.0) before the env sees it, and its
    # logger %-formats the warning about an unknown mode (TypeError on a "%" in it): both are Gymnasium's, not ours
    "render_mode": st.one_of(
        st.sampled_from([None, "ansi", "human", "rgb_array"]), st.text(max_size=4).filter(lambda t: "%" not in t)
    ),
    "lr": st.one_of(st.floats(1e-6, 1.0), ANYTHING),
    "width": st.one_of(st.integers(-2, 64), ANYTHING),
    "batch_size": st.one_of(st.integers(-2, 64), ANYTHING),
    "cluster_init": st.one_of(st.sampled_from(["random", "farthest"]), ANYTHING),
    "not_a_field": ANYTHING,
}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kwargs=st.fixed_dictionaries({}, optional=KWARG_VALUES))
def test_gym_make_with_any_keyword_values_builds_a_valid_env_or_raises_value_error(kwargs):
    kwargs.setdefault("device", "cpu")
    try:
        env = gym.make(mimo_env.ENV_ID, **kwargs).unwrapped
    except ValueError:
        return
    num_eps, c = env.scenario.num_eps, env.fl_config.num_clusters
    assert env.observation_space.shape == (num_eps, 2 + c) and env.observation_space.dtype == np.float32
    assert isinstance(env.action_space, SubsetMask) and 1 <= env.action_space.budget <= num_eps
    assert env.max_rounds >= 2 and env.data_seed >= 0 and env.render_mode in (None, "ansi")
    assert env.action_space.contains(env.action_space.sample())


ACTIONS = st.one_of(
    st.tuples(
        hnp.arrays(
            np.int64,
            st.sampled_from([(N,), (N,), (N,), (N - 1,), (N, 1), ()]),
            elements=st.sampled_from([0, 1, 0, 1, 2, -1]),
        ),
        st.sampled_from([np.int8, np.int64, np.float32, np.float64, np.bool_, np.uint8]),
    ).map(lambda t: t[0].astype(t[1])),
    st.integers(0, 2**32).map(lambda seed: SubsetMask(N, S, seed=seed).sample()),  # valid: S of the N EPs
    st.lists(st.sampled_from([0, 1]), min_size=N, max_size=N),
    hnp.arrays(np.float64, (N,), elements=st.floats(allow_nan=True, allow_infinity=True)),
    hnp.arrays(hnp.unicode_string_dtypes(max_len=2), (N,)),
    st.lists(st.one_of(st.integers(0, 1), st.none(), st.text(max_size=1)), min_size=N, max_size=N),
    st.lists(st.lists(st.integers(0, 1), max_size=2), min_size=N, max_size=N),  # ragged
    ANYTHING,
)


@settings(max_examples=300, deadline=None)
@given(action=ACTIONS)
def test_validate_subset_mask_accepts_exactly_the_subsets_of_1_to_s_eps(action):
    try:
        mask = validate_subset_mask(action, N, S)
    except ValueError:
        values = np.asarray(action, dtype=object)
        if values.shape == (N,) and all(isinstance(v, (int, float, bool, np.number, np.bool_)) for v in values):
            numbers = values.astype(float)
            assert not (np.isin(numbers, (0.0, 1.0)).all() and 1 <= numbers.sum() <= S)  # a valid one refused
        return
    assert mask.dtype == np.bool_ and mask.shape == (N,) and 1 <= mask.sum() <= S
    np.testing.assert_array_equal(mask, np.asarray(action).astype(bool))
    assert SubsetMask(N, S).contains(mask.astype(np.int8))


@pytest.fixture(scope="module")
def stepping_env(tmp_path_factory):
    env = gym.make(
        mimo_env.ENV_ID,
        preset="tiny",
        model="mlp",
        width=8,
        ep_budget=S,
        max_rounds=10**6,
        device="cpu",
        cache_dir=tmp_path_factory.mktemp("datasets"),
    )
    env.reset(seed=0)
    return env


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=ACTIONS)
def test_step_with_any_action_runs_a_finite_round_or_raises_value_error_changing_nothing(stepping_env, action):
    base = stepping_env.unwrapped
    round_before, state_before = base.algorithm.round_index, base.algorithm.state_dict()["params"]
    try:
        observation, reward, terminated, truncated, info = stepping_env.step(action)
    except ValueError:
        assert base.algorithm.round_index == round_before
        for name, tensor in base.algorithm.state_dict()["params"].items():
            assert tensor.equal(state_before[name])
        return
    assert base.algorithm.round_index == round_before + 1
    assert stepping_env.observation_space.contains(observation) and np.isfinite(reward)
    assert not terminated and not truncated
    np.testing.assert_array_equal(info["selected"], np.asarray(action).astype(bool))


@settings(max_examples=100, deadline=None)
@given(seed=ANYTHING)
def test_reset_refuses_a_malformed_seed_with_value_error(seed):
    env = gym.make(mimo_env.ENV_ID, preset="tiny", device="cpu").unwrapped
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        return  # a valid seed would run round 1; covered by the env's tests
    with pytest.raises(ValueError, match="seed must be None or a non-negative integer"):
        env.reset(seed=seed)
    assert env.algorithm is None


@settings(max_examples=150, deadline=None)
@given(
    mask=st.one_of(
        hnp.arrays(np.int64, st.sampled_from([(N,), (N,), (N + 1,)]), elements=st.integers(-1, 3)), ANYTHING
    ),
    seed=st.integers(0, 2**32),
)
def test_action_space_sample_gives_a_member_or_raises_value_error(mask, seed):
    space = SubsetMask(N, S, seed=seed)
    try:
        sample = space.sample(mask=mask)
    except ValueError:
        return
    assert space.contains(sample) and sample.sum() == S
    forced = np.asarray(mask) == 1
    assert np.all(sample[forced] == 1) and np.all(sample[np.asarray(mask) == 0] == 0)


@settings(max_examples=200, deadline=None)
@given(
    scores=st.one_of(
        hnp.arrays(
            np.float64,
            st.sampled_from([(N,), (N,), (N - 2,), (N, 2)]),
            elements=st.floats(allow_nan=True, allow_infinity=True, width=32),
        ),
        ANYTHING,
    ),
    budget=st.one_of(st.integers(-1, N + 1), ANYTHING),
)
def test_top_s_mask_and_the_score_wrapper_give_s_eps_or_raise_value_error(scores, budget):
    try:
        mask = top_s_mask(scores, budget)
    except ValueError:
        return
    values = np.asarray(scores, dtype=np.float64)
    assert mask.sum() == budget and values[mask].min() >= values[~mask].max(initial=-np.inf)


@settings(max_examples=100, deadline=None)
@given(scores=st.one_of(hnp.arrays(np.float32, (N,), elements=st.floats(-2, 2, width=32)), ANYTHING))
def test_score_wrapper_maps_any_score_vector_to_a_valid_mask_or_raises_value_error(scores):
    wrapper = ScoreToSubsetWrapper(gym.make(mimo_env.ENV_ID, preset="tiny", ep_budget=S, device="cpu"))
    try:
        action = wrapper.action(scores)
    except ValueError:
        return
    assert wrapper.env.action_space.contains(action)


SCENARIO_VALUES = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(np.float64(3.0)),
    st.just(np.int64(4)),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.just(()),
    st.just((40, 10, 10)),
)


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from([f.name for f in dataclasses.fields(ScenarioConfig)]), value=SCENARIO_VALUES)
def test_scenario_config_with_any_value_of_any_field_validates_or_raises_value_error(field, value):
    try:
        config = preset("tiny", **{field: value})
    except ValueError:
        return
    assert config.num_eps >= 1 and config.num_slots >= 1 and sum(config.split) == config.samples_per_ep
