"""Workflow versions are two integers: 16.5 is not 16.50."""

from __future__ import annotations

import pytest

from hunt_clusters._errors import InputError
from hunt_clusters.classifications import VersionRange, parse_version


def test_parse_version_integers() -> None:
    assert parse_version("16.5") == (16, 5)
    assert parse_version("16.50") == (16, 50)
    assert parse_version("16.5") < parse_version("16.50")  # as floats these would be equal-ish / reversed
    assert parse_version("16", allow_major=True) == (16, None)


@pytest.mark.parametrize("bad", ["16", "16.", "v16.5", "16.5.1", "", "1e3"])
def test_parse_version_rejects(bad: str) -> None:
    with pytest.raises(InputError, match="is not a workflow version"):
        parse_version(bad)


def test_major_range() -> None:
    r = VersionRange.from_options(version="16")
    assert r.contains(16, 1) and r.contains(16, 55) and r.contains(16, 10**9)
    assert not r.contains(17, 0) and not r.contains(15, 99)
    assert str(r) == "16.x"


def test_exact_and_min_max() -> None:
    r = VersionRange.from_options(version="16.55")
    assert r.contains(16, 55) and not r.contains(16, 5) and not r.contains(16, 56)
    r = VersionRange.from_options(min_version="14.53", max_version="15")
    assert [r.contains(*v) for v in [(14, 52), (14, 53), (15, 99), (16, 1)]] == [False, True, True, False]
    assert VersionRange.from_options().is_all
    assert VersionRange.from_options(min_version="3").contains(3, 1)


def test_bad_ranges() -> None:
    with pytest.raises(InputError, match="cannot be combined"):
        VersionRange.from_options(version="3", min_version="2")
    with pytest.raises(InputError, match="above"):
        VersionRange.from_options(min_version="5.1", max_version="5.0")
