import numpy as np
import pytest
import torch
from torch import nn

from fl_agents.models import MODEL_NAMES, build_model, conv3d_guard, input_channels
from fl_agents.models.resnet3d import BasicBlock3d

K, L, P_MAX = 5, 4, 1000.0


def random_inputs(batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random features in the physical range (-90..+30 dB) with random per-cell UE counts (0..K)."""
    gen = torch.Generator().manual_seed(seed)
    counts = torch.randint(0, K + 1, (batch, L), generator=gen)
    counts[:, 0] = counts[:, 0].clamp_min(1)
    mask = (torch.arange(K)[None, None, :] < counts[:, :, None]).reshape(batch, L * K)
    db = -90.0 + 120.0 * torch.rand(batch, K, L, L, generator=gen)
    real_rows = mask.reshape(batch, L, K).transpose(1, 2)[..., None]  # [B, K, L, 1]
    return 10.0 ** (db / 10.0) * real_rows, mask


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_output_feasible_for_random_inputs(name):
    width = 8 if name == "resnet3d18" else None
    model = build_model(name, k_max=K, num_cells=L, p_max=P_MAX, width=width)
    for seed in range(3):
        features, mask = random_inputs(16, seed)
        with torch.no_grad():
            rho = model(features, mask)
        assert rho.shape == (16, L * K)
        assert torch.isfinite(rho).all()
        assert (rho >= 0).all()
        assert (rho[~mask] == 0).all()
        per_ap = rho.reshape(16, L, K).sum(-1)
        assert (per_ap <= P_MAX * (1 + 1e-5)).all()
        # the loudest AP transmits at full power (a property of the max-min optimum built into the head)
        assert torch.allclose(per_ap.max(-1).values, torch.full((16,), P_MAX), rtol=1e-5)


def test_unknown_model_name_raises():
    with pytest.raises(ValueError, match="resnet50"):
        build_model("resnet50", k_max=K, num_cells=L, p_max=P_MAX)


def test_input_transform_is_scaled_db_with_zero_padding():
    features = torch.tensor([1e-3, 0.0, 1.0]).reshape(1, 3, 1, 1)
    x = input_channels(features)
    assert x.shape == (1, 2, 3, 1, 1)
    assert x[0, 0].flatten().tolist() == pytest.approx([0.0, 0.0, 2.0])  # (-30 + 30) / 15, padding, (0 + 30) / 15
    assert x[0, 1].flatten().tolist() == [1.0, 0.0, 1.0]


def test_resnet3d18_has_the_papers_layer_structure_and_parameter_count():
    model = build_model("resnet3d18", k_max=K, num_cells=L, p_max=P_MAX)
    conv1, bn1, relu, pool = model.stem
    assert (conv1.out_channels, conv1.kernel_size, conv1.stride, conv1.padding) == (64, (7, 7, 7), (2, 2, 2), (3, 3, 3))
    assert isinstance(bn1, nn.BatchNorm3d) and isinstance(relu, nn.ReLU)
    assert (pool.kernel_size, pool.stride, pool.padding) == (3, 2, 1)
    assert len(model.stages) == 4
    for stage, channels in zip(model.stages, (64, 128, 256, 512), strict=True):
        assert len(stage) == 2 and all(isinstance(block, BasicBlock3d) for block in stage)
        for block in stage:
            assert block.conv1.kernel_size == block.conv2.kernel_size == (3, 3, 3)
            assert block.conv2.out_channels == channels
    for stage in model.stages[1:]:  # the first block of stages 2-4 changes shape: projection conv + BN
        conv, bn = stage[0].shortcut
        assert isinstance(conv, nn.Conv3d) and isinstance(bn, nn.BatchNorm3d) and conv.stride == (2, 2, 2)
    assert isinstance(model.stages[0][0].shortcut, nn.Identity)
    assert isinstance(model.pool, nn.AdaptiveAvgPool3d) and model.fc.in_features == 512
    assert model.fc.out_features == L * K + L
    count = sum(p.numel() for p in model.parameters())
    assert 33.0e6 < count < 34.0e6, count


def test_resnet3d18_forward_backward_on_cpu_under_the_onednn_guard():
    model = build_model("resnet3d18", k_max=K, num_cells=L, p_max=P_MAX)
    seen, seen_backward = [], []
    for module in model.modules():
        if isinstance(module, nn.Conv3d):
            module.register_forward_hook(lambda *_: seen.append(torch._C._get_mkldnn_enabled()))
            module.register_full_backward_hook(lambda *_: seen_backward.append(torch._C._get_mkldnn_enabled()))
    features, mask = random_inputs(2, 0)
    features.requires_grad_(True)  # so that the stem's backward hook fires too
    with conv3d_guard(features.device):
        rho = model(features, mask)
        rho.sum().backward()
    assert len(seen) == len(seen_backward) == 20 and not any(seen) and not any(seen_backward)
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert torch._C._get_mkldnn_enabled()  # the guard restores the flag


@pytest.mark.parametrize("name", ["setnet"])
def test_setnet_is_equivariant_to_permuting_a_cells_ues(name):
    model = build_model(name, k_max=K, num_cells=L, p_max=P_MAX)
    features, mask = random_inputs(4, 1)
    mask[:, :K] = True  # cell 0 full
    features[:, :, 0, :] = features[:, :, 0, :].clamp_min(1e-6)
    perm = torch.tensor(np.random.default_rng(0).permutation(K))
    features_p = features.clone()
    features_p[:, :, 0, :] = features[:, perm, 0, :]
    with torch.no_grad():
        rho, rho_p = model(features, mask), model(features_p, mask)
    assert torch.allclose(rho_p[:, :K], rho[:, perm], rtol=1e-5, atol=1e-6)
    assert torch.allclose(rho_p[:, K:], rho[:, K:], rtol=1e-5, atol=1e-6)
