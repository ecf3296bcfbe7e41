"""Max-min power allocation (8): exact batched solver against the cvxpy bisection, optimality conditions, edges."""

import numpy as np
import pytest

from mimo_env.channel import draw_channels, se_coefficients
from mimo_env.config import preset
from mimo_env.layout import slot_cells
from mimo_env.metrics import sinr
from mimo_env.power import equal_power, maxmin_power, maxmin_power_cvxpy

P_MAX = 1000.0
CONFIG = preset("tiny")


def _instances(topology, batch, seed, sigma2=0.0):
    draw = draw_channels(CONFIG, topology, batch, np.random.default_rng(seed))
    a, b = se_coefficients(draw.gains, draw.cell, sigma2=sigma2)
    return a, b, np.broadcast_to(draw.cell, a.shape)


def _random_instances(batch, num_slots, num_aps, seed):
    """Unstructured random problems: log-uniform gains, random cells with some padding."""
    rng = np.random.default_rng(seed)
    a = 10 ** rng.uniform(-1, 3, (batch, num_slots))
    b = 10 ** rng.uniform(-3, 1, (batch, num_slots, num_slots))
    cell = rng.integers(-1, num_aps, (batch, num_slots))
    cell[:, 0] = 0
    a = np.where(cell >= 0, a, 0.0)
    return a, b, cell


def _ap_loads(rho, cell):
    num_aps = cell.max() + 1
    return np.stack([np.where(cell == ap, rho, 0.0).sum(axis=1) for ap in range(num_aps)], axis=1)


def _assert_optimality_conditions(result, a, b, cell):
    real = cell >= 0
    s = sinr(result.rho, a, b)
    spread = np.where(real, s, -np.inf).max(axis=1) / np.where(real, s, np.inf).min(axis=1) - 1
    assert spread.max() < 1e-8, "SINR must be equal over the real slots"
    np.testing.assert_allclose(result.sinr, np.where(real, s, np.inf).min(axis=1))
    assert np.all(result.rho >= 0) and np.all(result.rho[~real] == 0)
    loads = _ap_loads(result.rho, cell)
    assert np.all(loads <= P_MAX * (1 + 1e-12))
    np.testing.assert_allclose(loads.max(axis=1), P_MAX, rtol=1e-12)  # a tight AP


@pytest.mark.parametrize("topology", [(2, 2, 2, 2), (5, 1, 1, 1), (3, 3, 1, 1)])
def test_exact_matches_cvxpy_bisection(topology):
    a, b, cell = _instances(topology, batch=4, seed=sum(topology))
    exact = maxmin_power(a, b, cell, P_MAX)
    reference = maxmin_power_cvxpy(a, b, cell, P_MAX)
    assert np.abs(reference.sinr / exact.sinr - 1).max() <= 1e-4
    assert np.all(reference.sinr <= exact.sinr * (1 + 1e-9))  # nothing beats the exact optimum
    _assert_optimality_conditions(exact, a, b, cell)


def test_exact_matches_cvxpy_on_unstructured_random_instances():
    a, b, cell = _random_instances(batch=4, num_slots=7, num_aps=3, seed=11)
    exact = maxmin_power(a, b, cell, P_MAX)
    reference = maxmin_power_cvxpy(a, b, cell, P_MAX)
    assert np.abs(reference.sinr / exact.sinr - 1).max() <= 1e-4
    _assert_optimality_conditions(exact, a, b, cell)


def test_sinr_is_tans_spectral_radius_characterisation():
    """Independent check: 1 / t* = max over APs of the Perron root of F + v c_l^T / p_max, computed for every AP."""
    a, b, cell = _random_instances(batch=300, num_slots=6, num_aps=3, seed=2)
    result = maxmin_power(a, b, cell, P_MAX)
    for i in range(a.shape[0]):
        real = np.flatnonzero(cell[i] >= 0)
        f = b[i][np.ix_(real, real)].T / a[i, real][:, None]
        v = 1.0 / a[i, real]
        roots = [
            np.abs(np.linalg.eigvals(f + np.outer(v, cell[i, real] == ap) / P_MAX)).max()
            for ap in np.unique(cell[i, real])
        ]
        assert result.sinr[i] == pytest.approx(1.0 / max(roots), rel=1e-9)


def test_optimality_on_a_large_batch_and_beats_equal_power():
    a, b, cell = _instances((3, 3, 1, 1), batch=500, seed=4, sigma2=1e-2)
    result = maxmin_power(a, b, cell, P_MAX)
    _assert_optimality_conditions(result, a, b, cell)
    eq = equal_power(cell, P_MAX)
    eq_min = np.where(cell >= 0, sinr(eq, a, b), np.inf).min(axis=1)
    assert np.all(result.sinr >= eq_min * (1 - 1e-12))


def test_no_feasible_allocation_does_better():
    """Perturbing the optimum and projecting onto the budgets never raises the minimum SINR."""
    a, b, cell = _instances((2, 2, 2, 2), batch=1, seed=9)
    result = maxmin_power(a, b, cell, P_MAX)
    rng = np.random.default_rng(0)
    for _ in range(200):
        rho = result.rho * np.exp(rng.normal(0, 0.05, result.rho.shape))
        rho = rho / max(_ap_loads(rho, cell).max() / P_MAX, 1.0)
        trial = np.where(cell >= 0, sinr(rho, a, b), np.inf).min()
        assert trial <= result.sinr[0] * (1 + 1e-12)


def test_single_ue():
    cell = slot_cells((1, 0, 0, 0), 2)
    a = np.zeros((1, 8))
    b = np.zeros((1, 8, 8))
    a[0, 0], b[0, 0, 0] = 50.0, 0.5
    result = maxmin_power(a, b, cell[None], P_MAX)
    assert result.rho[0, 0] == pytest.approx(P_MAX)
    assert result.sinr[0] == pytest.approx(P_MAX * 50 / (P_MAX * 0.5 + 1))
    assert np.all(result.rho[0, 1:] == 0)


