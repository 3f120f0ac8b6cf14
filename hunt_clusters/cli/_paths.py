"""Checks shared by the subcommands: output paths before the work starts, and argparse types.

Every command checks where it will write before it reads or computes anything, so that a folder
given where a file is needed (or the reverse), or a folder it may not write in, is one line at
once instead of a traceback after the work::

    error: results.csv: is a file; --out needs a folder

Usage errors (``--jobs 0``) are argparse's: exit status 2 and one wording, through the
``type=`` functions here.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .._errors import HuntClustersError


class OutputPathError(HuntClustersError):
    """An output path that cannot be written; the message is ``<path>: <reason>``."""


def positive_int(text: str) -> int:
    """argparse ``type=`` for counts that must be at least 1 (``--jobs``, ``--threads``).

    Examples
    --------
    >>> positive_int("4")
    4
    >>> positive_int("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a whole number of at least 1, not '0'
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """argparse ``type=`` for counts that may be 0 (``--retries``)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 0, not {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse ``type=`` for durations and sizes that must be above 0 (``--timeout``)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text!r}")
    return value


def _check_parent(path: Path, option: str) -> None:
    """The nearest existing folder above ``path`` is a folder we may create things in."""
    parent = path.parent
    while not parent.exists():
        if parent.is_symlink():  # a dangling link: mkdir would fail on it
            raise OutputPathError(f"{parent}: is a broken link; {option} cannot be created under it")
        if parent == parent.parent:
            break
        parent = parent.parent
    if not parent.exists():  # pragma: no cover - a root that does not exist
        raise OutputPathError(f"{path}: no such place")
    if not parent.is_dir():
        raise OutputPathError(f"{parent}: is a file, not a folder; {option} {path} cannot be created under it")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"{parent}: permission denied (cannot create {option} {path} in it)")


def check_output_dir(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Check that ``path`` is, or can be created as, a folder this process can write in.

    Nothing is created. Call it before the work starts.

    Parameters
    ----------
    path : str or path-like
        The output folder.
    option : str
        The option that named it, for the message.

    Returns
    -------
    Path

    Raises
    ------
    OutputPathError
        ``<path>: <reason>``: a file where the folder should be, a file on the way to it, no
        permission.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a.csv").write_text("x")
    1
    >>> check_output_dir(d / "new" / "folder") == d / "new" / "folder"
    True
    >>> check_output_dir(d / "a.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hunt_clusters.cli._paths.OutputPathError: .../a.csv: is a file; --out needs a folder
    """
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            raise OutputPathError(f"{p}: is a file; {option} needs a folder")
        if not os.access(p, os.W_OK | os.X_OK):
            raise OutputPathError(f"{p}: permission denied (the folder of {option} is not writable)")
        return p
    _check_parent(p, option)
    return p


def check_output_file(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Check that ``path`` is, or can be created as, a file this process can write.

    Nothing is created or changed. Call it before the work starts.

    Parameters
    ----------
    path : str or path-like
        The output file.
    option : str
        The option that named it, for the message.

    Returns
    -------
    Path

    Raises
    ------
    OutputPathError
        ``<path>: <reason>``: a folder where the file should be, a file on the way to it, no
        permission.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_file(d / "sub" / "out.csv") == d / "sub" / "out.csv"
    True
    >>> check_output_file(d, "--contact-sheet")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hunt_clusters.cli._paths.OutputPathError: ...: is a folder; --contact-sheet needs a file name
    """
    p = Path(path)
    if p.is_dir():
        raise OutputPathError(f"{p}: is a folder; {option} needs a file name")
    if p.exists():
        if not os.access(p, os.W_OK):
            raise OutputPathError(f"{p}: permission denied (cannot overwrite it)")
        if not os.access(p.parent, os.W_OK | os.X_OK):
            # files are written through a temporary file renamed over the old one
            raise OutputPathError(f"{p.parent}: permission denied (cannot write {option} {p} in it)")
        return p
    _check_parent(p, option)
    return p


def describe_os_error(exc: OSError) -> str:
    """``<path>: <reason>`` for an `OSError` (``<reason>`` alone when it names no path).

    Examples
    --------
    >>> describe_os_error(PermissionError(13, "Permission denied", "out/labels.csv"))
    'out/labels.csv: Permission denied'
    """
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is not None:
        name = os.fsdecode(exc.filename) if isinstance(exc.filename, (str, bytes, os.PathLike)) else str(exc.filename)
        if exc.filename2 is not None:
            return f"{name} -> {os.fsdecode(exc.filename2)}: {reason}"
        return f"{name}: {reason}"
    return reason


__all__ = [
    "OutputPathError",
    "check_output_dir",
    "check_output_file",
    "describe_os_error",
    "non_negative_int",
    "positive_float",
    "positive_int",
]
