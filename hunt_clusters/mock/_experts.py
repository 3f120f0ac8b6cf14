"""Simulated experts: label candidates from what the images show, and make the mistakes people make.

The rule (documented in ``docs/mock-survey.md``), applied in this order to each candidate of the
expert sample:

1. a bright, large galaxy at the X-ray position (R < 17, effective radius > 5") -> ``galaxy``;
2. at least 3 visible member galaxies (R < 20) and an extent of at least 8" -> ``low-z``;
3. a compact source (measured extent < 8") or a visible point-like optical counterpart (R < 20)
   at the position -> ``point`` (so compact clusters are called point sources);
4. a visible artefact signature (two resolved sources more than 2 PSF FWHM apart, a readout
   streak from a bright neighbour, the edge of the field of view) -> ``other``;
5. clearly extended (EXT_LIKE >= 33, the C1 cut) with nothing in the optical -> ``hi-z``;
6. extended (EXT_LIKE >= 15, the C2 cut) with only one or two visible galaxies -> ``hi-z``;
7. anything else (faint, ambiguous; most faint distant clusters) -> ``other``;

and then, with probability ``expert_lapse``, a different class at random (lapses of attention).
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table

from .. import CLASSES
from . import _physics as ph

#: Extent below which a source looks point-like to an expert: ~1.3 x the on-axis PSF FWHM [A].
COMPACT_ARCSEC = 8.0
#: A galaxy is "bright and large" above this size and below this magnitude [A].
BIG_GALAXY_RE_ARCSEC = 5.0
BIG_GALAXY_MAG = 17.0
#: Two sources farther apart than this look resolved (2 x on-axis FWHM) [D].
RESOLVED_ARCSEC = 2.0 * float(ph.king_fwhm(ph.PSF_RC_ARCSEC))


def expert_rule(table: Table) -> np.ndarray:
    """Class an attentive expert gives each candidate, from its observable properties.

    Parameters
    ----------
    table : `~astropy.table.Table`
        The survey catalogue with ``subtype``, ``extent_arcsec``, ``ext_like``,
        ``n_members_visible``, ``counterpart_mag``, ``galaxy_re_arcsec``, ``pair_sep_arcsec``.

    Returns
    -------
    numpy.ndarray of str
        One of ``low-z, hi-z, galaxy, point, other`` per row.

    Examples
    --------
    >>> t = Table({"subtype": ["cluster", "cluster"], "extent_arcsec": [30.0, 20.0],
    ...            "ext_like": [80.0, 80.0], "n_members_visible": [12, 0],
    ...            "counterpart_mag": [np.nan, np.nan], "galaxy_re_arcsec": [np.nan, np.nan],
    ...            "pair_sep_arcsec": [np.nan, np.nan]})
    >>> expert_rule(t).tolist()
    ['low-z', 'hi-z']
    """
    sub = np.asarray(table["subtype"]).astype(str)
    ext = np.asarray(table["extent_arcsec"], dtype=float)
    like = np.asarray(table["ext_like"], dtype=float)
    nvis = np.asarray(table["n_members_visible"], dtype=float)
    mag = np.asarray(table["counterpart_mag"], dtype=float)
    re = np.asarray(table["galaxy_re_arcsec"], dtype=float)
    sep = np.asarray(table["pair_sep_arcsec"], dtype=float)
    with np.errstate(invalid="ignore"):
        big_galaxy = np.isin(sub, ["elliptical", "spiral"]) & (mag < BIG_GALAXY_MAG) & (re > BIG_GALAXY_RE_ARCSEC)
        rich = (nvis >= 3) & (ext >= COMPACT_ARCSEC)
        point_like = (ext < COMPACT_ARCSEC) | (np.isin(sub, ["agn", "star", "edge"]) & (mag < ph.GALAXY_LIMIT_MAG))
        artefact = ((sub == "pair") & (sep > RESOLVED_ARCSEC)) | np.isin(sub, ["wings", "edge"])
        c1 = like >= 33.0
        c2_bcg = (like >= 15.0) & (nvis >= 1)
    return np.select(
        [big_galaxy, rich, point_like, artefact, c1, c2_bcg],
        ["galaxy", "low-z", "point", "other", "hi-z", "hi-z"],
        default="other",
    )


def expert_labels(table: Table, lapse: float, rng: np.random.Generator) -> np.ndarray:
    """Expert classes: :func:`expert_rule` plus random lapses (a different class, uniformly).

    Examples
    --------
    >>> t = Table({"subtype": ["agn"] * 4, "extent_arcsec": [5.0] * 4, "ext_like": [40.0] * 4,
    ...            "n_members_visible": [0] * 4, "counterpart_mag": [19.0] * 4,
    ...            "galaxy_re_arcsec": [np.nan] * 4, "pair_sep_arcsec": [np.nan] * 4})
    >>> expert_labels(t, 0.0, np.random.default_rng(0)).tolist()
    ['point', 'point', 'point', 'point']
    """
    labels = expert_rule(table).astype(object)
    n = len(labels)
    lapse_mask = rng.random(n) < lapse
    shift = rng.integers(1, len(CLASSES), n)
    idx = np.array([CLASSES.index(c) for c in labels], dtype=int) if n else np.zeros(0, int)
    wrong = np.array(CLASSES, dtype=object)[(idx + shift) % len(CLASSES)]
    labels[lapse_mask] = wrong[lapse_mask]
    return labels.astype(str)


__all__ = ["expert_labels", "expert_rule"]
