"""Sky images (X-ray counts with exposure/background maps, optical plates) and cutouts around candidates."""

from __future__ import annotations

import copy
import dataclasses
import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import astropy.units as u
import numpy as np
from astropy.coordinates import BaseCoordinateFrame, SkyCoord
from astropy.io import fits
from astropy.nddata import overlap_slices
from astropy.wcs import WCS, Sip
from astropy.wcs.utils import proj_plane_pixel_scales, wcs_to_celestial_frame

from .._errors import InputError
from ._source import (
    BACKGROUND_EXTNAMES,
    EXPOSURE_EXTNAMES,
    ImageSource,
    ParsedImage,
    parse_image_source,
    read_map,
)
from ._geometry import lonlat_deg, separation_deg
from ._remote import redact
from ._xmm import find_xmm_maps

log = logging.getLogger(__name__)

_KINDS = ("xray", "optical")


class _HeaderField:
    """``SkyImage.header``: a fits.Header, or a function that makes it, called on first access.

    The fast FITS reader hands the header over as a function: building a
    :class:`~astropy.io.fits.Header` costs ~0.1 ms, as much as reading the rest of a small image,
    and most users of an image (the renderer) never look at it.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, obj: Any, objtype: type | None = None) -> fits.Header:
        if obj is None:
            raise AttributeError(self._name)  # so that the dataclass field has no default
        value = obj.__dict__[self._name]
        if not isinstance(value, fits.Header):
            value = obj.__dict__[self._name] = value()
        return value

    def __set__(self, obj: Any, value: fits.Header | Callable[[], fits.Header]) -> None:
        obj.__dict__[self._name] = value


class OutsideFootprintError(InputError):
    """A position that lies outside an image (the message names position, file and footprint)."""


@dataclass(frozen=True, eq=False)
class SkyImage:
    """A 2-D sky image with its celestial WCS and, for X-ray images, exposure and background maps.

    Build one with :func:`load_xray` or :func:`load_optical`; cut a field around a candidate with
    :func:`cutout`.

    Attributes
    ----------
    data : numpy.ndarray
        2-D float array, ``data[y, x]``: counts (X-ray) or pixel values (optical). For an
        uncompressed FITS file this is a read-only memory map in the file's byte order (no copy);
        integer images are converted exactly, 8- and 16-bit ones to float32, 32- and 64-bit ones to
        float64. NaN marks pixels without data.
    wcs : astropy.wcs.WCS
        The celestial part of the WCS (2 axes), including any distortion (DSS plate solution, SIP).
    exposure : numpy.ndarray or None
        Exposure map in seconds on the same pixel grid (X-ray), or None.
    background : numpy.ndarray or None
        Background map in counts per pixel on the same grid (X-ray), or None.
    header : astropy.io.fits.Header
        The header of the HDU the image was read from (not rewritten by :func:`cutout`: the
        ``wcs`` attribute is the authority on coordinates). For a file read by the fast reader it
        is built on first access; the constructor also takes a function that returns it.
    path : str
        The source file (or its URL), or ``''`` for an image built in memory.
    kind : str
        ``'xray'`` or ``'optical'``.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2)
    >>> w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.crval = [150.0, 2.0]
    >>> w.wcs.crpix = [16.5, 16.5]
    >>> w.wcs.cdelt = [-1 / 3600, 1 / 3600]
    >>> img = load_optical((np.zeros((32, 32)), w))
    >>> img.shape, round(img.pixel_scale_arcsec, 6)
    ((32, 32), 1.0)
    """

    data: np.ndarray
    wcs: WCS
    exposure: np.ndarray | None
    background: np.ndarray | None
    header: fits.Header = _HeaderField()  # type: ignore[assignment]
    path: str
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {self.kind!r}")
        if self.data.ndim != 2:
            raise ValueError(f"data must be 2-D, got shape {self.data.shape}")
        for name in ("exposure", "background"):
            arr = getattr(self, name)
            if arr is not None and arr.shape != self.data.shape:
                raise ValueError(f"{name} map shape {arr.shape} differs from the image shape {self.data.shape}")

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``, the shape of ``data``."""
        return (int(self.data.shape[0]), int(self.data.shape[1]))

    @property
    def pixel_scale_arcsec(self) -> float:
        """Mean pixel scale in arcsec (from :func:`astropy.wcs.utils.proj_plane_pixel_scales`)."""
        return float(np.mean(self._scales_deg) * 3600.0)

    @property
    def label(self) -> str:
        """The file name (a URL without credentials), or ``'<in-memory image>'``, for messages."""
        return redact(self.path) if self.path else "<in-memory image>"

    @property
    def center(self) -> SkyCoord:
        """The sky position of the image centre."""
        ny, nx = self.shape
        return self.wcs.pixel_to_world((nx - 1) / 2.0, (ny - 1) / 2.0)

    def footprint(self) -> SkyCoord:
        """The four corners of the image on the sky (outer pixel edges), as a SkyCoord of length 4."""
        ny, nx = self.shape
        x = np.array([-0.5, nx - 0.5, nx - 0.5, -0.5])
        y = np.array([-0.5, -0.5, ny - 0.5, ny - 0.5])
        return self.wcs.pixel_to_world(x, y)

    def footprint_text(self) -> str:
        """One-line description of the footprint: centre, size and corner RA/Dec ranges."""
        ny, nx = self.shape
        c = self.center.icrs
        scale = self.pixel_scale_arcsec / 60.0
        corners = self.footprint().icrs
        return (
            f"centre RA {c.ra.deg:.5f}, Dec {c.dec.deg:+.5f}, {nx}x{ny} pixels of {self.pixel_scale_arcsec:.3g}\" "
            f"({nx * scale:.3g}' x {ny * scale:.3g}'), "
            f"corners RA {corners.ra.deg.min():.4f}..{corners.ra.deg.max():.4f} "
            f"Dec {corners.dec.deg.min():+.4f}..{corners.dec.deg.max():+.4f}"
        )

    @functools.cached_property
    def _frame(self) -> BaseCoordinateFrame:
        return wcs_to_celestial_frame(self.wcs)

    @functools.cached_property
    def _scales_deg(self) -> np.ndarray:
        return np.asarray(proj_plane_pixel_scales(self.wcs), dtype=float)

    def world_to_pixel(self, position: SkyCoord) -> tuple[np.ndarray, np.ndarray]:
        """0-based pixel ``(x, y)`` of ``position`` (NaN where the projection has no solution).

        Equivalent to ``wcs.world_to_pixel(position)`` (distortions included), but fast for the
        many single positions of a cutout loop: see :mod:`hunt_clusters.sky._geometry`.
        """
        lon, _, x, y = self._project(position)
        return x.reshape(np.shape(lon)), y.reshape(np.shape(lon))

    def _project(self, position: SkyCoord) -> tuple[Any, Any, np.ndarray, np.ndarray]:
        """``(lon, lat, x, y)``: ``position`` in the image frame (deg) and its pixel, x/y flattened to 1-D."""
        lon, lat = lonlat_deg(position, self._frame)
        world = (lon, lat) if self.wcs.wcs.lng == 0 else (lat, lon)
        x, y = self.wcs.all_world2pix(np.atleast_1d(world[0]), np.atleast_1d(world[1]), 0)
        return lon, lat, x, y

    def _inside(self, position: SkyCoord) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(inside, x, y)``: the footprint test of :meth:`contains` with the pixel it found."""
        lon, lat, x, y = self._project(position)
        ny, nx = self.shape
        with np.errstate(invalid="ignore"):
            inside = np.isfinite(x) & np.isfinite(y) & (x >= -0.5) & (x < nx - 0.5) & (y >= -0.5) & (y < ny - 0.5)
        if np.any(inside):
            # the pixel must map back onto the position (rejects projections that fold over)
            wx, wy = self.wcs.all_pix2world(np.where(inside, x, 0.0), np.where(inside, y, 0.0), 0)
            blon, blat = (wx, wy) if self.wcs.wcs.lng == 0 else (wy, wx)
            sep = separation_deg(np.atleast_1d(lon), np.atleast_1d(lat), blon, blat)
            inside &= np.nan_to_num(sep, nan=np.inf) < max(float(np.max(self._scales_deg)), 1e-7)
        return inside.reshape(np.shape(lon)), x.reshape(np.shape(lon)), y.reshape(np.shape(lon))

    def contains(self, position: SkyCoord) -> np.ndarray | bool:
        """Whether ``position`` (scalar or array SkyCoord) falls on a pixel of the image.

        A position counts as inside when its pixel centre lies within the outer pixel edges and the
        pixel maps back to the same sky position (this rejects the far side of the sky, where some
        projections fold over).
        """
        inside = self._inside(position)[0]
        return bool(inside) if np.ndim(inside) == 0 else inside


def _with_maps(parsed: ParsedImage, exposure: Any, background: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Resolve the exposure and background maps: explicit arguments, extensions, sibling files."""
    shape = parsed.data.shape
    found: dict[str, np.ndarray | None] = {"exposure": None, "background": None}
    sibling_exp = sibling_bkg = None
    if parsed.path:
        sibling_exp, sibling_bkg = find_xmm_maps(parsed.path)
    for what, given, extnames, sibling in (
        ("exposure", exposure, EXPOSURE_EXTNAMES, sibling_exp),
        ("background", background, BACKGROUND_EXTNAMES, sibling_bkg),
    ):
        if given is not None:
            found[what] = read_map(given, shape, what, parsed.label)
            continue
        ext = parsed.extension(extnames)
        if ext is not None:
            found[what] = read_map(ext[1], shape, what, parsed.label)
            log.debug("%s: %s map from extension %s", parsed.label, what, ext[0])
        elif sibling is not None:
            found[what] = read_map(sibling, shape, what, parsed.label)
            log.debug("%s: %s map from %s", parsed.label, what, redact(str(sibling)))
    return found["exposure"], found["background"]


