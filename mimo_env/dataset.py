"""Federated datasets: every EP's drops, max-min labels (noise-free or from imperfect CSI) and splits, cached on disk.

For EP n of topology cluster c (``config.ep_cluster``) with noisy fraction f (``config.ep_noisy_fraction``):

1. ``samples_per_ep`` fresh drops of cluster c's topology (:func:`mimo_env.channel.draw_channels`): gains [n, L, U].
2. True coefficients ``(true_a, true_b)``: closed form with sigma2 = 0 (:func:`mimo_env.channel.se_coefficients`)
   for uncorrelated fading; for ``correlation="local_scattering"`` the Monte Carlo estimator with
   :data:`MONTE_CARLO_REALIZATIONS` realizations per sample (slow: about 0.1-0.2 s per sample on one core, i.e. tens
   of minutes for the ``paper`` federation, against ~1 s in all for the closed form).
3. Exactly ``round(f * samples_per_ep)`` samples, chosen uniformly at random, are noisy: their coefficients are the
   EP's estimates (:func:`mimo_env.channel.estimated_se_coefficients` with ``config.sigma2``, i.e. the noise-free
   formulas on ``beta~ + sigma2``); the others' estimates are the true coefficients. ``est_a, est_b`` hold what each
   label was solved from.
4. Labels: the exact max-min allocation (:func:`mimo_env.power.maxmin_power`) on ``est_*``, in grid layout
   [n, K_max, L]. ``optimal_min_se`` is the minimum SE of the max-min allocation on the true coefficients (the
   noise-free labels' own solution, not solved twice) and ``equal_power_min_se`` that of equal power.
5. Splits train/val/test of sizes ``config.split``, uniformly at random.

Randomness: ``np.random.SeedSequence(seed)`` spawns one child per EP; each child spawns three streams (drops,
label noise and split, Monte Carlo). The same (config, seed) always gives the same federation.

Cache: one ``.npz`` per (config, seed) under ``cache_dir`` (default: ``$MIMO_FL_CACHE`` or
``~/.cache/mimo-clustered-fl``), named by a SHA-256 key of the canonical JSON of ``dataclasses.asdict(config)``, the
seed and :data:`FORMAT_VERSION`; the key is stored inside the file too. Files are written atomically (temporary
file in the same folder, then ``os.replace``) and loaded with ``allow_pickle=False``; a corrupt, truncated or stale
file is reported with a warning and rebuilt.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from mimo_env.atomic import write_atomic
from mimo_env.channel import (
    draw_channels,
    estimated_se_coefficients,
    monte_carlo_se_coefficients,
    se_coefficients,
)
from mimo_env.config import ScenarioConfig
from mimo_env.federation import SPLITS, EPDataset, Federation, Split
from mimo_env.layout import gains_to_features, grid_to_slots, slots_to_grid
from mimo_env.metrics import min_se
from mimo_env.power import equal_power, maxmin_power

#: Version of the cache file layout and of the generation procedure; bump it when either changes.
FORMAT_VERSION = 1
#: Channel realizations per sample of the Monte Carlo coefficients (``correlation="local_scattering"`` only).
MONTE_CARLO_REALIZATIONS = 500
#: Environment variable naming the default cache folder.
CACHE_ENV = "MIMO_FL_CACHE"

_FIELDS = tuple(f.name for f in dataclasses.fields(Split))


# ----- building ------------------------------------------------------------------------------------------------
def _true_and_estimated(
    config: ScenarioConfig,
    gains: np.ndarray,
    angles: np.ndarray,
    cell: np.ndarray,
    noisy: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, ...]:
    """True coefficients of every sample and the EP's estimates (true ones where not noisy)."""
    if config.correlation == "uncorrelated":
        true_a, true_b = se_coefficients(gains, cell, 0.0, config.antennas)
        noisy_a, noisy_b = estimated_se_coefficients(gains[noisy], cell, config.sigma2, config.antennas)
    else:
        common = {
            "antennas": config.antennas,
            "realizations": MONTE_CARLO_REALIZATIONS,
            "angular_std_deg": config.angular_std_deg,
            "antenna_spacing": config.antenna_spacing,
        }
        true_a, true_b = monte_carlo_se_coefficients(gains, cell, rng, angles=angles, **common)
        if config.sigma2 > 0:
            noisy_a, noisy_b = monte_carlo_se_coefficients(
                gains[noisy], cell, rng, sigma2=config.sigma2, angles=angles[noisy], estimated=True, **common
            )
        else:
            noisy_a, noisy_b = true_a[noisy], true_b[noisy]
    est_a, est_b = true_a.copy(), true_b.copy()
    est_a[noisy], est_b[noisy] = noisy_a, noisy_b
    return true_a, true_b, est_a, est_b


