"""SINR and SE of eq. (5), per-sample minimum SE, expected minimum SE."""

import numpy as np
import pytest

from mimo_env.metrics import expected_min_se, min_se, sinr, spectral_efficiency


def _problem():
    a = np.array([[10.0, 20.0, 0.0], [5.0, 1.0, 0.0]])
    b = np.array(
        [[[1.0, 0.5, 0.0], [0.25, 2.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]
    )
    rho = np.array([[2.0, 4.0, 0.0], [1.0, 3.0, 0.0]])
    mask = np.array([[True, True, False], [True, True, False]])
    return rho, a, b, mask


def test_sinr_by_hand():
    rho, a, b, _ = _problem()
    s = sinr(rho, a, b)
    # sample 0, slot 0: 2*10 / (2*1 + 4*0.25 + 1); slot 1: 4*20 / (2*0.5 + 4*2 + 1)
    np.testing.assert_allclose(s[0], [20 / 4, 80 / 10, 0.0])
    np.testing.assert_allclose(s[1], [5.0, 3.0, 0.0])


def test_spectral_efficiency_min_and_expected():
    rho, a, b, mask = _problem()
    pre = 190 / 200
    se = spectral_efficiency(rho, a, b, mask, pre)
    np.testing.assert_allclose(se[0], [pre * np.log2(6), pre * np.log2(9), 0.0])
    np.testing.assert_allclose(min_se(rho, a, b, mask, pre), [pre * np.log2(6), pre * np.log2(4)])
    assert expected_min_se(rho, a, b, mask, pre) == pytest.approx(pre * (np.log2(6) + np.log2(4)) / 2)


def test_padding_with_power_is_ignored():
    rho, a, b, mask = _problem()
    rho[:, 2] = 7.0  # padding has a = 0 and b = 0: no signal, no interference, masked out of the minimum
    np.testing.assert_allclose(min_se(rho, a, b, mask, 0.95), min_se(*_problem(), 0.95))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda r, a, b, m: (r * np.nan, a, b, m), "rho must be finite"),
        (lambda r, a, b, m: (-r, a, b, m), "rho must be >= 0"),
        (lambda r, a, b, m: (r, a, b[:, :2], m), "b must have shape"),
        (lambda r, a, b, m: (r[:, :2], a, b, m), "rho must have the shape"),
        (lambda r, a, b, m: (r, a, b, m.astype(int)), "mask must be a bool"),
        (lambda r, a, b, m: (r, a, b, m[:, :2]), "mask must have shape"),
        (lambda r, a, b, m: (r, a, b, np.zeros_like(m)), "at least one real slot"),
    ],
)
def test_bad_input(change, match):
    with pytest.raises(ValueError, match=match):
        min_se(*change(*_problem()), 0.95)


def test_bad_prefactor():
    with pytest.raises(ValueError, match="prefactor"):
        spectral_efficiency(*_problem(), 1.5)
