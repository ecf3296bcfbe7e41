"""Power-allocation models, chosen by name: features beta~ ``[B, K, L, L]`` + slot mask -> feasible rho ``[B, U]``.

========== ================================================================ =============
name       architecture                                                     default width
========== ================================================================ =============
mlp        3 hidden fully connected layers (fast on CPU)                    256
setnet     slot-wise, equivariant over each cell's UEs (most data-efficient)  64
cnn3d      2 x (Conv3d 3x3x3, BN, ReLU) + linear read-out                   16
resnet3d18 the paper's 3D-ResNet18 (Section IV)                             64
========== ================================================================ =============
"""

from __future__ import annotations

from fl_agents.models.base import PowerModel
from fl_agents.models.cnn3d import CNN3DPowerModel
from fl_agents.models.head import conv3d_guard, feasible_allocation, input_channels
from fl_agents.models.mlp import MLPPowerModel
from fl_agents.models.resnet3d import ResNet3D18PowerModel
from fl_agents.models.setnet import SetPowerModel

_REGISTRY: dict[str, type[PowerModel]] = {
    "mlp": MLPPowerModel,
    "setnet": SetPowerModel,
    "cnn3d": CNN3DPowerModel,
    "resnet3d18": ResNet3D18PowerModel,
}
MODEL_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def build_model(name: str, *, k_max: int, num_cells: int, p_max: float, width: int | None = None) -> PowerModel:
    """A freshly initialised model (parameters drawn from torch's global RNG; see ``fl_agents.engine``).

    Args:
        name: one of :data:`MODEL_NAMES`.
        k_max: K, slots per cell.
        num_cells: L, cells per EP.
        p_max: per-AP power budget (mW).
        width: architecture width, ``None`` for the model's default.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown model name {name!r}; choose one of {MODEL_NAMES}")
    return _REGISTRY[name](k_max, num_cells, p_max, width)


__all__ = ["MODEL_NAMES", "PowerModel", "build_model", "conv3d_guard", "feasible_allocation", "input_channels"]
