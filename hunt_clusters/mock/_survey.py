"""Run a whole mock survey: truth, images (in parallel), measurements, expert labels, catalogue."""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from astropy import units as u
from astropy.table import MaskedColumn, Table
from tqdm import tqdm

from .. import CLASSES, CLUSTER_CLASSES, __version__
from .._errors import InputError
from .._interrupt import ignore_in_worker
from . import _physics as ph
from ._candidate import CandidateTask, simulate_candidate
from ._config import SurveyConfig
from ._observers import expert_labels_from_cues
from ._perception import CUE_COLUMNS
from ._truth import draw_truth

log = logging.getLogger(__name__)

CATALOGUE_NAME = "candidates.ecsv"

#: Contract columns first (docs/formats.md), then the mock's extras.
CONTRACT_COLUMNS: tuple[str, ...] = (
    "candidate_id", "ra", "dec", "xray_image", "optical_image", "extent_arcsec", "ext_like",
    "count_rate", "redshift", "expert_class", "spec_class", "true_class",
    "in_expert", "in_zooniverse", "in_test", "flux", "offaxis_arcmin", "exposure_s",
)
_EXTRA_COLUMNS: tuple[str, ...] = (
    "subtype", "xamin_class", "net_counts", "true_ra", "true_dec", "pointing_id", "pointing_ra",
    "pointing_dec", "roll_deg", "core_radius_arcsec", "r500_arcsec", "m500", "temperature_kev", "lx",
    "richness", "agn_fraction", "n_members_visible", "bcg_mag", "mstar_mag", "counterpart_mag",
    "galaxy_re_arcsec", "pair_sep_arcsec", "xray_centre_ra", "xray_centre_dec",
    "optical_centre_ra", "optical_centre_dec",
)
_UNITS: dict[str, Any] = {
    "ra": u.deg, "dec": u.deg, "true_ra": u.deg, "true_dec": u.deg, "pointing_ra": u.deg,
    "pointing_dec": u.deg, "roll_deg": u.deg, "xray_centre_ra": u.deg, "xray_centre_dec": u.deg,
    "optical_centre_ra": u.deg, "optical_centre_dec": u.deg,
    "extent_arcsec": u.arcsec, "core_radius_arcsec": u.arcsec, "r500_arcsec": u.arcsec,
    "galaxy_re_arcsec": u.arcsec, "pair_sep_arcsec": u.arcsec, "offaxis_arcmin": u.arcmin,
    "exposure_s": u.s, "count_rate": u.ct / u.s, "net_counts": u.ct, "flux": u.erg / u.s / u.cm**2,
    "lx": u.erg / u.s, "m500": u.Msun, "temperature_kev": u.keV,
    "bcg_mag": u.mag, "mstar_mag": u.mag, "counterpart_mag": u.mag,
}
_DESCRIPTIONS: dict[str, str] = {
    "ra": "detected (catalogue) position, ICRS",
    "extent_arcsec": "XAmin-like measured extent (beta-model core radius)",
    "ext_like": "XAmin-like extension likelihood",
    "count_rate": "net 0.5-2 keV count rate within 30 arcsec, vignetting-corrected (pn+2MOS)",
    "flux": "true 0.5-2 keV flux (clusters: within R500)",
    "true_class": "the truth: low-z, hi-z, galaxy, point or other",
    "subtype": "cluster / elliptical / spiral / agn / star / pair / wings / clump / edge",
    "xamin_class": "C1 or C2 by the Pacaud+06 cuts on extent_arcsec and ext_like, else empty",
    "n_members_visible": "cluster galaxies (BCG included) brighter than R=20 in the optical image",
}


@dataclass(frozen=True)
class SurveyResult:
    """What :func:`simulate_survey` wrote: the folder, the catalogue path and the catalogue."""

    out_dir: Path
    catalogue_path: Path
    catalogue: Table


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _tasks(truth: Table, config: SurveyConfig, out_dir: Path) -> Iterator[CandidateTask]:
    cols = truth.colnames
    for i, row in enumerate(truth.iterrows(*cols)):
        values = {k: _plain(v) for k, v in zip(cols, row)}
        yield CandidateTask(i, config.seed, values, str(out_dir), config.field_arcmin)