def _build_ep(config: ScenarioConfig, index: int, seed_seq: np.random.SeedSequence) -> EPDataset:
    """One EP's dataset (see the module docstring for the procedure)."""
    cluster = config.ep_cluster[index]
    fraction = config.ep_noisy_fraction[index]
    n = config.samples_per_ep
    drop_seq, label_seq, mc_seq = seed_seq.spawn(3)
    draw = draw_channels(config, config.clusters[cluster].ues_per_cell, n, np.random.default_rng(drop_seq))
    label_rng = np.random.default_rng(label_seq)
    noisy = np.zeros(n, dtype=bool)
    noisy[label_rng.choice(n, size=round(fraction * n), replace=False)] = True
    cell = np.broadcast_to(draw.cell, (n, draw.cell.size)).copy()
    mask = cell >= 0
    true_a, true_b, est_a, est_b = _true_and_estimated(
        config, draw.gains, draw.angles, draw.cell, noisy, np.random.default_rng(mc_seq)
    )
    optimal = maxmin_power(true_a, true_b, cell, config.p_max_mw)
    rho = optimal.rho.copy()
    if noisy.any():
        rho[noisy] = maxmin_power(est_a[noisy], est_b[noisy], cell[noisy], config.p_max_mw).rho
    arrays = {
        "features": gains_to_features(draw.gains, config.k_max),
        "labels": slots_to_grid(rho, config.k_max),
        "mask": mask,
        "cell": cell,
        "noisy": noisy,
        "est_a": est_a,
        "est_b": est_b,
        "true_a": true_a,
        "true_b": true_b,
        "optimal_min_se": min_se(optimal.rho, true_a, true_b, mask, config.se_prefactor),
        "equal_power_min_se": min_se(equal_power(cell, config.p_max_mw), true_a, true_b, mask, config.se_prefactor),
    }
    order = label_rng.permutation(n)
    bounds = np.cumsum((0, *config.split))
    splits = {
        name: Split(**{k: np.ascontiguousarray(v[order[lo:hi]]) for k, v in arrays.items()})
        for name, lo, hi in zip(SPLITS, bounds[:-1], bounds[1:], strict=True)
    }
    return EPDataset(index=index, topology_cluster=cluster, noisy_fraction=fraction, **splits)


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def generate_federation(config: ScenarioConfig, seed: int, progress: bool = True) -> Federation:
    """Build the federation of (config, seed) from scratch, without touching the cache.

    Args:
        config: the scenario.
        seed: the data seed (non-negative integer).
        progress: show a tqdm progress bar over the EPs.

    Returns:
        The :class:`~mimo_env.federation.Federation`.
    """
    if not isinstance(config, ScenarioConfig):
        raise ValueError(f"config must be a ScenarioConfig, got {type(config).__name__}")
    seed = _check_seed(seed)
    children = np.random.SeedSequence(seed).spawn(config.num_eps)
    eps = tuple(
        _build_ep(config, n, children[n])
        for n in tqdm(range(config.num_eps), desc="building federation", unit="EP", disable=not progress)
    )
    return Federation(config=config, seed=seed, eps=eps)


