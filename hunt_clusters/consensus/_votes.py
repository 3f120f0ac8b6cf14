"""Check a votes table once and encode it as integer arrays that every consensus method shares."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import CLASSES, CLUSTER_CLASSES
from .._errors import InputError

if TYPE_CHECKING:
    from scipy import sparse

log = logging.getLogger(__name__)

#: Columns a votes table must have for consensus (see ``docs/formats.md``, "Votes").
REQUIRED_COLUMNS: tuple[str, ...] = ("subject_id", "user", "class")


def _source(votes: pd.DataFrame) -> str:
    """The name used in error messages: ``votes.attrs["source"]`` (a path) or ``"votes table"``."""
    return str(votes.attrs.get("source", "votes table"))


def _show(value: object) -> str:
    """``repr`` of a value, without numpy's ``np.int64(...)`` wrapper."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _missing(values: pd.Series) -> np.ndarray:
    """True where a cell is missing: NA/NaN/None or an empty (blank) string."""
    miss = values.isna().to_numpy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        as_str = values.astype("string").str.strip()
        miss |= (as_str == "").fillna(True).to_numpy(dtype=bool)
    return miss


def _factorize(values: pd.Series, *, sort: bool = False) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """Codes, uniques and a missing-mask of a column, checking blank strings on the uniques only.

    Blank strings get code -1 like NA, so ``codes < 0`` is the missing-mask.
    """
    codes, uniques = pd.factorize(values, sort=sort)
    uniques = pd.Index(uniques)
    if len(uniques) and (uniques.dtype == object or pd.api.types.is_string_dtype(uniques.dtype)):
        blank = np.array([isinstance(u, str) and not u.strip() for u in uniques], dtype=bool)
        if blank.any():
            remap = np.cumsum(~blank) - 1
            remap[blank] = -1
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
            uniques = uniques[~blank]
    return codes.astype(np.int64), uniques, codes < 0