def _run_tasks(tasks: Iterable[CandidateTask], n: int, jobs: int, progress: bool,
               client: Any = None) -> list[dict[str, Any]]:
    bar = tqdm(total=n, desc="simulating candidates", unit="cand", disable=not progress, leave=False)
    results: list[dict[str, Any]] = []
    try:
        if client is not None:  # a Dask cluster (--scheduler): results gathered in candidate order
            # the workers may run elsewhere (another working folder): absolute paths
            tasks = [dataclasses.replace(t, out_dir=os.path.abspath(t.out_dir)) for t in tasks]
            for fut in client.map(simulate_candidate, tasks, pure=False, retries=2):
                results.append(fut.result())
                bar.update()
        elif jobs <= 1:
            for task in tasks:
                results.append(simulate_candidate(task))
                bar.update()
        else:
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(jobs, initializer=ignore_in_worker) as pool:
                for res in pool.imap(simulate_candidate, tasks, chunksize=8):
                    results.append(res)
                    bar.update()
    finally:
        bar.close()
    return results


def _masked(values: np.ndarray, mask: np.ndarray, name: str) -> MaskedColumn:
    return MaskedColumn(values, mask=mask, name=name)


def build_catalogue(truth: Table, results: list[dict[str, Any]], config: SurveyConfig) -> Table:
    """Assemble the candidate catalogue from the truth, the per-candidate results and the experts."""
    n = len(truth)
    res = {k: np.array([r[k] for r in results]) for k in results[0]} if results else {}
    cat = Table()
    cat["candidate_id"] = truth["candidate_id"]
    cat["ra"] = res["ra"]
    cat["dec"] = res["dec"]
    cat["xray_image"] = [f"xray/{c}.fits.gz" for c in truth["candidate_id"]]
    cat["optical_image"] = [f"optical/{c}.fits.gz" for c in truth["candidate_id"]]
    cat["extent_arcsec"] = res["extent_arcsec"]
    cat["ext_like"] = res["ext_like"]
    cat["count_rate"] = res["count_rate"]
    z = np.asarray(truth["redshift"], dtype=float)
    cat["redshift"] = _masked(np.nan_to_num(z, nan=0.0), np.isnan(z), "redshift")
    cat["expert_class"] = _masked(np.full(n, "", dtype="U6"), np.ones(n, bool), "expert_class")
    spec = np.asarray(truth["spec_class"]).astype("U11")
    cat["spec_class"] = _masked(spec, spec == "", "spec_class")
    for name in ("true_class", "in_expert", "in_zooniverse", "in_test", "flux", "offaxis_arcmin", "exposure_s"):
        cat[name] = truth[name]
    for name in _EXTRA_COLUMNS:
        if name in res:
            cat[name] = res[name]
        elif name in truth.colnames:
            cat[name] = truth[name]
    ext, like = res["extent_arcsec"], res["ext_like"]
    cat["xamin_class"] = np.where((ext > 5) & (like > 33), "C1", np.where((ext > 5) & (like > 15), "C2", ""))
    gal = np.isin(np.asarray(truth["subtype"]).astype(str), ["elliptical", "spiral"])
    re = np.full(n, np.nan)
    if gal.any():
        re[gal] = np.asarray(truth["galaxy_re_kpc"])[gal] / ph.kpc_per_arcsec(z[gal])
    cat["galaxy_re_arcsec"] = re
    cat = cat[list(CONTRACT_COLUMNS) + [c for c in _EXTRA_COLUMNS if c in cat.colnames]]

    # the experts see the rendered subjects only (cues measured by the workers on the tensors)
    expert = np.asarray(cat["in_expert"], dtype=bool)
    labels = np.full(n, "", dtype="U6")
    if expert.any():
        cues = pd.DataFrame({"candidate_id": np.asarray(cat["candidate_id"]).astype(str)[expert],
                             **{k: res[f"cue_{k}"][expert] for k in CUE_COLUMNS}})
        labels[expert] = expert_labels_from_cues(cues, seed=config.seed, lapse=config.expert_lapse)
    cat["expert_class"] = _masked(labels, ~expert, "expert_class")
    for name, unit in _UNITS.items():
        if name in cat.colnames:
            cat[name].unit = unit
    for name, text in _DESCRIPTIONS.items():
        cat[name].description = text
    cat.meta["generator"] = f"hunt-clusters {__version__} simulate"
    cat.meta["survey_config"] = {
        k: (list(map(list, v)) if k == "class_fractions" else v) for k, v in asdict(config).items()
    }
    cat.meta["note"] = "mock X-CLASS survey with known truth; physics and sources in docs/mock-survey.md"
    return cat


