"""One candidate: build its X-ray and optical scene from the truth, render, write FITS, measure.

Runs in worker processes: takes plain values, draws from a generator seeded by (seed, index) only,
so the result of a candidate does not depend on which process renders it.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from astropy import units as u
from astropy.coordinates import ICRS
from astropy.io import fits
from astropy.wcs import WCS

from .. import __version__
from . import _physics as ph
from ._optical import OpticalScene, render_optical
from ._xray import BetaSource, PointSource, XrayGeometry, render_xray

#: rms of the detected position around the true one, per axis [A: a few arcsec for XAmin].
POSITION_ERROR_ARCSEC = 1.5
#: rms offset of the X-ray / optical image centre from the catalogue position [A].
XRAY_CENTRE_OFFSET_ARCSEC = 5.0
OPTICAL_CENTRE_OFFSET_ARCSEC = 2.0
#: Faintest objects drawn in the optical image (below the plate limit, they only add noise) [A].
OPTICAL_FAINT_MAG = 21.5
#: Fainter background AGN are not drawn [S: mock-physics, logN-logS down to 1e-15].
AGN_MIN_FLUX = 1e-15
#: Aperture for the net count rate [A].
APERTURE_ARCSEC = 30.0
_XMM_EPOCH = datetime(2000, 2, 1)


@dataclass(frozen=True)
class CandidateTask:
    """Everything a worker needs to simulate one candidate (picklable plain values)."""

    index: int
    seed: int
    truth: dict[str, Any]
    out_dir: str
    field_arcmin: float


def _fxfo_mag(flux: np.ndarray, log_fxfo: np.ndarray) -> np.ndarray:
    """Optical magnitude of an X-ray source: log(fx/fo) = log fx + m/2.5 + 5.37 (Maccacaro+88)."""
    return 2.5 * (log_fxfo - np.log10(flux) - 5.37)


class _Scene:
    """Objects in the tangent plane of the true source position (arcsec; xi east, eta north)."""

    def __init__(self) -> None:
        self.xpoints: list[tuple[float, float, float, bool]] = []  # xi, eta, flux, streak
        self.xbetas: list[tuple[float, float, float, float, float, float, float, float]] = []
        self.stars: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.gals: list[tuple[np.ndarray, ...]] = []

    def star(self, xi: Any, eta: Any, mag: Any) -> None:
        self.stars.append(tuple(np.atleast_1d(np.asarray(v, dtype=float)) for v in (xi, eta, mag)))  # type: ignore[arg-type]

    def galaxy(self, xi: Any, eta: Any, mag: Any, re: Any, n: Any, q: Any, pa: Any) -> None:
        arrs = [np.atleast_1d(np.asarray(v, dtype=float)) for v in (xi, eta, mag, re, n, q, pa)]
        k = max(a.size for a in arrs)
        self.gals.append(tuple(np.broadcast_to(a, (k,)).copy() for a in arrs))


def _field_objects(rng: np.random.Generator, scene: _Scene, half: float) -> None:
    """Field stars, field galaxies and background AGN over a square of half-side ``half`` arcsec."""
    area_deg2 = (2 * half / 3600.0) ** 2
    # stars: N(<m) = 2000 deg^-2 10^(0.25 (m - 20)), m from 8 to OPTICAL_FAINT_MAG [A]
    n_st = rng.poisson(ph.STARS_PER_DEG2_R20 * 10 ** (ph.STAR_COUNT_SLOPE * (OPTICAL_FAINT_MAG - 20)) * area_deg2)
    umin = 10 ** (ph.STAR_COUNT_SLOPE * (8.0 - OPTICAL_FAINT_MAG))
    m = OPTICAL_FAINT_MAG + np.log10(rng.uniform(umin, 1.0, n_st)) / ph.STAR_COUNT_SLOPE
    scene.star(rng.uniform(-half, half, n_st), rng.uniform(-half, half, n_st), m)
    # galaxies: N(<m) = 1000 deg^-2 10^(0.45 (m - 20)), m from 12 [A]; r_e ~ 2" at R=18 [A]
    n_g = rng.poisson(ph.GALAXIES_PER_DEG2_R20 * 10 ** (ph.GALAXY_COUNT_SLOPE * (OPTICAL_FAINT_MAG - 20)) * area_deg2)
    umin = 10 ** (ph.GALAXY_COUNT_SLOPE * (12.0 - OPTICAL_FAINT_MAG))
    m = OPTICAL_FAINT_MAG + np.log10(rng.uniform(umin, 1.0, n_g)) / ph.GALAXY_COUNT_SLOPE
    scene.galaxy(
        rng.uniform(-half, half, n_g), rng.uniform(-half, half, n_g), m,
        2.0 * 10 ** (-0.2 * (m - 18.0)), rng.choice([1.0, 4.0], n_g),
        rng.uniform(0.3, 1.0, n_g), rng.uniform(0, 180, n_g),
    )


def _background_agn(rng: np.random.Generator, scene: _Scene, half: float) -> None:
    area_deg2 = (2 * half / 3600.0) ** 2
    n = rng.poisson(float(ph.logn_logs(AGN_MIN_FLUX)) * area_deg2)
    flux = ph.sample_logn_logs(rng, n, AGN_MIN_FLUX, 1e-12)
    xi, eta = rng.uniform(-half, half, n), rng.uniform(-half, half, n)
    for a, b, f in zip(xi, eta, flux):
        scene.xpoints.append((float(a), float(b), float(f), False))
    scene.star(xi, eta, _fxfo_mag(flux, rng.normal(0.0, 0.5, n)))


def _cluster(rng: np.random.Generator, scene: _Scene, t: dict[str, Any], half_opt: float) -> dict[str, Any]:
    z = float(t["redshift"])
    scale = float(ph.kpc_per_arcsec(z))
    r500 = float(t["r500_arcsec"])
    fx = float(t["flux"])
    agn = float(t["agn_fraction"])
    scene.xbetas.append((0.0, 0.0, fx * (1 - agn), float(t["core_radius_arcsec"]), ph.BETA,
                         float(rng.uniform(0.7, 1.0)), float(rng.uniform(0, 180)), r500))
    if agn > 0:
        scene.xpoints.append((0.0, 0.0, fx * agn, False))
    mstar = float(ph.mstar_r(z))
    # BCG [A: m* - 1.5, scatter 0.33 (Postman & Lauer 95); r_e 12 kpc]
    bcg_mag = mstar - ph.BCG_OFFSET_MAG + rng.normal(0.0, ph.BCG_SCATTER_MAG)
    bxi, beta_ = rng.normal(0.0, 2.0, 2)
    scene.galaxy(bxi, beta_, bcg_mag, 12.0 / scale, 4.0, rng.uniform(0.7, 1.0), rng.uniform(0, 180))
    # members: Schechter (alpha=-1) down to OPTICAL_FAINT_MAG (and at least 0.02 L*)
    x_min = max(10 ** (-0.4 * (OPTICAL_FAINT_MAG - mstar)), 0.02)
    n_vis = int(bcg_mag < ph.GALAXY_LIMIT_MAG and abs(bxi) < half_opt and abs(beta_) < half_opt)
    if x_min < 20.0:
        mean_n = float(t["richness"]) * ph.schechter_number_ratio(x_min)
        n = rng.poisson(mean_n)
        lum = ph.schechter_sample(rng, n, x_min)
        mag = mstar - 2.5 * np.log10(lum)
        # projected cored isothermal distribution, core 0.15 R500, out to R500 [A]
        a = 0.15 * r500
        r = a * np.sqrt(np.expm1(rng.random(n) * np.log1p((r500 / a) ** 2)))
        phi = rng.uniform(0, 2 * np.pi, n)
        xi, eta = r * np.sin(phi), r * np.cos(phi)
        keep = (np.abs(xi) < half_opt + 30) & (np.abs(eta) < half_opt + 30)
        xi, eta, mag, lum = xi[keep], eta[keep], mag[keep], lum[keep]
        k = xi.size
        scene.galaxy(xi, eta, mag, 4.0 * np.sqrt(lum) / scale, np.where(rng.random(k) < 0.8, 4.0, 1.0),
                     rng.uniform(0.5, 1.0, k), rng.uniform(0, 180, k))
        inside = (np.abs(xi) < half_opt) & (np.abs(eta) < half_opt)
        n_vis += int(np.sum(inside & (mag < ph.GALAXY_LIMIT_MAG)))
    return {"n_members_visible": n_vis, "bcg_mag": bcg_mag, "mstar_mag": mstar}


def _build_scene(
    rng: np.random.Generator, t: dict[str, Any], half_x: float, half_opt: float
) -> tuple[_Scene, dict[str, Any]]:
    scene = _Scene()
    info: dict[str, Any] = {"n_members_visible": 0, "bcg_mag": np.nan, "mstar_mag": np.nan, "pair_sep_arcsec": np.nan}
    sub = t["subtype"]
    fx = float(t["flux"])
    if sub == "cluster":
        info.update(_cluster(rng, scene, t, half_opt))
    elif sub in ("elliptical", "spiral"):
        z = float(t["redshift"])
        scale = float(ph.kpc_per_arcsec(z))
        q = rng.uniform(0.6, 1.0) if sub == "elliptical" else rng.uniform(0.25, 1.0)
        pa = rng.uniform(0, 180)
        scene.xbetas.append((0.0, 0.0, fx, float(t["core_radius_arcsec"]), ph.BETA, float(q), float(pa), np.inf))
        scene.galaxy(0.0, 0.0, float(t["counterpart_mag"]), float(t["galaxy_re_kpc"]) / scale,
                     4.0 if sub == "elliptical" else 1.0, q, pa)
    elif sub in ("agn", "star", "edge"):
        scene.xpoints.append((0.0, 0.0, fx, False))
        mag = float(t["counterpart_mag"]) if sub != "edge" else float(_fxfo_mag(np.array(fx), rng.normal(0, 0.5)))
        scene.star(0.0, 0.0, mag)
    elif sub == "pair":
        sep = float(rng.uniform(8.0, 30.0))  # [A]
        ang = rng.uniform(0, 2 * np.pi)
        w = float(rng.uniform(0.35, 0.65))
        for sign, f in ((1.0, fx * w), (-1.0, fx * (1 - w))):
            dx, dy = sign * sep / 2 * np.sin(ang), sign * sep / 2 * np.cos(ang)
            scene.xpoints.append((dx, dy, f, False))
            scene.star(dx, dy, _fxfo_mag(np.array(f), rng.normal(0, 0.5)))
        info["pair_sep_arcsec"] = sep
    elif sub == "wings":
        d = rng.uniform(30.0, 90.0)  # the spurious detection sits in the wings of a bright source [A]
        ang = rng.uniform(0, 2 * np.pi)
        dx, dy = d * np.sin(ang), d * np.cos(ang)
        scene.xpoints.append((dx, dy, fx, True))
        scene.star(dx, dy, _fxfo_mag(np.array(fx), rng.normal(-0.5, 1.0)))
    elif sub == "clump":
        k = int(rng.integers(3, 6))
        r = 15.0 * np.sqrt(rng.random(k))
        ang = rng.uniform(0, 2 * np.pi, k)
        for a, b in zip(r * np.sin(ang), r * np.cos(ang)):
            scene.xpoints.append((float(a), float(b), fx / k, False))
    _background_agn(rng, scene, half_x + 60.0)
    _field_objects(rng, scene, half_opt + 24.0)
    return scene, info


def _tan_wcs(ra: float, dec: float, npix: int, pixel_arcsec: float) -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra, dec]
    w.wcs.crpix = [(npix + 1) / 2.0, (npix + 1) / 2.0]
    w.wcs.cdelt = [-pixel_arcsec / 3600.0, pixel_arcsec / 3600.0]
    w.wcs.cunit = ["deg", "deg"]
    w.wcs.radesys = "ICRS"
    w.wcs.equinox = 2000.0
    return w


def _to_pix(
    xi: np.ndarray, eta: np.ndarray, centre: tuple[float, float], npix: int, pixel: float
) -> tuple[np.ndarray, np.ndarray]:
    """Tangent-plane offsets (arcsec from the true source) to 0-based pixels of an image centred
    at ``centre`` (same offsets); RA grows to the left."""
    c = (npix - 1) / 2.0
    return c - (np.asarray(xi) - centre[0]) / pixel, c + (np.asarray(eta) - centre[1]) / pixel


def _xray_header(t: dict[str, Any], index: int) -> fits.Header:
    h = fits.Header()
    obs_start = _XMM_EPOCH + timedelta(days=int(t["obs_day"]))
    h["TELESCOP"] = ("XMM", "mission name")
    h["INSTRUME"] = ("EPIC", "EPN + EMOS1 + EMOS2 summed")
    h["CONTENT"] = ("EPIC IMAGE", "mock X-CLASS-like mosaic cutout")
    h["FILTER"] = ("Thin1", "filter ID")
    h["OBS_MODE"] = ("POINTING", "observation mode")
    h["OBS_ID"] = (str(t["pointing_id"]), "mock observation identifier")
    h["OBJECT"] = (str(t["candidate_id"]), "candidate")
    h["DATE-OBS"] = (obs_start.strftime("%Y-%m-%dT%H:%M:%S"), "start time (UTC) of the mock exposure")
    h["EXPOSURE"] = (float(t["exposure_s"]), "[s] clipped exposure (10 or 20 ks)")
    h["ONTIME"] = (float(t["exposure_s"]), "[s] sum of good time intervals")
    h["ENERG_LO"] = (0.5, "[keV] low energy bound of the image")
    h["ENERG_HI"] = (2.0, "[keV] high energy bound of the image")
    h["DSTYP1"] = ("PI", "data subspace descriptor: name")
    h["DSUNI1"] = ("eV", "data subspace descriptor: units")
    h["DSVAL1"] = ("500:2000", "data subspace descriptor: value")
    h["RA_PNT"] = (float(t["pointing_ra"]), "[deg] pointing RA of the optical axis")
    h["DEC_PNT"] = (float(t["pointing_dec"]), "[deg] pointing Dec of the optical axis")
    h["PA_PNT"] = (float(t["roll_deg"]), "[deg] position angle of the pn CCD rows")
    h["OFFAXIS"] = (float(t["offaxis_arcmin"]), "[arcmin] off-axis angle of the candidate")
    h["BUNIT"] = ("count", "photon counts per pixel")
    h["HDUCLASS"] = ("OGIP", "format conforms to OGIP/GSFC conventions")
    h["HDUCLAS1"] = ("IMAGE", "file contains an image")
    h["HDUCLAS2"] = ("TOTAL", "gross image")
    h["ORIGIN"] = ("hunt-clusters", "mock survey, not real data")
    h["CREATOR"] = (f"hunt-clusters {__version__} simulate", "program that wrote the file")
    h["MOCK"] = (True, "simulated image with known truth")
    h["MOCKIDX"] = (index, "candidate index in the mock survey")
    return h


def _optical_header(t: dict[str, Any], ra: float, dec: float, vmin: int, vmax: int) -> fits.Header:
    h = fits.Header()
    south = float(t["true_dec"]) < -3.0
    h["ORIGIN"] = ("hunt-clusters mock", "DSS2-red-like mock image, not real data")
    h["SURVEY"] = ("SERC-ER" if south else "POSSII-F", "emulated survey")
    h["TELESCOP"] = ("UK 48-inch Schmidt" if south else "Palomar 48-inch Schmidt", "telescope")
    h["BANDPASS"] = ("RG610+IIIaF", "emulsion + filter, POSS-II red")
    h["EXPOSURE"] = (60.0, "exposure time minutes (typical plate)")
    h["EQUINOX"] = (2000.0, "Julian reference frame equinox")
    h["OBJECT"] = (str(t["candidate_id"]), "candidate")
    pos = ICRS(ra=ra * u.deg, dec=dec * u.deg)
    h["OBJCTRA"] = (pos.ra.to_string(unit=u.hourangle, sep=" ", precision=3, pad=True), "object RA (J2000)")
    h["OBJCTDEC"] = (pos.dec.to_string(unit=u.deg, sep=" ", precision=2, pad=True, alwayssign=True), "object Dec (J2000)")
    h["DATATYPE"] = ("INTEGER*2", "type of data")
    h["DATAMIN"] = (vmin, "minimum data value")
    h["DATAMAX"] = (vmax, "maximum data value")
    h["MOCK"] = (True, "simulated image with known truth")
    h["COMMENT"] = "Pixel values mimic photographic density: non-linear in intensity, saturated for R < ~12.5."
    return h


def _write_gz(hdul: fits.HDUList, path: Path) -> None:
    """Write gzip-compressed FITS with a fixed gzip header (byte-identical for equal data)."""
    buf = io.BytesIO()
    hdul.writeto(buf, output_verify="ignore")
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(gzip.compress(buf.getvalue(), compresslevel=1, mtime=0))
    tmp.replace(path)


def simulate_candidate(task: CandidateTask) -> dict[str, Any]:
    """Simulate, write and measure one candidate.

    Writes ``<out>/xray/<id>.fits.gz`` (counts; EXPOSURE and BACKGROUND extensions) and
    ``<out>/optical/<id>.fits.gz`` (16-bit DSS-like image) and returns the catalogue values that
    depend on the images: the detected position, XAmin-like measurements, visible members.
    """
    t = task.truth
    rng = np.random.default_rng(np.random.SeedSequence(task.seed, spawn_key=(1, task.index)))
    field = task.field_arcmin * 60.0
    nx = int(round(field / ph.XRAY_PIXEL_ARCSEC))
    no = int(round(field / ph.OPTICAL_PIXEL_ARCSEC))
    half_x, half_opt = field / 2.0, field / 2.0

    det = rng.normal(0.0, POSITION_ERROR_ARCSEC, 2)
    cx = det + rng.normal(0.0, XRAY_CENTRE_OFFSET_ARCSEC, 2)
    co = det + rng.normal(0.0, OPTICAL_CENTRE_OFFSET_ARCSEC, 2)
    scene, info = _build_scene(rng, t, half_x, half_opt)

    # sky positions of the detected position and of the image centres
    src_wcs = _tan_wcs(float(t["true_ra"]), float(t["true_dec"]), 1, 1.0)
    (ra_det, ra_x, ra_o), (dec_det, dec_x, dec_o) = src_wcs.wcs_pix2world(
        np.array([-det[0], -cx[0], -co[0]]), np.array([det[1], cx[1], co[1]]), 0
    )

    # --- X-ray ---
    pdx, pdy = float(t["pointing_dx_arcmin"]) * 60.0, float(t["pointing_dy_arcmin"]) * 60.0
    pxy = _to_pix(np.array(pdx), np.array(pdy), (cx[0], cx[1]), nx, ph.XRAY_PIXEL_ARCSEC)
    geom = XrayGeometry(nx, (float(pxy[0]), float(pxy[1])), float(t["roll_deg"]), float(t["exposure_s"]))
    points = []
    for xi, eta, f, streak in scene.xpoints:
        x, y = _to_pix(np.array(xi), np.array(eta), (cx[0], cx[1]), nx, ph.XRAY_PIXEL_ARCSEC)
        points.append(PointSource(float(x), float(y), f * ph.RATE_PER_FLUX, streak))
    betas = []
    for xi, eta, f, core, beta, q, pa, rmax in scene.xbetas:
        x, y = _to_pix(np.array(xi), np.array(eta), (cx[0], cx[1]), nx, ph.XRAY_PIXEL_ARCSEC)
        betas.append(BetaSource(float(x), float(y), f * ph.RATE_PER_FLUX, core, beta, q, pa, rmax))
    xim = render_xray(geom, points, betas, rng)
    xwcs = _tan_wcs(float(ra_x), float(dec_x), nx, ph.XRAY_PIXEL_ARCSEC)
    hdr = _xray_header(t, task.index)
    hdr["RA_OBJ"] = (float(ra_det), "[deg] candidate RA")
    hdr["DEC_OBJ"] = (float(dec_det), "[deg] candidate Dec")
    hdr.update(xwcs.to_header())
    prim = fits.PrimaryHDU(xim.counts, header=hdr)
    ext_hdr = xwcs.to_header()
    ehdu = fits.ImageHDU(xim.exposure.astype(np.float32), header=ext_hdr, name="EXPOSURE")
    ehdu.header["BUNIT"] = ("s", "vignetted exposure time")
    bhdu = fits.ImageHDU(xim.background.astype(np.float32), header=ext_hdr, name="BACKGROUND")
    bhdu.header["BUNIT"] = ("count", "expected background counts per pixel")
    out = Path(task.out_dir)
    cid = str(t["candidate_id"])
    _write_gz(fits.HDUList([prim, ehdu, bhdu]), out / "xray" / f"{cid}.fits.gz")

    # --- optical ---
    def opt_pix(xi: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _to_pix(xi, eta, (co[0], co[1]), no, ph.OPTICAL_PIXEL_ARCSEC)

    if scene.stars:
        sx, sy, sm = (np.concatenate(a) for a in zip(*scene.stars))
    else:
        sx = sy = sm = np.zeros(0)
    g = [np.concatenate(a) for a in zip(*scene.gals)] if scene.gals else [np.zeros(0)] * 7
    spx, spy = opt_pix(sx, sy)
    gpx, gpy = opt_pix(g[0], g[1])
    oscene = OpticalScene(spx, spy, sm, gpx, gpy, g[2], g[3] / ph.OPTICAL_PIXEL_ARCSEC, g[4], g[5], g[6])
    oimg = render_optical(no, oscene, rng)
    owcs = _tan_wcs(float(ra_o), float(dec_o), no, ph.OPTICAL_PIXEL_ARCSEC)
    ohdr = _optical_header(t, float(ra_o), float(dec_o), int(oimg.min()), int(oimg.max()))
    ohdr.update(owcs.to_header())
    _write_gz(fits.HDUList([fits.PrimaryHDU(oimg, header=ohdr)]), out / "optical" / f"{cid}.fits.gz")

    # --- XAmin-like measurements at the detected position ---
    dxp, dyp = _to_pix(np.array(det[0]), np.array(det[1]), (cx[0], cx[1]), nx, ph.XRAY_PIXEL_ARCSEC)
    yy, xx = np.mgrid[0:nx, 0:nx]
    ap = np.hypot(xx - dxp, yy - dyp) * ph.XRAY_PIXEL_ARCSEC < APERTURE_ARCSEC
    net = float(xim.counts[ap].sum() - xim.background[ap].sum())
    mean_exp = float(xim.exposure[ap].mean()) if ap.any() else 0.0
    info.update(
        ra=float(ra_det), dec=float(dec_det), net_counts=net,
        count_rate=max(net, 0.0) / mean_exp if mean_exp > 0 else 0.0,
        xray_centre_ra=float(ra_x), xray_centre_dec=float(dec_x),
        optical_centre_ra=float(ra_o), optical_centre_dec=float(dec_o),
        n_optical_objects=int(sx.size + g[0].size),
    )
    info.update(_measure_extent(rng, t, info, net))
    info.update(_expert_view(t, out, cid, float(ra_det), float(dec_det)))
    return info


def _expert_view(t: dict[str, Any], out: Path, cid: str, ra: float, dec: float) -> dict[str, float]:
    """What the experts see of a candidate of the expert sample: the cues of its rendered tensor.

    The tensor is the one ``hunt-clusters render`` writes for the candidate (default render
    options, from the FITS files just written), so ``hunt-clusters simulate-experts`` on the
    rendered expert set gives the same labels. Other candidates: NaN.
    """
    from ..subjects import RenderConfig, make_tensor
    from ..subjects._overlay import xray_signal
    from ..subjects._inputs import load_image
    from ._perception import CUE_COLUMNS, measure_cues

    if not bool(t.get("in_expert", False)):
        return {f"cue_{k}": float("nan") for k in CUE_COLUMNS}
    cfg = RenderConfig()
    opt = load_image(str(out / "optical" / f"{cid}.fits.gz"), "optical")
    xr = load_image(str(out / "xray" / f"{cid}.fits.gz"), "xray")
    radius = max(cfg.fov_arcmin, cfg.tensor_fov_arcmin) * 30.0 * np.sqrt(2.0)
    signal = xray_signal(xr, ra, dec, radius, cfg)
    tensor = make_tensor(opt, xr, ra, dec, cfg, signal=signal)
    scale = cfg.tensor_fov_arcmin * 60.0 / cfg.tensor_size
    return {f"cue_{k}": v for k, v in measure_cues(tensor, scale).items()}


def _measure_extent(rng: np.random.Generator, t: dict[str, Any], info: dict[str, Any], net: float) -> dict[str, Any]:
    """XAmin-like EXT (arcsec) and EXT_LIKE from the apparent extent and the net counts [A]."""
    sub = t["subtype"]
    if sub == "cluster":
        ext0 = float(t["core_radius_arcsec"]) * (1.0 - 0.7 * float(t["agn_fraction"]))
    elif sub in ("elliptical", "spiral"):
        ext0 = float(t["core_radius_arcsec"])
    elif sub in ("agn", "star"):
        ext0 = float(rng.uniform(5.0, 9.0))  # PSF mis-fit of a bright point source
    elif sub == "pair":
        ext0 = max(float(info["pair_sep_arcsec"]) / 2.0, 5.0)
    elif sub == "wings":
        ext0 = float(rng.uniform(10.0, 25.0))
    elif sub == "clump":
        ext0 = float(rng.uniform(8.0, 20.0))
    else:  # edge
        ext0 = float(rng.uniform(6.0, 15.0))
    ext = ext0 * float(np.exp(rng.normal(0.0, 0.25)))
    rc_psf = float(ph.psf_core_radius(float(t["offaxis_arcmin"])))
    like = 0.5 * max(net, 0.0) * ext**2 / (ext**2 + (2 * rc_psf) ** 2) * float(np.exp(rng.normal(0.0, 0.3)))
    return {"extent_arcsec": ext, "ext_like": like}


__all__ = ["CandidateTask", "simulate_candidate"]
