"""Max-min fair downlink power allocation, problem (8): exact and batched, the cvxpy reference, and equal power.

Problem (8) on the coefficients of eqs. (6)-(7) (``b[..., m, u]``: gain of slot m's stream at slot u)::

    maximise_rho  min_u SINR_u,   SINR_u = rho_u a_u / (sum_m rho_m b[m, u] + 1)
    subject to    rho >= 0,  sum_{u in cell l} rho_u <= p_max  for every AP l

Exact solution (C. W. Tan, *Wireless Network Optimization by Perron-Frobenius Theory*, 2015). Over the real slots
let ``F = diag(1 / a) B^T`` (``F[u, m] = b[m, u] / a_u``), ``v = 1 / a`` and ``c_l`` the indicator of AP l's slots.
The SINR constraints ``SINR_u >= t`` read ``rho >= t (F rho + v)``; the optimum ``t*`` makes them tight with one
AP at full power, which gives::

    1 / t* = max_l  spectral_radius(F + v c_l^T / p_max)

and ``rho* = (I / t* - F)^{-1} v``, the smallest power vector reaching SINR ``t*`` everywhere (every AP's load is
then <= p_max and the maximising AP's is p_max). Since ``x(lam) = (lam I - F)^{-1} v`` fits every budget iff
``lam >= 1 / t*``, :func:`maxmin_power` needs the root of one AP per sample in most cases: it guesses the binding AP
(the most loaded one at equal power's SINR, a feasible target), computes its root with a batched
``numpy.linalg.eigvals`` and checks the budgets; where an AP is still over budget it moves to the most overloaded
AP, whose root is strictly larger (at most L rounds; about 13 % of the ``paper`` samples need a second round). All
of this runs on the compacted real slots (:mod:`mimo_env._slots`); ``rho*`` comes from one batched linear solve plus
one step of iterative refinement, is rescaled so the busiest AP is exactly at ``p_max`` (a relative correction of
order 1e-12 on realistic gains), and ``sinr`` is the achieved minimum SINR. Typical accuracy: SINR equal over a
sample's UEs to ~1e-11 relative; identical to taking the maximum over all APs' roots.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from mimo_env._slots import SlotCompaction
from mimo_env.metrics import sinr as compute_sinr


@dataclass(frozen=True)
class MaxMinResult:
    """Solution of problem (8) for a batch of samples.

    Attributes:
        rho: [B, U] float64, transmit power of each slot (mW); 0 on padding.
        sinr: [B] float64, the common max-min SINR (the smallest SINR over the sample's real slots under ``rho``).
    """

    rho: np.ndarray
    sinr: np.ndarray


def _check_cell(cell: np.ndarray, batch: int, num_slots: int) -> np.ndarray:
    """Validate cell [U] or [B, U] (integers in [-1, U)); return it as int64 [B, U]."""
    try:
        cell = np.asarray(cell)
    except ValueError as error:  # ragged nested sequences
        raise ValueError(f"cell must be an integer array [B, U] or [U]: {error}") from error
    if not np.issubdtype(cell.dtype, np.integer):
        raise ValueError(f"cell must be an integer array, got dtype {cell.dtype}")
    if cell.shape not in ((num_slots,), (batch, num_slots)):
        raise ValueError(f"cell must have shape [B, U]={(batch, num_slots)} or [U]={num_slots}, got {cell.shape}")
    if cell.size and (cell.min() < -1 or cell.max() >= num_slots):
        raise ValueError(
            f"cell values must be AP indices in [0, {num_slots}) or -1 for padding, "
            f"got range [{cell.min()}, {cell.max()}]"
        )
    return np.broadcast_to(cell, (batch, num_slots)).astype(np.int64)


def _check_p_max(p_max: float) -> float:
    if (
        isinstance(p_max, bool)
        or not isinstance(p_max, (int, float, np.integer, np.floating))
        or not np.isfinite(p_max)
        or p_max <= 0
    ):
        raise ValueError(f"p_max must be a finite number > 0, got {p_max!r}")
    return float(p_max)


def _check_problem(
    a: np.ndarray, b: np.ndarray, cell: np.ndarray, p_max: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Validate the inputs of problem (8); return float64 a [B, U], b [B, U, U], int64 cell [B, U], p_max."""
    try:
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"a and b must be numeric arrays [B, U] and [B, U, U]: {error}") from error
    if a.ndim != 2:
        raise ValueError(f"a must have shape [B, U], got shape {a.shape}")
    batch, num_slots = a.shape
    if b.shape != (batch, num_slots, num_slots):
        raise ValueError(f"b must have shape [B, U, U]={(batch, num_slots, num_slots)} to match a, got {b.shape}")
    for name, x in (("a", a), ("b", b)):
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} must be finite (found NaN or inf)")
        if np.any(x < 0):
            raise ValueError(f"{name} must be >= 0, found minimum {x.min()!r}")
    cell = _check_cell(cell, batch, num_slots)
    p_max = _check_p_max(p_max)
    real = cell >= 0
    if not np.all(real.any(axis=1)):
        raise ValueError(
            f"every sample needs at least one UE; samples {np.flatnonzero(~real.any(axis=1))} "
            "have cell == -1 everywhere"
        )
    if np.any(real & (a <= 0)):
        raise ValueError("a must be > 0 on every real slot (a UE without useful signal has SINR 0)")
    return a, b, cell, p_max


