"""Property-based checks of the max-min solver's inputs: every call gives a finite, feasible allocation or raises
``ValueError`` (never TypeError, IndexError, LinAlgError, or a silent NaN)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mimo_env.power import equal_power, maxmin_power

REALISTIC = st.floats(min_value=1e-3, max_value=1e3)  # normalised gains of a sane scale
WILD = st.floats(allow_nan=True, allow_infinity=True, width=64)  # NaN, inf, negative, huge, tiny, subnormal
EXTREME = st.one_of(st.floats(min_value=0.0, max_value=1e308), st.floats(min_value=0.0, max_value=1e-200))
P_MAX = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-5, 5000),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.just(1000.0),
    st.just(np.float32(10.0)),
    st.just(1 + 2j),
    st.just([1000.0]),
)
OTHER = st.one_of(st.none(), st.text(max_size=3), st.just({"a": 1}), st.just([[1, 2], [3]]), st.just(3.5))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw):
    """A problem (8) input: usually well formed (so that the solver runs), each part sometimes malformed."""
    batch, slots = draw(st.integers(0, 3)), draw(st.integers(0, 6))
    a_shape = draw(st.sampled_from([(batch, slots)] * 4 + [(slots,), (batch, slots + 1)]))
    b_shape = draw(st.sampled_from([(batch, slots, slots)] * 4 + [(batch, slots), (batch, slots, slots + 1)]))
    kind = draw(st.sampled_from(["sane"] * 5 + ["extreme", "a", "b", "cell", "p_max"]))  # what is malformed, if any
    a_values, b_values = (EXTREME, EXTREME) if kind == "extreme" else (REALISTIC, st.floats(0.0, 1.0))
    a = draw(
        hnp.arrays(np.float64, a_shape, elements=a_values)
        if kind != "a"
        else st.one_of(hnp.arrays(np.float64, a_shape, elements=st.one_of(REALISTIC, WILD)), OTHER)
    )
    b = draw(
        hnp.arrays(np.float64, b_shape, elements=b_values)
        if kind != "b"
        else st.one_of(hnp.arrays(np.float64, b_shape, elements=st.one_of(REALISTIC, WILD)), OTHER)
    )
    cell_shape = draw(st.sampled_from([(batch, slots)] * 3 + [(slots,)] + [(batch + 1, slots)] * (kind == "cell")))
    cell_dtype = draw(st.sampled_from([np.int64, np.int32] + [np.float64, np.bool_] * (kind == "cell")))
    cell = draw(
        hnp.arrays(np.int64, cell_shape, elements=st.integers(-1, 3)).map(lambda c: c.astype(cell_dtype))
        if kind != "cell"
        else st.one_of(hnp.arrays(np.int64, cell_shape, elements=st.integers(-3, 8)), OTHER)
    )
    p_max = draw(st.one_of(st.just(1000.0), st.floats(1e-3, 1e4)) if kind != "p_max" else P_MAX)
    return a, b, cell, p_max


def check_allocation(a, b, cell, p_max, rho, sinr):
    cell = np.broadcast_to(np.asarray(cell), np.shape(a))
    assert rho.shape == np.shape(a) and sinr.shape == (np.shape(a)[0],)
    assert np.all(np.isfinite(rho)) and np.all(rho >= 0) and np.all(rho[cell < 0] == 0)
    assert np.all(np.isfinite(sinr)) and np.all(sinr > 0)
    for i in range(rho.shape[0]):
        loads = np.bincount(cell[i][cell[i] >= 0], weights=rho[i][cell[i] >= 0])
        assert loads.max() <= float(p_max) * (1 + 1e-9)


@SETTINGS
@given(problem=problems())
def test_maxmin_power_returns_a_finite_feasible_allocation_or_raises_value_error(problem):
    a, b, cell, p_max = problem
    try:
        result = maxmin_power(a, b, cell, p_max)
    except ValueError as error:
        assert not isinstance(error, np.linalg.LinAlgError)
        return
    check_allocation(a, b, cell, p_max, result.rho, result.sinr)


@SETTINGS
@given(
    cell=st.one_of(
        st.tuples(
            hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=5), elements=st.integers(-3, 6)),
            st.sampled_from([np.int64, np.int32, np.float64, np.bool_]),
        ).map(lambda t: t[0].astype(t[1])),
        OTHER,
    ),
    p_max=P_MAX,
)
def test_equal_power_returns_finite_powers_or_raises_value_error(cell, p_max):
    try:
        rho = equal_power(cell, p_max)
    except ValueError:
        return
    cell = np.asarray(cell)
    assert rho.shape == cell.shape and np.all(np.isfinite(rho)) and np.all(rho[cell < 0] == 0)
    assert np.all(rho[cell >= 0] > 0) and np.all(rho <= float(p_max))


def test_a_well_posed_random_problem_is_solved():
    rng = np.random.default_rng(0)
    a = rng.uniform(1.0, 10.0, (2, 4))
    b = rng.uniform(0.01, 0.1, (2, 4, 4))
    cell = np.array([0, 0, 1, -1])
    result = maxmin_power(a, b, cell, 1000.0)
    check_allocation(a, b, cell, 1000.0, result.rho, result.sinr)
