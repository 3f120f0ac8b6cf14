"""Write the votes, expert votes, rejects and unmapped answers of an export into a folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import pandas as pd

from .._errors import InputError
from ._reader import ExportVotes

log = logging.getLogger(__name__)


def _write_table(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".part")
    if path.suffix == ".parquet":
        df.to_parquet(tmp, index=False)
    else:
        df.to_csv(tmp, index=False)
    tmp.replace(path)


def write_votes(
    result: ExportVotes, out: str | Path, *, votes_format: Literal["parquet", "csv"] = "parquet"
) -> dict[str, Path]:
    """Write ``votes``, ``expert_votes`` (parquet or csv), ``rejects.csv`` and ``unmapped_answers.csv``.

    Parameters
    ----------
    result : ExportVotes
        From `read_export`.
    out : str or Path
        The output folder (created).
    votes_format : {"parquet", "csv"}
        Format of the two votes tables.

    Returns
    -------
    dict
        ``name -> path`` of the files written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from hunt_clusters.classifications import read_export, write_example_export
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> files = write_votes(read_export(write_example_export(d / "e.csv")), d / "out", votes_format="csv")
    >>> sorted(files)
    ['expert_votes', 'rejects', 'unmapped_answers', 'votes']
    """
    if votes_format not in ("parquet", "csv"):
        raise InputError(f"votes format {votes_format!r} is not parquet or csv")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "votes": out / f"votes.{votes_format}",
        "expert_votes": out / f"expert_votes.{votes_format}",
        "rejects": out / "rejects.csv",
        "unmapped_answers": out / "unmapped_answers.csv",
    }
    _write_table(result.votes, files["votes"])
    _write_table(result.expert_votes, files["expert_votes"])
    _write_table(result.rejects, files["rejects"])
    _write_table(
        pd.DataFrame(result.summary.unmapped, columns=["workflow_version", "answer", "votes"]), files["unmapped_answers"]
    )
    log.debug("wrote %s", ", ".join(str(p) for p in files.values()))
    return files
