"""Read an export of any size with bounded memory: split by subject at record boundaries, read each part, merge.

The export is cut into ``n`` partition files in one pass over its bytes. Every record goes to the
partition of its subject (a hash of ``subject_ids``), so everything the duplicates policy compares
(a volunteer's classifications of one subject) and every exact repeat of a row lies in one
partition: each partition is read by `read_export` with the policy, as the embedded run does, and
the partitions' counts add up to the embedded run's. Record boundaries are the newlines outside
quoted fields (an even number of ``"`` before them: quoted JSON fields may hold newlines and ``""``).

Partitions are read one after another here, or in parallel on the workers of a Dask cluster
(``client``); either way each one writes its votes to its own Parquet file, and the driver appends
them to ``votes.parquet`` with a `pyarrow.parquet.ParquetWriter`, row group by row group. Memory is
bounded by the partition size, the per-volunteer names (for the volunteer counts) and the rejects,
never by the number of rows.

Differences from the embedded run, by design: votes are grouped by partition (the same rows, in the
file's order within a partition); a classification id repeated with a *different* subject (not an
exact repeat of the row) lies in two partitions and is not recognised as a repeat; the split
assumes that a ``"`` occurs only inside quoted fields (what Zooniverse and every CSV writer do).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import shutil
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ..workflow import WorkflowDefinition
from ._mapping import VersionLabels
from ._blocks import EXPORT_COLUMNS
from ._reader import REJECT_REASONS, ExportVotes, ReadOptions, ReadSummary, read_export

log = logging.getLogger(__name__)

#: Default partition size: a partition's read peaks at a few times its bytes.
PART_MB = 128
_CHUNK = 32 << 20
_SENTINEL_ID = "hunt-clusters-partition-sentinel"
_QUOTE, _NL, _COMMA = 34, 10, 44


@dataclass(frozen=True)
class ExportSplit:
    """Partition files of an export (``parts[i]`` with the 1-based file rows of its records in ``rows[i]``)."""

    header: list[str]
    parts: tuple[Path, ...]
    rows: tuple[Path, ...]
    n_records: int
    sentinel: bool


def _record_ends(arr: np.ndarray) -> np.ndarray:
    """Positions of the newlines that end records: those with an even number of ``"`` before them."""
    nl = np.flatnonzero(arr == _NL)
    if not len(nl):
        return nl
    quotes = np.flatnonzero(arr[: int(nl[-1])] == _QUOTE)
    return nl[(np.searchsorted(quotes, nl) & 1) == 0]  # quotes before each newline: even = outside a field


def _subject_parts(arr: np.ndarray, buf: bytes, starts: np.ndarray, fend: np.ndarray, k: int, n_fields: int,
                   n_parts: int) -> np.ndarray:
    """The partition of each record: its subject id modulo ``n_parts`` (a hash where it is not an integer).

    The usual case, ``subject_ids`` the last column and plain digits, is vectorised: the digits after
    the record's last comma. Any other record is parsed with `csv` (the same subject always lands in the
    same partition: quoted or not, the id is the same integer).
    """
    n = len(starts)
    pid = np.full(n, -1, np.int64)
    if k == n_fields - 1 and n:
        commas = np.flatnonzero(arr == _COMMA)
        j = np.searchsorted(commas, fend) - 1
        lo = np.where(j >= 0, commas[np.maximum(j, 0)], -1)
        a0 = lo + 1
        end = fend - ((fend > a0) & (arr[np.maximum(fend - 1, 0)] == 13))  # a \r before the newline
        width = end - a0
        ok = (lo >= starts) & (width >= 1) & (width <= 18)
        cols = np.arange(18)
        idx = np.minimum(a0[:, None] + cols[None, :], len(arr) - 1)
        valid = cols[None, :] < width[:, None]
        d = arr[idx].astype(np.int64) - 48
        ok &= np.all(((d >= 0) & (d <= 9)) | ~valid, axis=1)
        v = np.zeros(n, np.int64)
        for c in range(18):
            v = np.where(valid[:, c], (v * 10 + d[:, c]) % n_parts, v)
        pid[ok] = v[ok]
    for i in np.flatnonzero(pid < 0).tolist():  # rare: quoted, several ids, not the last column, cut rows
        rec = buf[int(starts[i]):int(fend[i])].decode("utf-8", "replace")
        fields = next(csv.reader(io.StringIO(rec)), [])
        text = fields[k].strip().strip('"').strip() if k < len(fields) else ""
        pid[i] = int(text) % n_parts if text.isdigit() else zlib.crc32(text.encode()) % n_parts
    return pid


