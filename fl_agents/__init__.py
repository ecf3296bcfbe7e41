"""Models and the federated-learning engine: clustered FL (IFCA), FedAvg, centralized, decentralized."""
