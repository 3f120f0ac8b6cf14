"""Sky images on tiny hand-built FITS files: every input form, WCS values by hand, maps, cutouts, bad input."""

from __future__ import annotations

import dataclasses
import gzip
import mmap
import shutil
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import NDData
from astropy.table import Table
from astropy.wcs import WCS

from hunt_clusters._errors import InputError
from hunt_clusters.sky import ACCEPTED_FORMS, OutsideFootprintError, SkyImage, cutout, find_xmm_maps, load_optical, load_xray

N = 32
RA0, DEC0 = 150.0, 2.0
SCALE = 1.0 / 3600.0  # 1" pixels


def tan_header(ra0: float = RA0, dec0: float = DEC0, scale: float = SCALE) -> fits.Header:
    """A 32x32 RA---TAN header: reference pixel (16.5, 16.5) in FITS 1-based pixels at (ra0, dec0)."""
    return fits.Header(
        {
            "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": ra0, "CRVAL2": dec0,
            "CRPIX1": 16.5, "CRPIX2": 16.5, "CDELT1": -scale, "CDELT2": scale,
            "CUNIT1": "deg", "CUNIT2": "deg", "RADESYS": "ICRS",
        }
    )


def counts() -> np.ndarray:
    """Pixel value = 100 * y + x, so that every pixel says where it came from."""
    y, x = np.mgrid[0:N, 0:N]
    return (100 * y + x).astype(np.float32)


@pytest.fixture
def tiny_fits(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.fits"
    fits.PrimaryHDU(counts(), tan_header()).writeto(path)
    return path


# --- the WCS, checked by hand -------------------------------------------------------------------


def test_reference_pixel_is_exactly_crval(tiny_fits: Path) -> None:
    img = load_optical(tiny_fits)
    c = img.wcs.pixel_to_world(15.5, 15.5)  # 0-based = FITS 16.5
    assert c.ra.deg == pytest.approx(RA0, abs=1e-12)
    assert c.dec.deg == pytest.approx(DEC0, abs=1e-12)
    assert img.pixel_scale_arcsec == pytest.approx(1.0, rel=1e-12)


def test_corner_pixel_by_the_gnomonic_formula(tiny_fits: Path) -> None:
    img = load_optical(tiny_fits)
    # 0-based pixel (0, 0) = FITS (1, 1): intermediate coordinates xi = -1" * (1 - 16.5) = +15.5",
    # eta = 1" * (1 - 16.5) = -15.5"; deproject about (150, 2) by hand:
    xi, eta = np.deg2rad(15.5 / 3600), np.deg2rad(-15.5 / 3600)
    d0 = np.deg2rad(DEC0)
    ra = RA0 + np.rad2deg(np.arctan2(xi, np.cos(d0) - eta * np.sin(d0)))
    dec = np.rad2deg(np.arctan2(np.sin(d0) + eta * np.cos(d0), np.hypot(xi, np.cos(d0) - eta * np.sin(d0))))
    c = img.wcs.pixel_to_world(0, 0)
    assert c.ra.deg == pytest.approx(ra, abs=1e-10)
    assert c.dec.deg == pytest.approx(dec, abs=1e-10)
    assert ra == pytest.approx(150.0043082, abs=1e-7)  # 15.5" / cos(2 deg) east


def test_car_projection_at_the_equator_is_linear(tmp_path: Path) -> None:
    hdr = fits.Header({"CTYPE1": "RA---CAR", "CTYPE2": "DEC--CAR", "CRVAL1": 30.0, "CRVAL2": 0.0,
                       "CRPIX1": 1.0, "CRPIX2": 1.0, "CDELT1": -0.01, "CDELT2": 0.01})
    img = load_optical(fits.PrimaryHDU(np.zeros((N, N)), hdr))
    c = img.wcs.pixel_to_world(10, 20)
    assert (c.ra.deg, c.dec.deg) == pytest.approx((30.0 - 0.10, 0.20), abs=1e-12)


def test_footprint_and_contains(tiny_fits: Path) -> None:
    img = load_optical(tiny_fits)
    corners = img.footprint()
    assert len(corners) == 4
    assert corners[0].separation(img.wcs.pixel_to_world(-0.5, -0.5)).arcsec < 1e-9
    inside = SkyCoord(RA0, DEC0, unit="deg")
    outside = SkyCoord(RA0, DEC0 + 20 / 3600, unit="deg")  # 20" north of centre, image is +-16"
    antipode = SkyCoord(RA0 - 180, -DEC0, unit="deg")
    assert img.contains(inside) is True
    assert img.contains(outside) is False
    assert img.contains(antipode) is False
    both = SkyCoord([RA0, RA0], [DEC0, DEC0 + 20 / 3600], unit="deg")
    np.testing.assert_array_equal(img.contains(both), [True, False])
    assert "32x32 pixels of 1\"" in img.footprint_text()


# --- every accepted form --------------------------------------------------------------------------


def _forms(tiny_fits: Path, tmp_path: Path) -> dict[str, object]:
    gz = tmp_path / "tiny.fits.gz"
    with open(tiny_fits, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    ftz = tmp_path / "tiny.FTZ"
    shutil.copy(gz, ftz)
    primary = fits.PrimaryHDU(counts(), tan_header())
    after_table = fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(Table({"START": [0.0], "STOP": [1.0]}), name="GTI"),
                                fits.ImageHDU(counts(), tan_header(), name="IMAGE")])
    return {
        "str": str(tiny_fits),
        "Path": tiny_fits,
        "fits.gz": gz,
        "FTZ": ftz,
        "PrimaryHDU": primary,
        "HDUList with a table first": after_table,
        "CompImageHDU": fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(counts(), tan_header())]),
        "(array, WCS)": (counts(), WCS(tan_header())),
        "(array, Header)": (counts(), tan_header()),
        "NDData": NDData(counts(), wcs=WCS(tan_header())),
    }