def _sentinel_row(header: list[str], options: ReadOptions) -> str:
    """A row of the selected workflow and a selected version that the reader rejects (bad classification id).

    `read_export` stops with an error when a file holds no row of ``--workflow`` / the versions; a
    partition may legitimately hold none, so each starts with this row, removed from its counts.
    """
    v = options.versions
    major, minor = v.low if v.low is not None else ((v.high[0], 0) if v.high is not None else (1, 0))
    values = {
        "classification_id": _SENTINEL_ID, "user_name": _SENTINEL_ID,
        "workflow_id": str(options.workflow_id if options.workflow_id is not None else 1),
        "workflow_version": f"{major}.{minor}", "created_at": "2000-01-01 00:00:00 UTC",
        "metadata": "{}", "annotations": "[]", "subject_data": '{"1":{}}', "subject_ids": "1",
    }
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([values.get(c, "") for c in header])
    return buf.getvalue()


def split_export(path: str | Path, folder: str | Path, n_parts: int, options: ReadOptions | None = None) -> ExportSplit:
    """Split an export into ``n_parts`` CSV files by subject, at record boundaries, in one pass.

    Parameters
    ----------
    path : str or Path
        The classification export.
    folder : str or Path
        Where the partition files go (created; reachable from the workers on a cluster).
    n_parts : int
        Number of partitions.
    options : ReadOptions, optional
        The reading options (the workflow and versions of the sentinel row).

    Returns
    -------
    ExportSplit
    """
    opts = options or ReadOptions()
    path = Path(path)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: export not found") from None
    with fh:
        head = b""
        while True:  # the header: the first record
            more = fh.read(1 << 16)
            head += more
            ends = _record_ends(np.frombuffer(head, np.uint8))
            if len(ends) or not more:
                break
        cut = int(ends[0]) + 1 if len(ends) else len(head)
        header_bytes, carry = head[:cut], head[cut:]
        try:
            header = next(csv.reader(io.StringIO(header_bytes.decode("utf-8"))), [])
        except UnicodeDecodeError:
            raise InputError(f"{path}: not a UTF-8 CSV file") from None
        if "subject_ids" not in header:
            raise InputError(f"{path}: missing column subject_ids; a Zooniverse classification export has "
                             f"{', '.join(EXPORT_COLUMNS)}")
        k = header.index("subject_ids")
        sentinel = opts.workflow_id is not None or not opts.versions.is_all
        first = header_bytes if header_bytes.endswith(b"\n") else header_bytes + b"\n"
        if sentinel:
            first += _sentinel_row(header, opts).encode()
        parts = tuple(folder / f"part-{i:04d}.csv" for i in range(n_parts))
        rows = tuple(folder / f"part-{i:04d}.rows" for i in range(n_parts))
        outs = [open(p, "wb") for p in parts]
        row_outs = [open(p, "wb") for p in rows]
        n_records = 0
        try:
            for o in outs:
                o.write(first)
            eof = False
            while not eof:
                data = fh.read(_CHUNK)
                eof = not data
                buf = carry + data
                if not buf:
                    break
                arr = np.frombuffer(buf, np.uint8)
                ends = _record_ends(arr)
                if eof and (not len(ends) or ends[-1] != len(buf) - 1):  # the last record has no newline
                    ends = np.append(ends, len(buf) - 1)
                    last_open = True
                else:
                    last_open = False
                if not len(ends):  # a record longer than the chunk: read on
                    carry = buf
                    continue
                starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
                stop = ends + 1  # exclusive end of each record (after its newline)
                fend = ends.copy()  # exclusive end of its last field (the newline)
                if last_open:
                    stop[-1] = fend[-1] = len(buf)
                first_byte = arr[starts]
                lens = stop - starts
                empty = ((lens == 1) & (first_byte == _NL)) | ((lens == 2) & (first_byte == 13))  # skipped by the reader
                pid = _subject_parts(arr, buf, starts, fend, k, len(header), n_parts)
                keep = np.flatnonzero(~empty)
                rowno = n_records + 1 + np.arange(len(keep), dtype=np.int64)
                n_records += len(keep)
                pk = pid[keep]
                order = np.argsort(pk, kind="stable")
                bounds = np.searchsorted(pk[order], np.arange(n_parts + 1))
                mv = memoryview(buf)
                s_l, e_l = starts[keep].tolist(), stop[keep].tolist()
                for i in range(n_parts):
                    sel = order[bounds[i]:bounds[i + 1]]
                    if len(sel):
                        outs[i].write(b"".join([mv[s_l[r]:e_l[r]] for r in sel.tolist()]))
                        rowno[sel].tofile(row_outs[i])
                carry = buf[int(stop[-1]):]
        finally:
            for o in (*outs, *row_outs):
                o.close()
    return ExportSplit(header, parts, rows, n_records, sentinel)


