"""``mimo-fl``: the command line of the package (console script declared in ``pyproject.toml``).

Subcommands:

- ``mimo-fl benchmark``: reproduce the paper's Figs. 3-5 (every method, every CSI condition, several seeds),
  resumable, then write the figures and the table (:mod:`mimo_env.experiments`);
- ``mimo-fl report``: regenerate the figures and the table from an existing results directory;
- ``mimo-fl dataset``: build (or load from the cache) one federation and describe it;
- ``mimo-fl train``: run one method for N rounds and write its TensorBoard logs; with ``--checkpoint PATH`` it saves
  the run after every round and resumes from PATH when it exists (:mod:`mimo_env.resume`).

Every argument is validated before any work starts; a bad one exits with status 2 and a message naming it.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mimo_env.config import PRESETS

if TYPE_CHECKING:
    from mimo_env.experiments.settings import BenchmarkSettings
    from mimo_env.wrappers import TensorBoardLogger


def _number(kind: type, minimum: float, expected: str) -> Callable[[str], float]:
    """An argparse ``type``: parse ``kind`` from the text and require a finite value >= ``minimum``."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}") from None
        if not math.isfinite(value) or value < minimum:
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}")
        return value

    return parse


_nonneg_float = _number(float, 0.0, "a finite number >= 0")
_positive_int = _number(int, 1, "a positive integer")
_nonneg_int = _number(int, 0, "a non-negative integer")


