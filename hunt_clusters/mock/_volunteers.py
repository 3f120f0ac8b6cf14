"""Mock Zooniverse volunteers: a classification export in exactly the real format, with known truth.

The volunteers classify the subjects of a subject set (``manifest.csv``, ``tensors.npz`` and
optional ``upload_ledger.csv``) from what the rendered subjects show: the cues of
`hunt_clusters.mock._perception`, perceived and judged by the observer model of
`hunt_clusters.mock._observers`. No catalogue column reaches them (a catalogue, when given, is read
for its identifiers only). The output is the 14-column classification export and the matching
workflows export that Zooniverse writes.

Model (numbers in ``docs/mock-volunteers.md``; sources in ``mock-physics.md`` section 8)
-------------------------------------------------------------------------------------------
* Answers: `hunt_clusters.mock._observers.class_probabilities` of the subject's cues and the
  volunteer (skill ~ Beta(6, 2), personal criteria, biases, lapses); the two experts of the
  export answer with the experts' model.
* Activity: per-volunteer weights ``~ LogNormal(0, 2.3)``; the top 10 % do about 80 % of the
  classifications (Sauermann & Franzoni 2015); many classify a handful.
* 55 % of volunteers are not logged in (``not-logged-in-<20 hex>``, empty ``user_id``; one hash per
  IP per export), a few share an IP; sessions of consecutive classifications ~12 s apart.
* Every subject retires after ``retirement`` counted classifications; ``seen_before`` rows and
  gold-standard rows are extra and not counted, as on Panoptes. A few per cent of counted
  classifications are repeats by the same volunteer.
* Two workflow versions: ``16.55`` (early answer wording) then ``17.60`` (the YAML wording).
"""

from __future__ import annotations

import io
import json
import logging
import math
import multiprocessing
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import CLASSES
from .._errors import InputError
from .._interrupt import ignore_in_worker
from ..workflow import WorkflowDefinition, load_workflow, parse_version
from ._observers import Observers, check_identifiers, class_probabilities, cue_arrays, draw_answers, draw_volunteers, experts
from ._perception import CUE_COLUMNS

log = logging.getLogger(__name__)

#: The 14 columns of a Zooniverse classification export, in order.
EXPORT_COLUMNS: tuple[str, ...] = (
    "classification_id",
    "user_name",
    "user_id",
    "user_ip",
    "workflow_id",
    "workflow_name",
    "workflow_version",
    "created_at",
    "gold_standard",
    "expert",
    "metadata",
    "annotations",
    "subject_data",
    "subject_ids",
)

#: Columns of a Zooniverse workflows export, in the order of the real file in
#: ``shared/data/real/zooniverse_exports/superluminous_supernovae_workflows.csv``.
WORKFLOWS_EXPORT_COLUMNS: tuple[str, ...] = (
    "workflow_id",
    "display_name",
    "version",
    "active",
    "classifications_count",
    "pairwise",
    "grouped",
    "prioritized",
    "primary_language",
    "first_task",
    "tutorial_subject_id",
    "retired_set_member_subjects_count",
    "tasks",
    "retirement",
    "aggregation",
    "strings",
    "minor_version",
)

#: Answer wording of the early workflow version, by class (the YAML holds the later wording).
EARLY_LABELS: Mapping[str, str] = {
    "low-z": "Cluster - galaxies visible",
    "hi-z": "Cluster - no galaxies visible",
    "galaxy": "Galaxy",
    "point": "Point source / star",
    "other": "Other (artefact, noise)",
}

_K = len(CLASSES)

_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.121 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.119 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:65.0) Gecko/20100101 Firefox/65.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.109 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 12_1_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/71.0.3578.98 Safari/537.36 Edge/18.17763",
    "Mozilla/5.0 (Linux; Android 9; SM-G960F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.105 Mobile Safari/537.36",
)
_VIEWPORTS = ((1920, 969), (1366, 657), (1440, 789), (1536, 722), (1280, 913), (1710, 948), (768, 954), (412, 732))
_UTC_OFFSETS = ("0", "-3600", "-7200", "18000", "21600", "25200", "28800", "14400", "-19800", "-36000", "10800")
_LANGUAGES = ("en",) * 17 + ("de", "fr", "es")
_NAME_A = (
    "star", "nebula", "galaxy", "cosmic", "quasar", "comet", "lunar", "solar", "orbit", "pulsar",
    "astro", "dark", "red", "blue", "deep", "night", "sky", "space", "nova", "meteor",
)
_NAME_B = (
    "gazer", "hunter", "watcher", "fan", "cat", "explorer", "dreamer", "walker", "seeker", "rider",
    "fox", "owl", "lover", "Zoo", "Mike", "Anna", "Jo", "Sam", "Kat", "Tom",
)


