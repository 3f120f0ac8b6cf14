"""One parser for every form an image can be given in: path, HDU, HDUList, ``(array, WCS)``, NDData.

Everything that opens FITS images in :mod:`hunt_clusters.sky` goes through :func:`parse_image_source`
(and :func:`read_map` for exposure and background maps), so that the accepted forms, the warnings
astropy raises on real-world headers and the error messages live in one place. Plain files are read
by :mod:`hunt_clusters.sky._fastfits` (same result, ~10x less header work); anything else, and every
file that is missing or broken, goes through astropy. A path that is a URL (``https://``, ``s3://``...)
is read into memory through fsspec (:mod:`hunt_clusters.sky._remote`) and its bytes go the same way.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning
from astropy.nddata import NDData
from astropy.utils.exceptions import AstropyUserWarning
from astropy.wcs import WCS, FITSFixedWarning

from .._errors import InputError
from ._fastfits import NotSimple, _gunzip, read_simple
from ._remote import is_url, read_url, redact

log = logging.getLogger(__name__)

#: The forms accepted wherever an image is expected (documentation and the TypeError message).
ACCEPTED_FORMS = (
    "a path (str or pathlib.Path) to a FITS file (.fits, .fit, .fts, .fits.gz, .FTZ) or its fsspec URL "
    "(https://, s3://, gs://, file://), "
    "an astropy.io.fits HDU (PrimaryHDU, ImageHDU, CompImageHDU), an astropy.io.fits.HDUList, "
    "a tuple (2-D numpy array, astropy.wcs.WCS or astropy.io.fits.Header), "
    "an astropy.nddata.NDData with a celestial wcs, or a hunt_clusters.sky.SkyImage"
)

ImageSource = Union[
    str,
    os.PathLike,
    fits.PrimaryHDU,
    fits.ImageHDU,
    fits.CompImageHDU,
    fits.HDUList,
    tuple,
    NDData,
]
"""Type of everything :func:`parse_image_source` accepts."""

#: Extension names of exposure and background maps inside one file (mock survey, docs/formats.md).
EXPOSURE_EXTNAMES = ("EXPOSURE", "EXPMAP")
BACKGROUND_EXTNAMES = ("BACKGROUND", "BKGMAP")

_IMAGE_HDU_TYPES = (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)
_QUIET = (FITSFixedWarning, VerifyWarning, AstropyUserWarning)


@dataclass(frozen=True, eq=False)
class ParsedImage:
    """What :func:`parse_image_source` found: the image, its celestial WCS and where it came from.

    ``hdul`` is the open HDU list when the image came from a file through astropy (so that maps
    stored as extensions can be read from it without opening the file again), else None;
    ``extensions`` holds the maps the fast reader already read, ``(EXTNAME, 2-D array)`` in file order.
    """

    data: np.ndarray
    wcs: WCS
    header: fits.Header | Callable[[], fits.Header]  # a function from the fast reader (see SkyImage.header)
    path: str
    label: str
    hdul: fits.HDUList | None
    owns_hdul: bool = False
    extensions: tuple[tuple[str, np.ndarray], ...] = ()

    def extension(self, extnames: tuple[str, ...]) -> tuple[str, Any] | None:
        """``(EXTNAME, HDU or array)`` of the first image extension named one of ``extnames``, or None."""
        if self.hdul is not None:
            hdu = find_extension(self.hdul, extnames)
            return None if hdu is None else (hdu.name, hdu)
        return next(((name, arr) for name, arr in self.extensions if name in extnames), None)

    def close(self) -> None:
        """Close the file if :func:`parse_image_source` opened it (the arrays stay valid)."""
        if self.owns_hdul and self.hdul is not None:
            self.hdul.close()


def describe(source: Any) -> str:
    """A short name for ``source`` in error messages: its path, or what kind of object it is."""
    if isinstance(source, (str, os.PathLike)):
        return redact(os.fspath(source))
    if isinstance(source, fits.HDUList):
        name = source.filename()
        return name if name else "<in-memory HDUList>"
    if isinstance(source, _IMAGE_HDU_TYPES):
        name = _hdu_filename(source)
        return name if name else f"<in-memory {type(source).__name__}>"
    return f"<{type(source).__name__}>"


def _hdu_filename(hdu: Any) -> str:
    try:
        info = hdu.fileinfo()
    except Exception:  # noqa: BLE001 - astropy raises several types for in-memory HDUs
        return ""
    if not info or info.get("file") is None:
        return ""
    return getattr(info["file"], "name", "") or ""


def open_fits(path: str | os.PathLike[str], *, content: bytes | None = None) -> fits.HDUList:
    """Open a FITS file (plain or gzip) read-only, memory-mapped where safe.

    ``content`` is the file's bytes as stored, already read (a URL's): opened from memory, and
    ``path`` is only the name in messages.

    Raises
    ------
    InputError
        If the file does not exist or is not FITS.
    """
    p = Path(path)
    label = str(p) if content is None else os.fspath(path)
    if content is None:
        if not p.exists():
            raise InputError(f"{label}: file not found (expected a FITS image: .fits, .fits.gz or .FTZ)")
        if p.is_dir():
            raise InputError(f"{label}: is a folder, not a FITS file")
    try:
        if content is None:
            with open(p, "rb") as fh:
                magic = fh.read(2)
        else:
            magic = content[:2]
        fileobj: Any
        if magic == b"\x1f\x8b":
            # gzip (.gz, .FTZ): one pass of C decompression into memory (the fast reader's inflate).
            # astropy would otherwise seek back and forth in the gzip stream, re-decompressing it
            # (about 3x slower on small files).
            fileobj = io.BytesIO(_gunzip(p.read_bytes() if content is None else content))
        elif content is not None:
            fileobj = io.BytesIO(content)
        else:
            fileobj = p  # memory-mapped where astropy can (unscaled data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VerifyWarning)
            # memmap=None: memory-mapped where the data are unscaled; memmap=True would refuse to
            # load images with BSCALE/BZERO/BLANK at all
            hdul = fits.open(fileobj, mode="readonly", memmap=None, lazy_load_hdus=True)
            hdul[0].header  # noqa: B018 - parse the primary header now, inside the warning filter
    except (OSError, ValueError, TypeError, EOFError, zlib.error) as exc:
        raise InputError(f"{label}: not a readable FITS file ({exc})") from None
    return hdul


def _image_shape(hdu: Any) -> tuple[int, ...]:
    """The data shape from the header alone (does not read the data)."""
    if isinstance(hdu, fits.CompImageHDU):
        return tuple(hdu.shape)
    hdr = hdu.header
    naxis = int(hdr.get("NAXIS", 0))
    return tuple(int(hdr.get(f"NAXIS{i}", 0)) for i in range(naxis, 0, -1))


def _is_2d(shape: tuple[int, ...]) -> bool:
    return len([n for n in shape if n > 1]) == 2 and all(n > 0 for n in shape)


def first_image_hdu(hdul: fits.HDUList, label: str, *, skip_extnames: tuple[str, ...] = ()) -> Any:
    """The first HDU holding a 2-D image (degenerate axes of length 1 allowed).

    Table HDUs (GTIs, calibration tables) and HDUs named in ``skip_extnames`` are passed over.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)
        for hdu in hdul:
            if not isinstance(hdu, _IMAGE_HDU_TYPES):
                continue
            if str(hdu.header.get("EXTNAME", "")).strip().upper() in skip_extnames:
                continue
            if _is_2d(_image_shape(hdu)):
                return hdu
    kinds = ", ".join(f"{type(h).__name__}{_image_shape(h) if isinstance(h, _IMAGE_HDU_TYPES) else ''}" for h in hdul)
    raise InputError(f"{label}: no 2-D image HDU found (HDUs: {kinds}); expected a FITS image with a celestial WCS")


