"""Fixtures of the scale tests: a tiny synthetic survey and a 2-worker Dask cluster in this process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "subjects"))

from subjects_synth import make_survey  # noqa: E402


@pytest.fixture(scope="session")
def scale_survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Catalogue path of a 10-candidate synthetic survey (read-only)."""
    return make_survey(tmp_path_factory.mktemp("scale_survey"), n=10)


@pytest.fixture(scope="session")
def threads_client() -> Iterator[Any]:
    """A 2-worker LocalCluster of threads (processes=False: starts in a second on 2 cores)."""
    pytest.importorskip("distributed", reason="the dask extra (pip install -e '.[test]' installs it)")
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        yield client
