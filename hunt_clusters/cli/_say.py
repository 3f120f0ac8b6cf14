"""What a command prints on standard output: tables and summaries unless ``-q``; the result's path always."""

from __future__ import annotations

from typing import Any

_quiet = [False]


def set_quiet(quiet: bool) -> bool:
    """Set ``-q`` for `say`; returns the previous setting (a command run by another one restores it)."""
    previous = _quiet[0]
    _quiet[0] = bool(quiet)
    return previous


def say(*values: Any, **kwargs: Any) -> None:
    """`print`, unless ``-q`` was given: summaries, tables, hints. The final path is printed with `print`."""
    if not _quiet[0]:
        print(*values, **kwargs)


__all__ = ["say", "set_quiet"]