def load_xray(
    source: ImageSource | SkyImage,
    *,
    exposure: str | os.PathLike[str] | np.ndarray | fits.ImageHDU | None = None,
    background: str | os.PathLike[str] | np.ndarray | fits.ImageHDU | None = None,
) -> SkyImage:
    """Load an X-ray counts image with its exposure and background maps.

    The image is the first 2-D image HDU (GTI and other tables are ignored, and so is a header
    ``CONTENT`` that says "EVENT LIST"). Maps are found, in order of precedence:

    1. the ``exposure=`` / ``background=`` arguments;
    2. image extensions named ``EXPOSURE``/``EXPMAP`` and ``BACKGROUND``/``BKGMAP`` (mock survey);
    3. sibling files: XMM pipeline ``P*EXPMAP*.FTZ`` / ``P*BKGMAP*.FTZ`` matched by ObsID,
       instrument and band code, or SAS ``*expmap.fits`` beside ``*img.fits`` (beside a URL too:
       the same names in its folder, found with the fsspec file system's ``exists`` and ``glob``).

    Parameters
    ----------
    source : str, os.PathLike, HDU, HDUList, (array, WCS), NDData or SkyImage
        The counts image (see :data:`hunt_clusters.sky.ACCEPTED_FORMS`); a str with ``://`` is an
        fsspec URL (``https://``, ``s3://``, ``gs://``, ``file://``), read whole into memory.
    exposure, background : str, os.PathLike, numpy.ndarray or ImageHDU, optional
        Maps on the image's pixel grid that override any found automatically.

    Returns
    -------
    SkyImage
        With ``kind='xray'``; ``exposure``/``background`` None where no map was found.

    Raises
    ------
    TypeError
        If ``source`` is not one of the accepted forms.
    InputError
        For a missing or unreadable file, no 2-D image, a non-celestial WCS, or a map whose
        shape differs from the image.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2)
    >>> w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.crval = [210.2588, 2.8786]
    >>> w.wcs.crpix = [16.5, 16.5]
    >>> w.wcs.cdelt = [-4 / 3600, 4 / 3600]
    >>> img = load_xray((np.ones((32, 32)), w), exposure=np.full((32, 32), 1e4))
    >>> img.kind, float(img.exposure.max()), img.background is None
    ('xray', 10000.0, True)
    """
    if isinstance(source, SkyImage):
        shape = source.shape
        return dataclasses.replace(
            source,
            kind="xray",
            exposure=source.exposure if exposure is None else read_map(exposure, shape, "exposure", source.label),
            background=(
                source.background if background is None else read_map(background, shape, "background", source.label)
            ),
        )
    parsed = parse_image_source(source, skip_extnames=EXPOSURE_EXTNAMES + BACKGROUND_EXTNAMES)
    try:
        exp_map, bkg_map = _with_maps(parsed, exposure, background)
    finally:
        parsed.close()
    return SkyImage(parsed.data, parsed.wcs, exp_map, bkg_map, parsed.header, parsed.path, "xray")


