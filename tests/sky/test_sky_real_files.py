"""Every real FITS file in ../shared/data/real (xmm/, dss/, rosat/) loads, with its WCS checked on known positions."""

from __future__ import annotations

import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from scipy.ndimage import gaussian_filter

from hunt_clusters.sky import OutsideFootprintError, SkyImage, cutout, load_optical, load_xray

from .dss_reference import dss_pixel_to_radec

XRAY_FILES = (
    "xmm/0201901401-0.50-2.00keVmerged_img.fits",
    "xmm/0201903501_pn_exp1-0.50-2.00keVexpmap.fits",
    "xmm/0201903501_pn_exp1-0.50-2.00keVimg.fits",
    "xmm/P0098010101M2U009EXPMAP3000.FTZ",
    "xmm/P0098010101M2U009IMAGE_3000.FTZ",
    "xmm/P0098010101M2X000BKGMAP3000.FTZ",
    "rosat/rass_broad_intensity_coma.fits",
    "rosat/rass_hard_counts_coma.fits",
)
OPTICAL_FILES = ("dss/dss.14.29.56-62.41.05.fits.gz", "dss/skyview_dss_coma_A1656.fits")
#: (file, shape, pixel scale in arcsec) as documented in SOURCES.md
EXPECTED = {
    "xmm/0201901401-0.50-2.00keVmerged_img.fits": ((512, 512), 4.35),
    "xmm/0201903501_pn_exp1-0.50-2.00keVexpmap.fits": ((512, 512), 4.35),
    "xmm/0201903501_pn_exp1-0.50-2.00keVimg.fits": ((512, 512), 4.35),
    "xmm/P0098010101M2U009EXPMAP3000.FTZ": ((648, 648), 4.0),
    "xmm/P0098010101M2U009IMAGE_3000.FTZ": ((648, 648), 4.0),
    "xmm/P0098010101M2X000BKGMAP3000.FTZ": ((648, 648), 4.0),
    "rosat/rass_broad_intensity_coma.fits": ((300, 300), 45.0),
    "rosat/rass_hard_counts_coma.fits": ((300, 300), 45.0),
    "dss/dss.14.29.56-62.41.05.fits.gz": ((100, 100), 1.70),
    "dss/skyview_dss_coma_A1656.fits": ((500, 500), 7.2),
}

A1835 = SkyCoord(210.2588, 2.8786, unit="deg")
A907 = SkyCoord(149.5913, -11.0644, unit="deg")  # NED: 09h58m21.9s -11d03m52s
COMA = SkyCoord(194.95, 27.98, unit="deg")


def _smoothed_peak(img: SkyImage, sigma_pix: float = 3.0) -> SkyCoord:
    smooth = gaussian_filter(np.nan_to_num(np.asarray(img.data, dtype=float)), sigma_pix)
    y, x = np.unravel_index(np.argmax(smooth), smooth.shape)
    return img.wcs.pixel_to_world(x, y)


def test_the_list_covers_every_real_fits_file(real_dir: Path) -> None:
    on_disk = {
        str(p.relative_to(real_dir))
        for sub in ("xmm", "dss", "rosat")
        for p in (real_dir / sub).iterdir()
        if p.is_file()
    }
    assert on_disk == set(XRAY_FILES) | set(OPTICAL_FILES)


@pytest.mark.parametrize("name", XRAY_FILES)
def test_every_xray_file_loads(real_dir: Path, name: str) -> None:
    img = load_xray(real_dir / name)
    shape, scale = EXPECTED[name]
    assert img.kind == "xray"
    assert img.shape == shape
    assert img.data.dtype.kind == "f"
    assert img.wcs.naxis == 2 and img.wcs.has_celestial
    assert img.pixel_scale_arcsec == pytest.approx(scale, rel=1e-3)
    assert img.path == str(real_dir / name)
    assert np.isfinite(img.data).any()


@pytest.mark.parametrize("name", OPTICAL_FILES)
def test_every_optical_file_loads(real_dir: Path, name: str) -> None:
    img = load_optical(real_dir / name)
    shape, scale = EXPECTED[name]
    assert img.kind == "optical"
    assert img.shape == shape
    assert img.exposure is None and img.background is None
    assert img.pixel_scale_arcsec == pytest.approx(scale, rel=1e-3)


