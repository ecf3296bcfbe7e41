import dataclasses

import numpy as np
import pytest
import torch

from fl_agents import ALGORITHMS, FLConfig, make_algorithm
from mimo_env import metrics
from mimo_env.federation import Federation

FAST = FLConfig(model="mlp", width=32, objective="se")


def snapshot(algo) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in {**algo.models.params, **algo.models.buffers}.items()}


def same(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def all_true(algo) -> np.ndarray:
    return np.ones(algo.num_eps, dtype=bool)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_round_report_and_evaluation(federation, name):
    algo = make_algorithm(name, federation, FAST, device="cpu", seed=0)
    expected_models = {"clustered": 3, "fedavg": 1, "centralized": 1, "decentralized": 6}[name]
    assert (algo.num_eps, algo.num_models, algo.round_index, algo.device.type) == (6, expected_models, 0, "cpu")
    report = algo.run_round(all_true(algo))
    assert report.round == algo.round_index == 1
    assert report.learning_rate == FAST.lr
    assert report.selected.all() and not report.skipped.any() and np.isfinite(report.train_loss).all()
    selected = np.array([True, False, True, False, False, False])
    report = algo.run_round(selected)
    assert report.learning_rate == pytest.approx(FAST.lr * (1 - FAST.lr_decay))
    assert np.isnan(report.train_loss[~selected]).all() and np.isfinite(report.train_loss[selected]).all()
    before = snapshot(algo)
    evaluation = algo.evaluate()
    assert same(before, snapshot(algo))  # evaluation leaves the models alone
    for field in ("chosen_cluster", "train_loss", "val_loss", "val_min_se", "test_min_se"):
        assert getattr(evaluation, field).shape == (6,)
    assert evaluation.reward == pytest.approx(evaluation.val_min_se.min())
    assert (evaluation.val_min_se > 0).all()
    test = [ep.test for ep in federation.eps]
    for t in range(3):
        rows = [s for s, ep in zip(test, federation.eps, strict=True) if ep.topology_cluster == t]
        assert evaluation.cluster_optimal_min_se[t] == pytest.approx(
            np.concatenate([s.optimal_min_se for s in rows]).mean()
        )
        assert evaluation.cluster_equal_power_min_se[t] == pytest.approx(
            np.concatenate([s.equal_power_min_se for s in rows]).mean()
        )
    assert (evaluation.cluster_test_min_se <= evaluation.cluster_optimal_min_se * (1 + 1e-6)).all()
    assert np.isnan(evaluation.cluster_accuracy) == (name != "clustered")


def test_decentralized_trains_only_the_selected_eps_models(federation):
    algo = make_algorithm("decentralized", federation, FAST, device="cpu", seed=0)
    before = snapshot(algo)
    algo.run_round(np.array([False, True, False, False, True, False]))
    after = snapshot(algo)
    for key in before:
        changed = [not torch.equal(before[key][n], after[key][n]) for n in range(6)]
        if key.endswith("weight"):
            assert changed == [False, True, False, False, True, False]
    assert algo.evaluate().chosen_cluster.tolist() == list(range(6))


def test_unselected_clusters_keep_their_models(federation):
    algo = make_algorithm("clustered", federation, FAST, device="cpu", seed=0)
    algo.run_round(all_true(algo))
    chosen = algo.evaluate().chosen_cluster
    mask = chosen == chosen[0]
    before = snapshot(algo)
    report = algo.run_round(mask)
    assert (report.chosen_cluster == chosen).all()  # the choice reused the cached eq. (9) losses
    after = snapshot(algo)
    for c in range(3):
        untouched = all(torch.equal(before[k][c], after[k][c]) for k in before)
        assert untouched == (c != chosen[0])
    cached = algo.train_loss_matrix()  # only the trained cluster's row was recomputed
    evaluation = algo.evaluate()
    np.testing.assert_array_equal(evaluation.train_loss, cached[evaluation.chosen_cluster, np.arange(6)])
    assert (evaluation.chosen_cluster == cached.argmin(axis=0)).all()
    algo.mark_models_changed()
    np.testing.assert_array_equal(cached, algo.train_loss_matrix())


def test_clustered_fl_recovers_true_clusters_and_beats_equal_power(federation):
    config = FLConfig(model="setnet", width=32, objective="se", local_epochs=3, lr=3e-3)
    algo = make_algorithm("clustered", federation, config, device="cpu", seed=0)
    for _ in range(6):
        algo.run_round(all_true(algo))
    evaluation = algo.evaluate()
    assert evaluation.cluster_accuracy == 1.0
    assert (evaluation.cluster_test_min_se > evaluation.cluster_equal_power_min_se).all()


@pytest.mark.parametrize("name", ["clustered", "centralized"])
def test_seeded_training_is_exactly_repeatable(federation, name):
    runs = []
    for _ in range(2):
        algo = make_algorithm(name, federation, FAST, device="cpu", seed=7)
        reports = [algo.run_round(all_true(algo)), algo.run_round(np.arange(6) % 2 == 0)]
        runs.append((snapshot(algo), [r.train_loss for r in reports], algo.evaluate().val_min_se))
    assert same(runs[0][0], runs[1][0])
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(runs[0][2], runs[1][2])
    other = make_algorithm(name, federation, FAST, device="cpu", seed=8)
    assert not same(runs[0][0], snapshot(other))


def test_continuing_from_a_state_dict_equals_an_uninterrupted_run(federation):
    masks = [np.ones(6, dtype=bool), np.arange(6) < 3, np.arange(6) >= 2]
    straight = make_algorithm("clustered", federation, FAST, device="cpu", seed=3)
    for mask in masks:
        straight.run_round(mask)
    first = make_algorithm("clustered", federation, FAST, device="cpu", seed=3)
    first.run_round(masks[0])
    state = first.state_dict()
    first.run_round(masks[1])  # the saved state must not alias the live models
    resumed = make_algorithm("clustered", federation, FAST, device="cpu", seed=99)
    resumed.load_state_dict(state)
    assert resumed.round_index == 1
    for mask in masks[1:]:
        resumed.run_round(mask)
    assert same(snapshot(straight), snapshot(resumed))
    with pytest.raises(ValueError, match="fedavg"):
        make_algorithm("fedavg", federation, FAST, device="cpu").load_state_dict(state)


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.ones(5, dtype=bool), r"round 2: selected must have shape \(6,\)"),
        (np.zeros(6, dtype=bool), "round 2: selected is empty"),
        (np.ones(6), "round 2: selected must be a bool.*float64"),
        (np.array([1, 0, 2, 0, 0, 0]), "round 2: selected must be binary, got 2 at EP 2"),
    ],
)
def test_bad_selection_raises_and_leaves_models_unchanged(federation, mask, message):
    algo = make_algorithm("clustered", federation, FAST, device="cpu", seed=0)
    algo.run_round(np.ones(6, dtype=np.int64))
    before = snapshot(algo)
    with pytest.raises(ValueError, match=message):
        algo.run_round(mask)
    assert same(before, snapshot(algo)) and algo.round_index == 1