def _ap_indicator(cell: np.ndarray) -> np.ndarray:
    """c_l of every AP in use: [B, L, U] float64 with ``L = max(cell) + 1``."""
    num_aps = int(cell.max()) + 1
    return (cell[:, None, :] == np.arange(num_aps)[None, :, None]).astype(np.float64)


def maxmin_power(a: np.ndarray, b: np.ndarray, cell: np.ndarray, p_max: float) -> MaxMinResult:
    """Exact max-min power allocation of problem (8), batched (Perron-Frobenius characterisation).

    Args:
        a: [B, U] float64, useful-signal gains (> 0 on real slots).
        b: [B, U, U] float64, ``b[..., m, u]`` the gain of slot m's stream at slot u (>= 0).
        cell: [B, U] (or [U]) int, serving AP of each slot, -1 on padding; an AP without slots has no constraint.
        p_max: power budget of every AP (mW, > 0).

    Returns:
        :class:`MaxMinResult` with rho [B, U] (mW, 0 on padding) and the max-min SINR [B] (finite, > 0).

    Raises:
        ValueError: malformed input (the message names it), or gains so badly scaled (e.g. 1e-300 next to 1e300)
            that the float64 solution would over- or underflow.
    """
    a, b, cell, p_max = _check_problem(a, b, cell, p_max)
    if a.shape[0] == 0:
        return MaxMinResult(rho=np.zeros(a.shape), sinr=np.zeros(0))
    with np.errstate(all="ignore"):  # overflow on absurdly scaled gains is caught by the finiteness check below
        try:
            result = _solve_maxmin(a, b, cell, p_max)
        except np.linalg.LinAlgError as error:
            raise ValueError(f"a and b are too badly scaled to solve problem (8) in float64: {error}") from None
    if not (np.all(np.isfinite(result.rho)) and np.all(np.isfinite(result.sinr)) and np.all(result.sinr > 0)):
        raise ValueError(
            "a and b are too badly scaled to solve problem (8) in float64 (the solution over- or "
            f"underflows); gains span [{a.min():.3g}, {max(a.max(), b.max()):.3g}]"
        )
    return result


def _solve_maxmin(a: np.ndarray, b: np.ndarray, cell: np.ndarray, p_max: float) -> MaxMinResult:
    """:func:`maxmin_power` on validated inputs with at least one sample."""
    compact = SlotCompaction.from_cell(cell)
    real = compact.real
    a_c = np.where(real, compact.take(a, axis=1), 1.0)
    b_c = compact.take(compact.take(b, axis=1), axis=2)
    pair = real[:, :, None] & real[:, None, :]
    f = np.where(pair, b_c.swapaxes(-1, -2), 0.0) / a_c[:, :, None]  # F[u, m] = b[m, u] / a_u
    v = np.where(real, 1.0 / a_c, 0.0)
    indicator = _ap_indicator(np.where(real, compact.take(cell, axis=1), -1))  # [B, L, U_c]
    # Which AP binds at the optimum? 1 / t* = max_l lambda_l, lambda_l = spectral_radius(F + v c_l^T / p_max), and
    # the minimal powers x(lam) = (lam I - F)^{-1} v fit every budget iff lam >= 1 / t*. Start from the AP most
    # loaded at a feasible target (equal power's minimum SINR); while some AP is over budget at lam_l, move to the
    # most overloaded AP l' (its load decreases with lam, so lambda_l' > lambda_l). Each sample ends, after at most
    # L rounds of one small eigvals each, on the AP with the largest root: Tan's characterisation, exactly.
    t_eq = _min_sinr_compact(_equal_power_compact(indicator, p_max), a_c, b_c, real)
    _, load, _ = _min_powers_checked(1.0 / t_eq, f, v, indicator)
    lam = np.zeros(a_c.shape[0])
    rho_c = np.zeros_like(v)
    todo = np.ones(a_c.shape[0], dtype=bool)
    invalid = np.zeros_like(todo)
    for _ in range(indicator.shape[1]):
        ap = np.where(indicator[todo].any(axis=-1), load[todo], -np.inf).argmax(axis=1)
        c_ap = np.take_along_axis(indicator[todo], ap[:, None, None], axis=1)[:, 0]  # [B', U_c]
        lam[todo] = _spectral_radius(f[todo] + v[todo, :, None] * c_ap[:, None, :] / p_max)
        x, load_todo, bad = _min_powers_checked(lam[todo], f[todo], v[todo], indicator[todo])
        rho_c[todo], load[todo] = x, load_todo
        over = load_todo.max(axis=1) > p_max * (1 + 1e-9)
        invalid[np.flatnonzero(todo)[bad]] = True
        todo[np.flatnonzero(todo)[bad | ~over]] = False
        if not todo.any():
            break
    full = invalid | todo  # numerically singular cases (reducible F): the maximum over all APs directly
    if full.any():
        matrices = f[full, None] + v[full, None, :, None] * indicator[full, :, None, :] / p_max  # [B', L, U_c, U_c]
        radius = np.where(indicator[full].any(axis=-1), _spectral_radius(matrices), -np.inf)  # empty AP: no limit
        rho_c[full] = _min_powers(radius.max(axis=1), f[full], v[full])
    rho_c = np.where(real, np.maximum(rho_c, 0.0), 0.0)
    load = np.einsum("blu,bu->bl", indicator, rho_c)
    rho_c *= p_max / load.max(axis=1, keepdims=True)
    rho = compact.scatter_vector(rho_c)
    return MaxMinResult(rho=rho, sinr=_min_sinr(rho, a, b, cell))


