"""The federated algorithms: clustered FL (IFCA) and the paper's three baselines."""

from fl_agents.algorithms.base import FederatedBase, resolve_device
from fl_agents.algorithms.centralized import Centralized
from fl_agents.algorithms.clustered import ClusteredFL
from fl_agents.algorithms.decentralized import Decentralized
from fl_agents.algorithms.fedavg import FedAvg

__all__ = ["Centralized", "ClusteredFL", "Decentralized", "FedAvg", "FederatedBase", "resolve_device"]
