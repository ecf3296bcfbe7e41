"""Evidence for the Thompson selector's defaults: a (lambda, epsilon) grid against uniform sampling on the env.

For every seed, every selector plays one episode from the same round-1 models (``run_episode`` derives the env seed
from the episode seed), so the comparison is paired. Printed per configuration, averaged over seeds: the mean
reward over the episode's steps (area under the reward curve, bit/s/Hz), the final reward, and the paired
difference of the mean reward to uniform with its standard error.

Usage::

    python examples/sweep_thompson.py                          # preset quick, 3 seeds x 20 rounds
    python examples/sweep_thompson.py --preset tiny --seeds 2 --max-rounds 5 --lambdas 1 --epsilons 0.1
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import mimo_env
from ep_selectors import ThompsonSelector, UniformSelector, run_episode


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="quick", choices=sorted(mimo_env.PRESETS))
    parser.add_argument("--sigma2", type=float, default=None)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--ep-budget", type=int, default=3)
    parser.add_argument("--max-rounds", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3, help="number of episode seeds")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, first-seed + 1, ...")
    parser.add_argument("--lambdas", type=float, nargs="+", default=[0.1, 1.0, 10.0])
    parser.add_argument("--epsilons", type=float, nargs="+", default=[0.01, 0.1, 1.0])
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    env = gym.make(
        mimo_env.ENV_ID,
        preset=args.preset,
        sigma2=args.sigma2,
        model=args.model,
        width=args.width,
        ep_budget=args.ep_budget,
        max_rounds=args.max_rounds,
        device=args.device,
    )
    num_eps, context_dim = env.observation_space.shape
    selectors = {"uniform": lambda: UniformSelector(num_eps, args.ep_budget)}
    for lam in args.lambdas:
        for eps in args.epsilons:
            selectors[f"thompson lambda={lam:g} eps={eps:g}"] = lambda lam=lam, eps=eps: ThompsonSelector(
                num_eps, context_dim, args.ep_budget, regularization=lam, exploration=eps
            )
    mean_reward: dict[str, list[float]] = {name: [] for name in selectors}
    final_reward: dict[str, list[float]] = {name: [] for name in selectors}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for name, make in selectors.items():
            rewards = [r["reward"] for r in run_episode(env, make(), seed=seed)]
            mean_reward[name].append(float(np.mean(rewards)))
            final_reward[name].append(rewards[-1])
            print(f"seed {seed}  {name:<32} mean {mean_reward[name][-1]:.4f}  final {rewards[-1]:.4f}", flush=True)
    env.close()

    uniform = np.array(mean_reward["uniform"])
    summary: dict[str, dict[str, float]] = {}
    print(
        f"\npreset {args.preset}, S={args.ep_budget}, {args.max_rounds} rounds, {args.seeds} seeds "
        "(rewards in bit/s/Hz)"
    )
    print(f"{'selector':<32} {'mean reward':>11} {'final':>8} {'mean - uniform':>15} {'s.e.':>7}")
    for name in selectors:
        diff = np.array(mean_reward[name]) - uniform
        stderr = float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else float("nan")
        summary[name] = {
            "mean_reward": float(np.mean(mean_reward[name])),
            "final_reward": float(np.mean(final_reward[name])),
            "diff_to_uniform": float(diff.mean()),
            "stderr": stderr,
        }
        row = summary[name]
        print(
            f"{name:<32} {row['mean_reward']:11.4f} {row['final_reward']:8.4f} {row['diff_to_uniform']:15.4f} "
            f"{stderr:7.4f}"
        )
    return summary


if __name__ == "__main__":
    main()
