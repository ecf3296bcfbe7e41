"""Channel model: drops, wrap-around geometry, eq. (1), closed-form versus Monte Carlo coefficients (6)-(7)."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import j0

from mimo_env.channel import (
    ap_positions,
    draw_channels,
    estimated_se_coefficients,
    local_scattering_correlation,
    monte_carlo_se_coefficients,
    mr_gain_factor,
    se_coefficients,
    wrapped_geometry,
)
from mimo_env.config import preset
from mimo_env.layout import slot_cells

CONFIG = preset("tiny")
TOPOLOGY = (3, 3, 1, 1)


def _draw(batch=4, seed=0, topology=TOPOLOGY):
    return draw_channels(CONFIG, topology, batch, np.random.default_rng(seed))


def test_drops_stay_in_their_cell_and_keep_min_distance():
    draw = _draw(batch=300)
    real = draw.cell >= 0
    serving = draw.distances[:, draw.cell[real], np.flatnonzero(real)]
    assert serving.min() >= CONFIG.min_distance_m
    # the serving AP is at the cell centre, so the in-cell distance is at most half the diagonal
    assert serving.max() <= CONFIG.cell_side_m / np.sqrt(2) + 1e-9
    assert np.all(draw.gains[:, :, ~real] == 0) and np.all(draw.angles[:, :, ~real] == 0)
    assert np.all(draw.gains[:, :, real] > 0)


def test_wraparound_distance_is_the_nearest_translate():
    side = CONFIG.cells_per_side * CONFIG.cell_side_m
    cell = slot_cells((1, 0, 0, 0), CONFIG.k_max)
    positions = np.zeros((1, cell.size), dtype=np.complex128)
    positions[0, 0] = 990.0 + 10.0j  # near the far corner of the EP square
    distances, angles = wrapped_geometry(CONFIG, positions, cell)
    aps = ap_positions(CONFIG)
    for j, ap in enumerate(aps):
        brute = min(abs(positions[0, 0] - ap - (dx + 1j * dy) * side) for dx in (-1, 0, 1) for dy in (-1, 0, 1))
        assert distances[0, j, 0] == pytest.approx(brute)
    # AP 0 at (250, 250): its translate at (1250, 250) is the nearest, and the angle is seen from there
    assert distances[0, 0, 0] == pytest.approx(abs(990 + 10j - (1250 + 250j)))
    assert angles[0, 0, 0] == pytest.approx(np.angle(990 + 10j - (1250 + 250j)))


def test_large_scale_fading_follows_eq1():
    config = CONFIG.replace(shadowing_std_db=0.0)
    draw = draw_channels(config, TOPOLOGY, 5, np.random.default_rng(3))
    real = draw.cell >= 0
    d = draw.distances[:, :, real]
    expected_db = -148.1 - 37.6 * np.log10(d / 1000.0) + 94.0
    np.testing.assert_allclose(10 * np.log10(draw.gains[:, :, real]), expected_db, rtol=1e-12)


def test_shadowing_has_the_configured_spread():
    config = CONFIG.replace(min_distance_m=0.0)
    draw = draw_channels(config, (2, 2, 2, 2), 400, np.random.default_rng(4))
    real = draw.cell >= 0
    d = draw.distances[:, :, real]
    residual_db = 10 * np.log10(draw.gains[:, :, real]) - (-148.1 - 37.6 * np.log10(d / 1000.0) + 94.0)
    assert abs(residual_db.mean()) < 0.3
    assert residual_db.std() == pytest.approx(10.0, rel=0.03)


def test_same_rng_same_draw():
    a, b = _draw(seed=7), _draw(seed=7)
    np.testing.assert_array_equal(a.gains, b.gains)
    assert not np.array_equal(a.gains, _draw(seed=8).gains)


def test_mr_gain_factor():
    assert mr_gain_factor(1) == pytest.approx(np.pi / 4)  # (Gamma(3/2) / Gamma(1))^2
    assert mr_gain_factor(100) == pytest.approx(100 - 0.25, abs=1e-3)
    assert np.isfinite(mr_gain_factor(10**6))


def test_closed_form_structure():
    draw = _draw()
    a, b = se_coefficients(draw.gains, draw.cell, sigma2=0.0, antennas=100)
    real = draw.cell >= 0
    beta = draw.gains[:, draw.cell[real], np.flatnonzero(real)]
    np.testing.assert_allclose(a[:, real], mr_gain_factor(100) * beta)
    np.testing.assert_allclose(np.diagonal(b, axis1=1, axis2=2)[:, real], (100 - mr_gain_factor(100)) * beta)
    m, u = 0, 5  # slot 0 (cell 0) interferes with slot 5 (cell 1) through AP 0's gain to slot 5
    np.testing.assert_allclose(b[:, m, u], draw.gains[:, 0, u])
    assert np.all(a[:, ~real] == 0) and np.all(b[:, ~real] == 0) and np.all(b[:, :, ~real] == 0)


def test_estimated_coefficients_with_zero_noise_equal_the_true_ones():
    draw = _draw()
    for x, y in zip(
        estimated_se_coefficients(draw.gains, draw.cell, 0.0), se_coefficients(draw.gains, draw.cell), strict=True
    ):
        np.testing.assert_array_equal(x, y)
    a, b = estimated_se_coefficients(draw.gains, draw.cell, 0.01)
    a0, b0 = se_coefficients(draw.gains + 0.01 * (draw.cell >= 0), draw.cell)
    np.testing.assert_allclose(a, a0)
    np.testing.assert_allclose(b, b0)


def _assert_monte_carlo_agrees(a, b, a_mc, b_mc, cell, realizations):
    """Within Monte Carlo error: ``sqrt(a)`` is |mean g| whose standard error is sqrt(b[u,u] / N); each b entry
    is a mean of |g|^2 with relative standard error ~ 1/sqrt(N)."""
    real = cell >= 0
    diag = np.diagonal(b, axis1=1, axis2=2)[:, real]
    z = np.abs(np.sqrt(a_mc[:, real]) - np.sqrt(a[:, real])) / np.sqrt(diag / realizations)
    assert z.max() < 5.0
    pair = real[:, None] & real[None, :]
    rel = np.abs(b_mc - b)[:, pair] / b[:, pair]
    assert rel.max() < 6.0 / np.sqrt(realizations)
    assert np.all(a_mc[:, ~real] == 0) and np.all(b_mc[:, ~pair] == 0)


@pytest.mark.parametrize("sigma2", [0.0, 5e-4, 1e-2])
def test_closed_form_equals_monte_carlo(sigma2):
    draw = _draw(batch=2, seed=1)
    realizations = 1500
    a, b = se_coefficients(draw.gains, draw.cell, sigma2=sigma2)
    a_mc, b_mc = monte_carlo_se_coefficients(
        draw.gains, draw.cell, np.random.default_rng(2), sigma2=sigma2, realizations=realizations
    )
    _assert_monte_carlo_agrees(a, b, a_mc, b_mc, draw.cell, realizations)


def test_closed_form_equals_monte_carlo_with_several_samples_per_chunk():
    """Few antennas: many samples share one vectorised chunk; each must still get its own averages."""
    draw = _draw(batch=6, seed=4, topology=(2, 2, 2, 2))
    realizations = 1500
    a, b = se_coefficients(draw.gains, draw.cell, sigma2=1e-3, antennas=4)
    a_mc, b_mc = monte_carlo_se_coefficients(
        draw.gains, draw.cell, np.random.default_rng(3), sigma2=1e-3, antennas=4, realizations=realizations
    )
    _assert_monte_carlo_agrees(a, b, a_mc, b_mc, draw.cell, realizations)


def test_estimated_closed_form_equals_monte_carlo():
    draw = _draw(batch=2, seed=5)
    realizations = 1500
    a, b = estimated_se_coefficients(draw.gains, draw.cell, sigma2=1e-2)
    a_mc, b_mc = monte_carlo_se_coefficients(
        draw.gains, draw.cell, np.random.default_rng(6), sigma2=1e-2, realizations=realizations, estimated=True
    )
    _assert_monte_carlo_agrees(a, b, a_mc, b_mc, draw.cell, realizations)


def test_monte_carlo_with_noise_loses_useful_signal():
    """A huge estimation error makes MR precoding nearly random: a drops far below its noise-free value."""
    draw = _draw(batch=1, seed=2)
    real = draw.cell >= 0
    a0, _ = se_coefficients(draw.gains, draw.cell)
    a_mc, _ = monte_carlo_se_coefficients(
        draw.gains, draw.cell, np.random.default_rng(0), sigma2=10.0, realizations=300
    )
    assert np.all(a_mc[:, real] < 0.2 * a0[:, real])


def test_local_scattering_matches_the_book_integral():
    theta, std_deg, spacing = 0.7, 10.0, 0.5
    r = local_scattering_correlation(np.array(theta), 100, std_deg, spacing)
    std = np.deg2rad(std_deg)
    for n in (1, 7, 40, 99):

        def integrand(x, part, n=n):
            return (
                part(np.exp(2j * np.pi * spacing * n * np.sin(theta + x)))
                * np.exp(-(x**2) / (2 * std**2))
                / (np.sqrt(2 * np.pi) * std)
            )

        expected = (
            quad(integrand, -20 * std, 20 * std, args=(np.real,), limit=2000, epsabs=1e-13)[0]
            + 1j * quad(integrand, -20 * std, 20 * std, args=(np.imag,), limit=2000, epsabs=1e-13)[0]
        )
        assert abs(r[0, n] - expected) < 1e-10
        assert r[n, 0] == pytest.approx(np.conj(expected), abs=1e-10)
    assert np.trace(r).real == pytest.approx(100.0)
    np.testing.assert_allclose(r, r.conj().T)
    assert np.linalg.eigvalsh(r).min() > -1e-10


def test_local_scattering_limits():
    plane = local_scattering_correlation(np.array(0.3), 8, 0.0)
    steer = np.exp(2j * np.pi * 0.5 * np.arange(8) * np.sin(0.3))
    np.testing.assert_allclose(plane, np.outer(steer.conj(), steer), atol=1e-12)
    # a huge angular spread makes the angle uniform: E exp(i z sin(phi)) = J_0(z), the isotropic ULA correlation
    wide = local_scattering_correlation(np.array(0.3), 8, 1e5)
    lag = np.abs(np.subtract.outer(np.arange(8), np.arange(8)))
    np.testing.assert_allclose(wide, j0(np.pi * lag), atol=1e-6)


def test_monte_carlo_local_scattering_keeps_the_average_gain():
    """Tr(R) / M = beta~: the serving-link power E|h|^2 / M matches; MR gain stays close to the uncorrelated one."""
    draw = _draw(batch=1, seed=3)
    real = draw.cell >= 0
    a, _ = se_coefficients(draw.gains, draw.cell)
    a_mc, b_mc = monte_carlo_se_coefficients(
        draw.gains, draw.cell, np.random.default_rng(1), realizations=400, angles=draw.angles, angular_std_deg=10.0
    )
    total = a_mc + np.diagonal(b_mc, axis1=1, axis2=2)  # E|psi^H h|^2 <= E||h||^2 = M beta
    beta = draw.gains[:, draw.cell[real], np.flatnonzero(real)]
    assert np.all(total[:, real] <= 100 * beta * 1.1)
    np.testing.assert_allclose(a_mc[:, real], a[:, real], rtol=0.1)
    assert np.all(a_mc[:, ~real] == 0)


@pytest.mark.parametrize(
    ("gains", "cell", "match"),
    [
        (np.full((1, 4, 20), np.nan), slot_cells(TOPOLOGY, 5), "gains must be finite"),
        (np.full((1, 4, 20), np.inf), slot_cells(TOPOLOGY, 5), "gains must be finite"),
        (-np.ones((1, 4, 20)), slot_cells(TOPOLOGY, 5), "gains must be >= 0"),
        (np.ones((4, 20)), slot_cells(TOPOLOGY, 5), "gains must have shape"),
        (np.ones((1, 4, 20)), slot_cells(TOPOLOGY, 5)[:10], "cell must have shape"),
        (np.ones((1, 4, 20)), np.full(20, 4), "cell values"),
        (np.ones((1, 4, 20)), np.zeros(20), "cell must be an integer"),
    ],
)
def test_bad_input(gains, cell, match):
    with pytest.raises(ValueError, match=match):
        se_coefficients(gains, cell)


def test_bad_scalars():
    draw = _draw(batch=1)
    with pytest.raises(ValueError, match="sigma2"):
        se_coefficients(draw.gains, draw.cell, sigma2=-1.0)
    with pytest.raises(ValueError, match="antennas"):
        se_coefficients(draw.gains, draw.cell, antennas=0)
    with pytest.raises(ValueError, match="realizations"):
        monte_carlo_se_coefficients(draw.gains, draw.cell, np.random.default_rng(0), realizations=0)
    with pytest.raises(ValueError, match="angles"):
        monte_carlo_se_coefficients(draw.gains, draw.cell, np.random.default_rng(0), angles=np.zeros(3))
    with pytest.raises(ValueError, match="more UEs than K_max"):
        draw_channels(CONFIG, (6, 1, 1, 0), 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="ues_per_cell"):
        draw_channels(CONFIG, (1, 1), 2, np.random.default_rng(0))