@dataclass(frozen=True)
class VolunteerConfig:
    """Settings of the mock volunteers (defaults: mock-physics.md section 8).

    Parameters
    ----------
    seed : int
        Random seed; the same seed and inputs give a byte-identical export.
    retirement : int or None
        Counted classifications after which a subject retires; ``None`` takes the workflow's.
    n_volunteers : int or None
        Size of the volunteer population; default ``total classifications / mean_classifications``.
    mean_classifications : float
        Mean classifications per volunteer when ``n_volunteers`` is not given.
    activity_sigma : float
        Log-normal width of the activity weights (2.3: the top 10 % do ~80 % of the work).
    anonymous_fraction : float
        Fraction of volunteers who are not logged in.
    shared_ip_fraction : float
        Fraction of anonymous volunteers behind the IP of another anonymous volunteer.
    repeat_fraction : float
        Fraction of counted classifications that repeat one by the same volunteer (not flagged).
    seen_before_fraction : float
        Extra ``seen_before: true`` rows (not counted for retirement), as a fraction of counted ones.
    expert_fraction, gold_fraction : float
        Fraction of subjects that an expert (``expert``/``owner``) also classifies, and the fraction
        of those classifications flagged ``gold_standard`` (gold ones are not counted).
    skill_a, skill_b : float
        Beta prior of volunteer skill (mean ``a / (a + b)``).
    expert_lapse : float
        Lapse rate of the two experts who classify in the export (their other parameters:
        `hunt_clusters.mock._observers`).
    workflow_id : int
        Workflow id written in the export.
    versions : tuple of str
        The two workflow versions (early wording, then the YAML wording), ``"major.minor"``.
    version_switch : float
        Fraction of the project's duration after which the later version is live.
    start : str
        Project launch, ISO UTC.
    duration_days : float
        Length of the project.
    first_subject_id, first_classification_id : int
        Where Zooniverse-like ids start (subjects without an upload ledger; classifications).
    metadata : str
        ``"full"`` (every key a front end writes) or ``"minimal"`` (session, times, seen_before,
        selection state: about half the bytes, for very large benchmark exports).
    """

    seed: int = 0
    retirement: int | None = None
    n_volunteers: int | None = None
    mean_classifications: float = 25.0
    activity_sigma: float = 2.3
    anonymous_fraction: float = 0.55
    shared_ip_fraction: float = 0.03
    repeat_fraction: float = 0.02
    seen_before_fraction: float = 0.02
    expert_fraction: float = 0.03
    gold_fraction: float = 0.5
    skill_a: float = 6.0
    skill_b: float = 2.0
    expert_lapse: float = 0.05
    workflow_id: int = 11235
    versions: tuple[str, str] = ("16.55", "17.60")
    version_switch: float = 0.4
    start: str = "2019-03-05T09:00:00"
    duration_days: float = 150.0
    first_subject_id: int = 31_200_000
    first_classification_id: int = 152_000_000
    metadata: str = "full"

    def __post_init__(self) -> None:
        fractions = (
            "anonymous_fraction",
            "shared_ip_fraction",
            "repeat_fraction",
            "seen_before_fraction",
            "expert_fraction",
            "gold_fraction",
            "version_switch",
            "expert_lapse",
        )
        for name in fractions:
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise InputError(f"VolunteerConfig.{name} = {v!r}: must lie between 0 and 1")
        if self.retirement is not None and self.retirement < 1:
            raise InputError(f"VolunteerConfig.retirement = {self.retirement!r}: must be at least 1")
        if self.n_volunteers is not None and self.n_volunteers < 1:
            raise InputError(f"VolunteerConfig.n_volunteers = {self.n_volunteers!r}: must be at least 1")
        for name in ("mean_classifications", "activity_sigma", "skill_a", "skill_b", "duration_days"):
            if not getattr(self, name) > 0:
                raise InputError(f"VolunteerConfig.{name} = {getattr(self, name)!r}: must be positive")
        if len(self.versions) != 2:
            raise InputError(f"VolunteerConfig.versions = {self.versions!r}: give two versions, early then late")
        parsed = [parse_version(v, source="VolunteerConfig.versions") for v in self.versions]
        if not parsed[0] < parsed[1]:
            raise InputError(f"VolunteerConfig.versions = {self.versions!r}: the second must be later than the first")
        if self.metadata not in ("full", "minimal"):
            raise InputError(f"VolunteerConfig.metadata = {self.metadata!r}: use 'full' or 'minimal'")
        try:
            np.datetime64(self.start, "s")
        except ValueError:
            raise InputError(f"VolunteerConfig.start = {self.start!r}: not an ISO date-time (2019-03-05T09:00:00)") from None


@dataclass(frozen=True)
class ExportSummary:
    """What `write_export` wrote.

    Attributes
    ----------
    path : Path
        The classification export.
    n_rows, n_subjects, n_retired, n_volunteers, n_anonymous : int
        Rows; subjects classified; subjects retired; volunteers (incl. experts) who classified;
        those not logged in.
    n_seen_before, n_repeats, n_expert, n_gold : int
        ``seen_before`` rows; unflagged repeats; expert-flagged rows; gold-standard rows.
    rows_per_version : dict
        ``{"16.55": n, "17.60": n}``.
    seconds : float
        Wall time.
    workflows_path : Path or None
        The workflows export, when written.
    """

    path: Path
    n_rows: int
    n_subjects: int
    n_retired: int
    n_volunteers: int
    n_anonymous: int
    n_seen_before: int
    n_repeats: int
    n_expert: int
    n_gold: int
    rows_per_version: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    workflows_path: Path | None = None


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
def _jsonb_key(k: str) -> tuple[int, bytes]:
    b = k.encode()
    return (len(b), b)


def _jsonb(obj: Any) -> Any:
    """Order dict keys as PostgreSQL jsonb stores them (shorter keys first, then bytewise)."""
    if isinstance(obj, dict):
        return {k: _jsonb(obj[k]) for k in sorted(obj, key=_jsonb_key)}
    if isinstance(obj, list):
        return [_jsonb(v) for v in obj]
    return obj


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _csv(s: str) -> str:
    """One CSV field as Python's csv module (QUOTE_MINIMAL) writes it."""
    if any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def _hex(rng: np.random.Generator, n: int, nbytes: int) -> np.ndarray:
    raw = rng.bytes(n * nbytes).hex()
    w = 2 * nbytes
    return np.array([raw[i * w : (i + 1) * w] for i in range(n)], dtype=object)