def test_a1835_inside_and_near_the_xray_peak(real_dir: Path) -> None:
    img = load_xray(real_dir / "xmm/P0098010101M2U009IMAGE_3000.FTZ")
    assert img.contains(A1835)
    # 4" pixels: the smoothed X-ray peak is within one pixel of the catalogue position (measured 3.4")
    assert _smoothed_peak(img).separation(A1835) < 30 * u.arcsec
    x, y = img.world_to_pixel(A1835)
    assert 0 <= x < 648 and 0 <= y < 648


def test_pps_image_finds_its_exposure_and_background_maps(real_dir: Path) -> None:
    img = load_xray(real_dir / "xmm/P0098010101M2U009IMAGE_3000.FTZ")
    assert img.exposure is not None and img.background is not None
    assert img.exposure.shape == img.shape == img.background.shape
    # vignetted exposure peaks just under the header EXPOSURE (28337 s): measured 28168 s
    assert 0.95 * img.header["EXPOSURE"] < img.exposure.max() <= img.header["EXPOSURE"]
    exp_direct = fits.getdata(real_dir / "xmm/P0098010101M2U009EXPMAP3000.FTZ")
    bkg_direct = fits.getdata(real_dir / "xmm/P0098010101M2X000BKGMAP3000.FTZ")
    np.testing.assert_array_equal(img.exposure, exp_direct)
    np.testing.assert_array_equal(img.background, bkg_direct)


def test_pps_counts_are_integers_read_as_float(real_dir: Path) -> None:
    img = load_xray(real_dir / "xmm/P0098010101M2U009IMAGE_3000.FTZ")
    assert img.data.dtype == np.float64
    np.testing.assert_array_equal(img.data, np.round(img.data))
    assert img.header["CONTENT"] == "EPIC IMAGE"


def test_sas_image_whose_header_says_event_list(real_dir: Path) -> None:
    img = load_xray(real_dir / "xmm/0201903501_pn_exp1-0.50-2.00keVimg.fits")
    assert "EVENT LIST" in img.header["CONTENT"]  # the lie is kept, and ignored
    assert img.shape == (512, 512)
    assert img.exposure is not None and img.exposure.shape == img.shape
    assert img.background is None
    assert img.exposure.max() <= img.header["EXPOSURE"]


def test_a907_inside_the_pn_and_merged_images(real_dir: Path) -> None:
    for name in ("xmm/0201903501_pn_exp1-0.50-2.00keVimg.fits", "xmm/0201901401-0.50-2.00keVmerged_img.fits"):
        img = load_xray(real_dir / name)
        assert img.contains(A907), name
        # 4.35" pixels, sigma 3 pixels: measured 16-17" from NED's optical position
        assert _smoothed_peak(img).separation(A907) < 30 * u.arcsec, name


def test_merged_image_with_minimal_header(real_dir: Path) -> None:
    img = load_xray(real_dir / "xmm/0201901401-0.50-2.00keVmerged_img.fits")
    assert "INSTRUME" not in img.header and "EXPOSURE" not in img.header
    assert img.exposure is None


def test_coma_inside_the_skyview_dss_and_rass_images(real_dir: Path) -> None:
    dss = load_optical(real_dir / "dss/skyview_dss_coma_A1656.fits")
    assert dss.contains(COMA)
    x, y = dss.world_to_pixel(COMA)
    # CAR, 0.002 deg pixels, centre (195, 28) at pixel 249.5: Coma is 0.05 deg E... hand-computed
    assert x == pytest.approx(249.5 + (195.0 - 194.95) * np.cos(0) / 0.002, abs=0.01)
    assert y == pytest.approx(249.5 + (27.98 - 28.0) / 0.002, abs=0.01)
    for name in ("rosat/rass_hard_counts_coma.fits", "rosat/rass_broad_intensity_coma.fits"):
        rass = load_xray(real_dir / name)
        assert rass.contains(COMA)
        # 45" pixels: the RASS peak lies 151" from the optical centre (Coma's X-ray centre is offset)
        assert _smoothed_peak(rass, 2.0).separation(COMA) < 4 * u.arcmin


def test_dss_plate_solution_centre_agrees_with_objctra(real_dir: Path) -> None:
    img = load_optical(real_dir / "dss/dss.14.29.56-62.41.05.fits.gz")
    obj = SkyCoord(img.header["OBJCTRA"], img.header["OBJCTDEC"], unit=(u.hourangle, u.deg), frame="fk5")
    centre = img.wcs.pixel_to_world(49.5, 49.5)
    assert centre.separation(obj) < 3 * u.arcsec
    # the object's own plate pixel (OBJCTX/Y) maps back onto it to 0.05"
    x = img.header["OBJCTX"] - img.header["CNPIX1"] - 0.5
    y = img.header["OBJCTY"] - img.header["CNPIX2"] - 0.5
    assert img.wcs.pixel_to_world(x, y).separation(obj) < 0.05 * u.arcsec