def test_empty_cell_has_no_constraint():
    """Topology (2, 0, 1, 0): cells 1 and 3 are empty; the solution matches cvxpy and loads only real APs."""
    a, b, cell = _instances((2, 0, 1, 0), batch=3, seed=5)
    result = maxmin_power(a, b, cell, P_MAX)
    _assert_optimality_conditions(result, a, b, cell)
    reference = maxmin_power_cvxpy(a, b, cell, P_MAX)
    assert np.abs(reference.sinr / result.sinr - 1).max() <= 1e-4


def test_interference_free_closed_form():
    """Without interference (b = 0) the optimum is t = p_max / max_l sum_{u in l} 1 / a_u."""
    cell = np.array([[0, 0, 1, -1]])
    a = np.array([[1.0, 4.0, 2.0, 0.0]])
    result = maxmin_power(a, np.zeros((1, 4, 4)), cell, P_MAX)
    assert result.sinr[0] == pytest.approx(P_MAX / max(1 + 1 / 4, 1 / 2))
    np.testing.assert_allclose(result.rho[0, :3] * a[0, :3], result.sinr[0])


def test_large_scale_gains_spanning_twelve_decades():
    """beta~ log-uniform in [1e-6, 1e6] on every link, through the closed-form coefficients."""
    rng = np.random.default_rng(3)
    cell = slot_cells((2, 2, 2, 2), 2)
    gains = 10 ** rng.uniform(-6, 6, (20, 4, 8))
    a, b = se_coefficients(gains, cell)
    cell = np.broadcast_to(cell, a.shape)
    result = maxmin_power(a, b, cell, P_MAX)
    _assert_optimality_conditions(result, a, b, cell)
    reference = maxmin_power_cvxpy(a[:2], b[:2], cell[:2], P_MAX)
    assert np.abs(reference.sinr / result.sinr[:2] - 1).max() <= 1e-4


def test_raw_coefficients_spanning_twelve_decades():
    """a and b themselves log-uniform in [1e-6, 1e6] (far harsher than any drop): still equal SINR to 1e-6."""
    rng = np.random.default_rng(3)
    cell = np.broadcast_to(slot_cells((2, 2, 2, 2), 2), (6, 8))
    a = 10 ** rng.uniform(-6, 6, (6, 8))
    b = 10 ** rng.uniform(-6, 6, (6, 8, 8))
    result = maxmin_power(a, b, cell, P_MAX)
    assert np.all(np.isfinite(result.rho)) and np.all(result.sinr > 0)
    s = sinr(result.rho, a, b)
    np.testing.assert_allclose(s, result.sinr[:, None] * np.ones((1, 8)), rtol=1e-6)
    loads = _ap_loads(result.rho, cell)
    assert np.all(loads <= P_MAX * (1 + 1e-12))
    np.testing.assert_allclose(loads.max(axis=1), P_MAX, rtol=1e-12)


def test_cell_as_one_dimensional_topology():
    a, b, cell = _instances((3, 3, 1, 1), batch=3, seed=1)
    np.testing.assert_array_equal(maxmin_power(a, b, cell[0], P_MAX).rho, maxmin_power(a, b, cell, P_MAX).rho)


def test_equal_power():
    cell = slot_cells((5, 1, 1, 1), 5)
    rho = equal_power(cell, P_MAX)
    assert rho.shape == (20,)
    np.testing.assert_allclose(rho[:5], P_MAX / 5)
    assert rho[5] == rho[10] == rho[15] == P_MAX
    assert np.all(rho[cell < 0] == 0)
    batch = equal_power(np.stack([cell, slot_cells((2, 2, 2, 2), 5)]), P_MAX)
    np.testing.assert_allclose(batch[1, [0, 1, 5, 6]], P_MAX / 2)


def _valid():
    return _instances((2, 2, 2, 2), batch=2, seed=0)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda a, b, c: (np.where(a > 0, np.nan, a), b, c), "a must be finite"),
        (lambda a, b, c: (a, np.full_like(b, np.inf), c), "b must be finite"),
        (lambda a, b, c: (-a, b, c), "a must be >= 0"),
        (lambda a, b, c: (a, -b - 1, c), "b must be >= 0"),
        (lambda a, b, c: (a, b[:, :3], c), "b must have shape"),
        (lambda a, b, c: (a[0], b, c), "a must have shape"),
        (lambda a, b, c: (a, b, c[:, :4]), "cell must have shape"),
        (lambda a, b, c: (a, b, np.where(c >= 0, 99, c)), "cell values"),
        (lambda a, b, c: (a, b, c - 1), "cell values"),
        (lambda a, b, c: (a, b, c.astype(float)), "cell must be an integer"),
        (lambda a, b, c: (np.zeros_like(a), b, c), "a must be > 0 on every real slot"),
        (lambda a, b, c: (a, b, np.full_like(c, -1)), "at least one UE"),
    ],
)
def test_bad_input(change, match):
    a, b, cell = change(*_valid())
    with pytest.raises(ValueError, match=match):
        maxmin_power(a, b, cell, P_MAX)
    with pytest.raises(ValueError, match=match):
        maxmin_power_cvxpy(a, b, cell, P_MAX)


@pytest.mark.parametrize("p_max", [0.0, -1.0, np.inf, np.nan])
def test_bad_p_max(p_max):
    a, b, cell = _valid()
    with pytest.raises(ValueError, match="p_max"):
        maxmin_power(a, b, cell, p_max)
    with pytest.raises(ValueError, match="p_max"):
        equal_power(cell, p_max)
