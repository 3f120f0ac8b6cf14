"""Stream a Zooniverse classification export into a tidy votes table, counting every row."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from .._errors import InputError
from ..workflow import WorkflowDefinition
from ._blocks import (
    _ANN_SIMPLE,
    Prefetch,
    _task_value_regex,
    arrow_work,
    read_columns,
    record_batches,
)
from ._blocks import BadRow as _BadRow
from ._blocks import BadRowsNeedSerial as _BadRowsNeedSerial
from ._blocks import read_header as _header
from ._mapping import AnswerMapper, VersionLabels
from ._versions import VersionRange, parse_version

log = logging.getLogger(__name__)

#: Columns of the votes table, in order (``docs/formats.md``).
VOTE_COLUMNS: tuple[str, ...] = (
    "classification_id", "subject_id", "candidate_id", "user", "user_id", "workflow_id",
    "workflow_version", "task", "answer", "created_at", "gold_standard", "expert", "seen_before", "class",
)  # fmt: skip

#: Why an export row is rejected (bad input: written to ``rejects.csv``).
REJECT_REASONS: dict[str, str] = {
    "bad_workflow_id": "workflow_id is not an integer",
    "bad_workflow_version": "workflow_version is not MAJOR.MINOR",
    "unknown_workflow_version": "workflow version not in the workflows export",
    "bad_classification_id": "classification_id is not an integer",
    "bad_created_at": "created_at is not 'YYYY-MM-DD HH:MM:SS UTC'",
    "bad_subject_ids": "subject_ids is not one integer subject id",
    "bad_json_annotations": "annotations is not a JSON list",
    "bad_json_subject_data": "subject_data is not a JSON object",
    "bad_json_metadata": "metadata is not a JSON object",
    "not_a_question": "the task's value is not a question answer (drawing or survey task?)",
    "no_candidate_id": "the subject has no candidate id (subject_data key or ledger; --candidate-key none: no join)",
    "wrong_field_count": "the row has more or fewer fields than the header (a stray comma or quote, a cut line)",
    "subject_not_in_subject_data": "subject_ids is not a key of subject_data (a cut or edited row)",
    "truncated_row": "the last row of a file without its final newline does not parse whole (a cut download?)",
}
#: Why a good row yields no volunteer vote (a policy or the data: counted, not rejected).
FILTER_REASONS: dict[str, str] = {
    "other_workflow": "another workflow than --workflow",
    "other_version": "workflow version outside the selected range",
    "repeated_classification_id": "a classification id seen earlier in the export (exact repeat)",
    "duplicate": "the same volunteer classified the subject again (--duplicates)",
    "seen_before": "metadata says seen_before (dropped by --drop-seen-before)",
    "task_absent": "the classification has no annotation for the task",
    "empty_answer": "a multiple-answer task with nothing chosen",
}

Duplicates = Literal["first", "last", "all"]
_ANON = "not-logged-in"
#: The ``absent`` codes of a classification row: gives votes, task absent, nothing chosen.
_ABSENT = pd.Index(["", "task_absent", "empty_answer"], dtype=object)
#: Exports at least this big get a progress bar (``progress=True``): about 300,000 classifications.
_BAR_MIN_BYTES = 256 << 20
_TRUNCATED = ("the file does not end with a newline: it is likely truncated (an interrupted download?); "
              "its last row is kept only if it parses whole")


@dataclass(frozen=True)
class ReadOptions:
    """What to keep from an export and how.

    Attributes
    ----------
    workflow_id : int, optional
        Keep only this workflow; default every workflow in the export.
    versions : VersionRange
        Keep only these workflow versions (default all).
    task : str, optional
        The task key (``"T0"``); ``None`` keeps every single/multiple-answer question task.
    candidate_key : str, optional
        The subject metadata key holding the candidate id (``"#candidate_id"``); ``None`` makes
        no join (``candidate_id`` empty) for exports of other projects.
    ledger : dict, optional
        ``subject_id -> candidate_id`` from an upload ledger (`read_ledger`); wins over
        ``candidate_key``.
    duplicates : {"first", "last", "all"}
        For a subject classified more than once by one volunteer (same user name, in one workflow),
        keep the earliest, the latest (by ``created_at``) or every classification.
    drop_seen_before : bool
        Drop classifications flagged ``seen_before`` in their metadata (default: keep and flag).
    block_mb : int
        MiB of the export parsed at a time (memory is bounded by this and the votes, not by the file).
    """

    workflow_id: int | None = None
    versions: VersionRange = field(default_factory=VersionRange)
    task: str | None = "T0"
    candidate_key: str | None = "#candidate_id"
    ledger: dict[int, str] | None = field(default=None, compare=False)
    duplicates: Duplicates = "first"
    drop_seen_before: bool = False
    block_mb: int = 8

    def __post_init__(self) -> None:
        if self.duplicates not in ("first", "last", "all"):
            raise InputError(f"duplicates policy {self.duplicates!r} is not one of first, last, all")
        if self.block_mb < 1:
            raise InputError(f"block size {self.block_mb} MiB must be positive")


@dataclass(frozen=True)
class ReadSummary:
    """Where every row of the export went.

    ``rows_in == rows_kept + rows_expert + sum(filtered.values()) + sum(rejected.values())``.

    Attributes
    ----------
    path : str
        The export.
    rows_in : int
        Data rows read (classifications).
    rows_kept : int
        Volunteer classifications that gave votes.
    rows_expert : int
        Gold-standard or expert-flagged classifications, set apart (``expert_votes``).
    n_votes, n_expert_votes : int
        Rows of the votes tables (one per classification, task and chosen answer).
    filtered, rejected : dict
        Rows by reason (see `FILTER_REASONS`, `REJECT_REASONS`).
    duplicates : str
        The duplicates policy.
    anonymous_rows, anonymous_users, users, subjects, seen_before : int
        Among the kept volunteer classifications.
    versions : dict
        Kept volunteer classifications by workflow version.
    unmapped : list of (workflow_version, answer, votes)
        Answers that map to no class, when a class mapping exists.
    has_classes : bool
        Whether a class mapping was used.
    n_with_class : int
        Votes whose answer maps to a class (0 for an export of another project).
    truncated : bool
        The file does not end with a newline: likely cut short (an interrupted download); its
        last row was kept only if it parsed whole.
    """

    path: str
    rows_in: int
    rows_kept: int
    rows_expert: int
    n_votes: int
    n_expert_votes: int
    filtered: dict[str, int]
    rejected: dict[str, int]
    duplicates: str
    anonymous_rows: int
    anonymous_users: int
    users: int
    subjects: int
    seen_before: int
    versions: dict[str, int]
    unmapped: list[tuple[str, str, int]]
    has_classes: bool
    n_with_class: int = 0
    truncated: bool = False

    @property
    def balanced(self) -> bool:
        """Whether every row is accounted for."""
        return self.rows_in == self.rows_kept + self.rows_expert + sum(self.filtered.values()) + sum(
            self.rejected.values()
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``metrics.json``)."""
        d = dict(self.__dict__)
        d["unmapped"] = [{"workflow_version": v, "answer": a, "votes": n} for v, a, n in self.unmapped]
        return d

    def format(self) -> str:
        """The summary printed by ``hunt-clusters aggregate``."""
        lines = [
            f"export {self.path}: {self.rows_in} rows in",
            *([f"  warning: {_TRUNCATED}"] if self.truncated else []),
            f"  {self.rows_kept} volunteer classifications -> {self.n_votes} votes "
            f"({self.users} volunteers, {self.anonymous_users} of them not logged in with {self.anonymous_rows} "
            f"classifications; {self.subjects} subjects; {self.seen_before} flagged seen_before)",
            f"  {self.rows_expert} gold-standard/expert classifications set apart -> {self.n_expert_votes} expert votes",
        ]
        for title, counts, doc in (
            ("filtered by policy", self.filtered, FILTER_REASONS),
            ("rejected (bad input, see rejects.csv)", self.rejected, REJECT_REASONS),
        ):
            lines.append(f"  {sum(counts.values())} {title}")
            for k, n in sorted(counts.items(), key=lambda kv: -kv[1]):
                lines.append(f"    {n:>9} {k}: {doc.get(k, '')}")
        lines.append(f"  duplicates policy: {self.duplicates}")
        if self.versions:
            lines.append("  versions kept: " + ", ".join(f"{v} ({n})" for v, n in self.versions.items()))
        if self.has_classes and self.n_votes and not self.n_with_class:
            lines.append("  no answer maps to a class of the workflow definition (an export of another project?): "
                         "votes kept with answers as given")
        elif self.has_classes and self.unmapped:
            shown = "; ".join(f"{v} {a!r} ({n})" for v, a, n in self.unmapped[:5])
            more = f" and {len(self.unmapped) - 5} more" if len(self.unmapped) > 5 else ""
            lines.append(f"  answers with no class: {shown}{more}")
        elif not self.has_classes:
            lines.append("  no answer -> class mapping: answers kept as given (class empty)")
        lines.append(
            f"  check: {self.rows_in} rows in = {self.rows_kept} kept + {self.rows_expert} expert + "
            f"{sum(self.filtered.values())} filtered + {sum(self.rejected.values())} rejected"
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class ExportVotes:
    """The votes read from one export.

    Attributes
    ----------
    votes : pandas.DataFrame
        Volunteer votes, columns `VOTE_COLUMNS` (categorical where few distinct values).
    expert_votes : pandas.DataFrame
        Gold-standard and expert-flagged votes, same columns: experts are not volunteers.
    rejects : pandas.DataFrame
        ``row`` (1-based data row of the file), ``classification_id``, ``reason``, ``detail``.
    summary : ReadSummary
    """

    votes: pd.DataFrame
    expert_votes: pd.DataFrame
    rejects: pd.DataFrame
    summary: ReadSummary

    def raise_if_rejected(self, limit: int = 3) -> None:
        """Raise `InputError` naming the first rejected rows (what ``--strict`` does)."""
        rj = self.rejects
        if len(rj):
            first = "; ".join(f"row {r.row}: {r.reason} ({r.detail})" for r in rj.head(limit).itertuples())
            raise InputError(
                f"{self.summary.path}: {len(rj)} row(s) rejected with --strict: {first}"
                + (" ..." if len(rj) > limit else "")
            )


def read_ledger(path: str | Path) -> dict[int, str]:
    """Read an upload ledger (``candidate_id, subject_id, ...``) into ``subject_id -> candidate_id``.

    Examples
    --------
    >>> import io
    >>> read_ledger(io.StringIO("candidate_id,subject_id,subject_set_id\\nXC1,101,7\\nXC2,,7\\n"))
    {101: 'XC1'}
    """
    name = getattr(path, "name", str(path))
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"{name}: upload ledger not found") from None
    missing = [c for c in ("candidate_id", "subject_id") if c not in df.columns]
    if missing:
        raise InputError(f"{name}: not an upload ledger, missing column(s) {', '.join(missing)}")
    out: dict[int, str] = {}
    for i, (cand, sid) in enumerate(zip(df.candidate_id, df.subject_id), start=1):
        if not sid:
            continue  # not uploaded (yet)
        try:
            out[int(sid)] = cand
        except ValueError:
            raise InputError(f"{name} row {i}: subject_id {sid!r} is not an integer") from None
    return out


