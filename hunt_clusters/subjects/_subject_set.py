"""A subject set folder: one picture per candidate, manifest.csv, tensors.npz, failures, Kosiba layout."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table
from PIL import Image

from .. import CLASSES, __version__
from .._errors import InputError
from .._interrupt import ignore_in_worker
from ..sky import read_candidates
from ..sky._remote import is_url
from ._config import MAX_SUBJECT_BYTES, RenderConfig
from ._inputs import load_image
from ._overlay import (
    NoContoursError,
    coarse_xray_note,
    encode_subject,
    no_contour_reason,
    render_overlay,
    xray_signal,
)
from ._tensors import kosiba_png_array, make_tensor

log = logging.getLogger(__name__)

MANIFEST_COLUMNS: tuple[str, ...] = ("image", "#candidate_id", "#ra", "#dec", "#contour_levels")
"""The manifest header: the image file (relative to the manifest) and the hidden metadata
(``#contour_levels``: how many contour levels the picture shows; 0 = no contour at all)."""

KOSIBA_SIZE: int = 356
_STATE_FILE = "render_state.json"
_FAILURES_FILE = "render_failures.csv"


@dataclass(frozen=True)
class SubjectRecord:
    """What happened to one candidate: ``status`` is ``rendered``, ``skipped`` (up to date) or ``failed``.

    ``contour_levels`` is the number of contour levels drawn (0: the picture has no contour; -1:
    unknown, not drawn); ``flags`` holds ``no_contours`` and ``coarse_xray`` where they apply, and
    ``message`` the reason of a failure or the notes of a drawn subject.
    """

    candidate_id: str
    ra: float
    dec: float
    status: str
    image: str = ""
    n_bytes: int = 0
    message: str = ""
    contour_levels: int = -1
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenderSummary:
    """The result of `render_subject_set`."""

    out_dir: Path
    records: tuple[SubjectRecord, ...]
    manifest: Path
    tensors: Path | None
    kosiba_dir: Path | None

    @property
    def n_rendered(self) -> int:
        """Subjects drawn in this run."""
        return sum(r.status == "rendered" for r in self.records)

    @property
    def n_skipped(self) -> int:
        """Subjects already up to date."""
        return sum(r.status == "skipped" for r in self.records)

    @property
    def n_failed(self) -> int:
        """Candidates that could not be rendered."""
        return sum(r.status == "failed" for r in self.records)

    @property
    def n_no_contours(self) -> int:
        """Subjects in the set (drawn or up to date) whose picture has no contour."""
        return sum(r.status != "failed" and "no_contours" in r.flags for r in self.records)

    @property
    def ok(self) -> bool:
        """True when no candidate failed."""
        return self.n_failed == 0

    @property
    def has_warnings(self) -> bool:
        """True when a subject has no contour or a coarse X-ray image."""
        return any(r.status != "failed" and r.flags for r in self.records)

    def summary(self) -> str:
        """One line per outcome, the warnings grouped, then one line per failure (what the CLI prints)."""
        lines = [
            f"{self.out_dir}: rendered {self.n_rendered}, up to date {self.n_skipped}, "
            f"failed {self.n_failed}, without contours {self.n_no_contours} (manifest: {self.manifest.name}"
            + (f", tensors: {self.tensors.name}" if self.tensors else "") + ")"
        ]
        for flag, what, hint in (
            ("no_contours", "without contours", "'#contour_levels' is 0 in the manifest; "
             "--require-contours makes them failures"),
            ("coarse_xray", "with a coarse X-ray image", ""),
        ):
            flagged = [r for r in self.records if r.status != "failed" and flag in r.flags]
            if not flagged:
                continue
            ids = ", ".join(r.candidate_id for r in flagged[:5]) + (
                f" and {len(flagged) - 5} more" if len(flagged) > 5 else "")
            lines.append(f"  warning: {len(flagged)} subject(s) {what}: {ids}" + (f" ({hint})" if hint else ""))
            notes = {n for r in flagged for n in r.message.split("; ") if n.startswith(flag.split("_")[0])}
            for note in sorted(notes)[:3]:
                lines.append(f"    {note}")
        for r in self.records:
            if r.status == "failed":
                lines.append(f"  failed {r.candidate_id}: {r.message}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- catalogue
def _column(table: Table, name: str) -> Any:
    for col in table.colnames:
        if col.lower() == name:
            return table[col]
    return None


def _text(value: Any) -> str:
    if value is None or np.ma.is_masked(value):
        return ""
    s = str(value).strip()
    return "" if s in ("--", "nan", "None") else s


def select_candidates(table: Table, select: str | None = None,
                      candidates: Sequence[str] | None = None, *, source: str = "catalogue") -> Table:
    """Rows of ``table`` chosen by boolean columns and/or a list of ids.

    Parameters
    ----------
    table : astropy.table.Table
        The candidates.
    select : str, optional
        ``'all'`` or boolean column names joined with ``&``, e.g. ``'in_expert & in_zooniverse'``.
    candidates : sequence of str, optional
        Candidate ids to keep (in the table's order).
    source : str
        Where the selection came from, for messages.

    Examples
    --------
    >>> from astropy.table import Table
    >>> t = Table({"candidate_id": ["a", "b", "c"], "in_zooniverse": [True, False, True]})
    >>> select_candidates(t, "in_zooniverse")["candidate_id"].tolist()
    ['a', 'c']
    >>> select_candidates(t, candidates=["c"])["candidate_id"].tolist()
    ['c']
    """
    keep = np.ones(len(table), dtype=bool)
    if select and select.strip().lower() != "all":
        for term in (t.strip() for t in select.split("&")):
            negate = term.startswith(("!", "~"))
            name = term.lstrip("!~ ").strip()
            col = _column(table, name.lower())
            if col is None:
                bools = [c for c in table.colnames if table[c].dtype.kind == "b"]
                raise InputError(
                    f"{source}: select {term!r}: no column {name!r} in the catalogue; boolean columns "
                    f"there: {', '.join(bools) or 'none'} (or 'all', or a candidates: list)"
                )
            values = np.asarray(col)
            if values.dtype.kind != "b":
                lowered = np.char.lower(values.astype(str))
                if not np.isin(lowered, ["true", "false", "1", "0", "yes", "no", ""]).all():
                    raise InputError(f"{source}: select column {name!r} is not boolean (true/false)")
                values = np.isin(lowered, ["true", "1", "yes"])
            keep &= ~values if negate else values
    if candidates is not None:
        wanted = [str(c) for c in candidates]
        ids = np.array([_text(v) for v in table["candidate_id"]])
        missing = sorted(set(wanted) - set(ids))
        if missing:
            raise InputError(
                f"{source}: candidates not in the catalogue: {', '.join(missing[:5])}"
                + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            )
        keep &= np.isin(ids, wanted)
    return table[keep]


# --------------------------------------------------------------------------- one candidate
@dataclass(frozen=True)
class _Job:
    candidate_id: str
    ra: float
    dec: float
    xray: str
    optical: str
    out_file: str
    render: bool
    tensor: bool
    kosiba_file: str
    config: RenderConfig
    max_bytes: int
    require_contours: bool = False


def _run_job(job: _Job) -> tuple[SubjectRecord, np.ndarray | None]:
    try:
        return _run_job_unsafe(job)
    except InputError as exc:
        return SubjectRecord(job.candidate_id, job.ra, job.dec, "failed", message=str(exc)), None
    except Exception as exc:  # one bad candidate must not stop the set
        log.debug("candidate %s", job.candidate_id, exc_info=True)
        return SubjectRecord(job.candidate_id, job.ra, job.dec, "failed",
                             message=f"unexpected {type(exc).__name__}: {exc}"), None


def _run_job_unsafe(job: _Job) -> tuple[SubjectRecord, np.ndarray | None]:
    cfg = job.config
    if not job.xray:
        raise InputError("no xray_image in the catalogue row; give the X-ray FITS path")
    if not job.optical:
        raise InputError("no optical_image in the catalogue row; give the optical FITS path")
    opt = load_image(job.optical, "optical")
    xr = load_image(job.xray, "xray")
    radius = max(cfg.fov_arcmin, cfg.tensor_fov_arcmin) * 30.0 * np.sqrt(2.0)
    signal = xray_signal(xr, job.ra, job.dec, radius, cfg)
    status, n_bytes, note, n_levels = "skipped", 0, "", -1
    notes, flags = [], []
    if job.render:
        overlay = render_overlay(opt, xr, job.ra, job.dec, cfg, signal=signal)
        empty = no_contour_reason(overlay.contours, cfg)
        coarse = coarse_xray_note(xr.pixel_scale_arcsec, cfg)
        if empty and job.require_contours:
            raise NoContoursError(empty + " (--require-contours)" + (f"; {coarse}" if coarse else ""))
        data, note = encode_subject(overlay.image, cfg, job.max_bytes)
        if note:
            log.warning("%s: %s", job.candidate_id, note)
            notes.append(note)
        _atomic_write(Path(job.out_file), data)
        status, n_bytes = "rendered", len(data)
        n_levels = 0 if empty else int(overlay.contours.levels.size)
        for flag, text in (("no_contours", empty), ("coarse_xray", coarse)):
            if text:
                flags.append(flag)
                notes.append(text)
    tensor = make_tensor(opt, xr, job.ra, job.dec, cfg, signal=signal) if job.tensor else None
    if job.kosiba_file:
        big = make_tensor(opt, xr, job.ra, job.dec, cfg, size=KOSIBA_SIZE, signal=signal)
        Image.fromarray(kosiba_png_array(big), mode="RGB").save(job.kosiba_file, compress_level=1)
    if not n_bytes and Path(job.out_file).exists():
        n_bytes = Path(job.out_file).stat().st_size
    return SubjectRecord(job.candidate_id, job.ra, job.dec, status, Path(job.out_file).name,
                         n_bytes, "; ".join(notes), n_levels, tuple(flags)), tensor


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _imap(jobs: list[_Job], n_jobs: int) -> Iterator[tuple[SubjectRecord, np.ndarray | None]]:
    if n_jobs <= 1 or len(jobs) <= 1:
        yield from map(_run_job, jobs)
        return
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    ctx = multiprocessing.get_context(method)
    chunk = max(1, min(16, len(jobs) // (4 * n_jobs)))
    with ctx.Pool(min(n_jobs, len(jobs)), initializer=ignore_in_worker) as pool:
        yield from pool.imap(_run_job, jobs, chunksize=chunk)


# --------------------------------------------------------------------------- the set
def _config_hash(config: RenderConfig) -> str:
    text = json.dumps({"config": config.as_dict(), "version": __version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _mtime(path: str) -> float:
    if is_url(path):  # not asked (a request per file on the driver): a subject from URLs is redrawn each run
        return np.inf
    try:
        return os.stat(path).st_mtime
    except OSError:
        return np.inf


def _safe_name(candidate_id: str) -> str:
    bad = set('/\\:*?"<>|') | {"\0"}
    name = "".join("_" if ch in bad or ord(ch) < 32 else ch for ch in candidate_id).strip()
    return name if name not in ("", ".", "..") else "_"


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def render_subject_set(
    catalogue: str | os.PathLike[str] | Table,
    out_dir: str | os.PathLike[str],
    *,
    config: RenderConfig | None = None,
    select: str | None = None,
    candidates: Sequence[str] | None = None,
    jobs: int = 1,
    force: bool = False,
    tensors: bool = True,
    kosiba_dir: str | os.PathLike[str] | None = None,
    kosiba_class: str = "expert",
    kosiba_split: str | float | None = None,
    progress: bool = False,
    max_bytes: int = MAX_SUBJECT_BYTES,
    require_contours: bool = False,
    client: Any = None,
) -> RenderSummary:
    """Render the candidates of a catalogue into a subject set folder.

    Writes ``<candidate_id>.png`` (or ``.jpg``) per candidate, ``manifest.csv`` (columns
    ``image, #candidate_id, #ra, #dec``, accepted by ``panoptes subject-set upload-subjects``),
    ``tensors.npz`` (``x`` float32 ``(N, S, S, 2)`` channels [optical, X-ray], ``candidate_id``,
    ``ra``, ``dec``, ``pixel_scale_arcsec``, ``channels``, ``normalisation``), ``render_failures.csv``
    (``candidate_id, reason``) and ``render_state.json`` (the options, to know what is up to date).
    A candidate that fails (outside an image, empty X-ray, no WCS, too large) is reported and the
    others are still rendered.

    Parameters
    ----------
    catalogue : path or astropy.table.Table
        The candidate table (docs/formats.md); image paths relative to its folder, or fsspec
        URLs (``https://``, ``s3://``, ``gs://``, ``file://``; docs/render.md), read by each worker.
    out_dir : path
        The subject set folder (created).
    config : RenderConfig, optional
        Render options.
    select, candidates
        Which candidates (see `select_candidates`); all by default.
    jobs : int
        Worker processes.
    force : bool
        Re-render subjects that are up to date (newer than their FITS files, same options).
    tensors : bool
        Write ``tensors.npz``.
    kosiba_dir : path, optional
        Also write the Kosiba2020 layout there: ``<candidate_id>.png`` 356x356x3 uint8 [empty,
        optical, X-ray] and ``train.csv`` / ``test.csv`` with ``image_id,class``.
    kosiba_class : {'expert', 'true'}
        The class column of the Kosiba CSVs (``expert_class`` or ``true_class``).
    kosiba_split : str or float, optional
        A boolean column that marks test rows (default ``in_test`` when present), or the fraction
        of labelled rows to put in ``test.csv`` (seeded, reproducible); otherwise only ``train.csv``.
    progress : bool
        Show a progress bar.
    max_bytes : int
        Size limit per subject file (Zooniverse: 1 MiB).
    require_contours : bool
        Make a subject without any X-ray contour a failure (not drawn, listed in
        ``render_failures.csv``); otherwise it is drawn, reported in the summary, flagged
        ``no_contours`` in its record and given ``#contour_levels`` 0 in the manifest.
    client : distributed.Client, optional
        Render on this Dask cluster instead of ``jobs`` local processes (``--scheduler``,
        docs/scale.md): the same files, byte for byte. The FITS paths (or URLs) and the output
        folder must be reachable from the workers under the same names.

    Returns
    -------
    RenderSummary

    Examples
    --------
    >>> import tempfile
    >>> from astropy.table import Table
    >>> out = tempfile.mkdtemp()
    >>> s = render_subject_set(Table({"candidate_id": ["X1"], "ra": [150.0], "dec": [2.0]}), out)
    >>> s.n_failed, s.records[0].message
    (1, 'no xray_image in the catalogue row; give the X-ray FITS path')
    """
    config = config if config is not None else RenderConfig()
    if int(jobs) < 1:
        raise InputError(f"--jobs {jobs}: expected 1 or more worker processes")
    if kosiba_class not in ("expert", "true"):
        raise InputError(f"kosiba class {kosiba_class!r}: expected 'expert' or 'true'")
    label = str(catalogue) if not isinstance(catalogue, Table) else "<Table>"
    table = read_candidates(catalogue, validate=False)
    table = select_candidates(table, select, candidates, source=label)
    if len(table) == 0:
        raise InputError(f"{label}: no candidates selected (select={select!r}); nothing to render")
    ids = [_text(v) for v in table["candidate_id"]]
    seen: dict[str, int] = {}
    for i, cid in enumerate(ids):
        if not cid:
            raise InputError(f"{label}: row {i + 1}: empty candidate_id")
        if cid in seen:
            raise InputError(f"{label}: rows {seen[cid] + 1} and {i + 1}: candidate_id {cid!r} repeated")
        seen[cid] = i
    base = Path(table.meta.get("base_dir", Path(label).parent if label != "<Table>" else Path.cwd()))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kosiba = Path(kosiba_dir) if kosiba_dir is not None else None
    if kosiba is not None:
        kosiba.mkdir(parents=True, exist_ok=True)

    state_path = out / _STATE_FILE
    chash = _config_hash(config)
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError):
        state = {}
    same_config = state.get("config_hash") == chash and not force
    ext = ".png" if config.format == "png" else ".jpg"
    # what the last run learnt of each subject it drew: contour levels and flags
    known: dict[str, Any] = state.get("subjects", {}) if same_config else {}

    def path_of(col: str, row: Any) -> str:
        c = _column(table, col)
        if c is None:
            return ""
        p = _text(row[c.name])
        return "" if not p else str(p if os.path.isabs(p) or is_url(p) else base / p)

    tensor_file = out / "tensors.npz"
    jobs_list: list[_Job] = []
    newest_input = 0.0
    for row, cid in zip(table, ids):
        xray, optical = path_of("xray_image", row), path_of("optical_image", row)
        out_file = out / (_safe_name(cid) + ext)
        newest = max(_mtime(xray) if xray else np.inf, _mtime(optical) if optical else np.inf)
        newest_input = max(newest_input, newest)
        up_to_date = (same_config and out_file.exists() and out_file.stat().st_mtime >= newest
                      and cid in known and not (require_contours and known[cid][0] == 0))
        jobs_list.append(_Job(cid, float(row["ra"]), float(row["dec"]), xray, optical, str(out_file),
                              not up_to_date, False, "", config, int(max_bytes), bool(require_contours)))
    tensors_fresh = (
        same_config and tensor_file.exists() and tensor_file.stat().st_mtime >= newest_input
        and state.get("tensor_ids") == ids
    )
    need_tensors = tensors and not tensors_fresh
    jobs_list = [
        dataclasses.replace(
            j, tensor=need_tensors,
            kosiba_file=str(kosiba / (_safe_name(j.candidate_id) + ".png")) if kosiba is not None else "",
        )
        for j in jobs_list
    ]
    n_skip = sum(not j.render for j in jobs_list)
    if n_skip:
        log.info("%s: %d of %d subjects up to date (use --force to redraw)", out, n_skip, len(jobs_list))
    work = [j for j in jobs_list if j.render or j.tensor or j.kosiba_file]
    results: dict[str, SubjectRecord] = {}
    # tensors go straight into one preallocated array (2900 candidates at 128 px: 365 MiB)
    row_of = {j.candidate_id: i for i, j in enumerate(jobs_list)}
    size = config.tensor_size
    x_all = np.zeros((len(jobs_list) if need_tensors else 0, size, size, 2), dtype=np.float32)
    has_tensor = np.zeros(len(jobs_list), dtype=bool)
    if client is not None:
        from ._distributed import imap_dask

        iterator = imap_dask(client, work)
    else:
        iterator = _imap(work, int(jobs))
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=len(work), desc="render", unit="subject", file=sys.stderr)
    for record, tensor in iterator:
        if record.status == "skipped" and record.candidate_id in known:  # drawn before, tensor now
            levels, flags, message = known[record.candidate_id]
            record = dataclasses.replace(record, contour_levels=levels, flags=tuple(flags), message=message)
        results[record.candidate_id] = record
        if tensor is not None:
            x_all[row_of[record.candidate_id]] = tensor
            has_tensor[row_of[record.candidate_id]] = True
        if record.status == "failed":
            log.warning("failed %s: %s", record.candidate_id, record.message)
    records: list[SubjectRecord] = []
    for j in jobs_list:
        if j.candidate_id in results:
            records.append(results[j.candidate_id])
        else:
            p = Path(j.out_file)
            levels, flags, message = known[j.candidate_id]
            records.append(SubjectRecord(j.candidate_id, j.ra, j.dec, "skipped", p.name,
                                         p.stat().st_size, message, levels, tuple(flags)))
    good = [r for r in records if r.status != "failed"]
    manifest = out / "manifest.csv"
    _write_csv(manifest, MANIFEST_COLUMNS, ((r.image, r.candidate_id, f"{r.ra:.6f}", f"{r.dec:.6f}",
                                             r.contour_levels) for r in good))
    _write_csv(out / _FAILURES_FILE, ("candidate_id", "reason"),
               ((r.candidate_id, r.message) for r in records if r.status == "failed"))

    tensor_path: Path | None = None
    tensor_ids = state.get("tensor_ids") if tensors_fresh else None
    if tensors and need_tensors:
        keep = has_tensor & np.array([r.status != "failed" for r in records], dtype=bool)
        ok = [r for r, k in zip(records, keep) if k]
        x = x_all if keep.all() else x_all[keep]
        tensor_ids = [r.candidate_id for r in ok]
        tmp = out / "tensors.part.npz"
        np.savez(
            tmp,
            x=x,
            candidate_id=np.array(tensor_ids, dtype=str),
            ra=np.array([r.ra for r in ok]),
            dec=np.array([r.dec for r in ok]),
            channels=np.array(["optical", "xray"]),
            pixel_scale_arcsec=np.float64(config.tensor_fov_arcmin * 60.0 / size),
            normalisation=np.array(
                "optical: display interval + stretch of the render options, [0, 1]; "
                "xray: asinh(snr/3)/asinh(100/3) clipped to [0, 1]; rows north to south, east left"
            ),
            config=np.array(json.dumps(config.as_dict(), sort_keys=True)),
        )
        os.replace(tmp, tensor_file)
        tensor_path = tensor_file
    elif tensors:
        tensor_path = tensor_file
    state_path.write_text(json.dumps({
        "config_hash": chash, "config": config.as_dict(), "tensor_ids": tensor_ids,
        "subjects": {r.candidate_id: [r.contour_levels, list(r.flags), r.message]
                     for r in good if r.contour_levels >= 0},
    }, indent=1))
    if kosiba is not None:
        _write_kosiba_csv(table, ids, {r.candidate_id for r in good}, kosiba, kosiba_class, kosiba_split)
    return RenderSummary(out, tuple(records), manifest, tensor_path, kosiba)


def _write_kosiba_csv(table: Table, ids: list[str], ok: set[str], folder: Path, which: str,
                      split: str | float | None) -> None:
    colname = "expert_class" if which == "expert" else "true_class"
    col = _column(table, colname)
    if col is None:
        raise InputError(f"--kosiba-class {which}: the catalogue has no {colname} column")
    classes = [_text(v).lower() for v in col]
    if split is None and _column(table, "in_test") is not None:
        split = "in_test"
    if isinstance(split, str):
        try:
            split = float(split)
        except ValueError:
            pass
    if isinstance(split, str):
        c = _column(table, split.lower())
        if c is None:
            raise InputError(f"--kosiba-split {split!r}: no such column in the catalogue")
        is_test = np.asarray(c).astype(bool)
    elif isinstance(split, float):
        if not 0 <= split < 1:
            raise InputError(f"--kosiba-split {split}: a test fraction must be in [0, 1)")
        rng = np.random.default_rng(20200601)
        is_test = rng.random(len(ids)) < split
    else:
        is_test = np.zeros(len(ids), dtype=bool)
    train, test = [], []
    for cid, cls, t in zip(ids, classes, is_test):
        if cid not in ok or cls not in CLASSES:
            continue
        (test if t else train).append((_safe_name(cid), cls))
    _write_csv(folder / "train.csv", ("image_id", "class"), train)
    if test or split is not None:
        _write_csv(folder / "test.csv", ("image_id", "class"), test)
