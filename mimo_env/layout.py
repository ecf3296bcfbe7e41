"""UE-slot layout shared by every module.

A sample has ``U = L * K_max`` slots; slot ``u = l * K_max + k`` is the k-th UE of cell l (served by AP l). Slots
beyond a cell's UE count are padding. Three layouts of the same numbers appear in the package:

- features ``[..., K_max, L, L]``: entry ``[k, l, j]`` is beta~ from AP j to the k-th UE of cell l (the model input);
- gains ``[..., L, U]``: entry ``[j, u]`` is beta~ from AP j to slot u (the physics layout);
- grid ``[..., K_max, L]`` (labels rho*) versus slots ``[..., U]`` (allocations, SINR, SE).

All helpers work on numpy arrays and torch tensors alike (they only use ``reshape`` and axis swaps).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

ArrayT = TypeVar("ArrayT")


def slot_cells(ues_per_cell: Sequence[int], k_max: int) -> np.ndarray:
    """Serving cell of each slot, ``-1`` for padding.

    Returns:
        cell : [U] int64, ``U = len(ues_per_cell) * k_max``.
    """
    if any(k > k_max for k in ues_per_cell):
        raise ValueError(f"a cell has more UEs than K_max={k_max}: ues_per_cell={tuple(ues_per_cell)}")
    num_cells = len(ues_per_cell)
    k = np.arange(k_max)
    cell = np.repeat(np.arange(num_cells), k_max)
    real = (k[None, :] < np.asarray(ues_per_cell)[:, None]).reshape(-1)
    return np.where(real, cell, -1).astype(np.int64)


def grid_to_slots(grid: ArrayT) -> ArrayT:
    """``[..., K_max, L]`` -> ``[..., U]`` with ``u = l * K_max + k``."""
    *lead, k_max, num_cells = grid.shape
    return grid.swapaxes(-1, -2).reshape(*lead, num_cells * k_max)


def slots_to_grid(slots: ArrayT, k_max: int) -> ArrayT:
    """``[..., U]`` -> ``[..., K_max, L]``, the inverse of :func:`grid_to_slots`."""
    *lead, num_slots = slots.shape
    return slots.reshape(*lead, num_slots // k_max, k_max).swapaxes(-1, -2)


def features_to_gains(features: ArrayT) -> ArrayT:
    """``[..., K_max, L, L]`` (entry ``[k, l, j]``) -> gains ``[..., L, U]`` (entry ``[j, l * K_max + k]``)."""
    *lead, k_max, num_cells, _ = features.shape
    moved = features.swapaxes(-1, -3)  # [..., j, l, k]
    return moved.reshape(*lead, num_cells, num_cells * k_max)


def gains_to_features(gains: ArrayT, k_max: int) -> ArrayT:
    """``[..., L, U]`` -> ``[..., K_max, L, L]``, the inverse of :func:`features_to_gains`."""
    *lead, num_cells, num_slots = gains.shape
    return gains.reshape(*lead, num_cells, num_slots // k_max, k_max).swapaxes(-1, -3)
