"""Parse the forms a user has (path, HDU, (array, WCS), NDData, SkyImage) into one image map."""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning
from astropy.wcs import WCS, FITSFixedWarning

from .._errors import InputError

log = logging.getLogger(__name__)

_EXPOSURE_NAMES = ("EXPOSURE", "EXPMAP")
_BACKGROUND_NAMES = ("BACKGROUND", "BKGMAP")
_ACCEPTED = (
    "a FITS path, an astropy ImageHDU/PrimaryHDU or HDUList, a (2-D array, astropy WCS) pair, "
    "an NDData with a WCS, or a hunt_clusters.sky.SkyImage"
)


@dataclass(frozen=True, eq=False)
class ImageMap:
    """A 2-D image with its celestial WCS, and for X-ray images optional exposure/background maps.

    ``data`` is float32 in FITS order (``data[y, x]``, row 0 at the bottom of the sky picture).
    """

    data: np.ndarray
    wcs: WCS
    exposure: np.ndarray | None = None
    background: np.ndarray | None = None
    name: str = "<array>"

    @property
    def pixel_scale_arcsec(self) -> float:
        """Geometric mean pixel side in arcsec, from the WCS Jacobian."""
        return _pixel_scale_arcsec(self.wcs)


def _pixel_scale_arcsec(wcs: WCS) -> float:
    m = wcs.pixel_scale_matrix
    return float(np.sqrt(abs(np.linalg.det(m))) * 3600.0)


def _celestial(wcs: WCS, name: str) -> WCS:
    if not wcs.has_celestial:
        raise InputError(
            f"{name}: no celestial WCS (CTYPE1/CTYPE2 such as RA---TAN/DEC--TAN are missing); "
            "an image needs sky coordinates to be placed under the contours"
        )
    cel = wcs if wcs.naxis == 2 and wcs.wcs.lng == 0 and wcs.wcs.lat == 1 else wcs.celestial
    if cel.pixel_n_dim != 2:
        raise InputError(f"{name}: the celestial WCS is not 2-D")
    return cel


def _wcs_from_header(header: fits.Header, name: str) -> WCS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        warnings.simplefilter("ignore", VerifyWarning)
        try:
            wcs = WCS(header, naxis=2)
        except Exception as exc:  # astropy raises several types for broken headers
            raise InputError(f"{name}: cannot read the WCS from the header ({exc})") from None
    return _celestial(wcs, name)


def _as_2d(data: Any, name: str) -> np.ndarray:
    arr = np.asarray(data)
    arr = np.squeeze(arr)
    if arr.ndim != 2:
        raise InputError(f"{name}: expected a 2-D image, got an array of shape {np.shape(data)}")
    return arr.astype(np.float32, copy=False)


def _first_image_hdu(hdul: fits.HDUList, name: str) -> int:
    for i, hdu in enumerate(hdul):
        if hdu.is_image and hdu.header.get("NAXIS", 0) >= 2 and hdu.data is not None:
            return i
    raise InputError(f"{name}: no 2-D image HDU in the file")


def _sibling(path: Path, token: str) -> Path | None:
    """XMM pipeline siblings: P...IMAGE_3000.FTZ -> P...EXPMAP3000.FTZ / P...BKGMAP3000.FTZ."""
    m = re.match(r"^(P\d{10})(\w{2})(\w)(\d{3})IMAGE_(\w+)\.(FTZ|FIT|FITS|FIT\.GZ|FITS\.GZ)$",
                 path.name, flags=re.IGNORECASE)
    if m:
        obs, inst, _kind, _expo, band, _ext = m.groups()
        pattern = f"{obs}{inst}*{token}{band}.*"
        hits = sorted(path.parent.glob(pattern))
        return hits[0] if hits else None
    m2 = re.match(r"^(.*)img(\.fits?(\.gz)?)$", path.name, flags=re.IGNORECASE)
    if m2 and token == "EXPMAP":
        cand = path.with_name(m2.group(1) + "expmap" + m2.group(2))
        return cand if cand.exists() else None
    return None


def _read_plain(path: Path, name: str) -> np.ndarray:
    try:
        return _read_fast(path, "optical").data
    except (_NotSimple, KeyError, ValueError, OSError, EOFError):
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)
        with fits.open(path, memmap=False) as hdul:
            return _as_2d(hdul[_first_image_hdu(hdul, name)].data, name)


@lru_cache(maxsize=8)
def _read_fits_cached(path: str, mtime: float, kind: str) -> ImageMap:
    return _read_fits(Path(path), kind)


