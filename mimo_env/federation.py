"""Containers of the federated datasets (built by :func:`mimo_env.dataset.build_federation`).

Shapes use ``n`` samples, ``K = K_max``, ``L`` cells and ``U = L * K_max`` slots (see :mod:`mimo_env.layout`).
Everything is numpy; the FL engine moves it to the training device once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mimo_env.config import ScenarioConfig

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Split:
    """One split (train, validation or test) of one EP's dataset.

    Attributes:
        features: [n, K, L, L] float64, beta~ from AP j to the k-th UE of cell l at ``[k, l, j]``; 0 on padding.
        labels: [n, K, L] float64, rho* in mW (the EP's max-min solution from its own estimated coefficients);
            0 on padding.
        mask: [n, U] bool, True on real UE slots.
        cell: [n, U] int64, serving AP of each slot, -1 on padding.
        noisy: [n] bool, True where the label was computed from imperfect CSI.
        est_a: [n, U] float64, useful-signal gains as the EP estimates them (what its labels solve; what an
            SE-aware loss may use).
        est_b: [n, U, U] float64, interference gains as the EP estimates them, ``b[m, u]``: slot m's stream at u.
        true_a: [n, U] float64, the true noise-free coefficients, for evaluation only.
        true_b: [n, U, U] float64, likewise.
        optimal_min_se: [n] float64, the per-sample minimum SE (bit/s/Hz) of the exact max-min allocation on the
            true coefficients: the optimum any allocation can reach.
        equal_power_min_se: [n] float64, the per-sample minimum SE of equal power (``p_max / K_j`` per UE of AP j)
            on the true coefficients: the naive baseline.
    """

    features: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    cell: np.ndarray
    noisy: np.ndarray
    est_a: np.ndarray
    est_b: np.ndarray
    true_a: np.ndarray
    true_b: np.ndarray
    optimal_min_se: np.ndarray
    equal_power_min_se: np.ndarray

    def __len__(self) -> int:
        return int(self.features.shape[0])


@dataclass(frozen=True)
class EPDataset:
    """One edge processor's local data.

    Attributes:
        index: EP index n in [0, N).
        topology_cluster: ground-truth topology cluster (index into ``config.clusters``); unknown to the server.
        noisy_fraction: fraction of this EP's samples with labels from imperfect CSI.
        train, val, test: the three splits.
    """

    index: int
    topology_cluster: int
    noisy_fraction: float
    train: Split
    val: Split
    test: Split

    def split(self, name: str) -> Split:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; choose one of {SPLITS}")
        return getattr(self, name)


@dataclass(frozen=True)
class Federation:
    """All EPs' datasets of one scenario and data seed.

    Attributes:
        config: the scenario it was built from.
        seed: the data seed.
        eps: one :class:`EPDataset` per EP, in EP order (cluster by cluster, as ``config.ep_cluster``).
    """

    config: ScenarioConfig
    seed: int
    eps: tuple[EPDataset, ...]

    @property
    def num_eps(self) -> int:
        return len(self.eps)

    @property
    def topology_clusters(self) -> np.ndarray:
        """[N] int64, ground-truth topology cluster of each EP."""
        return np.array([ep.topology_cluster for ep in self.eps], dtype=np.int64)
