"""Channel model of eqs. (1)-(7): UE drops, large-scale fading and the SE coefficients ``a``, ``b``.

Geometry. An EP covers a ``cells_per_side x cells_per_side`` grid of square cells of side ``cell_side_m``; cell
``l = row * cells_per_side + col`` has its AP at the cell centre. Each UE of cell l is dropped uniformly in that
cell, at least ``min_distance_m`` from its AP. Distances use wrap-around: the AP-UE distance is the smallest over
the 9 translates of the EP's ``(cells_per_side * cell_side_m)^2`` square (the angle is that of the same translate).

Large-scale fading, eq. (1), in normalised units (gains divided by the noise power, powers in mW)::

    beta~ = 10 ** ((Upsilon - 10 alpha log10(d / 1 km) + F - noise_dBm) / 10),   F ~ N(0, shadowing_std_db^2)

with F independent per AP-UE link.

Coefficients (6)-(7) with MR precoding ``psi = h_hat / ||h_hat||``, ``h_hat = h + n``, ``n ~ CN(0, sigma2 I_M)``.
``a[u] = |E{psi_u^H h_u}|^2`` (slot u's channel from its serving AP); ``b[m, u] = E{|psi_m^H h_{cell(m), u}|^2}``
for ``m != u`` and ``b[u, u] = E{|psi_u^H h_u|^2} - a[u]``. For uncorrelated Rayleigh fading ``h ~ CN(0, beta~ I_M)``
they are exact in closed form (:func:`se_coefficients`); :func:`monte_carlo_se_coefficients` estimates them by
averaging over channel realizations, for ``R = beta~ I`` and for the local-scattering model
(:func:`local_scattering_correlation`).

Slots follow :mod:`mimo_env.layout`: slot ``u = l * K_max + k`` is the k-th UE of cell l; padding slots have
``cell = -1`` and zero gains, angles and coefficients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, jv

from mimo_env._slots import SlotCompaction
from mimo_env.config import ScenarioConfig
from mimo_env.layout import slot_cells


@dataclass(frozen=True)
class ChannelDraw:
    """A batch of UE drops of one topology and their large-scale fading.

    Attributes:
        gains: [B, L, U] float64, beta~ from AP j to slot u (normalised by the noise power); 0 on padding.
        cell: [U] int64, serving AP of each slot, -1 on padding (the same for every sample of the topology).
        angles: [B, L, U] float64, azimuth (rad) of slot u seen from AP j (nearest wrap-around translate); 0 on
            padding. Used by the local-scattering correlation model.
        distances: [B, L, U] float64, wrap-around AP-UE distance (m); 0 on padding.
    """

    gains: np.ndarray
    cell: np.ndarray
    angles: np.ndarray
    distances: np.ndarray


def ap_positions(config: ScenarioConfig) -> np.ndarray:
    """AP positions (cell centres) as complex numbers ``x + iy`` (m).

    Returns:
        positions : [L] complex128, AP l at the centre of cell ``l = row * cells_per_side + col``.
    """
    row, col = np.divmod(np.arange(config.num_cells), config.cells_per_side)
    return (col + 0.5) * config.cell_side_m + 1j * (row + 0.5) * config.cell_side_m


def drop_ues(config: ScenarioConfig, cell: np.ndarray, batch: int, rng: np.random.Generator) -> np.ndarray:
    """Drop the UEs of every real slot uniformly in their own cell, at least ``min_distance_m`` from its AP.

    Rejection sampling: too-close drops are redrawn until none is left.

    Args:
        config: the scenario (geometry).
        cell: [U] int64, serving cell of each slot, -1 on padding.
        batch: B, number of independent drops.
        rng: the random generator.

    Returns:
        positions : [B, U] complex128, UE positions (m); 0 on padding.
    """
    cell = np.asarray(cell)
    real = cell >= 0
    centres = ap_positions(config)[cell[real]]
    side = config.cell_side_m
    shape = (batch, int(real.sum()))
    offsets = np.empty(shape, dtype=np.complex128)
    todo = np.ones(shape, dtype=bool)
    while todo.any():
        count = int(todo.sum())
        draw = (rng.uniform(-0.5, 0.5, count) + 1j * rng.uniform(-0.5, 0.5, count)) * side
        offsets[todo] = draw
        todo[todo] = np.abs(draw) < config.min_distance_m
    positions = np.zeros((batch, cell.size), dtype=np.complex128)
    positions[:, real] = centres + offsets
    return positions


def wrapped_geometry(config: ScenarioConfig, positions: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wrap-around distances and angles from every AP to every UE.

    The distance is the smallest over the 9 translates ``AP + (dx, dy) * side_ep``, ``dx, dy in {-1, 0, 1}``, of the
    EP's square of side ``side_ep = cells_per_side * cell_side_m``; the angle is that of the UE seen from the nearest
    translate.

    Args:
        config: the scenario (geometry).
        positions: [B, U] complex128, UE positions (m).
        cell: [U] int64, -1 on padding.

    Returns:
        (distances, angles): each [B, L, U] float64 (m, rad); 0 on padding.
    """
    side = config.cells_per_side * config.cell_side_m
    shifts = np.array([dx + 1j * dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)]) * side
    translates = ap_positions(config)[:, None] + shifts[None, :]  # [L, 9]
    diff = positions[:, None, :, None] - translates[None, :, None, :]  # [B, L, U, 9]
    nearest = np.argmin(np.abs(diff), axis=-1)
    vec = np.take_along_axis(diff, nearest[..., None], axis=-1)[..., 0]
    real = np.asarray(cell) >= 0
    distances = np.where(real, np.abs(vec), 0.0)
    angles = np.where(real, np.angle(vec), 0.0)
    return distances, angles


