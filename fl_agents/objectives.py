"""Spectral efficiency in torch and the two training objectives.

SE of eq. (5) with coefficients (6)-(7) in slot layout (``U`` slots, noise normalised to 1):

    SINR_u = rho_u a_u / (sum_m rho_m b[m, u] + 1),    SE_u = (tau_d / tau_c) log2(1 + SINR_u).

Objectives (per sample; an EP's loss F is the mean over its samples):

- ``"mse"`` (the paper's): ``mean over real slots u of ((rho_u - rho*_u) / p_max) ** 2``, i.e. the MSE in units of
  the power budget, so it lies in [0, 1].
- ``"se"``: the relative regret ``1 - softmin_tau(SE) / min_u SE_u(rho*)``, where both SEs use the EP's own
  *estimated* coefficients (``Split.est_a``, ``Split.est_b``, never the true ones),
  ``softmin_tau(SE) = -tau * log sum_{u real} exp(-SE_u / tau)`` (<= the hard minimum), and ``rho*`` is the label,
  which maximises the minimum SE on those same coefficients. Hence the loss is >= 0 (up to float rounding) and 0
  only at the label's optimum with a vanishing temperature; ratios of losses (the bandit's contexts) are well
  defined.
"""

from __future__ import annotations

import torch


def slot_se(rho: torch.Tensor, a: torch.Tensor, b: torch.Tensor, prefactor: float) -> torch.Tensor:
    """Per-slot SE of eq. (5).

    Args:
        rho: [..., U] float, powers (mW).
        a: [..., U] float, useful-signal gains.
        b: [..., U, U] float, ``b[m, u]``: gain of slot m's stream at slot u (``m = u``: beamforming uncertainty).
        prefactor: tau_d / tau_c.

    Returns:
        se : [..., U] float (bit/s/Hz); padding slots (rho = 0, a = 0) give 0.
    """
    interference = torch.einsum("...m,...mu->...u", rho, b)
    return prefactor * torch.log2(1.0 + rho * a / (interference + 1.0))


def min_se(se: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``[..., U]`` SE and ``[..., U]`` bool mask -> ``[...]`` minimum over real slots."""
    return se.masked_fill(~mask, torch.inf).amin(dim=-1)


def soft_min_se(se: torch.Tensor, mask: torch.Tensor, temperature: float) -> torch.Tensor:
    """``-tau log sum_{u real} exp(-SE_u / tau)`` : ``[..., U]`` -> ``[...]``, a lower bound of :func:`min_se`."""
    scaled = (-se / temperature).masked_fill(~mask, torch.finfo(se.dtype).min)
    return -temperature * torch.logsumexp(scaled, dim=-1)


def mse_loss(rho: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, p_max: float) -> torch.Tensor:
    """Per-sample MSE over real slots in units of p_max.

    Args:
        rho: [B, U] float (mW).
        labels: [B, U] float, rho* (mW), 0 on padding.
        mask: [B, U] bool.
        p_max: per-AP budget (mW).

    Returns:
        loss : [B] float.
    """
    err = ((rho - labels) / p_max).square() * mask
    return err.sum(dim=-1) / mask.sum(dim=-1).clamp_min(1)


def se_regret_loss(
    rho: torch.Tensor,
    est_a: torch.Tensor,
    est_b: torch.Tensor,
    mask: torch.Tensor,
    label_min_se: torch.Tensor,
    prefactor: float,
    temperature: float,
) -> torch.Tensor:
    """Per-sample relative regret ``1 - softmin_tau(SE(rho)) / label_min_se`` on estimated coefficients.

    Args:
        rho: [B, U] float (mW).
        est_a: [B, U] float; est_b: [B, U, U] float, the EP's estimated coefficients.
        mask: [B, U] bool.
        label_min_se: [B] float, min SE of the label on the same coefficients (> 0).
        prefactor: tau_d / tau_c.
        temperature: tau (bit/s/Hz).

    Returns:
        loss : [B] float, >= 0 up to rounding.
    """
    soft = soft_min_se(slot_se(rho, est_a, est_b, prefactor), mask, temperature)
    return 1.0 - soft / label_min_se


OBJECTIVE_FIELDS = {"mse": ("labels", "mask"), "se": ("est_a", "est_b", "mask", "label_min_se")}


class Objective:
    """The configured training loss, per sample, over a batch of gathered data (see ``DeviceSplit.gather``).

    Args:
        name: ``"mse"`` or ``"se"``.
        p_max: per-AP budget (mW), the MSE's unit.
        prefactor: tau_d / tau_c.
        temperature: tau of the smooth minimum (``"se"`` only).
    """

    def __init__(self, name: str, p_max: float, prefactor: float, temperature: float) -> None:
        if name not in OBJECTIVE_FIELDS:
            raise ValueError(f"unknown objective {name!r}; choose one of {tuple(OBJECTIVE_FIELDS)}")
        self.name = name
        self.p_max = float(p_max)
        self.prefactor = float(prefactor)
        self.temperature = float(temperature)

    @property
    def fields(self) -> tuple[str, ...]:
        """The data fields the loss reads (besides the model input)."""
        return OBJECTIVE_FIELDS[self.name]

    def __call__(self, rho: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """``rho : [..., B, U]`` and the batch's fields (same leading shape) -> per-sample loss ``[..., B]``."""
        if self.name == "mse":
            return mse_loss(rho, batch["labels"], batch["mask"], self.p_max)
        return se_regret_loss(
            rho, batch["est_a"], batch["est_b"], batch["mask"], batch["label_min_se"], self.prefactor, self.temperature
        )
