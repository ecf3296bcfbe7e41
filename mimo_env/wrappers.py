"""Wrappers of ``MIMOClusteredFL-v0``: a continuous score action for SB3 agents, and TensorBoard logging.

- :class:`ScoreToSubsetWrapper` replaces the subset-mask action by ``Box(-1, 1, (N,), float32)`` scores and plays
  the top-S EPs (:func:`mimo_env.spaces.top_s_mask`), so PPO, A2C, SAC and TD3 train on the env unchanged.
- :class:`TensorBoardLogger` writes every FL round's metrics and every episode's return to TensorBoard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray
from torch.utils.tensorboard import SummaryWriter

from mimo_env.spaces import SubsetMask, top_s_mask


class ScoreToSubsetWrapper(gym.ActionWrapper):
    """Action ``scores : [N] float32`` in [-1, 1] -> the mask of the S highest scores.

    Ties are broken towards the lower EP index (a stable sort), so the played subset is a deterministic function
    of the scores. Scores outside [-1, 1] are accepted (only their order matters); non-finite scores or a wrong
    shape raise ``ValueError``. The observation is unchanged ([N, 2 + C]; SB3's ``MlpPolicy`` flattens it).

    Args:
        env: an env whose action space is a :class:`~mimo_env.spaces.SubsetMask`.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        space = env.action_space
        if not isinstance(space, SubsetMask):
            raise ValueError(f"env must have a SubsetMask action space, got {space}")
        self.budget = space.budget
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(space.num_eps,), dtype=np.float32)

    def action(self, action: NDArray[np.floating[Any]]) -> NDArray[np.int8]:
        """The top-S mask of the scores, as the ``[N] int8`` 0/1 action of the wrapped env."""
        try:
            scores = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"scores must be a numeric {self.action_space.shape} vector, got {action!r}") from error
        if scores.shape != self.action_space.shape:
            raise ValueError(f"scores must have shape {self.action_space.shape}, got shape {scores.shape}")
        return top_s_mask(scores, self.budget).astype(np.int8)


#: info keys of ``MassiveMIMOFLEnv`` the logger reads.
LOGGED_INFO_KEYS = (
    "round",
    "global_min_se",
    "selected",
    "cluster_test_min_se",
    "cluster_optimal_min_se",
    "cluster_equal_power_min_se",
    "cluster_accuracy",
    "train_loss",
    "val_loss",
)


class TensorBoardLogger(gym.Wrapper):
    """Logs every FL round (the one ``reset`` runs and every ``step``) and every episode to TensorBoard.

    The global step is the number of FL rounds this wrapper has seen, over all episodes (round 1 of every episode,
    run by ``reset``, included). Tags (T ground-truth topology clusters, N EPs):

    ======================================  ==============================================================
    tag                                     value
    ======================================  ==============================================================
    ``round/reward``                        global min-SE of eq. (12) after the round (the step reward)
    ``round/index``                         the round's index within its episode (1 = reset's round)
    ``round/cluster_accuracy``              cluster-assignment accuracy
    ``round/num_skipped``                   selected EPs whose update was non-finite and left out
    ``cluster/<t>/test_min_se``             expected min-SE of topology cluster t (test sets)
    ``cluster/<t>/optimal_min_se``          the exact max-min optimum of cluster t (reference line)
    ``cluster/<t>/equal_power_min_se``      equal power on cluster t (reference line)
    ``loss/train_mean``, ``loss/val_mean``  mean over EPs of the chosen model's train / validation loss
    ``selection/ep_<nn>``                   how many steps selected EP nn so far (reset's all-EP round
                                            not counted), over all episodes
    ``episode/return``                      sum of the episode's step rewards (at its last round)
    ``episode/length``                      number of steps of the episode
    ``episode/final_reward``                the last step's reward
    ======================================  ==============================================================

    Put it next to SB3's logging by giving both the same parent folder, e.g. SB3 ``tensorboard_log="runs/x"``
    (writes ``runs/x/PPO_1``) and ``log_dir="runs/x/env"``; ``tensorboard --logdir runs`` shows both runs.

    Args:
        env: a ``MIMOClusteredFL-v0`` env (possibly wrapped, e.g. by :class:`ScoreToSubsetWrapper`).
        log_dir: folder of the event files (created if missing).
    """

    def __init__(self, env: gym.Env, log_dir: str | Path) -> None:
        super().__init__(env)
        self.log_dir = Path(log_dir)
        self.writer = SummaryWriter(log_dir=str(self.log_dir))
        self.global_step = 0
        self.num_episodes = 0
        self.selection_counts = np.zeros(env.unwrapped.action_space.shape[0], dtype=np.int64)
        self._episode_return = 0.0
        self._episode_length = 0
        self._closed = False

    def _log_round(self, info: dict[str, Any]) -> None:
        missing = [key for key in LOGGED_INFO_KEYS if key not in info]
        if missing:
            raise ValueError(f"env info lacks the keys {missing} that TensorBoardLogger logs")
        self.global_step += 1
        step, scalar = self.global_step, self.writer.add_scalar
        scalar("round/reward", float(info["global_min_se"]), step)
        scalar("round/index", int(info["round"]), step)
        scalar("round/cluster_accuracy", float(info["cluster_accuracy"]), step)
        scalar("round/num_skipped", int(np.sum(info.get("skipped", 0))), step)
        for name in ("test_min_se", "optimal_min_se", "equal_power_min_se"):
            for t, value in enumerate(np.asarray(info[f"cluster_{name}"])):
                scalar(f"cluster/{t}/{name}", float(value), step)
        scalar("loss/train_mean", float(np.mean(info["train_loss"])), step)
        scalar("loss/val_mean", float(np.mean(info["val_loss"])), step)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        observation, info = self.env.reset(seed=seed, options=options)
        self._episode_return, self._episode_length = 0.0, 0
        self._log_round(info)
        return observation, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._log_round(info)
        self.selection_counts += np.asarray(info["selected"], dtype=bool)
        for n, count in enumerate(self.selection_counts):
            self.writer.add_scalar(f"selection/ep_{n:02d}", int(count), self.global_step)
        self._episode_return += float(reward)
        self._episode_length += 1
        if terminated or truncated:
            self.num_episodes += 1
            self.writer.add_scalar("episode/return", self._episode_return, self.global_step)
            self.writer.add_scalar("episode/length", self._episode_length, self.global_step)
            self.writer.add_scalar("episode/final_reward", float(reward), self.global_step)
            self.writer.flush()
        return observation, reward, terminated, truncated, info

    def close(self) -> None:
        """Flush and close the event file, then close the wrapped env; calling it twice is allowed."""
        if not self._closed:
            self.writer.close()
            self._closed = True
        super().close()