def _iso_ms(t_ms: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(t_ms.astype("datetime64[ms]"), unit="ms")


def _switch_ms(cfg: VolunteerConfig) -> int:
    """When the later workflow version goes live (ms since epoch): rows from then on carry it."""
    start = int(np.datetime64(cfg.start, "ms").astype(np.int64))
    return start + int(cfg.version_switch * cfg.duration_days * 86_400_000)


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------
#: Catalogue columns that must never reach a manifest (and so the export).
_TRUTH_COLUMNS = ("true_class", "subtype", "expert_class", "spec_class", "in_test", "in_expert")


def read_subject_set(
    subject_set: str | Path | pd.DataFrame,
    *,
    ledger: str | Path | None = None,
    first_subject_id: int = VolunteerConfig.first_subject_id,
    candidate_column: str = "#candidate_id",
) -> pd.DataFrame:
    """Read a subject set's manifest and give each subject its Zooniverse subject id.

    Parameters
    ----------
    subject_set : str, Path or pandas.DataFrame
        A subject set folder (with ``manifest.csv``), a manifest file, or a manifest table.
    ledger : str or Path, optional
        An upload ledger (``candidate_id, subject_id, ...``); default ``upload_ledger.csv`` beside
        the manifest when it exists. Subjects missing from it are left out (not uploaded).
    first_subject_id : int
        Without a ledger, subjects get ids ``first_subject_id, first_subject_id + 1, ...`` in
        manifest order, as Zooniverse numbers uploads.
    candidate_column : str
        The hidden manifest column holding the candidate id.

    Returns
    -------
    pandas.DataFrame
        The manifest columns as strings plus ``subject_id`` (int64), one row per subject.

    Raises
    ------
    InputError
        A missing manifest or column, an empty or duplicated candidate id, or a truth column
        (``#true_class`` ...) that would leak into the export.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"image": ["a.png"], "#candidate_id": ["XC1"], "#ra": ["1.0"], "#dec": ["2.0"]})
    >>> read_subject_set(m, first_subject_id=100)["subject_id"].tolist()
    [100]
    """
    where = "manifest"
    folder: Path | None = None
    if isinstance(subject_set, pd.DataFrame):
        manifest = subject_set.astype(str).reset_index(drop=True)
    else:
        p = Path(subject_set)
        mpath = p / "manifest.csv" if p.is_dir() else p
        folder = mpath.parent
        where = str(mpath)
        if not mpath.is_file():
            from .._outputs import describe_folder

            raise InputError(f"{mpath}: manifest not found (expected a subject set folder of 'hunt-clusters render', "
                             f"which holds manifest.csv; found {describe_folder(p if p.suffix.lower() != '.csv' else p.parent)})")
        manifest = pd.read_csv(mpath, dtype=str, keep_default_na=False)
    if candidate_column not in manifest.columns:
        raise InputError(
            f"{where}: no column {candidate_column!r}; columns are {', '.join(manifest.columns)}"
        )
    for c in manifest.columns:
        bare = c.lstrip("#!/%").lower()
        if bare in _TRUTH_COLUMNS or bare.startswith("true_"):
            raise InputError(
                f"{where}: column {c!r} would put the truth into the export; remove it from the manifest"
            )
    cids = manifest[candidate_column]
    empty = np.flatnonzero(cids.str.strip().eq("").to_numpy())
    if empty.size:
        raise InputError(f"{where}: row {empty[0] + 2}: empty {candidate_column}")
    dup = cids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"{where}: row {i + 2}: {candidate_column} {cids.iloc[i]!r} appears twice")
    if ledger is None and folder is not None and (folder / "upload_ledger.csv").is_file():
        ledger = folder / "upload_ledger.csv"
    if ledger is not None:
        led = pd.read_csv(ledger, dtype=str, keep_default_na=False)
        for col in ("candidate_id", "subject_id"):
            if col not in led.columns:
                raise InputError(f"{ledger}: no column {col!r} (an upload ledger has candidate_id, subject_id, ...)")
        led = led.drop_duplicates("candidate_id", keep="last")
        bad = ~led["subject_id"].str.fullmatch(r"\d+")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{ledger}: row {i + 2}: subject_id {led['subject_id'].iloc[i]!r} is not an integer")
        sid = dict(zip(led["candidate_id"], led["subject_id"].astype(np.int64)))
        keep = cids.map(lambda c: c in sid).to_numpy(dtype=bool)
        if not keep.any():
            raise InputError(f"{ledger}: none of the manifest's candidates has a subject id")
        if not keep.all():
            log.warning("%s: %d of %d subjects are not in the upload ledger; left out", ledger, (~keep).sum(), keep.size)
        manifest = manifest[keep].reset_index(drop=True)
        manifest["subject_id"] = manifest[candidate_column].map(sid).astype(np.int64)
    else:
        manifest["subject_id"] = np.arange(len(manifest), dtype=np.int64) + int(first_subject_id)
    if manifest.empty:
        raise InputError(f"{where}: no subjects")
    return manifest


# ---------------------------------------------------------------------------------------------
# the volunteers
# ---------------------------------------------------------------------------------------------
def _activity_counts(rng: np.random.Generator, total: int, n_vol: int, sigma: float, cap: int) -> np.ndarray:
    """Heavy-tailed classifications per volunteer: each at least 1, at most ``cap``, summing to total."""
    if n_vol * cap < total:
        raise InputError(
            f"{n_vol} volunteers cannot make {total} classifications with at most {cap} each; "
            "raise n_volunteers or lower the retirement count"
        )
    n_vol = min(n_vol, total)
    w = rng.lognormal(0.0, sigma, n_vol)
    counts = 1 + rng.multinomial(total - n_vol, w / w.sum())
    for _ in range(100):
        over = counts > cap
        if not over.any():
            break
        excess = int((counts[over] - cap).sum())
        counts[over] = cap
        room = np.where(counts < cap, w, 0.0)
        counts += rng.multinomial(excess, room / room.sum())
    return counts


def _pair(rng: np.random.Generator, counts: np.ndarray, n_subj: int) -> np.ndarray:
    """Volunteer of each slot ``s * R + r`` so that no volunteer has two slots of one subject.

    The volunteers' classifications are laid end to end in a random volunteer order and dealt
    round-robin over the subjects in a random order: a volunteer with at most ``n_subj``
    classifications then meets each subject at most once, and every subject gets exactly
    ``R = counts.sum() / n_subj`` of them.
    """
    n_vol = counts.size
    perm_v = rng.permutation(n_vol)
    stubs = np.repeat(perm_v, counts[perm_v])  # contiguous block per volunteer
    R = stubs.size // n_subj
    perm_s = rng.permutation(n_subj)
    j = np.arange(stubs.size)
    subj = perm_s[j % n_subj]
    rnd = j // n_subj
    vol = np.empty(stubs.size, dtype=np.int64)
    vol[subj * R + rnd] = stubs
    return vol


@dataclass(frozen=True)
class _Population:
    observers: Observers  # perception and decisions, one per volunteer (experts last)
    anonymous: np.ndarray  # bool
    expert: np.ndarray  # "" / "expert" / "owner"
    user_name: np.ndarray  # object
    user_id: np.ndarray  # object str
    user_ip: np.ndarray  # object str (20 hex)
    viewport: np.ndarray  # int index into _VIEWPORTS
    agent: np.ndarray
    offset: np.ndarray
    language: np.ndarray

    @property
    def n(self) -> int:
        """Number of volunteers, the two experts included."""
        return int(self.anonymous.size)


def _population(rng: np.random.Generator, n_vol: int, cfg: VolunteerConfig) -> _Population:
    """Volunteers 0..n_vol-1 plus two experts (an ``owner`` and an ``expert``) at the end."""
    n = n_vol + 2
    vols = draw_volunteers(rng, n_vol, cfg.skill_a, cfg.skill_b)
    exps = experts(2, cfg.expert_lapse)
    observers = Observers(*(np.concatenate([getattr(vols, f), getattr(exps, f)]) for f in Observers.__dataclass_fields__))
    anon = rng.random(n) < cfg.anonymous_fraction
    anon[n_vol:] = False
    # IPs: one per volunteer, a few anonymous volunteers share another anonymous one's IP
    ip_of = np.arange(n)
    anon_idx = np.flatnonzero(anon)
    if anon_idx.size > 1:
        share = anon_idx[rng.random(anon_idx.size) < cfg.shared_ip_fraction]
        ip_of[share] = rng.choice(anon_idx, share.size)
    ips = _hex(rng, n, 10)[ip_of]
    # logged-in names and ids
    ids = rng.choice(np.arange(200_000, 200_000 + max(10 * n, 2_000_000)), n, replace=False)
    a = rng.integers(0, len(_NAME_A), n)
    b = rng.integers(0, len(_NAME_B), n)
    num = rng.integers(0, 3000, n)
    style = rng.integers(0, 3, n)
    names = []
    seen: set[str] = set()
    for i in range(n):
        if style[i] == 0:
            s = f"{_NAME_A[a[i]]}{_NAME_B[b[i]]}{num[i]}"
        elif style[i] == 1:
            s = f"{_NAME_A[a[i]].capitalize()}_{_NAME_B[b[i]]}"
        else:
            s = f"{_NAME_B[b[i]]}{_NAME_A[a[i]]}{num[i] % 100:02d}"
        while s in seen:
            s = f"{s}{i % 10}"
        seen.add(s)
        names.append(s)
    user_name = np.array(names, dtype=object)
    user_id = np.array([str(x) for x in ids], dtype=object)
    user_name[anon] = np.array([f"not-logged-in-{ip}" for ip in ips[anon]], dtype=object)
    user_id[anon] = ""
    expert = np.full(n, "", dtype=object)
    expert[n_vol] = "owner"
    expert[n_vol + 1] = "expert"
    user_name[n_vol] = "hunt_for_clusters_team"
    user_name[n_vol + 1] = "xclass_expert"
    return _Population(
        observers=observers,
        anonymous=anon,
        expert=expert,
        user_name=user_name,
        user_id=user_id,
        user_ip=ips,
        viewport=rng.integers(0, len(_VIEWPORTS), n),
        agent=rng.integers(0, len(_USER_AGENTS), n),
        offset=rng.integers(0, len(_UTC_OFFSETS), n),
        language=rng.integers(0, len(_LANGUAGES), n),
    )