def find_extension(hdul: fits.HDUList, extnames: tuple[str, ...]) -> Any | None:
    """The first image HDU whose EXTNAME is one of ``extnames`` (case-insensitive), or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)
        for hdu in hdul[1:] if len(hdul) > 1 else []:
            if isinstance(hdu, _IMAGE_HDU_TYPES) and str(hdu.header.get("EXTNAME", "")).strip().upper() in extnames:
                return hdu
    return None


def as_float_2d(data: Any, label: str) -> np.ndarray:
    """The image as a 2-D float array without copying float data.

    Integers become the smallest float that holds every value exactly (numpy's promotion with
    float32, as astropy scales integer images): 8- and 16-bit to float32, 32- and 64-bit to float64.
    """
    if data is None:
        raise InputError(f"{label}: the image HDU holds no data")
    arr = np.asarray(data)
    if arr.ndim != 2:
        squeezed = arr.reshape([n for n in arr.shape if n != 1]) if arr.ndim > 2 else arr
        if squeezed.ndim != 2:
            raise InputError(f"{label}: image has shape {arr.shape}; expected a 2-D image")
        arr = squeezed
    if arr.dtype.kind != "f":
        if arr.dtype.kind not in "iub":
            raise InputError(f"{label}: image data type {arr.dtype} is not numeric")
        arr = arr.astype(np.promote_types(arr.dtype, np.float32))
    return arr


def celestial_wcs(header_or_wcs: fits.Header | WCS, label: str, hdul: fits.HDUList | None = None) -> WCS:
    """The 2-D celestial WCS of a header (parsed once) or of a WCS object.

    astropy's warnings about non-standard keywords that it fixes (``RADECSYS``, old ``PC001001``,
    DSS dates) are logged at DEBUG level instead of being raised. A DSS plate solution
    (``PLTRAH``, ``AMDX1``...) is applied in full by astropy/wcslib and takes precedence over an
    approximate TAN written beside it.
    """
    if isinstance(header_or_wcs, WCS):
        wcs = header_or_wcs
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                wcs = WCS(header_or_wcs, fobj=hdul)
            except Exception as exc:  # noqa: BLE001 - wcslib raises many types on bad headers
                raise InputError(f"{label}: cannot read a WCS from the header ({exc})") from None
        for w in caught:
            if issubclass(w.category, _QUIET):
                log.debug("%s: %s", label, w.message)
            else:  # pragma: no cover - re-raise anything unexpected with its category
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if not wcs.has_celestial:
        ctypes = ", ".join(repr(c) for c in wcs.wcs.ctype) or "none"
        raise InputError(
            f"{label}: WCS is not celestial (CTYPE {ctypes}); expected RA/Dec axes such as "
            "'RA---TAN', 'DEC--TAN' (or GLON/GLAT)"
        )
    cel = wcs.celestial if wcs.naxis != 2 or not _axes_are_celestial(wcs) else wcs
    return cel


def _axes_are_celestial(wcs: WCS) -> bool:
    return wcs.wcs.lng == 0 and wcs.wcs.lat == 1 or wcs.wcs.lng == 1 and wcs.wcs.lat == 0


def parse_image_source(source: Any, *, skip_extnames: tuple[str, ...] = ()) -> ParsedImage:
    """Turn any accepted image form into data, celestial WCS, header and path.

    Parameters
    ----------
    source
        See :data:`ACCEPTED_FORMS`.
    skip_extnames
        Extension names never taken as the image (exposure and background maps).

    Returns
    -------
    ParsedImage

    Raises
    ------
    TypeError
        If ``source`` is none of the accepted forms (the message lists them).
    InputError
        If the file is missing or unreadable, holds no 2-D image, or its WCS is not celestial.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        # a URL is read whole (fsspec) and named without its credentials; its bytes go the file's way
        label, content = (redact(path), read_url(path)) if is_url(path) else (path, None)
        fast = _parse_simple_file(path, label, skip_extnames, content)
        if fast is not None:
            return fast
        hdul = open_fits(label, content=content)
        try:
            hdu = first_image_hdu(hdul, label, skip_extnames=skip_extnames)
            return _from_hdu(hdu, path, label, hdul, owns_hdul=True)
        except BaseException:
            hdul.close()
            raise
    if isinstance(source, fits.HDUList):
        label = describe(source)
        hdu = first_image_hdu(source, label, skip_extnames=skip_extnames)
        return _from_hdu(hdu, source.filename() or "", label, source)
    if isinstance(source, _IMAGE_HDU_TYPES):
        label = describe(source)
        return _from_hdu(source, _hdu_filename(source), label, None)
    if isinstance(source, NDData):
        label = describe(source)
        if source.wcs is None:
            raise InputError(f"{label}: NDData has no wcs; expected one with a celestial WCS")
        wcs = source.wcs if isinstance(source.wcs, WCS) else getattr(source.wcs, "low_level_wcs", None)
        if not isinstance(wcs, WCS):
            raise TypeError(f"NDData.wcs must be an astropy.wcs.WCS, got {type(source.wcs).__name__}")
        data = as_float_2d(source.data, label)
        header = wcs.to_header(relax=True)
        return ParsedImage(data, celestial_wcs(wcs, label), header, "", label, None)
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[1], (WCS, fits.Header)):
        label = "<(array, WCS)>"
        data = as_float_2d(source[0], label)
        wcs = celestial_wcs(source[1], label)
        if wcs.pixel_shape is not None and tuple(wcs.pixel_shape[::-1]) != data.shape:
            raise InputError(
                f"{label}: the WCS describes an image of shape {tuple(wcs.pixel_shape[::-1])} "
                f"but the array has shape {data.shape}"
            )
        header = source[1] if isinstance(source[1], fits.Header) else wcs.to_header(relax=True)
        return ParsedImage(data, wcs, header, "", label, None)
    raise TypeError(f"cannot use a {type(source).__name__} as an image; accepted: {ACCEPTED_FORMS}")


