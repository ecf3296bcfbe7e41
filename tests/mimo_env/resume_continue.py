"""Helper of ``test_resume.py``, run in a fresh Python process: load a run checkpoint and continue it.

Usage: ``python resume_continue.py CHECKPOINT TRACE STEPS THREADS CACHE_DIR``. Builds the env and the Thompson
selector of ``test_resume.KWARGS`` / ``SELECTOR_ARGS``, restores them with :func:`mimo_env.resume.load_run`, plays
``STEPS`` more rounds and writes the trace (masks, observations, rewards, infos) with
:func:`mimo_env.checkpoint.save_checkpoint` (kind ``"trace"``).
"""

from __future__ import annotations

import sys
import warnings

import gymnasium as gym
import torch

import mimo_env
from ep_selectors import ThompsonSelector
from mimo_env.checkpoint import save_checkpoint
from mimo_env.resume import load_run

KWARGS = dict(preset="tiny", model="mlp", width=16, ep_budget=2, max_rounds=10, device="cpu")
SELECTOR_ARGS = dict(num_eps=6, context_dim=5, budget=2, regularization=0.5, exploration=1.0)


def play(env: gym.Env, selector: ThompsonSelector, observation, steps: int) -> list[dict]:
    """``steps`` rounds of ``selector`` on ``env``: one record per round."""
    trace = []
    for _ in range(steps):
        mask = selector.select(observation)
        next_observation, reward, terminated, truncated, info = env.step(mask)
        selector.update(observation, mask, reward)
        trace.append(
            {
                "mask": mask,
                "observation": next_observation,
                "reward": reward,
                "info": info,
                "terminated": terminated,
                "truncated": truncated,
            }
        )
        observation = next_observation
    return trace


def main(checkpoint: str, trace_path: str, steps: int, threads: int, cache_dir: str) -> None:
    torch.set_num_threads(threads)
    warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")
    env = gym.make(mimo_env.ENV_ID, cache_dir=cache_dir, **KWARGS)
    selector = ThompsonSelector(**SELECTOR_ARGS)
    resumed = load_run(checkpoint, env, selector)
    trace = play(env, selector, resumed.observation, steps)
    save_checkpoint(trace_path, {"trace": trace, "history": resumed.history}, kind="trace", fingerprint="")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