@pytest.mark.parametrize(
    "form",
    ["str", "Path", "fits.gz", "FTZ", "PrimaryHDU", "HDUList with a table first", "CompImageHDU", "(array, WCS)",
     "(array, Header)", "NDData"],
)
def test_every_accepted_form_gives_the_same_image(tiny_fits: Path, tmp_path: Path, form: str) -> None:
    img = load_xray(_forms(tiny_fits, tmp_path)[form])
    assert img.shape == (N, N)
    np.testing.assert_allclose(img.data, counts(), rtol=0, atol=0.5 if form == "CompImageHDU" else 0)
    c = img.wcs.pixel_to_world(15.5, 15.5)
    assert (c.ra.deg, c.dec.deg) == pytest.approx((RA0, DEC0), abs=1e-12)


@pytest.mark.parametrize("bad", [42, [1, 2, 3], np.zeros((4, 4)), (np.zeros((4, 4)), "not a wcs"), None])
def test_unaccepted_form_is_a_typeerror_listing_the_forms(bad: object) -> None:
    with pytest.raises(TypeError, match="accepted: a path") as info:
        load_optical(bad)  # type: ignore[arg-type]
    assert str(info.value).endswith(ACCEPTED_FORMS)


def test_a_skyimage_passes_through(tiny_fits: Path) -> None:
    img = load_xray(tiny_fits)
    assert load_xray(img) is not img and load_xray(img).data is img.data
    with_map = load_xray(img, exposure=np.full((N, N), 3.0))
    assert float(with_map.exposure[0, 0]) == 3.0 and img.exposure is None
    opt = load_optical(img)
    assert opt.kind == "optical" and opt.data is img.data
    assert load_optical(opt) is opt


def test_in_memory_image_has_empty_path() -> None:
    img = load_optical((counts(), WCS(tan_header())))
    assert img.path == ""
    assert img.label == "<in-memory image>"


# --- data handling ------------------------------------------------------------------------------