@dataclass
class PartResult:
    """What one partition contributes to the merged result (small: counts, names, rejects)."""

    summary: dict[str, Any]
    rejects: pd.DataFrame
    users: set[str] = field(default_factory=set)
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)
    votes_file: str = ""
    expert_file: str = ""


def read_partition(part: str | Path, rows: str | Path, options: ReadOptions, *, sentinel: bool,
                   workflow: WorkflowDefinition | None = None, version_labels: VersionLabels | None = None,
                   votes_format: str = "parquet") -> PartResult:
    """Read one partition with `read_export`, write its votes beside it, return its counts (rows of the file)."""
    part, rows = Path(part), Path(rows)
    res = read_export(part, options, workflow=workflow, version_labels=version_labels)
    file_rows = np.fromfile(rows, np.int64)
    rj = res.rejects
    summary = dict(res.summary.__dict__)
    if sentinel:
        is_s = (rj["row"] == 1).to_numpy() & (rj["classification_id"].astype(str) == _SENTINEL_ID).to_numpy()
        for why in rj.loc[is_s, "reason"]:
            summary["rejected"][why] -= 1
        summary["rejected"] = {k: v for k, v in summary["rejected"].items() if v}
        summary["rows_in"] -= int(is_s.sum())
        rj = rj[~is_s]
    shift = 2 if sentinel else 1
    if len(rj):
        pos = rj["row"].to_numpy() - shift
        rj = rj.assign(row=np.where((pos >= 0) & (pos < len(file_rows)), file_rows[np.clip(pos, 0, None)], -1))
    votes = res.votes
    users = set(votes["user"].astype(str).unique()) if len(votes) else set()
    unmapped = Counter({(v, a): n for v, a, n in res.summary.unmapped})
    vfile = part.with_suffix(f".votes.{votes_format}")
    efile = part.with_suffix(f".expert.{votes_format}")
    for df, f in ((votes, vfile), (res.expert_votes, efile)):
        if votes_format == "parquet":
            df.to_parquet(f, index=False)
        else:
            df.to_csv(f, index=False)
    return PartResult(summary, rj.reset_index(drop=True), users, unmapped, str(vfile), str(efile))


