"""The upload ledger: ``candidate_id -> subject_id, subject_set_id, uploaded_at, media_ok``."""

from __future__ import annotations

import csv
import io
import os
import socket
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .._errors import HuntClustersError, InputError

try:  # POSIX; elsewhere uploads are not locked (see LedgerLock)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Columns of ``upload_ledger.csv`` (docs/formats.md).
LEDGER_COLUMNS = ("candidate_id", "subject_id", "subject_set_id", "uploaded_at", "media_ok")
LEDGER_NAME = "upload_ledger.csv"
#: The lock file beside the ledger, held by a running upload (its pid and start time inside).
LOCK_NAME = "upload_ledger.lock"


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


class UploadLockedError(HuntClustersError):
    """Another upload of the same folder is running (it holds the ledger's lock)."""


class LedgerLock:
    """An exclusive, non-blocking lock on ``upload_ledger.lock`` beside a ledger, for a whole upload.

    The lock is an ``fcntl.flock`` on the file, so the kernel releases it when the holding process
    ends, however it ends (a SIGKILL included): a lock file left behind never blocks the next run.
    The holder writes its pid, host and start time into the file, for the message a second run
    shows. Used as a context manager; on platforms without ``fcntl`` it locks nothing.

    Raises
    ------
    UploadLockedError
        On entry, when another process (or another `LedgerLock` in this one) holds the lock.
    OSError
        When the lock file cannot be created (a read-only folder, for instance).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with LedgerLock(d / "upload_ledger.csv"):
    ...     try:
    ...         LedgerLock(d / "upload_ledger.csv").acquire()
    ...     except UploadLockedError as exc:
    ...         print("refused")
    refused
    """

    def __init__(self, ledger_path: str | Path) -> None:
        self.path = Path(ledger_path).with_name(LOCK_NAME)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise `UploadLockedError` naming the holder."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_holder(fd)
                os.close(fd)
                raise UploadLockedError(
                    f"{self.path.parent}: another upload of this folder is running ({holder}); "
                    f"wait for it to end or stop it, then run this command again"
                ) from None
        started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        info = f"pid={os.getpid()} host={socket.gethostname()} since={started}\n".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, info, 0)
        self._fd = fd

    def release(self) -> None:
        """Release the lock (the file stays: removing it would race with a run taking it)."""
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:  # pragma: no cover - best effort
                pass
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> LedgerLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    """``process 1234 on host, since 2026-...Z`` from a lock file's contents, or a plain phrase."""
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace")
    except OSError:  # pragma: no cover
        text = ""
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    if "pid" not in fields:
        return "a process that is just starting"
    host = f" on {fields['host']}" if fields.get("host") and fields["host"] != socket.gethostname() else ""
    since = f", since {fields['since']}" if "since" in fields else ""
    return f"process {fields['pid']}{host}{since}"


__all__ = ["LEDGER_COLUMNS", "LEDGER_NAME", "LOCK_NAME", "Ledger", "LedgerEntry", "LedgerLock", "UploadLockedError"]
