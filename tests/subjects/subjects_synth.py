"""Synthetic X-ray + optical FITS pairs with hand-built WCSs, for the subjects tests and benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

CLASSES = ("low-z", "hi-z", "galaxy", "point", "other")


def tan_wcs(ra: float, dec: float, scale_arcsec: float, n: int, rot_deg: float = 0.0,
            crpix: tuple[float, float] | None = None) -> WCS:
    """A TAN WCS of n x n pixels centred on (ra, dec), rotated by rot_deg (east of north)."""
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra, dec]
    w.wcs.crpix = list(crpix) if crpix is not None else [(n + 1) / 2.0, (n + 1) / 2.0]
    s = scale_arcsec / 3600.0
    t = np.radians(rot_deg)
    w.wcs.cd = np.array([[-s * np.cos(t), s * np.sin(t)], [s * np.sin(t), s * np.cos(t)]])
    w.wcs.set()
    return w


def gaussian_blob(shape: tuple[int, int], x: float, y: float, sigma: float, amp: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return amp * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))


def beta_model(shape: tuple[int, int], x: float, y: float, rc: float, amp: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return amp * (1 + ((xx - x) ** 2 + (yy - y) ** 2) / rc**2) ** -1.5


def make_pair(ra: float, dec: float, kind: str, rng: np.random.Generator, *, xray_rot: float = 0.0,
              optical_rot: float = 0.0) -> tuple[fits.HDUList, fits.HDUList]:
    """A 6'x6' X-ray image (2.5"/px, counts + EXPOSURE + BACKGROUND) and optical (1"/px) of one kind."""
    nx, no = 144, 360
    wx = tan_wcs(ra, dec, 2.5, nx, xray_rot)
    wo = tan_wcs(ra, dec, 1.0, no, optical_rot)
    c = (nx - 1) / 2.0
    exposure = np.full((nx, nx), 10000.0, dtype=np.float32)
    bkg = np.full((nx, nx), 0.15, dtype=np.float32)
    model = bkg.astype(np.float64).copy()
    opt = rng.normal(1000.0, 8.0, (no, no))
    for _ in range(25):  # field stars
        opt += gaussian_blob((no, no), rng.uniform(0, no), rng.uniform(0, no), 1.5, rng.uniform(50, 2000))
    co = (no - 1) / 2.0
    if kind == "low-z":
        model += beta_model((nx, nx), c, c, 12.0, 6.0)
        for _ in range(30):
            r, t = rng.exponential(40), rng.uniform(0, 2 * np.pi)
            opt += gaussian_blob((no, no), co + r * np.cos(t), co + r * np.sin(t), 2.5, rng.uniform(200, 800))
        opt += gaussian_blob((no, no), co, co, 5.0, 1500)
    elif kind == "hi-z":
        model += beta_model((nx, nx), c, c, 6.0, 2.0)
    elif kind == "galaxy":
        model += gaussian_blob((nx, nx), c, c, 5.0, 3.0)
        yy, xx = np.mgrid[:no, :no]
        opt += 3000 * np.exp(-np.hypot((xx - co) / 30.0, (yy - co) / 15.0))
    elif kind == "point":
        model += gaussian_blob((nx, nx), c, c, 2.0, 40.0)
        opt += gaussian_blob((no, no), co, co, 1.5, 5000)
    else:  # artefact: a streak
        yy, xx = np.mgrid[:nx, :nx]
        model += 1.5 * np.exp(-(((yy - c) - 0.3 * (xx - c)) ** 2) / 8.0)
    counts = rng.poisson(model).astype(np.int32)
    xh = fits.HDUList([
        fits.PrimaryHDU(counts, header=wx.to_header()),
        fits.ImageHDU(exposure, header=wx.to_header(), name="EXPOSURE"),
        fits.ImageHDU(bkg, header=wx.to_header(), name="BACKGROUND"),
    ])
    # 16-bit integers, as DSS plates are
    oh = fits.HDUList([fits.PrimaryHDU(np.clip(np.round(opt), 0, 32767).astype(np.int16),
                                       header=wo.to_header())])
    return xh, oh


def make_survey(folder: Path, n: int = 10, seed: int = 3, *, gz: bool = True) -> Path:
    """A tiny survey folder like ``hunt-clusters simulate`` writes; returns the catalogue path."""
    rng = np.random.default_rng(seed)
    (folder / "xray").mkdir(parents=True, exist_ok=True)
    (folder / "optical").mkdir(parents=True, exist_ok=True)
    rows = []
    suffix = ".fits.gz" if gz else ".fits"
    for i in range(n):
        kind = CLASSES[i % len(CLASSES)]
        cid = f"XC{i:04d}"
        ra, dec = 30.0 + 0.5 * i, -5.0 + 0.1 * i
        xh, oh = make_pair(ra, dec, kind, rng)
        xh.writeto(folder / "xray" / f"{cid}{suffix}", overwrite=True)
        oh.writeto(folder / "optical" / f"{cid}{suffix}", overwrite=True)
        rows.append((cid, ra, dec, f"xray/{cid}{suffix}", f"optical/{cid}{suffix}", kind,
                     kind if i % 3 else "", i % 4 != 3, i % 2 == 0, i % 5 == 4))
    t = Table(rows=rows, names=("candidate_id", "ra", "dec", "xray_image", "optical_image",
                                "true_class", "expert_class", "in_zooniverse", "in_expert", "in_test"))
    path = folder / "candidates.ecsv"
    t.write(path, overwrite=True)
    return path