class _Appender:
    """Appends partition tables to one Parquet file (ParquetWriter, one schema) or one CSV."""

    def __init__(self, path: Path, votes_format: str) -> None:
        self.path, self.format = path, votes_format
        self.tmp = path.with_name(path.name + ".part")
        self.writer: Any = None
        self.schema: Any = None
        self.csv_header = False
        self.first_empty: str | None = None
        #: the row groups of each partition added: ``groups[i] = (first, stop)``
        self.groups: list[tuple[int, int]] = []
        self._n_groups = 0

    def add(self, part_file: str) -> None:
        start = self._n_groups
        self._add(part_file)
        self.groups.append((start, self._n_groups))

    def _add(self, part_file: str) -> None:
        if self.format == "csv":
            with open(part_file, "rb") as src, open(self.tmp, "ab" if self.csv_header else "wb") as dst:
                if self.csv_header:
                    src.readline()
                shutil.copyfileobj(src, dst)
            self.csv_header = True
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        f = pq.ParquetFile(part_file)
        if f.metadata.num_rows == 0:
            self.first_empty = self.first_empty or part_file
            return
        for i in range(f.num_row_groups):
            t = f.read_row_group(i)
            if self.writer is None:
                # categorical columns: one dictionary type for every partition (int32 indices)
                # (text categories: an all-null partition's dictionary would otherwise say double)
                fields = [pa.field(fl.name, pa.dictionary(pa.int32(), pa.string()))
                          if pa.types.is_dictionary(fl.type) else fl for fl in t.schema]
                self.schema = pa.schema(fields, metadata=t.schema.metadata)
                self.writer = pq.ParquetWriter(self.tmp, self.schema)
            self.writer.write_table(t.cast(self.schema), row_group_size=max(1, t.num_rows))
            self._n_groups += 1

    def close(self) -> None:
        if self.format == "parquet":
            if self.writer is None:  # no vote at all: an empty table of the right columns
                if self.first_empty is not None:
                    shutil.copyfile(self.first_empty, self.tmp)
            else:
                self.writer.close()
        if self.tmp.exists():
            os.replace(self.tmp, self.path)


