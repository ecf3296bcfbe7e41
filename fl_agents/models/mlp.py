"""``mlp``: a fully connected model, the fast CPU default."""

from __future__ import annotations

import torch
from torch import nn

from fl_agents.models.base import PowerModel


class MLPPowerModel(PowerModel):
    """Flattened input ``[2 K L^2 + U]`` (scaled dB, real-entry flags, slot mask) -> 3 hidden layers -> ``U + L``.

    Args:
        k_max, num_cells, p_max: see :class:`PowerModel`.
        width: hidden units per layer (default 256).
    """

    def __init__(self, k_max: int, num_cells: int, p_max: float, width: int | None = None) -> None:
        super().__init__(k_max, num_cells, p_max)
        width = width or 256
        num_in = 2 * k_max * num_cells * num_cells + self.num_slots
        self.net = nn.Sequential(
            nn.Linear(num_in, width), nn.ReLU(),
            nn.Linear(width, width), nn.ReLU(),
            nn.Linear(width, width), nn.ReLU(),
            nn.Linear(width, self.num_slots + num_cells),
        )

    def logits(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat((x.flatten(1), mask.to(x.dtype)), dim=1))