@dataclass(frozen=True)
class _Simulation:
    subj: np.ndarray  # subject index per row, rows sorted by time
    vol: np.ndarray
    t_ms: np.ndarray  # finished_at (ms since epoch, browser clock)
    dur_ms: np.ndarray
    answer: np.ndarray
    seen_before: np.ndarray
    gold: np.ndarray
    repeat: np.ndarray
    session: np.ndarray
    pop: _Population
    retired_at: np.ndarray  # per subject, ms; -1 if not retired
    first_ms: np.ndarray  # per subject


def _simulate(
    cues: Mapping[str, np.ndarray],
    cfg: VolunteerConfig,
    retirement: int,
    n_rows: int | None,
) -> _Simulation:
    rng = np.random.default_rng(cfg.seed)
    S, R = len(next(iter(cues.values()))), retirement
    total = S * R
    n_vol = cfg.n_volunteers or max(10, R, int(round(total / cfg.mean_classifications)))
    cap = S
    pop = _population(rng, n_vol, cfg)
    counts = _activity_counts(rng, total, n_vol, cfg.activity_sigma, cap)
    slot_subj = np.repeat(np.arange(S, dtype=np.int64), R)
    vol = _pair(rng, counts, S)

    # -- time: sessions of consecutive classifications -------------------------------------
    t0 = np.datetime64(cfg.start, "ms").astype(np.int64)
    T = int(cfg.duration_days * 86_400_000)
    order = np.argsort(vol, kind="stable")
    v_sorted = vol[order]
    first_of_vol = np.ones(total, dtype=bool)
    first_of_vol[1:] = v_sorted[1:] != v_sorted[:-1]
    brk = first_of_vol | (rng.random(total) < 1.0 / 12.0)
    sess = np.cumsum(brk) - 1
    n_sess = int(sess[-1]) + 1
    sess_vol = v_sorted[brk]
    launch = rng.random(pop.n) < 0.35
    arrive = np.where(launch, rng.random(pop.n) * 7 * 86_400_000, rng.random(pop.n) * T * 0.9).astype(np.int64)
    s_start = arrive[sess_vol] + (rng.random(n_sess) * (T - arrive[sess_vol])).astype(np.int64)
    s_start = s_start[np.lexsort((s_start, sess_vol))]  # sessions of one volunteer in time order
    dur = (2000 + rng.lognormal(np.log(10_000.0), 0.6, total)).astype(np.int64)
    cum = np.cumsum(dur + 20)
    sess_first = np.flatnonzero(brk)
    offset = cum - (cum[sess_first] - (dur[sess_first] + 20))[sess]
    t_sorted = t0 + s_start[sess] + offset
    t = np.empty(total, dtype=np.int64)
    t[order] = t_sorted
    d_ms = np.empty(total, dtype=np.int64)
    d_ms[order] = dur
    session = np.empty(total, dtype=np.int64)
    session[order] = sess
    n_sessions = n_sess

    repeat = np.zeros(total, dtype=bool)
    # -- unflagged repeats: slot r copies the volunteer of slot r-1 of the same subject -------
    if R > 1 and cfg.repeat_fraction > 0:
        m = min(S, int(round(cfg.repeat_fraction * total)))
        subj = rng.choice(S, m, replace=False)
        r = rng.integers(1, R, m)
        i = subj * R + r
        vol[i] = vol[i - 1]
        d_ms[i] = (2000 + rng.lognormal(np.log(8000.0), 0.5, m)).astype(np.int64)
        t[i] = t[i - 1] + rng.integers(3_000, 600_000, m) + d_ms[i]
        session[i] = session[i - 1]
        repeat[i] = True

    gold = np.zeros(total, dtype=bool)
    # -- experts: replace one counted slot (non-gold) or add a gold row -----------------------
    m = int(round(cfg.expert_fraction * S))
    extra: dict[str, list[np.ndarray]] = {k: [] for k in ("subj", "vol", "t", "dur", "sb", "gold", "rep", "sess")}
    if m:
        subj = rng.choice(S, m, replace=False)
        who = n_vol + rng.integers(0, 2, m)
        is_gold = rng.random(m) < cfg.gold_fraction
        t_exp = t0 + (rng.random(m) * T).astype(np.int64)
        d_exp = (2000 + rng.lognormal(np.log(15_000.0), 0.4, m)).astype(np.int64)
        sess_exp = n_sessions + np.arange(m)
        n_sessions += m
        # non-gold: take over the last slot of the subject (not a repeat source problem: a copy
        # of the expert's own slot cannot happen, experts are not in the activity draw)
        ng = ~is_gold
        i = subj[ng] * R + (R - 1)
        vol[i], t[i], d_ms[i], session[i], repeat[i] = who[ng], t_exp[ng], d_exp[ng], sess_exp[ng], False
        extra["subj"].append(subj[is_gold])
        extra["vol"].append(who[is_gold])
        extra["t"].append(t_exp[is_gold])
        extra["dur"].append(d_exp[is_gold])
        extra["sb"].append(np.zeros(is_gold.sum(), dtype=bool))
        extra["gold"].append(np.ones(is_gold.sum(), dtype=bool))
        extra["rep"].append(np.zeros(is_gold.sum(), dtype=bool))
        extra["sess"].append(sess_exp[is_gold])
    # -- seen_before: a volunteer shown a subject again later ---------------------------------
    m = int(round(cfg.seen_before_fraction * total))
    if m:
        volunteer_rows = np.flatnonzero(vol < n_vol)
        src = rng.choice(volunteer_rows, m, replace=False)
        d_sb = (2000 + rng.lognormal(np.log(6000.0), 0.6, m)).astype(np.int64)
        extra["subj"].append(slot_subj[src])
        extra["vol"].append(vol[src])
        extra["t"].append(t[src] + rng.exponential(2 * 86_400_000, m).astype(np.int64) + 60_000)
        extra["dur"].append(d_sb)
        extra["sb"].append(np.ones(m, dtype=bool))
        extra["gold"].append(np.zeros(m, dtype=bool))
        extra["rep"].append(np.zeros(m, dtype=bool))
        extra["sess"].append(n_sessions + np.arange(m))
        n_sessions += m

    def cat(base: np.ndarray, key: str) -> np.ndarray:
        return np.concatenate([base, *extra[key]]) if extra[key] else base

    subj_all = cat(slot_subj, "subj")
    vol_all = cat(vol, "vol")
    t_all = cat(t, "t")
    dur_all = cat(d_ms, "dur")
    sb_all = cat(np.zeros(total, dtype=bool), "sb")
    gold_all = cat(gold, "gold")
    rep_all = cat(repeat, "rep")
    sess_all = cat(session, "sess")

    order = np.argsort(t_all, kind="stable")
    if n_rows is not None:
        order = order[:n_rows]
    subj_all, vol_all, t_all, dur_all = subj_all[order], vol_all[order], t_all[order], dur_all[order]
    sb_all, gold_all, rep_all, sess_all = sb_all[order], gold_all[order], rep_all[order], sess_all[order]

    # -- answers ----------------------------------------------------------------------------
    N = subj_all.size
    answer = np.empty(N, dtype=np.int8)
    for lo in range(0, N, 1_000_000):
        sl = slice(lo, min(N, lo + 1_000_000))
        s, v = subj_all[sl], vol_all[sl]
        p = class_probabilities({k: a[s] for k, a in cues.items()}, pop.observers.take(v))
        answer[sl] = draw_answers(p, rng)

    # -- retirement ------------------------------------------------------------------------------
    counted_row = ~(sb_all | gold_all)
    cidx = np.flatnonzero(counted_row)
    cs = subj_all[cidx]
    o = np.argsort(cs, kind="stable")  # rows already in time order
    counted = np.bincount(cs, minlength=S)
    starts = np.concatenate([[0], np.cumsum(counted)[:-1]])
    retired_at = np.full(S, -1, dtype=np.int64)
    ok = counted >= R
    retired_at[ok] = t_all[cidx[o[starts[ok] + R - 1]]] + 150
    first_ms = np.full(S, -1, dtype=np.int64)
    # first classification per subject: rows are in time order, so the first occurrence
    present, first_row = np.unique(subj_all, return_index=True)
    first_ms[present] = t_all[first_row] - dur_all[first_row]
    return _Simulation(
        subj=subj_all,
        vol=vol_all,
        t_ms=t_all,
        dur_ms=dur_all,
        answer=answer,
        seen_before=sb_all,
        gold=gold_all,
        repeat=rep_all,
        session=sess_all,
        pop=pop,
        retired_at=retired_at,
        first_ms=first_ms,
    )


