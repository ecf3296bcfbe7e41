"""Cost of ``MassiveMIMOFLEnv.step`` versus the bare FL round it runs (``run_round`` + ``evaluate``).

Both sides start from identical models (same federation, FL config and torch seed ``env.torch_seed``, the bare
algorithm run through the same round 1), then
play the same masks, interleaved so that both see the same machine load. The ratio of total times is printed;
the target is <= 1.10.

Usage::

    python benchmarks/bench_env_step.py                     # preset quick, 40 steps
    python benchmarks/bench_env_step.py --preset tiny --steps 20
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import mimo_env
from fl_agents import make_algorithm


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="quick", choices=sorted(mimo_env.PRESETS))
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3, help="episodes; the ratio pools all steps")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    env = gym.make(mimo_env.ENV_ID, preset=args.preset, model=args.model, device=args.device,
                   max_rounds=args.steps + 1).unwrapped
    env_time = bare_time = 0.0
    for repeat in range(args.repeats):
        env.reset(seed=repeat)
        bare = make_algorithm("clustered", env.federation, env.fl_config, device=env.device, seed=env.torch_seed)
        bare.run_round(np.ones(env.num_eps, dtype=bool))
        bare.evaluate()
        masks = [env.action_space.sample() for _ in range(args.steps)]
        for i, mask in enumerate(masks):
            order = ("env", "bare") if i % 2 == 0 else ("bare", "env")
            for side in order:
                start = time.perf_counter()
                if side == "env":
                    _, reward_env, *_ = env.step(mask)
                    env_time += time.perf_counter() - start
                else:
                    bare.run_round(mask.astype(bool))
                    reward_bare = bare.evaluate().reward
                    bare_time += time.perf_counter() - start
            if reward_env != reward_bare:
                raise RuntimeError(f"env and bare algorithm diverged at step {i}: {reward_env} != {reward_bare}")
    steps = args.steps * args.repeats
    ratio = env_time / bare_time
    print(f"preset {args.preset}, model {args.model}, device {env.device}, {steps} steps "
          f"({args.repeats} episodes x {args.steps})")
    print(f"bare run_round + evaluate: {1e3 * bare_time / steps:8.2f} ms/round")
    print(f"env.step                 : {1e3 * env_time / steps:8.2f} ms/round")
    print(f"ratio env/bare           : {ratio:8.3f}  (target <= 1.10)")
    return ratio


if __name__ == "__main__":
    main()
