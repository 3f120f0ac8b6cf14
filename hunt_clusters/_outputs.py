"""Output folders: what each command writes there, so that nothing else is ever replaced or removed.

One rule for every command that writes an output folder (``--out``): a folder that exists and holds
anything the command does not write is refused before any work starts, in one line naming the
folder and one of the files it holds::

    error: results: holds notes.txt, which 'hunt-clusters train-on-votes' does not write; nothing was changed
    (choose another --out, or move the file away)

A folder holding only what the command writes (a previous run of it) is replaced or updated; files
are removed only when they match what the command writes (`Layout.patterns`), so a file a user put
there is never deleted, also when the command fails or is interrupted (`output_folder`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ._errors import HuntClustersError

log = logging.getLogger(__name__)


class ForeignFilesError(HuntClustersError):
    """An output folder holds a file that the command did not write; nothing was changed."""


@dataclass(frozen=True)
class Layout:
    """What one command writes in its output folder.

    Attributes
    ----------
    command : str
        The subcommand, for messages (``"train-on-votes"``).
    patterns : tuple of str
        `fnmatch` patterns of the paths it writes, relative to the folder, with ``/`` between parts
        (``*`` also matches ``/``: ``"xray/*"`` is everything under ``xray/``).
    signature : str, optional
        A JSON file the command writes with ``versions.hunt_clusters`` set; a non-empty folder is
        replaced wholesale (`replace_folder`) only when it holds it.
    subfolders : tuple of (str, str)
        ``(folder, layout)``: a subfolder written by another command (the demo's ``cnn/`` is a
        train-on-votes run folder), whose files are judged by that command's layout.
    """

    command: str
    patterns: tuple[str, ...]
    signature: str | None = None
    subfolders: tuple[tuple[str, str], ...] = ()

    def owns(self, relpath: str) -> bool:
        """Whether the command writes the file ``relpath`` (relative, ``/``-separated).

        Examples
        --------
        >>> LAYOUTS["report"].owns("figures/roc.png"), LAYOUTS["report"].owns("notes.txt")
        (True, False)
        """
        for sub, layout in self.subfolders:
            if relpath.startswith(sub + "/"):
                return LAYOUTS[layout].owns(relpath[len(sub) + 1:])
        return any(fnmatch.fnmatchcase(relpath, p) for p in self.patterns)


_REPORT = ("report.html", "metrics.json", "figures/*.png", "*.part")
_RENDER = ("*.jpg", "*.jpeg", "*.png", "manifest.csv", "tensors.npz", "tensors.part.npz", "render_failures.csv",
           "render_state.json", "*.part", "upload_ledger.csv", "upload_ledger.lock", ".upload_ledger.*.tmp",
           # the mock observers' cue cache (simulate-volunteers / simulate-experts write it beside the manifest)
           "cues.parquet")

#: What each command that writes an output folder writes there (docs/formats.md).
LAYOUTS: dict[str, Layout] = {
    "simulate": Layout("simulate", ("candidates.ecsv", "candidates.ecsv.part", "xray/*", "optical/*")),
    "render": Layout("render", _RENDER),
    "kosiba-layout": Layout("render --kosiba-layout", ("*.png", "train.csv", "test.csv", "*.part")),
    "aggregate": Layout("aggregate", (
        "votes.parquet", "votes.csv", "expert_votes.parquet", "expert_votes.csv", "rejects.csv",
        "unmapped_answers.csv", "labels.csv", "volunteers.csv", "metrics.json", "gold.csv", "folds.csv", "*.part",
        ".partitions/*")),
    "train-on-votes": Layout("train-on-votes", (
        "config.json", "metrics.json", "predictions.csv", "ensemble.csv", "history.csv", "candidates.csv",
        "labels.csv", "aggregate_metrics.json", "*/run_[0-9][0-9].keras", "*/run_[0-9][0-9][0-9].keras"),
        signature="config.json", subfolders=(("report", "report"),)),  # where earlier hints put the report
    "report": Layout("report", _REPORT),
    "retire": Layout("retire", ("decisions.csv", "caesar_extracts.csv", "caesar_rules.json", "*.part")),
    "replay": Layout("replay", ("policies.csv", "curves.csv", "labels.csv", "active_learning.csv", "summary.json",
                                "predictions.csv", "figures/*.png", "*.part")),
    "demo": Layout("demo", (
        "contact_sheet.jpg", "classifications.csv", "workflows.csv", "*.part", ".*.part"),
        subfolders=(("mock_survey", "simulate"), ("subject_set", "render"), ("expert_set", "render"),
                    ("aggregate", "aggregate"), ("cnn", "train-on-votes"), ("cnn.part", "train-on-votes"),
                    ("report", "report"))),
}


#: A file that only one command writes, to say what a folder given to another command is.
_TELLTALES: tuple[tuple[str, str], ...] = (
    ("demo", "mock_survey/candidates.ecsv"), ("train-on-votes", "predictions.csv"), ("report", "report.html"),
    ("replay", "policies.csv"), ("aggregate", "votes.parquet"), ("aggregate", "votes.csv"), ("render", "manifest.csv"),
    ("simulate", "candidates.ecsv"),
)


def describe_folder(folder: str | os.PathLike[str]) -> str:
    """What ``folder`` looks like, for messages: which command wrote it, or what it holds.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> describe_folder(d)
    'an empty folder'
    >>> _ = (d / "votes.parquet").write_bytes(b"")
    >>> describe_folder(d)
    "the output folder of 'hunt-clusters aggregate'"
    """
    p = Path(folder)
    if not p.exists():
        return "nothing (no such folder)"
    if not p.is_dir():
        return "a file"
    for command, name in _TELLTALES:
        if (p / name).is_file():
            return f"the output folder of 'hunt-clusters {command}'"
    names = sorted(q.name for q in p.iterdir())
    if not names:
        return "an empty folder"
    return f"{len(names)} entr{'y' if len(names) == 1 else 'ies'} ({', '.join(names[:3])}{', ...' * (len(names) > 3)})"


def _files(folder: Path) -> Iterator[str]:
    """Every file (and link, and other non-folder) under ``folder``, relative, ``/``-separated, sorted."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        rel = Path(root).relative_to(folder)
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            yield (rel / name).as_posix()


