"""Checkpoint and resume a run: the environment's state and the selector's in one verified file.

A *run* is an env (``MIMOClusteredFL-v0`` or a benchmark :class:`~mimo_env.experiments.baseline_env.BaselineEnv`)
driven by an optional EP selector. :func:`save_run` stores ``env.unwrapped.get_state()``, ``selector.state_dict()``
and an optional history (e.g. the ``info`` of every round so far) in one :mod:`mimo_env.checkpoint` file (atomic,
SHA-256 verified, loaded with ``torch.load(weights_only=True)``), together with the fingerprint of the run's setup
(:func:`run_setup`). :func:`load_run` refuses a file of another setup with an error naming the first difference
(e.g. ``scenario.sigma2 is 0.0 in the checkpoint but 0.0005 now``), then restores both so that the next ``step``
and the next ``selector.select`` continue the run exactly (bit for bit on the CPU).

Example::

    env = gym.make("MIMOClusteredFL-v0", preset="tiny", model="mlp", max_rounds=30)
    selector = ThompsonSelector(6, 5, budget=3)
    if Path("run.ckpt").exists():
        resumed = load_run("run.ckpt", env, selector)
        obs = resumed.observation
    else:
        obs, _ = env.reset(seed=0)
        selector.reset(1)
    truncated = False
    while not truncated:
        mask = selector.select(obs)
        next_obs, reward, _, truncated, info = env.step(mask)
        selector.update(obs, mask, reward)
        obs = next_obs
        save_run("run.ckpt", env, selector)  # every round; an interrupted run resumes from the last one

The helpers :func:`setup_fields`, :func:`check_setup`, :func:`generator_state` and :func:`restore_generator` are
shared by the envs' and selectors' ``get_state``/``set_state`` (``state_dict``/``load_state_dict``) methods.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker

from mimo_env.checkpoint import canonical_fingerprint, first_difference, load_checkpoint, save_checkpoint

#: The ``kind`` of a run checkpoint (see :mod:`mimo_env.checkpoint`).
RUN_KIND = "mimo-fl-run"


def setup_fields(scenario: Any, fl_config: Any, **settings: Any) -> dict[str, Any]:
    """The flat, JSON-normalised description of a run's setup.

    Args:
        scenario: the :class:`~mimo_env.config.ScenarioConfig`; its fields become ``scenario.<field>``.
        fl_config: the :class:`~fl_agents.FLConfig`; its fields become ``fl.<field>``.
        **settings: other settings (``env``, ``data_seed``, ``ep_budget``, ``max_rounds``, ...), kept as named.

    Returns:
        ``{name: value}`` with tuples as lists (the form a checkpoint gives back), so two setups compare with ``==``.
    """
    flat = {f"scenario.{k}": v for k, v in dataclasses.asdict(scenario).items()}
    flat.update({f"fl.{k}": v for k, v in dataclasses.asdict(fl_config).items()})
    flat.update(settings)
    return json.loads(canonical_fingerprint(flat))


def check_setup(stored: object, current: Mapping[str, Any], what: str) -> None:
    """``ValueError`` naming the first differing setting when ``stored`` is not the ``current`` setup.

    Args:
        stored: the setup found in a state.
        current: the setup of the object the state is loaded into.
        what: the object's name, for the message (e.g. ``"MassiveMIMOFLEnv"``).
    """
    if not isinstance(stored, Mapping):
        raise ValueError(f"{what} state has no setup (got {type(stored).__name__}); not a state of this object")
    key = first_difference(stored, current)
    if key is not None:
        raise ValueError(
            f"{what} state was saved for another setup: {key} is {stored.get(key)!r} in the "
            f"state but {current.get(key)!r} here"
        )


def generator_state(generator: np.random.Generator) -> dict[str, Any]:
    """The state of a numpy generator's bit generator (a plain dict of ints and strings)."""
    return generator.bit_generator.state


def restore_generator(generator: np.random.Generator, state: object, name: str) -> None:
    """Set ``generator`` to a state of :func:`generator_state`, or ``ValueError`` naming ``name`` if malformed.

    The generator is left unchanged when the state is refused.
    """
    if not isinstance(state, Mapping):
        raise ValueError(f"{name} must be a numpy bit-generator state dict, got {state!r}")
    probe = np.random.default_rng()
    try:
        probe.bit_generator.state = dict(state)
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"{name} is not a valid {type(probe.bit_generator).__name__} state: {error}") from error
    generator.bit_generator.state = probe.bit_generator.state


