import numpy as np
import torch

from fl_agents.data import DeviceFederation
from fl_agents.engine import BatchedEngine, ModelStack, aggregate
from fl_agents.models import build_model
from fl_agents.objectives import Objective

CPU = torch.device("cpu")


def make_engine(name: str = "cnn3d") -> BatchedEngine:
    return BatchedEngine(lambda: build_model(name, k_max=5, num_cells=4, p_max=1000.0, width=4), CPU)


def stacked_copies(stack: ModelStack, index: list[int]) -> ModelStack:
    return stack.select(torch.as_tensor(index))


def test_aggregating_identical_models_is_the_identity():
    engine = make_engine()
    stack = engine.init_stack(2, torch.Generator().manual_seed(0))
    copies = stacked_copies(stack, [1, 1, 1])
    new = aggregate(stack, copies, np.array([1, 1, 1]), np.array([40.0, 10.0, 25.0]), np.ones(3, dtype=bool))
    for kind in ("params", "buffers"):
        for key, value in getattr(stack, kind).items():
            torch.testing.assert_close(getattr(new, kind)[key][1], value[1], rtol=1e-6, atol=1e-7)
            assert torch.equal(getattr(new, kind)[key][0], value[0])  # nobody targeted model 0: unchanged


def test_aggregation_weights_follow_training_set_sizes():
    engine = make_engine()
    stack = engine.init_stack(3, torch.Generator().manual_seed(1))
    trained = stacked_copies(stack, [0, 1, 2])
    new = aggregate(stack, trained, np.array([0, 0, 0]), np.array([10.0, 30.0, 60.0]), np.ones(3, dtype=bool))
    for key, value in stack.params.items():
        expected = 0.1 * value[0] + 0.3 * value[1] + 0.6 * value[2]
        torch.testing.assert_close(new.params[key][0], expected, rtol=1e-5, atol=1e-6)
        assert torch.equal(new.params[key][1], value[1]) and torch.equal(new.params[key][2], value[2])
    bn_mean = next(k for k in stack.buffers if k.endswith("running_mean"))
    assert bn_mean in new.buffers  # BatchNorm statistics are aggregated like the weights
    torch.testing.assert_close(
        new.buffers[bn_mean][0],
        0.1 * stack.buffers[bn_mean][0] + 0.3 * stack.buffers[bn_mean][1] + 0.6 * stack.buffers[bn_mean][2],
    )


def test_left_out_copies_do_not_contribute_even_when_nan():
    engine = make_engine()
    stack = engine.init_stack(1, torch.Generator().manual_seed(2))
    trained = stacked_copies(stack, [0, 0])
    for value in trained.params.values():
        value[1] = torch.nan
    new = aggregate(stack, trained, np.array([0, 0]), np.array([1.0, 1.0]), np.array([True, False]))
    assert bool(new.finite().all())
    for key, value in stack.params.items():
        torch.testing.assert_close(new.params[key], value)


def test_batched_local_training_equals_training_each_model_alone(federation):
    """vmap over S models with one Adam == S separate trainings (full batches, so the shuffles do not matter)."""
    data = DeviceFederation.from_federation(federation, CPU)
    objective = Objective("se", 1000.0, federation.config.se_prefactor, 0.05)
    engine = make_engine()
    stack = engine.init_stack(2, torch.Generator().manual_seed(3))
    rows = torch.stack([data.train.ep_rows(0), data.train.ep_rows(4)])
    kwargs = {"lr": 1e-3, "epochs": 3, "batch_size": rows.shape[1]}
    together = engine.local_train(
        stack.clone(), rows, data.train, objective, generator=torch.Generator().manual_seed(9), **kwargs
    )
    assert together.ok.all()
    for s in range(2):
        alone = engine.local_train(
            stack.select(torch.tensor([s])),
            rows[s : s + 1],
            data.train,
            objective,
            generator=torch.Generator().manual_seed(s),
            **kwargs,
        )
        for key, value in together.models.params.items():
            torch.testing.assert_close(alone.models.params[key][0], value[s], rtol=1e-3, atol=1e-5)
        for key, value in together.models.buffers.items():
            torch.testing.assert_close(alone.models.buffers[key][0], value[s], rtol=1e-3, atol=1e-5)
        np.testing.assert_allclose(alone.mean_loss[0], together.mean_loss[s], rtol=1e-5)
    changed = [not torch.equal(together.models.params[k], stack.params[k]) for k in stack.params]
    assert all(changed)


def test_engine_runs_conv3d_with_onednn_disabled_on_cpu(federation):
    data = DeviceFederation.from_federation(federation, CPU)
    engine = make_engine("cnn3d")
    flags = []
    for module in engine.template.modules():
        if isinstance(module, torch.nn.Conv3d):
            module.register_forward_hook(lambda *_: flags.append(torch._C._get_mkldnn_enabled()))
    stack = engine.init_stack(2, torch.Generator().manual_seed(0))
    rows = torch.stack([data.train.ep_rows(0), data.train.ep_rows(1)])
    engine.local_train(
        stack.clone(),
        rows,
        data.train,
        Objective("mse", 1000.0, 0.95, 0.05),
        lr=1e-3,
        epochs=1,
        batch_size=16,
        generator=torch.Generator().manual_seed(0),
    )
    engine.predict_shared(stack, data.val.features, data.val.mask)
    assert flags and not any(flags)
    assert torch._C._get_mkldnn_enabled()


def test_a_last_minibatch_of_one_sample_is_merged_for_batchnorm(federation):
    """resnet3d18's late stages are 1x1x1, so BatchNorm in training needs >= 2 samples per minibatch."""
    data = DeviceFederation.from_federation(federation, CPU)
    engine = BatchedEngine(lambda: build_model("resnet3d18", k_max=5, num_cells=4, p_max=1000.0, width=4), CPU)
    stack = engine.init_stack(2, torch.Generator().manual_seed(0))
    rows = torch.stack([data.train.ep_rows(0)[:33], data.train.ep_rows(1)[:33]])  # 32 + 1
    result = engine.local_train(
        stack,
        rows,
        data.train,
        Objective("mse", 1000.0, 0.95, 0.05),
        lr=1e-3,
        epochs=1,
        batch_size=32,
        generator=torch.Generator().manual_seed(0),
    )
    assert result.ok.all()
