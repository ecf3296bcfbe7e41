"""Dependencies flow one way (DESIGN.md "Layout"): checked on the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: package -> the modules of the other packages it may import (prefixes)
ALLOWED = {
    # the FL engine uses the datasets, metrics and shared validation, never the env
    "fl_agents": ("mimo_env.federation", "mimo_env.layout", "mimo_env.metrics", "mimo_env.validation"),
    # selectors know only the action contract (and the RNG-state helpers of checkpoints)
    "ep_selectors": ("mimo_env.spaces", "mimo_env.resume"),
}
OURS = ("mimo_env", "fl_agents", "ep_selectors")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_design_allows(package):
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] in OURS and name.split(".")[0] != package and not name.startswith(ALLOWED[package])
    }
    assert not offending, f"{package} imports outside its contract: {sorted(offending)}"


def test_mimo_env_core_does_not_import_the_selectors():
    """Only the benchmark layer (mimo_env.experiments, the CLI) drives selectors; the env and simulator do not."""
    core = [p for p in (ROOT / "mimo_env").rglob("*.py") if "experiments" not in p.parts and p.name != "cli.py"]
    offending = {f"{p.relative_to(ROOT)}: {n}" for p in core for n in _imports(p) if n.startswith("ep_selectors")}
    assert not offending, sorted(offending)