# --------------------------------------------------------------------------- fast path
# astropy.io.fits + astropy.wcs.WCS cost ~3 ms per HDU in header handling alone; for the plain
# images the pipeline reads by the thousand (one image HDU and a simple celestial WCS) a direct
# read of the FITS blocks and a bare wcslib parse do the same in ~0.3 ms. Anything unusual
# (tile compression, SIP/distortion tables, DSS plate solutions, NAXIS > 2) goes the astropy way.
_BLOCK = 2880
_DTYPES = {8: ">u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}
_SLOW_WCS = (b"A_ORDER", b"CPDIS", b"CQDIS", b"D2IMDIS", b"PLTRAH", b"AMDX1", b"-SIP")


class _NotSimple(Exception):
    """The file needs the full astropy reader."""


def _cards(raw: bytes, start: int) -> tuple[dict[str, str], int, int]:
    """Header keyword -> raw value text from ``start``; returns (cards, end of END card, data start)."""
    cards: dict[str, str] = {}
    pos = start
    n = len(raw)
    while pos + 80 <= n:
        card = raw[pos:pos + 80]
        key = card[:8].rstrip().decode("ascii", "replace")
        pos += 80
        if key == "END":
            data = start + -(-(pos - start) // _BLOCK) * _BLOCK
            return cards, pos - 80, data
        if card[8:10] == b"= ":
            value = card[10:].decode("ascii", "replace")
            if value.lstrip().startswith("'"):
                v = value.lstrip()[1:]
                cards[key] = v[: v.find("'")].strip() if "'" in v else v.strip()
            else:
                cards[key] = value.split("/", 1)[0].strip()
    raise _NotSimple("no END card")


def _fast_wcs(header: bytes, name: str) -> WCS:
    if any(tok in header for tok in _SLOW_WCS):
        raise _NotSimple("distortions")
    from astropy.wcs import Wcsprm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prm = Wcsprm(header=header)
            if prm.naxis != 2:
                raise _NotSimple("naxis")
            prm.fix()
            prm.set()
        except _NotSimple:
            raise
        except Exception as exc:
            raise _NotSimple(str(exc)) from None
    w = WCS(naxis=2)
    w.wcs = prm
    if not w.has_celestial or prm.lng != 0 or prm.lat != 1:
        raise _NotSimple("not celestial")
    return w


def _read_fast(path: Path, kind: str) -> ImageMap:
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        import gzip

        raw = gzip.decompress(raw)
    if not raw.startswith(b"SIMPLE  ="):
        raise _NotSimple("not FITS")
    name = str(path)
    pos = 0
    image: np.ndarray | None = None
    wcs: WCS | None = None
    maps: dict[str, np.ndarray] = {}
    first = True
    while pos < len(raw):
        cards, end, data_start = _cards(raw, pos)
        if cards.get("ZIMAGE", "F") == "T" or cards.get("GROUPS", "F") == "T":
            raise _NotSimple("compressed or random groups")
        bitpix = int(cards["BITPIX"])
        naxis = int(cards.get("NAXIS", "0"))
        axes = [int(cards[f"NAXIS{i}"]) for i in range(1, naxis + 1)]
        nelem = int(np.prod(axes)) if axes else 0
        count = int(cards.get("GCOUNT", "1")) * (int(cards.get("PCOUNT", "0")) + nelem)
        nbytes = abs(bitpix) // 8 * count if naxis else 0
        xt = cards.get("XTENSION", "IMAGE" if first else "")
        extname = cards.get("EXTNAME", "").upper()
        wanted = image is None or (kind == "xray" and extname in _EXPOSURE_NAMES + _BACKGROUND_NAMES)
        if xt == "IMAGE" and naxis >= 2 and nelem > 0 and wanted:
            if sum(a > 1 for a in axes) != 2:
                raise _NotSimple("not a 2-D image")
            arr = np.frombuffer(raw, dtype=_DTYPES[bitpix], count=nelem, offset=data_start)
            arr = arr.reshape(axes[::-1]).squeeze()
            scale, zero = float(cards.get("BSCALE", "1")), float(cards.get("BZERO", "0"))
            out = arr.astype(np.float32)
            if bitpix > 0 and "BLANK" in cards:
                out[arr == int(cards["BLANK"])] = np.nan
            if scale != 1.0 or zero != 0.0:
                out = out * np.float32(scale) + np.float32(zero)
            if image is None:
                image = out
                wcs = _fast_wcs(raw[pos:end], name)
            elif extname in _EXPOSURE_NAMES:
                maps["exposure"] = out
            else:
                maps["background"] = out
        pos = data_start + -(-nbytes // _BLOCK) * _BLOCK
        first = False
        if image is not None and (kind != "xray" or len(maps) == 2):
            break
    if image is None or wcs is None:
        raise _NotSimple("no image")
    return ImageMap(image, wcs, maps.get("exposure"), maps.get("background"), name)


def _read_fits(path: Path, kind: str) -> ImageMap:
    name = str(path)
    try:
        m = _read_fast(path, kind)
    except FileNotFoundError:
        raise InputError(f"{name}: file not found") from None
    except (_NotSimple, KeyError, ValueError, OSError, EOFError) as exc:
        log.debug("%s: astropy reader (%s)", name, exc)
    else:
        return _with_siblings(path, kind, m)
    return _with_siblings(path, kind, _read_astropy(path, kind))


def _with_siblings(path: Path, kind: str, m: ImageMap) -> ImageMap:
    exposure, background = m.exposure, m.background
    if kind == "xray":
        if exposure is None and (sib := _sibling(path, "EXPMAP")) is not None:
            exposure = _read_plain(sib, str(sib))
        if background is None and (sib := _sibling(path, "BKGMAP")) is not None:
            background = _read_plain(sib, str(sib))
    return _checked(ImageMap(m.data, m.wcs, exposure, background, m.name))


def _read_astropy(path: Path, kind: str) -> ImageMap:
    name = str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VerifyWarning)
            with fits.open(path, memmap=False) as hdul:
                idx = _first_image_hdu(hdul, name)
                data = _as_2d(hdul[idx].data, name)
                wcs = _wcs_from_header(hdul[idx].header, name)
                exposure = background = None
                if kind == "xray":
                    for hdu in hdul[idx + 1:]:
                        if not hdu.is_image or hdu.data is None:
                            continue
                        if hdu.name.upper() in _EXPOSURE_NAMES:
                            exposure = _as_2d(hdu.data, f"{name}[{hdu.name}]")
                        elif hdu.name.upper() in _BACKGROUND_NAMES:
                            background = _as_2d(hdu.data, f"{name}[{hdu.name}]")
    except FileNotFoundError:
        raise InputError(f"{name}: file not found") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read as FITS ({exc})") from None
    return ImageMap(data, wcs, exposure, background, name)


def _checked(m: ImageMap) -> ImageMap:
    for label, arr in (("exposure map", m.exposure), ("background map", m.background)):
        if arr is not None and arr.shape != m.data.shape:
            raise InputError(
                f"{m.name}: {label} has shape {arr.shape} but the image has {m.data.shape}; "
                "they must share one pixel grid"
            )
    return m


def as_image_map(source: Any, *, kind: str = "optical", exposure: Any = None,
                 background: Any = None) -> ImageMap:
    """Turn any accepted image form into an `ImageMap`.

    Parameters
    ----------
    source : str, Path, HDU, HDUList, (array, WCS), NDData, SkyImage or ImageMap
        The image.
    kind : {'optical', 'xray'}
        X-ray files are searched for exposure and background maps (extensions or siblings).
    exposure, background : array, optional
        Maps on the same grid that override what the file holds.

    Returns
    -------
    ImageMap

    Raises
    ------
    TypeError
        For a form that is none of the accepted ones.
    InputError
        For a file that cannot be read, a missing WCS, or maps on another grid.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.cdelt = [-1 / 3600, 1 / 3600]; w.wcs.crval = [150.0, 2.0]
    >>> m = as_image_map((np.zeros((10, 10)), w))
    >>> m.data.shape, round(m.pixel_scale_arcsec, 3)
    ((10, 10), 1.0)
    """
    if isinstance(source, ImageMap):
        m = source
    elif isinstance(source, (str, Path)):
        path = Path(source)
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            raise InputError(f"{path}: file not found") from None
        m = _read_fits_cached(str(path.resolve()), mtime, kind)
        m = ImageMap(m.data, m.wcs, m.exposure, m.background, str(path))
    elif isinstance(source, fits.HDUList):
        name = source.filename() or "<HDUList>"
        idx = _first_image_hdu(source, name)
        m = ImageMap(_as_2d(source[idx].data, name), _wcs_from_header(source[idx].header, name),
                     name=name)
        if kind == "xray":
            for hdu in source[idx + 1:]:
                if hdu.is_image and hdu.data is not None:
                    if hdu.name.upper() in _EXPOSURE_NAMES:
                        m = ImageMap(m.data, m.wcs, _as_2d(hdu.data, name), m.background, name)
                    elif hdu.name.upper() in _BACKGROUND_NAMES:
                        m = ImageMap(m.data, m.wcs, m.exposure, _as_2d(hdu.data, name), name)
    elif isinstance(source, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)):
        name = f"<{type(source).__name__} {source.name}>"
        if source.data is None:
            raise InputError(f"{name}: the HDU holds no data")
        m = ImageMap(_as_2d(source.data, name), _wcs_from_header(source.header, name), name=name)
    elif isinstance(source, tuple) and len(source) == 2 and isinstance(source[1], WCS):
        m = ImageMap(_as_2d(source[0], "<array>"), _celestial(source[1], "<array>"))
    elif hasattr(source, "data") and isinstance(getattr(source, "wcs", None), WCS):
        # NDData / CCDData / hunt_clusters.sky.SkyImage
        name = str(getattr(source, "path", None) or f"<{type(source).__name__}>")
        m = ImageMap(
            _as_2d(source.data, name),
            _celestial(source.wcs, name),
            None if getattr(source, "exposure", None) is None else _as_2d(source.exposure, name),
            None if getattr(source, "background", None) is None else _as_2d(source.background, name),
            name,
        )
    else:
        raise TypeError(f"cannot use {type(source).__name__} as an image: expected {_ACCEPTED}")
    if exposure is not None or background is not None:
        m = ImageMap(
            m.data, m.wcs,
            _as_2d(exposure, m.name) if exposure is not None else m.exposure,
            _as_2d(background, m.name) if background is not None else m.background,
            m.name,
        )
    return _checked(m)
