"""Property-based checks of the selectors' entry points: constructor parameters, seeds, observations, masks and
rewards, and run_episode's arguments. Every call either succeeds with a valid result or raises ValueError."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from linear_bandit import LinearBanditEnv

from ep_selectors import ThompsonSelector, UniformSelector, episode_seeds, run_episode

N, D, S = 5, 3, 2
ANYTHING = st.one_of(  # integers bounded: N and d size arrays ([N], [d, d]), so a huge valid one only fills memory
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-1000, 1000),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.just([1, 2]),
    st.just({"x": 1}),
    st.just(np.float32(0.5)),
    st.just(np.int64(3)),
)
POSITIVE_INTS = st.one_of(st.integers(-2, 8), ANYTHING)
OBSERVATIONS = st.one_of(
    hnp.arrays(
        np.float64,
        st.sampled_from([(N, D), (N, D), (N, D), (N + 1, D), (N, D + 1), (N,)]),
        elements=st.one_of(st.floats(-10, 10), st.floats(allow_nan=True, allow_infinity=True)),
    ),
    st.lists(st.lists(st.floats(-1, 1), min_size=D, max_size=D + 1), min_size=N, max_size=N),  # maybe ragged
    ANYTHING,
)
MASKS = st.one_of(
    st.integers(0, 2**32).map(lambda seed: np.random.default_rng(seed).permutation(N) < S),
    hnp.arrays(np.int64, st.sampled_from([(N,), (N + 1,)]), elements=st.integers(-1, 2)),
    ANYTHING,
)


@settings(max_examples=200, deadline=None)
@given(
    num_eps=POSITIVE_INTS,
    context_dim=POSITIVE_INTS,
    budget=POSITIVE_INTS,
    regularization=st.one_of(st.floats(1e-3, 10.0), ANYTHING),
    exploration=st.one_of(st.floats(1e-3, 10.0), ANYTHING),
    seed=st.one_of(st.integers(0, 2**64), st.integers(), ANYTHING),
)
def test_thompson_parameters_validate_or_raise_value_error(
    num_eps, context_dim, budget, regularization, exploration, seed
):
    try:
        selector = ThompsonSelector(num_eps, context_dim, budget, regularization, exploration, seed)
    except ValueError:
        return
    x = np.zeros((selector.num_eps, selector.context_dim))
    assert selector.select(x).sum() == selector.budget
    assert np.all(np.isfinite(selector.posterior_covariance))


@settings(max_examples=150, deadline=None)
@given(num_eps=POSITIVE_INTS, budget=POSITIVE_INTS, seed=st.one_of(st.integers(0, 2**64), ANYTHING))
def test_uniform_parameters_validate_or_raise_value_error(num_eps, budget, seed):
    try:
        selector = UniformSelector(num_eps, budget, seed)
    except ValueError:
        return
    assert selector.select(np.zeros((selector.num_eps, 1))).sum() == selector.budget


@settings(max_examples=200, deadline=None)
@given(observation=OBSERVATIONS, mask=MASKS, reward=st.one_of(st.floats(-1, 1), ANYTHING))
def test_select_and_update_take_valid_inputs_or_raise_value_error_learning_nothing(observation, mask, reward):
    for selector in (ThompsonSelector(N, D, S, seed=0), UniformSelector(N, S, seed=0)):
        before = selector.state_dict()
        try:
            chosen = selector.select(observation)
        except ValueError:
            assert selector.state_dict()["rng"] == before["rng"]
        else:
            assert chosen.dtype == np.bool_ and chosen.shape == (N,) and chosen.sum() == S
        rows = getattr(selector, "num_rows", 0)
        try:
            selector.update(observation, mask, reward)
        except ValueError:
            assert getattr(selector, "num_rows", 0) == rows
            continue
        if isinstance(selector, ThompsonSelector):
            assert selector.num_rows == rows + int(np.sum(mask)) and np.all(np.isfinite(selector.posterior_mean))
            np.linalg.cholesky(selector.posterior_covariance)  # still a covariance


@settings(max_examples=60, deadline=None)
@given(seed=st.one_of(st.integers(0, 2**64), ANYTHING), max_steps=st.one_of(st.integers(-1, 4), ANYTHING))
def test_run_episode_arguments_validate_or_raise_value_error(seed, max_steps):
    env = LinearBanditEnv(num_eps=N, context_dim=D, budget=S, horizon=3)
    try:
        records = run_episode(env, ThompsonSelector(N, D, S), seed=seed, max_steps=max_steps)
    except ValueError:
        return
    assert 1 <= len(records) <= 3 and all(r["selected_mask"].sum() == S for r in records)
    env_seed, selector_seed = episode_seeds(seed)
    assert ((env_seed is None) == (seed is None) and env_seed != selector_seed) or seed is None
