"""The benchmark runner: every ``(method, sigma2, seed)`` run of a :class:`BenchmarkSettings`, resumable.

Every method is played as one episode of an env with the ``MIMOClusteredFL-v0`` API, so all runs are recorded
from the same ``info`` keys:

- ``clustered-uniform``, ``clustered-cmab``, ``clustered-sb3``: ``gym.make("MIMOClusteredFL-v0", ...)`` driven by
  :class:`~ep_selectors.UniformSelector`, :class:`~ep_selectors.ThompsonSelector` or
  :class:`~ep_selectors.SB3Selector` through :func:`ep_selectors.run_episode` (exactly what users benchmark);
- ``centralized``, ``decentralized``, ``fedavg``: :class:`~mimo_env.experiments.baseline_env.BaselineEnv`, i.e.
  ``fl_agents.make_algorithm(...)`` with the all-EP mask in every round.

Round 1 (run by ``reset``) trains all EPs for every method. Seed ``k`` is the data seed of the federation and the
episode seed of the run, so all methods of one ``(sigma2, seed)`` train on the same datasets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from ep_selectors import EPSelector, SB3Selector, ThompsonSelector, UniformSelector, run_episode
from mimo_env import ENV_ID
from mimo_env.config import preset
from mimo_env.experiments.baseline_env import BaselineEnv
from mimo_env.experiments.settings import BASELINE_METHODS, BenchmarkSettings
from mimo_env.experiments.store import ResultsStore, RunResult


def make_method_env(method: str, sigma2: float, seed: int, settings: BenchmarkSettings) -> gym.Env:
    """The env a method's run is played on (see the module docstring).

    Args:
        method: a benchmark method.
        sigma2: the CSI-noise variance of the federation (the preset's noisy-label schedule applies).
        seed: the data seed.
        settings: preset, rounds, model, objective, EP budget, device, dataset cache.
    """
    if method in BASELINE_METHODS:
        return BaselineEnv(
            method,
            preset(settings.preset, sigma2=sigma2),
            settings.fl_config(),
            settings.rounds,
            data_seed=seed,
            device=settings.device,
            cache_dir=settings.cache_dir,
        )
    width = {} if settings.width is None else {"width": settings.width}
    return gym.make(
        ENV_ID,
        preset=settings.preset,
        sigma2=sigma2,
        model=settings.model,
        objective=settings.objective,
        ep_budget=settings.ep_budget,
        max_rounds=settings.rounds,
        device=settings.device,
        data_seed=seed,
        cache_dir=settings.cache_dir,
        **width,
    )


def make_selector(method: str, env: gym.Env, settings: BenchmarkSettings) -> EPSelector:
    """The EP selector of a clustered method on ``env`` (a ``MIMOClusteredFL-v0``), with default parameters."""
    num_eps, context_dim = env.observation_space.shape
    if method == "clustered-uniform":
        return UniformSelector(num_eps, settings.ep_budget)
    if method == "clustered-cmab":
        return ThompsonSelector(num_eps, context_dim, settings.ep_budget)
    if method == "clustered-sb3":
        return SB3Selector.load(settings.sb3_model, settings.ep_budget, algo=settings.sb3_algo)
    raise ValueError(
        f"method {method!r} has no EP selector; clustered methods are "
        "'clustered-uniform', 'clustered-cmab', 'clustered-sb3'"
    )


def play_rounds(method: str, env: gym.Env, settings: BenchmarkSettings, seed: int) -> list[dict[str, Any]]:
    """Play one episode of ``method`` on ``env`` and return the ``info`` of every round, round 1 first.

    Returns:
        ``settings.rounds`` info dicts (``MassiveMIMOFLEnv``'s keys), the one of ``reset`` included.
    """
    if method in BASELINE_METHODS:
        _, info = env.reset(seed=seed)
        infos = [info]
        all_eps = np.ones(env.action_space.shape, dtype=np.int8)
        truncated = False
        while not truncated:
            _, _, _, truncated, info = env.step(all_eps)
            infos.append(info)
        return infos
    records = run_episode(env, make_selector(method, env, settings), seed=seed)
    return [records[0]["reset_info"], *records]


def run_method(method: str, sigma2: float, seed: int, settings: BenchmarkSettings) -> RunResult:
    """Train ``method`` for ``settings.rounds`` rounds on the federation of ``(sigma2, seed)`` and record it."""
    start = time.perf_counter()
    env = make_method_env(method, sigma2, seed, settings)
    try:
        infos = play_rounds(method, env, settings, seed)
    finally:
        env.close()
    if len(infos) != settings.rounds:
        raise RuntimeError(f"{method} ran {len(infos)} rounds, expected {settings.rounds}")
    return RunResult(
        method=method,
        sigma2=float(sigma2),
        seed=int(seed),
        settings=settings.to_dict(),
        identity=settings.identity(),
        cluster_test_min_se=np.stack([i["cluster_test_min_se"] for i in infos]),
        reward=np.array([i["global_min_se"] for i in infos], dtype=np.float64),
        cluster_accuracy=np.array([i["cluster_accuracy"] for i in infos], dtype=np.float64),
        selected=np.stack([np.asarray(i["selected"], dtype=bool) for i in infos]),
        optimal_min_se=np.asarray(infos[-1]["cluster_optimal_min_se"], dtype=np.float64),
        equal_power_min_se=np.asarray(infos[-1]["cluster_equal_power_min_se"], dtype=np.float64),
        wall_time_s=time.perf_counter() - start,
    )


@dataclass(frozen=True)
class BenchmarkOutcome:
    """What one invocation of :func:`run_benchmark` did.

    Attributes:
        ran: the ``(method, sigma2, seed)`` runs trained by this invocation, in order.
        skipped: the runs already finished in the output directory, left untouched.
    """

    ran: tuple[tuple[str, float, int], ...]
    skipped: tuple[tuple[str, float, int], ...]


def run_benchmark(settings: BenchmarkSettings, out_dir: str | Path, progress: bool = True) -> BenchmarkOutcome:
    """Run every unfinished run of ``settings`` and store each as soon as it finishes.

    The directory is first bound to the settings' identity (a directory holding another experiment is refused
    before any training); runs whose result file exists are skipped, so an interrupted benchmark resumes.

    Args:
        settings: the validated settings.
        out_dir: the output directory (created when missing).
        progress: show a tqdm bar over the runs.

    Returns:
        Which runs ran and which were skipped.
    """
    store = ResultsStore(out_dir)
    store.claim(settings.identity())
    runs = settings.runs()
    skipped = tuple(r for r in runs if store.has(*r))
    todo = [r for r in runs if not store.has(*r)]
    with tqdm(total=len(runs), initial=len(skipped), disable=not progress, desc="benchmark", unit="run") as bar:
        for method, sigma2, seed in todo:
            bar.set_postfix_str(f"{method} σ²={sigma2:g} seed={seed}")
            store.save(run_method(method, sigma2, seed, settings))
            bar.update()
    return BenchmarkOutcome(ran=tuple(todo), skipped=skipped)
