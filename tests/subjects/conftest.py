"""Fixtures of the subjects tests: a tiny synthetic survey (10 candidates, 2 of each class)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from subjects_synth import make_survey  # noqa: E402


@pytest.fixture(scope="session")
def tiny_survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Catalogue path of a 10-candidate synthetic survey (read-only: copy before changing)."""
    return make_survey(tmp_path_factory.mktemp("survey"), n=10)
