"""Shared fixture: the ``tiny`` federation (6 EPs, 3 topology clusters, 40/10/10 samples), built once per session."""

from __future__ import annotations

import pytest

from mimo_env.config import preset
from mimo_env.dataset import build_federation
from mimo_env.federation import Federation


@pytest.fixture(scope="session")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    return build_federation(preset("tiny"), 0, cache_dir=tmp_path_factory.mktemp("datasets"), progress=False)
