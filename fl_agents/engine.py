"""The batched engine: many copies of one architecture as stacked tensors, run with ``torch.func``.

A :class:`ModelStack` holds ``M`` models of one architecture as dicts of stacked tensors (``[M, ...]`` per
parameter and buffer). Every forward pass is ``torch.func.functional_call`` of a parameter-free template module,
vectorised over the leading axis with ``torch.func.vmap``:

- :meth:`BatchedEngine.predict_shared`: every model on the same inputs (the C cluster models on all EPs' data);
- :meth:`BatchedEngine.predict_paired`: model ``i`` on input block ``i`` (decentralized evaluation);
- :meth:`BatchedEngine.local_train`: ``S`` local trainings at once (one per selected EP). ONE (fused)
  ``torch.optim.Adam`` over the stacked ``[S, ...]`` parameters is exactly ``S`` independent Adams (Adam is
  elementwise, and the gradient of the sum of the per-EP losses is each EP's own gradient in its slice).

BatchNorm: running statistics are buffers stacked like the parameters and passed batched into ``vmap``, so each
model's in-place running-stat update writes only its own slice; in training each EP normalises with its own
minibatch statistics. Aggregation (:func:`aggregate`) averages floating buffers with the same weights as the
parameters (eq. 11); the integer ``num_batches_tracked`` takes the largest contributor's value.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call, stack_module_state, vmap

from fl_agents.data import DeviceSplit
from fl_agents.models import PowerModel, conv3d_guard
from fl_agents.objectives import Objective

EVAL_CHUNK = {"cpu": 512, "cuda": 8192}  # rows per evaluation pass: cache-sized on CPU, large on GPU


@dataclass
class ModelStack:
    """``M`` models of one architecture: ``params[name] : [M, ...]`` and ``buffers[name] : [M, ...]``."""

    params: dict[str, torch.Tensor]
    buffers: dict[str, torch.Tensor]

    @property
    def num_models(self) -> int:
        return int(next(iter(self.params.values())).shape[0])

    def select(self, index: torch.Tensor) -> ModelStack:
        """A new stack of the models ``index : [S] int64`` (copies)."""
        return ModelStack({k: v[index] for k, v in self.params.items()}, {k: v[index] for k, v in self.buffers.items()})

    def clone(self) -> ModelStack:
        return ModelStack(
            {k: v.detach().clone() for k, v in self.params.items()}, {k: v.clone() for k, v in self.buffers.items()}
        )

    def to(self, device: torch.device) -> ModelStack:
        return ModelStack(
            {k: v.detach().to(device) for k, v in self.params.items()},
            {k: v.to(device) for k, v in self.buffers.items()},
        )

    def finite(self) -> torch.Tensor:
        """[M] bool, True where every parameter and floating buffer of the model is finite."""
        ok = torch.ones(self.num_models, dtype=torch.bool, device=next(iter(self.params.values())).device)
        for tensor in [*self.params.values(), *self.buffers.values()]:
            if tensor.is_floating_point():
                ok &= torch.isfinite(tensor.detach()).flatten(1).all(dim=1)
        return ok


@dataclass(frozen=True)
class TrainResult:
    """What :meth:`BatchedEngine.local_train` returns.

    Attributes:
        models: the ``S`` locally trained models.
        mean_loss: [S] float64 numpy, mean minibatch loss over the local epochs.
        ok: [S] bool numpy, False where a loss or a weight became non-finite.
    """

    models: ModelStack
    mean_loss: np.ndarray
    ok: np.ndarray


class BatchedEngine:
    """Batched forward passes, local training and initialisation for one architecture on one device.

    Args:
        build: ``() -> PowerModel``, builds a freshly initialised model on the CPU (from torch's global RNG, which
            :meth:`init_stack` forks and seeds).
        device: the training device.
    """

    def __init__(self, build: Callable[[], PowerModel], device: torch.device) -> None:
        self.build = build
        self.device = device
        self.template = copy.deepcopy(build()).to("meta")
        self.eval_chunk = EVAL_CHUNK.get(device.type, EVAL_CHUNK["cpu"])

    def _guard(self) -> contextlib.AbstractContextManager:
        """The oneDNN guard for Conv3d models on CPU (forward and backward), a no-op otherwise."""
        return conv3d_guard(self.device) if self.template.uses_conv3d else contextlib.nullcontext()

    # ----- construction ---------------------------------------------------------------------------------------
    def init_stack(self, num_models: int, generator: torch.Generator) -> ModelStack:
        """``num_models`` independently initialised models; seeds drawn from ``generator`` (global RNG untouched)."""
        seeds = torch.randint(0, 2**62, (num_models,), generator=generator).tolist()
        models = []
        for seed in seeds:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                models.append(self.build())
        params, buffers = stack_module_state(models)
        return ModelStack(params, buffers).to(self.device)

    # ----- forward passes ----------------------------------------------------------------------------------------
    def _call(self, params: dict, buffers: dict, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return functional_call(self.template, (params, buffers), (features, mask))

    @torch.no_grad()
    def predict_shared(self, stack: ModelStack, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Every model of the stack on the same inputs (evaluation mode, BN with running statistics).

        Args:
            stack: M models.
            features: [R, K, L, L] float; mask: [R, U] bool.

        Returns:
            rho : [M, R, U] float.
        """
        self.template.eval()
        run = vmap(self._call, in_dims=(0, 0, None, None))
        with self._guard():
            step = self.eval_chunk
            chunks = [
                run(stack.params, stack.buffers, features[i : i + step], mask[i : i + step])
                for i in range(0, features.shape[0], step)
            ]
        return torch.cat(chunks, dim=1)

    @torch.no_grad()
    def predict_paired(self, stack: ModelStack, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Model ``i`` on block ``i`` (evaluation mode).

        Args:
            stack: M models.
            features: [M, R, K, L, L] float; mask: [M, R, U] bool.

        Returns:
            rho : [M, R, U] float.
        """
        self.template.eval()
        run = vmap(self._call)
        step = max(1, self.eval_chunk // stack.num_models)
        with self._guard():
            chunks = [
                run(stack.params, stack.buffers, features[:, i : i + step], mask[:, i : i + step])
                for i in range(0, features.shape[1], step)
            ]
        return torch.cat(chunks, dim=1)

    # ----- local training ------------------------------------------------------------------------------------------
    def local_train(
        self,
        stack: ModelStack,
        rows: torch.Tensor,
        split: DeviceSplit,
        objective: Objective,
        *,
        lr: float,
        epochs: int,
        batch_size: int,
        generator: torch.Generator,
    ) -> TrainResult:
        """Train model ``s`` of ``stack`` on the training rows ``rows[s]``, all ``S`` at once (eq. 10).

        Each model gets a fresh Adam (learning rate ``lr``); each epoch draws an independent permutation of each
        model's rows from ``generator`` and runs minibatches of ``batch_size`` (the last one may be smaller; a
        last one of a single sample is merged into the one before, since BatchNorm needs two).

        Args:
            stack: S models, trained in place (pass a fresh copy, e.g. ``ModelStack.select``).
            rows: [S, n] int64 (device), each model's training rows in ``split``.
            split: the training split.
            objective: the loss.
            lr: learning rate; epochs: E; batch_size: minibatch size.
            generator: CPU generator for the shuffles.

        Returns:
            The trained models, their mean minibatch loss and a finiteness flag per model.
        """
        num_jobs, num_rows = rows.shape
        params = {k: v.detach().requires_grad_(True) for k, v in stack.params.items()}
        buffers = stack.buffers
        optimizer = torch.optim.Adam(list(params.values()), lr=lr, fused=True)
        fields = ("features", *objective.fields)

        def job_loss(p: dict, b: dict, batch: dict) -> torch.Tensor:
            rho = self._call(p, b, batch["features"], batch["mask"])
            return objective(rho, batch).mean()

        batched_loss = vmap(job_loss)
        starts = list(range(0, num_rows, batch_size))
        if len(starts) > 1 and num_rows - starts[-1] == 1:
            starts.pop()  # a last minibatch of one sample joins the previous one (BatchNorm needs two)
        loss_sum = torch.zeros(num_jobs, dtype=torch.float64, device=self.device)
        steps = 0
        self.template.train()
        with self._guard():
            for _ in range(epochs):
                order = torch.rand(num_jobs, num_rows, generator=generator).argsort(dim=1).to(self.device)
                shuffled = rows.gather(1, order)
                for start, stop in zip(starts, [*starts[1:], num_rows], strict=True):
                    batch = split.gather(shuffled[:, start:stop], fields)
                    losses = batched_loss(params, buffers, batch)
                    optimizer.zero_grad(set_to_none=True)
                    losses.sum().backward()
                    optimizer.step()
                    loss_sum += losses.detach().to(torch.float64)
                    steps += 1
        trained = ModelStack({k: v.detach() for k, v in params.items()}, buffers)
        mean_loss = loss_sum / steps
        ok = torch.isfinite(mean_loss) & trained.finite()
        return TrainResult(trained, mean_loss.cpu().numpy(), ok.cpu().numpy())


def aggregate(
    stack: ModelStack, trained: ModelStack, target: np.ndarray, weights: np.ndarray, ok: np.ndarray
) -> ModelStack:
    """Weighted per-model averaging, eq. (11): ``W_c <- sum_{s -> c} w_s W_s / sum_{s -> c} w_s``.

    Models that no usable trained copy targets keep their weights.

    Args:
        stack: the M current models.
        trained: S trained models.
        target: [S] int64, the model each trained copy is aggregated into.
        weights: [S] float, e.g. |T_n|.
        ok: [S] bool, False for copies left out (non-finite).

    Returns:
        A new stack of M models.
    """
    device = next(iter(stack.params.values())).device
    num_models = stack.num_models
    w = np.zeros((num_models, len(target)))
    w[np.asarray(target), np.arange(len(target))] = np.where(ok, np.asarray(weights, dtype=np.float64), 0.0)
    total = w.sum(axis=1)
    updated = total > 0
    w_norm = torch.as_tensor(w / np.where(updated, total, 1.0)[:, None], device=device)
    updated_t = torch.as_tensor(updated, device=device)
    ok_t = torch.as_tensor(np.asarray(ok), device=device)
    contributes = w_norm > 0  # [M, S]
    all_ok = bool(np.all(ok))

    def combine(old: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
        keep = updated_t.reshape(-1, *([1] * (old.dim() - 1)))
        if old.is_floating_point():
            clean = (
                new if all_ok else torch.where(ok_t.reshape(-1, *([1] * (new.dim() - 1))), new, torch.zeros_like(new))
            )
            mixed = torch.einsum("ms,s...->m...", w_norm.to(new.dtype), clean)
        else:
            candidates = torch.where(
                contributes.reshape(*contributes.shape, *([1] * (new.dim() - 1))),
                new.unsqueeze(0),
                torch.zeros_like(new).unsqueeze(0),
            )
            mixed = candidates.amax(dim=1)
        return torch.where(keep, mixed, old)

    return ModelStack(
        {k: combine(v, trained.params[k]).detach() for k, v in stack.params.items()},
        {k: combine(v, trained.buffers[k]) for k, v in stack.buffers.items()},
    )


def concat_stacks(stacks: list[ModelStack]) -> ModelStack:
    """Concatenate stacks along the model axis."""
    return ModelStack(
        {k: torch.cat([s.params[k] for s in stacks]) for k in stacks[0].params},
        {k: torch.cat([s.buffers[k] for s in stacks]) for k in stacks[0].buffers},
    )
