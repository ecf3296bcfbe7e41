"""Massive-MIMO network simulator, federated datasets, metrics and the ``MIMOClusteredFL-v0`` Gymnasium env."""

from gymnasium.envs.registration import register, registry

from mimo_env.config import PRESETS, ScenarioConfig, TopologyCluster, preset

ENV_ID = "MIMOClusteredFL-v0"

if ENV_ID not in registry:
    register(id=ENV_ID, entry_point="mimo_env.env:MassiveMIMOFLEnv")

__all__ = ["ENV_ID", "PRESETS", "ScenarioConfig", "TopologyCluster", "preset"]
