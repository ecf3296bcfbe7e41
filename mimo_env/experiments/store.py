"""The results store: one JSON file per ``(method, sigma2, seed)`` run, written atomically, resumable.

Layout of an output directory::

    OUT/experiment.json                     the identity of the experiment (settings shared by every run)
    OUT/runs/<method>__sigma2=<s>__seed=<k>.json   one finished run each

A run file exists only once the run finished (it is written to a temporary file in the same directory, flushed,
and moved into place with ``os.replace``), so an interrupted benchmark leaves no half-written result and resumes
with the runs it lacks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mimo_env.atomic import write_atomic
from mimo_env.experiments.settings import FORMAT_VERSION, METHODS

EXPERIMENT_FILE = "experiment.json"
RUNS_DIR = "runs"


@dataclass(frozen=True)
class RunResult:
    """One finished run: a method trained for R rounds on one federation; T ground-truth topology clusters.

    Attributes:
        method: benchmark method name (see :data:`mimo_env.experiments.settings.METHODS`).
        sigma2: CSI-noise variance of the run's federation.
        seed: data seed and training seed.
        settings: the benchmark settings that produced it (``BenchmarkSettings.to_dict()``).
        identity: the experiment identity (``BenchmarkSettings.identity()``).
        cluster_test_min_se: [R, T] float64, per round, the expected minimum SE of each ground-truth cluster on
            the test sets (bit/s/Hz).
        reward: [R] float64, per round, the global minimum SE of eq. (12).
        cluster_accuracy: [R] float64, per round, the cluster-assignment accuracy (NaN where undefined).
        selected: [R, N] bool, per round, the EPs that trained.
        optimal_min_se: [T] float64, expected minimum SE of the exact max-min allocation per cluster.
        equal_power_min_se: [T] float64, the same for equal power.
        wall_time_s: seconds the run took (informational; not compared anywhere).
    """

    method: str
    sigma2: float
    seed: int
    settings: dict[str, Any]
    identity: dict[str, Any]
    cluster_test_min_se: np.ndarray
    reward: np.ndarray
    cluster_accuracy: np.ndarray
    selected: np.ndarray
    optimal_min_se: np.ndarray
    equal_power_min_se: np.ndarray
    wall_time_s: float

    @property
    def num_rounds(self) -> int:
        return int(self.reward.shape[0])

    @property
    def final_cluster_min_se(self) -> np.ndarray:
        """[T] float64, the per-cluster expected minimum SE after the last round."""
        return self.cluster_test_min_se[-1]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN written as ``null``)."""
        return {
            "format": FORMAT_VERSION,
            "method": self.method,
            "sigma2": self.sigma2,
            "seed": self.seed,
            "settings": self.settings,
            "identity": self.identity,
            "optimal_min_se": _floats(self.optimal_min_se),
            "equal_power_min_se": _floats(self.equal_power_min_se),
            "wall_time_s": self.wall_time_s,
            "rounds": [
                {
                    "round": r + 1,
                    "cluster_test_min_se": _floats(self.cluster_test_min_se[r]),
                    "reward": _float(self.reward[r]),
                    "cluster_accuracy": _float(self.cluster_accuracy[r]),
                    "selected": [bool(x) for x in self.selected[r]],
                }
                for r in range(self.num_rounds)
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        """Inverse of :meth:`to_json`; raises ``ValueError`` on a malformed or foreign-format record."""
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"result format must be {FORMAT_VERSION}, got {data.get('format')!r}")
        try:
            rounds = data["rounds"]
            if not rounds:
                raise ValueError("a run must hold at least one round, got 0")
            return cls(
                method=str(data["method"]),
                sigma2=float(data["sigma2"]),
                seed=int(data["seed"]),
                settings=dict(data["settings"]),
                identity=dict(data["identity"]),
                cluster_test_min_se=np.array([r["cluster_test_min_se"] for r in rounds], dtype=np.float64),
                reward=np.array([_nan(r["reward"]) for r in rounds], dtype=np.float64),
                cluster_accuracy=np.array([_nan(r["cluster_accuracy"]) for r in rounds], dtype=np.float64),
                selected=np.array([r["selected"] for r in rounds], dtype=bool),
                optimal_min_se=np.array(data["optimal_min_se"], dtype=np.float64),
                equal_power_min_se=np.array(data["equal_power_min_se"], dtype=np.float64),
                wall_time_s=float(data["wall_time_s"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed run record: {error!r}") from error


def _float(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _floats(xs: np.ndarray) -> list[float | None]:
    return [_float(x) for x in np.asarray(xs).ravel()]


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` so that readers see either the old file or the complete new one."""
    text = json.dumps(data, indent=1, allow_nan=False).encode("utf-8")
    write_atomic(path, lambda handle: handle.write(text))


def run_filename(method: str, sigma2: float, seed: int) -> str:
    """File name of a run, e.g. ``clustered-cmab__sigma2=0.0005__seed=2.json`` (``repr`` keeps sigma2 exact)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {list(METHODS)}")
    return f"{method}__sigma2={float(sigma2)!r}__seed={int(seed)}.json"


class ResultsStore:
    """An output directory of one experiment.

    Args:
        root: the output directory (created on :meth:`claim`).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def runs_dir(self) -> Path:
        return self.root / RUNS_DIR

    def stored_identity(self) -> dict[str, Any] | None:
        """The identity recorded in the directory, or None when it holds no experiment yet."""
        path = self.root / EXPERIMENT_FILE
        if not path.is_file():
            return None
        with open(path) as handle:
            return json.load(handle)

    def claim(self, identity: dict[str, Any]) -> None:
        """Bind the directory to ``identity``; refuse when it already holds a different experiment.

        Raises:
            ValueError: the directory's experiment differs, naming each differing setting.
        """
        stored = self.stored_identity()
        if stored is None:
            write_json_atomic(self.root / EXPERIMENT_FILE, identity)
            return
        if stored != identity:
            keys = sorted(set(stored) | set(identity))
            diffs = ", ".join(
                f"{k}: {stored.get(k)!r} there, {identity.get(k)!r} now"
                for k in keys
                if stored.get(k) != identity.get(k)
            )
            raise ValueError(
                f"output directory {str(self.root)!r} holds results of different settings ({diffs}); "
                "use another --out directory or the same settings"
            )

    def path(self, method: str, sigma2: float, seed: int) -> Path:
        return self.runs_dir / run_filename(method, sigma2, seed)

    def has(self, method: str, sigma2: float, seed: int) -> bool:
        """Whether the run is finished (its file exists)."""
        return self.path(method, sigma2, seed).is_file()

    def save(self, result: RunResult) -> Path:
        """Write one finished run atomically; returns its path."""
        path = self.path(result.method, result.sigma2, result.seed)
        write_json_atomic(path, result.to_json())
        return path

    def load(self, method: str, sigma2: float, seed: int) -> RunResult:
        with open(self.path(method, sigma2, seed)) as handle:
            return RunResult.from_json(json.load(handle))

    def load_all(self) -> list[RunResult]:
        """Every finished run of the directory, checked to share the directory's identity.

        Raises:
            ValueError: the directory holds no experiment, or a run of another identity.
        """
        identity = self.stored_identity()
        if identity is None:
            raise ValueError(f"{str(self.root)!r} holds no benchmark results ({EXPERIMENT_FILE} missing)")
        results = []
        for path in sorted(self.runs_dir.glob("*.json")):
            with open(path) as handle:
                result = RunResult.from_json(json.load(handle))
            if result.identity != identity:
                raise ValueError(
                    f"run file {str(path)!r} belongs to another experiment: {result.identity!r} != {identity!r}"
                )
            results.append(result)
        return results
