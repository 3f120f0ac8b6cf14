"""Exceptions that the command line turns into one clear line (no traceback unless ``--verbose``)."""

from __future__ import annotations


class HuntClustersError(Exception):
    """A problem with the user's input or environment, explained in one line.

    The message names the file (and row, and value) at fault and what would be valid.
    The CLI prints it as ``error: <message>`` and exits with status 1.
    """


class InputError(HuntClustersError, ValueError):
    """A file, table row or value that cannot be used as given."""


__all__ = ["HuntClustersError", "InputError"]
