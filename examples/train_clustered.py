"""Train clustered FL (IFCA) with all EPs every round and report each topology cluster's expected min-SE.

The numbers of the README's ``fl`` section come from this script::

    python examples/train_clustered.py --preset quick --objective se --rounds 60
    python examples/train_clustered.py --preset quick --objective mse --rounds 60

It prints, every ``--every`` rounds, the cluster-assignment accuracy and, per ground-truth topology cluster, the
expected minimum SE on the test sets (true coefficients) as a fraction of the optimum, next to equal power.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from fl_agents import MODEL_NAMES, FLConfig, make_algorithm
from mimo_env.config import PRESETS, preset
from mimo_env.dataset import build_federation


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="quick", choices=sorted(PRESETS))
    parser.add_argument("--sigma2", type=float, default=0.0, help="CSI error variance of the noisy labels")
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0, help="model initialisation and shuffles")
    parser.add_argument("--model", default="setnet", choices=MODEL_NAMES)
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--objective", default="se", choices=("mse", "se"))
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--local-epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--lr-decay", type=float, default=0.002)
    parser.add_argument("--every", type=int, default=10, help="evaluate every this many rounds")
    parser.add_argument("--device", default="auto")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    federation = build_federation(preset(args.preset, sigma2=args.sigma2), args.data_seed)
    config = FLConfig(
        model=args.model,
        width=args.width,
        objective=args.objective,
        lr=args.lr,
        lr_decay=args.lr_decay,
        local_epochs=args.local_epochs,
    )
    algo = make_algorithm("clustered", federation, config, device=args.device, seed=args.seed)
    print(f"clustered FL on {args.preset!r} (sigma2={args.sigma2}), {config}, device {algo.device}")
    everyone = np.ones(algo.num_eps, dtype=bool)
    start = time.perf_counter()
    for round_index in range(1, args.rounds + 1):
        algo.run_round(everyone)
        if round_index % args.every == 0 or round_index == args.rounds:
            ev = algo.evaluate()
            fraction = ev.cluster_test_min_se / ev.cluster_optimal_min_se
            print(
                f"round {round_index:4d}  {time.perf_counter() - start:7.1f}s  accuracy {ev.cluster_accuracy:.2f}"
                f"  reward {ev.reward:.3f}  model/optimal {np.array2string(fraction, precision=3)}",
                flush=True,
            )
    ev = algo.evaluate()
    print("\ncluster  model min-SE  optimal  equal power  model/optimal  equal/optimal")
    for t in range(len(ev.cluster_test_min_se)):
        model, optimal, equal = (
            ev.cluster_test_min_se[t],
            ev.cluster_optimal_min_se[t],
            ev.cluster_equal_power_min_se[t],
        )
        print(
            f"{t + 1:7d}  {model:12.3f}  {optimal:7.3f}  {equal:11.3f}  {model / optimal:13.3f}  "
            f"{equal / optimal:13.3f}"
        )


if __name__ == "__main__":
    main()
