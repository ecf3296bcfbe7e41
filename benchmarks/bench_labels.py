"""Label-generation speed and accuracy, measured side by side in one run.

1. Max-min power (8): the exact batched solver (:func:`mimo_env.power.maxmin_power`) against the cvxpy bisection
   reference (:func:`mimo_env.power.maxmin_power_cvxpy`) on the same samples: samples/s of each, the ratio, the
   largest relative difference of the max-min SINR. The exact solver's throughput is also measured on a large batch.
2. SE coefficients (6)-(7): closed form against the Monte Carlo estimator (uncorrelated Rayleigh, perfect and
   imperfect CSI): largest relative difference and time; plus the Monte Carlo cost with local scattering.
3. The whole ``paper`` federation (15 EPs x 1100 samples: drops, coefficients, labels, splits) built from scratch
   into a temporary cache folder, and loaded back from it.

Usage: ``python benchmarks/bench_labels.py [--cvxpy-samples 60] [--realizations 1000] [--skip-federation]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from mimo_env.channel import draw_channels, monte_carlo_se_coefficients, se_coefficients
from mimo_env.config import preset
from mimo_env.dataset import build_federation, cache_path
from mimo_env.power import maxmin_power, maxmin_power_cvxpy


def _samples(config, per_topology: int, seed: int):
    """Drops of every topology cluster of ``config``, as (gains, cell [B, U], a, b) stacked over topologies."""
    rng = np.random.default_rng(seed)
    draws = [draw_channels(config, c.ues_per_cell, per_topology, rng) for c in config.clusters]
    gains = np.concatenate([d.gains for d in draws])
    cell = np.concatenate([np.broadcast_to(d.cell, (per_topology, d.cell.size)) for d in draws])
    a, b = se_coefficients(gains, cell, 0.0, config.antennas)
    return gains, cell, a, b


def _best_time(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_solvers(cvxpy_samples: int) -> list[tuple[str, str]]:
    config = preset("paper")
    per = max(1, cvxpy_samples // len(config.clusters))
    _, cell, a, b = _samples(config, per, seed=0)
    start = time.perf_counter()
    reference = maxmin_power_cvxpy(a, b, cell, config.p_max_mw)
    cvx_time = (time.perf_counter() - start) / a.shape[0]
    exact = maxmin_power(a, b, cell, config.p_max_mw)
    rel = float(np.max(np.abs(reference.sinr / exact.sinr - 1)))
    _, big_cell, big_a, big_b = _samples(config, 1100, seed=1)
    exact_time = _best_time(lambda: maxmin_power(big_a, big_b, big_cell, config.p_max_mw), 3) / big_a.shape[0]
    same_time = _best_time(lambda: maxmin_power(a, b, cell, config.p_max_mw), 5) / a.shape[0]
    return [
        ("cvxpy bisection (Clarabel, rel_tol 1e-6)", f"{1 / cvx_time:12.1f} samples/s  ({a.shape[0]} samples)"),
        ("exact, same samples", f"{1 / same_time:12.1f} samples/s"),
        ("exact, batch of 3300", f"{1 / exact_time:12.1f} samples/s"),
        ("speed-up exact (batch) / cvxpy", f"{cvx_time / exact_time:12.0f} x"),
        ("speed-up exact (same samples) / cvxpy", f"{cvx_time / same_time:12.0f} x"),
        ("max |SINR_cvxpy / SINR_exact - 1|", f"{rel:12.2e}"),
        ("min  SINR_exact / SINR_cvxpy", f"{float(np.min(exact.sinr / reference.sinr)):12.8f}"),
    ]


def bench_coefficients(realizations: int) -> list[tuple[str, str]]:
    config = preset("paper")
    gains, cell, _, _ = _samples(config, 4, seed=2)
    real = cell >= 0
    pair = real[:, :, None] & real[:, None, :]
    rows = []
    for sigma2 in (0.0, 1e-2):
        closed_time = _best_time(lambda s=sigma2: se_coefficients(gains, cell, s, config.antennas), 5)
        a, b = se_coefficients(gains, cell, sigma2, config.antennas)
        start = time.perf_counter()
        a_mc, b_mc = monte_carlo_se_coefficients(
            gains, cell, np.random.default_rng(3), sigma2=sigma2, antennas=config.antennas, realizations=realizations
        )
        mc_time = time.perf_counter() - start
        rel_a = np.max(np.abs(a_mc[real] / a[real] - 1))
        rel_b = np.max(np.abs(b_mc[pair] / b[pair] - 1))
        # in Monte Carlo standard errors: sqrt(a) = |mean g_uu| has s.e. sqrt(b_uu / N); |g|^2 has s.e. ~ b / sqrt(N)
        diag = np.diagonal(b, axis1=1, axis2=2)[real]
        z_a = np.max(np.abs(np.sqrt(a_mc[real]) - np.sqrt(a[real])) / np.sqrt(diag / realizations))
        z_b = rel_b * np.sqrt(realizations)
        rows += [
            (f"sigma2={sigma2:g}: max rel. diff a / b", f"{rel_a:12.2e} / {rel_b:.2e}  ({realizations} realizations)"),
            (f"sigma2={sigma2:g}: same, in MC standard errors", f"{z_a:12.1f} / {z_b:.1f}"),
            (
                f"sigma2={sigma2:g}: time closed form / Monte Carlo",
                f"{closed_time / a.shape[0] * 1e6:10.1f} us / {mc_time / a.shape[0] * 1e3:.0f} ms per sample",
            ),
        ]
    draw = draw_channels(config, config.clusters[2].ues_per_cell, 1, np.random.default_rng(4))
    local = _best_time(
        lambda: monte_carlo_se_coefficients(
            draw.gains,
            draw.cell,
            np.random.default_rng(5),
            antennas=config.antennas,
            realizations=500,
            angles=draw.angles,
        ),
        3,
    )
    rows.append(("local scattering Monte Carlo (500 realizations)", f"{local * 1e3:10.0f} ms per sample"))
    return rows


def bench_federation() -> list[tuple[str, str]]:
    config = preset("paper")
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        build_federation(config, 0, cache_dir=folder, progress=False)
        build = time.perf_counter() - start
        size = cache_path(config, 0, folder).stat().st_size
        start = time.perf_counter()
        build_federation(config, 0, cache_dir=folder, progress=False)
        load = time.perf_counter() - start
    samples = config.num_eps * config.samples_per_ep
    return [
        (f"paper federation ({samples} samples) from scratch", f"{build:10.2f} s  (target < 10 s), incl. writing"),
        ("paper federation from the cache", f"{load:10.2f} s  ({size / 2**20:.0f} MiB file)"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cvxpy-samples", type=int, default=60, help="samples solved by the cvxpy reference")
    parser.add_argument("--realizations", type=int, default=1000, help="Monte Carlo channel realizations")
    parser.add_argument("--skip-federation", action="store_true", help="do not build the paper federation")
    args = parser.parse_args()
    print(f"bench_labels: {os.cpu_count()} CPU core(s) visible, numpy {np.__version__}")
    sections = [
        ("max-min power (8), paper topologies", bench_solvers(args.cvxpy_samples)),
        ("SE coefficients (6)-(7): closed form vs Monte Carlo", bench_coefficients(args.realizations)),
    ]
    if not args.skip_federation:
        sections.append(("federated dataset", bench_federation()))
    width = max(len(name) for _, rows in sections for name, _ in rows)
    for title, rows in sections:
        print(f"\n{title}\n{'-' * (width + 40)}")
        for name, value in rows:
            print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
