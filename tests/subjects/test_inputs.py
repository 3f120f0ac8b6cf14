"""The image reader: the fast FITS path agrees with astropy on every real and synthetic file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hunt_clusters.subjects import as_image_map
from hunt_clusters.subjects._inputs import _NotSimple, _read_astropy, _read_fast


def _all_fits(real_dir: Path) -> list[Path]:
    return sorted(p for sub in ("xmm", "dss", "rosat") for p in (real_dir / sub).iterdir())


def test_fast_reader_matches_astropy_on_real_files(real_dir: Path) -> None:
    fast_used = 0
    for path in _all_fits(real_dir):
        kind = "xray" if "dss" not in str(path) else "optical"
        slow = _read_astropy(path, kind)
        try:
            fast = _read_fast(path, kind)
        except _NotSimple:
            assert "dss.14" in path.name  # the DSS plate solution goes the astropy way
            continue
        fast_used += 1
        np.testing.assert_array_equal(fast.data, slow.data)
        ny, nx = slow.data.shape
        x, y = np.meshgrid(np.linspace(0, nx - 1, 7), np.linspace(0, ny - 1, 7))
        a = np.array(fast.wcs.pixel_to_world_values(x, y))
        b = np.array(slow.wcs.pixel_to_world_values(x, y))
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
        for m1, m2 in ((fast.exposure, slow.exposure), (fast.background, slow.background)):
            assert (m1 is None) == (m2 is None)
            if m1 is not None:
                np.testing.assert_array_equal(m1, m2)
    assert fast_used >= 8


def _block(b: bytes, pad: bytes) -> bytes:
    return b + pad * (-len(b) % 2880)


def test_fast_reader_handles_scaling_blank_and_extensions(tmp_path: Path) -> None:
    import gzip

    data = np.arange(12, dtype=np.int16).reshape(3, 4)
    wcs_cards = {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0, "CRVAL2": 20.0,
                 "CDELT1": -0.001, "CDELT2": 0.001, "CRPIX1": 2.0, "CRPIX2": 2.0}
    primary = fits.Header({"SIMPLE": True, "BITPIX": 8, "NAXIS": 0, "EXTEND": True})
    sci = fits.Header({"XTENSION": "IMAGE", "BITPIX": 16, "NAXIS": 2, "NAXIS1": 4, "NAXIS2": 3,
                       "PCOUNT": 0, "GCOUNT": 1, "EXTNAME": "SCI", **wcs_cards,
                       "BSCALE": 2.0, "BZERO": 1.0, "BLANK": 5})
    exp = fits.Header({"XTENSION": "IMAGE", "BITPIX": -32, "NAXIS": 2, "NAXIS1": 4, "NAXIS2": 3,
                       "PCOUNT": 0, "GCOUNT": 1, "EXTNAME": "EXPMAP", **wcs_cards})
    raw = (_block(primary.tostring().encode(), b" ")
           + _block(sci.tostring().encode(), b" ") + _block(data.astype(">i2").tobytes(), b"\0")
           + _block(exp.tostring().encode(), b" ")
           + _block(np.full((3, 4), 7.0, dtype=">f4").tobytes(), b"\0"))
    path = tmp_path / "x.fits.gz"
    path.write_bytes(gzip.compress(raw))
    m = _read_fast(path, "xray")
    expected = data.astype(np.float32) * 2 + 1
    expected[1, 1] = np.nan  # raw value 5 is BLANK
    np.testing.assert_array_equal(m.data, expected)
    assert m.exposure is not None and float(m.exposure[0, 0]) == 7.0
    assert [round(float(v), 9) for v in m.wcs.pixel_to_world_values(1.0, 1.0)] == [10.0, 20.0]
    via_public = as_image_map(path, kind="xray")
    np.testing.assert_array_equal(via_public.data, expected)


def test_accepted_forms_agree(real_dir: Path) -> None:
    from astropy.nddata import NDData

    path = real_dir / "rosat" / "rass_hard_counts_coma.fits"
    ref = as_image_map(path, kind="xray")
    with fits.open(path) as hdul:
        forms = [hdul, hdul[0], (hdul[0].data, ref.wcs), NDData(hdul[0].data, wcs=ref.wcs)]
        for form in forms:
            m = as_image_map(form, kind="xray")
            np.testing.assert_array_equal(m.data, ref.data)
            assert m.pixel_scale_arcsec == pytest.approx(45.0)


def test_sky_image_from_the_sky_stage_is_accepted(real_dir: Path) -> None:
    sky = pytest.importorskip("hunt_clusters.sky")
    path = real_dir / "xmm" / "P0098010101M2U009IMAGE_3000.FTZ"
    image = sky.load_xray(path)
    m = as_image_map(image, kind="xray")
    ours = as_image_map(path, kind="xray")
    np.testing.assert_array_equal(m.data, ours.data)
    assert m.exposure is not None and m.background is not None
    np.testing.assert_array_equal(m.exposure, ours.exposure)
