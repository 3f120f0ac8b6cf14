"""Optional download of DSS cutouts from NASA SkyView (``astroquery.skyview``), cached on disk."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import astropy.units as u
from astropy.coordinates import SkyCoord

from .._errors import HuntClustersError, InputError

log = logging.getLogger(__name__)

#: SkyView names of the Digitized Sky Survey images.
DSS_SURVEYS: tuple[str, ...] = ("DSS", "DSS1 Blue", "DSS1 Red", "DSS2 Red", "DSS2 Blue", "DSS2 IR")

#: Native pixel scale (arcsec) used when ``pixels`` is not given: DSS2 plates are scanned at 1.0".
_NATIVE_SCALE_ARCSEC = {"DSS": 1.7, "DSS1 Blue": 1.7, "DSS1 Red": 1.7}


def _size_arcsec(size: Any) -> float:
    if not isinstance(size, u.Quantity) or size.unit.physical_type != "angle" or not size.isscalar:
        raise InputError(f"size {size!r} must be a scalar angle Quantity, e.g. 5 * u.arcmin")
    value = float(size.to_value(u.arcsec))
    if not value > 0:
        raise InputError(f"size {size} must be positive")
    return value


def _n_pixels(size_arcsec: float, survey: str, pixels: int | None) -> int:
    if pixels is None:
        return max(1, round(size_arcsec / _NATIVE_SCALE_ARCSEC.get(survey, 1.0)))
    if isinstance(pixels, bool) or not isinstance(pixels, int) or pixels < 1:
        raise InputError(f"pixels = {pixels!r} must be a positive integer")
    return pixels


def dss_cache_path(
    position: SkyCoord,
    size: u.Quantity,
    *,
    cache_dir: str | os.PathLike[str],
    survey: str = "DSS2 Red",
    pixels: int | None = None,
) -> Path:
    """The file :func:`fetch_dss` writes for these arguments (position rounded to 0.036").

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> dss_cache_path(SkyCoord(210.2588, 2.8786, unit="deg"), 5 * u.arcmin, cache_dir="cache").name
    'dss2_red_210.25880+02.87860_300.0as_300px.fits'
    """
    if not isinstance(position, SkyCoord) or not position.isscalar:
        raise TypeError("position must be a scalar astropy.coordinates.SkyCoord")
    size_as = _size_arcsec(size)
    npix = _n_pixels(size_as, survey, pixels)
    c = position.icrs
    slug = re.sub(r"[^a-z0-9]+", "_", survey.lower()).strip("_")
    return Path(cache_dir) / f"{slug}_{c.ra.deg:09.5f}{c.dec.deg:+09.5f}_{size_as:.1f}as_{npix}px.fits"


def _skyview() -> Any:
    try:
        from astroquery.skyview import SkyView
    except ImportError:
        raise HuntClustersError(
            "fetching DSS images needs astroquery, an optional dependency: pip install 'hunt-clusters[fetch]'"
        ) from None
    return SkyView


def fetch_dss(
    position: SkyCoord,
    size: u.Quantity,
    *,
    cache_dir: str | os.PathLike[str],
    survey: str = "DSS2 Red",
    pixels: int | None = None,
    dry_run: bool = False,
) -> Path:
    """Download a DSS cutout from NASA SkyView, or return it from the on-disk cache.

    The cache file name holds the position, size, survey and pixel count
    (:func:`dss_cache_path`), so a second call with the same arguments touches no network. Files
    are written atomically (a temporary file renamed into place). Needs the ``fetch`` extra
    (astroquery).

    Parameters
    ----------
    position : astropy.coordinates.SkyCoord
        Centre of the cutout.
    size : astropy.units.Quantity
        Width and height of the square cutout (angle).
    cache_dir : str or os.PathLike
        Folder of the cache (created when needed).
    survey : str, optional
        SkyView survey name, one of :data:`DSS_SURVEYS` (default ``"DSS2 Red"``).
    pixels : int, optional
        Pixels per side; default the plate's native scale (1.0" DSS2, 1.7" DSS1).
    dry_run : bool, optional
        Log the request that would be sent and return the cache path without downloading.

    Returns
    -------
    pathlib.Path
        The FITS file (TAN projection, load it with :func:`hunt_clusters.sky.load_optical`).

    Raises
    ------
    InputError
        For an unknown survey or a bad size.
    HuntClustersError
        If astroquery is missing, or SkyView cannot be reached or returns no image.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> path = fetch_dss(SkyCoord(194.95, 27.98, unit="deg"), 2 * u.arcmin,
    ...                  cache_dir="dss_cache", dry_run=True)
    >>> path.name
    'dss2_red_194.95000+27.98000_120.0as_120px.fits'
    """
    if survey not in DSS_SURVEYS:
        raise InputError(f"survey {survey!r} is not a DSS survey; expected one of {', '.join(DSS_SURVEYS)}")
    target = dss_cache_path(position, size, cache_dir=cache_dir, survey=survey, pixels=pixels)
    if target.is_file() and target.stat().st_size > 0:
        log.debug("DSS cache hit: %s", target)
        return target
    npix = _n_pixels(_size_arcsec(size), survey, pixels)
    side = size.to(u.deg)
    request = dict(position=position.icrs, survey=[survey], pixels=npix, width=side, height=side, projection="Tan")
    if dry_run:
        log.info("would ask SkyView for %s and write %s", request, target)
        return target
    skyview = _skyview()
    log.info("fetching %s %s from SkyView -> %s", survey, position.icrs.to_string("decimal"), target)
    try:
        images = skyview.get_images(
            position=position.icrs,
            survey=[survey],
            pixels=npix,
            width=side,
            height=side,
            projection="Tan",
            cache=False,
        )
    except Exception as exc:  # noqa: BLE001 - requests/astroquery raise many types
        raise HuntClustersError(
            f"SkyView request for {survey} at {position.icrs.to_string('decimal')} failed "
            f"({type(exc).__name__}: {exc}); "
            f"place the file at {target} to work offline"
        ) from None
    if not images:
        raise HuntClustersError(f"SkyView returned no {survey} image at {position.icrs.to_string('decimal')}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp_", suffix=".fits")
    os.close(fd)
    try:
        images[0].writeto(tmp, overwrite=True)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