def test_unknown_names_raise(federation):
    with pytest.raises(ValueError, match="'fedprox'"):
        make_algorithm("fedprox", federation, FAST)
    with pytest.raises(ValueError, match="'resnet50'"):
        make_algorithm("clustered", federation, FAST.replace(model="resnet50"))
    with pytest.raises(ValueError, match="device"):
        make_algorithm("clustered", federation, FAST, device="tpu")


@pytest.mark.parametrize("name", ["clustered", "fedavg"])
def test_poisoned_ep_is_skipped_and_other_models_stay_finite(federation, name):
    poisoned_ep = federation.eps[3]
    train = dataclasses.replace(poisoned_ep.train, features=np.full_like(poisoned_ep.train.features, np.nan))
    eps = list(federation.eps)
    eps[3] = dataclasses.replace(poisoned_ep, train=train)
    poisoned = Federation(federation.config, federation.seed, tuple(eps))
    algo = make_algorithm(name, poisoned, FAST, device="cpu", seed=0)
    with pytest.warns(UserWarning, match="round 1: EP 3's local update is non-finite"):
        report = algo.run_round(np.ones(6, dtype=bool))
    assert report.skipped.tolist() == [False, False, False, True, False, False]
    assert bool(algo.models.finite().all())
    evaluation = algo.evaluate()
    assert np.isfinite(np.delete(evaluation.val_min_se, 3)).all()
    clean = make_algorithm(name, federation, FAST, device="cpu", seed=0)
    assert not same(snapshot(clean), snapshot(algo))  # the other EPs did train


def test_centralized_round_is_one_pooled_model_and_loss(federation):
    algo = make_algorithm("centralized", federation, FAST, device="cpu", seed=0)
    selected = np.array([True, True, False, True, False, False])
    report = algo.run_round(selected)
    assert np.unique(report.train_loss[selected]).size == 1 and np.isnan(report.train_loss[~selected]).all()
    assert (report.chosen_cluster == 0).all()


def test_cluster_accuracy_uses_the_best_one_to_one_matching(federation):
    algo = make_algorithm("clustered", federation, FAST, device="cpu", seed=0)
    assert federation.topology_clusters.tolist() == [0, 0, 1, 1, 2, 2]
    assert algo.cluster_accuracy(np.array([2, 2, 0, 0, 1, 1])) == 1.0
    assert algo.cluster_accuracy(np.array([0, 0, 0, 0, 1, 1])) == pytest.approx(4 / 6)
    assert algo.cluster_accuracy(np.array([1, 1, 1, 1, 1, 1])) == pytest.approx(2 / 6)


def test_evaluation_min_se_matches_mimo_env_metrics(federation):
    algo = make_algorithm("fedavg", federation, FAST, device="cpu", seed=0)
    algo.run_round(all_true(algo))
    evaluation = algo.evaluate()
    rho = algo.predict(algo.data.test, evaluation.chosen_cluster).double().numpy()
    offsets = algo.data.test.offsets
    for n, ep in enumerate(federation.eps):
        rows = rho[offsets[n] : offsets[n + 1]]
        expected = metrics.min_se(rows, ep.test.true_a, ep.test.true_b, ep.test.mask, federation.config.se_prefactor)
        assert evaluation.test_min_se[n] == pytest.approx(expected.mean(), rel=1e-5)
