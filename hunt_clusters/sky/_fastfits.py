"""A fast reader for plain FITS images: the 2880-byte blocks read directly, the WCS parsed by wcslib.

``astropy.io.fits`` and ``astropy.wcs.WCS(header)`` spend ~3 ms per image on header handling. For the
plain images a survey is made of (one file, plain or gzip; integer or float pixels; a simple
celestial WCS), reading the blocks and handing the header to wcslib directly does the same in
~0.3 ms. :func:`read_simple` returns what the astropy path of
:func:`hunt_clusters.sky._source.parse_image_source` would get from ``hdu.data``, ``hdu.header``
and ``WCS(hdu.header)`` (same values, data type and byte order; uncompressed files memory-mapped
copy-on-write as astropy does), or raises :class:`NotSimple` for anything else, which then goes
the astropy way: tile compression, random groups, pseudo-unsigned integers, SIP or lookup-table
distortions, DSS plate solutions, ``PVi_m`` terms, more than two WCS axes, truncated or odd files.
The equivalence is tested on every real file in ``tests/sky/test_sky_fastfits.py``.
"""

from __future__ import annotations

import functools
import gzip
import math
import mmap
import os
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, Wcsprm

_isal_zlib: Any
try:  # ISA-L's inflate (python-isal); zlib's (through gzip) otherwise
    from isal import isal_zlib as _isal_zlib
except ImportError:  # pragma: no cover - isal is a dependency, but the reader works without it
    _isal_zlib = None

_BLOCK = 2880
_CARD = 80
_DTYPES = {8: "u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}
#: Header text that makes astropy do more than wcslib alone (distortions, plate solutions, SCAMP PV).
_SLOW_WCS = (b"A_ORDER", b"-SIP", b"CPDIS", b"CQDIS", b"D2IMDIS", b"PLTRAH", b"AMDX1", b"PV1_", b"PV2_")


class NotSimple(Exception):
    """The file needs the full astropy reader (the message says why, for the debug log)."""


@dataclass(frozen=True, eq=False)
class SimpleImage:
    """What :func:`read_simple` found: the first 2-D image HDU and the named image extensions.

    ``data`` and the arrays of ``extensions`` are what astropy's ``hdu.data`` gives (file byte
    order, BSCALE/BZERO/BLANK applied as astropy applies them); ``header()`` makes the
    :class:`~astropy.io.fits.Header` that ``hdu.header`` would be after reading the data (left to
    the caller: building one costs as much as reading a small image); ``label`` is ``path`` or
    ``path[index]`` when the file holds more than one HDU, as the astropy path names it.
    """

    data: np.ndarray
    wcs: WCS | None
    header: Callable[[], fits.Header]
    label: str
    extensions: tuple[tuple[str, np.ndarray], ...]


@dataclass(frozen=True)
class _Hdu:
    index: int
    cards: dict[str, str]  # keyword -> raw value text (after "= "), first occurrence; see _get
    header: str  # up to and including the END card
    data_start: int
    shape: tuple[int, ...]
    bitpix: int
    is_image: bool
    extname: str


def _gunzip(raw: bytes) -> bytes:
    """``gzip.decompress(raw)``, by ISA-L (python-isal, ~2.5x faster than zlib) when installed.

    Inflate is exact, so the bytes are the same either way. Anything but one complete gzip member
    (several members, trailing bytes, a truncated or corrupt stream) goes to `gzip.decompress`,
    which then decides, or raises, as it always did.
    """
    if _isal_zlib is not None:
        try:
            inflater = _isal_zlib.decompressobj(31)  # wbits 16 + 15: one gzip member
            out = inflater.decompress(raw)
            if inflater.eof and not inflater.unused_data:
                return out
        except _isal_zlib.error:
            pass
    return gzip.decompress(raw)


def _buffer(path: str, content: bytes | None = None) -> Any:
    """The file's bytes: gzip decompressed in one pass (writable), else a copy-on-write memory map.

    ``content`` is the file as stored, already read (a URL's): decompressed the same way, or copied
    into a writable buffer as the memory map would be.
    """
    if content is not None:
        return bytearray(_gunzip(content) if content[:2] == b"\x1f\x8b" else content)
    with open(path, "rb") as fh:
        if fh.read(2) == b"\x1f\x8b":
            fh.seek(0)
            return bytearray(_gunzip(fh.read()))
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)


def _header(buf: Any, start: int) -> tuple[dict[str, str], str, int]:
    """The header from ``start``: (keyword -> raw value text, header text up to END, data start)."""
    blocks: list[str] = []
    pos = start
    while True:
        block = bytes(buf[pos:pos + _BLOCK])
        if len(block) < _BLOCK:
            raise NotSimple("no END card")
        blocks.append(block.decode("ascii"))
        pos += _BLOCK
        end = blocks[-1].find("END     ")
        while end > 0 and end % _CARD:  # only a card that starts with END counts
            end = blocks[-1].find("END     ", end + 1)
        if end >= 0:
            break
    text = "".join(blocks)[:(len(blocks) - 1) * _BLOCK + end + _CARD]
    # from the last card back, so that the first occurrence of a keyword is the one kept
    cards = {text[i:i + 8].rstrip(): text[i + 10:i + _CARD]
             for i in range(len(text) - 2 * _CARD, -1, -_CARD) if text[i + 8:i + 10] == "= "}
    return cards, text, pos


