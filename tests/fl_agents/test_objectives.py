import numpy as np
import pytest
import torch

from fl_agents.data import DeviceFederation
from fl_agents.objectives import Objective, min_se, slot_se, soft_min_se
from mimo_env import metrics
from mimo_env.layout import grid_to_slots


def test_slot_se_matches_mimo_env_metrics(federation):
    split = federation.eps[2].train
    rho = grid_to_slots(split.labels) * 0.7
    ours = min_se(
        slot_se(torch.as_tensor(rho), torch.as_tensor(split.true_a), torch.as_tensor(split.true_b), 0.95),
        torch.as_tensor(split.mask),
    ).numpy()
    reference = metrics.min_se(rho, split.true_a, split.true_b, split.mask, 0.95)
    np.testing.assert_allclose(ours, reference, rtol=1e-12)


def test_soft_min_is_a_lower_bound_approaching_the_min():
    gen = torch.Generator().manual_seed(0)
    se = 5 * torch.rand(100, 8, generator=gen)
    mask = torch.rand(100, 8, generator=gen) > 0.3
    mask[:, 0] = True
    hard = min_se(se, mask)
    for tau in (1.0, 0.1, 0.01):
        soft = soft_min_se(se, mask, tau)
        assert (soft <= hard + 1e-6).all()
        assert (hard - soft <= tau * np.log(8) + 1e-6).all()


def test_mse_is_in_units_of_p_max_over_real_slots():
    rho = torch.tensor([[500.0, 0.0, 100.0]])
    labels = torch.tensor([[0.0, 0.0, 100.0]])
    mask = torch.tensor([[True, False, True]])
    loss = Objective("mse", 1000.0, 0.95, 0.05)(rho, {"labels": labels, "mask": mask})
    assert loss.item() == pytest.approx(0.5**2 / 2)


def test_se_regret_is_nonnegative_and_near_zero_at_the_label(federation):
    data = DeviceFederation.from_federation(federation, torch.device("cpu"))
    objective = Objective("se", 1000.0, federation.config.se_prefactor, 0.01)
    train = data.train
    batch = train.gather(torch.arange(train.num_rows), objective.fields)
    at_label = objective(train.labels, batch)
    # at the max-min optimum every real slot has the same SE, so softmin = min - tau log(#real slots)
    expected = 0.01 * torch.log(train.mask.sum(-1).float()) / train.label_min_se
    torch.testing.assert_close(at_label, expected, rtol=2e-3, atol=1e-5)
    gen = torch.Generator().manual_seed(1)
    shares = torch.rand(train.labels.shape, generator=gen) * train.mask
    per_ap = shares.reshape(-1, 4, 5).sum(-1, keepdim=True).clamp_min(1e-9)
    random_rho = (1000.0 * shares.reshape(-1, 4, 5) / per_ap).reshape(train.labels.shape)
    assert (objective(random_rho, batch) >= -1e-5).all()
    assert objective(random_rho, batch).mean() > at_label.mean() + 0.1