# ------------------------------------------------------------------------------------------------


def _dictionary(arr: Any) -> tuple[np.ndarray, list[Any]]:
    """``(codes, uniques)`` of an Arrow string column without nulls, uniques in order of first
    appearance (as `pandas.factorize`), computed in Arrow: no Python string per row."""
    import pyarrow.compute as pc

    d = pc.dictionary_encode(arr)
    return d.indices.to_numpy(zero_copy_only=False), d.dictionary.to_pylist()


def _flag(col: Any) -> np.ndarray:
    """Truthy export cells: ``true`` / ``expert`` / ``owner``; empty, ``false``, ``NA`` are false."""
    codes, uniques = _dictionary(col)
    truth = np.array([u.strip().lower() not in ("", "false", "na", "nan", "null", "0") for u in uniques], bool)
    return truth[codes] if len(uniques) else np.zeros(len(col), bool)


def _cats(values: Any) -> pd.Categorical:
    return pd.Categorical(values)


def _coded_cats(uniques: np.ndarray, codes: np.ndarray) -> pd.Categorical:
    """``pd.Categorical(uniques[codes])`` without hashing every row.

    ``codes`` are `pandas.factorize` codes (every code used, in order of first appearance), so the
    values of ``uniques`` and of ``uniques[codes]`` are the same set, first met in the same order:
    the categories are those `pandas.Categorical` gives the rows.
    """
    small = pd.Categorical(uniques)
    return pd.Categorical.from_codes(small.codes[codes], dtype=small.dtype)


