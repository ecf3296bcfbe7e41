"""Speed of one FL round: the batched engine against a plain sequential per-EP loop doing the same work.

For each algorithm (clustered FL, FedAvg, decentralized; all EPs selected) one round is timed twice in the same
run, interleaved:

- **batched**: ``algo.run_round(all EPs)``, i.e. eq. (9) as one vmapped pass of the C models over all EPs' data,
  the selected EPs' local training as one vmapped Adam over stacked parameters, eq. (11) as one weighted sum;
- **sequential**: the textbook loop with the same model, loss and data tensors: eq. (9) as C x N separate forward
  passes, then for each EP a fresh ``nn.Module`` loaded from its cluster model, its own Adam and minibatch loop,
  then per-cluster averaging of the EPs' state dicts.

Centralized training has no per-EP loop (one model on pooled data); its batched round time is printed alone. The
script prints the median time of each and the ratio sequential / batched, for a small model on the CPU and, when a
CUDA device exists, for ``resnet3d18`` on it. Last, inference throughput: a trained model's forward pass on all
test samples against the exact max-min solver (:func:`mimo_env.power.maxmin_power`), in samples per second.

Usage::

    python benchmarks/bench_round.py                       # quick preset, mlp on CPU (+ resnet3d18 on a GPU)
    python benchmarks/bench_round.py --model setnet --repeats 5
    python benchmarks/bench_round.py --gpu-preset paper    # the paper's 1100 samples per EP on the GPU
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from fl_agents import FLConfig, make_algorithm
from fl_agents.algorithms.base import FederatedBase
from fl_agents.models import conv3d_guard
from mimo_env.config import PRESETS, preset
from mimo_env.dataset import build_federation
from mimo_env.power import maxmin_power


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def sequential_round(algo: FederatedBase, selected: np.ndarray) -> None:
    """The same round as ``algo.run_round(selected)`` as a plain per-EP loop (the reference; models updated)."""
    train, objective, config = algo.data.train, algo.objective, algo.config
    device = algo.device
    stack = algo.models
    lr = config.learning_rate(algo.round_index + 1)
    generator = torch.Generator().manual_seed(algo.round_index)

    def module_of(index: int) -> torch.nn.Module:
        module = algo.engine.build().to(device)
        state = {k: v[index] for k, v in {**stack.params, **stack.buffers}.items()}
        module.load_state_dict(state, strict=False)
        return module

    with conv3d_guard(device), torch.no_grad():
        if algo.name == "clustered":  # eq. (9): C x N separate forward passes
            losses = np.zeros((stack.num_models, algo.num_eps))
            for c in range(stack.num_models):
                model = module_of(c).eval()
                for n in range(algo.num_eps):
                    rows = train.ep_rows(n)
                    batch = train.gather(rows, objective.fields)
                    losses[c, n] = objective(model(train.features[rows], train.mask[rows]), batch).mean().item()
            chosen = losses.argmin(axis=0)
        else:
            chosen = algo.current_models()
    states, targets, weights = [], [], []
    with conv3d_guard(device):
        for n in np.flatnonzero(selected):
            model = module_of(int(chosen[n])).train()
            optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)  # as the engine
            rows = train.ep_rows(int(n))
            for _ in range(config.local_epochs):
                order = rows[torch.randperm(rows.numel(), generator=generator).to(device)]
                for start in range(0, rows.numel(), config.batch_size):
                    idx = order[start : start + config.batch_size]
                    batch = train.gather(idx, objective.fields)
                    loss = objective(model(train.features[idx], train.mask[idx]), batch).mean()
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
            states.append(model.state_dict())
            targets.append(int(chosen[n]))
            weights.append(float(rows.numel()))
    with torch.no_grad():  # eq. (11), per cluster
        for c in set(targets):
            members = [i for i, t in enumerate(targets) if t == c]
            total = sum(weights[i] for i in members)
            for key in stack.params:
                stack.params[key][c] = sum(states[i][key] * (weights[i] / total) for i in members)
            for key in stack.buffers:
                if stack.buffers[key].is_floating_point() and key in states[0]:  # persistent buffers
                    stack.buffers[key][c] = sum(states[i][key] * (weights[i] / total) for i in members)
    algo.round_index += 1
    algo.mark_models_changed()


def time_rounds(federation, config: FLConfig, device: str, repeats: int) -> None:
    everyone = np.ones(federation.num_eps, dtype=bool)
    print(f"  {'algorithm':14s} {'batched (s)':>12s} {'sequential (s)':>15s} {'ratio':>7s}")
    for name in ("clustered", "fedavg", "decentralized", "centralized"):
        algo = make_algorithm(name, federation, config, device=device, seed=0)
        algo.run_round(everyone)  # round 1 (and the clustered warm start), also a warm-up
        batched, sequential = [], []
        for repeat in range(repeats):
            for kind in ("batched", "sequential") if repeat % 2 == 0 else ("sequential", "batched"):
                if kind == "sequential" and name == "centralized":
                    continue
                _sync(algo.device)
                start = time.perf_counter()
                if kind == "batched":
                    algo.run_round(everyone)
                else:
                    sequential_round(algo, everyone)
                _sync(algo.device)
                (batched if kind == "batched" else sequential).append(time.perf_counter() - start)
        b = statistics.median(batched)
        if sequential:
            s = statistics.median(sequential)
            print(f"  {name:14s} {b:12.3f} {s:15.3f} {s / b:6.2f}x", flush=True)
        else:
            print(f"  {name:14s} {b:12.3f} {'-':>15s} {'-':>7s}", flush=True)


def inference_throughput(federation, config: FLConfig, device: str, repeats: int) -> None:
    algo = make_algorithm("clustered", federation, config, device=device, seed=0)
    algo.run_round(np.ones(federation.num_eps, dtype=bool))
    test = algo.data.test
    single = algo.models.select(torch.zeros(1, dtype=torch.int64, device=algo.device))
    model_times = []
    for _ in range(repeats):
        _sync(algo.device)
        start = time.perf_counter()
        algo.engine.predict_shared(single, test.features, test.mask)
        _sync(algo.device)
        model_times.append(time.perf_counter() - start)
    a = np.concatenate([ep.test.est_a for ep in federation.eps])
    b = np.concatenate([ep.test.est_b for ep in federation.eps])
    cell = np.concatenate([ep.test.cell for ep in federation.eps])
    solver_times = []
    for _ in range(repeats):
        start = time.perf_counter()
        maxmin_power(a, b, cell, federation.config.p_max_mw)
        solver_times.append(time.perf_counter() - start)
    rows = test.num_rows
    model_rate, solver_rate = rows / min(model_times), rows / min(solver_times)
    print(
        f"  {config.model} on {algo.device.type}: {model_rate:,.0f} samples/s; exact solver (numpy, CPU): "
        f"{solver_rate:,.0f} samples/s; ratio {model_rate / solver_rate:.1f}x ({rows} test samples)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="quick", choices=sorted(PRESETS), help="CPU runs")
    parser.add_argument("--model", default="mlp", help="small model timed on the CPU")
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--local-epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per variant (median)")
    parser.add_argument("--gpu-model", default="resnet3d18")
    parser.add_argument("--gpu-preset", default="quick", choices=sorted(PRESETS))
    parser.add_argument("--skip-gpu", action="store_true")
    args = parser.parse_args(argv)

    federation = build_federation(preset(args.preset), 0, progress=False)
    config = FLConfig(model=args.model, width=args.width, local_epochs=args.local_epochs)
    print(
        f"one round, all {federation.num_eps} EPs, preset {args.preset!r}, {args.model} "
        f"(width {args.width or 'default'}) on cpu ({torch.get_num_threads()} threads)"
    )
    time_rounds(federation, config, "cpu", args.repeats)
    print("inference throughput")
    inference_throughput(federation, config, "cpu", args.repeats)
    if args.skip_gpu:
        return
    if not torch.cuda.is_available():
        print(f"{args.gpu_model} on GPU: skipped (no CUDA device)")
        return
    gpu_federation = build_federation(preset(args.gpu_preset), 0, progress=False)
    gpu_config = FLConfig(model=args.gpu_model, local_epochs=args.local_epochs)
    print(
        f"one round, all {gpu_federation.num_eps} EPs, preset {args.gpu_preset!r}, {args.gpu_model} on "
        f"{torch.cuda.get_device_name()}"
    )
    time_rounds(gpu_federation, gpu_config, "cuda", args.repeats)
    print("inference throughput")
    inference_throughput(gpu_federation, gpu_config, "cuda", args.repeats)


if __name__ == "__main__":
    main()
