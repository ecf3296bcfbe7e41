"""Scenario configuration: every constant of the simulated network as a validated, frozen dataclass field.

The defaults are those of the paper (Section IV) and of Björnson, Hoydis and Sanguinetti, *Massive MIMO Networks*
(running example). Units: distances in metres, powers in mW, channel gains normalised by the noise power
(``beta~ = 10 ** ((beta_dB - noise_dBm) / 10)``), so the noise term of eq. (5) is 1.

Presets (:func:`preset`):

========  ==========================================================  ==================
name      federation                                                  samples per EP
========  ==========================================================  ==================
paper     15 EPs in topology clusters of 2, 3 and 10 EPs              1100 (900/100/100)
quick     the same 15 EPs, sized for a few minutes on a 2-core CPU    330 (270/30/30)
tiny      6 EPs, two per topology cluster, for tests                  60 (40/10/10)
========  ==========================================================  ==================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from mimo_env.validation import is_finite_number, plain_scalars

CORRELATION_MODELS = ("uncorrelated", "local_scattering")


def _require(condition: bool, name: str, value: object, expected: str) -> None:
    """Raise ``ValueError`` naming the field and the value when ``condition`` is false."""
    if not condition:
        raise ValueError(f"{name} must be {expected}, got {value!r}")


@dataclass(frozen=True)
class TopologyCluster:
    """One ground-truth topology cluster: how UEs spread over an EP's cells, and its EPs' noisy-label fractions.

    Attributes:
        ues_per_cell: number of UEs in each of the L cells, e.g. ``(5, 1, 1, 1)``.
        noisy_fractions: one entry per EP of this cluster, the fraction of that EP's samples whose labels are
            computed from imperfect CSI (in [0, 1]).
    """

    ues_per_cell: tuple[int, ...]
    noisy_fractions: tuple[float, ...]

    def __post_init__(self) -> None:
        for name in ("ues_per_cell", "noisy_fractions"):
            _require(isinstance(getattr(self, name), (tuple, list, np.ndarray)), name, getattr(self, name), "a tuple")
        for f in self.noisy_fractions:
            _require(
                is_finite_number(f) or isinstance(f, (np.floating, np.integer)),
                "noisy_fractions",
                self.noisy_fractions,
                "numbers in [0, 1]",
            )
        object.__setattr__(self, "ues_per_cell", tuple(self.ues_per_cell))
        object.__setattr__(self, "noisy_fractions", tuple(float(f) for f in self.noisy_fractions))
        _require(len(self.ues_per_cell) > 0, "ues_per_cell", self.ues_per_cell, "non-empty")
        for k in self.ues_per_cell:
            _require(
                isinstance(k, (int, np.integer)) and k >= 0, "ues_per_cell", self.ues_per_cell, "non-negative integers"
            )
        _require(sum(self.ues_per_cell) > 0, "ues_per_cell", self.ues_per_cell, "at least one UE in total")
        _require(len(self.noisy_fractions) > 0, "noisy_fractions", self.noisy_fractions, "one entry per EP (>= 1)")
        for f in self.noisy_fractions:
            _require(is_finite_number(f) and 0.0 <= f <= 1.0, "noisy_fractions", self.noisy_fractions, "in [0, 1]")
        plain_scalars(self)

    @property
    def num_eps(self) -> int:
        return len(self.noisy_fractions)


PAPER_CLUSTERS: tuple[TopologyCluster, ...] = (
    TopologyCluster(ues_per_cell=(2, 2, 2, 2), noisy_fractions=(0.0, 0.1)),
    TopologyCluster(ues_per_cell=(5, 1, 1, 1), noisy_fractions=(0.0, 0.1, 0.2)),
    TopologyCluster(ues_per_cell=(3, 3, 1, 1), noisy_fractions=tuple(np.linspace(0.0, 0.4, 10).tolist())),
)


@dataclass(frozen=True)
class ScenarioConfig:
    """The simulated federation: network constants, topology clusters, CSI noise and dataset sizes.

    Attributes:
        antennas: M, antennas per AP.
        cells_per_side: the EP's area is a ``cells_per_side x cells_per_side`` grid of square cells (L = its square).
        cell_side_m: side of one square cell (m); the AP sits at its centre.
        min_distance_m: minimum AP-UE distance of a drop in its own cell (m).
        pathloss_at_1km_db: median channel gain at 1 km (dB), Upsilon of eq. (1).
        pathloss_exponent: alpha of eq. (1) (the slope is ``10 * alpha`` dB per decade).
        shadowing_std_db: standard deviation of the log-normal shadow fading F (dB).
        noise_power_dbm: receiver noise power (dBm); gains are normalised by it.
        p_max_mw: rho_max, the power budget of each AP (mW).
        tau_c, tau_d: coherence-block length and its downlink part (samples); SE prefactor ``tau_d / tau_c``.
        correlation: ``"uncorrelated"`` (R = beta I) or ``"local_scattering"`` (the book's Gaussian local
            scattering model with a uniform linear array).
        angular_std_deg: angular standard deviation of the local scattering model (degrees).
        antenna_spacing: ULA antenna spacing in wavelengths (local scattering model).
        sigma2: variance of the channel-estimation error of eq. (3), in normalised units; used for the labels of
            the noisy samples (0 makes every label noise-free).
        clusters: the ground-truth topology clusters; EPs are numbered cluster by cluster.
        samples_per_ep: samples drawn for each EP.
        split: (train, validation, test) sizes; they must add up to ``samples_per_ep``.
    """

    antennas: int = 100
    cells_per_side: int = 2
    cell_side_m: float = 500.0
    min_distance_m: float = 35.0
    pathloss_at_1km_db: float = -148.1
    pathloss_exponent: float = 3.76
    shadowing_std_db: float = 10.0
    noise_power_dbm: float = -94.0
    p_max_mw: float = 1000.0
    tau_c: int = 200
    tau_d: int = 190
    correlation: str = "uncorrelated"
    angular_std_deg: float = 10.0
    antenna_spacing: float = 0.5
    sigma2: float = 0.0
    clusters: tuple[TopologyCluster, ...] = field(default=PAPER_CLUSTERS)
    samples_per_ep: int = 1100
    split: tuple[int, int, int] = (900, 100, 100)

    def __post_init__(self) -> None:
        for name in ("clusters", "split"):
            _require(isinstance(getattr(self, name), (tuple, list, np.ndarray)), name, getattr(self, name), "a tuple")
        object.__setattr__(self, "clusters", tuple(self.clusters))
        object.__setattr__(self, "split", tuple(self.split))
        for name in ("antennas", "cells_per_side", "tau_c", "tau_d", "samples_per_ep"):
            value = getattr(self, name)
            _require(
                isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1,
                name,
                value,
                "a positive integer",
            )
        for name in ("cell_side_m", "p_max_mw"):
            value = getattr(self, name)
            _require(is_finite_number(value) and value > 0, name, value, "a finite number > 0")
        for name in ("pathloss_at_1km_db", "noise_power_dbm"):
            _require(is_finite_number(getattr(self, name)), name, getattr(self, name), "a finite number")
        for name in (
            "pathloss_exponent",
            "shadowing_std_db",
            "min_distance_m",
            "sigma2",
            "angular_std_deg",
            "antenna_spacing",
        ):
            value = getattr(self, name)
            _require(is_finite_number(value) and value >= 0, name, value, "a finite number >= 0")
        _require(
            self.min_distance_m < self.cell_side_m / 2,
            "min_distance_m",
            self.min_distance_m,
            f"smaller than half the cell side (cell_side_m / 2 = {self.cell_side_m / 2} m)",
        )
        _require(self.tau_d <= self.tau_c, "tau_d", self.tau_d, f"<= tau_c ({self.tau_c})")
        _require(
            self.correlation in CORRELATION_MODELS, "correlation", self.correlation, f"one of {CORRELATION_MODELS}"
        )
        _require(
            len(self.clusters) > 0 and all(isinstance(c, TopologyCluster) for c in self.clusters),
            "clusters",
            self.clusters,
            "a non-empty tuple of TopologyCluster",
        )
        for c in self.clusters:
            _require(
                len(c.ues_per_cell) == self.num_cells,
                "clusters",
                c.ues_per_cell,
                f"UE counts for each of the {self.num_cells} cells",
            )
        _require(
            len(self.split) == 3 and all(isinstance(s, (int, np.integer)) and s >= 1 for s in self.split),
            "split",
            self.split,
            "three positive integers (train, validation, test)",
        )
        _require(
            sum(self.split) == self.samples_per_ep,
            "split",
            self.split,
            f"sizes adding up to samples_per_ep ({self.samples_per_ep})",
        )
        plain_scalars(self)

    # ----- derived quantities -------------------------------------------------------------------------------
    @property
    def num_cells(self) -> int:
        """L, cells (and APs) per EP."""
        return self.cells_per_side**2

    @property
    def k_max(self) -> int:
        """K_max, the largest number of UEs in one cell over all topology clusters."""
        return max(max(c.ues_per_cell) for c in self.clusters)

    @property
    def num_slots(self) -> int:
        """U = L * K_max UE slots per sample; slot ``u = l * K_max + k`` is the k-th UE of cell l."""
        return self.num_cells * self.k_max

    @property
    def num_eps(self) -> int:
        """N, the number of EPs."""
        return sum(c.num_eps for c in self.clusters)

    @property
    def ep_cluster(self) -> tuple[int, ...]:
        """Ground-truth topology cluster index of each EP, shape [N]."""
        return tuple(ci for ci, c in enumerate(self.clusters) for _ in range(c.num_eps))

    @property
    def ep_noisy_fraction(self) -> tuple[float, ...]:
        """Noisy-label fraction of each EP, shape [N]."""
        return tuple(f for c in self.clusters for f in c.noisy_fractions)

    @property
    def se_prefactor(self) -> float:
        """tau_d / tau_c of eq. (5)."""
        return self.tau_d / self.tau_c

    def replace(self, **changes: object) -> ScenarioConfig:
        """A copy with ``changes`` applied (validated like a new config)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown ScenarioConfig field(s): {sorted(unknown)}")
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, ScenarioConfig] = {
    "paper": ScenarioConfig(),
    "quick": ScenarioConfig(samples_per_ep=330, split=(270, 30, 30)),
    "tiny": ScenarioConfig(
        clusters=(
            TopologyCluster(ues_per_cell=(2, 2, 2, 2), noisy_fractions=(0.0, 0.1)),
            TopologyCluster(ues_per_cell=(5, 1, 1, 1), noisy_fractions=(0.0, 0.1)),
            TopologyCluster(ues_per_cell=(3, 3, 1, 1), noisy_fractions=(0.0, 0.2)),
        ),
        samples_per_ep=60,
        split=(40, 10, 10),
    ),
}


def preset(name: str, **overrides: object) -> ScenarioConfig:
    """The named scenario (``"paper"``, ``"quick"`` or ``"tiny"``) with optional field overrides.

    Example: ``preset("paper", sigma2=5e-4)``.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name].replace(**overrides) if overrides else PRESETS[name]