def _object_array(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _decode_values(texts: Any, rows: np.ndarray, answer_lists: list[list[Any]], row_list: np.ndarray,
                   loads: Any) -> None:
    """Decode the JSON values ``texts`` (Arrow strings, one per row of ``rows``, valid question values
    by the grammar) once per distinct text into ``answer_lists``; ``row_list[rows]`` points at them."""
    codes, uniq = _dictionary(texts)
    row_list[rows] = codes + len(answer_lists)
    answer_lists.extend(_question_values(loads(u)) or [] for u in uniq)


class _Encoder:
    """One code per distinct value across all blocks (candidate ids, users): blocks keep int32 codes only."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._index: pd.Index | None = None  # of values, rebuilt when values are added

    def encode(self, arr: np.ndarray) -> np.ndarray:
        codes, uniq = pd.factorize(arr, use_na_sentinel=True)
        m = np.empty(len(uniq) + 1, np.int32)
        m[-1] = -1  # code -1 (missing) stays -1
        m[:-1] = self._codes_of(uniq.tolist() if hasattr(uniq, "tolist") else list(uniq))
        return m[codes]

    def encode_coded(self, codes: np.ndarray, uniques: list[Any]) -> np.ndarray:
        """``encode(uniques[codes])`` (no missing values) without a Python object per row."""
        order, first = pd.factorize(codes)
        return self._codes_of([uniques[c] for c in first.tolist()])[order]

    def _codes_of(self, distinct: list[Any]) -> np.ndarray:
        """Codes of distinct values, new ones numbered in the order given."""
        if self._index is None:
            self._index = pd.Index(self.values, dtype=object)
        m = self._index.get_indexer(_object_array(distinct)).astype(np.int32)
        new = np.flatnonzero(m < 0)
        if len(new):
            m[new] = np.arange(len(self.values), len(self.values) + len(new), dtype=np.int32)
            self.values.extend(distinct[j] for j in new.tolist())
            self._index = None
        return m

    def categorical(self, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=pd.Index(self.values, dtype=object))


class _Accumulator:
    """Per-block columns, glued together at the end (categories unioned), freeing blocks as it goes."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []

    def add(self, cols: dict[str, Any]) -> None:
        if len(next(iter(cols.values()))):
            self.parts.append(cols)

    def frame(self, empty: dict[str, Any]) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(empty)
        out = {}
        for c in list(self.parts[0]):
            cols = [p.pop(c) for p in self.parts]
            if isinstance(cols[0], pd.Categorical):
                out[c] = union_categoricals(cols, ignore_order=True) if len(cols) > 1 else cols[0]
            else:
                out[c] = np.concatenate(cols)
            del cols
        self.parts = []
        return pd.DataFrame(out, copy=False)


def _empty_classifications() -> dict[str, Any]:
    cat = pd.Categorical([], categories=pd.Index([], dtype=object))
    return {
        "_row": np.array([], np.int64),
        "classification_id": np.array([], np.int64),
        "subject_id": np.array([], np.int64),
        "candidate_id": cat,
        "user": cat,
        "user_id": np.array([], np.float64),
        "workflow_id": np.array([], np.int32),
        "workflow_version": cat,
        "created_at": np.array([], "datetime64[ns]"),
        "gold_standard": np.array([], bool),
        "expert": np.array([], bool),
        "seen_before": np.array([], bool),
        "absent": cat,
    }


def _empty_answers() -> dict[str, Any]:
    cat = pd.Categorical([], categories=pd.Index([], dtype=object))
    return {"_row": np.array([], np.int64), "task": cat, "answer": cat, "class": cat}


def _question_values(value: Any) -> list[Any] | None:
    """The chosen answers of a question annotation; ``None`` when it is not a question answer."""
    if isinstance(value, (str, int)) or value is None:
        return [value]
    if isinstance(value, list):
        if all(isinstance(v, (str, int)) or v is None for v in value):
            return value
        return None
    return None


def _objects(arr: Any) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def _ints(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    """Integers of a string column and where they parsed (``-1`` where not)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False), np.ones(len(arr), bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        f = pd.to_numeric(pd.Series(_objects(arr)), errors="coerce").to_numpy(np.float64)
        ok = np.isfinite(f) & (f == np.floor(f))
        return np.where(ok, f, -1).astype(np.int64), ok


def _floats(arr: Any) -> np.ndarray:
    """Numbers of a string column with few distinct values, NaN where empty or not a number (``user_id``)."""
    codes, uniq = _dictionary(arr)
    return pd.to_numeric(pd.Series(uniq, dtype=object), errors="coerce").to_numpy(np.float64)[codes]


def _times(arr: Any, parsed: Any) -> np.ndarray:
    """``created_at`` as naive UTC datetime64[ns]; NaT where it does not parse (``parsed``: the
    ``strptime`` of the Zooniverse format, done by `arrow_work`; other spellings are tried here)."""
    out = np.asarray(parsed.to_numpy(zero_copy_only=False), dtype="datetime64[ns]")
    bad = np.isnat(out)
    if bad.any():  # other spellings (ISO 8601) before giving up
        raw = pd.Series(_objects(arr)[bad])
        alt = pd.to_datetime(raw, format="ISO8601", errors="coerce", utc=True)
        out = out.copy()  # Arrow's buffer may be read-only
        out[bad] = alt.dt.tz_localize(None).to_numpy()
    return out


def _with_last(items: Any) -> Any:
    """``(item, is_last)`` pairs (one item of look-ahead)."""
    it = iter(items)
    try:
        prev = next(it)
    except StopIteration:
        return
    for item in it:
        yield prev, False
        prev = item
    yield prev, True


def _tail_state(path: Path) -> tuple[bool, bool]:
    """(ends with a newline, has an odd number of double quotes).

    The quotes are counted only when the newline is missing: an odd count means the file was cut
    inside a quoted field of its last row (every field closes the quotes it opens).
    """
    with open(path, "rb") as f:
        f.seek(0, 2)
        if f.tell() == 0:
            return True, False
        f.seek(-1, 2)
        if f.read(1) in (b"\n", b"\r"):
            return True, False
        f.seek(0)
        quotes = 0
        while chunk := f.read(16 << 20):
            quotes += chunk.count(b'"')
    return False, quotes % 2 == 1


def _field(text: str, index: int) -> str:
    """Field ``index`` of one CSV row's text ('' when it has fewer)."""
    try:
        fields = next(csv.reader(io.StringIO(text)), [])
    except csv.Error:  # pragma: no cover - the csv module accepts nearly anything
        return ""
    return fields[index] if 0 <= index < len(fields) else ""


def read_export(
    path: str | Path,
    options: ReadOptions | None = None,
    *,
    workflow: WorkflowDefinition | None = None,
    version_labels: VersionLabels | None = None,
    progress: bool = False,
    prefetch: Prefetch | None = None,
) -> ExportVotes:
    """Read a Zooniverse classification export into volunteer votes, expert votes and rejects.

    The file is streamed in blocks of ``options.block_mb`` MiB (pyarrow's CSV reader); the JSON
    columns are read with regular expressions run over whole blocks: ``annotations`` that are
    plain question answers (``task``, ``task_label``, ``value``) are matched against a grammar that
    admits only valid JSON, the task's value and the candidate id in ``subject_data`` are picked
    out, and ``metadata`` is searched for ``seen_before``. Rows outside those fast paths (other
    keys, drawing tasks beside the question, a missing candidate key) are parsed with `json`.
    ``metadata`` and ``subject_data`` are checked for shape (``{...}``) only, unless parsed.

    Parameters
    ----------
    path : str or Path
        The 14-column classification export (header quoted or not).
    options : ReadOptions, optional
        Workflow, versions, task, candidate join and policies.
    workflow : WorkflowDefinition, optional
        The answer -> class mapping (``class`` column); ``None`` keeps answers as given.
    version_labels : dict, optional
        The answer labels of every workflow version, from
        `~hunt_clusters.classifications.read_workflows_export`; versions missing from it are
        rejected as ``unknown_workflow_version``.
    progress : bool
        Show a progress bar, for exports of 256 MiB or more (about 300,000 classifications, seconds
        to read; smaller ones are read before a bar would tell anything, and tqdm is not imported).
    prefetch : Prefetch, optional
        The same file's read started earlier by `prefetch_export` (``hunt-clusters aggregate`` starts
        it before importing pandas): its blocks are used instead of a second read.

    Returns
    -------
    ExportVotes
        ``votes`` (one row per classification, task and chosen answer: a multiple-answer
        classification gives one row per chosen answer; a null answer gives one row with an empty
        answer), ``expert_votes``, ``rejects`` and ``summary``.

    Raises
    ------
    InputError
        When the file is missing, lacks required columns, cannot be parsed as CSV, or holds no
        row of the selected workflow / versions (naming those it holds).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from hunt_clusters.workflow import load_workflow
    >>> from hunt_clusters.classifications import write_example_export
    >>> path = write_example_export(pathlib.Path(tempfile.mkdtemp()) / "export.csv")
    >>> res = read_export(path, ReadOptions(duplicates="all"), workflow=load_workflow())
    >>> res.summary.rows_in, len(res.votes), res.votes["class"].iloc[0]
    (4, 3, 'low-z')
    """
    try:
        return _read_export(path, options, workflow=workflow, version_labels=version_labels, progress=progress,
                            threads=True, prefetch=prefetch)
    except _BadRowsNeedSerial:  # rows with the wrong number of fields: numbered in a serial read
        log.debug("%s: rows with the wrong number of fields; reading again in one thread", path)
        return _read_export(path, options, workflow=workflow, version_labels=version_labels, progress=progress,
                            threads=False)


def _read_export(
    path: str | Path,
    options: ReadOptions | None,
    *,
    workflow: WorkflowDefinition | None,
    version_labels: VersionLabels | None,
    progress: bool,
    threads: bool,
    prefetch: Prefetch | None = None,
) -> ExportVotes:
    """`read_export` proper; ``threads=False`` reads in one thread (rows with the wrong field count)."""
    import pyarrow.compute as pc

    opts = options or ReadOptions()
    path = Path(path)
    header = _header(path)
    ends_with_newline, open_quote = _tail_state(path)
    if not ends_with_newline:
        log.warning("%s: %s", path, _TRUNCATED)
    bad_rows: list[_BadRow] = []
    columns = read_columns(header)
    mapper = AnswerMapper(workflow, version_labels)
    task = opts.task
    key = opts.candidate_key
    ledger = opts.ledger
    task_re = _task_value_regex(task) if task is not None else None
    loads = json.loads

    filtered: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    rejects: list[pd.DataFrame] = []
    votes_acc = _Accumulator()
    cls_acc = _Accumulator()
    encoders = {"candidate_id": _Encoder(), "user": _Encoder(), "workflow_version": _Encoder()}
    rows_in = 0
    seen_workflows: Counter[int] = Counter()
    seen_versions: Counter[str] = Counter()

    bar = None
    if progress and path.stat().st_size >= _BAR_MIN_BYTES:
        from tqdm.auto import tqdm

        bar = tqdm(desc=f"reading {path.name}", unit=" rows", unit_scale=True)
    try:
        # each block with its pyarrow-only work (regular expressions, dates): done ahead in the
        # prefetch thread when there is one, here otherwise
        if threads and prefetch is not None and prefetch.matches(path, opts.block_mb << 20, task, key):
            bad_rows = prefetch.bad_rows
            blocks: Any = (bw for bw in prefetch.batches() if bw[0].num_rows)
        else:
            blocks = ((b, arrow_work(b, task, key))
                      for b in record_batches(path, columns, opts.block_mb << 20, bad_rows, threads=threads)
                      if b.num_rows)
        for (batch, work), is_last in _with_last(blocks):
            n = batch.num_rows
            col = {c: batch.column(c) for c in columns}
            start = rows_in
            rows_in += n
            if bar is not None:
                bar.update(n)
            rowno = np.arange(start + 1, start + n + 1, dtype=np.int64)
            if bad_rows:  # the parser skipped them: number the others as rows of the file
                skipped = np.sort(np.fromiter((b.row for b in bad_rows), np.int64, len(bad_rows)))
                rowno += np.searchsorted(skipped - np.arange(len(skipped)), rowno, side="right")
            reason = np.full(n, None, dtype=object)
            detail = np.full(n, None, dtype=object)

            def reject(mask: np.ndarray, why: str, what: Any) -> None:
                """Reject the rows of ``mask`` not yet set aside; ``what``: the detail, an array of
                the block's rows or a function that makes it (called only when a row is rejected)."""
                m = mask & (reason == None)  # noqa: E711 - elementwise
                if not m.any():
                    return
                reason[m] = why
                if callable(what):
                    what = what()
                detail[m] = what[m] if isinstance(what, np.ndarray) else what

            # -- workflow id and version (dictionary-encoded: few distinct values) -------------
            wcodes, wuniq = _dictionary(col["workflow_id"])
            wparsed = np.array([_int_or(-1, u) for u in wuniq], np.int64)
            wid = wparsed[wcodes]
            reject(wid < 0, "bad_workflow_id", lambda: np.asarray(wuniq, dtype=object)[wcodes])
            for u, c in zip(wparsed, np.bincount(wcodes, minlength=len(wuniq))):
                if u >= 0:
                    seen_workflows[int(u)] += int(c)
            vcodes, vuniq = _dictionary(col["workflow_version"])
            vmaj = np.full(len(vuniq), -1, np.int64)
            vmin = np.full(len(vuniq), -1, np.int64)
            for i, u in enumerate(vuniq):
                try:
                    mj, mn = parse_version(u)
                    vmaj[i], vmin[i] = mj, mn  # type: ignore[assignment]
                except InputError:
                    pass
            reject(vmaj[vcodes] < 0, "bad_workflow_version", lambda: np.asarray(vuniq, dtype=object)[vcodes])
            if opts.workflow_id is not None:
                m = (wid != opts.workflow_id) & (reason == None)  # noqa: E711
                reason[m] = "other_workflow"
            for i, u in enumerate(vuniq):
                cnt_mask = (vcodes == i) & (reason == None)  # noqa: E711
                if vmaj[i] < 0 or not cnt_mask.any():
                    continue
                seen_versions[f"{vmaj[i]}.{vmin[i]}"] += int(cnt_mask.sum())
                if not opts.versions.contains(int(vmaj[i]), int(vmin[i])):
                    reason[cnt_mask] = "other_version"
            if version_labels is not None:
                for i in range(len(vuniq)):
                    m = (vcodes == i) & (reason == None)  # noqa: E711
                    for w in np.unique(wparsed[np.bincount(wcodes[m], minlength=len(wuniq)) > 0]) if m.any() else ():
                        if not mapper.knows_version(int(w), int(vmaj[i]), int(vmin[i])):
                            reject(m & (wid == w), "unknown_workflow_version", f"workflow {w} version {vuniq[i]}")

            # -- scalar columns ------------------------------------------------------------------
            cid, ok = _ints(col["classification_id"])
            reject(~ok, "bad_classification_id", lambda: _objects(col["classification_id"]))
            created_ns = _times(col["created_at"], work["created"])
            reject(np.isnat(created_ns), "bad_created_at", lambda: _objects(col["created_at"]))
            sid_int, ok = _ints(col["subject_ids"])
            reject(~ok, "bad_subject_ids", lambda: _objects(col["subject_ids"]))
            if "metadata" in col:
                meta = col["metadata"]
                shape_ok = work["meta_shape"].to_numpy(zero_copy_only=False)
                if not shape_ok.all():
                    reject(~shape_ok, "bad_json_metadata", lambda: _objects(pc.utf8_slice_codeunits(meta, 0, 60)))
                seen = work["seen"].to_numpy(zero_copy_only=False)
            else:
                seen = np.zeros(n, bool)
            if opts.drop_seen_before:
                m = seen & (reason == None)  # noqa: E711
                reason[m] = "seen_before"
            gold = _flag(col["gold_standard"]) if "gold_standard" in col else np.zeros(n, bool)
            expert = _flag(col["expert"]) if "expert" in col else np.zeros(n, bool)

            # -- subject_data: shape and candidate id --------------------------------------------
            sdata = col["subject_data"]
            sd_ok = work["sd_shape"].to_numpy(zero_copy_only=False)
            if not sd_ok.all():
                reject(~sd_ok, "bad_json_subject_data", lambda: _objects(pc.utf8_slice_codeunits(sdata, 0, 60)))
            # subject_data is keyed by the subject id: a row whose subject_ids is not its key was cut
            # or edited (31200031 cut to 31200 would be a phantom subject)
            same = work["sd_first_key"].to_numpy(zero_copy_only=False)
            sids = col["subject_ids"]
            for i in np.flatnonzero(~same & (reason == None)).tolist():  # noqa: E711 - rare: parse it
                text = sdata[i].as_py()
                try:
                    sd = loads(text)
                except ValueError:
                    sd = None
                if not isinstance(sd, dict):
                    reason[i], detail[i] = "bad_json_subject_data", text[:60]
                elif str(sid_int[i]) not in sd:
                    keys = ", ".join(list(sd)[:3]) or "none"
                    reason[i], detail[i] = "subject_not_in_subject_data", f"subject_ids {sids[i].as_py()}, keys {keys}"
            cand = np.full(n, None, dtype=object)
            if ledger is not None:
                cand[:] = [ledger.get(s) for s in sid_int.tolist()]
            if key is not None:
                ex = work["cand"]
                matched = pc.is_valid(ex).to_numpy(zero_copy_only=False)
                need = matched & pd.isna(cand) if ledger is not None else matched
                if need.any():
                    # a JSON string (quotes cut off in Arrow; parsed where it holds an escape) or a number
                    c_str, c_num = ex.field("s"), ex.field("n")
                    is_str = pc.fill_null(pc.not_equal(c_str, ""), False)
                    got = _objects(pc.if_else(is_str, pc.utf8_slice_codeunits(c_str, 1, -1), c_num))
                    cand[need] = got[need]
                    escaped = pc.fill_null(pc.match_substring(c_str, "\\"), False).to_numpy(zero_copy_only=False)
                    for i in np.flatnonzero(need & escaped).tolist():
                        cand[i] = loads(c_str[i].as_py())
                cand[cand == ""] = None

            # -- annotations: the task's value ---------------------------------------------------
            ann = col["annotations"]
            alive = reason == None  # noqa: E711
            # the chosen answers of row i are answer_lists[row_list[i]] (-1: none); rows with the same
            # annotation text share one list, decoded once
            answer_lists: list[list[Any]] = []
            row_list = np.full(n, -1, np.int64)
            fast = np.zeros(n, bool)
            if task_re is not None:
                # (a) the usual case: one compact annotation, the task's: the value is what follows
                #     the last '"value":', less the closing '}]'
                # (arrow_work matched the rows and cut out their values)
                one_all = work["one"].to_numpy(zero_copy_only=False)
                one = one_all & alive
                if one.any():
                    i1 = np.flatnonzero(one_all)
                    tail = work["tail"]
                    keep1 = alive[i1]
                    if not keep1.all():
                        i1, tail = i1[keep1], tail.filter(keep1)
                    _decode_values(tail, i1, answer_lists, row_list, loads)
                # (b) several question annotations (valid JSON by the grammar): pick the task's
                rest = alive & ~one
                simple = np.zeros(n, bool)
                if rest.any():
                    i2 = np.flatnonzero(rest)
                    sub = ann.take(i2)
                    ok2 = pc.match_substring_regex(sub, _ANN_SIMPLE).to_numpy(zero_copy_only=False)
                    if ok2.any():
                        i2 = i2[ok2]
                        simple[i2] = True
                        ex2 = pc.extract_regex(ann.take(i2), task_re)
                        has = pc.is_valid(ex2).to_numpy(zero_copy_only=False)
                        if has.any():
                            _decode_values(ex2.field("v").filter(has), i2[has], answer_lists, row_list, loads)
                fast = one | simple
                fidx = np.flatnonzero(fast)
                fcodes = row_list[fidx]
                detail[fidx[fcodes < 0]] = "task_absent"
                if answer_lists:
                    empty_u = np.array([not v for v in answer_lists], bool)
                    detail[fidx[(fcodes >= 0) & empty_u[fcodes]]] = "empty_answer"
            slow = np.flatnonzero(alive & ~fast)
            if len(slow):
                raw_ann = _objects(ann.take(slow))
                raw_sd = _objects(sdata.take(slow))
                for i, a, s in zip(slow.tolist(), raw_ann, raw_sd):
                    self_vals = _slow_annotation(a, task, loads)
                    if isinstance(self_vals, str):
                        reason[i], detail[i] = self_vals, a[:60]
                        continue
                    if self_vals is None:
                        detail[i] = "task_absent"
                    else:
                        row_list[i] = len(answer_lists)
                        answer_lists.append(self_vals)
                        if not self_vals:
                            detail[i] = "empty_answer"
                    if key is not None and cand[i] is None and ledger is None:
                        try:
                            sd = loads(s)
                        except ValueError:
                            reason[i], detail[i] = "bad_json_subject_data", s[:60]
                            continue
                        for v in sd.values() if isinstance(sd, dict) else ():
                            if isinstance(v, dict) and v.get(key) not in (None, ""):
                                cand[i] = str(v[key])
                                break
            if ledger is not None or key is not None:
                miss = (reason == None) & pd.isna(cand)  # noqa: E711
                if miss.any():
                    for i in np.flatnonzero(miss):
                        # the key may be absent from the fast path only because of its spelling
                        if ledger is None:
                            try:
                                sd = loads(sdata[int(i)].as_py())
                            except ValueError:
                                reason[i], detail[i] = "bad_json_subject_data", sdata[int(i)].as_py()[:60]
                                continue
                            got = next((str(v[key]) for v in (sd.values() if isinstance(sd, dict) else ())
                                        if isinstance(v, dict) and v.get(key) not in (None, "")), None)
                            if got is not None:
                                cand[i] = got
                                continue
                        reason[i] = "no_candidate_id"
                        detail[i] = f"subject {sid_int[i]} has no {key!r}" + (" and is not in the ledger" if ledger else "")

            # -- a file cut short: its last row must parse whole -------------------------------
            if is_last and not ends_with_newline and not (bad_rows and max(b.row for b in bad_rows) > rowno[-1]):
                i = n - 1
                if open_quote:
                    reason[i], detail[i] = "truncated_row", "the file ends inside a quoted field"
                elif reason[i] in REJECT_REASONS:
                    reason[i], detail[i] = "truncated_row", f"{reason[i]}: {detail[i]}"

            # -- book-keeping ---------------------------------------------------------------
            alive = reason == None  # noqa: E711
            out = np.flatnonzero(~alive)  # rows set aside: rejected or filtered
            is_rej = np.array([r in REJECT_REASONS for r in reason[out]], bool)
            if is_rej.any():
                idx = out[is_rej]
                rejects.append(
                    pd.DataFrame(
                        {
                            "row": rowno[idx],
                            "classification_id": _objects(col["classification_id"].take(idx)),
                            "reason": reason[idx],
                            "detail": [str(d)[:200] for d in detail[idx]],
                        }
                    )
                )
                rejected.update(reason[idx].tolist())
            filtered.update(reason[out[~is_rej]].tolist())
            good = np.flatnonzero(alive)
            vstr = [f"{a}.{b}" for a, b in zip(vmaj, vmin)]
            ucodes, uuniq = _dictionary(col["user_name"])
            d_good = detail[good]
            absent = np.zeros(len(good), np.int8)
            absent[d_good == "task_absent"] = 1
            absent[d_good == "empty_answer"] = 2
            uid = (
                _floats(col["user_id"])
                if "user_id" in col
                else np.full(n, np.nan)
            )
            cls_acc.add(
                {
                    "_row": rowno[good],
                    "classification_id": cid[good],
                    "subject_id": sid_int[good],
                    "candidate_id": encoders["candidate_id"].encode(cand[good]),
                    "user": encoders["user"].encode_coded(ucodes[good], uuniq),
                    "user_id": uid[good],
                    "workflow_id": wid[good].astype(np.int32),
                    "workflow_version": encoders["workflow_version"].encode_coded(vcodes[good], vstr),
                    "created_at": created_ns[good],
                    "gold_standard": gold[good],
                    "expert": expert[good],
                    "seen_before": seen[good],
                    "absent": pd.Categorical.from_codes(absent, categories=_ABSENT),
                }
            )
            vrows = good[absent == 0]
            if len(vrows):
                # one vote per chosen answer: the answers of every distinct list side by side
                # (flat_u), each vote an index into it
                lcodes = row_list[vrows]
                lens_u = np.fromiter((len(v) for v in answer_lists), np.int64, len(answer_lists))
                lens = lens_u[lcodes]
                pos = np.repeat(vrows, lens)
                first_u = np.cumsum(lens_u) - lens_u
                flat_at = np.repeat(first_u[lcodes] - (np.cumsum(lens) - lens), lens) + np.arange(len(pos))
                flat_u = [v for x in answer_lists for v in x]
                if task is not None:
                    values_u = _object_array(flat_u)
                    v_task: Any = pd.Categorical.from_codes(np.zeros(len(pos), np.int8), categories=[task])
                else:
                    values_u = _object_array([x[1] for x in flat_u])
                    v_task = _cats(_object_array([x[0] for x in flat_u])[flat_at])
                # resolve answers once per distinct (workflow, version, value)
                valcodes_u, valuniq = pd.factorize(values_u, use_na_sentinel=False)
                valcodes = valcodes_u[flat_at]
                combo = (vcodes[pos].astype(np.int64) * (len(valuniq) + 1) + valcodes) * (len(wuniq) + 1) + wcodes[pos]
                ccodes, cuniq = pd.factorize(combo)
                ans_u = np.empty(len(cuniq), dtype=object)
                cls_u = np.empty(len(cuniq), dtype=object)
                for j, cval in enumerate(cuniq.tolist()):
                    wc = cval % (len(wuniq) + 1)
                    rest = cval // (len(wuniq) + 1)
                    vc, xc = divmod(rest, len(valuniq) + 1)
                    val = valuniq[xc]
                    if isinstance(val, float) and val != val:  # factorize turns None into NaN
                        val = None
                    ans_u[j], cls_u[j] = mapper.resolve(int(wparsed[wc]), int(vmaj[vc]), int(vmin[vc]), val)
                votes_acc.add(
                    {"_row": rowno[pos], "task": v_task, "answer": _coded_cats(ans_u, ccodes),
                     "class": _coded_cats(cls_u, ccodes)}
                )
    finally:
        if bar is not None:
            bar.close()
    if bad_rows:
        _reject_bad_rows(bad_rows, header, rows_in + len(bad_rows), ends_with_newline, rejects, rejected)
        rows_in += len(bad_rows)

    if opts.workflow_id is not None and rows_in and opts.workflow_id not in seen_workflows and seen_workflows:
        raise InputError(
            f"{path}: no classification of workflow {opts.workflow_id}; the export holds workflow(s) "
            f"{', '.join(f'{w} ({c} rows)' for w, c in seen_workflows.most_common())} - an export of another project?"
        )
    if not opts.versions.is_all and seen_versions and filtered["other_version"] == sum(seen_versions.values()):
        raise InputError(
            f"{path}: no classification with workflow version {opts.versions}; the export holds "
            f"{', '.join(sorted(seen_versions, key=lambda v: tuple(map(int, v.split('.')))))}"
        )
    return _finish(path, opts, rows_in, cls_acc, votes_acc, filtered, rejected, rejects, mapper, encoders,
                   truncated=not ends_with_newline)


def _reject_bad_rows(bad_rows: list[_BadRow], header: list[str], total: int, ends_with_newline: bool,
                     rejects: list[pd.DataFrame], rejected: Counter[str]) -> None:
    """Rejects for the rows the CSV parser skipped (wrong number of fields; the last one of a cut file)."""
    cid_at = header.index("classification_id")
    rows, cids, reasons, details = [], [], [], []
    for b in bad_rows:
        cut = not ends_with_newline and b.row == total
        rows.append(b.row)
        cids.append(_field(b.text, cid_at))
        reasons.append("truncated_row" if cut else "wrong_field_count")
        details.append(f"{b.actual} fields where the header has {b.expected}"
                       + (" (the file ends in this row)" if cut else "") + f": {b.text[:120]}")
    rejects.append(pd.DataFrame({"row": np.array(rows, np.int64), "classification_id": cids, "reason": reasons,
                                 "detail": details}))
    rejected.update(reasons)


def _slow_annotation(a: str, task: str | None, loads: Any) -> Any:
    """Parse one ``annotations`` cell with `json`.

    Returns a reject reason (str), ``None`` (task absent), or the chosen answers: a list of
    values, or with ``task=None`` a list of ``(task, value)`` tuples.
    """
    try:
        objs = loads(a)
    except ValueError:
        return "bad_json_annotations"
    if not isinstance(objs, list):
        return "bad_json_annotations"
    if task is not None:
        for o in objs:
            if isinstance(o, dict) and o.get("task") == task:
                vals = _question_values(o.get("value"))
                return "not_a_question" if vals is None else vals
        return None
    out: list[Any] = []
    for o in objs:
        if isinstance(o, dict) and isinstance(o.get("task"), str):
            vals = _question_values(o.get("value"))
            if vals is not None:
                out.extend(_TaskValue(o["task"], v) for v in vals)
    return out if out else None


class _TaskValue(tuple):  # type: ignore[type-arg]
    """``(task, value)`` for the every-task mode (``task=None``)."""

    __slots__ = ()

    def __new__(cls, task: str, value: Any) -> _TaskValue:
        return super().__new__(cls, (task, value))


def _finish(
    path: Path,
    opts: ReadOptions,
    rows_in: int,
    cls_acc: _Accumulator,
    votes_acc: _Accumulator,
    filtered: Counter[str],
    rejected: Counter[str],
    rejects: list[pd.DataFrame],
    mapper: AnswerMapper,
    encoders: dict[str, _Encoder],
    *,
    truncated: bool = False,
) -> ExportVotes:
    cls = cls_acc.frame(_empty_classifications())
    for c, enc in encoders.items():
        codes = cls[c].cat.codes.to_numpy() if isinstance(cls[c].dtype, pd.CategoricalDtype) else cls[c].to_numpy()
        cls[c] = enc.categorical(codes.astype(np.int32))
    apart = (cls["gold_standard"] | cls["expert"]).to_numpy()
    # 1. exact repeats of a classification id: keep the first occurrence in the file
    rep = cls["classification_id"].duplicated(keep="first").to_numpy()
    # 2. the duplicates policy, volunteers and experts apart, by created_at then classification id
    dup = np.zeros(len(cls), bool)
    if opts.duplicates != "all" and len(cls):
        order = np.lexsort((cls["classification_id"].to_numpy(), cls["created_at"].to_numpy()))
        srt = pd.DataFrame(
            {
                "w": cls["workflow_id"].to_numpy()[order],
                "s": cls["subject_id"].to_numpy()[order],
                "u": cls["user"].cat.codes.to_numpy()[order],
                "a": apart[order],
            }
        )
        d = srt[~rep[order]].duplicated(keep="first" if opts.duplicates == "first" else "last")
        dup[order[~rep[order]]] = d.to_numpy()
    keep_cls = ~rep & ~dup
    absent = cls["absent"].astype(object).to_numpy()
    filtered["repeated_classification_id"] += int(rep.sum())
    filtered["duplicate"] += int(dup.sum())
    for why in ("task_absent", "empty_answer"):
        filtered[why] += int((keep_cls & (absent == why)).sum())
    gives = keep_cls & (absent == "")
    del absent

    answers = votes_acc.frame(_empty_answers())
    vpos = np.searchsorted(cls["_row"].to_numpy(), answers["_row"].to_numpy())
    vkeep = gives[vpos]
    votes = _votes_table(cls, answers, vpos, vkeep & ~apart[vpos])
    expert_votes = _votes_table(cls, answers, vpos, vkeep & apart[vpos])
    del answers, vpos, vkeep

    vol = gives & ~apart
    ucodes = cls["user"].cat.codes.to_numpy()[vol]
    anon_cat = np.asarray(cls["user"].cat.categories.astype(str).str.startswith(_ANON), bool)
    anon_rows = anon_cat[ucodes] if len(ucodes) else np.zeros(0, bool)
    n_users = len(np.unique(ucodes))
    n_anon_users = len(np.unique(ucodes[anon_rows]))
    versions = Counter[str]()
    if vol.any():
        per_cls = cls["workflow_version"].array[vol].value_counts()
        versions.update({str(k): int(v) for k, v in per_cls.items() if v})
    unmapped: list[tuple[str, str, int]] = []
    if mapper.has_classes and len(votes):
        um = votes[votes["class"].isna() & votes["answer"].notna()]
        if len(um):
            g = um.groupby(["workflow_version", "answer"], observed=True).size().sort_values(ascending=False)
            unmapped = [(str(v), str(a), int(c)) for (v, a), c in g.items()]
    rej = (
        pd.concat(rejects, ignore_index=True).sort_values("row", kind="stable", ignore_index=True)
        if rejects
        else pd.DataFrame({"row": np.array([], np.int64), "classification_id": [], "reason": [], "detail": []})
    )
    summary = ReadSummary(
        path=str(path),
        rows_in=rows_in,
        rows_kept=int(vol.sum()),
        rows_expert=int((gives & apart).sum()),
        n_votes=len(votes),
        n_expert_votes=len(expert_votes),
        filtered={k: v for k, v in filtered.items() if v},
        rejected=dict(rejected),
        duplicates=opts.duplicates,
        anonymous_rows=int(anon_rows.sum()),
        anonymous_users=n_anon_users,
        users=n_users,
        subjects=len(np.unique(cls["subject_id"].to_numpy()[vol])),
        seen_before=int(cls["seen_before"].to_numpy()[vol].sum()),
        versions=dict(sorted(versions.items(), key=lambda kv: tuple(map(int, kv[0].split("."))))),
        unmapped=unmapped,
        has_classes=mapper.has_classes,
        n_with_class=int(votes["class"].notna().sum()),
        truncated=truncated,
    )
    if not summary.balanced:  # pragma: no cover - a bug, not a user error
        raise RuntimeError(f"row accounting does not balance: {summary}")
    return ExportVotes(votes=votes, expert_votes=expert_votes, rejects=rej, summary=summary)


def _votes_table(cls: pd.DataFrame, answers: pd.DataFrame, vpos: np.ndarray, sel: np.ndarray) -> pd.DataFrame:
    """The votes table: per-classification columns taken from ``cls``, per-answer ones from ``answers``."""
    pos = vpos[sel]
    out: dict[str, Any] = {}
    for c in VOTE_COLUMNS:
        if c in ("task", "answer", "class"):
            out[c] = _drop_unused(answers[c].array[sel])
        elif c == "user_id":
            f = cls[c].to_numpy()[pos]
            out[c] = pd.array(np.where(np.isfinite(f), f, 0).astype(np.int64), dtype="Int64")
            out[c][~np.isfinite(f)] = pd.NA
        elif c == "created_at":
            out[c] = pd.DatetimeIndex(cls[c].to_numpy()[pos]).tz_localize("UTC")
        elif isinstance(cls[c].dtype, pd.CategoricalDtype):
            out[c] = _drop_unused(cls[c].array[pos])
        else:
            out[c] = cls[c].to_numpy()[pos]
    return pd.DataFrame(out, copy=False)


def _drop_unused(values: pd.Categorical) -> pd.Categorical:
    """``values.remove_unused_categories()`` by counting the codes rather than sorting them."""
    codes = values.codes
    used = np.bincount(codes[codes >= 0], minlength=len(values.categories)) > 0
    if used.all():
        return values
    renumber = (np.cumsum(used) - 1)[codes]
    return pd.Categorical.from_codes(np.where(codes >= 0, renumber, -1), categories=values.categories[used],
                                     ordered=values.ordered)


def _int_or(default: int, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return default


