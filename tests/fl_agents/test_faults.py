"""Numerical faults: a local training that turns non-finite (poisoned data, an overflowing loss, a huge learning rate)
is reported in ``RoundReport.skipped`` and left out of the aggregation, so it never poisons a cluster model."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
import torch

import mimo_env
from fl_agents import FLConfig, make_algorithm
from mimo_env.federation import Federation

# torch 2.13 warns whenever the FL engine's oneDNN guard (DESIGN.md "Machine facts") restores the TF32 flag
pytestmark = [
    pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN"),
    pytest.mark.filterwarnings("error::RuntimeWarning"),
]  # a fault is handled, not an overflow warning

FAST = FLConfig(model="mlp", width=16)
BAD = 3  # the faulty EP


def with_train(federation: Federation, ep: int, **fields: np.ndarray) -> Federation:
    """A copy of ``federation`` whose EP ``ep`` has the given training-split fields replaced."""
    eps = list(federation.eps)
    eps[ep] = dataclasses.replace(eps[ep], train=dataclasses.replace(eps[ep].train, **fields))
    return Federation(federation.config, federation.seed, tuple(eps))


def nan_rows(federation: Federation, ep: int, rows: int) -> Federation:
    """EP ``ep``'s first ``rows`` training samples get NaN features (a few corrupted records, not the whole set)."""
    features = federation.eps[ep].train.features.copy()
    features[:rows] = np.nan
    return with_train(federation, ep, features=features)


def params(algo) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in algo.state_dict()["params"].items()}


def model_equal(a: dict, b: dict, model: int) -> bool:
    return all(torch.equal(a[k][model], b[k][model]) for k in a)


def finite(algo) -> bool:
    return bool(algo.models.finite().all())


@pytest.mark.parametrize("poison", ["nan_features", "overflowing_labels"])
def test_a_faulty_ep_is_skipped_and_the_other_eps_clusters_train_as_without_it(federation, poison):
    if poison == "nan_features":
        faulty = nan_rows(federation, BAD, rows=1)
    else:  # labels of 1e30 mW: the float32 MSE overflows to inf, as a diverging local training would
        faulty = with_train(federation, BAD, labels=federation.eps[BAD].train.labels * 1e30)
    algo = make_algorithm("clustered", faulty, FAST, device="cpu", seed=0)
    with pytest.warns(UserWarning, match=f"round 1: EP {BAD}'s local update is non-finite"):
        first = algo.run_round(np.ones(6, dtype=bool))
    assert np.flatnonzero(first.skipped).tolist() == [BAD] and finite(algo)
    assert np.isfinite(np.delete(first.train_loss, BAD)).all() and not np.isfinite(first.train_loss[BAD])

    selected = np.zeros(6, dtype=bool)
    selected[[0, BAD]] = True
    twin = make_algorithm("clustered", faulty, FAST, device="cpu", seed=0)
    twin.load_state_dict(algo.state_dict())
    before = params(algo)
    with pytest.warns(UserWarning, match=f"round 2: EP {BAD}'s local update is non-finite"):
        report = algo.run_round(selected)
    assert np.flatnonzero(report.skipped).tolist() == [BAD] and finite(algo)
    after, trained = params(algo), int(report.chosen_cluster[0])
    for c in range(FAST.num_clusters):  # only EP 0's cluster moved; the faulty EP's pick (if another) did not
        assert model_equal(before, after, c) == (c != trained)
    only_ep0 = np.eye(6, dtype=bool)[0]
    twin.run_round(only_ep0)  # the same round without the faulty EP
    for name, value in params(twin).items():
        torch.testing.assert_close(after[name][trained], value[trained], rtol=1e-5, atol=1e-6)
    evaluation = algo.evaluate()
    assert np.isfinite(evaluation.val_min_se).all() and np.isfinite(evaluation.reward)


def test_a_huge_learning_rate_skips_every_diverging_update_and_keeps_the_models(federation):
    algo = make_algorithm("clustered", federation, FAST.replace(lr=1e10), device="cpu", seed=0)
    initial = params(algo)
    with pytest.warns(UserWarning, match="local update is non-finite"):
        report = algo.run_round(np.ones(6, dtype=bool))
    assert report.skipped.all() and finite(algo)
    assert all(model_equal(initial, params(algo), c) for c in range(FAST.num_clusters))
    assert algo.round_index == 1 and np.isfinite(algo.evaluate().reward)


def test_the_env_reports_the_skipped_ep_and_keeps_contexts_and_reward_finite(federation, monkeypatch):
    faulty = nan_rows(federation, BAD, rows=len(federation.eps[BAD].train))  # EP 3's whole training set is NaN
    monkeypatch.setattr("mimo_env.env.cached_federation", lambda *args, **kwargs: faulty)
    env = gym.make(mimo_env.ENV_ID, preset="tiny", model="mlp", width=16, ep_budget=2, max_rounds=5, device="cpu")
    with pytest.warns(UserWarning, match="non-finite"):
        observation, info = env.reset(seed=0)
    assert info["skipped"].tolist() == [n == BAD for n in range(6)]
    assert env.observation_space.contains(observation) and np.isfinite(info["global_min_se"])
    action = np.zeros(6, dtype=np.int8)
    action[[1, BAD]] = 1
    with pytest.warns(UserWarning, match=f"round 2: EP {BAD}'s local update is non-finite"):
        observation, reward, _, _, info = env.step(action)
    assert info["skipped"].tolist() == [n == BAD for n in range(6)]
    assert env.observation_space.contains(observation) and np.isfinite(reward)
    assert observation[BAD, 0] == mimo_env.env.RATIO_CLIP  # its training loss is non-finite: the clipped ratio
    assert bool(env.unwrapped.algorithm.models.finite().all())
