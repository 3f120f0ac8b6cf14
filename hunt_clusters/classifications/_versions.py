"""Workflow versions ``"major.minor"``: two integer counters, never a float."""

from __future__ import annotations

from dataclasses import dataclass

from .._errors import InputError
from ..workflow import parse_version



@dataclass(frozen=True)
class VersionRange:
    """An inclusive range of workflow versions, compared as integer pairs.

    ``VersionRange.from_options(version="16")`` keeps every 16.x, ``version="16.55"`` only 16.55,
    ``min_version="14.53", max_version="15"`` everything from 14.53 up to the last 15.x.

    Attributes
    ----------
    low, high : tuple of int, optional
        Inclusive bounds ``(major, minor)``; ``None`` for open.

    Examples
    --------
    >>> r = VersionRange.from_options(version="16")
    >>> r.contains(16, 55), r.contains(17, 1), r.contains(15, 99)
    (True, False, False)
    >>> str(VersionRange.from_options(min_version="14.53", max_version="15"))
    '14.53 to 15.x'
    """

    low: tuple[int, int] | None = None
    high: tuple[int, int] | None = None

    @classmethod
    def from_options(
        cls, version: str | None = None, min_version: str | None = None, max_version: str | None = None
    ) -> VersionRange:
        """Build a range from the command-line options ``--version``, ``--min-version``, ``--max-version``."""
        if version is not None and (min_version is not None or max_version is not None):
            raise InputError("--version cannot be combined with --min-version/--max-version")
        big = 2**62
        if version is not None:
            major, minor = parse_version(version, allow_major=True, source="--version")
            if minor is None:
                return cls((major, 0), (major, big))
            return cls((major, minor), (major, minor))
        low = high = None
        if min_version is not None:
            major, minor = parse_version(min_version, allow_major=True, source="--min-version")
            low = (major, minor if minor is not None else 0)
        if max_version is not None:
            major, minor = parse_version(max_version, allow_major=True, source="--max-version")
            high = (major, minor if minor is not None else big)
        if low is not None and high is not None and low > high:
            raise InputError(f"--min-version {min_version} is above --max-version {max_version}")
        return cls(low, high)

    @property
    def is_all(self) -> bool:
        """True when the range keeps every version."""
        return self.low is None and self.high is None

    def contains(self, major: int, minor: int) -> bool:
        """Whether version ``major.minor`` lies in the range."""
        v = (major, minor)
        return (self.low is None or v >= self.low) and (self.high is None or v <= self.high)

    def __str__(self) -> str:
        def fmt(v: tuple[int, int] | None) -> str:
            if v is None:
                return "any"
            return f"{v[0]}.x" if v[1] >= 2**62 else f"{v[0]}.{v[1]}"

        if self.is_all:
            return "all versions"
        if self.low == self.high:
            return fmt(self.low)
        if self.low is not None and self.high is not None and self.low[0] == self.high[0] and self.low[1] == 0 and self.high[1] >= 2**62:
            return f"{self.low[0]}.x"
        return f"{fmt(self.low)} to {fmt(self.high)}"