def load_optical(source: ImageSource | SkyImage) -> SkyImage:
    """Load an optical image (DSS, SDSS, Legacy Survey...) with its celestial WCS.

    SkyView cutouts (CAR or TAN) and STScI DSS files with only the DSS plate solution
    (``PLTRAH``..., ``AMDX1``...) both work: astropy applies the full plate solution, which takes
    precedence over the approximate TAN that STScI writes beside it (they differ by up to ~0.7").

    Parameters
    ----------
    source : str, os.PathLike, HDU, HDUList, (array, WCS), NDData or SkyImage
        The image (see :data:`hunt_clusters.sky.ACCEPTED_FORMS`).

    Returns
    -------
    SkyImage
        With ``kind='optical'`` and no maps.

    Raises
    ------
    TypeError
        If ``source`` is not one of the accepted forms.
    InputError
        For a missing or unreadable file, no 2-D image or a non-celestial WCS.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> hdr = fits.Header({"CTYPE1": "RA---CAR", "CTYPE2": "DEC--CAR", "CRVAL1": 195.0, "CRVAL2": 0.0,
    ...                    "CRPIX1": 5.5, "CRPIX2": 5.5, "CDELT1": -0.002, "CDELT2": 0.002})
    >>> img = load_optical(fits.PrimaryHDU(np.zeros((10, 10)), hdr))
    >>> round(img.pixel_scale_arcsec, 3)
    7.2
    """
    if isinstance(source, SkyImage):
        return source if source.kind == "optical" else dataclasses.replace(source, kind="optical")
    parsed = parse_image_source(source)
    parsed.close()
    return SkyImage(parsed.data, parsed.wcs, None, None, parsed.header, parsed.path, "optical")