def test_uncompressed_float_file_is_memory_mapped_not_copied(tiny_fits: Path) -> None:
    img = load_xray(tiny_fits)
    base = img.data
    while getattr(base, "base", None) is not None:
        base = base.base
    assert isinstance(base, mmap.mmap)
    assert img.data.dtype == np.dtype(">f4")  # file byte order kept


def test_integer_counts_become_float64(tmp_path: Path) -> None:
    path = tmp_path / "int.fits"
    fits.PrimaryHDU(np.arange(N * N, dtype=np.int32).reshape(N, N), tan_header()).writeto(path)
    img = load_xray(path)
    assert img.data.dtype == np.float64
    assert img.data[1, 2] == 34.0


def test_nan_pixels_are_kept(tmp_path: Path) -> None:
    data = counts()
    data[3, 4] = np.nan
    img = load_optical((data, WCS(tan_header())))
    assert np.isnan(img.data[3, 4]) and np.isfinite(img.data).sum() == N * N - 1


def test_degenerate_third_axis_is_dropped(tmp_path: Path) -> None:
    hdr = tan_header()
    hdr.update({"CTYPE3": "ENERGY", "CRVAL3": 1.0, "CRPIX3": 1.0, "CDELT3": 1.0})
    path = tmp_path / "cube.fits"
    fits.PrimaryHDU(counts()[None, :, :], hdr).writeto(path)
    img = load_xray(path)
    assert img.shape == (N, N)
    assert img.wcs.naxis == 2
    np.testing.assert_array_equal(img.data, counts())


def test_skyimage_is_frozen(tiny_fits: Path) -> None:
    img = load_optical(tiny_fits)
    with pytest.raises(dataclasses.FrozenInstanceError):
        img.kind = "xray"  # type: ignore[misc]


# --- exposure and background maps ---------------------------------------------------------------


def _mock_style(path: Path, exp_name: str = "EXPOSURE", bkg_name: str = "BACKGROUND") -> Path:
    hdus = fits.HDUList([
        fits.PrimaryHDU(counts(), tan_header()),
        fits.ImageHDU(np.full((N, N), 1000.0, dtype=np.float32), tan_header(), name=exp_name),
        fits.ImageHDU(np.full((N, N), 0.25, dtype=np.float32), tan_header(), name=bkg_name),
    ])
    hdus.writeto(path)
    return path


@pytest.mark.parametrize("names", [("EXPOSURE", "BACKGROUND"), ("EXPMAP", "BKGMAP"), ("expmap", "bkgmap")])
def test_maps_from_extensions(tmp_path: Path, names: tuple[str, str]) -> None:
    img = load_xray(_mock_style(tmp_path / "mock.fits.gz", *names))
    assert img.exposure is not None and img.background is not None
    assert float(img.exposure[0, 0]) == 1000.0 and float(img.background[5, 5]) == 0.25
    np.testing.assert_array_equal(img.data, counts())


def test_image_is_the_counts_even_when_a_map_comes_first(tmp_path: Path) -> None:
    path = tmp_path / "maps_first.fits"
    fits.HDUList([
        fits.PrimaryHDU(),
        fits.ImageHDU(np.full((N, N), 7.0), tan_header(), name="EXPMAP"),
        fits.ImageHDU(counts(), tan_header(), name="COUNTS"),
    ]).writeto(path)
    img = load_xray(path)
    np.testing.assert_array_equal(img.data, counts())
    assert float(img.exposure[0, 0]) == 7.0


def test_explicit_map_wins_over_extension(tmp_path: Path) -> None:
    path = _mock_style(tmp_path / "mock.fits")
    other = tmp_path / "exp.fits"
    fits.PrimaryHDU(np.full((N, N), 5.0), tan_header()).writeto(other)
    img = load_xray(path, exposure=other, background=np.zeros((N, N)))
    assert float(img.exposure[0, 0]) == 5.0 and float(img.background.max()) == 0.0


def test_map_with_the_wrong_shape_is_an_input_error(tiny_fits: Path) -> None:
    with pytest.raises(InputError, match=r"exposure map has shape \(8, 8\) but the image .*tiny\.fits has shape \(32, 32\)"):
        load_xray(tiny_fits, exposure=np.ones((8, 8)))


