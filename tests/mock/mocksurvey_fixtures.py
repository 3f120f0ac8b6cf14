"""Fixtures shared by the mock-survey tests: one tiny survey written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from hunt_clusters.mock import SurveyConfig, SurveyResult, simulate_survey

#: 60 candidates with the paper's structure (overlap and test set inside it).
TINY = SurveyConfig(seed=11, n_expert=40, n_zooniverse=40, n_overlap=20, n_test_clusters=5, n_test_noncluster=5)


_CACHE: dict[str, SurveyResult] = {}


@pytest.fixture(scope="session")
def tiny_survey(tmp_path_factory: pytest.TempPathFactory) -> SurveyResult:
    """A 60-candidate survey (seed 11) written with one process, once per session (the cache makes
    the modules that import this fixture share one survey)."""
    if "tiny" not in _CACHE:
        out: Path = tmp_path_factory.mktemp("tiny_survey")
        _CACHE["tiny"] = simulate_survey(out, TINY, jobs=1)
    return _CACHE["tiny"]
