"""The federation's datasets as device-resident float32 tensors (moved once; no DataLoader).

Each split (train/val/test) of all EPs is concatenated along the sample axis; EP ``n`` owns the rows
``offsets[n]:offsets[n + 1]``. Minibatches are gathered by row indices ``[S, B]`` (one row of indices per EP), so
the data of many EPs is read in one indexing operation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mimo_env.federation import SPLITS, Federation
from mimo_env.layout import grid_to_slots
from mimo_env.metrics import min_se

TENSOR_FIELDS = ("features", "mask", "labels", "est_a", "est_b", "true_a", "true_b", "label_min_se")


@dataclass(frozen=True)
class DeviceSplit:
    """One split of all EPs, concatenated, on the training device.

    Attributes:
        features: [R, K, L, L] float32; mask: [R, U] bool; labels: [R, U] float32 (rho* in slot layout, mW).
        est_a: [R, U], est_b: [R, U, U] float32, the EPs' estimated coefficients (what the "se" objective uses).
        true_a: [R, U], true_b: [R, U, U] float32, the true coefficients (evaluation only).
        label_min_se: [R] float32, min SE of the label on the estimated coefficients (clamped to >= 1e-6).
        ep_of_row: [R] int64 (device), the EP each row belongs to.
        sizes: [N] int64 numpy, rows per EP; offsets: [N + 1] int64 numpy, cumulative.
        optimal_min_se, equal_power_min_se: [R] float64 numpy, the references of :class:`mimo_env.federation.Split`.
        topology_cluster_of_row: [R] int64 numpy.
    """

    features: torch.Tensor
    mask: torch.Tensor
    labels: torch.Tensor
    est_a: torch.Tensor
    est_b: torch.Tensor
    true_a: torch.Tensor
    true_b: torch.Tensor
    label_min_se: torch.Tensor
    ep_of_row: torch.Tensor
    sizes: np.ndarray
    offsets: np.ndarray
    optimal_min_se: np.ndarray
    equal_power_min_se: np.ndarray
    topology_cluster_of_row: np.ndarray

    @property
    def num_rows(self) -> int:
        return int(self.offsets[-1])

    def ep_rows(self, ep: int) -> torch.Tensor:
        """[|split of EP ep|] int64 row indices on the device."""
        return torch.arange(int(self.offsets[ep]), int(self.offsets[ep + 1]), device=self.features.device)

    def gather(self, rows: torch.Tensor, fields: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """``{field: tensor[rows]}`` for index tensors of any shape (e.g. [S, B] -> [S, B, ...])."""
        return {name: getattr(self, name)[rows] for name in fields}

    def per_ep_mean(self, values: torch.Tensor) -> torch.Tensor:
        """Mean over each EP's rows: ``[..., R]`` -> ``[..., N]``."""
        num_eps = len(self.sizes)
        sums = torch.zeros((*values.shape[:-1], num_eps), dtype=values.dtype, device=values.device)
        sums.index_add_(-1, self.ep_of_row, values)
        return sums / torch.as_tensor(self.sizes, dtype=values.dtype, device=values.device)


def _build_split(federation: Federation, name: str, device: torch.device) -> DeviceSplit:
    config = federation.config
    splits = [ep.split(name) for ep in federation.eps]
    sizes = np.array([len(s) for s in splits], dtype=np.int64)

    def cat(attr: str) -> np.ndarray:
        return np.concatenate([getattr(s, attr) for s in splits], axis=0)

    mask = cat("mask")
    labels = grid_to_slots(cat("labels"))
    est_a, est_b = cat("est_a"), cat("est_b")
    label_min_se = np.maximum(min_se(labels, est_a, est_b, mask, config.se_prefactor), 1e-6)

    def dev(array: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(array)).to(device=device, dtype=dtype)

    ep_of_row = np.repeat(np.arange(len(splits)), sizes)
    return DeviceSplit(
        features=dev(cat("features")),
        mask=dev(mask, torch.bool),
        labels=dev(labels),
        est_a=dev(est_a),
        est_b=dev(est_b),
        true_a=dev(cat("true_a")),
        true_b=dev(cat("true_b")),
        label_min_se=dev(label_min_se),
        ep_of_row=dev(ep_of_row, torch.int64),
        sizes=sizes,
        offsets=np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
        optimal_min_se=cat("optimal_min_se").astype(np.float64),
        equal_power_min_se=cat("equal_power_min_se").astype(np.float64),
        topology_cluster_of_row=np.repeat(federation.topology_clusters, sizes),
    )


@dataclass(frozen=True)
class DeviceFederation:
    """The three splits of a federation on ``device``, plus what the algorithms need to know about it."""

    train: DeviceSplit
    val: DeviceSplit
    test: DeviceSplit
    topology_clusters: np.ndarray
    num_topology_clusters: int
    device: torch.device

    @classmethod
    def from_federation(cls, federation: Federation, device: torch.device) -> DeviceFederation:
        train, val, test = (_build_split(federation, name, device) for name in SPLITS)
        return cls(
            train=train,
            val=val,
            test=test,
            topology_clusters=federation.topology_clusters,
            num_topology_clusters=len(federation.config.clusters),
            device=device,
        )

    def split(self, name: str) -> DeviceSplit:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; choose one of {SPLITS}")
        return getattr(self, name)