def _touch_pps(folder: Path, names: list[str]) -> None:
    for name in names:
        fits.PrimaryHDU(np.zeros((4, 4), dtype=np.float32), tan_header()).writeto(folder / name)


def test_pps_siblings_match_obsid_instrument_and_band(tmp_path: Path) -> None:
    _touch_pps(tmp_path, [
        "P0123456789M2U009IMAGE_3000.FTZ",
        "P0123456789M1U002EXPMAP3000.FTZ",  # other instrument
        "P0123456789M2U009EXPMAP2000.FTZ",  # other band
        "P0123456789M2S001EXPMAP3000.FTZ",  # same instrument and band, other exposure
        "P0123456789M2U009EXPMAP3000.FTZ",  # the one
        "P0123456789M2X000BKGMAP3000.FTZ",  # merged background: other flag/exposure code
        "P0999999999M2X000BKGMAP3000.FTZ",  # other ObsID
    ])
    exp, bkg = find_xmm_maps(tmp_path / "P0123456789M2U009IMAGE_3000.FTZ")
    assert exp is not None and exp.name == "P0123456789M2U009EXPMAP3000.FTZ"
    assert bkg is not None and bkg.name == "P0123456789M2X000BKGMAP3000.FTZ"


def test_sas_sibling_expmap(tmp_path: Path) -> None:
    _touch_pps(tmp_path, ["0201_pn-0.50-2.00keVimg.fits", "0201_pn-0.50-2.00keVexpmap.fits"])
    assert find_xmm_maps(tmp_path / "0201_pn-0.50-2.00keVimg.fits") == (tmp_path / "0201_pn-0.50-2.00keVexpmap.fits", None)
    assert find_xmm_maps(tmp_path / "other.fits") == (None, None)


# --- cutouts ------------------------------------------------------------------------------------


def test_cutout_inside_copies_the_right_pixels(tiny_fits: Path) -> None:
    img = load_xray(_mock_style(tiny_fits.parent / "mock.fits"))
    centre = img.wcs.pixel_to_world(10, 20)
    cut = cutout(img, centre, 5 * u.arcsec)
    assert cut.shape == (5, 5)
    np.testing.assert_array_equal(cut.data, counts()[18:23, 8:13])
    assert cut.data.dtype == np.float32 and cut.data.dtype.isnative
    assert cut.exposure is not None and cut.exposure.shape == (5, 5)
    assert cut.kind == "xray" and cut.path == img.path
    assert cut.wcs.pixel_to_world(2, 2).separation(centre).arcsec < 1e-9
    cut.data[0, 0] = -1  # a new array: the parent is untouched
    assert img.data[18, 8] == 1808


def test_cutout_partial_overlap_fills_nan_and_zero_exposure(tmp_path: Path) -> None:
    img = load_xray(_mock_style(tmp_path / "mock.fits"))
    corner = img.wcs.pixel_to_world(0, 0)
    cut = cutout(img, corner, 11 * u.arcsec)  # 11x11 centred on pixel (0, 0): 6x6 on the image
    assert cut.shape == (11, 11)
    assert np.isfinite(cut.data).sum() == 36
    np.testing.assert_array_equal(cut.data[5:, 5:], counts()[:6, :6])
    assert np.isnan(cut.data[0, 0]) and np.isnan(cut.background[0, 0])
    assert cut.exposure[0, 0] == 0.0 and cut.exposure[5, 5] == 1000.0


def test_cutout_size_in_pixels(tiny_fits: Path) -> None:
    img = load_optical(tiny_fits)
    assert cutout(img, img.center, (4, 6)).shape == (4, 6)


