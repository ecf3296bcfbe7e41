"""Predicates shared by the validation of every public entry point (configs, env arguments, benchmark settings)."""

from __future__ import annotations

import math

import numpy as np


def is_int(value: object) -> bool:
    """True for Python and numpy integers, False for booleans and everything else."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_finite_number(value: object) -> bool:
    """True for a finite Python or numpy real number (an int too large for a float is not), False for booleans."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, (bool, np.bool_)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def plain_scalars(instance: object) -> None:
    """Turn numpy scalars in a frozen dataclass's fields (also inside tuples) into Python ones, in place.

    Configs are hashed and written as JSON (dataset cache keys, checkpoint fingerprints, benchmark identities), which
    takes Python scalars only; ``np.int64(3)`` and ``3`` must also give the same config.
    """

    def plain(value: object) -> object:
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, tuple):
            return tuple(plain(v) for v in value)
        return value

    for name in getattr(instance, "__dataclass_fields__", {}):
        object.__setattr__(instance, name, plain(getattr(instance, name)))
