"""Draw the truth of every candidate: class, pointing, position, redshift, mass, flux, samples.

Everything here is vectorised over candidates and uses one generator derived from the master seed,
so the truth table does not depend on how the images are rendered (or on ``--jobs``).
"""

from __future__ import annotations

import logging

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table

from .._errors import InputError
from . import _physics as ph
from ._config import SurveyConfig

log = logging.getLogger(__name__)

#: Minimum expected source counts for a candidate to be detected as extended [A: C2-like].
MIN_DETECTED_COUNTS = 60.0
#: Highest flux of a candidate [A: mock-physics.md flux range].
MAX_FLUX = 1e-12
#: Off-axis angles of candidates: uniform in area within this radius [S: brief, 0-13 arcmin].
MAX_OFFAXIS_ARCMIN = 13.0
#: Fraction of point-class candidates that are stars [D: ~15% stars at bright fluxes, XBSS].
STAR_FRACTION = 0.15
#: Point-class flux range: bright enough for XAmin to fit an extent [A].
POINT_FLUX_RANGE = (3e-14, 1e-12)
#: Artefact sub-types and their shares [A].
ARTEFACT_TYPES: tuple[tuple[str, float], ...] = (("pair", 0.35), ("wings", 0.25), ("clump", 0.25), ("edge", 0.15))
#: Fraction of clusters with a central AGN (XXL "AC" class) [A].
CLUSTER_AGN_FRACTION = 0.1