def test_cutout_outside_names_position_file_and_footprint(tiny_fits: Path) -> None:
    img = load_optical(tiny_fits)
    far = SkyCoord(RA0, DEC0 + 1.0, unit="deg")
    with pytest.raises(OutsideFootprintError) as info:
        cutout(img, far, 10 * u.arcsec)
    msg = str(info.value)
    assert "RA 150.00000, Dec +3.00000 is outside the image" in msg
    assert str(tiny_fits) in msg
    assert "centre RA 150.00000, Dec +2.00000" in msg and "32x32 pixels" in msg
    assert isinstance(info.value, InputError)


def test_cutout_just_outside_the_edge_is_refused(tiny_fits: Path) -> None:
    img = load_optical(tiny_fits)
    with pytest.raises(OutsideFootprintError):
        cutout(img, img.wcs.pixel_to_world(N - 0.5 + 0.01, 10), 5 * u.arcsec)
    assert cutout(img, img.wcs.pixel_to_world(N - 0.5 - 0.01, 10), 5 * u.arcsec).shape == (5, 5)


@pytest.mark.parametrize("size", [-5 * u.arcsec, 5 * u.kg, 0])
def test_cutout_bad_size(tiny_fits: Path, size: object) -> None:
    img = load_optical(tiny_fits)
    with pytest.raises(InputError, match="cutout size"):
        cutout(img, img.center, size)


def test_cutout_needs_a_scalar_skycoord(tiny_fits: Path) -> None:
    img = load_optical(tiny_fits)
    with pytest.raises(TypeError, match="scalar astropy.coordinates.SkyCoord"):
        cutout(img, (RA0, DEC0), 5 * u.arcsec)  # type: ignore[arg-type]


# --- bad input ----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.fits: file not found \(expected a FITS image"):
        load_xray(tmp_path / "nope.fits")


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "text.fits"
    path.write_text("this is not FITS\n")
    with pytest.raises(InputError, match=r"text\.fits: not a readable FITS file"):
        load_optical(path)


def test_corrupt_gzip_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.FTZ"
    path.write_bytes(b"\x1f\x8b" + b"not really gzip" * 10)
    with pytest.raises(InputError, match=r"broken\.FTZ: not a readable FITS file"):
        load_xray(path)


def test_non_celestial_wcs(tmp_path: Path) -> None:
    path = tmp_path / "linear.fits"
    fits.PrimaryHDU(counts(), fits.Header({"CTYPE1": "DETX", "CTYPE2": "DETY", "CDELT1": 1.0, "CDELT2": 1.0})).writeto(path)
    with pytest.raises(InputError, match=r"linear\.fits: WCS is not celestial \(CTYPE 'DETX', 'DETY'\); expected RA/Dec"):
        load_xray(path)


def test_no_wcs_at_all(tmp_path: Path) -> None:
    path = tmp_path / "bare.fits"
    fits.PrimaryHDU(counts()).writeto(path)
    with pytest.raises(InputError, match=r"bare\.fits: WCS is not celestial"):
        load_optical(path)


def test_file_without_an_image(tmp_path: Path) -> None:
    path = tmp_path / "table.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(Table({"a": [1, 2]}))]).writeto(path)
    with pytest.raises(InputError, match=r"table\.fits: no 2-D image HDU found"):
        load_xray(path)


def test_one_dimensional_array() -> None:
    w = WCS(tan_header())
    with pytest.raises(InputError, match=r"shape \(32,\); expected a 2-D image"):
        load_optical((np.zeros(N), w))


def test_array_shape_differs_from_wcs_shape() -> None:
    w = WCS(tan_header())
    w.pixel_shape = (N, N)
    with pytest.raises(InputError, match=r"WCS describes an image of shape \(32, 32\) but the array has shape \(8, 8\)"):
        load_optical((np.zeros((8, 8)), w))


def test_skyimage_checks_its_own_invariants() -> None:
    w = WCS(tan_header())
    with pytest.raises(ValueError, match="kind must be one of"):
        SkyImage(np.zeros((4, 4)), w, None, None, fits.Header(), "", "radio")
    with pytest.raises(ValueError, match="exposure map shape"):
        SkyImage(np.zeros((4, 4)), w, np.zeros((3, 3)), None, fits.Header(), "", "xray")
