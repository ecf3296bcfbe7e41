"""Shared validation predicates, and configs that hash the same whatever the scalar types they were given."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fl_agents import FLConfig
from mimo_env import preset
from mimo_env.dataset import cache_key
from mimo_env.validation import is_finite_number, is_int


@pytest.mark.parametrize(
    ("value", "integer", "finite"),
    [
        (3, True, True),
        (np.int64(3), True, True),
        (True, False, False),
        (np.bool_(True), False, False),
        (2.5, False, True),
        (np.float32(2.5), False, True),
        (float("nan"), False, False),
        (float("inf"), False, False),
        (10**400, True, False),
        ("3", False, False),
        (None, False, False),
    ],
)
def test_predicates(value, integer, finite):
    assert is_int(value) is integer
    assert is_finite_number(value) is finite


def test_numpy_scalars_give_the_same_config_cache_key_and_json():
    plain = preset("tiny", samples_per_ep=60, sigma2=0.5)
    numpy = preset("tiny", samples_per_ep=np.int64(60), sigma2=np.float64(0.5))
    assert numpy == plain and type(numpy.samples_per_ep) is int
    assert cache_key(numpy, 0) == cache_key(plain, 0)
    config = FLConfig(num_clusters=np.int64(2), lr=np.float64(1e-3))
    assert json.dumps([config.num_clusters, config.lr]) == "[2, 0.001]"