def _cutout_shape(size: Any, scales_deg: np.ndarray) -> tuple[int, int]:
    """``(ny, nx)`` in pixels from an angle, a pixel count or a pair of either (as for Cutout2D)."""
    sides = list(size) if isinstance(size, (tuple, list)) else [size]
    if isinstance(size, u.Quantity) and not size.isscalar:
        sides = list(size)
    if len(sides) == 1:
        sides = sides * 2
    if len(sides) != 2:
        raise InputError(f"cutout size {size!r} must be one value or (ny, nx)")
    shape = []
    for axis, side in enumerate(sides):
        if isinstance(side, u.Quantity):
            if side.unit == u.pix or side.unit == u.dimensionless_unscaled:
                n = float(side.value)
            elif side.unit.physical_type == "angle":
                # axis 0 is y (the WCS's second axis), axis 1 is x
                n = float(side.to_value(u.deg)) / float(scales_deg[1 - axis])
            else:
                raise InputError(f"cutout size {size} must be an angle (e.g. 3 * u.arcmin) or a number of pixels")
        elif isinstance(side, (int, float, np.integer, np.floating)) and not isinstance(side, bool):
            n = float(side)
        else:
            raise InputError(f"cutout size {size!r} must be a positive angle Quantity or number of pixels")
        if not np.isfinite(n) or round(n) < 1:
            raise InputError(f"cutout size {size!r} must be positive (at least one pixel)")
        shape.append(int(round(n)))
    return shape[0], shape[1]