def _value(raw: str) -> str:
    """A card's value as text: a string without its quotes, else everything before the comment."""
    raw = raw.lstrip()
    if raw.startswith("'"):
        body = raw[1:]
        end = body.find("'")
        while end >= 0 and body[end + 1:end + 2] == "'":  # '' is a quote inside the string
            end = body.find("'", end + 2)
        if end < 0:
            raise NotSimple("unterminated string value")
        return body[:end].replace("''", "'").rstrip()
    return raw.split("/", 1)[0].strip()


def _get(cards: dict[str, str], keyword: str, default: str | None = None) -> str:
    """The value text of ``keyword``; ``default`` when absent (KeyError when that is None too)."""
    raw = cards.get(keyword)
    if raw is None:
        if default is None:
            raise KeyError(keyword)
        return default
    return _value(raw)


def _number(text: str) -> int | float:
    """A FITS number as astropy reads it: an int when written as one, else a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def _hdus(buf: Any) -> Any:
    """Yield the HDUs of the file, from the headers alone (no data read)."""
    pos, index, n = 0, 0, len(buf)
    while pos < n:
        cards, header, data_start = _header(buf, pos)
        if index == 0:
            if _get(cards, "SIMPLE", "") != "T":
                raise NotSimple("not a standard FITS file")
            xtension = ""
        else:
            xtension = _get(cards, "XTENSION", "?").upper()
            if xtension not in ("IMAGE", "BINTABLE", "TABLE"):
                raise NotSimple(f"extension type {xtension!r}")
        if _get(cards, "ZIMAGE", "F") == "T" or _get(cards, "GROUPS", "F") == "T":
            raise NotSimple("tile-compressed image or random groups")
        bitpix = int(_get(cards, "BITPIX"))
        naxis = int(_get(cards, "NAXIS"))
        axes = [int(_get(cards, f"NAXIS{i}")) for i in range(1, naxis + 1)]
        nelem = math.prod(axes) if naxis else 0
        nbytes = abs(bitpix) // 8 * int(_get(cards, "GCOUNT", "1")) * (int(_get(cards, "PCOUNT", "0")) + nelem)
        yield _Hdu(index, cards, header, data_start, tuple(axes[::-1]), bitpix,
                   index == 0 or xtension == "IMAGE", _get(cards, "EXTNAME", "").strip().upper())
        pos = data_start + -(-nbytes // _BLOCK) * _BLOCK
        index += 1


def _is_2d(shape: tuple[int, ...]) -> bool:
    return len([n for n in shape if n > 1]) == 2 and all(n > 0 for n in shape)


def _pixels(buf: Any, hdu: _Hdu) -> np.ndarray:
    """The HDU's data as astropy's ``hdu.data`` gives it (see ``_ImageBaseHDU._scale_data``)."""
    if hdu.bitpix not in _DTYPES:
        raise NotSimple(f"BITPIX {hdu.bitpix}")
    dtype = np.dtype(_DTYPES[hdu.bitpix])
    if hdu.data_start + math.prod(hdu.shape) * dtype.itemsize > len(buf):
        raise NotSimple("truncated data")
    raw = np.ndarray(hdu.shape, dtype=dtype, buffer=buf, offset=hdu.data_start)
    cards = hdu.cards
    bscale = _number(_get(cards, "BSCALE", "1"))
    bzero = _number(_get(cards, "BZERO", "0"))
    blank: int | None = None
    if "BLANK" in cards and hdu.bitpix > 0:  # astropy ignores BLANK on float data
        try:
            blank = int(_get(cards, "BLANK"))
        except ValueError:
            raise NotSimple("non-integer BLANK") from None
    if bscale == 1 and bzero == 0 and blank is None:
        return raw
    if hdu.bitpix > 0 and bscale == 1 and bzero == (-128 if hdu.bitpix == 8 else 1 << (hdu.bitpix - 1)):
        raise NotSimple("pseudo-unsigned integers")
    blanks = raw == blank if blank else None
    data = raw.astype(np.float64 if hdu.bitpix > 16 else np.float32) if hdu.bitpix > 0 else raw.copy()
    if bscale != 1:
        np.multiply(data, bscale, data)
    if bzero != 0:
        data += bzero
    if blanks is not None:
        data[blanks] = np.nan
    return data


def header_from_text(text: str, float_bitpix: int | None = None) -> fits.Header:
    """The header as astropy leaves it once the data are read (``_update_header_scale_info``).

    With ``float_bitpix`` (the data were scaled by BSCALE/BZERO), those two cards are deleted
    (blank cards keep the size), BITPIX becomes ``float_bitpix`` and BLANK goes.
    """
    header = fits.Header.fromstring(text)
    if float_bitpix is None:
        return header
    for keyword in ("BSCALE", "BZERO"):
        if keyword in header:
            del header[keyword]
            header.append()
    header["BITPIX"] = float_bitpix
    header.pop("BLANK", None)
    return header


def _wcs(header: bytes, shape: tuple[int, ...]) -> WCS:
    """``WCS(header)`` for a simple celestial header, from one wcslib parse."""
    if any(token in header for token in _SLOW_WCS):
        raise NotSimple("distortion, plate solution or PV terms")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # wcslib's notes on fixed non-standard keywords, as in the astropy path
        try:
            prm = Wcsprm(header=header, key=" ", relax=True, keysel=-1)  # as WCS(header) calls it
            if prm.naxis != 2:
                raise NotSimple(f"{prm.naxis} WCS axes")
            prm.fix()
            prm.set()
        except NotSimple:
            raise
        except Exception as exc:  # noqa: BLE001 - wcslib raises many types on odd headers
            raise NotSimple(f"wcslib: {exc}") from None
    wcs = WCS(naxis=2)
    wcs.wcs = prm
    if not wcs.has_celestial or prm.lng != 0 or prm.lat != 1:
        raise NotSimple("not a plain celestial (lon, lat) WCS")
    wcs.pixel_shape = (shape[-1], shape[-2])
    return wcs


def read_simple(
    path: str | os.PathLike[str],
    *,
    skip_extnames: tuple[str, ...] = (),
    with_wcs: bool = True,
    content: bytes | None = None,
) -> SimpleImage:
    """Read the first 2-D image HDU of a plain FITS file, its header and WCS, without astropy's HDU classes.

    Parameters
    ----------
    path : str or os.PathLike
        A FITS file, plain or gzip-compressed.
    skip_extnames : tuple of str
        Upper-case extension names never taken as the image; image extensions (after the first HDU)
        with these names are returned in ``extensions``, first occurrence of each name, in file order.
    with_wcs : bool
        Parse the WCS (False for exposure and background map files).
    content : bytes, optional
        The file's bytes as stored (plain or gzip), already read, e.g. from a URL; ``path`` is then
        only the name in the label.

    Returns
    -------
    SimpleImage

    Raises
    ------
    NotSimple
        For anything this reader does not handle exactly as astropy does, including a missing or
        unreadable file (the astropy path then gives the user's error message).

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from astropy.io import fits
    >>> hdr = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 150.0, "CRVAL2": 2.0,
    ...                    "CRPIX1": 2.0, "CRPIX2": 2.0, "CDELT1": -1e-3, "CDELT2": 1e-3})
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.fits")
    >>> fits.PrimaryHDU(np.arange(12, dtype=np.int16).reshape(3, 4), hdr).writeto(path)
    >>> img = read_simple(path)
    >>> img.data.dtype, int(img.data[2, 3]), [round(float(v), 6) for v in img.wcs.pixel_to_world_values(1, 1)]
    (dtype('>i2'), 11, [150.0, 2.0])
    >>> img.header()["CTYPE1"]
    'RA---TAN'
    """
    label = os.fspath(path)
    try:
        buf = _buffer(label, content)
        image: _Hdu | None = None
        found: dict[str, np.ndarray] = {}
        more_hdus = False
        for hdu in _hdus(buf):
            more_hdus = hdu.index > 0  # the label says [index] when the file has several HDUs
            if image is not None and not skip_extnames:
                break  # nothing else is wanted
            if not hdu.is_image:
                continue
            if hdu.extname in skip_extnames:
                if hdu.index > 0 and hdu.extname not in found:
                    if not _is_2d(hdu.shape):
                        raise NotSimple(f"extension {hdu.extname} is not a 2-D image")
                    found[hdu.extname] = _pixels(buf, hdu)
            elif image is None and _is_2d(hdu.shape):
                image = hdu
        if image is None:
            raise NotSimple("no 2-D image HDU")
        data = _pixels(buf, image)
        wcs = _wcs(image.header.encode("ascii"), image.shape) if with_wcs else None
        scaled = _number(_get(image.cards, "BSCALE", "1")) != 1 or _number(_get(image.cards, "BZERO", "0")) != 0
        header = functools.partial(header_from_text, image.header, -8 * data.dtype.itemsize if scaled else None)
    except NotSimple:
        raise
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError, zlib.error) as exc:
        raise NotSimple(f"{type(exc).__name__}: {exc}") from None
    if more_hdus:
        label = f"{label}[{image.index}]"
    return SimpleImage(data, wcs, header, label, tuple(found.items()))