def large_scale_gains(
    config: ScenarioConfig, distances: np.ndarray, cell: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Normalised large-scale fading of eq. (1) with independent log-normal shadowing per link.

    ``beta~ = 10 ** ((Upsilon - 10 alpha log10(d / 1000 m) + F - noise_dBm) / 10)``, ``F ~ N(0, std^2)`` dB.

    Args:
        config: the scenario (path loss, shadowing, noise).
        distances: [B, L, U] float64, AP-UE distances (m), > 0 on real slots.
        cell: [U] int64, -1 on padding.
        rng: the random generator (draws the shadowing of every link, padding included, for a fixed stream).

    Returns:
        gains : [B, L, U] float64, 0 on padding.
    """
    real = np.asarray(cell) >= 0
    shadow = rng.normal(0.0, config.shadowing_std_db, size=distances.shape)
    safe = np.where(real, distances, 1000.0)
    gain_db = (
        config.pathloss_at_1km_db
        - 10.0 * config.pathloss_exponent * np.log10(safe / 1000.0)
        + shadow
        - config.noise_power_dbm
    )
    return np.where(real, 10.0 ** (gain_db / 10.0), 0.0)


def draw_channels(
    config: ScenarioConfig, ues_per_cell: Sequence[int], batch: int, rng: np.random.Generator
) -> ChannelDraw:
    """Draw ``batch`` fresh drops of one topology: positions, wrap-around geometry and large-scale fading.

    Args:
        config: the scenario.
        ues_per_cell: UEs in each of the L cells (at most ``config.k_max`` each).
        batch: B >= 1.
        rng: the random generator.

    Returns:
        A :class:`ChannelDraw` with gains [B, L, U], cell [U], angles and distances [B, L, U].
    """
    if len(ues_per_cell) != config.num_cells:
        raise ValueError(f"ues_per_cell must have {config.num_cells} entries, got {tuple(ues_per_cell)!r}")
    if not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    cell = slot_cells(ues_per_cell, config.k_max)
    positions = drop_ues(config, cell, int(batch), rng)
    distances, angles = wrapped_geometry(config, positions, cell)
    gains = large_scale_gains(config, distances, cell, rng)
    return ChannelDraw(gains=gains, cell=cell, angles=angles, distances=distances)


# ----- SE coefficients -------------------------------------------------------------------------------------------
def mr_gain_factor(antennas: int) -> float:
    """``g_M = (Gamma(M + 1/2) / Gamma(M))^2 = (E||h|| / sqrt(beta))^2`` for ``h ~ CN(0, beta I_M)``; ~ M - 1/4."""
    if not isinstance(antennas, (int, np.integer)) or isinstance(antennas, bool) or antennas < 1:
        raise ValueError(f"antennas must be a positive integer, got {antennas!r}")
    return float(np.exp(2.0 * (gammaln(antennas + 0.5) - gammaln(antennas))))


def _check_gains(gains: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate gains [B, L, U] and cell [U] or [B, U]; return float64 gains and cell broadcast to [B, U]."""
    gains = np.asarray(gains, dtype=np.float64)
    if gains.ndim != 3:
        raise ValueError(f"gains must have shape [B, L, U], got shape {gains.shape}")
    if not np.all(np.isfinite(gains)):
        raise ValueError("gains must be finite (found NaN or inf)")
    if np.any(gains < 0):
        raise ValueError(f"gains must be >= 0, found minimum {gains.min()!r}")
    cell = np.asarray(cell)
    if not np.issubdtype(cell.dtype, np.integer):
        raise ValueError(f"cell must be an integer array, got dtype {cell.dtype}")
    batch, num_aps, num_slots = gains.shape
    if cell.shape not in ((num_slots,), (batch, num_slots)):
        raise ValueError(f"cell must have shape [U]={num_slots} or [B, U]={(batch, num_slots)}, got {cell.shape}")
    if cell.size and (cell.min() < -1 or cell.max() >= num_aps):
        raise ValueError(f"cell values must be in [-1, {num_aps}), got range [{cell.min()}, {cell.max()}]")
    return gains, np.broadcast_to(cell, (batch, num_slots)).astype(np.int64)


def _check_sigma2(sigma2: float) -> float:
    if not np.isfinite(sigma2) or sigma2 < 0:
        raise ValueError(f"sigma2 must be a finite number >= 0, got {sigma2!r}")
    return float(sigma2)


def _serving_gains(gains: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """``beta_m[m, u] = gains[cell(m), u]``: [B, U, U] from gains [B, L, U] and cell [B, U] (0 rows on padding)."""
    rows = np.take_along_axis(gains, np.maximum(cell, 0)[:, :, None], axis=1)  # [B, U(m), U(u)]
    real = cell >= 0
    return np.where(real[:, :, None] & real[:, None, :], rows, 0.0)


def se_coefficients(
    gains: np.ndarray, cell: np.ndarray, sigma2: float = 0.0, antennas: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form coefficients (6)-(7) for uncorrelated Rayleigh fading, MR precoding and estimation noise sigma2.

    With ``beta = beta~_{cell(u), u}`` and ``g_M = (Gamma(M + 1/2) / Gamma(M))^2``::

        a[u]    = g_M beta^2 / (beta + sigma2)
        b[u, u] = (M beta^2 + sigma2 beta) / (beta + sigma2) - a[u]
        b[m, u] = beta~_{cell(m), u}                          (m != u)

    Args:
        gains: [B, L, U] float64, beta~ from AP j to slot u; >= 0, finite.
        cell: [U] or [B, U] int, serving AP of each slot, -1 on padding.
        sigma2: estimation-noise variance of eq. (3) in normalised units (>= 0).
        antennas: M.

    Returns:
        (a, b): a [B, U] and b [B, U, U] float64 (``b[..., m, u]``: slot m's stream at slot u); 0 on padding.
    """
    gains, cell = _check_gains(gains, cell)
    sigma2 = _check_sigma2(sigma2)
    g_m = mr_gain_factor(antennas)
    b = _serving_gains(gains, cell)
    beta = np.einsum("buu->bu", b)
    total = beta + sigma2
    safe = np.where(total > 0, total, 1.0)
    a = np.where(total > 0, g_m * beta**2 / safe, 0.0)
    diag = np.where(total > 0, (antennas * beta**2 + sigma2 * beta) / safe, 0.0) - a
    idx = np.arange(beta.shape[1])
    b[:, idx, idx] = diag
    return a, b


def estimated_se_coefficients(
    gains: np.ndarray, cell: np.ndarray, sigma2: float, antennas: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """The coefficients an EP computes from its noisy estimates ``h_hat``, taking them as exact.

    Every AP estimates its channels to all UEs with error variance sigma2, so each link looks like Rayleigh fading
    of gain ``beta~ + sigma2``; the EP applies the noise-free formulas to it::

        a[u] = g_M (beta + sigma2),  b[u, u] = M (beta + sigma2) - a[u],  b[m, u] = beta~_{cell(m), u} + sigma2

    With ``sigma2 = 0`` this equals :func:`se_coefficients` with ``sigma2 = 0``.

    Args:
        gains: [B, L, U] float64, true beta~.
        cell: [U] or [B, U] int, -1 on padding.
        sigma2: estimation-noise variance (>= 0).
        antennas: M.

    Returns:
        (a, b): a [B, U], b [B, U, U] float64; 0 on padding.
    """
    gains, cell = _check_gains(gains, cell)
    sigma2 = _check_sigma2(sigma2)
    noisy = np.where(cell[:, None, :] >= 0, gains + sigma2, 0.0)
    return se_coefficients(noisy, cell, 0.0, antennas)


# ----- spatial correlation and Monte Carlo ----------------------------------------------------------------------
def local_scattering_correlation(
    angles: np.ndarray, antennas: int, angular_std_deg: float, antenna_spacing: float = 0.5
) -> np.ndarray:
    """Normalised correlation matrices of the Gaussian local-scattering model with a ULA (the book's
    ``functionRlocalscattering``).

    ``R[r, c] = E{exp(2 pi i d (c - r) sin(theta + delta))}``, ``delta ~ N(0, sigma_phi^2)``, for ``c >= r``
    (Hermitian Toeplitz, unit diagonal, so ``Tr(R) = M``), ``d`` the antenna spacing in wavelengths. The book
    integrates numerically; here the Jacobi-Anger expansion ``exp(i z sin x) = sum_k J_k(z) exp(i k x)`` gives the
    expectation as a rapidly converging series::

        R[r, r + n] = sum_k J_k(2 pi d n) exp(i k theta) exp(-k^2 sigma_phi^2 / 2)

    truncated where both ``exp(-k^2 sigma_phi^2 / 2)`` and ``J_k(2 pi d n)`` are below 1e-16. Multiply by beta~ for
    the link's ``R`` with ``Tr(R) / M = beta~``.

    Args:
        angles: [...] float64, nominal angle theta of each link (rad).
        antennas: M.
        angular_std_deg: sigma_phi in degrees (>= 0; 0 gives the rank-one plane-wave matrix).
        antenna_spacing: d, in wavelengths (>= 0).

    Returns:
        R : [..., M, M] complex128.
    """
    angles = np.asarray(angles, dtype=np.float64)
    mr_gain_factor(antennas)  # validates antennas
    if not np.isfinite(angular_std_deg) or angular_std_deg < 0:
        raise ValueError(f"angular_std_deg must be a finite number >= 0, got {angular_std_deg!r}")
    if not np.isfinite(antenna_spacing) or antenna_spacing < 0:
        raise ValueError(f"antenna_spacing must be a finite number >= 0, got {antenna_spacing!r}")
    if not np.all(np.isfinite(angles)):
        raise ValueError("angles must be finite (found NaN or inf)")
    lag = np.arange(antennas)
    z = 2 * np.pi * antenna_spacing * lag  # [M]
    std = np.deg2rad(angular_std_deg)
    if std == 0:
        first_row = np.exp(1j * z * np.sin(angles)[..., None])
    else:
        # |k| beyond either bound contributes < 1e-16: Gaussian damping, or J_k(z) ~ (e z / 2k)^k decay.
        order = int(min(np.ceil(np.sqrt(2 * 37.0) / std), np.ceil(z[-1] + 10 * np.cbrt(z[-1] + 1) + 40)))
        k = np.arange(-order, order + 1)
        series = jv(k[None, :], z[:, None]) * np.exp(-0.5 * (k * std) ** 2)  # [M, 2K+1]
        first_row = np.exp(1j * angles[..., None] * k) @ series.T.astype(np.complex128)
    rows, cols = np.meshgrid(lag, lag, indexing="ij")
    diff = cols - rows
    upper = first_row[..., np.abs(diff)]
    return np.where(diff >= 0, upper, np.conj(upper))


# Diagonal loading of the normalised correlation matrices before their Cholesky factorisation.
_CHOLESKY_LOADING = 1e-9
# Complex entries of the largest channel tensor [realizations, samples, L, U, M] handled at once (~32 MiB).
_MC_CHUNK_ELEMENTS = 1 << 21


def _complex_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """i.i.d. CN(0, 1) entries."""
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * np.sqrt(0.5)


def _correlation_factors(
    angles: np.ndarray, antennas: int, angular_std_deg: float, antenna_spacing: float
) -> np.ndarray:
    """Cholesky factor ``A`` with ``A A^H = R + 1e-9 I`` (normalised local-scattering R) per link: [..., M, M].

    R is positive semi-definite but often numerically singular (small angular spreads); the 1e-9 diagonal loading
    (relative to ``Tr(R) / M = 1``) makes the factorisation safe and changes every coefficient by ~1e-9 relative,
    far below Monte Carlo error. Cholesky is several times cheaper than an eigendecomposition.
    """
    correlation = local_scattering_correlation(angles, antennas, angular_std_deg, antenna_spacing)
    return np.linalg.cholesky(correlation + _CHOLESKY_LOADING * np.eye(antennas))


def monte_carlo_se_coefficients(
    gains: np.ndarray,
    cell: np.ndarray,
    rng: np.random.Generator,
    *,
    sigma2: float = 0.0,
    antennas: int = 100,
    realizations: int = 1000,
    angles: np.ndarray | None = None,
    angular_std_deg: float = 10.0,
    antenna_spacing: float = 0.5,
    estimated: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (6)-(7) as empirical averages over channel realizations (the paper's way), vectorised.

    For each realization: ``h_{j,u} ~ CN(0, beta~_{j,u} R_{j,u})`` on every AP-UE link (``R = I`` when ``angles`` is
    None, else the local-scattering matrix of :func:`local_scattering_correlation`), ``h_hat = h + n`` with
    ``n ~ CN(0, sigma2 I_M)``, ``psi_u = h_hat_{cell(u),u} / ||h_hat_{cell(u),u}||`` and
    ``g[m, u] = psi_m^H h_{cell(m), u}``; then ``a[u] = |mean g[u, u]|^2``, ``b[m, u] = mean |g[m, u]|^2`` for
    ``m != u`` and ``b[u, u] = mean |g[u, u]|^2 - a[u]``.

    With ``estimated=True`` it returns what the EP computes from its estimates taken as exact (the Monte Carlo
    counterpart of :func:`estimated_se_coefficients`): every link's estimate ``h_hat = h + n`` replaces ``h`` in
    ``g``, with no further noise.

    Cost: ``realizations * B * L * U^2 * M`` complex multiply-adds; the correlated model adds one ``M x M``
    Cholesky factorisation per link and ``realizations * M^2`` multiply-adds per link (tenths of a second per sample
    for M = 100 and 500 realizations).

    Args:
        gains: [B, L, U] float64, beta~ (>= 0, finite).
        cell: [U] or [B, U] int, -1 on padding.
        rng: the random generator of the channel realizations.
        sigma2: estimation-noise variance (>= 0).
        antennas: M.
        realizations: number of channel realizations averaged (>= 1).
        angles: None for uncorrelated fading, or [B, L, U] float64 link angles (rad) for local scattering.
        angular_std_deg: angular standard deviation of the local-scattering model (degrees).
        antenna_spacing: ULA spacing in wavelengths.
        estimated: return the EP's estimated coefficients instead of the true ones.

    Returns:
        (a, b): a [B, U], b [B, U, U] float64; 0 on padding.
    """
    gains, cell = _check_gains(gains, cell)
    sigma2 = _check_sigma2(sigma2)
    mr_gain_factor(antennas)
    if not isinstance(realizations, (int, np.integer)) or realizations < 1:
        raise ValueError(f"realizations must be a positive integer, got {realizations!r}")
    if angles is not None:
        angles = np.asarray(angles, dtype=np.float64)
        if angles.shape != gains.shape:
            raise ValueError(f"angles must have the shape of gains {gains.shape}, got {angles.shape}")
    compact = SlotCompaction.from_cell(cell)
    gains, cell = compact.take(gains, axis=2), compact.take(cell, axis=1)
    if angles is not None:
        angles = compact.take(angles, axis=2)
    batch, num_aps, num_slots = gains.shape
    link_elements = max(num_aps * num_slots * antennas, 1)
    per_chunk = max(1, _MC_CHUNK_ELEMENTS // link_elements)
    real_chunk = min(realizations, per_chunk)
    sample_chunk = max(1, per_chunk // real_chunk)
    a = np.zeros((batch, num_slots))
    b = np.zeros((batch, num_slots, num_slots))
    for start in range(0, batch, sample_chunk):
        sl = slice(start, min(start + sample_chunk, batch))
        amplitude = np.sqrt(gains[sl])[..., None]  # [b, L, U, 1]
        factors = (
            None if angles is None else _correlation_factors(angles[sl], antennas, angular_std_deg, antenna_spacing)
        )
        serving = np.maximum(cell[sl], 0)[None, :, None, :, None]  # [1, b, 1, U, 1]
        mean_g = np.zeros((sl.stop - sl.start, num_slots), dtype=np.complex128)
        power_g = np.zeros((sl.stop - sl.start, num_slots, num_slots))
        for r_start in range(0, realizations, real_chunk):
            count = min(real_chunk, realizations - r_start)
            w = _complex_normal(rng, (count, *amplitude.shape[:-1], antennas))  # [n, b, L, U, M]
            if factors is not None:
                # one batched GEMM per link over all realizations: [b, L, U, M, M] @ [b, L, U, M, n]
                w = np.moveaxis(factors @ np.moveaxis(w, 0, -1), -1, 0)
            h = amplitude * w
            if estimated and sigma2 > 0:
                h = h + np.sqrt(sigma2) * _complex_normal(rng, h.shape)
            h_hat = np.take_along_axis(h, serving, axis=2)[:, :, 0]  # [n, b, U, M], serving links
            if not estimated and sigma2 > 0:
                h_hat = h_hat + np.sqrt(sigma2) * _complex_normal(rng, h_hat.shape)
            norm = np.linalg.norm(h_hat, axis=-1, keepdims=True)
            psi = np.divide(h_hat, norm, out=np.zeros_like(h_hat), where=norm > 0)
            g_all = psi.conj()[:, :, None] @ h.swapaxes(-1, -2)  # [n, b, L, U(m), U(u)]
            g = np.take_along_axis(g_all, serving[..., 0][..., None], axis=2)[:, :, 0]  # [n, b, U, U]
            mean_g += np.einsum("nbuu->bu", g)  # summed over the realizations n
            power_g += (np.abs(g) ** 2).sum(axis=0)
        a[sl] = np.abs(mean_g / realizations) ** 2
        b[sl] = power_g / realizations
    idx = np.arange(num_slots)
    b[:, idx, idx] -= a
    return compact.scatter_vector(a), compact.scatter_matrix(b)
