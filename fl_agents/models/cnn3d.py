"""``cnn3d``: a small 3-D convolutional model (two 3x3x3 conv + BN + ReLU layers and a linear read-out)."""

from __future__ import annotations

import torch
from torch import nn

from fl_agents.models.base import PowerModel


class CNN3DPowerModel(PowerModel):
    """``[B, 2, K, L, L]`` -> 2 x (Conv3d 3x3x3 pad 1, BN, ReLU) -> flatten -> Linear -> ``[B, U + L]``.

    Args:
        k_max, num_cells, p_max: see :class:`PowerModel`.
        width: channels of both conv layers (default 16).
    """

    uses_conv3d = True

    def __init__(self, k_max: int, num_cells: int, p_max: float, width: int | None = None) -> None:
        super().__init__(k_max, num_cells, p_max)
        width = width or 16
        self.features = nn.Sequential(
            nn.Conv3d(2, width, 3, padding=1, bias=False),
            nn.BatchNorm3d(width),
            nn.ReLU(),
            nn.Conv3d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm3d(width),
            nn.ReLU(),
        )
        self.head = nn.Linear(width * k_max * num_cells * num_cells, self.num_slots + num_cells)

    def logits(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))