def _parse_simple_file(
    path: str, label: str, skip_extnames: tuple[str, ...], content: bytes | None = None
) -> ParsedImage | None:
    """The fast reader's result for a plain file, or None where the astropy path must answer.

    ``label`` names the file in messages (a URL without credentials), ``content`` is its bytes when
    already read (a URL's). Extension maps (``skip_extnames``) come back read and checked against
    the image's shape; any problem (including a user error) is left to the astropy path, which
    words the message.
    """
    try:
        found = read_simple(label, skip_extnames=skip_extnames, content=content)
        data = as_float_2d(found.data, found.label)
        maps = tuple((name, as_float_2d(arr, name)) for name, arr in found.extensions)
    except (NotSimple, InputError) as exc:
        log.debug("%s: read with astropy (%s)", label, exc)
        return None
    if found.wcs is None or any(arr.shape != data.shape for _, arr in maps):
        return None
    return ParsedImage(data, found.wcs, found.header, path, found.label, None, extensions=maps)


def _from_hdu(hdu: Any, path: str, label: str, hdul: fits.HDUList | None, *, owns_hdul: bool = False) -> ParsedImage:
    where = label if len(hdul or ()) <= 1 else f"{label}[{hdul.index_of(hdu) if hdul else 0}]"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)
        header = hdu.header
        try:
            raw = hdu.data
        except (OSError, ValueError, TypeError, EOFError) as exc:
            raise InputError(f"{where}: cannot read the image data ({exc})") from None
    data = as_float_2d(raw, where)
    wcs = celestial_wcs(header, where, hdul)
    if wcs.pixel_shape is not None and tuple(wcs.pixel_shape[::-1]) != data.shape:
        # NAXISn of a degenerate 3-D cube: keep the WCS but make its pixel shape the image's.
        wcs.pixel_shape = data.shape[::-1]
    return ParsedImage(data, wcs, header, path, where, hdul, owns_hdul)