@dataclass(frozen=True)
class StreamedExport:
    """The result of `stream_export`: the summary and rejects of the embedded run, the votes on disk."""

    summary: ReadSummary
    rejects: pd.DataFrame
    files: dict[str, Path]
    n_parts: int
    #: The row groups of ``votes.parquet`` holding each partition's votes (``(first, stop)``).
    vote_groups: tuple[tuple[int, int], ...] = ()

    def raise_if_rejected(self, limit: int = 3) -> None:
        """Raise `InputError` naming the first rejected rows (``--strict``)."""
        ExportVotes(pd.DataFrame(), pd.DataFrame(), self.rejects, self.summary).raise_if_rejected(limit)

    def load_votes(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The volunteer votes table (read back from ``votes.parquet`` / ``votes.csv``; ``columns``: only these)."""
        f = self.files["votes"]
        return pd.read_parquet(f, columns=columns) if f.suffix == ".parquet" else pd.read_csv(f, usecols=columns)

    def iter_votes(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """The votes table one partition at a time (every subject's votes in one of them).

        Read from the partition's row groups of ``votes.parquet``, so memory holds one partition;
        a ``votes.csv`` is read whole, as one part.
        """
        f = self.files["votes"]
        if f.suffix != ".parquet" or not self.vote_groups:
            yield self.load_votes(columns)
            return
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(f)
        for first, stop in self.vote_groups:
            if stop > first:
                yield pf.read_row_groups(range(first, stop), columns=columns).to_pandas()


#: The order the embedded reader meets the filter reasons in (the summary lists ties in this order).
_FILTER_ORDER = ("other_workflow", "other_version", "seen_before", "repeated_classification_id", "duplicate",
                 "task_absent", "empty_answer")


def _ordered(counts: Counter[str], order: list[str]) -> dict[str, int]:
    keys = [k for k in order if counts.get(k)] + sorted(k for k in counts if counts[k] and k not in order)
    return {k: int(counts[k]) for k in keys}


def _reject_order(rejects: pd.DataFrame) -> list[str]:
    """Reasons by their first row, rows the CSV parser skipped last (as the embedded reader counts them)."""
    if not len(rejects):
        return []
    first = rejects.groupby("reason", sort=False)["row"].min().sort_values(kind="stable")
    order = [str(r) for r in first.index]
    return [r for r in order if r != "wrong_field_count"] + [r for r in order if r == "wrong_field_count"]


def _merge_summary(path: Path, parts: list[PartResult], options: ReadOptions,
                   rejects: pd.DataFrame | None = None, users: set[str] | None = None) -> ReadSummary:
    s0 = parts[0].summary
    total: dict[str, Any] = {k: 0 for k in ("rows_in", "rows_kept", "rows_expert", "n_votes", "n_expert_votes",
                                             "anonymous_rows", "subjects", "seen_before", "n_with_class")}
    filtered: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    versions: Counter[str] = Counter()
    unmapped: Counter[tuple[str, str]] = Counter()
    users = users if users is not None else set()
    for p in parts:
        for k in total:
            total[k] += int(p.summary[k])
        filtered.update(p.summary["filtered"])
        rejected.update(p.summary["rejected"])
        versions.update(p.summary["versions"])
        unmapped.update(p.unmapped)
        users |= p.users
    anon = sum(u.startswith("not-logged-in") for u in users)
    return ReadSummary(
        path=str(path), filtered=_ordered(filtered, list(_FILTER_ORDER)),
        rejected=_ordered(rejected, _reject_order(rejects) if rejects is not None else []),
        duplicates=options.duplicates, anonymous_users=anon, users=len(users),
        versions=dict(sorted(versions.items(), key=lambda kv: tuple(map(int, kv[0].split("."))))),
        unmapped=[(v, a, n) for (v, a), n in sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0]))],
        has_classes=bool(s0["has_classes"]), truncated=any(p.summary["truncated"] for p in parts), **total,
    )


def stream_export(
    path: str | Path,
    out: str | Path,
    options: ReadOptions | None = None,
    *,
    workflow: WorkflowDefinition | None = None,
    version_labels: VersionLabels | None = None,
    n_parts: int | None = None,
    part_mb: int = PART_MB,
    client: Any = None,
    votes_format: str = "parquet",
) -> StreamedExport:
    """`read_export` + `write_votes` with memory bounded by the partition size, or on a Dask cluster.

    Parameters
    ----------
    path : str or Path
        The classification export.
    out : str or Path
        The output folder: ``votes``, ``expert_votes`` (Parquet or CSV), ``rejects.csv``,
        ``unmapped_answers.csv`` as `write_votes` writes them; the partitions are made in
        ``out/.partitions/`` (on a cluster the workers must reach ``out`` under the same path) and
        removed at the end.
    options, workflow, version_labels
        As `read_export`.
    n_parts : int, optional
        Partitions; default one per ``part_mb`` MiB of export (and at least two per worker on a cluster).
    client : distributed.Client, optional
        Read the partitions on this cluster's workers.
    votes_format : {"parquet", "csv"}

    Returns
    -------
    StreamedExport
        The same summary and rejects (row numbers of the file) as `read_export`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from hunt_clusters.classifications import write_example_export
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> res = stream_export(write_example_export(d / "e.csv"), d / "out", ReadOptions(duplicates="all"), n_parts=3)
    >>> res.summary.rows_in, res.summary.n_votes, res.summary.balanced
    (4, 3, True)
    """
    opts = options or ReadOptions()
    path, out = Path(path), Path(out).absolute()  # absolute: the workers' working folder is not ours
    if votes_format not in ("parquet", "csv"):
        raise InputError(f"votes format {votes_format!r} is not parquet or csv")
    if not path.exists():
        raise InputError(f"{path}: export not found")
    if n_parts is None:
        n_parts = max(1, -(-path.stat().st_size // (max(1, part_mb) << 20)))
        if client is not None:
            from .._scheduler import n_workers

            n_parts = max(n_parts, 2 * n_workers(client))
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".partitions"
    shutil.rmtree(work, ignore_errors=True)
    try:
        split = split_export(path, work, n_parts, opts)
        log.info("%s: %d records in %d partitions", path, split.n_records, n_parts)
        kw = dict(sentinel=split.sentinel, workflow=workflow, version_labels=version_labels, votes_format=votes_format)
        users: set[str] = set()  # the volunteers (for the volunteer counts): merged as partitions come in

        def take(res: PartResult) -> PartResult:
            users.update(res.users)
            res.users = set()
            return res

        if client is None:
            results = [take(read_partition(p, r, opts, **kw)) for p, r in zip(split.parts, split.rows)]
        else:
            from distributed import as_completed

            futs = client.map(read_partition, list(map(str, split.parts)), list(map(str, split.rows)),
                              [opts] * n_parts, pure=False, retries=2, **kw)
            index = {f.key: i for i, f in enumerate(futs)}
            got: dict[int, PartResult] = {}
            for fut, res in as_completed(futs, with_results=True):
                got[index[fut.key]] = take(res)
                fut.release()
            results = [got[i] for i in range(len(futs))]
        # a workflow / version the whole export lacks: the embedded run's error
        n_sel = sum(r.summary["rows_kept"] + r.summary["rows_expert"] for r in results)
        files = {"votes": out / f"votes.{votes_format}", "expert_votes": out / f"expert_votes.{votes_format}",
                 "rejects": out / "rejects.csv", "unmapped_answers": out / "unmapped_answers.csv"}
        rejects = [r.rejects for r in results if len(r.rejects)]
        rj = (pd.concat(rejects, ignore_index=True).sort_values("row", kind="stable", ignore_index=True) if rejects
              else pd.DataFrame({"row": np.array([], np.int64), "classification_id": [], "reason": [], "detail": []}))
        summary = _merge_summary(path, results, opts, rj, users)
        _check_selection(path, opts, summary, n_sel)
        for name, attr in (("votes", "votes_file"), ("expert_votes", "expert_file")):
            app = _Appender(files[name], votes_format)
            for r in results:
                app.add(getattr(r, attr))
            app.close()
            if name == "votes":
                groups = tuple(app.groups)
        for df, f in ((rj, files["rejects"]),
                      (pd.DataFrame(summary.unmapped, columns=["workflow_version", "answer", "votes"]),
                       files["unmapped_answers"])):
            tmp = f.with_name(f.name + ".part")
            df.to_csv(tmp, index=False)
            tmp.replace(f)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not summary.balanced:  # pragma: no cover - a bug, not a user error
        raise RuntimeError(f"row accounting does not balance: {summary}")
    return StreamedExport(summary, rj, files, n_parts, groups if votes_format == "parquet" else ())


def _check_selection(path: Path, opts: ReadOptions, summary: ReadSummary, n_sel: int) -> None:
    """The embedded run's errors for an export without the selected workflow or versions."""
    if n_sel or not summary.rows_in:
        return
    other = summary.filtered.get("other_workflow", 0)
    bad = sum(summary.rejected.get(k, 0) for k in ("bad_workflow_id", "bad_workflow_version"))
    if opts.workflow_id is not None and other and other + bad == summary.rows_in:
        raise InputError(f"{path}: no classification of workflow {opts.workflow_id} - an export of another project?")
    if not opts.versions.is_all and summary.filtered.get("other_version", 0) and not summary.rows_kept:
        if summary.filtered.get("other_version", 0) + other + bad == summary.rows_in:
            raise InputError(f"{path}: no classification with workflow version {opts.versions}")


__all__ = ["ExportSplit", "StreamedExport", "read_partition", "split_export", "stream_export"]
_ = REJECT_REASONS  # the reasons a sentinel row may get
