"""SINR and spectral efficiency of any power allocation, eq. (5), and the minimum-SE metrics of the paper.

With coefficients ``a`` [B, U] and ``b`` [B, U, U] (``b[..., m, u]``: gain of slot m's stream at slot u, in units of
the noise power) and powers ``rho`` [B, U] in mW::

    SINR_u = rho_u a_u / (sum_m rho_m b[m, u] + 1)
    SE_u   = prefactor * log2(1 + SINR_u),   prefactor = tau_d / tau_c

The per-sample minimum SE is the smallest SE over the sample's real slots (``mask``); the expected minimum SE is its
mean over samples (the paper's "expected minimum spectral efficiency"). A torch implementation of the SE must follow
these formulas exactly (``denominator = einsum("bm,bmu->bu", rho, b) + 1``).
"""

from __future__ import annotations

import numpy as np


def _check(rho: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        rho = np.asarray(rho, dtype=np.float64)
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"rho, a and b must be numeric arrays [B, U], [B, U], [B, U, U]: {error}") from error
    if a.ndim != 2:
        raise ValueError(f"a must have shape [B, U], got {a.shape}")
    if rho.shape != a.shape:
        raise ValueError(f"rho must have the shape of a {a.shape}, got {rho.shape}")
    if b.shape != (*a.shape, a.shape[1]):
        raise ValueError(f"b must have shape [B, U, U]={(*a.shape, a.shape[1])}, got {b.shape}")
    for name, x in (("rho", rho), ("a", a), ("b", b)):
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} must be finite (found NaN or inf)")
        if np.any(x < 0):
            raise ValueError(f"{name} must be >= 0, found minimum {x.min()!r}")
    return rho, a, b


def _check_mask(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise ValueError(f"mask must be a bool array, got dtype {mask.dtype}")
    if mask.shape != shape:
        raise ValueError(f"mask must have shape {shape}, got {mask.shape}")
    if not np.all(mask.any(axis=1)):
        raise ValueError("mask must have at least one real slot per sample")
    return mask


def sinr(rho: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SINR of every slot under the allocation rho.

    Args:
        rho: [B, U] float64, powers (mW), >= 0.
        a: [B, U] float64, useful-signal gains.
        b: [B, U, U] float64, ``b[..., m, u]``: slot m's stream at slot u.

    Returns:
        sinr : [B, U] float64, ``rho_u a_u / (sum_m rho_m b[m, u] + 1)``; 0 where ``rho_u a_u = 0`` (padding).
    """
    rho, a, b = _check(rho, a, b)
    return rho * a / (np.einsum("bm,bmu->bu", rho, b) + 1.0)


def spectral_efficiency(
    rho: np.ndarray, a: np.ndarray, b: np.ndarray, mask: np.ndarray, prefactor: float
) -> np.ndarray:
    """Eq. (5): SE of every slot (bit/s/Hz).

    Args:
        rho: [B, U] float64 (mW). a: [B, U]. b: [B, U, U].
        mask: [B, U] bool, True on real slots.
        prefactor: tau_d / tau_c, in (0, 1].

    Returns:
        se : [B, U] float64, ``prefactor * log2(1 + SINR_u)``; 0 on padding.
    """
    if not np.isfinite(prefactor) or not 0 < prefactor <= 1:
        raise ValueError(f"prefactor must be in (0, 1], got {prefactor!r}")
    values = sinr(rho, a, b)
    mask = _check_mask(mask, values.shape)
    return np.where(mask, prefactor * np.log2(1.0 + values), 0.0)


def min_se(rho: np.ndarray, a: np.ndarray, b: np.ndarray, mask: np.ndarray, prefactor: float) -> np.ndarray:
    """Per-sample minimum SE over the real slots: [B] float64 (bit/s/Hz)."""
    se = spectral_efficiency(rho, a, b, mask, prefactor)
    return np.where(mask, se, np.inf).min(axis=1)


def expected_min_se(rho: np.ndarray, a: np.ndarray, b: np.ndarray, mask: np.ndarray, prefactor: float) -> float:
    """Mean over samples of the per-sample minimum SE (the paper's expected minimum SE), bit/s/Hz."""
    return float(min_se(rho, a, b, mask, prefactor).mean())