def _add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``benchmark`` and ``train``: scenario, round budget, model and where to train."""
    parser.add_argument("--preset", default="quick", choices=sorted(PRESETS), help="scenario preset (default quick)")
    parser.add_argument(
        "--rounds",
        type=_positive_int,
        default=50,
        help="global rounds per run, round 1 (all EPs) included; >= 2 (default 50)",
    )
    parser.add_argument("--model", default="mlp", help="FL model: mlp, setnet, cnn3d, resnet3d18 (default mlp)")
    parser.add_argument("--width", type=_positive_int, default=None, help="model width (default: the model's)")
    parser.add_argument("--objective", default="mse", help="FL objective: mse (the paper's) or se (default mse)")
    parser.add_argument("--ep-budget", type=_positive_int, default=3, help="S, EPs selected per round (default 3)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda[:i] (default auto)")
    parser.add_argument(
        "--cache-dir", default=None, help="dataset cache folder (default: $MIMO_FL_CACHE or ~/.cache/mimo-clustered-fl)"
    )
    parser.add_argument("--sb3-model", default=None, help="trained SB3 selector (.zip) for method clustered-sb3")
    parser.add_argument("--sb3-algo", default="PPO", help="its algorithm: PPO, A2C, SAC, TD3 (default PPO)")


def build_parser() -> argparse.ArgumentParser:
    """The ``mimo-fl`` argument parser (exposed for tests and documentation)."""
    from mimo_env.experiments.settings import DEFAULT_METHODS, DEFAULT_SIGMA2S, METHODS

    parser = argparse.ArgumentParser(
        prog="mimo-fl",
        description="Clustered federated learning for massive-MIMO "
        "power allocation: benchmark, report, dataset, train.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    bench = sub.add_parser(
        "benchmark",
        help="reproduce the paper's Figs. 3-5 (resumable)",
        description="Train every method at every CSI condition and seed; one JSON file per run "
        "in --out (finished runs are skipped), then the figures and results.md.",
    )
    bench.add_argument("--out", default=None, help="output directory (default results/benchmark-<preset>)")
    bench.add_argument(
        "--sigma2",
        type=_nonneg_float,
        nargs="+",
        default=list(DEFAULT_SIGMA2S),
        help="CSI-noise variances (default 0 5e-4 1e-2, the paper's Figs. 3, 4, 5)",
    )
    bench.add_argument("--seeds", type=_positive_int, default=3, help="seeds 0..N-1 per method and sigma2 (default 3)")
    bench.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=None,
        metavar="METHOD",
        help=f"methods (default {' '.join(DEFAULT_METHODS)}, plus clustered-sb3 with --sb3-model)",
    )
    _add_training_arguments(bench)
    bench.add_argument("--no-report", action="store_true", help="do not write figures and table at the end")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")

    report = sub.add_parser("report", help="figures and table from an existing results directory")
    report.add_argument("--out", required=True, help="the results directory of a benchmark")

    dataset = sub.add_parser("dataset", help="build and describe one federation")
    dataset.add_argument("--preset", default="quick", choices=sorted(PRESETS), help="scenario preset")
    dataset.add_argument(
        "--sigma2",
        type=_nonneg_float,
        default=None,
        help="CSI-noise variance of the noisy labels (default: the preset's)",
    )
    dataset.add_argument("--seed", type=_nonneg_int, default=0, help="data seed (default 0)")
    dataset.add_argument(
        "--cache-dir", default=None, help="dataset cache folder (default: $MIMO_FL_CACHE or ~/.cache/mimo-clustered-fl)"
    )

    train = sub.add_parser(
        "train",
        help="run one method and write its TensorBoard logs",
        description="Run one method for --rounds rounds, print a per-round table and write "
        "TensorBoard event files (tags of mimo_env.wrappers.TensorBoardLogger) to --logdir.",
    )
    train.add_argument(
        "--method", required=True, choices=METHODS, metavar="METHOD", help=f"one of {', '.join(METHODS)}"
    )
    train.add_argument("--sigma2", type=_nonneg_float, default=0.0, help="CSI-noise variance (default 0)")
    train.add_argument("--seed", type=_nonneg_int, default=0, help="data seed and episode seed (default 0)")
    train.add_argument("--logdir", default=None, help="TensorBoard folder (default runs/<method>)")
    train.add_argument(
        "--checkpoint",
        default=None,
        metavar="PATH",
        help="save the run to PATH after every round and resume from PATH when it exists (a "
        "checkpoint of another setup is refused)",
    )
    _add_training_arguments(train)
    for subparser in sub.choices.values():
        subparser.set_defaults(command_parser=subparser)
        # Read "-1e-3" as a (negative, hence rejected with a clear message) value, not as an unknown option, as
        # Python >= 3.12's argparse does; 3.10-3.11 only recognise "-1" and "-0.5" forms.
        subparser._negative_number_matcher = re.compile(r"^-\.?\d")
    return parser


def _settings(args: argparse.Namespace, parser: argparse.ArgumentParser, **runs: Any) -> BenchmarkSettings:
    """The validated settings of the training arguments shared by ``benchmark`` and ``train`` (plus ``runs``: the
    CSI conditions, seeds and methods); a bad value exits through ``parser.error`` before any work."""
    from mimo_env.experiments.settings import BenchmarkSettings

    try:
        return BenchmarkSettings(
            preset=args.preset,
            rounds=args.rounds,
            model=args.model,
            width=args.width,
            objective=args.objective,
            ep_budget=args.ep_budget,
            device=args.device,
            cache_dir=args.cache_dir,
            sb3_model=args.sb3_model,
            sb3_algo=args.sb3_algo,
            **runs,
        )
    except ValueError as error:
        parser.error(str(error))


def _benchmark(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mimo_env.experiments.report import write_report
    from mimo_env.experiments.runner import run_benchmark
    from mimo_env.experiments.settings import DEFAULT_METHODS
    from mimo_env.experiments.store import ResultsStore

    methods = args.methods
    if methods is None:
        methods = DEFAULT_METHODS + (("clustered-sb3",) if args.sb3_model is not None else ())
    settings = _settings(args, parser, sigma2s=tuple(args.sigma2), seeds=args.seeds, methods=tuple(methods))
    out = Path(args.out) if args.out is not None else Path("results") / f"benchmark-{settings.preset}"
    try:
        ResultsStore(out).claim(settings.identity())
    except ValueError as error:  # the directory holds another experiment
        parser.error(str(error))
    outcome = run_benchmark(settings, out, progress=not args.quiet)
    print(f"{len(outcome.ran)} run(s) trained, {len(outcome.skipped)} already finished; results in {out}/runs")
    if not args.no_report:
        for path in write_report(out):
            print(f"wrote {path}")
    return 0


def _report(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mimo_env.experiments.report import write_report

    try:
        written = write_report(args.out)
    except ValueError as error:
        parser.error(str(error))
    for path in written:
        print(f"wrote {path}")
    return 0


def _dataset(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mimo_env.config import preset
    from mimo_env.dataset import build_federation, describe_federation

    overrides = {} if args.sigma2 is None else {"sigma2": args.sigma2}
    config = preset(args.preset, **overrides)
    federation = build_federation(config, args.seed, cache_dir=args.cache_dir, progress=True)
    print(describe_federation(federation))
    return 0


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mimo_env.checkpoint import CheckpointError
    from mimo_env.experiments.runner import make_method_env, play_rounds
    from mimo_env.wrappers import TensorBoardLogger

    settings = _settings(args, parser, sigma2s=(args.sigma2,), seeds=1, methods=(args.method,))
    logdir = Path(args.logdir) if args.logdir is not None else Path("runs") / args.method
    env = TensorBoardLogger(make_method_env(args.method, args.sigma2, args.seed, settings), logdir)
    try:
        if args.checkpoint is None:
            infos = play_rounds(args.method, env, settings, args.seed)
        else:
            infos = _play_resumable(args.method, env, settings, args.seed, Path(args.checkpoint))
    except CheckpointError as error:
        parser.error(str(error))
    finally:
        env.close()
    num_clusters = len(infos[0]["cluster_test_min_se"])
    print(
        f"{args.method} on {args.preset}, sigma2={args.sigma2:g}, seed {args.seed}: expected min-SE per "
        "ground-truth cluster (test, bit/s/Hz)"
    )
    print("round  EPs  reward  " + "  ".join(f"cluster{c + 1}" for c in range(num_clusters)) + "  accuracy")
    for info in infos:
        clusters = "  ".join(f"{v:8.4f}" for v in info["cluster_test_min_se"])
        print(
            f"{info['round']:5d}  {int(info['selected'].sum()):3d}  {info['global_min_se']:6.4f}  {clusters}  "
            f"{info['cluster_accuracy']:8.2f}"
        )
    optimal = "  ".join(f"{v:8.4f}" for v in infos[-1]["cluster_optimal_min_se"])
    print(f"optimal                  {optimal}")
    print(f"TensorBoard logs in {logdir}; view them with: tensorboard --logdir {logdir}")
    return 0


def _play_resumable(
    method: str, env: TensorBoardLogger, settings: BenchmarkSettings, seed: int, path: Path
) -> list[dict[str, Any]]:
    """:func:`~mimo_env.experiments.runner.play_rounds` with :func:`mimo_env.resume.save_run` after every round;
    resumes from ``path`` when it exists (same rounds, bit for bit on the CPU, as an uninterrupted run)."""
    import numpy as np

    from ep_selectors import episode_seeds
    from mimo_env.experiments.runner import make_selector
    from mimo_env.experiments.settings import BASELINE_METHODS
    from mimo_env.resume import load_run, save_run

    selector = None if method in BASELINE_METHODS else make_selector(method, env, settings)
    if path.exists():
        resumed = load_run(path, env, selector)
        observation, infos = resumed.observation, list(resumed.history)
        env.global_step = len(infos)  # TensorBoard continues the saved run's steps
        env.selection_counts = (
            np.sum([np.asarray(i["selected"], dtype=np.int64) for i in infos[1:]], axis=0, dtype=np.int64)
            if len(infos) > 1
            else np.zeros_like(env.selection_counts)
        )
        print(f"resumed from {path} after round {len(infos)}")
    else:
        env_seed, selector_seed = (seed, None) if selector is None else episode_seeds(seed)
        observation, info = env.reset(seed=env_seed)
        if selector is not None:
            selector.reset(selector_seed)
        infos = [info]
        save_run(path, env, selector, history=infos)
    all_eps = np.ones(env.action_space.shape, dtype=np.int8)
    while len(infos) < settings.rounds:
        mask = all_eps if selector is None else selector.select(observation)
        next_observation, reward, _, _, info = env.step(mask)
        if selector is not None:
            selector.update(observation, mask, float(reward))
        observation = next_observation
        infos.append(info)
        save_run(path, env, selector, history=infos)
    return infos


_COMMANDS = {"benchmark": _benchmark, "report": _report, "dataset": _dataset, "train": _train}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mimo-fl``; returns the exit status (argument errors exit with status 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return _COMMANDS[args.command](args, args.command_parser)


if __name__ == "__main__":
    sys.exit(main())