def _exact_counts(fractions: list[float], n: int) -> np.ndarray:
    """Split ``n`` into integer counts proportional to ``fractions`` (largest remainders)."""
    raw = np.asarray(fractions) * n
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _expected_counts(flux: np.ndarray, exposure: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return flux * ph.RATE_PER_FLUX * exposure * ph.vignetting(theta)


def _draw_clusters(
    rng: np.random.Generator, hiz: np.ndarray, exposure: np.ndarray, theta: np.ndarray
) -> dict[str, np.ndarray]:
    """Redshift, mass and X-ray properties of detectable clusters (rejection sampling)."""
    n = hiz.size
    out = {k: np.zeros(n) for k in ("z", "m500", "lx", "flux")}
    todo = np.arange(n)
    for _ in range(500):
        if todo.size == 0:
            break
        k = todo.size
        z = np.where(
            hiz[todo],
            0.45 + rng.exponential(0.3, k),  # [A] falling tail, X-CLASS reaches z~1.5
            rng.uniform(0.05, 0.35, k),  # [S/A] low-z class 0.05-0.35
        )
        # dn/dlnM ~ M^-1.5 between 10^13.5 and 10^15 Msun [A]
        lo, hi, s = 10**13.5, 10**15.0, 1.5
        m = (lo**-s - rng.random(k) * (lo**-s - hi**-s)) ** (-1.0 / s)
        t = ph.temperature_from_mass(m, z)
        lx = ph.luminosity_from_temperature(t, z) * np.exp(rng.normal(0.0, ph.LT_SCATTER_LN, k))
        flux = ph.flux_from_luminosity(lx, z)
        ok = (
            (z <= 1.5)
            & (flux <= MAX_FLUX)
            & (_expected_counts(flux, exposure[todo], theta[todo]) >= MIN_DETECTED_COUNTS)
        )
        idx = todo[ok]
        out["z"][idx], out["m500"][idx], out["lx"][idx], out["flux"][idx] = z[ok], m[ok], lx[ok], flux[ok]
        todo = todo[~ok]
    if todo.size:  # pragma: no cover - only for absurd settings
        raise InputError(f"could not draw {todo.size} detectable clusters; check the survey settings")
    return out


def _draw_galaxies(rng: np.random.Generator, exposure: np.ndarray, theta: np.ndarray) -> dict[str, np.ndarray]:
    """Nearby galaxies with faint extended X-ray emission (mock-physics.md section 5)."""
    n = exposure.size
    out = {k: np.zeros(n) for k in ("z", "lx", "flux")}
    todo = np.arange(n)
    for _ in range(500):
        if todo.size == 0:
            break
        k = todo.size
        # p(z) ~ z^2 (uniform in volume) on 0.005-0.05 [A]
        a, b = 0.005**3, 0.05**3
        z = np.cbrt(a + rng.random(k) * (b - a))
        lx = 10 ** rng.uniform(39.5, 42.0, k)  # [S/A] ellipticals and spirals 1e38-1e42
        flux = ph.flux_from_luminosity(lx, z)
        ok = (flux <= MAX_FLUX) & (
            _expected_counts(flux, exposure[todo], theta[todo]) >= MIN_DETECTED_COUNTS
        )
        idx = todo[ok]
        out["z"][idx], out["lx"][idx], out["flux"][idx] = z[ok], lx[ok], flux[ok]
        todo = todo[~ok]
    if todo.size:  # pragma: no cover
        raise InputError(f"could not draw {todo.size} detectable galaxies; check the survey settings")
    return out


def draw_truth(config: SurveyConfig) -> Table:
    """Draw the true properties of every candidate of a survey.

    Parameters
    ----------
    config : SurveyConfig
        Sizes, class mix and seed.

    Returns
    -------
    `~astropy.table.Table`
        One row per candidate, with the truth columns (``true_class``, ``subtype``, ``ra``/``dec``
        of the source, pointing, off-axis angle, exposure, redshift, mass, flux, ...) and the sample
        flags ``in_expert``, ``in_zooniverse``, ``in_test`` and ``spec_class``.

    Examples
    --------
    >>> t = draw_truth(SurveyConfig.small(seed=1))
    >>> len(t), int(t["in_expert"].sum()), int((t["in_expert"] & t["in_zooniverse"]).sum())
    (291, 171, 40)
    """
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(0,)))
    n = config.n_candidates
    names = [c for c, _ in config.class_fractions]
    counts = _exact_counts([f for _, f in config.class_fractions], n)
    true_class = np.repeat(np.array(names, dtype=object), counts)
    true_class = true_class[rng.permutation(n)]

    # --- XMM pointings at |b| > 20 deg, 10 or 20 ks [S], roll angle random -----------------------
    n_point = max(1, int(np.ceil(n / config.candidates_per_pointing)))
    l_deg = rng.uniform(0.0, 360.0, n_point)
    sinb = rng.uniform(np.sin(np.radians(20.0)), 1.0, n_point) * rng.choice([-1.0, 1.0], n_point)
    gal = SkyCoord(l=l_deg * u.deg, b=np.degrees(np.arcsin(sinb)) * u.deg, frame="galactic").icrs
    p_exposure = rng.choice(np.array(ph.EXPOSURES_S), n_point)
    p_roll = rng.uniform(0.0, 360.0, n_point)
    p_obsday = rng.integers(0, 365 * 12, n_point)  # days after 2000-02-01 [A]
    pointing = rng.integers(0, n_point, n)

    # --- subtypes -----------------------------------------------------------------------------
    subtype = np.full(n, "", dtype=object)
    subtype[np.isin(true_class, ["low-z", "hi-z"])] = "cluster"
    is_gal = true_class == "galaxy"
    subtype[is_gal] = np.where(rng.random(is_gal.sum()) < 0.6, "elliptical", "spiral")  # [A]
    is_pt = true_class == "point"
    subtype[is_pt] = np.where(rng.random(is_pt.sum()) < STAR_FRACTION, "star", "agn")
    is_art = true_class == "other"
    art_names = [a for a, _ in ARTEFACT_TYPES]
    subtype[is_art] = rng.choice(np.array(art_names, dtype=object), is_art.sum(), p=[f for _, f in ARTEFACT_TYPES])

    # --- off-axis angle and position inside the pointing ----------------------------------------
    theta = MAX_OFFAXIS_ARCMIN * np.sqrt(rng.random(n))
    edge = subtype == "edge"
    theta[edge] = rng.uniform(12.0, MAX_OFFAXIS_ARCMIN, edge.sum())  # near the field edge
    pa = rng.uniform(0.0, 360.0, n)
    centres = gal[pointing]
    src = centres.directional_offset_by(pa * u.deg, theta * u.arcmin)
    dlon, dlat = src.spherical_offsets_to(centres)  # pointing as seen from the source
    exposure = p_exposure[pointing]

    # --- per-class physics -------------------------------------------------------------------
    z = np.full(n, np.nan)
    m500 = np.full(n, np.nan)
    t_kev = np.full(n, np.nan)
    lx = np.full(n, np.nan)
    flux = np.full(n, np.nan)
    r500_arcsec = np.full(n, np.nan)
    core_arcsec = np.full(n, np.nan)
    richness = np.full(n, np.nan)
    agn_frac = np.zeros(n)
    opt_mag = np.full(n, np.nan)  # R magnitude of the main optical counterpart
    size_kpc = np.full(n, np.nan)  # X-ray core (galaxies) in kpc
    opt_re_kpc = np.full(n, np.nan)

    cl = subtype == "cluster"
    c = _draw_clusters(rng, true_class[cl] == "hi-z", exposure[cl], theta[cl])
    z[cl], m500[cl], lx[cl], flux[cl] = c["z"], c["m500"], c["lx"], c["flux"]
    t_kev[cl] = ph.temperature_from_mass(m500[cl], z[cl])
    r500 = ph.r500_kpc(m500[cl], z[cl])
    scale = ph.kpc_per_arcsec(z[cl])
    r500_arcsec[cl] = r500 / scale
    xc = np.clip(rng.normal(ph.CORE_FRACTION, ph.CORE_FRACTION_SCATTER, cl.sum()), 0.12, 0.40)
    core_arcsec[cl] = xc * r500_arcsec[cl]
    # richness lambda ~ 30 (M500/1e14)^0.75, 0.25 lognormal scatter [A]
    richness[cl] = np.clip(30.0 * (m500[cl] / 1e14) ** 0.75 * np.exp(rng.normal(0, 0.25, cl.sum())), 5, 200)
    has_agn = rng.random(cl.sum()) < CLUSTER_AGN_FRACTION
    agn_frac[cl] = np.where(has_agn, rng.uniform(0.1, 0.5, cl.sum()), 0.0)

    g = _draw_galaxies(rng, exposure[is_gal], theta[is_gal])
    z[is_gal], lx[is_gal], flux[is_gal] = g["z"], g["lx"], g["flux"]
    size_kpc[is_gal] = rng.uniform(2.0, 10.0, is_gal.sum())  # X-ray core radius [A]
    core_arcsec[is_gal] = size_kpc[is_gal] / ph.kpc_per_arcsec(z[is_gal])
    opt_re_kpc[is_gal] = rng.uniform(3.0, 10.0, is_gal.sum())  # optical effective radius [A]
    opt_mag[is_gal] = rng.uniform(-23.0, -20.0, is_gal.sum()) + ph.distance_modulus(z[is_gal])

    flux[is_pt] = ph.sample_logn_logs(rng, int(is_pt.sum()), *POINT_FLUX_RANGE)
    star = subtype == "star"
    agn = subtype == "agn"
    # optical counterpart from log(fx/fo) = log fx + m/2.5 + 5.37 (Maccacaro+88):
    # AGN log(fx/fo) ~ N(0, 0.5), stars U(-4, -1.5) [A]
    fxfo = np.zeros(n)
    fxfo[agn] = rng.normal(0.0, 0.5, agn.sum())
    fxfo[star] = rng.uniform(-4.0, -1.5, star.sum())
    opt_mag[is_pt] = 2.5 * (fxfo[is_pt] - np.log10(flux[is_pt]) - 5.37)

    # artefacts: the flux column holds the total of what makes the detection
    pair = subtype == "pair"
    flux[pair] = ph.sample_logn_logs(rng, int(pair.sum()), 5e-15, 5e-14)
    wings = subtype == "wings"
    flux[wings] = ph.sample_logn_logs(rng, int(wings.sum()), 2e-13, 2e-12)
    clump = subtype == "clump"
    flux[clump] = rng.uniform(1e-15, 4e-15, clump.sum())
    flux[edge] = ph.sample_logn_logs(rng, int(edge.sum()), 5e-15, 3e-14)

    # --- samples: overlap first, then expert-only, then Zooniverse-only -----------------------
    order = rng.permutation(n)
    in_expert = np.zeros(n, bool)
    in_zoo = np.zeros(n, bool)
    ov, ne = config.n_overlap, config.n_expert
    in_expert[order[:ne]] = True
    in_zoo[order[:ov]] = True
    in_zoo[order[ne:]] = True
    overlap = order[:ov]
    is_cluster = np.isin(true_class, ["low-z", "hi-z"])
    ov_cl = overlap[is_cluster[overlap]]
    ov_non = overlap[~is_cluster[overlap]]
    if ov_cl.size < config.n_test_clusters or ov_non.size < config.n_test_noncluster:
        raise InputError(
            f"the overlap of {ov} candidates holds {ov_cl.size} clusters and {ov_non.size} non-clusters, "
            f"too few for a test set of {config.n_test_clusters} + {config.n_test_noncluster}; "
            "use a larger --n-overlap or a smaller test set"
        )
    test_cl = rng.choice(ov_cl, config.n_test_clusters, replace=False)
    test_non = rng.choice(ov_non, config.n_test_noncluster, replace=False)
    in_test = np.zeros(n, bool)
    in_test[test_cl] = True
    in_test[test_non] = True
    spec_class = np.full(n, "", dtype=object)
    spec_class[test_cl] = "cluster"
    spec_class[test_non] = "non-cluster"

    width = max(4, len(str(n)))
    ids = np.array([f"XCLASS-{i + 1:0{width}d}" for i in range(n)], dtype=object)
    table = Table(
        {
            "candidate_id": ids.astype(str),
            "true_class": true_class.astype(str),
            "subtype": subtype.astype(str),
            "true_ra": src.ra.deg,
            "true_dec": src.dec.deg,
            "pointing_id": np.array([f"MOCK{p:06d}" for p in pointing]),
            "pointing_ra": centres.ra.deg,
            "pointing_dec": centres.dec.deg,
            "pointing_dx_arcmin": dlon.to_value(u.arcmin),
            "pointing_dy_arcmin": dlat.to_value(u.arcmin),
            "roll_deg": p_roll[pointing],
            "obs_day": p_obsday[pointing],
            "offaxis_arcmin": theta,
            "exposure_s": exposure,
            "redshift": z,
            "m500": m500,
            "temperature_kev": t_kev,
            "lx": lx,
            "flux": flux,
            "r500_arcsec": r500_arcsec,
            "core_radius_arcsec": core_arcsec,
            "richness": richness,
            "agn_fraction": agn_frac,
            "counterpart_mag": opt_mag,
            "galaxy_re_kpc": opt_re_kpc,
            "in_expert": in_expert,
            "in_zooniverse": in_zoo,
            "in_test": in_test,
            "spec_class": spec_class.astype(str),
        }
    )
    log.debug("drew the truth of %d candidates in %d pointings", n, n_point)
    return table


__all__ = ["draw_truth"]