def foreign_file(folder: str | os.PathLike[str], layout: Layout) -> str | None:
    """The first file under ``folder`` that ``layout.command`` does not write, or None.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "report.html").write_text("<html>")
    >>> foreign_file(d, LAYOUTS["report"]) is None
    True
    >>> _ = (d / "notes.txt").write_text("mine")
    >>> foreign_file(d, LAYOUTS["report"])
    'notes.txt'
    """
    p = Path(folder)
    if not p.is_dir():
        return None
    return next((f for f in _files(p) if not layout.owns(f)), None)


def _refuse(folder: Path, name: str, layout: Layout, option: str) -> ForeignFilesError:
    return ForeignFilesError(
        f"{folder}: holds {name}, which 'hunt-clusters {layout.command}' does not write; nothing was changed "
        f"(choose another {option}, or move {name} away)")


def _signed(path: Path) -> bool:
    """Whether ``path`` is a JSON file with ``versions.hunt_clusters`` (what train-on-votes writes)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("versions"), dict) and "hunt_clusters" in doc["versions"]


def check_folder(folder: str | os.PathLike[str], command: str, *, replace: bool = False,
                 option: str = "--out") -> Path:
    """Check that ``folder`` is absent, empty, or holds only what ``command`` writes.

    Parameters
    ----------
    folder : str or path-like
        The output folder.
    command : str
        A key of `LAYOUTS`.
    replace : bool
        The folder is to be replaced wholesale: a non-empty one must also hold the layout's
        signature file, written by hunt-clusters.
    option : str
        The option that named the folder, for the message.

    Returns
    -------
    Path

    Raises
    ------
    ForeignFilesError
        One line naming the folder and a file in it that the command did not write.
    """
    p = Path(folder)
    layout = LAYOUTS[command]
    name = foreign_file(p, layout)
    if name is not None:
        raise _refuse(p, name, layout, option)
    if replace and layout.signature and p.is_dir() and any(p.iterdir()) and not _signed(p / layout.signature):
        raise ForeignFilesError(
            f"{p}: not a folder written by 'hunt-clusters {layout.command}' (no {layout.signature} of hunt-clusters "
            f"in it); nothing was changed (choose another {option})")
    return p


def remove_written(folder: str | os.PathLike[str], command: str) -> bool:
    """Remove the files under ``folder`` that ``command`` writes, then the folders left empty.

    Any other file stays, with the folders on its way. Returns whether ``folder`` is gone.
    """
    p = Path(folder)
    if not p.is_dir() or p.is_symlink():
        return not p.exists()
    layout = LAYOUTS[command]
    for rel in list(_files(p)):
        if layout.owns(rel):
            with contextlib.suppress(FileNotFoundError):
                (p / rel).unlink()
    for root, dirs, _ in sorted(os.walk(p, topdown=False), key=lambda t: -len(t[0])):
        with contextlib.suppress(OSError):  # not empty: it holds something we did not write
            os.rmdir(root)
    return not p.exists()


def replace_folder(part: str | os.PathLike[str], out: str | os.PathLike[str], command: str) -> None:
    """Put the finished folder ``part`` in place of ``out``, removing only what ``command`` wrote in ``out``.

    ``out`` is checked again first (a file may have appeared in it since the work started): if it
    now holds anything else, `ForeignFilesError` says so and ``part`` is kept.
    """
    part, out = Path(part), Path(out)
    name = foreign_file(out, LAYOUTS[command])
    if name is not None:
        raise ForeignFilesError(
            f"{out}: holds {name}, which 'hunt-clusters {command}' does not write; it was left as it was and the "
            f"new result is in {part}")
    if out.exists():
        remove_written(out, command)
    os.replace(part, out)


@contextlib.contextmanager
def output_folder(folder: str | os.PathLike[str], command: str, *, option: str = "--out") -> Iterator[Path]:
    """Check ``folder`` (`check_folder`), then run the block that writes it.

    If the block is interrupted (Ctrl-C) and the folder did not exist or was empty before, what the
    command wrote in it is removed (`remove_written`): no half-written output folder stays behind.
    A folder that held an earlier result keeps it.
    """
    p = check_folder(folder, command, option=option)
    fresh = not p.exists() or (p.is_dir() and not any(p.iterdir()))
    try:
        yield p
    except BaseException as exc:
        from ._interrupt import interrupted

        if fresh and (isinstance(exc, KeyboardInterrupt) or interrupted()):
            remove_written(p, command)
        raise


__all__ = ["LAYOUTS", "ForeignFilesError", "Layout", "check_folder", "describe_folder", "foreign_file", "output_folder",
           "remove_written", "replace_folder"]