def read_map(source: Any, shape: tuple[int, int], what: str, image_label: str) -> np.ndarray:
    """Read an exposure or background map (a path, HDU or array) and check it is on the image grid."""
    if isinstance(source, np.ndarray):
        arr, label = as_float_2d(source, f"<{what} array>"), f"<{what} array>"
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        label, content = (redact(path), read_url(path)) if is_url(path) else (path, None)
        try:
            arr = as_float_2d(read_simple(label, with_wcs=False, content=content).data, label)
        except (NotSimple, InputError) as exc:
            log.debug("%s: read with astropy (%s)", label, exc)
            with open_fits(label, content=content) as hdul:
                hdu = first_image_hdu(hdul, label)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", VerifyWarning)
                    arr = as_float_2d(hdu.data, label)
    elif isinstance(source, _IMAGE_HDU_TYPES):
        label = describe(source)
        arr = as_float_2d(source.data, label)
    else:
        raise TypeError(
            f"cannot use a {type(source).__name__} as the {what} map; accepted: a path to a FITS file, "
            "an image HDU or a 2-D numpy array on the image's pixel grid"
        )
    if arr.shape != tuple(shape):
        raise InputError(
            f"{label}: {what} map has shape {arr.shape} but the image {image_label} has shape "
            f"{tuple(shape)}; the map must be on the same pixel grid"
        )
    return arr
