"""EP-selection agents: linear Thompson sampling (CMAB), uniform sampling, stable-baselines3 policies.

Every agent follows :class:`EPSelector`: ``reset(seed)``, ``select(observation) -> [N] bool mask``,
``update(observation, mask, reward)``; :func:`run_episode` plays one episode of any of them on any env.
"""

from ep_selectors.base import EPSelector
from ep_selectors.episode import episode_seeds, run_episode
from ep_selectors.sb3 import SB3Selector
from ep_selectors.thompson import ThompsonSelector
from ep_selectors.uniform import UniformSelector

__all__ = ["EPSelector", "SB3Selector", "ThompsonSelector", "UniformSelector", "episode_seeds", "run_episode"]