def run_setup(env: gym.Env, selector: Any = None) -> dict[str, Any]:
    """The fingerprint of a run: the env's ``run_setup()`` plus the selector's type and parameters.

    Args:
        env: the env (wrapped or not); ``env.unwrapped`` must have ``run_setup``, ``get_state`` and ``set_state``.
        selector: an EP selector with ``state_dict``/``load_state_dict``, or None (a run without selector).

    Returns:
        Flat ``{setting: value}``; the selector's parameters are ``selector.<name>``.
    """
    base = env.unwrapped
    for method in ("run_setup", "get_state", "set_state"):
        if not callable(getattr(base, method, None)):
            raise ValueError(f"env {type(base).__name__} cannot be checkpointed: it has no {method}() method")
    setup = dict(base.run_setup())
    if selector is None:
        setup["selector"] = None
        return setup
    if not callable(getattr(selector, "state_dict", None)) or not callable(getattr(selector, "load_state_dict", None)):
        raise ValueError(f"selector {type(selector).__name__} cannot be checkpointed: it has no state_dict()")
    state = selector.state_dict()
    setup["selector"] = state["selector"]
    setup.update({f"selector.{k}": v for k, v in state["params"].items()})
    return json.loads(canonical_fingerprint(setup))


@dataclass(frozen=True)
class ResumedRun:
    """What :func:`load_run` gives back.

    Attributes:
        observation: the env's observation after the last round of the checkpoint (what the selector acts on next),
            or None when the checkpoint was taken before the first ``reset``.
        history: the history stored by :func:`save_run` (e.g. one ``info`` dict per round so far).
    """

    observation: np.ndarray | None
    history: list[Any]


def save_run(path: str | os.PathLike, env: gym.Env, selector: Any = None, history: Sequence[Any] = ()) -> Path:
    """Write the run's state to ``path`` atomically (a failed save leaves an existing file intact).

    Args:
        path: the checkpoint file.
        env: the env (wrapped or not).
        selector: the EP selector driving it, or None.
        history: anything :mod:`mimo_env.checkpoint` can store, given back by :func:`load_run` (e.g. the ``info``
            of every round, for a complete report after resuming).

    Returns:
        The path written.
    """
    setup = run_setup(env, selector)
    state = {
        "env": env.unwrapped.get_state(),
        "selector": None if selector is None else selector.state_dict(),
        "history": list(history),
    }
    return save_checkpoint(path, state, kind=RUN_KIND, fingerprint=canonical_fingerprint(setup))


def load_run(path: str | os.PathLike, env: gym.Env, selector: Any = None) -> ResumedRun:
    """Restore a run saved by :func:`save_run` into ``env`` and ``selector`` (built with the same setup).

    After it, ``env.step`` (no ``reset``: Gymnasium's order check is satisfied) and ``selector.select`` continue
    the run exactly where it was saved.

    Args:
        path: the checkpoint file.
        env: a fresh or used env of the same setup (wrapped or not).
        selector: a selector of the same type and parameters as the saved one (None if the run had none).

    Returns:
        The observation to act on next and the saved history.

    Raises:
        CheckpointError: the file is missing, truncated, corrupted, not a run checkpoint, or of another setup (the
            message names the first differing setting). Nothing is changed then.
    """
    fingerprint = canonical_fingerprint(run_setup(env, selector))
    state = load_checkpoint(path, kind=RUN_KIND, fingerprint=fingerprint)
    previous = None if selector is None else selector.state_dict()
    if selector is not None:
        selector.load_state_dict(state["selector"])
    try:
        env.unwrapped.set_state(state["env"])
    except BaseException:
        if selector is not None:
            selector.load_state_dict(previous)
        raise
    observation = state["env"].get("observation")
    if observation is not None:
        _mark_reset(env, np.array(observation))
    return ResumedRun(observation=None if observation is None else np.array(observation), history=state["history"])


def _mark_reset(env: gym.Env, observation: np.ndarray) -> None:
    """Tell the wrappers of ``gym.make`` that the restored episode was reset (it was, before it was saved):
    ``OrderEnforcing`` would refuse ``step`` and ``PassiveEnvChecker``'s first-step check compares with the
    observation of a ``reset`` it has not seen."""
    layer = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, OrderEnforcing):
            layer._has_reset = True
        if isinstance(layer, PassiveEnvChecker) and not layer.checked_step and layer._previous_data is None:
            layer._previous_data = (observation, {})
        layer = layer.env
