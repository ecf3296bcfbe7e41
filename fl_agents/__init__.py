"""Models and the federated-learning engine: clustered FL (IFCA), FedAvg, centralized, decentralized.

Example::

    from fl_agents import FLConfig, make_algorithm
    algo = make_algorithm("clustered", federation, FLConfig(model="mlp", objective="se"), device="auto", seed=0)
    report = algo.run_round(np.ones(algo.num_eps, dtype=bool))   # round 1: all EPs
    evaluation = algo.evaluate()
"""

from __future__ import annotations

import torch

from fl_agents.algorithms import Centralized, ClusteredFL, Decentralized, FedAvg, FederatedBase
from fl_agents.api import Evaluation, FederatedAlgorithm, RoundReport
from fl_agents.config import FLConfig
from fl_agents.models import MODEL_NAMES, build_model
from mimo_env.federation import Federation

_ALGORITHMS: dict[str, type[FederatedBase]] = {
    "clustered": ClusteredFL,
    "fedavg": FedAvg,
    "centralized": Centralized,
    "decentralized": Decentralized,
}
ALGORITHMS: tuple[str, ...] = tuple(_ALGORITHMS)


def make_algorithm(
    name: str, federation: Federation, config: FLConfig, device: str | torch.device = "auto", seed: int = 0
) -> FederatedBase:
    """Build a federated algorithm by name.

    Args:
        name: one of :data:`ALGORITHMS` (``"clustered"``, ``"fedavg"``, ``"centralized"``, ``"decentralized"``).
        federation: the EPs' datasets.
        config: hyperparameters.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or a ``torch.device``.
        seed: seeds model initialisation and minibatch shuffles.

    Returns:
        The algorithm, implementing :class:`fl_agents.api.FederatedAlgorithm`.
    """
    if name not in _ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; choose one of {ALGORITHMS}")
    return _ALGORITHMS[name](federation, config, device=device, seed=seed)


__all__ = [
    "ALGORITHMS",
    "MODEL_NAMES",
    "Evaluation",
    "FLConfig",
    "FederatedAlgorithm",
    "RoundReport",
    "build_model",
    "make_algorithm",
]