def shift_wcs(wcs: WCS, origin: tuple[float, float]) -> WCS:
    """A copy of ``wcs`` for the sub-array whose pixel (0, 0) is pixel ``origin`` = (x, y) of ``wcs``.

    Moves ``CRPIX`` and, where there is one, the SIP distortion's own reference pixel, so that a
    distorted image keeps its distortion in the sub-array (what `cutout` and the renderer's
    tensors both need).

    Examples
    --------
    >>> w = WCS(naxis=2)
    >>> w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.crpix = [50.0, 60.0]
    >>> shift_wcs(w, (10, 20)).wcs.crpix.tolist()
    [40.0, 40.0]
    """
    out = copy.deepcopy(wcs)
    shift = np.array(origin, dtype=float)
    out.wcs.crpix = out.wcs.crpix - shift
    if out.sip is not None:
        out.sip = Sip(out.sip.a, out.sip.b, out.sip.ap, out.sip.bp, out.sip.crpix - shift)
    return out


def cutout(image: SkyImage, position: SkyCoord, size: Any, *, fill_value: float = np.nan) -> SkyImage:
    """Cut a field of view around a sky position out of an image and its maps.

    Follows :class:`astropy.nddata.Cutout2D` in ``mode='partial'`` (same pixel rounding, through
    :func:`astropy.nddata.overlap_slices`, applied once to the image and its maps): a field that runs
    over the edge of the image keeps its full size, with ``fill_value`` (NaN) in ``data`` and ``background`` and 0 s
    in ``exposure`` where the image has no pixels. Only a position that is itself outside the image
    is an error.

    Parameters
    ----------
    image : SkyImage
        From :func:`load_xray` or :func:`load_optical`.
    position : astropy.coordinates.SkyCoord
        Centre of the cutout (scalar).
    size : astropy.units.Quantity or int or tuple
        Angular size (``3 * u.arcmin`` or ``(ny, nx)`` quantities) or pixels, as for Cutout2D.
    fill_value : float, optional
        Value of ``data`` and ``background`` outside the image (default NaN).

    Returns
    -------
    SkyImage
        New native-endian float arrays (safe to modify) and the cutout's WCS; same ``kind``,
        ``path`` and ``header`` as ``image``.

    Raises
    ------
    OutsideFootprintError
        If ``position`` is outside the image; the message names the position, the file and the
        image's footprint.

    Examples
    --------
    >>> import numpy as np, astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2)
    >>> w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.crval = [150.0, 2.0]
    >>> w.wcs.crpix = [16.5, 16.5]
    >>> w.wcs.cdelt = [-1 / 3600, 1 / 3600]
    >>> img = load_optical((np.arange(1024.0).reshape(32, 32), w))
    >>> cut = cutout(img, SkyCoord(150.0, 2.0, unit="deg"), 10 * u.arcsec)
    >>> cut.shape
    (10, 10)
    """
    if not isinstance(image, SkyImage):
        raise TypeError(f"cutout() needs a SkyImage (from load_xray/load_optical), got {type(image).__name__}")
    if not isinstance(position, SkyCoord) or not position.isscalar:
        raise TypeError("cutout() needs a scalar astropy.coordinates.SkyCoord position")
    shape = _cutout_shape(size, image._scales_deg)
    inside, x, y = image._inside(position)
    if not inside:
        p = position.icrs
        raise OutsideFootprintError(
            f"position RA {p.ra.deg:.5f}, Dec {p.dec.deg:+.5f} is outside the image {image.label} "
            f"({image.footprint_text()})"
        )
    # the same pixel rounding as astropy.nddata.Cutout2D (overlap_slices), done once for all arrays
    large, small = overlap_slices(image.shape, shape, (float(y), float(x)), mode="partial")

    def _cut(arr: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(shape, fill, dtype=arr.dtype.newbyteorder("="))
        out[small] = arr[large]
        return out

    origin = (large[1].start - small[1].start, large[0].start - small[0].start)
    wcs = shift_wcs(image.wcs, origin)
    wcs.array_shape = shape
    return SkyImage(
        _cut(image.data, fill_value),
        wcs,
        None if image.exposure is None else _cut(image.exposure, 0.0),
        None if image.background is None else _cut(image.background, fill_value),
        image.header,
        image.path,
        image.kind,
    )

