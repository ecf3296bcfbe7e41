"""Quick start (``make demo``): Thompson sampling vs uniform EP selection on ``MIMOClusteredFL-v0``.

Builds the env on the CPU-sized scenario (preset ``quick``: the paper's 15 EPs with 330 samples each), runs one
episode with the paper's linear Thompson sampling selector and one with uniform sampling (same episode seed, so
both start from the same round-1 models), prints a per-round table and the final comparison, and writes TensorBoard
logs under ``runs/quickstart/<selector>``. Open them with ``tensorboard --logdir runs``.

Usage::

    python examples/quickstart.py                       # ~ a few minutes on 2 CPU cores
    python examples/quickstart.py --max-rounds 10       # shorter
    python examples/quickstart.py --preset tiny --max-rounds 4 --log-dir /tmp/runs   # seconds
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import numpy as np

import mimo_env
from ep_selectors import ThompsonSelector, UniformSelector, run_episode
from mimo_env.env import cached_federation
from mimo_env.wrappers import TensorBoardLogger


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--preset", default="quick", choices=sorted(mimo_env.PRESETS), help="scenario preset")
    parser.add_argument("--sigma2", type=float, default=None, help="CSI noise variance (None: the preset's)")
    parser.add_argument("--model", default="mlp", help="FL model (mlp, cnn3d, resnet3d18)")
    parser.add_argument("--width", type=int, default=None, help="FL model width (None: the model's default)")
    parser.add_argument("--ep-budget", type=int, default=3, help="S, EPs selected per round")
    parser.add_argument("--max-rounds", type=int, default=25, help="rounds per episode, round 1 included")
    parser.add_argument("--seed", type=int, default=0, help="episode seed (models, selectors)")
    parser.add_argument("--data-seed", type=int, default=0, help="dataset seed")
    parser.add_argument("--device", default="auto", help="FL training device: auto, cpu, cuda")
    parser.add_argument("--log-dir", type=Path, default=Path("runs/quickstart"), help="TensorBoard folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, list[dict]]:
    """Run both selectors; returns their per-round records by selector name."""
    args = parse_args(argv)
    env_kwargs = dict(
        preset=args.preset,
        sigma2=args.sigma2,
        model=args.model,
        width=args.width,
        ep_budget=args.ep_budget,
        max_rounds=args.max_rounds,
        device=args.device,
        data_seed=args.data_seed,
    )
    probe = gym.make(mimo_env.ENV_ID, **env_kwargs).unwrapped
    print(
        f"Scenario {args.preset!r}: N={probe.num_eps} EPs, C={probe.num_clusters} cluster models, "
        f"S={args.ep_budget} EPs per round, {args.max_rounds} rounds, FL device {probe.device}"
    )
    print("Building (or loading) the datasets ...")
    cached_federation(probe.scenario, args.data_seed, progress=True)
    context_dim = probe.observation_space.shape[1]
    selectors = {
        "thompson": ThompsonSelector(probe.num_eps, context_dim, args.ep_budget),
        "uniform": UniformSelector(probe.num_eps, args.ep_budget),
    }
    results: dict[str, list[dict]] = {}
    for name, selector in selectors.items():
        env = TensorBoardLogger(gym.make(mimo_env.ENV_ID, **env_kwargs), log_dir=args.log_dir / name)
        records = run_episode(env, selector, seed=args.seed)
        env.close()
        results[name] = records
        first = records[0]["reset_info"]
        clusters = len(first["cluster_test_min_se"])
        print(f"\n{name}: per-round global min-SE (reward) and per-cluster expected min-SE on the test sets (bit/s/Hz)")
        header = (
            f"{'round':>5}  {'selected EPs':<14} {'reward':>7}  "
            + "  ".join(f"{f'cluster {t + 1}':>9}" for t in range(clusters))
            + f"  {'acc':>5}"
        )
        print(header)
        for info in [first, *records]:
            selected = "all" if info["round"] == 1 else ",".join(str(n) for n in info["selected_eps"])
            print(
                f"{info['round']:>5}  {selected:<14} {info['global_min_se']:7.4f}  "
                + "  ".join(f"{v:9.4f}" for v in info["cluster_test_min_se"])
                + f"  {info['cluster_accuracy']:5.2f}"
            )

    last = {name: records[-1] for name, records in results.items()}
    reference = next(iter(last.values()))
    print(f"\nAfter {args.max_rounds} rounds (same seed and round-1 models for both):")
    print(
        f"{'selector':<10} {'final reward':>12} {'mean reward':>12}  "
        + "  ".join(f"{f'cluster {t + 1}':>9}" for t in range(len(reference["cluster_test_min_se"])))
    )
    for name, records in results.items():
        mean_reward = float(np.mean([r["reward"] for r in records]))
        print(
            f"{name:<10} {last[name]['reward']:12.4f} {mean_reward:12.4f}  "
            + "  ".join(f"{v:9.4f}" for v in last[name]["cluster_test_min_se"])
        )
    print(f"{'optimal':<10} {'':>12} {'':>12}  " + "  ".join(f"{v:9.4f}" for v in reference["cluster_optimal_min_se"]))
    print(
        f"{'equal pwr':<10} {'':>12} {'':>12}  "
        + "  ".join(f"{v:9.4f}" for v in reference["cluster_equal_power_min_se"])
    )
    print(
        f"\nTensorBoard logs: {args.log_dir}/<selector>. Open them with:  tensorboard --logdir {args.log_dir}"
        "\n(then http://localhost:6006; tags round/*, cluster/*, loss/*, selection/*, episode/*)"
    )
    return results


if __name__ == "__main__":
    main()