def simulate_survey(
    out_dir: str | os.PathLike[str],
    config: SurveyConfig | None = None,
    *,
    jobs: int = 1,
    progress: bool = False,
    client: Any = None,
) -> SurveyResult:
    """Write a mock X-CLASS survey with known truth.

    Parameters
    ----------
    out_dir : path
        Folder to write ``candidates.ecsv``, ``xray/<id>.fits.gz`` and ``optical/<id>.fits.gz`` into
        (created if needed; files of an earlier run are overwritten).
    config : SurveyConfig, optional
        Sizes, class mix and seed; the paper-sized default when omitted.
    jobs : int
        Worker processes for the images. Results do not depend on it.
    progress : bool
        Show a progress bar (tqdm, on stderr).
    client : distributed.Client, optional
        Simulate the images on this Dask cluster instead (``--scheduler``; the same files). The
        workers must see ``out_dir`` under the same path.

    Returns
    -------
    SurveyResult
        The folder, the catalogue path and the catalogue (`~astropy.table.Table`).

    Examples
    --------
    >>> import tempfile
    >>> cfg = SurveyConfig(seed=1, n_expert=6, n_zooniverse=6, n_overlap=4,
    ...                    n_test_clusters=1, n_test_noncluster=1)
    >>> res = simulate_survey(tempfile.mkdtemp(), cfg)
    >>> len(res.catalogue), sorted(p.name for p in res.out_dir.iterdir())
    (8, ['candidates.ecsv', 'optical', 'xray'])
    """
    config = config or SurveyConfig()
    if not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"jobs (--jobs) = {jobs!r}: use a whole number >= 1 (worker processes)")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; give a folder for the mock survey")
    try:
        for sub in ("xray", "optical"):
            (out / sub).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create the survey folder ({exc.strerror})") from exc
    truth = draw_truth(config)
    log.info("simulating %d candidates into %s with %d job(s)", len(truth), out, jobs)
    results = _run_tasks(_tasks(truth, config, out), len(truth), jobs, progress, client)
    cat = build_catalogue(truth, results, config)
    path = out / CATALOGUE_NAME
    tmp = out / (CATALOGUE_NAME + ".part")
    cat.write(tmp, format="ascii.ecsv", overwrite=True)
    tmp.replace(path)
    log.info("wrote %s", path)
    return SurveyResult(out_dir=out, catalogue_path=path, catalogue=cat)


# --- summaries printed by ``hunt-clusters simulate`` -------------------------------------------------

#: Redshift bins of the summary table.
REDSHIFT_BINS: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5)


