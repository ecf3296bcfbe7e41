"""SubsetMask, validate_subset_mask and top_s_mask: the action contract."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
from gymnasium import spaces

from mimo_env.spaces import SubsetMask, check_budget, top_s_mask, validate_subset_mask


def test_subset_mask_is_multibinary_with_budget():
    space = SubsetMask(5, 2)
    assert isinstance(space, spaces.MultiBinary) and space.shape == (5,) and space.budget == 2
    assert space.contains(np.array([1, 0, 0, 0, 0], dtype=np.int8))
    assert space.contains(np.array([0, 1, 0, 1, 0], dtype=np.int8))
    assert not space.contains(np.zeros(5, dtype=np.int8))
    assert not space.contains(np.array([1, 1, 1, 0, 0], dtype=np.int8))
    assert not space.contains(np.array([1, 0, 0, 0], dtype=np.int8))
    assert not space.contains(np.array([2, 0, 0, 0, 0], dtype=np.int8))


def test_sample_is_uniform_over_subsets_of_exactly_s():
    space = SubsetMask(5, 2, seed=0)
    draws = [space.sample() for _ in range(5000)]
    assert all(space.contains(d) and d.sum() == 2 and d.dtype == np.int8 for d in draws)
    counts = {s: 0 for s in itertools.combinations(range(5), 2)}
    for d in draws:
        counts[tuple(np.flatnonzero(d))] += 1
    # 10 subsets, 500 expected each, binomial std ~ 21
    assert min(counts.values()) > 400 and max(counts.values()) < 600


def test_sample_seeding_repeats():
    a, b = SubsetMask(8, 3), SubsetMask(8, 3)
    a.seed(7)
    b.seed(7)
    assert all(np.array_equal(a.sample(), b.sample()) for _ in range(10))


def test_sample_with_mask_respects_forced_and_excluded():
    space = SubsetMask(6, 3, seed=1)
    mask = np.array([1, 0, 2, 2, 0, 2], dtype=np.int8)
    for _ in range(50):
        draw = space.sample(mask=mask)
        assert draw.sum() == 3 and draw[0] == 1 and draw[1] == 0 and draw[4] == 0
    with pytest.raises(ValueError, match="cannot give"):
        space.sample(mask=np.array([1, 1, 1, 1, 0, 0], dtype=np.int8))
    with pytest.raises(ValueError, match="probability"):
        space.sample(probability=np.full(6, 0.5))


def test_equality_pickle_repr():
    assert SubsetMask(4, 2) == SubsetMask(4, 2)
    assert SubsetMask(4, 2) != SubsetMask(4, 3)
    assert SubsetMask(4, 2) != spaces.MultiBinary(4)
    restored = pickle.loads(pickle.dumps(SubsetMask(4, 2)))
    assert restored == SubsetMask(4, 2) and repr(restored) == "SubsetMask(4, budget=2)"


@pytest.mark.parametrize(("num_eps", "budget"), [(0, 1), (3, 0), (3, 4), (3, 1.5), (True, 1)])
def test_bad_budget_raises(num_eps, budget):
    with pytest.raises(ValueError, match=r"num_eps|budget"):
        check_budget(num_eps, budget)
    with pytest.raises(ValueError, match=r"num_eps|budget"):
        SubsetMask(num_eps, budget)


@pytest.mark.parametrize(
    "action",
    [
        np.array([1, 0, 0, 1, 0], dtype=np.int8),
        np.array([True, False, False, False, False]),
        [0, 0, 1, 0, 1],
        np.array([0.0, 1.0, 0.0, 0.0, 0.0]),
    ],
)
def test_validate_accepts_binary_subsets(action):
    mask = validate_subset_mask(action, 5, 2)
    assert mask.dtype == bool and mask.shape == (5,)
    np.testing.assert_array_equal(mask, np.asarray(action).astype(bool))
    if isinstance(action, np.ndarray):
        assert not np.shares_memory(mask, action)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(5), "no EP"),
        (np.array([1, 1, 1, 0, 0]), "more than the budget"),
        (np.array([1, 0, 0, 0]), "shape"),
        (np.ones((5, 1)), "shape"),
        (np.array([0.5, 0, 0, 0, 0]), "binary"),
        (np.array([2, 0, 0, 0, 0]), "binary"),
        (np.array([np.nan, 1, 0, 0, 0]), "finite"),
        (np.array([np.inf, 0, 0, 0, 0]), "finite"),
        (np.array(["1", "0", "0", "0", "0"]), "numeric"),
        (None, "shape"),
    ],
)
def test_validate_rejects_malformed(action, message):
    with pytest.raises(ValueError, match=message):
        validate_subset_mask(action, 5, 2)


def test_top_s_mask_picks_highest_and_breaks_ties_to_lower_index():
    np.testing.assert_array_equal(top_s_mask([0.1, 0.9, -0.3, 0.5], 2), [False, True, False, True])
    np.testing.assert_array_equal(top_s_mask(np.zeros(5), 3), [True, True, True, False, False])
    np.testing.assert_array_equal(top_s_mask([1.0, 0.2, 1.0, 1.0, 0.2], 2), [True, False, True, False, False])
    np.testing.assert_array_equal(top_s_mask([-1.0, 0.2, 0.2, 0.2], 2), [False, True, True, False])


def test_top_s_mask_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(200):
        scores = rng.integers(-2, 3, size=7).astype(float)  # many ties
        budget = int(rng.integers(1, 8))
        mask = top_s_mask(scores, budget)
        assert mask.sum() == budget
        # every selected score >= every unselected score; among equal scores the selected indices come first
        assert scores[mask].min() >= scores[~mask].max(initial=-np.inf)
        for value in np.unique(scores):
            idx = np.flatnonzero(scores == value)
            chosen = mask[idx]
            assert np.all(chosen[:-1] >= chosen[1:])


@pytest.mark.parametrize(("scores", "budget"), [([], 1), ([[1.0, 2.0]], 1), ([1.0, np.nan], 1), ([1.0, 2.0], 3)])
def test_top_s_mask_rejects_bad_input(scores, budget):
    with pytest.raises(ValueError):
        top_s_mask(scores, budget)
