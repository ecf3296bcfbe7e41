"""Base class of the power-allocation models: input transform, trunk (per architecture), feasibility head."""

from __future__ import annotations

import torch
from torch import nn

from fl_agents.models.head import conv3d_guard, feasible_allocation, input_channels


class PowerModel(nn.Module):
    """Features beta~ ``[B, K, L, L]`` and slot mask ``[B, U]`` -> feasible allocation rho ``[B, U]`` (mW).

    Subclasses implement :meth:`logits`; the transform and head are in :mod:`fl_agents.models.head`. Models with
    ``uses_conv3d = True`` run their forward pass under :func:`conv3d_guard`; on CPU their backward pass must run
    under it too (the engine does that).

    Args:
        k_max: K, slots per cell.
        num_cells: L, cells (APs) per EP.
        p_max: rho_max, the per-AP power budget (mW).
    """

    uses_conv3d = False

    def __init__(self, k_max: int, num_cells: int, p_max: float) -> None:
        super().__init__()
        self.k_max = k_max
        self.num_cells = num_cells
        self.p_max = float(p_max)
        self.num_slots = k_max * num_cells

    def logits(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Trunk: ``x : [B, 2, K, L, L]`` (see ``input_channels``), ``mask : [B, U]`` -> ``[B, U + L]``."""
        raise NotImplementedError

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Args: features : [B, K, L, L] float; mask : [B, U] bool. Returns: rho : [B, U] float (mW)."""
        if self.uses_conv3d:
            with conv3d_guard(features.device):
                out = self.logits(input_channels(features), mask)
        else:
            out = self.logits(input_channels(features), mask)
        return feasible_allocation(out[:, : self.num_slots], out[:, self.num_slots :], mask, self.p_max)