# ---------------------------------------------------------------------------------------------
# synthetic subjects for benchmarks
# ---------------------------------------------------------------------------------------------
def synthetic_subject_set(n_subjects: int, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A manifest and made-up cues for ``n_subjects`` candidates without images.

    For benchmarks and tests that need many subjects without rendering any: each subject gets
    cues drawn around those of a rendered mock subject of a class drawn with mock-physics.md's
    mix (low-z 40 %, hi-z 15 %, galaxy 10 %, point 20 %, other 15 %). The class is not returned:
    the volunteers see only the cues.

    Parameters
    ----------
    n_subjects : int
        How many candidates.
    seed : int
        Random seed.

    Returns
    -------
    manifest, cues : pandas.DataFrame
        ``image, #candidate_id, #ra, #dec`` (strings); ``candidate_id`` and the cue columns of
        `hunt_clusters.mock._perception.CUE_COLUMNS`.

    Examples
    --------
    >>> m, c = synthetic_subject_set(3)
    >>> list(m.columns), len(c)
    (['image', '#candidate_id', '#ra', '#dec'], 3)
    """
    if n_subjects < 1:
        raise InputError(f"n_subjects = {n_subjects}: must be at least 1")
    rng = np.random.default_rng(seed)
    n = n_subjects
    cls = rng.choice(_K, n, p=[0.40, 0.15, 0.10, 0.20, 0.15])
    ra = rng.random(n) * 360.0
    dec = np.degrees(np.arcsin(rng.random(n) * 2 - 1))
    ids = np.array([f"XC{i:07d}" for i in range(n)], dtype=object)
    manifest = pd.DataFrame(
        {
            "image": [f"{c}.png" for c in ids],
            "#candidate_id": ids,
            "#ra": [f"{x:.5f}" for x in ra],
            "#dec": [f"{x:.5f}" for x in dec],
        }
    )
    # typical cues of each class on rendered mock subjects (medians, seed-7 small survey)
    core = np.array([28.0, 20.0, 17.0, 14.0, 16.0])[cls] * rng.lognormal(0.0, 0.25, n)
    n_near = rng.poisson(np.array([8.0, 1.0, 2.0, 1.0, 1.0])[cls])
    central = np.where(cls == 2, rng.uniform(8.0, 25.0, n), np.where(rng.random(n) < 0.3, rng.uniform(2.0, 8.0, n), 0.0))
    cues = pd.DataFrame(
        {
            "candidate_id": ids,
            "x_peak_snr": np.minimum(100.0, np.array([30.0, 23.0, 90.0, 95.0, 20.0])[cls] * rng.lognormal(0.0, 0.6, n)),
            "x_radius_arcsec": core * rng.uniform(2.0, 3.0, n),
            "x_core_arcsec": core,
            "x_n_peaks": 1.0 + (rng.random(n) < np.where(cls == 4, 0.2, 0.04)),
            "x_edge": np.where((cls == 4) & (rng.random(n) < 0.2), rng.uniform(0.3, 0.8, n), 0.0),
            "x_offset_arcsec": rng.uniform(0.0, 15.0, n),
            "o_n_near": n_near.astype(float),
            "o_n_ext_near": rng.binomial(n_near, np.where(cls == 0, 0.5, 0.3)).astype(float),
            "o_near_snr": np.where(n_near > 0, rng.lognormal(np.log(18.0), 0.5, n), 0.0),
            "o_central_radius_arcsec": central,
            "o_central_snr": np.where(central > 0, rng.lognormal(np.log(25.0), 0.5, n), 0.0),
            "o_central_extended": (central > 6.0).astype(float),
        }
    )
    return manifest, cues[["candidate_id", *CUE_COLUMNS]]


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
def _early_workflow(wf: WorkflowDefinition) -> WorkflowDefinition:
    """The early version: the same answers in the same order, with the `EARLY_LABELS` wording."""
    answers = tuple(replace(a, label=EARLY_LABELS.get(a.klass or "", a.label)) for a in wf.answers)
    return replace(wf, answers=answers)


def write_workflows_export(
    path: str | Path,
    *,
    workflow: WorkflowDefinition | None = None,
    config: VolunteerConfig = VolunteerConfig(),
    classifications_count: int = 0,
    retired_count: int = 0,
) -> Path:
    """Write the workflows export (one row per version) matching `write_export`'s classifications.

    Columns and JSON key order are those of a real Zooniverse workflows export (see
    `WORKFLOWS_EXPORT_COLUMNS`); ``tasks`` and ``strings`` come from
    `WorkflowDefinition.to_panoptes`, with the early answer wording (`EARLY_LABELS`) in the first
    version. The early version's task was not yet ``required`` (a task change: major + 1); the
    wording change bumped the minor version.

    Parameters
    ----------
    path : str or Path
        Where to write the CSV.
    workflow : WorkflowDefinition, optional
        Default: The Hunt for Galaxy Clusters (`hunt_clusters.workflow.load_workflow`).
    config : VolunteerConfig
        Gives the workflow id, the two versions and the retirement count.
    classifications_count, retired_count : int
        Written in the ``classifications_count`` and ``retired_set_member_subjects_count`` columns.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_workflows_export(d + "/workflows.csv")
    ...     print(pd.read_csv(p, dtype=str)[["version", "minor_version"]].values.tolist())
    [['16', '55'], ['17', '60']]
    """
    wf = workflow or load_workflow()
    retirement = config.retirement or wf.retirement_count
    rows = []
    for ver, w in zip(config.versions, (_early_workflow(wf), wf)):
        major, minor = parse_version(ver, source="VolunteerConfig.versions")
        pan = w.to_panoptes()
        tasks = pan["tasks"]
        if w is not wf:
            tasks = {k: {**v, "required": False} for k, v in tasks.items()}
        retire = (
            {"criteria": "never_retire", "options": {}}
            if retirement is None
            else {"criteria": "classification_count", "options": {"count": int(retirement)}}
        )
        rows.append(
            {
                "workflow_id": str(config.workflow_id),
                "display_name": wf.display_name,
                "version": str(major),
                "active": "true",
                "classifications_count": str(classifications_count),
                "pairwise": "false",
                "grouped": "false",
                "prioritized": "false",
                "primary_language": "en",
                "first_task": pan["first_task"],
                "tutorial_subject_id": "",
                "retired_set_member_subjects_count": str(retired_count),
                "tasks": _dumps(_jsonb(tasks)),
                "retirement": _dumps(_jsonb(retire)),
                "aggregation": "{}",
                "strings": _dumps(_jsonb(pan["strings"])),
                "minor_version": str(minor),
            }
        )
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w", newline="", encoding="utf-8") as fh:
        fh.write(",".join(WORKFLOWS_EXPORT_COLUMNS) + "\n")
        for r in rows:
            fh.write(",".join(_csv(r[c]) for c in WORKFLOWS_EXPORT_COLUMNS) + "\n")
    return p


def _image_size(folder: Path | None, images: Sequence[str]) -> tuple[int, int]:
    if folder is not None:
        for name in images[:5]:
            f = folder / name
            if name and f.is_file():
                try:
                    from PIL import Image

                    with Image.open(f) as im:
                        return int(im.size[0]), int(im.size[1])
                except Exception:  # not an image: keep the default
                    break
    return 600, 600


def _subject_data(manifest: pd.DataFrame, sim: _Simulation, cfg: VolunteerConfig, retirement: int) -> np.ndarray:
    """``subject_data`` per subject, CSV-quoted (the retirement state at export time)."""
    meta_cols = [c for c in manifest.columns if c != "subject_id"]
    meta_cols = sorted(meta_cols, key=_jsonb_key)
    values = [manifest[c].tolist() for c in meta_cols]
    keys = [_dumps(c) for c in meta_cols]
    sids = manifest["subject_id"].to_numpy()
    first = _iso_ms(np.maximum(sim.first_ms, 0))
    ret = _iso_ms(np.maximum(sim.retired_at, 0))
    upd = _iso_ms(np.maximum(sim.retired_at, 0) + 9)
    sws_id = 160_000_000 + np.arange(len(manifest), dtype=np.int64) * 3
    out = np.empty(len(manifest), dtype=object)
    for i in range(len(manifest)):
        if sim.retired_at[i] >= 0:
            retired = (
                f'{{"id":{sws_id[i]},"workflow_id":{cfg.workflow_id},"classifications_count":{retirement},'
                f'"created_at":"{first[i]}Z","updated_at":"{upd[i]}Z","retired_at":"{ret[i]}Z",'
                f'"subject_id":{sids[i]},"retirement_reason":"classification_count"}}'
            )
        else:
            retired = "null"
        meta = ",".join(f"{k}:{_dumps(v[i])}" for k, v in zip(keys, values))
        s = f'{{"{sids[i]}":{{"retired":{retired}{"," if meta else ""}{meta}}}}}'
        out[i] = '"' + s.replace('"', '""') + '"'
    return out


def _formatter(
    sim: _Simulation,
    manifest: pd.DataFrame,
    wf: WorkflowDefinition,
    cfg: VolunteerConfig,
    retirement: int,
    image_size: tuple[int, int],
) -> tuple[Callable[[int, int], str], int]:
    """A function giving the CSV text of export rows ``lo:hi``, and the number of rows."""
    rng = np.random.default_rng([cfg.seed, 1])
    pop = sim.pop
    N = sim.subj.size
    sids = manifest["subject_id"].to_numpy()
    sdata = _subject_data(manifest, sim, cfg, retirement)
    versions = list(cfg.versions)
    t_switch = _switch_ms(cfg)
    # annotations per (version, answer)
    ann = []
    for w in (_early_workflow(wf), wf):
        for a in w.answers:
            ann.append(_csv(_dumps([{"task": wf.task, "task_label": w.question, "value": a.label}])))
    ann_arr = np.array(ann, dtype=object)
    n_ans = len(wf.answers)
    answer = np.minimum(sim.answer.astype(np.int64), n_ans - 1)
    # per-volunteer pieces (already CSV-escaped: quotes doubled)
    who = np.array(
        [f"{_csv(n)},{i},{ip}" for n, i, ip in zip(pop.user_name, pop.user_id, pop.user_ip)], dtype=object
    )
    nat_w, nat_h = image_size
    full = cfg.metadata == "full"
    p1, p2, p3 = [], [], []
    for k in range(pop.n):
        vw, vh = _VIEWPORTS[pop.viewport[k]]
        cw = min(nat_w, max(200, int(vw * 0.45)))
        ch = int(round(cw * nat_h / nat_w))
        if full:
            p1.append(f'"",""viewport"":{{""width"":{vw},""height"":{vh}}},""started_at"":""')
            p2.append(
                f'Z"",""user_agent"":{_dumps(_USER_AGENTS[pop.agent[k]]).replace(chr(34), chr(34) * 2)},'
                f'""utc_offset"":""{_UTC_OFFSETS[pop.offset[k]]}"",""finished_at"":""'
            )
            p3.append(
                ',""live_project"":true,""interventions"":{""opt_in"":false,""messageShown"":false},'
                f'""user_language"":""{_LANGUAGES[pop.language[k]]}"",""subject_dimensions"":'
                f'[{{""clientWidth"":{cw},""clientHeight"":{ch},""naturalWidth"":{nat_w},""naturalHeight"":{nat_h}}}],'
                '""subject_selection_state"":{""retired"":'
            )
        else:
            p1.append('"",""started_at"":""')
            p2.append('Z"",""finished_at"":""')
            p3.append(',""live_project"":true,""subject_selection_state"":{""retired"":')
    p1a, p2a, p3a = (np.array(x, dtype=object) for x in (p1, p2, p3))
    wtid = ("40911", "43027")
    head = f",{cfg.workflow_id},{_csv(wf.display_name)},"
    cids = cfg.first_classification_id + np.cumsum(rng.geometric(1 / 25.0, N))
    latency = rng.integers(80, 900, N)
    sess_codes = _hex(np.random.default_rng([cfg.seed, 2]), int(sim.session.max()) + 1 if N else 0, 32)
    def chunk(lo: int, hi: int) -> str:
        sl = slice(lo, hi)
        t = sim.t_ms[sl]
        v = sim.vol[sl]
        s = sim.subj[sl]
        ver = (t >= t_switch).astype(np.int64)
        created = np.datetime_as_string(((t + latency[sl]) // 1000).astype("datetime64[s]"), unit="s").tolist()
        finished = _iso_ms(t).tolist()
        started = _iso_ms(t - sim.dur_ms[sl]).tolist()
        selected = _iso_ms(t - sim.dur_ms[sl] - 85).tolist()
        sb = sim.seen_before[sl]
        retired_now = (sim.retired_at[s] >= 0) & (sim.retired_at[s] < t - sim.dur_ms[sl])
        exp_kind = pop.expert[v]
        gold = np.where(sim.gold[sl], "true", "")
        sbk = np.where(sb, ',""seen_before"":true', "").tolist()
        sbv = np.where(sb, "true", "false").tolist()
        ret_s = np.where(retired_now, "true", "false").tolist()
        vers = np.array(versions, dtype=object)[ver].tolist()
        tw = np.array(wtid, dtype=object)[ver].tolist()
        lines = [
            f'{cid},{wh}{head}{vr},{cr[:10]} {cr[11:]} UTC,{g},{ek},"{{""source"":""api"",""session"":""{se}{a1}{st}{a2}{fi}Z""{k}{a3}{rt},""selected_at"":""{sel}Z"",""already_seen"":{b},""selection_state"":""normal"",""finished_workflow"":false,""user_has_finished_workflow"":{b}}},""workflow_translation_id"":""{w}""}}",{an},{sd},{sid}\n'
            for cid, wh, vr, cr, g, ek, se, a1, st, a2, fi, k, a3, rt, sel, b, w, an, sd, sid in zip(
                cids[sl].tolist(),
                who[v].tolist(),
                vers,
                created,
                gold.tolist(),
                exp_kind.tolist(),
                sess_codes[sim.session[sl]].tolist(),
                p1a[v].tolist(),
                started,
                p2a[v].tolist(),
                finished,
                sbk,
                p3a[v].tolist(),
                ret_s,
                selected,
                sbv,
                tw,
                ann_arr[ver * n_ans + answer[sl]].tolist(),
                sdata[s].tolist(),
                sids[s].tolist(),
            )
        ]
        return "".join(lines)

    return chunk, N


#: The chunk formatter of the export being written, inherited by forked worker processes.
_CHUNK: Callable[[int, int], str] | None = None


def _format_range(bounds: tuple[int, int]) -> str:
    if _CHUNK is None:  # pragma: no cover - set by _texts before the pool forks
        raise RuntimeError("no export is being written")
    return _CHUNK(*bounds)


def _texts(chunk: Callable[[int, int], str], ranges: list[tuple[int, int]], jobs: int) -> Iterator[str]:
    """The CSV text of each range, in order; formatted by ``jobs`` forked processes if > 1."""
    global _CHUNK
    if jobs <= 1 or len(ranges) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for lo, hi in ranges:
            yield chunk(lo, hi)
        return
    _CHUNK = chunk
    try:
        with multiprocessing.get_context("fork").Pool(jobs, initializer=ignore_in_worker) as pool:
            yield from pool.imap(_format_range, ranges)
    finally:
        _CHUNK = None


def subject_cues(candidate_ids: Sequence[str], folder: Path | None, cues: pd.DataFrame | None = None, *,
                 jobs: int = 1) -> dict[str, np.ndarray]:
    """The cue arrays of the subjects ``candidate_ids``, in that order.

    From ``cues`` (a table with ``candidate_id`` and the cue columns) when given, else measured on
    the rendered subjects of ``folder`` (cached); see `hunt_clusters.mock._perception`.
    """
    if cues is None:
        if folder is None:
            raise InputError("the mock volunteers look at the rendered subjects: give a subject set folder "
                             "(with tensors.npz) or a table of cues")
        from ._perception import subject_set_cues

        table = subject_set_cues(folder, candidate_ids, jobs=jobs)
    else:
        if "candidate_id" not in cues.columns:
            raise InputError("cue table: no column 'candidate_id'")
        pos = pd.Index(cues["candidate_id"].astype(str)).get_indexer(list(candidate_ids))
        if (pos < 0).any():
            i = int(np.flatnonzero(pos < 0)[0])
            raise InputError(f"manifest row {i + 2}: #candidate_id {list(candidate_ids)[i]!r} has no cues")
        table = cues.iloc[pos].reset_index(drop=True)
    return cue_arrays(table)


def write_export(
    out: str | Path | io.TextIOBase,
    subject_set: str | Path | pd.DataFrame | None = None,
    cues: pd.DataFrame | None = None,
    *,
    catalogue: str | Path | pd.DataFrame | Any | None = None,
    config: VolunteerConfig = VolunteerConfig(),
    workflow: WorkflowDefinition | str | Path | None = None,
    workflows_out: str | Path | None = None,
    n_classifications: int | None = None,
    chunk_rows: int = 50_000,
    jobs: int = 1,
    progress: bool = False,
) -> ExportSummary:
    """Simulate volunteers classifying a subject set and write the classification export.

    Parameters
    ----------
    out : str, Path or text file
        Where the 14-column CSV goes (written in chunks: memory stays bounded by the arrays of
        the simulation, ~60 bytes a row).
    subject_set : str, Path or pandas.DataFrame, optional
        A subject set folder (``manifest.csv``, optional ``upload_ledger.csv``) or a manifest
        table; see `read_subject_set`. ``None``: made-up subjects (`synthetic_subject_set`),
        as many as ``n_classifications`` needs.
    cues : pandas.DataFrame, optional
        What each subject shows (``candidate_id`` + `hunt_clusters.mock._perception.CUE_COLUMNS`),
        e.g. from `synthetic_subject_set`. Default: measured on the subject set's ``tensors.npz``
        (`hunt_clusters.mock._perception.subject_set_cues`, cached in ``cues.parquet``).
    catalogue : str, Path, pandas.DataFrame or astropy.table.Table, optional
        Read for its ``candidate_id`` column only: every subject must be in it.
    config : VolunteerConfig
        The volunteers' behaviour and the export's ids.
    workflow : WorkflowDefinition, str or Path, optional
        Default: The Hunt for Galaxy Clusters (`hunt_clusters.workflow.load_workflow`).
    workflows_out : str or Path, optional
        Also write the matching workflows export (`write_workflows_export`).
    n_classifications : int, optional
        Stop after this many rows, in time order, as if the export were taken mid-project
        (subjects not yet retired then have ``"retired": null``). For benchmark exports of
        1e5-1e7 rows, leave ``subject_set`` out.
    chunk_rows : int
        Rows formatted and written at a time.
    jobs : int
        Processes that format the rows (forked, where the platform can fork); the bytes do not
        depend on it. Worth it only on idle cores: formatting is ~3/4 of the time of a big export.
    progress : bool
        Show a progress bar.

    Returns
    -------
    ExportSummary

    Raises
    ------
    InputError
        Unreadable inputs, a subject without a tensor or cues, a subject whose candidate is not
        in the catalogue, or more rows asked for than the subjects can give.

    Examples
    --------
    >>> import io
    >>> m, c = synthetic_subject_set(20, seed=1)
    >>> buf = io.StringIO()
    >>> s = write_export(buf, m, c, config=VolunteerConfig(seed=1, retirement=5))
    >>> buf.getvalue().splitlines()[0].split(",")[:4]
    ['classification_id', 'user_name', 'user_id', 'user_ip']
    >>> s.n_retired
    20
    """
    t_start = time.perf_counter()
    wf = workflow if isinstance(workflow, WorkflowDefinition) else load_workflow(workflow)
    retirement = config.retirement or wf.retirement_count or 15
    folder: Path | None = None
    if subject_set is None:
        if n_classifications is None:
            raise InputError("give a subject set or n_classifications for made-up subjects")
        per_subject = retirement * (1 + config.seen_before_fraction) + config.expert_fraction * config.gold_fraction
        n_subj = max(1, int(math.ceil(n_classifications / per_subject * 1.002)) + 1)
        manifest_raw, cues = synthetic_subject_set(n_subj, seed=config.seed)
        manifest = read_subject_set(manifest_raw, first_subject_id=config.first_subject_id)
    else:
        manifest = read_subject_set(subject_set, first_subject_id=config.first_subject_id)
        if not isinstance(subject_set, pd.DataFrame):
            p = Path(subject_set)
            folder = p if p.is_dir() else p.parent
    ids = manifest["#candidate_id"].tolist()
    if catalogue is not None:
        check_identifiers(ids, catalogue)
    arrays = subject_cues(ids, folder, cues, jobs=jobs)
    if n_classifications is not None and n_classifications < 1:
        raise InputError(f"n_classifications = {n_classifications}: must be at least 1")
    sim = _simulate(arrays, config, retirement, n_classifications)
    if n_classifications is not None and sim.subj.size < n_classifications:
        raise InputError(
            f"{len(manifest)} subjects give only {sim.subj.size} classifications at retirement {retirement}; "
            f"asked for {n_classifications}"
        )
    images = manifest["image"].tolist() if "image" in manifest.columns else []
    size = _image_size(folder, images)
    chunk, n_total = _formatter(sim, manifest, wf, config, retirement, size)
    ranges = [(lo, min(n_total, lo + chunk_rows)) for lo in range(0, n_total, max(1, chunk_rows))]
    own = not isinstance(out, io.TextIOBase)
    if own:
        Path(out).parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
    fh = open(out, "w", newline="", encoding="utf-8") if own else out  # type: ignore[arg-type]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=sim.subj.size, unit="row", desc="export")
    try:
        fh.write(",".join(EXPORT_COLUMNS) + "\n")
        for (lo, hi), text in zip(ranges, _texts(chunk, ranges, jobs)):
            fh.write(text)
            if bar is not None:
                bar.update(hi - lo)
    finally:
        if bar is not None:
            bar.close()
        if own:
            fh.close()
    present = np.unique(sim.vol)
    n_late = int((sim.t_ms >= _switch_ms(config)).sum())
    n_retired = int((sim.retired_at >= 0).sum())
    wpath = None
    if workflows_out is not None:
        wpath = write_workflows_export(
            workflows_out, workflow=wf, config=config, classifications_count=int(sim.subj.size), retired_count=n_retired
        )
    summary = ExportSummary(
        path=Path(out) if own else Path("<stream>"),  # type: ignore[arg-type]
        n_rows=int(sim.subj.size),
        n_subjects=int(np.unique(sim.subj).size),
        n_retired=n_retired,
        n_volunteers=int(present.size),
        n_anonymous=int(sim.pop.anonymous[present].sum()),
        n_seen_before=int(sim.seen_before.sum()),
        n_repeats=int(sim.repeat.sum()),
        n_expert=int((sim.pop.expert[sim.vol] != "").sum()),
        n_gold=int(sim.gold.sum()),
        rows_per_version={config.versions[0]: int(sim.subj.size) - n_late, config.versions[1]: n_late},
        seconds=time.perf_counter() - t_start,
        workflows_path=wpath,
    )
    log.debug(
        "wrote %d classifications of %d subjects by %d volunteers (%d not logged in) to %s",
        summary.n_rows,
        summary.n_subjects,
        summary.n_volunteers,
        summary.n_anonymous,
        summary.path,
    )
    return summary


__all__ = [
    "EARLY_LABELS",
    "EXPORT_COLUMNS",
    "WORKFLOWS_EXPORT_COLUMNS",
    "ExportSummary",
    "VolunteerConfig",
    "read_subject_set",
    "subject_cues",
    "synthetic_subject_set",
    "write_export",
    "write_workflows_export",
]
