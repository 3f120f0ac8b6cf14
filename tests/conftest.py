"""Shared fixtures: where the real data live, temporary survey folders."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Real public files (Zooniverse exports, XMM-Newton, DSS, ROSAT FITS); see SOURCES.md there.
REAL = ROOT.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The folder of real data files; tests that need it are skipped when it is absent."""
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} not found")
    return REAL
