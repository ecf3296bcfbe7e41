"""Cost of ``MassiveMIMOFLEnv.step`` versus the bare FL round it runs (``run_round`` + ``evaluate``).

Two ratios, both measured in this run (target: <= 1.10):

1. **side by side**: the env and a bare algorithm start from identical models (same federation, FL config and torch
   seed ``env.torch_seed``, both through the same round 1) and play the same masks, interleaved step by step (the
   order alternates) so that both see the same machine load; the median over steps of ``t_env / t_bare`` is
   printed. The rewards must agree exactly, which checks that both did the same work.
2. **inside the step**: the time of ``env.step`` divided by the time spent in the ``run_round`` and ``evaluate``
   calls it makes (timed by wrapping the env's own algorithm). This isolates what the env adds (mask validation,
   contexts, info) from machine noise, which on a shared 2-core machine can exceed the overhead by far.

Usage::

    python benchmarks/bench_env_step.py                     # preset quick, 2 episodes x 15 steps
    python benchmarks/bench_env_step.py --preset tiny --steps 20
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

import mimo_env
from fl_agents import make_algorithm


def _timed(function: Callable[..., Any], bucket: list[float]) -> Callable[..., Any]:
    def wrapper(*args: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args)
        finally:
            bucket.append(time.perf_counter() - start)

    return wrapper


def main(argv: list[str] | None = None) -> tuple[float, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="quick", choices=sorted(mimo_env.PRESETS))
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--steps", type=int, default=15, help="steps per episode")
    parser.add_argument("--repeats", type=int, default=2, help="episodes")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    env = gym.make(
        mimo_env.ENV_ID, preset=args.preset, model=args.model, device=args.device, max_rounds=args.steps + 1
    ).unwrapped
    pair_ratios: list[float] = []
    env_total = inner_total = bare_total = 0.0
    for repeat in range(args.repeats):
        env.reset(seed=repeat)
        inner: list[float] = []
        algorithm = env.algorithm
        algorithm.run_round = _timed(algorithm.run_round, inner)
        algorithm.evaluate = _timed(algorithm.evaluate, inner)
        bare = make_algorithm("clustered", env.federation, env.fl_config, device=env.device, seed=env.torch_seed)
        bare.run_round(np.ones(env.num_eps, dtype=bool))
        bare.evaluate()
        for i in range(args.steps):
            mask = env.action_space.sample()
            times = {}
            for side in ("env", "bare") if i % 2 == 0 else ("bare", "env"):
                start = time.perf_counter()
                if side == "env":
                    _, reward_env, *_ = env.step(mask)
                else:
                    bare.run_round(mask.astype(bool))
                    reward_bare = bare.evaluate().reward
                times[side] = time.perf_counter() - start
            if reward_env != reward_bare:
                raise RuntimeError(f"env and bare algorithm diverged at step {i}: {reward_env} != {reward_bare}")
            pair_ratios.append(times["env"] / times["bare"])
            env_total += times["env"]
            bare_total += times["bare"]
        inner_total += sum(inner)
    steps = args.steps * args.repeats
    side_by_side = float(np.median(pair_ratios))
    inside = env_total / inner_total
    print(
        f"preset {args.preset}, model {args.model}, device {env.device}, {steps} steps "
        f"({args.repeats} episodes x {args.steps})"
    )
    print(f"bare run_round + evaluate       : {1e3 * bare_total / steps:9.2f} ms/round")
    print(f"env.step                        : {1e3 * env_total / steps:9.2f} ms/round")
    print(f"  of which the env's own work   : {1e3 * (env_total - inner_total) / steps:9.3f} ms/round")
    print(
        f"ratio side by side (median)     : {side_by_side:9.4f}  (per-step ratios from "
        f"{min(pair_ratios):.3f} to {max(pair_ratios):.3f}: machine noise)"
    )
    print(f"ratio inside the step           : {inside:9.4f}  (target <= 1.10)")
    return side_by_side, inside


if __name__ == "__main__":
    main()
