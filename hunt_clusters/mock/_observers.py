"""Mock observers (volunteers and experts) who answer from what the rendered subject shows.

Each observer perceives the cues of `hunt_clusters.mock._perception` with Gaussian noise and
applies the field guide's rule (``workflows/hunt_for_galaxy_clusters.yaml``) to what they
perceive. Every test of the rule is a threshold on one perceived cue ``u`` (in log units where
the cue is a size or a count): the probability that it passes is ``Phi((u - t - delta_k) /
sigma)`` with

* ``sigma = sigma_0 * (1 + SNR_HALF / snr) / skill_k``: the noise grows as the cue's own S/N
  falls (``snr``: the X-ray peak S/N for X-ray cues, the optical S/N of the objects looked at for
  optical cues) and as the observer's skill falls;
* ``delta_k``: the observer's own criterion (a personal shift of each threshold).

The field guide's rule, in order (``A`` = a source worth classifying):

1. contours cut by the edge of the field, several separate blobs, or no significant X-ray source
   (peak below the Rose criterion, S/N ~5) -> ``other``;
2. a big bright galaxy at the X-ray position -> ``galaxy``, unless the emission is also extended
   and rich in galaxies (a cluster with its central galaxy) -> ``low-z``;
3. wide X-ray emission -> ``low-z`` with a group of galaxies inside the contours, else ``hi-z``;
4. small contours -> ``point``.

With independent tests the class probabilities follow in closed form (`class_probabilities`).
Volunteers also have personal biases (some call every extended source ``low-z``, some never
answer ``hi-z``, a few call many things ``other``) and lapses (an answer at random). Experts
perceive with less noise, have no biases, call a central object a big galaxy only when it is
extended, are more conservative about weak sources, and their lapses are hurried glances (the
same rule with a volunteer's noise), not random answers.

Every number is in ``docs/mock-volunteers.md`` with its source; none was tuned to a result.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr

from .. import CLASSES
from .._errors import InputError
from ._perception import CUE_COLUMNS

log = logging.getLogger(__name__)

_K = len(CLASSES)
LOWZ, HIZ, GALAXY, POINT, OTHER = range(_K)

#: Thresholds of the field guide's rule (in the cue's own units) [A, see docs/mock-volunteers.md].
CORE_ARCSEC = 18.0  #: wide emission: half-maximum radius above ~1.5 x the smoothed PSF's (12")
RICH_N = 3.0  #: "a group of galaxies": at least 3 objects inside the contours
BIG_ARCSEC = 8.0  #: a big galaxy: isophotal radius above 8" (a star-like dot is 2-4")
WEAK_SNR = 5.0  #: Rose criterion: S/N ~5 for a certain detection [Q: Rose 1948]
EXPERT_WEAK_SNR = 6.0  #: experts: the X-CLASS moderators' caution with faint sources [A]
MULTI_PEAKS = 1.5  #: several blobs: 2 or more separate peaks
EDGE_FRACTION = 0.25  #: contours cut by the edge: a quarter of the outline on the field's edge
#: Base perception noise of each test (log units for sizes and counts) [A].
SIGMA_CORE = 0.15
SIGMA_RICH = 0.35
SIGMA_BIG = 0.25
SIGMA_WEAK = 0.15
SIGMA_MULTI = 0.2
SIGMA_EDGE = 0.08
#: S/N at which the perception noise doubles [A: a 5-sigma feature is seen at all, Rose 1948].
SNR_HALF = 5.0
#: S/N at which the optical noise is judged where nothing is detected (the detection threshold).
DETECTION_SNR = 3.0
#: Personal criteria: rms shift of each threshold across volunteers (log units) [A].
CRITERION_SPREAD = 0.15
#: Fractions of volunteers with a personal bias [A; GZ DECaLS: ~1 % over-report artefacts].
LOWZ_CALLER_FRACTION = 0.10  #: every extended source is "low-z" (sees galaxies everywhere)
NO_HIZ_FRACTION = 0.10  #: never answers "hi-z" (empty contours are "something else")
OTHER_CALLER_FRACTION = 0.01  #: answers "other" for anything not obvious
#: Lapse rate: ``lapse ~ Beta(1, 24)`` (mean 0.04, up to ~0.1) [A: Wichmann & Hill 2001: 0-0.05].
LAPSE_A, LAPSE_B = 1.0, 24.0
#: Mean volunteer skill, Beta(6, 2) (mock-physics.md): the noise of an expert's hurried glance.
VOLUNTEER_MEAN_SKILL = 0.75
#: Experts: skill (noise divided by it) [mock-physics.md: experts 0.9-0.95; we use the top].
EXPERT_SKILL = 0.95
#: Experts' perception noise relative to a volunteer of the same skill [A].
EXPERT_NOISE = 0.5


def cue_arrays(cues: pd.DataFrame) -> dict[str, np.ndarray]:
    """The cue columns of a table as float arrays (a missing column is an error)."""
    missing = [c for c in CUE_COLUMNS if c not in cues.columns]
    if missing:
        raise InputError(f"cue table: missing columns {', '.join(missing)} (see hunt_clusters.mock._perception)")
    return {c: pd.to_numeric(cues[c], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64) for c in CUE_COLUMNS}


@dataclass(frozen=True)
class Observers:
    """Perception parameters of a set of observers (one entry per observer).

    Attributes
    ----------
    skill : ndarray
        Divides every perception noise (mean 0.75 for volunteers).
    noise : ndarray
        Extra factor on the noise (1 for volunteers, `EXPERT_NOISE` for experts).
    shift : ndarray
        ``(n, 4)``: personal shift of the thresholds of the tests core, rich, big, weak.
    lapse : ndarray
        Probability of an answer at random.
    lowz_caller, no_hiz, other_caller, expert : ndarray of bool
        Personal biases; ``expert`` applies the experts' finer rule.
    """

    skill: np.ndarray
    noise: np.ndarray
    shift: np.ndarray
    lapse: np.ndarray
    lowz_caller: np.ndarray
    no_hiz: np.ndarray
    other_caller: np.ndarray
    expert: np.ndarray

    @property
    def n(self) -> int:
        """Number of observers."""
        return int(self.skill.size)

    def take(self, idx: np.ndarray) -> Observers:
        """The observers ``idx`` (with repeats), as an `Observers`."""
        return Observers(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


def draw_volunteers(rng: np.random.Generator, n: int, skill_a: float = 6.0, skill_b: float = 2.0) -> Observers:
    """``n`` volunteers: skill ~ Beta(a, b), criteria, biases and lapses drawn from ``rng``."""
    skill = rng.beta(skill_a, skill_b, n)
    shift = rng.normal(0.0, CRITERION_SPREAD, (n, 4))
    lapse = rng.beta(LAPSE_A, LAPSE_B, n)
    u = rng.random((n, 3))
    return Observers(
        skill=skill,
        noise=np.ones(n),
        shift=shift,
        lapse=lapse,
        lowz_caller=u[:, 0] < LOWZ_CALLER_FRACTION,
        no_hiz=u[:, 1] < NO_HIZ_FRACTION,
        other_caller=u[:, 2] < OTHER_CALLER_FRACTION,
        expert=np.zeros(n, dtype=bool),
    )


def experts(n: int, lapse: float) -> Observers:
    """``n`` identical experts (no biases, no personal criteria) with lapse rate ``lapse``."""
    return Observers(
        skill=np.full(n, EXPERT_SKILL),
        noise=np.full(n, EXPERT_NOISE),
        shift=np.zeros((n, 4)),
        lapse=np.full(n, float(lapse)),
        lowz_caller=np.zeros(n, dtype=bool),
        no_hiz=np.zeros(n, dtype=bool),
        other_caller=np.zeros(n, dtype=bool),
        expert=np.ones(n, dtype=bool),
    )


def _log_ratio(value: np.ndarray, threshold: float) -> np.ndarray:
    """``ln(value / threshold)``, -inf where value <= 0."""
    with np.errstate(divide="ignore"):
        return np.log(np.maximum(value, 0.0) / threshold)


def class_probabilities(cues: Mapping[str, np.ndarray], who: Observers) -> np.ndarray:
    """Probability of each answer for each (subject, observer) pair: ``(n, 5)`` in `CLASSES` order.

    Parameters
    ----------
    cues : mapping of str to ndarray
        One value per pair for each name of `CUE_COLUMNS` (`cue_arrays` of the subjects, indexed).
    who : Observers
        One observer per pair (`Observers.take`).

    Returns
    -------
    numpy.ndarray
        Rows sum to 1; they depend only on the cues (so on the pixels) and on the observer.

    Examples
    --------
    >>> import pandas as pd
    >>> c = {k: np.zeros(1) for k in CUE_COLUMNS}
    >>> p = class_probabilities(c, experts(1, lapse=0.0))
    >>> [round(float(v), 3) for v in p[0]]  # nothing in the picture: something else
    [0.0, 0.0, 0.0, 0.0, 1.0]
    """
    p = _rule(cues, who, who.noise / who.skill)
    # a volunteer's lapse: any answer (a slip of the mouse); an expert's: a hurried glance, the
    # same rule seen with an average volunteer's noise (errors a person makes, not random ones)
    glance = _rule(cues, who, np.full(who.skill.size, 1.0 / VOLUNTEER_MEAN_SKILL))
    slip = np.where(who.expert[:, None], glance, 1.0 / _K)
    return (1.0 - who.lapse)[:, None] * p + who.lapse[:, None] * slip


def _rule(cues: Mapping[str, np.ndarray], who: Observers, scale: np.ndarray) -> np.ndarray:
    """The field guide's rule on cues perceived with noise ``scale`` x the base noise (no lapses)."""
    k = who.skill.size
    xsnr = np.maximum(cues["x_peak_snr"], 0.1)
    x_noise = (1.0 + SNR_HALF / xsnr) * scale
    # nothing detected: judged at the detection limit (S/N 3), not at S/N 0
    near_snr = np.where(cues["o_near_snr"] > 0, np.maximum(cues["o_near_snr"], 0.1), DETECTION_SNR)
    cen_snr = np.where(cues["o_central_snr"] > 0, np.maximum(cues["o_central_snr"], 0.1), DETECTION_SNR)

    def test(u: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.nan_to_num(ndtr(u / sigma), nan=0.0)

    # 1. edge, several blobs, no significant source
    p_edge = test(cues["x_edge"] - EDGE_FRACTION, SIGMA_EDGE * scale)
    p_multi = test(cues["x_n_peaks"] - MULTI_PEAKS, SIGMA_MULTI * scale)
    weak_t = np.where(who.expert, EXPERT_WEAK_SNR, WEAK_SNR)
    p_weak = test(-(_log_ratio(cues["x_peak_snr"], 1.0) - np.log(weak_t) - who.shift[:, 3]), SIGMA_WEAK * scale)
    # 2.-4. big galaxy, wide emission, galaxies inside the contours
    p_big = test(_log_ratio(cues["o_central_radius_arcsec"], BIG_ARCSEC) - who.shift[:, 2],
                 SIGMA_BIG * (1.0 + SNR_HALF / cen_snr) * scale)
    p_big = np.where(who.expert, p_big * (cues["o_central_extended"] > 0), p_big)
    p_ext = test(_log_ratio(cues["x_core_arcsec"], CORE_ARCSEC) - who.shift[:, 0], SIGMA_CORE * x_noise)
    n_gal = cues["o_n_near"]
    p_rich = test(np.log((1.0 + n_gal) / (1.0 + RICH_N)) - who.shift[:, 1],
                  SIGMA_RICH * (1.0 + SNR_HALF / near_snr) * scale)
    p_rich = np.where(who.lowz_caller, 1.0, p_rich)
    ok = (1.0 - p_edge) * (1.0 - p_multi) * (1.0 - p_weak)
    p = np.empty((k, _K))
    p[:, LOWZ] = ok * p_ext * p_rich
    p[:, GALAXY] = ok * p_big * (1.0 - p_ext * p_rich)
    p[:, HIZ] = ok * (1.0 - p_big) * p_ext * (1.0 - p_rich)
    p[:, POINT] = ok * (1.0 - p_big) * (1.0 - p_ext)
    p[:, OTHER] = 1.0 - ok
    p[:, OTHER] += np.where(who.no_hiz, p[:, HIZ], 0.0)
    p[:, HIZ] = np.where(who.no_hiz, 0.0, p[:, HIZ])
    # an "other" caller answers "other" unless the picture is clear (p of their answer > 0.8)
    unclear = who.other_caller & (p.max(axis=1) < 0.8)
    p[unclear] = 0.0
    p[unclear, OTHER] = 1.0
    p = np.clip(p, 0.0, None)
    return p / p.sum(axis=1, keepdims=True)


def draw_answers(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One answer (class index) per row of probabilities ``p``."""
    c = np.cumsum(p, axis=1)
    u = rng.random(p.shape[0]) * c[:, -1]
    return np.minimum((u[:, None] > c).sum(axis=1), _K - 1).astype(np.int8)


def _candidate_seed(seed: int, candidate_id: str) -> list[int]:
    return [int(seed), 3, zlib.crc32(str(candidate_id).encode())]


def expert_labels_from_cues(cues: pd.DataFrame, *, seed: int, lapse: float) -> np.ndarray:
    """The experts' class of each row of a cue table (``candidate_id`` + `CUE_COLUMNS`).

    Each candidate's draw comes from a generator seeded by ``(seed, crc32(candidate_id))``, so a
    candidate gets the same label whichever other candidates are labelled with it.

    Examples
    --------
    >>> c = pd.DataFrame({"candidate_id": ["a"], **{k: [0.0] for k in CUE_COLUMNS}})
    >>> expert_labels_from_cues(c, seed=0, lapse=0.0).tolist()
    ['other']
    """
    arr = cue_arrays(cues)
    n = len(cues)
    if n == 0:
        return np.zeros(0, dtype="U6")
    p = class_probabilities(arr, experts(n, lapse))
    ids = cues["candidate_id"].astype(str).tolist() if "candidate_id" in cues.columns else [str(i) for i in range(n)]
    u = np.array([np.random.default_rng(_candidate_seed(seed, c)).random() for c in ids])
    c = np.cumsum(p, axis=1)
    idx = np.minimum((u[:, None] * c[:, -1:] > c).sum(axis=1), _K - 1)
    return np.array(CLASSES)[idx]


def simulate_experts(subject_set: str | Path, *, seed: int = 0, lapse: float = 0.05, jobs: int = 1,
                     catalogue: str | Path | Any | None = None) -> pd.DataFrame:
    """Expert labels of a subject set, from its rendered subjects alone.

    Parameters
    ----------
    subject_set : str or Path
        A rendered subject set folder (``manifest.csv``, ``tensors.npz``).
    seed : int
        Random seed (the same seed gives the same labels).
    lapse : float
        The experts' lapse rate (`SurveyConfig.expert_lapse`).
    jobs : int
        Processes measuring uncached cues.
    catalogue : path or table, optional
        Read for identifiers only: every subject must be one of its ``candidate_id``.

    Returns
    -------
    pandas.DataFrame
        ``candidate_id, expert_class`` in manifest order.
    """
    from ._perception import subject_set_cues
    from ._volunteers import read_subject_set

    manifest = read_subject_set(subject_set)
    ids = manifest["#candidate_id"].tolist()
    if catalogue is not None:
        check_identifiers(ids, catalogue)
    cues = subject_set_cues(subject_set, ids, jobs=jobs)
    return pd.DataFrame({"candidate_id": ids, "expert_class": expert_labels_from_cues(cues, seed=seed, lapse=lapse)})


def read_identifiers(catalogue: str | Path | Any) -> tuple[list[str], str]:
    """The ``candidate_id`` column of a catalogue (the only column the observers read)."""
    if isinstance(catalogue, pd.DataFrame):
        cols = {str(c).lower(): c for c in catalogue.columns}
        where = "catalogue"
        if "candidate_id" not in cols:
            raise InputError(f"{where}: no column 'candidate_id'")
        return catalogue[cols["candidate_id"]].astype(str).tolist(), where
    if isinstance(catalogue, (str, Path)):
        from astropy.table import Table

        where = str(catalogue)
        if not Path(catalogue).is_file():
            raise InputError(f"{catalogue}: catalogue not found (the candidates.ecsv of hunt-clusters simulate)")
        try:
            t = Table.read(catalogue, format="ascii.csv" if str(catalogue).endswith(".csv") else None)
        except Exception as exc:  # astropy raises many types for unreadable files
            raise InputError(f"{catalogue}: cannot read the catalogue ({exc})") from None
    else:
        t, where = catalogue, "catalogue"
    names = {c.lower(): c for c in t.colnames}
    if "candidate_id" not in names:
        raise InputError(f"{where}: no column 'candidate_id'; columns are {', '.join(t.colnames)}")
    return [str(v) for v in t[names["candidate_id"]]], where


def check_identifiers(candidate_ids: Sequence[str], catalogue: str | Path | Any) -> None:
    """Every subject's candidate id must be in the catalogue (its only use by the observers)."""
    known, where = read_identifiers(catalogue)
    pos = pd.Index(known).get_indexer(list(candidate_ids))
    if (pos < 0).any():
        i = int(np.flatnonzero(pos < 0)[0])
        raise InputError(f"manifest row {i + 2}: #candidate_id {list(candidate_ids)[i]!r} is not in the catalogue {where}")


__all__ = [
    "Observers",
    "check_identifiers",
    "class_probabilities",
    "cue_arrays",
    "draw_answers",
    "draw_volunteers",
    "expert_labels_from_cues",
    "experts",
    "simulate_experts",
]
