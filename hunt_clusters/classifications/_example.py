"""Write small classification exports in the exact Zooniverse format (examples, tests, benchmarks)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._blocks import EXPORT_COLUMNS

_QUESTION = "What do the X-ray contours show?"


def export_row(
    classification_id: int,
    user: str,
    subject_id: int,
    answer: Any = None,
    *,
    task: str = "T0",
    candidate_id: str | None = None,
    created_at: str = "2020-01-01 00:00:00 UTC",
    workflow_id: int = 1,
    workflow_version: str = "1.1",
    workflow_name: str = "The Hunt for Galaxy Clusters",
    user_id: int | None = None,
    gold_standard: bool = False,
    expert: str = "",
    seen_before: bool = False,
    annotations: list[dict[str, Any]] | None = None,
) -> dict[str, str]:
    """One export row as Zooniverse writes it (JSON columns compact, as in real exports).

    ``answer`` is the annotation value (label text, list, int or ``None``); ``annotations``
    replaces the whole annotation list (``[]`` for a classification without the task).
    Anonymous users are named ``not-logged-in-<hash>``; their ``user_ip`` is the hash (for a
    logged-in user, the first 20 hex digits of the SHA-1 of the name: the same in every run).

    Examples
    --------
    >>> r = export_row(1, "alice", 101, "Yes", candidate_id="XC1", user_id=5)
    >>> r["annotations"]
    '[{"task":"T0","task_label":"What do the X-ray contours show?","value":"Yes"}]'
    >>> r["user_ip"]  # the same in every process (not Python's randomised hash())
    '522b276a356bdf39013d'
    """
    anon = user.startswith("not-logged-in-")
    ip = user[len("not-logged-in-") :] if anon else hashlib.sha1(user.encode("utf-8")).hexdigest()[:20]
    meta: dict[str, Any] = {
        "source": "api",
        "session": "0" * 16,
        "started_at": created_at.replace(" UTC", "Z").replace(" ", "T"),
        "user_agent": "Mozilla/5.0",
        "utc_offset": "0",
        "finished_at": created_at.replace(" UTC", "Z").replace(" ", "T"),
        "live_project": True,
        "user_language": "en",
    }
    if seen_before:
        meta["seen_before"] = True
    if annotations is None:
        annotations = [{"task": task, "task_label": _QUESTION, "value": answer}]
    sdata: dict[str, Any] = {"retired": None}
    if candidate_id is not None:
        sdata["#candidate_id"] = candidate_id
    dumps = json.dumps
    return {
        "classification_id": str(classification_id),
        "user_name": user,
        "user_id": "" if anon or user_id is None else str(user_id),
        "user_ip": ip,
        "workflow_id": str(workflow_id),
        "workflow_name": workflow_name,
        "workflow_version": workflow_version,
        "created_at": created_at,
        "gold_standard": "true" if gold_standard else "",
        "expert": expert,
        "metadata": dumps(meta, separators=(",", ":")),
        "annotations": dumps(annotations, separators=(",", ":"), ensure_ascii=False),
        "subject_data": dumps({str(subject_id): sdata}, separators=(",", ":"), ensure_ascii=False),
        "subject_ids": str(subject_id),
    }


def write_export_rows(rows: Iterable[Mapping[str, str]], path: str | Path, *, quote_header: bool = False) -> Path:
    """Write export rows (from `export_row`) as a classification export CSV.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_export_rows([export_row(1, "alice", 101, "Yes")], pathlib.Path(tempfile.mkdtemp()) / "e.csv")
    >>> p.read_text().splitlines()[0].split(",")[:2]
    ['classification_id', 'user_name']
    """
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as f:
        if quote_header:
            f.write(",".join(f'"{c}"' for c in EXPORT_COLUMNS) + "\n")
        w = csv.DictWriter(f, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        if not quote_header:
            w.writeheader()
        w.writerows(rows)
    return path


def write_example_export(path: str | Path) -> Path:
    """A four-row export of The Hunt for Galaxy Clusters: three votes and one classification without T0.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from hunt_clusters.classifications import read_export
    >>> p = write_example_export(pathlib.Path(tempfile.mkdtemp()) / "export.csv")
    >>> read_export(p).summary.n_votes
    3
    """
    rows = [
        export_row(1, "alice", 101, "Galaxy cluster with visible galaxies", candidate_id="XC1", user_id=11,
                   created_at="2020-01-01 10:00:00 UTC"),
        export_row(2, "bob", 101, "A star or point source", candidate_id="XC1", user_id=12,
                   created_at="2020-01-01 10:01:00 UTC"),
        export_row(3, "not-logged-in-0123456789abcdef0123", 102, "![icon](https://x/y.png) Something else",
                   candidate_id="XC2", created_at="2020-01-01 10:02:00 UTC"),
        export_row(4, "alice", 102, annotations=[], candidate_id="XC2", user_id=11,
                   created_at="2020-01-01 10:03:00 UTC"),
    ]  # fmt: skip
    return write_export_rows(rows, path)
