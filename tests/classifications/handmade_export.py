"""A 20-row classification export whose votes under each duplicates policy were worked out by hand.

Workflow 1 (The Hunt for Galaxy Clusters), task T0; rows in file order (cid = classification id):

  row cid user        subject  answer                                   notes
   1   1  alice       101      Galaxy cluster with visible galaxies     10:00
   2   2  bob         101      A star or point source                   10:05
   3   3  alice       101      A single bright galaxy                   10:10  alice again (first: r1, last: r3)
   4   4  anon-aaaa   101      Something else                           10:15
   5   5  anon-aaaa   101      Galaxy cluster with visible galaxies     09:00  earlier, later in the file (first: r5)
   6   6  anon-bbbb   101      ![icon](url) A **star** or point source  markdown -> point
   7   7  alice       102      1 (integer index)                        -> hi-z
   8   8  bob         102      null                                     answer and class empty
   9   9  carol       102      ...no visible galaxies (distant)         seen_before
  10  10  carol       102      A star or point source                   seen_before, carol again
  11  11  erin        102      Galaxy cluster with visible galaxies     expert -> set apart
  12  12  gus         101      A star or point source                   gold standard -> set apart
  13  13  dave        103      Unknown answer text                      version 1.2, maps to no class
  14  14  dave        103      (no annotation)                          task absent; dave again
  15  15  frank       103      ["Something else", "A single bright galaxy"]  version 2.3, two votes
  16  16  bob         103      broken annotations JSON                  rejected
  17  17  bob         104      subject without #candidate_id            rejected
  18  18  bob         103      workflow_version "1.x"                   rejected
  19  19  gina        103      workflow 2                               other workflow
  20   1  alice       101      exact repeat of classification 1         repeated classification id
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hunt_clusters.classifications import export_row, write_export_rows

A0 = "Galaxy cluster with visible galaxies"
A1 = "Galaxy cluster with no visible galaxies (distant)"
A2 = "A single bright galaxy"
A3 = "A star or point source"
A4 = "Something else"
ANON_A = "not-logged-in-aaaaaaaaaaaaaaaaaaaa"
ANON_B = "not-logged-in-bbbbbbbbbbbbbbbbbbbb"
CAND = {101: "XC1", 102: "XC2", 103: "XC3"}


def _t(hhmm: str) -> str:
    return f"2020-03-01 {hhmm}:00 UTC"


def rows() -> list[dict[str, str]]:
    """The 20 rows (see the module docstring)."""
    def r(cid, user, sid, answer=None, t="10:00", **kw):  # type: ignore[no-untyped-def]
        kw.setdefault("candidate_id", CAND.get(sid))
        uid = None if user.startswith("not-logged-in-") else 100 + sum(map(ord, user))
        return export_row(cid, user, sid, answer, created_at=_t(t), user_id=uid, **kw)

    out = [
        r(1, "alice", 101, A0, "10:00"),
        r(2, "bob", 101, A3, "10:05"),
        r(3, "alice", 101, A2, "10:10"),
        r(4, ANON_A, 101, A4, "10:15"),
        r(5, ANON_A, 101, A0, "09:00"),
        r(6, ANON_B, 101, "![icon](https://panoptes-uploads.zooniverse.org/x.png) A **star** or point source", "10:20"),
        r(7, "alice", 102, 1, "11:00"),
        r(8, "bob", 102, None, "11:01"),
        r(9, "carol", 102, A1, "11:02", seen_before=True),
        r(10, "carol", 102, A3, "11:03", seen_before=True),
        r(11, "erin", 102, A0, "11:04", expert="expert"),
        r(12, "gus", 101, A3, "11:05", gold_standard=True),
        r(13, "dave", 103, "Unknown answer text", "12:00", workflow_version="1.2"),
        r(14, "dave", 103, None, "12:05", annotations=[]),
        r(15, "frank", 103, [A4, A2], "12:10", workflow_version="2.3"),
        r(16, "bob", 103, A0, "12:15"),
        r(17, "bob", 104, A0, "12:20", candidate_id=None),
        r(18, "bob", 103, A0, "12:25", workflow_version="1.x"),
        r(19, "gina", 103, A0, "12:30", workflow_id=2),
        r(1, "alice", 101, A0, "10:00"),
    ]
    out[15]["annotations"] = '[{"task":"T0","value":'
    for row in out:
        row["workflow_version"] = row["workflow_version"] or "1.1"
    return out


def write(path: Path, *, quote_header: bool = False) -> Path:
    """Write the export to ``path``."""
    return write_export_rows(rows(), path, quote_header=quote_header)


def mock_writer() -> Any:
    """``(write_export, VolunteerConfig, synthetic_subject_set)`` of the mock volunteers."""
    from hunt_clusters.mock import VolunteerConfig, synthetic_subject_set
    from hunt_clusters.mock import write_export as mock_write

    return mock_write, VolunteerConfig, synthetic_subject_set