def test_dss_full_plate_solution_is_used_not_the_approximate_tan(real_dir: Path) -> None:
    path = real_dir / "dss/dss.14.29.56-62.41.05.fits.gz"
    img = load_optical(path)
    yy, xx = np.mgrid[0:100:9, 0:100:9].astype(float)
    ra, dec = dss_pixel_to_radec(img.header, xx, yy)
    truth = SkyCoord(ra, dec, unit="deg", frame="fk5")
    ours = img.wcs.pixel_to_world(xx, yy)
    assert ours.separation(truth).arcsec.max() < 1e-6
    # the approximate TAN (CRVAL/CD) written beside it is off by up to ~0.7": ours is the exact one
    hdr = img.header.copy()
    for key in list(hdr):
        if key.startswith(("PLT", "AMDX", "AMDY", "PPO", "CNPIX", "XPIXELSZ", "YPIXELSZ")):
            del hdr[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        approx = WCS(hdr)
    off = approx.pixel_to_world(xx, yy).separation(truth).arcsec
    assert 0.3 < off.max() < 1.5


def test_dss_cutout_keeps_the_plate_solution(real_dir: Path) -> None:
    img = load_optical(real_dir / "dss/dss.14.29.56-62.41.05.fits.gz")
    centre = img.wcs.pixel_to_world(50.0, 50.0)
    cut = cutout(img, centre, 30 * u.arcsec)
    assert cut.shape == (18, 18)  # 30" / 1.70"
    px, py = img.world_to_pixel(cut.wcs.pixel_to_world(3.0, 4.0))
    x0, y0 = round(float(px) - 3.0), round(float(py) - 4.0)
    assert (float(px) - 3.0 - x0, float(py) - 4.0 - y0) == pytest.approx((0.0, 0.0), abs=1e-6)
    ra, dec = dss_pixel_to_radec(img.header, x0 + 3.0, y0 + 4.0)
    got = cut.wcs.pixel_to_world(3.0, 4.0)
    assert got.separation(SkyCoord(ra, dec, unit="deg", frame="fk5")) < 1e-6 * u.arcsec
    np.testing.assert_array_equal(cut.data, img.data[y0 : y0 + cut.shape[0], x0 : x0 + cut.shape[1]])


def test_a1835_cutout_with_maps(real_dir: Path) -> None:
    img = load_xray(real_dir / "xmm/P0098010101M2U009IMAGE_3000.FTZ")
    cut = cutout(img, A1835, 5 * u.arcmin)
    assert cut.shape == (75, 75)  # 300" / 4"
    assert cut.exposure is not None and cut.background is not None
    x, y = img.world_to_pixel(A1835)
    x0, y0 = int(np.round(x)) - 37, int(np.round(y)) - 37
    np.testing.assert_array_equal(cut.data, img.data[y0 : y0 + 75, x0 : x0 + 75])
    np.testing.assert_array_equal(cut.exposure, img.exposure[y0 : y0 + 75, x0 : x0 + 75])
    assert cut.wcs.pixel_to_world(37, 37).separation(A1835) < 4 * u.arcsec


def test_coma_is_not_in_the_a1835_image(real_dir: Path) -> None:
    img = load_xray(real_dir / "xmm/P0098010101M2U009IMAGE_3000.FTZ")
    with pytest.raises(OutsideFootprintError, match=r"RA 194\.95000, Dec \+27\.98000 is outside the image .*P0098010101M2U009IMAGE_3000\.FTZ \(centre RA 210\.26"):
        cutout(img, COMA, 5 * u.arcmin)


def test_images_pickle_with_their_plate_solution(real_dir: Path) -> None:
    """Images go to worker processes (multiprocessing, Dask) by pickle: the WCS must survive it."""
    import pickle

    img = load_optical(real_dir / "dss/dss.14.29.56-62.41.05.fits.gz")
    assert img.contains(img.center)  # fills the cached frame and scales, which travel too
    back = pickle.loads(pickle.dumps(img))
    xx, yy = np.array([0.0, 50.0, 99.0]), np.array([3.0, 60.0, 99.0])
    assert back.wcs.pixel_to_world(xx, yy).separation(img.wcs.pixel_to_world(xx, yy)).arcsec.max() < 1e-6
    np.testing.assert_array_equal(back.data, img.data)
    assert back.path == img.path and back.kind == "optical"