def _truthy(values: pd.Series) -> np.ndarray:
    """True where a flag column (``expert``) is set: True, 1, "true", "1", "yes" or a non-empty name."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return (values.fillna(0).to_numpy() != 0)
    codes, uniques = pd.factorize(values)
    false_words = {"", "false", "0", "no", "none", "nan", "null"}
    flag = np.array([bool(u) and str(u).strip().casefold() not in false_words for u in uniques] + [False])
    return flag[codes]


@dataclass(frozen=True)
class EncodedVotes:
    """A votes table as integer codes: the common input of the consensus estimators.

    Attributes
    ----------
    subjects : pandas.Index
        Subject ids, sorted; subject code ``i`` is ``subjects[i]``. Every subject of the table is
        here, including those whose votes were all ignored (they get ``n_votes == 0``).
    candidate_ids : numpy.ndarray
        The candidate id of each subject (object array; ``None`` where the table has none).
    users : pandas.Index
        Volunteer names, sorted; user code ``j`` is ``users[j]``.
    classes : tuple of str
        The classes, in order; class code ``k`` is ``classes[k]``.
    subject, user, klass : numpy.ndarray
        One entry per vote used (int64 codes).
    row : numpy.ndarray
        Position (0-based) in the input table of each vote used.
    created_at : pandas.Series or None
        ``created_at`` of the input table (all rows), for tie-breaking; ``None`` when absent.
    counts : dict
        ``rows`` (input rows), ``used`` (votes used), ``missing_class`` (rows without a class,
        ignored), ``missing_user`` (ignored), ``expert`` (expert-flagged rows, ignored unless
        asked for), ``subjects``, ``users``.
    source : str
        The table's name in messages.
    """

    subjects: pd.Index
    candidate_ids: np.ndarray
    users: pd.Index
    classes: tuple[str, ...]
    subject: np.ndarray
    user: np.ndarray
    klass: np.ndarray
    row: np.ndarray
    created_at: pd.Series | None
    counts: dict[str, int]
    source: str = ""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_subjects(self) -> int:
        """Number of subjects."""
        return len(self.subjects)

    @property
    def n_users(self) -> int:
        """Number of volunteers with at least one vote used."""
        return len(self.users)

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    def vote_counts(self) -> np.ndarray:
        """Votes per (subject, class): an ``(n_subjects, n_classes)`` int64 array."""
        if "counts" not in self._cache:
            flat = np.bincount(
                self.subject * self.n_classes + self.klass, minlength=self.n_subjects * self.n_classes
            )
            self._cache["counts"] = flat.reshape(self.n_subjects, self.n_classes)
        return self._cache["counts"]  # type: ignore[no-any-return]

    def design_matrix(self) -> sparse.csr_matrix:
        """Sparse ``(n_subjects, n_users * n_classes)`` count matrix: entry ``[s, u*K + c]`` is the
        number of times volunteer ``u`` answered class ``c`` on subject ``s``."""
        if "design" not in self._cache:
            from scipy import sparse  # here, not at import: scipy.sparse costs ~0.1 s of start-up

            k = self.n_classes
            data = np.ones(len(self.subject), dtype=np.float64)
            mat = sparse.csr_matrix(
                (data, (self.subject, self.user * k + self.klass)),
                shape=(self.n_subjects, max(self.n_users, 1) * k),
            )
            mat.sum_duplicates()
            self._cache["design"] = mat
        return self._cache["design"]  # type: ignore[no-any-return]

    def first_vote_time(self, subjects: np.ndarray) -> np.ndarray:
        """Time of the first vote per (subject, class) for the given subject codes.

        Returns an ``(len(subjects), n_classes)`` float array of nanoseconds since 1970, ``inf``
        where the class has no vote or ``created_at`` is missing or unparseable.
        """
        k = self.n_classes
        out = np.full((len(subjects), k), np.inf)
        if self.created_at is None or len(subjects) == 0:
            return out
        pos = np.full(self.n_subjects, -1, dtype=np.int64)
        pos[subjects] = np.arange(len(subjects))
        sel = pos[self.subject] >= 0
        raw = self.created_at.iloc[self.row[sel]]
        if pd.api.types.is_datetime64_any_dtype(raw.dtype):
            times = raw
        else:
            times = pd.to_datetime(raw.astype("string").str.replace(" UTC", "", regex=False),
                                   utc=True, errors="coerce", format="mixed")
        if isinstance(times.dtype, pd.DatetimeTZDtype):
            times = times.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = times.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        ns[pd.isna(times).to_numpy()] = np.inf
        flat = out.reshape(-1)
        np.minimum.at(flat, pos[self.subject[sel]] * k + self.klass[sel], ns)
        return out


def encode_votes(
    votes: pd.DataFrame,
    *,
    classes: Sequence[str] = CLASSES,
    include_experts: bool = False,
) -> EncodedVotes:
    """Check a votes table and encode it for the consensus estimators.

    Rows whose ``class`` is missing (an answer that maps to no class, an unanswered task) are
    ignored and counted, as are rows without a ``user`` and, unless ``include_experts``, rows
    flagged ``expert`` (experts are not volunteers). Everything else must be valid.

    Parameters
    ----------
    votes : pandas.DataFrame
        The votes table of ``docs/formats.md``: at least ``subject_id``, ``user`` and ``class``;
        ``candidate_id``, ``created_at`` and ``expert`` are used when present.
        ``votes.attrs["source"]``, when set (a path), names the table in error messages.
    classes : sequence of str
        The valid classes, in order (default `hunt_clusters.CLASSES`).
    include_experts : bool
        Count expert-flagged rows as votes.

    Returns
    -------
    EncodedVotes

    Raises
    ------
    InputError
        A required column is missing, a row has no ``subject_id``, a ``class`` is not one of
        ``classes``, or one subject carries two different candidate ids.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"subject_id": [7, 7, 8], "candidate_id": ["A", "A", "B"],
    ...                   "user": ["ann", "bob", "ann"], "class": ["low-z", None, "point"]})
    >>> enc = encode_votes(v)
    >>> enc.counts["used"], enc.counts["missing_class"], list(enc.subjects)
    (2, 1, [7, 8])
    """
    source = _source(votes)
    if not isinstance(votes, pd.DataFrame):
        raise InputError(f"votes must be a pandas DataFrame, not {type(votes).__name__}")
    missing_cols = [c for c in REQUIRED_COLUMNS if c not in votes.columns]
    if missing_cols:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing_cols)}; a votes table needs "
            f"{', '.join(REQUIRED_COLUMNS)} (see docs/formats.md)"
        )
    classes = tuple(classes)
    if len(set(classes)) != len(classes) or not classes:
        raise InputError(f"classes must be distinct and not empty, got {classes!r}")
    n_rows = len(votes)

    subj_codes, subjects, miss_subj = _factorize(votes["subject_id"], sort=True)
    bad = np.flatnonzero(miss_subj)
    if len(bad):
        raise InputError(
            f"{source}: row {votes.index[bad[0]]} has no subject_id "
            f"({len(bad)} row(s) in all); every vote needs the subject it is about"
        )

    klass_raw = votes["class"]
    raw_codes, raw_uniques, miss_class = _factorize(klass_raw)
    lookup = {c: i for i, c in enumerate(classes)}
    to_class = np.array([lookup.get(u, -1) if isinstance(u, str) else -1 for u in raw_uniques] + [-1],
                        dtype=np.int64)
    codes = to_class[raw_codes]                    # raw code -1 picks the trailing -1
    unknown = (codes < 0) & ~miss_class
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise InputError(
            f"{source}: row {votes.index[i]} has class {_show(klass_raw.iloc[i])}; valid classes are "
            f"{', '.join(classes)} (or empty for an answer with no class)"
        )
    user_all, user_uniques, miss_user = _factorize(votes["user"])
    expert = _truthy(votes["expert"]) if "expert" in votes.columns else np.zeros(n_rows, dtype=bool)
    ignored_expert = expert & ~include_experts
    use = ~miss_class & ~miss_user & ~ignored_expert

    candidate_ids = _candidates_per_subject(votes, subj_codes, subjects, source)

    rows = np.flatnonzero(use)
    present = np.unique(user_all[rows])                      # raw user codes with a vote used
    names = np.asarray(user_uniques[present].astype(str), dtype=object)
    order = np.argsort(names, kind="stable")
    new_code = np.empty(len(user_uniques), dtype=np.int64)
    new_code[present[order]] = np.arange(len(present))
    users = names[order]
    user_codes = new_code[user_all[rows]]
    counts = {
        "rows": n_rows,
        "used": len(rows),
        "missing_class": int(miss_class.sum()),
        "missing_user": int((miss_user & ~miss_class).sum()),
        "expert": int((ignored_expert & ~miss_class & ~miss_user).sum()),
        "subjects": len(subjects),
        "users": len(users),
    }
    log.debug("%s: %s", source, counts)
    return EncodedVotes(
        subjects=pd.Index(subjects, name="subject_id"),
        candidate_ids=candidate_ids,
        users=pd.Index(users, name="user"),
        classes=classes,
        subject=subj_codes[rows].astype(np.int64),
        user=user_codes.astype(np.int64),
        klass=codes[rows],
        row=rows,
        created_at=votes["created_at"] if "created_at" in votes.columns else None,
        counts=counts,
        source=source,
    )


def _candidates_per_subject(
    votes: pd.DataFrame, subj_codes: np.ndarray, subjects: pd.Index, source: str
) -> np.ndarray:
    out = np.full(len(subjects), None, dtype=object)
    if "candidate_id" not in votes.columns:
        return out
    # Fast path: any one row's candidate id for each subject, then one vectorised comparison
    # with every row (a missing id compares unequal, sending the table to the exact path below).
    arr = votes["candidate_id"].to_numpy(dtype=object)
    first = np.empty(len(subjects), dtype=np.int64)
    first[subj_codes] = np.arange(len(arr))          # one of the subject's rows (which one: no matter)
    out = arr[first]
    if not pd.isna(out).any() and bool((arr == out[subj_codes]).all()) and not any(
        isinstance(c, str) and not c.strip() for c in out
    ):
        return out
    out[:] = None
    # Slow path (blank ids or a conflict): factorize and name the conflict.
    cand_codes, cand_uniques, miss = _factorize(votes["candidate_id"])
    have = ~miss
    key = np.unique(subj_codes[have] * np.int64(len(cand_uniques)) + cand_codes[have])
    s_of, c_of = np.divmod(key, max(len(cand_uniques), 1))
    dup = np.flatnonzero(np.diff(s_of) == 0)
    if len(dup):
        s = int(s_of[dup[0]])
        both = cand_uniques[c_of[dup[0]: dup[0] + 2]]
        raise InputError(
            f"{source}: subject {_show(subjects[s])} carries two candidate ids, {_show(both[0])} and "
            f"{_show(both[1])}; a subject shows one candidate"
        )
    out[s_of] = np.asarray(cand_uniques, dtype=object)[c_of]
    return out


def parse_gold(
    gold: pd.Series | pd.DataFrame | None, enc: EncodedVotes, *, name: str = "gold"
) -> np.ndarray:
    """Gold-standard class codes per subject (``-1`` where a subject has no gold label).

    Parameters
    ----------
    gold : pandas.Series, pandas.DataFrame or None
        Expert classes: a Series indexed by ``candidate_id`` (or by ``subject_id`` when its index
        is named so) with class values; or a DataFrame with ``candidate_id`` (or ``subject_id``)
        and ``expert_class`` (or ``class``) columns. Missing values mean "no gold label".
    enc : EncodedVotes
        The encoded votes (gives subjects, candidate ids and classes).
    name : str
        What to call the table in error messages.

    Returns
    -------
    numpy.ndarray
        ``(n_subjects,)`` int64 codes.

    Examples
    --------
    >>> import pandas as pd
    >>> enc = encode_votes(pd.DataFrame({"subject_id": [7, 8], "candidate_id": ["A", "B"],
    ...                                  "user": ["ann", "ann"], "class": ["low-z", "point"]}))
    >>> parse_gold(pd.Series({"B": "galaxy", "Z": "other"}), enc).tolist()
    [-1, 2]
    """
    codes = np.full(enc.n_subjects, -1, dtype=np.int64)
    if gold is None:
        return codes
    series = as_expert_series(gold, name=name)
    series = series[~_missing(series)]
    klass = pd.Categorical(series, categories=list(enc.classes)).codes
    if (klass < 0).any():
        i = int(np.flatnonzero(klass < 0)[0])
        raise InputError(
            f"{name}: {series.index.name or 'key'} {_show(series.index[i])} has class {_show(series.iloc[i])}; "
            f"valid classes are {', '.join(enc.classes)}"
        )
    by_subject = series.index.name == "subject_id"
    keys = enc.subjects if by_subject else pd.Index(enc.candidate_ids)
    lookup = pd.Series(klass.astype(np.int64), index=series.index)
    lookup = lookup[~lookup.index.duplicated(keep="first")]
    pos = lookup.index.get_indexer(keys)
    hit = pos >= 0
    codes[hit] = lookup.to_numpy()[pos[hit]]
    log.info("%s: %d of %d gold labels match a subject", name, int(hit.sum()), len(lookup))
    return codes


def as_expert_series(experts: pd.Series | pd.DataFrame, *, name: str = "experts") -> pd.Series:
    """Expert classes as a Series indexed by ``candidate_id`` (or ``subject_id``).

    Accepts a Series (index = candidate id) or a DataFrame with a ``candidate_id`` or
    ``subject_id`` column and an ``expert_class`` or ``class`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> cat = pd.DataFrame({"candidate_id": ["A", "B"], "expert_class": ["hi-z", None]})
    >>> as_expert_series(cat).to_dict()
    {'A': 'hi-z', 'B': None}
    """
    if isinstance(experts, pd.Series):
        out = experts.copy()
        if out.index.name not in ("candidate_id", "subject_id"):
            out.index = out.index.rename("candidate_id")
        return out
    if isinstance(experts, pd.DataFrame):
        key = next((c for c in ("candidate_id", "subject_id") if c in experts.columns), None)
        val = next((c for c in ("expert_class", "class") if c in experts.columns), None)
        if key is None or val is None:
            raise InputError(
                f"{name}: needs a candidate_id (or subject_id) column and an expert_class (or class) "
                f"column; has {', '.join(map(str, experts.columns))}"
            )
        return pd.Series(experts[val].to_numpy(), index=pd.Index(experts[key].to_numpy(), name=key),
                         name="expert_class")
    raise InputError(f"{name}: expected a pandas Series or DataFrame, not {type(experts).__name__}")


def cluster_mask(classes: Sequence[str], cluster_classes: frozenset[str] | Sequence[str] = CLUSTER_CLASSES
                 ) -> np.ndarray:
    """Boolean array: which of ``classes`` count as a cluster."""
    wanted = frozenset(cluster_classes)
    return np.array([c in wanted for c in classes], dtype=bool)


__all__ = ["EncodedVotes", "REQUIRED_COLUMNS", "as_expert_series", "cluster_mask", "encode_votes", "parse_gold"]