def class_mix(cat: Table) -> Table:
    """Number and fraction of candidates per true class, and per sample.

    Examples
    --------
    >>> t = Table({"true_class": ["low-z", "point", "low-z", "other"], "in_expert": [True] * 4,
    ...            "in_zooniverse": [False] * 4, "in_test": [False] * 4})
    >>> class_mix(t)["n"].tolist()
    [2, 0, 0, 1, 1]
    """
    tc = np.asarray(cat["true_class"]).astype(str)
    rows = []
    for c in CLASSES:
        sel = tc == c
        rows.append((c, int(sel.sum()), sel.mean() if len(tc) else 0.0,
                     int((sel & np.asarray(cat["in_expert"])).sum()),
                     int((sel & np.asarray(cat["in_zooniverse"])).sum()),
                     int((sel & np.asarray(cat["in_test"])).sum())))
    return Table(rows=rows, names=("class", "n", "fraction", "expert", "zooniverse", "test"))


def redshift_distribution(cat: Table, bins: tuple[float, ...] = REDSHIFT_BINS) -> Table:
    """Counts of clusters (low-z, hi-z) and nearby galaxies per redshift bin."""
    z = np.ma.filled(np.ma.asarray(cat["redshift"], dtype=float), np.nan)
    tc = np.asarray(cat["true_class"]).astype(str)
    rows = []
    for lo, hi in zip(bins[:-1], bins[1:]):
        inb = (z >= lo) & (z < hi)
        rows.append((f"{lo:.2f}-{hi:.2f}", int((inb & (tc == "low-z")).sum()),
                     int((inb & (tc == "hi-z")).sum()), int((inb & (tc == "galaxy")).sum())))
    return Table(rows=rows, names=("z", "low-z", "hi-z", "galaxy"))


def _expert_sample(cat: Table) -> tuple[np.ndarray, np.ndarray]:
    """True and expert class of each candidate of the expert sample."""
    exp = np.ma.filled(np.ma.asarray(cat["expert_class"]), "")
    sel = np.asarray(cat["in_expert"], dtype=bool)
    return np.asarray(cat["true_class"]).astype(str)[sel], np.asarray(exp).astype(str)[sel]


def confusion_matrix(cat: Table) -> Table:
    """Expert class (columns) against true class (rows) over the expert sample."""
    tc, ec = _expert_sample(cat)
    t = Table()
    t["true \\ expert"] = list(CLASSES)
    for c in CLASSES:
        t[c] = [int(((tc == r) & (ec == c)).sum()) for r in CLASSES]
    return t


def format_summary(cat: Table) -> str:
    """The text ``hunt-clusters simulate`` prints: class mix, redshifts, expert confusion matrix."""
    mix = class_mix(cat)
    mix["fraction"].format = ".3f"
    tc, ec = _expert_sample(cat)
    acc5 = float((tc == ec).mean()) if tc.size else float("nan")
    clusters = list(CLUSTER_CLASSES)
    acc2 = float((np.isin(tc, clusters) == np.isin(ec, clusters)).mean()) if tc.size else float("nan")
    parts = [
        f"{len(cat)} candidates: {int(np.sum(cat['in_expert']))} expert, "
        f"{int(np.sum(cat['in_zooniverse']))} Zooniverse, "
        f"{int(np.sum(np.asarray(cat['in_expert']) & np.asarray(cat['in_zooniverse'])))} in both, "
        f"test set {int(np.sum(cat['spec_class'] == 'cluster'))} clusters + "
        f"{int(np.sum(cat['spec_class'] == 'non-cluster'))} non-clusters",
        "",
        "class mix (truth)",
        "\n".join(mix.pformat(max_lines=-1, max_width=-1)),
        "",
        "redshift distribution",
        "\n".join(redshift_distribution(cat).pformat(max_lines=-1, max_width=-1)),
        "",
        f"experts vs truth (rows truth, columns expert; 5-class agreement {acc5:.3f}, "
        f"cluster/non-cluster {acc2:.3f})",
        "\n".join(confusion_matrix(cat).pformat(max_lines=-1, max_width=-1)),
    ]
    return "\n".join(parts)


__all__ = [
    "CATALOGUE_NAME",
    "CONTRACT_COLUMNS",
    "SurveyResult",
    "build_catalogue",
    "class_mix",
    "confusion_matrix",
    "format_summary",
    "redshift_distribution",
    "simulate_survey",
]
