"""``setnet``: a slot-wise network, permutation-equivariant over the UEs of each cell (DeepSets style).

UEs of one cell are exchangeable: relabelling them permutes the optimal allocation the same way. This model has
that symmetry built in, which makes it far more data-efficient than a flat MLP:

1. per slot u of cell l: ``h_u = phi([gains of u from all L APs (scaled dB), one-hot(l)])`` : [B, U, w];
2. per cell: ``c_l = mean of h_u over the real slots of l`` and the cell's UE count, flattened with all cells into
   a context ``z = psi([c_1..c_L, counts])`` : [B, w];
3. a second slot layer ``h'_u = phi2([h_u, c_l, z])`` and cell layer ``c'_l`` (mean of ``h'_u``);
4. slot logit ``s_u = out_slot([h'_u, c'_l, z])``, AP logit ``g_l = out_ap([c'_l, z, one-hot(l)])``.
"""

from __future__ import annotations

import torch
from torch import nn

from fl_agents.models.base import PowerModel
from fl_agents.models.dense import Dense


def _mlp(num_in: int, width: int, num_out: int) -> nn.Sequential:
    return nn.Sequential(Dense(num_in, width), nn.ReLU(), Dense(width, num_out))


class SetPowerModel(PowerModel):
    """Slot-wise, cell-equivariant model (see the module docstring).

    Args:
        k_max, num_cells, p_max: see :class:`PowerModel`.
        width: hidden units of every layer (default 64).
    """

    def __init__(self, k_max: int, num_cells: int, p_max: float, width: int | None = None) -> None:
        super().__init__(k_max, num_cells, p_max)
        w = width or 64
        self.width = w
        self.slot_in = _mlp(2 * num_cells, w, w)
        self.context = _mlp(num_cells * (w + 1), w, w)
        self.slot_mid = _mlp(3 * w, w, w)
        self.out_slot = _mlp(3 * w, w, 1)
        self.out_ap = _mlp(2 * w + num_cells, w, 1)
        self.register_buffer("cell_onehot", torch.eye(num_cells).repeat_interleave(k_max, dim=0), persistent=False)

    def _pool(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Masked mean per cell: h [B, U, w], mask [B, U] -> [B, L, w]."""
        batch = h.shape[0]
        m = mask.reshape(batch, self.num_cells, self.k_max, 1).to(h.dtype)
        total = (h.reshape(batch, self.num_cells, self.k_max, -1) * m).sum(dim=2)
        return total / m.sum(dim=2).clamp_min(1.0)

    def _per_slot(self, cells: torch.Tensor) -> torch.Tensor:
        """[B, L, w] -> [B, U, w], each slot gets its cell's vector."""
        return cells.repeat_interleave(self.k_max, dim=1)

    def logits(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        gains = x[:, 0].permute(0, 2, 1, 3).reshape(batch, self.num_slots, self.num_cells)  # [B, U, L(j)]
        onehot = self.cell_onehot.to(x.dtype).expand(batch, -1, -1)
        m = mask.unsqueeze(-1).to(x.dtype)
        h = self.slot_in(torch.cat((gains, onehot), dim=-1)) * m
        cells = self._pool(h, mask)
        counts = mask.reshape(batch, self.num_cells, self.k_max).to(x.dtype).sum(-1, keepdim=True) / self.k_max
        z = self.context(torch.cat((cells, counts), dim=-1).flatten(1))  # [B, w]
        zs = z.unsqueeze(1).expand(-1, self.num_slots, -1)
        h2 = self.slot_mid(torch.cat((h, self._per_slot(cells), zs), dim=-1)) * m
        cells2 = self._pool(h2, mask)
        slot_logits = self.out_slot(torch.cat((h2, self._per_slot(cells2), zs), dim=-1)).squeeze(-1)
        eye = torch.eye(self.num_cells, dtype=x.dtype, device=x.device).expand(batch, -1, -1)
        ap_in = torch.cat((cells2, z.unsqueeze(1).expand(-1, self.num_cells, -1), eye), dim=-1)
        ap_logits = self.out_ap(ap_in).squeeze(-1)
        return torch.cat((slot_logits, ap_logits), dim=-1)
