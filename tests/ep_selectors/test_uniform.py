"""UniformSelector: exactly S EPs, every EP equally often, seeded repeatability."""

from __future__ import annotations

import numpy as np
import pytest

from ep_selectors import UniformSelector


def test_exactly_budget_and_uniform_marginals():
    selector = UniformSelector(num_eps=6, budget=2, seed=0)
    x = np.zeros((6, 5))
    masks = np.array([selector.select(x) for _ in range(6000)])
    assert masks.dtype == bool and np.all(masks.sum(axis=1) == 2)
    # each EP is in the subset with probability S/N = 1/3; 6000 draws: std of the frequency ~ 0.006
    np.testing.assert_allclose(masks.mean(axis=0), 1 / 3, atol=0.03)
    # every one of the C(6, 2) = 15 subsets appears
    assert len({tuple(np.flatnonzero(m)) for m in masks}) == 15


def test_reset_seed_repeats():
    selector = UniformSelector(num_eps=9, budget=3)
    x = np.zeros((9, 5))
    selector.reset(4)
    first = [selector.select(x) for _ in range(4)]
    selector.reset(4)
    assert all(np.array_equal(a, selector.select(x)) for a in first)


def test_invalid_input_raises():
    with pytest.raises(ValueError, match="budget"):
        UniformSelector(num_eps=3, budget=4)
    selector = UniformSelector(num_eps=3, budget=1)
    with pytest.raises(ValueError, match="shape"):
        selector.select(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="reward"):
        selector.update(np.zeros((3, 5)), np.array([1, 0, 0]), float("nan"))