def _spectral_radius(matrices: np.ndarray) -> np.ndarray:
    """Perron root of nonnegative matrices [..., n, n]: the largest real part of their eigenvalues, [...]."""
    return np.linalg.eigvals(matrices).real.max(axis=-1)


def _min_powers(lam: np.ndarray, f: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``x = (lam I - F)^{-1} v`` [B, U_c] (the minimal powers reaching SINR 1 / lam everywhere, when lam exceeds
    the spectral radius of F), with one step of iterative refinement for badly scaled gains."""
    system = lam[:, None, None] * np.eye(f.shape[-1]) - f
    x = np.linalg.solve(system, v[..., None])[..., 0]
    residual = v - np.einsum("bij,bj->bi", system, x)
    return x + np.linalg.solve(system, residual[..., None])[..., 0]


def _min_powers_checked(
    lam: np.ndarray, f: np.ndarray, v: np.ndarray, indicator: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_min_powers` with the AP loads [B, L], flagging samples [B] whose solution is not a finite
    nonnegative vector (lam at or below the spectral radius of F, or a numerically singular system)."""
    with np.errstate(all="ignore"):
        try:
            x = _min_powers(lam, f, v)
        except np.linalg.LinAlgError:  # exactly singular somewhere: flag the whole batch
            return np.zeros_like(v), np.zeros(indicator.shape[:2]), np.ones(lam.shape, dtype=bool)
        bad = ~(np.all(np.isfinite(x), axis=1) & np.all(x >= 0, axis=1))
        x = np.where(bad[:, None], 0.0, x)
    return x, np.einsum("blu,bu->bl", indicator, x), bad


def _equal_power_compact(indicator: np.ndarray, p_max: float) -> np.ndarray:
    """Equal power on compact slots: p_max / K_l for each UE of AP l; [B, U_c]."""
    counts = indicator.sum(axis=-1, keepdims=True)  # [B, L, 1]
    return (indicator * p_max / np.maximum(counts, 1.0)).sum(axis=1)


def _min_sinr_compact(rho: np.ndarray, a: np.ndarray, b: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Smallest SINR over the real compact slots, [B]."""
    values = rho * a / (np.einsum("bm,bmu->bu", rho, b) + 1.0)
    return np.where(real, values, np.inf).min(axis=1)


def _min_sinr(rho: np.ndarray, a: np.ndarray, b: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Smallest SINR over the real slots: [B]."""
    return np.where(cell >= 0, compute_sinr(rho, a, b), np.inf).min(axis=1)


def _solve_feasibility(problem: cp.Problem, x: cp.Variable, solver: str) -> np.ndarray | None:
    """Solve one feasibility LP; the point found (clipped to >= 0), or None when infeasible or failed."""
    try:
        with warnings.catch_warnings():  # "solution may be inaccurate": the caller checks the point itself
            warnings.simplefilter("ignore", UserWarning)
            problem.solve(solver=solver)
    except cp.error.SolverError:  # a numerical failure at the feasibility boundary counts as infeasible
        return None
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or x.value is None:
        return None
    return np.maximum(x.value, 0.0)


def _point_min_sinr(x: np.ndarray, a: np.ndarray, b: np.ndarray, cell: np.ndarray, p_max: float) -> float:
    """Minimum SINR of ``rho = p_max x`` after scaling any overloaded AP down to its budget (one sample's real
    slots: x, a [U_r], b [U_r, U_r], cell [U_r])."""
    loads = np.bincount(cell, weights=x)
    rho = p_max * x / max(loads.max(), 1.0)
    return float(np.min(rho * a / (rho @ b + 1.0)))


def equal_power(cell: np.ndarray, p_max: float) -> np.ndarray:
    """The naive baseline: each AP splits its budget equally, ``rho_u = p_max / K_{cell(u)}``.

    Args:
        cell: [B, U] (or [U]) int, serving AP of each slot, -1 on padding.
        p_max: power budget of every AP (mW, > 0).

    Returns:
        rho : [B, U] float64 (mW), 0 on padding ([U] when ``cell`` is [U]).
    """
    cell_arr = np.asarray(cell)
    squeeze = cell_arr.ndim == 1
    if cell_arr.ndim not in (1, 2):
        raise ValueError(f"cell must have shape [B, U] or [U], got {cell_arr.shape}")
    cell2 = _check_cell(cell_arr, 1 if squeeze else cell_arr.shape[0], cell_arr.shape[-1])
    p_max = _check_p_max(p_max)
    if cell2.shape[1] == 0 or cell2.max() < 0:
        rho = np.zeros(cell2.shape)
    else:
        counts = _ap_indicator(cell2).sum(axis=-1)  # [B, L]
        served = np.take_along_axis(counts, np.maximum(cell2, 0), axis=1)
        rho = np.where(cell2 >= 0, p_max / np.maximum(served, 1.0), 0.0)
    return rho[0] if squeeze else rho


def maxmin_power_cvxpy(
    a: np.ndarray, b: np.ndarray, cell: np.ndarray, p_max: float, *, rel_tol: float = 1e-6, solver: str = "CLARABEL"
) -> MaxMinResult:
    """Reference solver of problem (8): bisection on the SINR target with a cvxpy feasibility LP per step.

    For each sample (a Python loop: this is the slow reference the paper's CVX labels stand for), with
    ``x = rho / p_max``: bisection on ``t`` in ``[t_lo, t_hi]`` (geometric midpoints) where ``t_lo`` is the
    equal-power minimum SINR (feasible) and ``t_hi = min_u p_max a_u / (p_max b[u, u] + 1)`` (an upper bound);
    ``t`` is feasible when the LP ``x >= 0, sum_{u in l} x_u <= 1, x_u a_u >= t (sum_m x_m b[m, u] + 1 / p_max)``
    has a solution. Stops when ``t_hi / t_lo - 1 <= rel_tol``; returns the last feasible point.

    Args:
        a: [B, U] float64. b: [B, U, U] float64. cell: [B, U] int. p_max: mW. (As :func:`maxmin_power`.)
        rel_tol: relative width of the final bisection interval.
        solver: cvxpy LP solver.

    Returns:
        :class:`MaxMinResult`.
    """
    a, b, cell, p_max = _check_problem(a, b, cell, p_max)
    if not np.isfinite(rel_tol) or rel_tol <= 0:
        raise ValueError(f"rel_tol must be > 0, got {rel_tol!r}")
    rho = np.zeros_like(a)
    start = equal_power(cell, p_max)
    t_start = _min_sinr(start, a, b, cell)
    for i in range(a.shape[0]):
        real = np.flatnonzero(cell[i] >= 0)
        a_i, b_i, cell_i = a[i, real], b[i][np.ix_(real, real)], cell[i, real]
        x = cp.Variable(real.size, nonneg=True)
        t = cp.Parameter(nonneg=True)
        # SINR_u >= t, divided by a_u: x >= t (F x + v / p_max) with F = diag(1/a) B^T, v = 1/a (better scaled).
        constraints = [x >= t * ((b_i.T / a_i[:, None]) @ x + 1.0 / (p_max * a_i))]
        constraints += [cp.sum(x[cell_i == ap]) <= 1.0 for ap in np.unique(cell_i)]
        problem = cp.Problem(cp.Minimize(0), constraints)
        best = start[i, real] / p_max
        lo = float(t_start[i])
        hi = float(np.min(p_max * a_i / (p_max * np.diag(b_i) + 1.0)))
        while hi / lo - 1.0 > rel_tol:
            t.value = float(np.sqrt(lo * hi))
            candidate = _solve_feasibility(problem, x, solver)
            # The solver's point must reach t (up to rel_tol) once checked by hand, or t counts as infeasible.
            if candidate is not None and _point_min_sinr(candidate, a_i, b_i, cell_i, p_max) >= t.value * (1 - rel_tol):
                lo, best = t.value, candidate
            else:
                hi = t.value
        loads = np.bincount(cell_i, weights=best)
        rho[i, real] = p_max * best / max(loads.max(), 1.0)
    return MaxMinResult(rho=rho, sinr=_min_sinr(rho, a, b, cell))
