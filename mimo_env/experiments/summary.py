"""Aggregate finished runs over seeds: per CSI condition and method, curves and final values with their spread.

Shapes: ``S`` seeds, ``R`` rounds, ``T`` ground-truth topology clusters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mimo_env.experiments.settings import METHODS
from mimo_env.experiments.store import RunResult


@dataclass(frozen=True)
class MethodSummary:
    """One method at one CSI condition, over its seeds.

    Attributes:
        method: benchmark method name.
        seeds: the seeds, in the order of the arrays' first axis.
        curves: [S, R, T] float64, per-round expected minimum SE of each cluster.
        reward: [S, R] float64, per-round global minimum SE (eq. 12).
        optimal: [S, T] float64, the optimum of each seed's federation, per cluster.
    """

    method: str
    seeds: tuple[int, ...]
    curves: np.ndarray
    reward: np.ndarray
    optimal: np.ndarray

    @property
    def final(self) -> np.ndarray:
        """[S, T] float64, the per-cluster expected minimum SE after the last round."""
        return self.curves[:, -1, :]

    @property
    def final_fraction(self) -> np.ndarray:
        """[S, T] float64, the final values as a fraction of the same seed's optimum."""
        return self.final / self.optimal


@dataclass(frozen=True)
class ConditionSummary:
    """All methods at one CSI noise variance.

    Attributes:
        sigma2: the CSI-noise variance.
        methods: the methods present, in :data:`METHODS` order.
        optimal: [T] float64, the optimum per cluster, mean over the seeds present.
        equal_power: [T] float64, equal power per cluster, mean over the seeds present.
    """

    sigma2: float
    methods: tuple[MethodSummary, ...]
    optimal: np.ndarray
    equal_power: np.ndarray

    @property
    def num_clusters(self) -> int:
        return int(self.optimal.shape[0])

    def method(self, name: str) -> MethodSummary | None:
        """The summary of method ``name``, or None when it has no finished run here."""
        return next((m for m in self.methods if m.method == name), None)


def summarize(results: Sequence[RunResult]) -> list[ConditionSummary]:
    """Group runs by sigma2 (ascending) and method, stacking their seeds (ascending).

    Raises:
        ValueError: no runs, or runs of one condition that disagree on rounds or cluster count.
    """
    if not results:
        raise ValueError("summarize needs at least one finished run, got none")
    conditions = []
    for sigma2 in sorted({r.sigma2 for r in results}):
        at = [r for r in results if r.sigma2 == sigma2]
        shapes = {r.cluster_test_min_se.shape for r in at}
        if len(shapes) != 1:
            raise ValueError(f"runs at sigma2={sigma2!r} disagree on [rounds, clusters]: {sorted(shapes)}")
        per_seed_ref = {r.seed: (r.optimal_min_se, r.equal_power_min_se) for r in at}
        methods = []
        for name in METHODS:
            runs = sorted((r for r in at if r.method == name), key=lambda r: r.seed)
            if runs:
                methods.append(
                    MethodSummary(
                        method=name,
                        seeds=tuple(r.seed for r in runs),
                        curves=np.stack([r.cluster_test_min_se for r in runs]),
                        reward=np.stack([r.reward for r in runs]),
                        optimal=np.stack([r.optimal_min_se for r in runs]),
                    )
                )
        conditions.append(
            ConditionSummary(
                sigma2=sigma2,
                methods=tuple(methods),
                optimal=np.mean([ref[0] for ref in per_seed_ref.values()], axis=0),
                equal_power=np.mean([ref[1] for ref in per_seed_ref.values()], axis=0),
            )
        )
    return conditions


def relative_gain(condition: ConditionSummary, method: str, over: str) -> float | None:
    """Mean over clusters of ``final(method) / final(over) - 1`` (seed means), e.g. CMAB over uniform sampling.

    This is how the paper states its gains ("improves ... against uniform sampling by 4%"). Returns None when
    either method has no run at this condition.
    """
    a, b = condition.method(method), condition.method(over)
    if a is None or b is None:
        return None
    return float(np.mean(a.final.mean(axis=0) / b.final.mean(axis=0) - 1.0))
