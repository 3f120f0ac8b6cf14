"""The upload ledger: ``candidate_id -> subject_id, subject_set_id, uploaded_at, media_ok``."""

from __future__ import annotations

import csv
import io
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from .._errors import InputError

#: Columns of ``upload_ledger.csv`` (docs/formats.md).
LEDGER_COLUMNS = ("candidate_id", "subject_id", "subject_set_id", "uploaded_at", "media_ok")
LEDGER_NAME = "upload_ledger.csv"


@dataclass(frozen=True)
class LedgerEntry:
    """One uploaded subject."""

    candidate_id: str
    subject_id: str
    subject_set_id: str
    uploaded_at: str
    media_ok: bool


def _format(entry: LedgerEntry) -> str:
    """One CSV line of the ledger (quoted as ``csv`` does, ending in a newline)."""
    buf = io.StringIO()
    flag = "true" if entry.media_ok else "false"
    csv.writer(buf, lineterminator="\n").writerow(
        [entry.candidate_id, entry.subject_id, entry.subject_set_id, entry.uploaded_at, flag]
    )
    return buf.getvalue()


_HEADER = ",".join(LEDGER_COLUMNS) + "\n"


class Ledger:
    """The ledger beside a manifest, rewritten atomically (temp file + ``os.replace``) on every change.

    Thread-safe: workers call `record` concurrently. Each entry's CSV line is kept, so that a
    rewrite joins lines instead of formatting every row again.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> led = Ledger(d / "upload_ledger.csv")
    >>> led.record(LedgerEntry("XLSSC 1", "1001", "1000", "2026-01-01T00:00:00Z", True))
    >>> Ledger(d / "upload_ledger.csv").entries["XLSSC 1"].subject_id
    '1001'
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.entries: dict[str, LedgerEntry] = {}
        self._lines: dict[str, str] = {}  # candidate_id -> its CSV line, in the order of `entries`
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        with self.path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != LEDGER_COLUMNS:
                raise InputError(
                    f"{self.path}: not an upload ledger (columns {reader.fieldnames}; expected {', '.join(LEDGER_COLUMNS)})"
                )
            for lineno, row in enumerate(reader, start=2):
                flag = (row["media_ok"] or "").strip().lower()
                if flag not in ("true", "false"):
                    raise InputError(f"{self.path}, line {lineno}: media_ok {row['media_ok']!r} is not true or false")
                entry = LedgerEntry(
                    row["candidate_id"], row["subject_id"], row["subject_set_id"], row["uploaded_at"], flag == "true"
                )
                self.entries[entry.candidate_id] = entry
                self._lines[entry.candidate_id] = _format(entry)

    def record(self, entry: LedgerEntry) -> None:
        """Add or replace an entry and rewrite the file atomically."""
        with self._lock:
            self.entries[entry.candidate_id] = entry
            self._lines[entry.candidate_id] = _format(entry)
            self._write()

    def _write(self) -> None:
        text = _HEADER + "".join(self._lines.values())
        fd, tmp = tempfile.mkstemp(prefix=".upload_ledger.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


__all__ = ["LEDGER_COLUMNS", "LEDGER_NAME", "Ledger", "LedgerEntry"]
