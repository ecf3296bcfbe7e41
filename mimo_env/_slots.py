"""Compaction of the UE-slot axis: move each sample's real slots first and drop the all-padding tail.

Batched solvers cost grows with the slot count (``U^2`` or ``U^3``); a topology with few UEs per cell has many
padding slots, so the heavy kernels run on the compact ``U_c = max_b (real slots of b)`` axis and scatter back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SlotCompaction:
    """Permutation of the slot axis putting each sample's real slots first (in their original order).

    Attributes:
        order: [B, U_c] int64, original slot index of each compact slot.
        real: [B, U_c] bool, True where the compact slot is real (False for the padding that remains).
        num_slots: U, the original slot count.
    """

    order: np.ndarray
    real: np.ndarray
    num_slots: int

    @classmethod
    def from_cell(cls, cell: np.ndarray) -> SlotCompaction:
        """Build from cell [B, U] int (-1 on padding)."""
        order = np.argsort(cell < 0, axis=1, kind="stable")
        size = int((cell >= 0).sum(axis=1).max(initial=0))
        order = order[:, :size]
        return cls(order=order, real=np.take_along_axis(cell, order, axis=1) >= 0, num_slots=cell.shape[1])

    def take(self, x: np.ndarray, axis: int) -> np.ndarray:
        """Select the compact slots along ``axis`` of x [B, ...] (the slot axis of size U)."""
        shape = [1] * x.ndim
        shape[0], shape[axis] = self.order.shape
        return np.take_along_axis(x, self.order.reshape(shape), axis=axis)

    def scatter_vector(self, x: np.ndarray) -> np.ndarray:
        """[B, U_c] -> [B, U], 0 on the slots that were dropped or are padding."""
        out = np.zeros((x.shape[0], self.num_slots), dtype=x.dtype)
        np.put_along_axis(out, self.order, np.where(self.real, x, 0), axis=1)
        return out

    def scatter_matrix(self, x: np.ndarray) -> np.ndarray:
        """[B, U_c, U_c] -> [B, U, U], 0 outside real-by-real pairs."""
        batch = x.shape[0]
        out = np.zeros((batch, self.num_slots, self.num_slots), dtype=x.dtype)
        pair = self.real[:, :, None] & self.real[:, None, :]
        rows = np.arange(batch)[:, None, None]
        out[rows, self.order[:, :, None], self.order[:, None, :]] = np.where(pair, x, 0)
        return out
