"""``mlp``: a fully connected model, the fast CPU default."""

from __future__ import annotations

import torch
from torch import nn

from fl_agents.models.base import PowerModel
from fl_agents.models.dense import Dense


class MLPPowerModel(PowerModel):
    """Flattened input ``[2 K L^2 + U]`` (scaled dB, real-entry flags, slot mask) -> 3 hidden layers -> ``U + L``.

    Layers are :class:`~fl_agents.models.dense.Dense` (input-major weights, cheaper under ``vmap``).

    Args:
        k_max, num_cells, p_max: see :class:`PowerModel`.
        width: hidden units per layer (default 256).
    """

    def __init__(self, k_max: int, num_cells: int, p_max: float, width: int | None = None) -> None:
        super().__init__(k_max, num_cells, p_max)
        width = width or 256
        num_in = 2 * k_max * num_cells * num_cells + self.num_slots
        self.net = nn.Sequential(
            Dense(num_in, width),
            nn.ReLU(),
            Dense(width, width),
            nn.ReLU(),
            Dense(width, width),
            nn.ReLU(),
            Dense(width, self.num_slots + num_cells),
        )

    def logits(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat((x.flatten(1), mask.to(x.dtype)), dim=1))
