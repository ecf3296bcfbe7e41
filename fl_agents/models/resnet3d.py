"""``resnet3d18``: the paper's 3D-ResNet18 (Section IV).

Conv3d 7x7x7 with ``w`` filters, stride 2, padding 3 -> BN -> ReLU -> max-pool 3x3x3 stride 2 padding 1 -> four
stages of two BasicBlocks with ``w, 2w, 4w, 8w`` filters (3x3x3 convs; stride 2 in the first block of stages 2-4;
projection shortcut = 1x1x1 conv + BN where the shape changes) -> adaptive average pool -> FC to ``U + L`` logits.
With ``w = 64`` (the paper's) and the paper's feature shape (K = 5, L = 4) it has 33.19 M parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from fl_agents.models.base import PowerModel


class BasicBlock3d(nn.Module):
    """Two 3x3x3 conv + BN layers with a residual connection: ``relu(bn(conv(relu(bn(conv(x))))) + short(x))``."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm3d(out_channels)
        self.conv2 = nn.Conv3d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(out_channels)
        self.relu = nn.ReLU()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv3d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm3d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet3D18PowerModel(PowerModel):
    """The paper's 3D-ResNet18 over ``[B, 2, K, L, L]`` inputs (see the module docstring).

    Args:
        k_max, num_cells, p_max: see :class:`PowerModel`.
        width: filters of the stem and first stage (default 64, the paper's); stages use ``w, 2w, 4w, 8w``.
    """

    uses_conv3d = True

    def __init__(self, k_max: int, num_cells: int, p_max: float, width: int | None = None) -> None:
        super().__init__(k_max, num_cells, p_max)
        width = width or 64
        self.stem = nn.Sequential(
            nn.Conv3d(2, width, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm3d(width),
            nn.ReLU(),
            nn.MaxPool3d(3, stride=2, padding=1),
        )
        channels = [width, 2 * width, 4 * width, 8 * width]
        stages = []
        in_channels = width
        for index, out_channels in enumerate(channels):
            stride = 1 if index == 0 else 2
            stages.append(
                nn.Sequential(
                    BasicBlock3d(in_channels, out_channels, stride), BasicBlock3d(out_channels, out_channels, 1)
                )
            )
            in_channels = out_channels
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(in_channels, self.num_slots + num_cells)

    def logits(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.stages(self.stem(x))).flatten(1))
