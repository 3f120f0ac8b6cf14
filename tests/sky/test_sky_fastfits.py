"""The fast FITS reader gives exactly what the astropy path gives, on every real file and on odd synthetic ones."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hunt_clusters.sky import SkyImage, _source, load_optical, load_xray
from hunt_clusters.sky._fastfits import NotSimple, read_simple

XRAY_EXTNAMES = _source.EXPOSURE_EXTNAMES + _source.BACKGROUND_EXTNAMES
WCS_CARDS = {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0, "CRVAL2": 20.0,
             "CDELT1": -0.001, "CDELT2": 0.001, "CRPIX1": 2.0, "CRPIX2": 2.0}


def _astropy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise NotSimple("switched off by the test")

    monkeypatch.setattr(_source, "read_simple", refuse)


def _both(path: Path, load: Callable[[Path], SkyImage]) -> tuple[SkyImage, SkyImage]:
    """``load(path)`` as the package does it, and with the fast reader switched off."""
    fast = load(path)
    with pytest.MonkeyPatch.context() as mp:
        _astropy_only(mp)
        slow = load(path)
    return fast, slow


def _same_array(a: np.ndarray | None, b: np.ndarray | None) -> None:
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)  # NaN where NaN


def _same_image(fast: SkyImage, slow: SkyImage) -> None:
    _same_array(fast.data, slow.data)
    _same_array(fast.exposure, slow.exposure)
    _same_array(fast.background, slow.background)
    assert fast.wcs.to_header_string() == slow.wcs.to_header_string()
    assert fast.wcs.pixel_shape == slow.wcs.pixel_shape
    ny, nx = slow.shape
    x, y = np.meshgrid(np.linspace(-0.5, nx - 0.5, 7), np.linspace(-0.5, ny - 0.5, 7))
    np.testing.assert_array_equal(fast.wcs.pixel_to_world_values(x, y), slow.wcs.pixel_to_world_values(x, y))
    assert fast.header.tostring() == slow.header.tostring()
    assert (fast.path, fast.kind) == (slow.path, slow.kind)


def test_fast_reader_matches_astropy_on_real_files(real_dir: Path) -> None:
    paths = sorted(p for sub in ("xmm", "dss", "rosat") for p in (real_dir / sub).iterdir())
    assert len(paths) >= 10
    astropy_only = []
    for path in paths:
        optical = path.parent.name == "dss"
        try:
            read_simple(path, skip_extnames=() if optical else XRAY_EXTNAMES)
        except NotSimple:
            astropy_only.append(path.name)
        _same_image(*_both(path, load_optical if optical else load_xray))
    assert astropy_only == ["dss.14.29.56-62.41.05.fits.gz"]  # the DSS plate solution goes the astropy way


def test_xmm_sibling_maps_are_read_by_the_fast_reader(real_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, bool]] = []

    def spy(path: str, **kwargs: bool) -> object:
        calls.append((Path(path).name, kwargs.get("with_wcs", True)))
        return read_simple(path, **kwargs)

    monkeypatch.setattr(_source, "read_simple", spy)
    img = load_xray(real_dir / "xmm" / "P0098010101M2U009IMAGE_3000.FTZ")
    assert img.exposure is not None and img.background is not None
    assert calls == [
        ("P0098010101M2U009IMAGE_3000.FTZ", True),
        ("P0098010101M2U009EXPMAP3000.FTZ", False),
        ("P0098010101M2X000BKGMAP3000.FTZ", False),
    ]


def _block(b: bytes, pad: bytes) -> bytes:
    return b + pad * (-len(b) % 2880)


def _write(path: Path, hdus: list[tuple[dict, np.ndarray | None]]) -> Path:
    """A FITS file written byte by byte (astropy would rewrite BSCALE/BZERO/BLANK on writing)."""
    raw = b""
    for i, (cards, data) in enumerate(hdus):
        head = {"SIMPLE": True} if i == 0 else {"XTENSION": "IMAGE"}
        head["BITPIX"] = 8 if data is None else BITPIX[data.dtype.str]
        head["NAXIS"] = 0 if data is None else data.ndim
        if data is not None:
            for k, n in enumerate(data.shape[::-1], start=1):
                head[f"NAXIS{k}"] = n
        if i == 0:
            head["EXTEND"] = True
        else:
            head.update({"PCOUNT": 0, "GCOUNT": 1})
        raw += _block(fits.Header({**head, **cards}).tostring().encode(), b" ")
        if data is not None:
            raw += _block(data.tobytes(), b"\0")
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    return path


BITPIX = {"|u1": 8, ">i2": 16, ">i4": 32, ">i8": 64, ">f4": -32, ">f8": -64}
INT16 = np.arange(12, dtype=">i2").reshape(3, 4)


@pytest.mark.parametrize(
    ("name", "cards", "data"),
    [
        ("plain int16", {}, INT16),
        ("uint8", {}, np.arange(12, dtype="u1").reshape(3, 4)),
        ("int32 with BLANK", {"BLANK": 5}, INT16.astype(">i4")),
        ("int16 BLANK = 0 is not applied", {"BLANK": 0}, INT16),
        ("int16 BSCALE, BZERO, BLANK", {"BSCALE": 2.0, "BZERO": 1.0, "BLANK": 5}, INT16),
        ("int64 integer BZERO", {"BZERO": 7}, INT16.astype(">i8")),
        ("float32 scaled", {"BSCALE": 0.5, "BZERO": -3.0}, INT16.astype(">f4")),
        ("float64 with a BLANK astropy ignores", {"BLANK": 5}, INT16.astype(">f8")),
    ],
)
@pytest.mark.parametrize("suffix", [".fits", ".fits.gz"])
@pytest.mark.filterwarnings("ignore:Invalid 'BLANK' keyword in header")
def test_scaling_is_applied_as_astropy_applies_it(tmp_path: Path, name: str, cards: dict, data: np.ndarray,
                                                  suffix: str) -> None:
    path = _write(tmp_path / f"img{suffix}", [({**WCS_CARDS, **cards}, data)])
    read_simple(path)  # handled by the fast reader, not passed on
    _same_image(*_both(path, load_optical))


def test_scaled_image_with_maps_in_extensions_by_hand(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.fits.gz", [
        ({}, None),
        ({"EXTNAME": "SCI", **WCS_CARDS, "BSCALE": 2.0, "BZERO": 1.0, "BLANK": 5}, INT16),
        ({"EXTNAME": "EXPMAP", **WCS_CARDS}, np.full((3, 4), 7.0, dtype=">f4")),
        ({"EXTNAME": "BKGMAP"}, np.full((3, 4), 2, dtype=">i2")),
    ])
    fast, slow = _both(path, load_xray)
    expected = INT16.astype(np.float32) * 2 + 1
    expected[1, 1] = np.nan  # raw value 5 is BLANK
    np.testing.assert_array_equal(fast.data, expected)
    assert fast.exposure is not None and fast.exposure.dtype == np.dtype(">f4") and float(fast.exposure[2, 3]) == 7.0
    assert fast.background is not None and fast.background.dtype == np.float32 and float(fast.background[0, 0]) == 2.0
    assert [round(float(v), 9) for v in fast.wcs.pixel_to_world_values(1.0, 1.0)] == [10.0, 20.0]
    _same_image(fast, slow)
    assert read_simple(path, skip_extnames=XRAY_EXTNAMES).label == f"{path}[1]"


@pytest.mark.parametrize(
    ("why", "cards", "data"),
    [
        ("pseudo-unsigned", {"BZERO": 32768}, INT16),
        ("SIP distortion", {"CTYPE1": "RA---TAN-SIP", "CTYPE2": "DEC--TAN-SIP", "A_ORDER": 2, "B_ORDER": 2,
                            "A_2_0": 1e-6, "B_0_2": 1e-6}, INT16),
        ("PV terms", {"PV2_1": 1.0}, INT16),
        ("no celestial axes", {"CTYPE1": "LINEAR", "CTYPE2": "LINEAR"}, INT16),
        ("swapped axes", {"CTYPE1": "DEC--TAN", "CTYPE2": "RA---TAN"}, INT16),
        ("three WCS axes", {"WCSAXES": 3, "CTYPE3": "ENERGY"}, INT16[None]),
    ],
)
def test_what_the_fast_reader_passes_on(tmp_path: Path, why: str, cards: dict, data: np.ndarray) -> None:
    path = _write(tmp_path / "odd.fits", [({**WCS_CARDS, **cards}, data)])
    with pytest.raises(NotSimple):
        read_simple(path)


def test_compressed_missing_and_broken_files_are_passed_on(tmp_path: Path) -> None:
    comp = tmp_path / "comp.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(INT16.astype(np.float32), fits.Header(WCS_CARDS))]).writeto(comp)
    truncated = tmp_path / "cut.fits"
    truncated.write_bytes(_write(tmp_path / "full.fits", [(WCS_CARDS, INT16)]).read_bytes()[:2890])  # 10 of the 24 data bytes
    not_fits = tmp_path / "text.fits"
    not_fits.write_text("hello")
    for path in (comp, truncated, not_fits, tmp_path / "missing.fits", tmp_path):
        with pytest.raises(NotSimple):
            read_simple(path)


def test_the_header_is_made_on_first_use(tmp_path: Path) -> None:
    import dataclasses
    import pickle

    path = _write(tmp_path / "img.fits.gz", [({**WCS_CARDS, "BSCALE": 2.0, "OBJECT": "A1656"}, INT16)])
    img = load_optical(path)
    assert not isinstance(img.__dict__["header"], fits.Header)  # not built yet
    copy = pickle.loads(pickle.dumps(img))
    assert img.header["OBJECT"] == "A1656" and img.header["BITPIX"] == -32 and "BSCALE" not in img.header
    assert isinstance(img.__dict__["header"], fits.Header) and img.header is img.header
    assert copy.header.tostring() == img.header.tostring()
    assert dataclasses.replace(img, kind="xray").header is img.header
    with pytest.raises(dataclasses.FrozenInstanceError):
        img.header = fits.Header()  # type: ignore[misc]


def test_gzip_inflate_gives_what_gzip_gives(tmp_path: Path) -> None:
    import zlib

    from hunt_clusters.sky import _fastfits

    assert _fastfits._isal_zlib is not None  # the fast inflate is in use (a dependency)
    payload = np.random.default_rng(3).integers(0, 50, 200_000, dtype=np.uint8).tobytes()
    one = gzip.compress(payload)
    assert _fastfits._gunzip(one) == payload
    assert _fastfits._gunzip(one + gzip.compress(b"more")) == payload + b"more"  # two members
    assert _fastfits._gunzip(one + b"\0\0") == gzip.decompress(one + b"\0\0") == payload  # zero padding
    for bad in (one[:5000], one[:3000] + bytes(100) + one[3100:]):  # truncated, corrupt
        with pytest.raises((EOFError, OSError, zlib.error)):
            gzip.decompress(bad)
        with pytest.raises((EOFError, OSError, zlib.error)):
            _fastfits._gunzip(bad)
    path = _write(tmp_path / "img.fits.gz", [(WCS_CARDS, INT16)])
    (tmp_path / "img.fits").write_bytes(gzip.decompress(path.read_bytes()))
    fast, plain = read_simple(path), read_simple(tmp_path / "img.fits")
    assert fast.data.flags.writeable and np.array_equal(fast.data, plain.data)
