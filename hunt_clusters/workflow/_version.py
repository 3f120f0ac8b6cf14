"""Zooniverse workflow versions: ``"MAJOR.MINOR"``, two integer counters, never a float."""

from __future__ import annotations

import re

from .._errors import InputError

_VERSION = re.compile(r"\s*(\d+)(?:\.(\d+))?\s*")


def parse_version(text: object, *, allow_major: bool = False, source: str = "version") -> tuple[int, int | None]:
    """Parse a Zooniverse workflow version into ``(major, minor)``.

    Parameters
    ----------
    text : str or int
        ``"16.55"``; with ``allow_major=True`` also ``"16"`` (minor ``None``).
    allow_major : bool
        Accept a major version alone.
    source : str
        Named in the error message.

    Raises
    ------
    InputError
        When ``text`` is not two integers joined by a dot.

    Examples
    --------
    >>> parse_version("16.5"), parse_version("16.50")
    ((16, 5), (16, 50))
    >>> parse_version("16", allow_major=True)
    (16, None)
    """
    m = _VERSION.fullmatch(str(text))
    if m is None or (m.group(2) is None and not allow_major):
        want = "'MAJOR.MINOR' or 'MAJOR'" if allow_major else "'MAJOR.MINOR'"
        raise InputError(f"{source}: {text!r} is not a workflow version; expected {want} (two integers), e.g. '16.55'")
    return int(m.group(1)), (int(m.group(2)) if m.group(2) is not None else None)
