"""Train a stable-baselines3 EP selector (PPO by default; A2C, SAC or TD3 by flag) on ``MIMOClusteredFL-v0``.

The agent acts through :class:`mimo_env.wrappers.ScoreToSubsetWrapper` (scores in [-1, 1] -> top-S EPs). SB3's own
TensorBoard logs go to ``<log-dir>/<ALGO>_<i>`` and the env's per-round metrics to ``<log-dir>/<ALGO>_env``, so
``tensorboard --logdir <log-dir>`` shows both. The model is saved to ``--save-path`` and loads with::

    from ep_selectors import SB3Selector
    selector = SB3Selector.load("models/ppo_selector.zip", budget=3, algo="PPO")

Afterwards the script plays one evaluation episode with the saved selector and with uniform sampling (same seed).

Usage::

    python examples/train_sb3_selector.py                                   # PPO, preset quick, 2 000 rounds
    python examples/train_sb3_selector.py --algo SAC --total-timesteps 500
    python examples/train_sb3_selector.py --preset tiny --max-rounds 4 --total-timesteps 16 --n-steps 8
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import mimo_env
from ep_selectors import SB3Selector, UniformSelector, run_episode
from ep_selectors.sb3 import ALGORITHMS
from mimo_env.wrappers import ScoreToSubsetWrapper, TensorBoardLogger


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--algo", default="PPO", choices=sorted(ALGORITHMS), help="SB3 algorithm")
    parser.add_argument("--preset", default="quick", choices=sorted(mimo_env.PRESETS), help="scenario preset")
    parser.add_argument("--sigma2", type=float, default=None, help="CSI noise variance (None: the preset's)")
    parser.add_argument("--model", default="mlp", help="FL model (mlp, cnn3d, resnet3d18)")
    parser.add_argument("--width", type=int, default=None, help="FL model width (None: the model's default)")
    parser.add_argument("--ep-budget", type=int, default=3, help="S, EPs selected per round")
    parser.add_argument("--max-rounds", type=int, default=20, help="rounds per episode, round 1 included")
    parser.add_argument("--total-timesteps", type=int, default=2000, help="training steps (= FL rounds)")
    parser.add_argument("--n-steps", type=int, default=64, help="rollout length (PPO, A2C)")
    parser.add_argument("--batch-size", type=int, default=32, help="minibatch (PPO, SAC, TD3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the agent and the env")
    parser.add_argument("--data-seed", type=int, default=0, help="dataset seed")
    parser.add_argument("--device", default="auto", help="FL training device (the SB3 policy runs on the CPU)")
    parser.add_argument("--log-dir", type=Path, default=Path("runs/train"), help="TensorBoard folder")
    parser.add_argument(
        "--save-path", type=Path, default=None, help="where to save the model (default models/<algo>_selector.zip)"
    )
    parser.add_argument("--no-eval", action="store_true", help="skip the evaluation episode")
    return parser.parse_args(argv)


def algorithm_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Per-algorithm keyword arguments sized by the command line (replay buffer no larger than the run)."""
    if args.algo == "PPO":
        return {"n_steps": args.n_steps, "batch_size": min(args.batch_size, args.n_steps), "n_epochs": 4}
    if args.algo == "A2C":
        return {"n_steps": args.n_steps}
    return {
        "buffer_size": max(args.total_timesteps, 1),
        "batch_size": args.batch_size,
        "learning_starts": min(100, args.total_timesteps // 2),
    }


def main(argv: list[str] | None = None) -> Path:
    """Train, save and (unless ``--no-eval``) evaluate; returns the saved model's path."""
    args = parse_args(argv)
    save_path = args.save_path or Path("models") / f"{args.algo.lower()}_selector.zip"
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
    env = TensorBoardLogger(
        ScoreToSubsetWrapper(gym.make(mimo_env.ENV_ID, **env_kwargs)), log_dir=args.log_dir / f"{args.algo}_env"
    )
    agent = ALGORITHMS[args.algo](
        "MlpPolicy",
        env,
        seed=args.seed,
        device="cpu",
        verbose=0,
        tensorboard_log=str(args.log_dir),
        **algorithm_kwargs(args),
    )
    print(f"Training {args.algo} for {args.total_timesteps} FL rounds on preset {args.preset!r} ...")
    agent.learn(total_timesteps=args.total_timesteps, tb_log_name=args.algo, progress_bar=False)
    env.close()
    save_path.parent.mkdir(parents=True, exist_ok=True)
    agent.save(str(save_path))
    print(
        f"Saved {save_path}; load it with SB3Selector.load({str(save_path)!r}, budget={args.ep_budget}, "
        f"algo={args.algo!r})"
    )
    print(f"TensorBoard: tensorboard --logdir {args.log_dir}")
    if not args.no_eval:
        selector = SB3Selector.load(save_path, budget=args.ep_budget, algo=args.algo)
        uniform = UniformSelector(selector.num_eps, args.ep_budget)
        for name, agent_selector in (("learned", selector), ("uniform", uniform)):
            eval_env = gym.make(mimo_env.ENV_ID, **env_kwargs)
            records = run_episode(eval_env, agent_selector, seed=args.seed + 1)
            eval_env.close()
            rewards = [r["reward"] for r in records]
            print(
                f"evaluation episode, {name:<8}: final reward {rewards[-1]:.4f}, "
                f"mean reward {float(np.mean(rewards)):.4f} bit/s/Hz"
            )
    return save_path


if __name__ == "__main__":
    main()