# ----- cache ---------------------------------------------------------------------------------------------------
def default_cache_dir() -> Path:
    """``$MIMO_FL_CACHE`` if set, else ``~/.cache/mimo-clustered-fl``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "mimo-clustered-fl"


def cache_key(config: ScenarioConfig, seed: int) -> str:
    """SHA-256 (hex) of the canonical JSON of ``{"config": asdict(config), "seed": seed, "format": FORMAT_VERSION}``."""
    payload = {"config": dataclasses.asdict(config), "seed": _check_seed(seed), "format": FORMAT_VERSION}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def cache_path(config: ScenarioConfig, seed: int, cache_dir: str | Path | None = None) -> Path:
    """Where the federation of (config, seed) is cached: ``<cache_dir>/federation-<key[:24]>.npz``."""
    folder = default_cache_dir() if cache_dir is None else Path(cache_dir)
    return folder / f"federation-{cache_key(config, seed)[:24]}.npz"


def _to_arrays(federation: Federation, key: str) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {"cache_key": np.array(key), "format_version": np.array(FORMAT_VERSION)}
    for ep in federation.eps:
        for name in SPLITS:
            split = ep.split(name)
            for field in _FIELDS:
                arrays[f"ep{ep.index}/{name}/{field}"] = getattr(split, field)
    return arrays


def _save(federation: Federation, path: Path, key: str) -> None:
    """Write the cache file atomically (:func:`mimo_env.atomic.write_atomic`)."""
    write_atomic(path, lambda handle: np.savez(handle, **_to_arrays(federation, key)))


def _expected_shapes(config: ScenarioConfig, size: int) -> dict[str, tuple[tuple[int, ...], str]]:
    k, cells, slots = config.k_max, config.num_cells, config.num_slots
    return {
        "features": ((size, k, cells, cells), "f"),
        "labels": ((size, k, cells), "f"),
        "mask": ((size, slots), "b"),
        "cell": ((size, slots), "i"),
        "noisy": ((size,), "b"),
        "est_a": ((size, slots), "f"),
        "est_b": ((size, slots, slots), "f"),
        "true_a": ((size, slots), "f"),
        "true_b": ((size, slots, slots), "f"),
        "optimal_min_se": ((size,), "f"),
        "equal_power_min_se": ((size,), "f"),
    }


def _load(path: Path, config: ScenarioConfig, seed: int, key: str) -> Federation:
    """Read and check a cache file; raises ``ValueError`` (or an I/O error) when it is not a valid match."""
    with np.load(path, allow_pickle=False) as data:
        if str(data["cache_key"]) != key or int(data["format_version"]) != FORMAT_VERSION:
            raise ValueError("stale cache file (key or format version differs)")
        eps = []
        for n in range(config.num_eps):
            splits = {}
            for name, size in zip(SPLITS, config.split, strict=True):
                fields = {}
                for field, (shape, kind) in _expected_shapes(config, size).items():
                    value = data[f"ep{n}/{name}/{field}"]
                    if value.shape != shape or value.dtype.kind != kind:
                        raise ValueError(
                            f"ep{n}/{name}/{field} has shape {value.shape} and dtype {value.dtype}, "
                            f"expected {shape} of kind {kind!r}"
                        )
                    if kind == "f" and not np.all(np.isfinite(value)):
                        raise ValueError(f"ep{n}/{name}/{field} holds non-finite values")
                    fields[field] = value
                splits[name] = Split(**fields)
            eps.append(
                EPDataset(
                    index=n, topology_cluster=config.ep_cluster[n], noisy_fraction=config.ep_noisy_fraction[n], **splits
                )
            )
    return Federation(config=config, seed=seed, eps=tuple(eps))


def build_federation(
    config: ScenarioConfig, seed: int, cache_dir: str | Path | None = None, progress: bool = True
) -> Federation:
    """The federation of (config, seed): loaded from the on-disk cache, or built and cached.

    Args:
        config: the scenario.
        seed: the data seed (non-negative integer).
        cache_dir: cache folder; None for :func:`default_cache_dir`. A cache that cannot be written is reported
            with a warning and skipped.
        progress: show a tqdm progress bar over the EPs while building.

    Returns:
        The :class:`~mimo_env.federation.Federation`: ``config.num_eps`` EPs, each with train/val/test splits of
        ``config.split`` sizes.
    """
    if not isinstance(config, ScenarioConfig):
        raise ValueError(f"config must be a ScenarioConfig, got {type(config).__name__}")
    seed = _check_seed(seed)
    if cache_dir is not None and not isinstance(cache_dir, (str, Path)):
        raise ValueError(f"cache_dir must be None or a path, got {cache_dir!r}")
    key = cache_key(config, seed)
    path = cache_path(config, seed, cache_dir)
    if path.exists():
        try:
            return _load(path, config, seed, key)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            warnings.warn(f"dataset cache {str(path)!r} is unusable ({error}); rebuilding it", stacklevel=2)
    federation = generate_federation(config, seed, progress=progress)
    try:
        _save(federation, path, key)
    except OSError as error:  # e.g. a read-only or full disk: the federation is still good, just not cached
        warnings.warn(f"could not write the dataset cache {str(path)!r} ({error})", stacklevel=2)
    return federation


# ----- summary -------------------------------------------------------------------------------------------------
def _concat(federation: Federation, eps: list[int], field: str) -> np.ndarray:
    return np.concatenate([getattr(federation.eps[n].split(s), field) for n in eps for s in SPLITS])


def describe_federation(federation: Federation) -> str:
    """A human-readable summary: scenario, per-cluster sizes, noisy fractions, label statistics and the optimal and
    equal-power expected minimum SE (over all samples of the cluster's EPs, true coefficients).

    Args:
        federation: a federation from :func:`build_federation`.

    Returns:
        A multi-line string.
    """
    config = federation.config
    lines = [
        f"Federation (seed {federation.seed}): {federation.num_eps} EPs, L = {config.num_cells} cells of "
        f"{config.cell_side_m:g} m, M = {config.antennas}, K_max = {config.k_max}, p_max = {config.p_max_mw:g} mW, "
        f"{config.correlation} fading, sigma2 = {config.sigma2:g}",
        f"samples per EP: {config.samples_per_ep} (train/val/test {'/'.join(map(str, config.split))})",
        "",
        "E[min SE] (bit/s/Hz, mean over all samples of the cluster's EPs, true coefficients) of the max-min",
        "optimum, of the labels (lower where they come from imperfect CSI) and of equal power.",
        "",
        "cluster  EPs  UEs per cell  label mean/max (mW)  optimal  labels  equal power  noisy fraction per EP",
    ]
    topology = federation.topology_clusters
    for c, cluster in enumerate(config.clusters):
        eps = [int(n) for n in np.flatnonzero(topology == c)]
        actual = ", ".join(f"{_concat(federation, [n], 'noisy').mean():.2f}" for n in eps)
        mask = _concat(federation, eps, "mask")
        labels = _concat(federation, eps, "labels")
        real = labels[slots_to_grid(mask, config.k_max)]
        label_se = min_se(
            grid_to_slots(labels),
            _concat(federation, eps, "true_a"),
            _concat(federation, eps, "true_b"),
            mask,
            config.se_prefactor,
        )
        lines.append(
            f"{c + 1:>7}  {len(eps):>3}  {cluster.ues_per_cell!s:<12}  {real.mean():>8.1f} / {real.max():>6.1f}"
            f"  {_concat(federation, eps, 'optimal_min_se').mean():>7.4f}  {label_se.mean():>6.4f}"
            f"  {_concat(federation, eps, 'equal_power_min_se').mean():>11.4f}  {actual}"
        )
    return "\n".join(lines)
