"""The export as blocks of CSV records (pyarrow's streaming reader), and a read started ahead of time.

This module imports neither pandas nor numpy: ``hunt-clusters aggregate`` starts parsing the export
here, in a background thread, while the rest of the command (pandas, the consensus) is still being
imported (`prefetch_export`). pyarrow's parser and its compute functions release the GIL, so on two
cores the parse overlaps the import (on a 100,000-row export the thread ends ~0.25 s after pandas is
loaded instead of starting then: the two share the cores).
"""

from __future__ import annotations

import csv
import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import InputError

#: The 14 columns of a Zooniverse classification export, in the order Zooniverse writes them.
EXPORT_COLUMNS: tuple[str, ...] = (
    "classification_id", "user_name", "user_id", "user_ip", "workflow_id", "workflow_name",
    "workflow_version", "created_at", "gold_standard", "expert", "metadata", "annotations",
    "subject_data", "subject_ids",
)  # fmt: skip
#: Columns without which no vote can be made.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "classification_id", "user_name", "workflow_id", "workflow_version", "created_at",
    "annotations", "subject_data", "subject_ids",
)  # fmt: skip


_DATE_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
_SEEN = r'"seen_before"\s*:\s*true'
#: The first key of ``subject_data`` (Zooniverse writes ``{"<subject id>": {...metadata}}``).
_FIRST_KEY = r'^\{\s*"(?P<k>[^"\\]*)"\s*:'

# fast paths: RE2 regular expressions run by pyarrow over whole batches ---------------------------
_STR = r'"(?:[^"\\]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
_SCALAR = rf"(?:{_STR}|null|-?\d+)"
_VALUE = rf"(?:{_SCALAR}|\[\s*(?:{_SCALAR}(?:\s*,\s*{_SCALAR})*)?\s*\])"
_LABEL = rf'(?:\s*,\s*"task_label"\s*:\s*(?:{_STR}|null)\s*)?'
_OBJ = rf'\{{\s*"task"\s*:\s*{_STR}\s*{_LABEL},\s*"value"\s*:\s*{_VALUE}\s*\}}'
#: Annotations that are valid JSON made only of question answers ``{"task", "task_label", "value"}``.
_ANN_SIMPLE = rf"^\s*\[\s*(?:{_OBJ}(?:\s*,\s*{_OBJ})*)?\s*\]\s*$"


def _task_value_regex(task: str) -> str:
    return rf'"task"\s*:\s*"{re.escape(task)}"\s*{_LABEL},\s*"value"\s*:\s*(?P<v>{_VALUE})'


def _one_regex(task: str) -> str:
    return rf'^\[\{{"task":"{re.escape(task)}"(?:,"task_label":(?:{_STR}|null))?,"value":{_VALUE}\}}\]$'


def _key_regex(key: str) -> str:
    return rf'"{re.escape(key)}"\s*:\s*(?:(?P<s>{_STR})|(?P<n>-?\d+))'


def read_header(path: Path) -> list[str]:
    """The export's header row; `InputError` naming the file when it is missing, empty or lacks columns."""
    if path.exists() and not path.is_file() and not path.is_dir():  # the reader maps it and seeks its end
        raise InputError(f"{path}: not a regular file (a pipe or a device?); save the export to a file and "
                         "give that file's path")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            row = next(csv.reader(f), None)
    except FileNotFoundError:
        raise InputError(f"{path}: export not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a classification export") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 CSV file") from None
    if not row:
        raise InputError(f"{path}: empty file; expected a Zooniverse classification export")
    missing = [c for c in REQUIRED_COLUMNS if c not in row]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; a Zooniverse classification export has "
            f"{', '.join(EXPORT_COLUMNS)}"
        )
    return row


def read_columns(header: list[str]) -> list[str]:
    """The export columns the reader parses (``user_ip`` and ``workflow_name`` are never used)."""
    return [c for c in EXPORT_COLUMNS if c in header and c not in ("user_ip", "workflow_name")]


#: Exports up to this size are memory-mapped for the parser (`record_batches`), larger ones read.
MAP_MAX_BYTES = 256 << 20


