"""Input transform and feasibility head shared by every power-allocation model.

Input transform (:func:`input_channels`): each entry beta~ of the ``[B, K, L, L]`` features becomes
``(10 log10(max(beta~, 1e-12)) - DB_CENTER) / DB_SCALE`` (dB, centred at -30 dB and scaled by 15 dB, so typical
links fall in about [-3, 3]) and a second channel flags real entries (``beta~ != 0``); padding entries are 0 in both.

Feasibility head (:func:`feasible_allocation`): from slot logits ``s : [B, U]`` and AP logits ``g : [B, L]``,

    rho_u = p_max * exp(g_l - max_{l' with UEs} g_l') * softmax_{u' in AP l, real}(s)_u   for a real slot u of AP l,

and exactly 0 on padding. Hence rho >= 0, each AP's sum is ``p_max * exp(g_l - max g) <= p_max``, and at least one
AP transmits at full power, which the max-min optimum of problem (8) always does (scaling all powers up raises
every SINR while the noise term is positive).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import torch

DB_CENTER = -30.0
DB_SCALE = 15.0
GAIN_FLOOR = 1e-12


def input_channels(features: torch.Tensor) -> torch.Tensor:
    """The model input of :mod:`this module's docstring <fl_agents.models.head>`.

    Args:
        features: [B, K, L, L] float, beta~ (linear, noise-normalised), 0 on padding.

    Returns:
        x : [B, 2, K, L, L] float, (scaled dB, real-entry indicator), both 0 on padding.
    """
    real = features != 0  # NaN counts as real, so corrupt inputs surface as NaN outputs instead of padding
    db = (10.0 * torch.log10(features.clamp_min(GAIN_FLOOR)) - DB_CENTER) / DB_SCALE
    return torch.stack((torch.where(real, db, torch.zeros_like(db)), real.to(features.dtype)), dim=1)


def feasible_allocation(
    slot_logits: torch.Tensor, ap_logits: torch.Tensor, mask: torch.Tensor, p_max: float
) -> torch.Tensor:
    """Map unconstrained logits to a feasible allocation (formula in the module docstring).

    Args:
        slot_logits: [B, U] float, ``U = L * K`` in slot layout (slot ``u = l * K + k``).
        ap_logits: [B, L] float.
        mask: [B, U] bool, True on real slots.
        p_max: rho_max, the per-AP budget (mW).

    Returns:
        rho : [B, U] float (mW), >= 0, per-AP sums <= p_max, exactly 0 where ``mask`` is False.
    """
    batch, num_cells = ap_logits.shape
    very_negative = torch.finfo(slot_logits.dtype).min
    mask_grid = mask.reshape(batch, num_cells, -1)  # [B, L, K]
    logits = slot_logits.reshape(batch, num_cells, -1).masked_fill(~mask_grid, very_negative)
    share = torch.log_softmax(logits, dim=-1)  # [B, L, K]
    ap_real = mask_grid.any(dim=-1)  # [B, L]
    gated = ap_logits.masked_fill(~ap_real, very_negative)
    scale = gated - gated.max(dim=-1, keepdim=True).values  # [B, L], 0 for the loudest AP
    rho = p_max * torch.exp(scale.unsqueeze(-1) + share) * mask_grid
    return rho.reshape(batch, -1)


def conv3d_guard(device: torch.device) -> contextlib.AbstractContextManager:
    """Context under which a Conv3d forward or backward pass on ``device`` is safe.

    On CPU, PyTorch's oneDNN (mkldnn) Conv3d hangs or crashes on some AVX-512 CPUs, so oneDNN is disabled; on
    other devices this is a no-op. Backward passes select their kernel again, so they need the guard too.
    """
    if device.type == "cpu":
        return _onednn_disabled()
    return contextlib.nullcontext()


@contextlib.contextmanager
def _onednn_disabled() -> Iterator[None]:
    """``torch.backends.mkldnn.flags(enabled=False)``, without its irrelevant warning about Intel-GPU TF32."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")
        with torch.backends.mkldnn.flags(enabled=False):
            yield
