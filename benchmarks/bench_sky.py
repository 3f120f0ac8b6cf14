"""Benchmark ``hunt_clusters.sky``: loading images, cutting out candidates, reading catalogues.

Usage::

    python benchmarks/bench_sky.py                  # defaults: 300 files, 2000 cutouts, 100,000 rows
    python benchmarks/bench_sky.py --files 1000 --cutouts 10000 --rows 1000000

The renderer reads thousands of cutouts, so every figure is set beside an anchor: the least that
plain astropy must do for the same result (the floor any loader pays), with the ratio ours/anchor.

1. ``--files`` mock-survey-like files (gzip FITS, 256x256 counts + EXPOSURE + BACKGROUND
   extensions): ``load_xray`` + ``cutout`` (3') against ``fits.open`` + the three arrays +
   ``WCS(header)`` + one ``Cutout2D``.
2. ``--cutouts`` cutouts (3') at random positions of the real A1835 PPS image (648x648 with exposure
   and background maps, loaded once) against a bare ``Cutout2D`` of the counts alone.
3. A ``--rows`` candidate CSV (decimal degrees) and one with sexagesimal strings: ``read_candidates``
   (mapping, parsing, validation) against ``Table.read`` of the same file, plus for the strings one
   ``SkyCoord(ra, dec, unit=(u.hourangle, u.deg))`` call.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.table import Table
from astropy.wcs import WCS, FITSFixedWarning

from hunt_clusters.sky import cutout, load_xray, read_candidates

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def _row(what: str, ours: float, anchor: float, unit: str) -> None:
    print(f"  {what:<46s} ours {ours:9.3f} {unit:<4s} anchor {anchor:9.3f} {unit:<4s} ratio {ours / anchor:5.2f}")


def _write_mock_files(folder: Path, n: int, rng: np.random.Generator) -> list[tuple[Path, SkyCoord]]:
    out = []
    for i in range(n):
        ra, dec = float(rng.uniform(0, 360)), float(rng.uniform(-60, 60))
        hdr = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": ra, "CRVAL2": dec,
                           "CRPIX1": 128.5, "CRPIX2": 128.5, "CDELT1": -2.5 / 3600, "CDELT2": 2.5 / 3600,
                           "RADESYS": "ICRS"})
        counts = rng.poisson(0.3, (256, 256)).astype(np.int16)
        hdul = fits.HDUList([
            fits.PrimaryHDU(counts, hdr),
            fits.ImageHDU(np.full((256, 256), 1e4, np.float32), hdr, name="EXPOSURE"),
            fits.ImageHDU(np.full((256, 256), 0.3, np.float32), hdr, name="BACKGROUND"),
        ])
        path = folder / f"cand{i:05d}.fits.gz"
        hdul.writeto(path)
        out.append((path, SkyCoord(ra, dec, unit="deg")))
    return out


def bench_files(n: int, rng: np.random.Generator) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = _write_mock_files(Path(tmp), n, rng)
        size = 3 * u.arcmin
        t0 = time.perf_counter()
        for path, pos in files:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FITSFixedWarning)
                with fits.open(path) as hdul:
                    data, exp, bkg = hdul[0].data, hdul["EXPOSURE"].data, hdul["BACKGROUND"].data
                    wcs = WCS(hdul[0].header)
            Cutout2D(data.astype(float), pos, size, wcs=wcs, mode="partial", fill_value=np.nan)
            del exp, bkg
        anchor = (time.perf_counter() - t0) / n * 1e3
        t0 = time.perf_counter()
        for path, pos in files:
            cutout(load_xray(path), pos, size)
        ours = (time.perf_counter() - t0) / n * 1e3
    print(f"1. {n} mock files (gzip, 256x256 + 2 maps): load + 3' cutout, per file")
    _row("load_xray + cutout", ours, anchor, "ms")


def bench_cutouts(n: int, rng: np.random.Generator) -> None:
    path = REAL / "xmm" / "P0098010101M2U009IMAGE_3000.FTZ"
    if not path.exists():
        print(f"2. skipped: {path} not found")
        return
    img = load_xray(path)
    ny, nx = img.shape
    pos = img.wcs.pixel_to_world(rng.uniform(0, nx - 1, n), rng.uniform(0, ny - 1, n))
    size = 3 * u.arcmin
    t0 = time.perf_counter()
    for p in pos:
        Cutout2D(img.data, p, size, wcs=img.wcs, mode="partial", fill_value=np.nan)
    anchor = (time.perf_counter() - t0) / n * 1e3
    t0 = time.perf_counter()
    for p in pos:
        cutout(img, p, size)
    ours = (time.perf_counter() - t0) / n * 1e3
    print(f"2. {n} cutouts of the real A1835 image (648x648, with exposure + background maps), per cutout")
    _row("cutout (3 arrays, footprint check)", ours, anchor, "ms")


def bench_catalogue(n: int, rng: np.random.Generator) -> None:
    ra = rng.uniform(0, 360, n)
    dec = rng.uniform(-89, 89, n)
    ids = np.array([f"XC{i:07d}" for i in range(n)])
    with tempfile.TemporaryDirectory() as tmp:
        dec_path = Path(tmp) / "deg.csv"
        Table({"Name": ids, "RAJ2000": ra, "DEJ2000": dec}).write(dec_path)
        sex = SkyCoord(ra, dec, unit="deg")
        sex_path = Path(tmp) / "sex.csv"
        Table({"Name": ids, "RA": sex.ra.to_string(u.hourangle, sep=":", precision=2),
               "DEC": sex.dec.to_string(u.deg, sep=":", precision=1, alwayssign=True)}).write(sex_path)
        print(f"3. a {n}-row candidate catalogue (CSV), whole table")
        for label, path in (("decimal degrees", dec_path), ("sexagesimal strings", sex_path)):
            t0 = time.perf_counter()
            raw = Table.read(path, format="ascii.csv")
            if path is sex_path:  # the anchor parses the strings as a user would: one SkyCoord call
                SkyCoord(raw["RA"], raw["DEC"], unit=(u.hourangle, u.deg))
            anchor = time.perf_counter() - t0
            t0 = time.perf_counter()
            t = read_candidates(path)
            ours = time.perf_counter() - t0
            assert len(t) == n
            _row(f"read_candidates, {label}", ours, anchor, "s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--cutouts", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    if args.files:
        bench_files(args.files, rng)
    if args.cutouts:
        bench_cutouts(args.cutouts, rng)
    if args.rows:
        bench_catalogue(args.rows, rng)


if __name__ == "__main__":
    main()