class BadRowsNeedSerial(Exception):
    """A threaded read met a row with the wrong number of fields: read again in one thread.

    pyarrow tells the row number of a bad row only when it parses in one thread; the threaded read
    (the fast, common case) stops at the first bad row and the file is read again serially.
    """


@dataclass(frozen=True)
class BadRow:
    """A row skipped by the CSV parser: its 1-based data row, field counts and text."""

    row: int
    expected: int
    actual: int
    text: str


def record_batches(path: Path, columns: list[str], block_bytes: int, bad_rows: list[BadRow], *,
                   threads: bool = True) -> Iterator[Any]:
    """``pyarrow.RecordBatch``es of the export, every column as strings; rows with the wrong number
    of fields go to ``bad_rows``.

    With ``threads`` the first such row raises `BadRowsNeedSerial` (its number is unknown there).
    """
    import pyarrow as pa
    import pyarrow.csv as pv

    def on_bad_row(row: Any) -> str:
        if threads or row.number is None:
            bad_rows.append(BadRow(-1, row.expected_columns, row.actual_columns, row.text))
            return "error"
        # pyarrow counts rows from 1 with the header
        bad_rows.append(BadRow(int(row.number) - 1, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    try:
        # an export up to MAP_MAX_BYTES is mapped, not read: the parser takes its blocks from the page
        # cache instead of a copy in fresh memory (5-8 % of `aggregate` on a 100,000-row export, in 24
        # A/B runs); a larger one is read, since a mapping counts every page read in the process's
        # resident memory until it closes (the file's size: what the memory figures measure)
        small = path.stat().st_size <= MAP_MAX_BYTES
        with pa.memory_map(str(path)) if small else pa.OSFile(str(path)) as source:
            yield from pv.open_csv(
                source,
                read_options=pv.ReadOptions(block_size=block_bytes, use_threads=threads),
                parse_options=pv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_bad_row),
                convert_options=pv.ConvertOptions(
                    column_types={c: pa.string() for c in columns},
                    include_columns=columns,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if bad_rows and bad_rows[-1].row < 0:
            if threads:
                raise BadRowsNeedSerial() from None
            raise InputError(f"{path}: a row with {bad_rows[-1].actual} fields where the header has "
                             f"{bad_rows[-1].expected}, at an unknown row") from None  # pragma: no cover
        raise InputError(f"{path}: not a valid CSV export ({str(exc).strip()[:300]})") from None


def arrow_work(batch: Any, task: str | None, key: str | None) -> dict[str, Any]:
    """The pyarrow-only part of reading one block (RE2 regular expressions, date parsing): Arrow
    arrays the reader turns into votes. It releases the GIL, so `Prefetch` runs it in its thread.

    Keys: ``created`` (timestamps, null where ``created_at`` does not parse), ``meta_shape``,
    ``seen`` (metadata says seen_before), ``sd_shape``, ``sd_first_key`` (subject_data's first key
    equals subject_ids), ``cand`` (the candidate key's match: fields ``s``, ``n``), ``one`` (the
    annotation is the task's one compact answer) and ``tail`` (the value text of the ``one`` rows,
    in their order).
    """
    # No Python value is handed to a compute function here (``pc.equal(a, "")``, ``fill_null(a,
    # False)``): pyarrow converts one with its pandas-aware converter, which imports pandas, and this
    # runs in `Prefetch`'s thread while the main thread imports pandas: the thread would wait for it
    # (it did, ~0.13 s, before its first block).
    import pyarrow.compute as pc

    names = set(batch.schema.names)
    out: dict[str, Any] = {}
    out["created"] = pc.strptime(batch.column("created_at"), format=_DATE_FORMAT, unit="ns", error_is_null=True)
    if "metadata" in names:
        meta = batch.column("metadata")
        empty = pc.invert(pc.cast(pc.binary_length(meta), "bool"))  # == "": no Python scalar (see above)
        out["meta_shape"] = pc.or_(pc.and_(pc.starts_with(meta, "{"), pc.ends_with(meta, "}")), empty)
        # the literal first (RE2 skips ahead to an 's' faster than to a '"'), the pattern on its hits
        seen = pc.match_substring_regex(meta, "seen_before")
        if pc.any(seen).as_py():
            seen = pc.replace_with_mask(seen, seen, pc.match_substring_regex(meta.filter(seen), _SEEN))
        out["seen"] = seen
    sdata = batch.column("subject_data")
    out["sd_shape"] = pc.and_(pc.starts_with(sdata, "{"), pc.ends_with(sdata, "}"))
    first_key = pc.extract_regex(sdata, _FIRST_KEY)
    same = pc.equal(first_key.field("k"), batch.column("subject_ids"))
    out["sd_first_key"] = pc.and_kleene(same, pc.is_valid(same))  # null -> False: fill_null(same, False)
    if key is not None:
        out["cand"] = pc.extract_regex(sdata, _key_regex(key))
    if task is not None:
        ann = batch.column("annotations")
        one = pc.match_substring_regex(ann, _one_regex(task))
        out["one"] = one
        sub = ann.filter(one)
        # the value is what follows '"value":' (once only in these rows: a '"' inside a JSON string is
        # escaped), less the closing '}]'
        out["tail"] = pc.extract_regex(sub, r'(?s)"value":(?P<v>.*)\}\]$').field("v")
    return out


_DONE = object()


class Prefetch:
    """The threaded read of one export, running ahead in a background thread (`prefetch_export`).

    At most ``depth`` blocks wait in memory for the consumer; the thread stops when the file is
    read, when it fails (the error is raised to the consumer, where the read would have raised it) or
    when `close` is called. A `read_export` given it uses its blocks instead of opening the file again,
    if path, block size, task and candidate key are the ones it was started with.
    """

    def __init__(self, path: Path, block_bytes: int, task: str | None = "T0", key: str | None = "#candidate_id",
                 depth: int = 2) -> None:
        self.path = Path(path)
        self.block_bytes = block_bytes
        self.task, self.key = task, key
        self.bad_rows: list[BadRow] = []
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._used = False
        self._thread = threading.Thread(target=self._run, name="hunt-clusters-export-reader", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            columns = read_columns(read_header(self.path))
            for batch in record_batches(self.path, columns, self.block_bytes, self.bad_rows, threads=True):
                work = arrow_work(batch, self.task, self.key) if batch.num_rows else {}
                if not self._put((batch, work)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
            return
        self._put(_DONE)

    def matches(self, path: Path, block_bytes: int, task: str | None, key: str | None) -> bool:
        """True if this read is of ``path`` in blocks of ``block_bytes`` for ``task`` and ``key``, not consumed yet."""
        return (not self._used and Path(path) == self.path and block_bytes == self.block_bytes
                and (task, key) == (self.task, self.key))

    def batches(self) -> Iterator[tuple[Any, dict[str, Any]]]:
        """``(record batch, its arrow_work)`` in file order (once); raises what the read raised."""
        self._used = True
        try:
            while True:
                item = self._queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop the thread (it exits at its next block) and drop what it read."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def prefetch_export(path: str | Path, block_mb: int = 8, task: str | None = "T0",
                    candidate_key: str | None = "#candidate_id") -> Prefetch:
    """Start reading ``path`` in blocks of ``block_mb`` MiB in a background thread; give the result to
    `read_export` (``prefetch=``), which uses it if its options have the same block size, task and
    candidate key. Errors (a missing file, a bad row) are raised by `read_export`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from hunt_clusters.classifications import write_example_export, read_export, ReadOptions
    >>> path = write_example_export(pathlib.Path(tempfile.mkdtemp()) / "export.csv")
    >>> with prefetch_export(path) as pre:
    ...     res = read_export(path, ReadOptions(duplicates="all"), prefetch=pre)
    >>> res.summary.rows_in
    4
    """
    return Prefetch(Path(path), block_mb << 20, task, candidate_key)


__all__ = ["EXPORT_COLUMNS", "REQUIRED_COLUMNS", "BadRow", "BadRowsNeedSerial", "Prefetch", "arrow_work",
           "prefetch_export", "read_columns", "read_header", "record_batches"]
