"""The fast paths of footprint checks and cutouts agree with astropy's own (slow) answers."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import FK4, FK5, ICRS, Galactic, SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D

from hunt_clusters.sky import cutout, load_optical, load_xray
from hunt_clusters.sky._geometry import lonlat_deg, separation_deg


@pytest.mark.parametrize("src", [ICRS(), FK5(equinox="J2000"), FK5(equinox="J1975"), Galactic(), FK4()])
@pytest.mark.parametrize("dst", [ICRS(), FK5(equinox="J2000"), Galactic()])
def test_lonlat_agrees_with_transform_to(src: object, dst: object) -> None:
    rng = np.random.default_rng(3)
    c = SkyCoord(rng.uniform(0, 360, 50) * u.deg, rng.uniform(-89, 89, 50) * u.deg, frame=src)
    lon, lat = lonlat_deg(c, dst)
    ref = c.transform_to(dst)
    sep = separation_deg(lon, lat, ref.spherical.lon.deg, ref.spherical.lat.deg)
    assert sep.max() * 3600 < 1e-6  # micro-arcsec: the same answer


def test_separation_by_hand() -> None:
    assert separation_deg(10.0, 0.0, 11.0, 0.0) == pytest.approx(1.0, abs=1e-12)
    assert separation_deg(0.0, 89.0, 180.0, 89.0) == pytest.approx(2.0, abs=1e-12)
    assert separation_deg(0.0, 0.0, 180.0, 0.0) == pytest.approx(180.0, abs=1e-12)


def test_world_to_pixel_matches_astropy_on_an_fk5_image(real_dir: Path) -> None:
    img = load_xray(real_dir / "xmm/P0098010101M2U009IMAGE_3000.FTZ")
    assert img.header["RADECSYS"] == "FK5"
    rng = np.random.default_rng(5)
    pos = SkyCoord(rng.uniform(209.9, 210.6, 40), rng.uniform(2.5, 3.2, 40), unit="deg", frame="icrs")
    x, y = img.world_to_pixel(pos)
    xr, yr = img.wcs.world_to_pixel(pos)
    np.testing.assert_allclose(x, xr, atol=1e-8)
    np.testing.assert_allclose(y, yr, atol=1e-8)


def test_world_to_pixel_matches_astropy_with_the_dss_plate_solution(real_dir: Path) -> None:
    img = load_optical(real_dir / "dss/dss.14.29.56-62.41.05.fits.gz")
    pos = img.wcs.pixel_to_world(np.array([0.0, 13.3, 99.0]), np.array([5.0, 77.7, 99.0])).icrs
    x, y = img.world_to_pixel(pos)
    np.testing.assert_allclose(x, [0.0, 13.3, 99.0], atol=1e-6)
    np.testing.assert_allclose(y, [5.0, 77.7, 99.0], atol=1e-6)


@pytest.mark.parametrize("size", [3 * u.arcmin, 2.9 * u.arcmin, (45, 31), (1 * u.arcmin, 2 * u.arcmin)])
def test_cutout_matches_cutout2d(real_dir: Path, size: object) -> None:
    img = load_xray(real_dir / "xmm/P0098010101M2U009IMAGE_3000.FTZ")
    rng = np.random.default_rng(11)
    xs = np.concatenate([rng.uniform(0, 647, 20), [0.0, 647.0, 3.2, 640.4]])
    ys = np.concatenate([rng.uniform(0, 647, 20), [0.0, 647.0, 644.9, 2.6]])
    for p in img.wcs.pixel_to_world(xs, ys):
        ours = cutout(img, p, size)
        ref = Cutout2D(img.data, p, size, wcs=img.wcs, mode="partial", fill_value=np.nan)
        assert ours.shape == ref.shape
        np.testing.assert_array_equal(ours.data, ref.data)
        np.testing.assert_allclose(ours.wcs.wcs.crpix, ref.wcs.wcs.crpix, atol=1e-9)
        exp_ref = Cutout2D(img.exposure, p, size, wcs=img.wcs, mode="partial", fill_value=0.0)
        np.testing.assert_array_equal(ours.exposure, exp_ref.data)


def test_cutout_keeps_sip_distortion(tmp_path: Path) -> None:
    hdr = fits.Header({"CTYPE1": "RA---TAN-SIP", "CTYPE2": "DEC--TAN-SIP", "CRVAL1": 150.0, "CRVAL2": 2.0,
                       "CRPIX1": 50.5, "CRPIX2": 50.5, "CD1_1": -1 / 3600, "CD1_2": 0.0, "CD2_1": 0.0,
                       "CD2_2": 1 / 3600, "A_ORDER": 2, "B_ORDER": 2, "A_2_0": 1e-4, "B_0_2": -1e-4})
    img = load_optical((np.zeros((100, 100)), hdr))
    assert img.wcs.sip is not None
    p = img.wcs.pixel_to_world(70.0, 20.0)
    cut = cutout(img, p, (21, 21))
    ref = Cutout2D(img.data, p, (21, 21), wcs=img.wcs, mode="partial")
    for px in [(0.0, 0.0), (10.0, 10.0), (20.0, 3.0)]:
        assert cut.wcs.pixel_to_world(*px).separation(ref.wcs.pixel_to_world(*px)).arcsec < 1e-9
    assert cut.wcs.pixel_to_world(10.0, 10.0).separation(p).arcsec < 1e-6
