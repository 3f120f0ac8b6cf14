"""The volunteer's picture: a stretched optical image with X-ray contours placed through both WCSs."""

from __future__ import annotations

import io
import logging
import os
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import aggdraw
import contourpy
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from .._errors import InputError
from ..sky import OutsideFootprintError, SkyImage
from ._config import MAX_SUBJECT_BYTES, RenderConfig
from ._inputs import load_image

log = logging.getLogger(__name__)

_LUT_SIZE = 4096


class EmptyXrayError(InputError):
    """The X-ray cutout holds no counts (or only NaNs)."""


class SubjectTooLargeError(InputError):
    """The encoded subject would exceed Zooniverse's 1 MiB limit."""


class NoContoursError(InputError):
    """The subject would be drawn without any X-ray contour (``--require-contours``)."""


#: Fewer X-ray pixels than this across the field of view make blocky, jagged contours: the
#: renderer says so (6' over a 45" ROSAT pixel is 8 pixels).
MIN_XRAY_PIXELS_ACROSS: float = 16.0


# --------------------------------------------------------------------------- memory
#: Freed image blocks Pillow keeps for reuse while rendering (see `use_pillow_block_pool`).
PILLOW_BLOCKS = 16


@lru_cache(maxsize=1)
def use_pillow_block_pool() -> bool:
    """Let Pillow keep freed image blocks for the next subject, unless the user set ``PILLOW_BLOCKS_MAX``.

    Pillow returns every freed image block to the operating system by default
    (`Pillow's block allocator <https://pillow.readthedocs.io/en/stable/reference/block_allocator.html>`_),
    so each of the half-dozen images made per subject comes back as fresh pages to fault in: about
    2 ms of a 10 ms subject. Keeping ``PILLOW_BLOCKS`` freed blocks (about 1 MiB each at 512 px) is
    what ``PILLOW_BLOCKS_MAX`` does; a value the user set in the environment is left alone.
    Returns whether the pool was set here.
    """
    if os.environ.get("PILLOW_BLOCKS_MAX"):
        return False
    if Image.core.get_blocks_max() < PILLOW_BLOCKS:
        Image.core.set_blocks_max(PILLOW_BLOCKS)
    return True


# --------------------------------------------------------------------------- optical
@dataclass(frozen=True, eq=False)
class OpticalCrop:
    """The square optical region shown: ``data[y0:y0+n, x0:x0+n]`` (NaN-padded beyond the edges)."""

    data: np.ndarray
    x0: int
    y0: int
    n: int


def _celestial_core(wcs: Any) -> Any:
    """The `~astropy.wcs.Wcsprm` doing all of ``wcs.pixel_to_world_values`` (2-D, longitude first,
    no SIP or lookup-table distortion), or None. Its own calls skip astropy's per-call overhead."""
    if getattr(wcs, "has_distortion", True):
        return None
    prm = getattr(wcs, "wcs", None)
    if prm is None or prm.naxis != 2 or prm.lng != 0 or prm.lat != 1:
        return None
    return prm


def _world_to_pixel(wcs: Any, ra: Any, dec: Any) -> tuple[np.ndarray, np.ndarray]:
    """``wcs.world_to_pixel_values(ra, dec)`` (0-based), by wcslib directly when that is all it does.

    astropy's high-level call costs ~50 us of checks whatever the number of points; a renderer
    makes several a subject.
    """
    prm = _celestial_core(wcs)
    if prm is not None:
        world = np.column_stack([np.atleast_1d(np.asarray(ra, dtype=float)),
                                 np.atleast_1d(np.asarray(dec, dtype=float))])
        try:
            with np.errstate(all="ignore"):
                pix = prm.s2p(world, 0)["pixcrd"]
            return pix[:, 0], pix[:, 1]
        except Exception:  # noqa: BLE001 - a point outside the projection: astropy words it below
            pass
    x, y = wcs.world_to_pixel_values(ra, dec)
    return np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))


def _center_pixel(m: SkyImage, ra: float, dec: float, what: str) -> tuple[float, float]:
    x, y = (v[0] for v in _world_to_pixel(m.wcs, ra, dec))
    x, y = float(x), float(y)
    ny, nx = m.data.shape
    if not (np.isfinite(x) and np.isfinite(y)) or not (-0.5 <= x <= nx - 0.5 and -0.5 <= y <= ny - 0.5):
        raise OutsideFootprintError(
            f"{m.label}: the candidate at RA {ra:.5f}, Dec {dec:+.5f} lies outside this {what} image "
            f"(pixel x={x:.1f}, y={y:.1f}; the image is {nx}x{ny}); give an image that covers it"
        )
    return x, y


def _crop(arr: np.ndarray, x0: int, y0: int, nx: int, ny: int, fill: float = np.nan) -> np.ndarray:
    """``arr[y0:y0+ny, x0:x0+nx]``, padded with ``fill`` where it leaves the array."""
    h, w = arr.shape
    if x0 >= 0 and y0 >= 0 and x0 + nx <= w and y0 + ny <= h:
        return arr[y0:y0 + ny, x0:x0 + nx]
    out = np.full((ny, nx), fill, dtype=np.float32)
    xa, ya = max(x0, 0), max(y0, 0)
    xb, yb = min(x0 + nx, w), min(y0 + ny, h)
    if xb > xa and yb > ya:
        out[ya - y0:yb - y0, xa - x0:xb - x0] = arr[ya:yb, xa:xb]
    return out


def optical_crop(optical: SkyImage, ra: float, dec: float, fov_arcmin: float) -> OpticalCrop:
    """Cut the square of side ``fov_arcmin`` centred on (ra, dec) in the optical pixel grid (float32)."""
    cx, cy = _center_pixel(optical, ra, dec, "optical")
    n = max(2, int(round(fov_arcmin * 60.0 / optical.pixel_scale_arcsec)))
    x0 = int(round(cx - (n - 1) / 2.0))
    y0 = int(round(cy - (n - 1) / 2.0))
    return OpticalCrop(np.asarray(_crop(optical.data, x0, y0, n, n), dtype=np.float32), x0, y0, n)


@lru_cache(maxsize=16)
def _stretch_lut(stretch: str, a: float) -> np.ndarray:
    # imported here: astropy.visualization pulls in matplotlib (~0.1 s of the command's start-up)
    from astropy.visualization import AsinhStretch, LinearStretch, LogStretch, SqrtStretch

    if stretch == "asinh":
        s: Any = AsinhStretch(a=a)
    elif stretch == "log":
        s = LogStretch()
    elif stretch == "sqrt":
        s = SqrtStretch()
    else:
        s = LinearStretch()
    return np.asarray(s(np.linspace(0.0, 1.0, _LUT_SIZE), clip=True), dtype=np.float32)


#: Optical values the display interval is computed from (evenly spaced over the crop).
_LIMIT_SAMPLES = 10000


def display_limits(values: np.ndarray, config: RenderConfig) -> tuple[float, float]:
    """Display limits of the optical values (finite ones) from the configured astropy interval.

    The interval sees about `_LIMIT_SAMPLES` evenly spaced values of the crop, NaNs left out.
    """
    flat = values.ravel()
    sample = flat[:: max(1, flat.size // _LIMIT_SAMPLES)]
    good = np.isfinite(sample)
    if not good.all():
        sample = sample[good]
        if sample.size == 0:  # few finite values, none of them on the sampling stride
            finite = flat[np.isfinite(flat)]
            if finite.size == 0:
                raise InputError("no finite optical pixels around the candidate (all NaN)")
            sample = finite[:: max(1, finite.size // _LIMIT_SAMPLES)]
    from astropy.visualization import PercentileInterval, ZScaleInterval

    if config.interval == "sky":
        return _sky_limits(sample, config)
    if config.interval == "zscale":
        vmin, vmax = ZScaleInterval().get_limits(sample)
    else:
        vmin, vmax = PercentileInterval(config.percentile).get_limits(sample)
    vmin, vmax = float(vmin), float(vmax)
    if not vmax > vmin:
        vmax = vmin + 1.0
    return vmin, vmax


def _sky_limits(sample: np.ndarray, config: RenderConfig) -> tuple[float, float]:
    """Limits that show the sky (the median) at grey ``config.sky_grey`` after the stretch and the
    ``config.percentile`` percentile at white.

    With ``t`` the stretch's inverse of ``sky_grey``, ``(sky - vmin) / (vmax - vmin) = t`` gives
    ``vmin = (sky - t vmax) / (1 - t)``. A field with no bright end (the percentile within ten
    noise sigmas of the sky) gets ``vmax`` ten sigmas above the sky, so that noise is not blown up.

    Examples
    --------
    >>> v = np.random.default_rng(0).normal(1000.0, 10.0, 10000)
    >>> cfg = RenderConfig(stretch="linear", sky_grey=0.2)
    >>> vmin, vmax = _sky_limits(v, cfg)
    >>> round(float((np.median(v) - vmin) / (vmax - vmin)), 3)
    0.2
    """
    sky = float(np.median(sample))
    sigma = sky - float(np.percentile(sample, 15.87))
    vmax = float(np.percentile(sample, config.percentile))
    if not sigma > 0:
        sigma = max(abs(sky), 1.0) * 1e-3
    vmax = max(vmax, sky + 10.0 * sigma)
    lut = _stretch_lut(config.stretch, config.stretch_a)
    t = float(np.searchsorted(lut, config.sky_grey)) / (_LUT_SIZE - 1)
    t = min(t, 0.9)
    vmin = (sky - t * vmax) / (1.0 - t)
    return vmin, vmax


@lru_cache(maxsize=16)
def _stretch_lut8(stretch: str, a: float) -> np.ndarray:
    return (_stretch_lut(stretch, a) * 255.0 + 0.5).astype(np.uint8)


def _lut_index(values: np.ndarray, config: RenderConfig,
               limits: tuple[float, float] | None) -> np.ndarray:
    """Lookup-table positions of ``values`` between the display limits (at most the last; NaN -> INT_MIN).

    Use with ``np.take(lut, index, mode="clip")``: values below the lower limit and NaN take entry
    0, values above the upper one the last.
    """
    vmin, vmax = limits if limits is not None else display_limits(values, config)
    idx = np.subtract(values, vmin, dtype=np.float32)
    idx *= np.float32((_LUT_SIZE - 1) / (vmax - vmin))
    np.minimum(idx, _LUT_SIZE - 1, out=idx)  # no int32 overflow above; NaN stays NaN
    with np.errstate(invalid="ignore"):  # NaN and -inf become INT_MIN, which the clip takes to entry 0
        return idx.astype(np.int32)


def stretch_unit(values: np.ndarray, config: RenderConfig,
                 limits: tuple[float, float] | None = None) -> np.ndarray:
    """Map optical values to [0, 1] by the interval and stretch of ``config`` (NaN -> 0).

    The interval (`astropy.visualization.PercentileInterval` or ``ZScaleInterval``) gives the
    limits; the stretch (``AsinhStretch`` ...) is applied through a 4096-entry lookup table.
    """
    return np.take(_stretch_lut(config.stretch, config.stretch_a), _lut_index(values, config, limits), mode="clip")


def stretch_uint8(values: np.ndarray, config: RenderConfig,
                  limits: tuple[float, float] | None = None) -> np.ndarray:
    """`stretch_unit` scaled to 0-255 as uint8 (the display image)."""
    return np.take(_stretch_lut8(config.stretch, config.stretch_a), _lut_index(values, config, limits), mode="clip")


# --------------------------------------------------------------------------- X-ray
@dataclass(frozen=True, eq=False)
class XraySignal:
    """The smoothed, background-subtracted, exposure-corrected X-ray map around a candidate.

    ``net[y, x]`` covers X-ray pixels ``x0 ... x0 + nx - 1`` and ``y0 ... y0 + ny - 1`` (masked where
    the exposure is too low or the counts are NaN); ``(cx, cy)`` is the candidate's X-ray pixel. Units: counts/s/pixel with an exposure map,
    counts/pixel without. ``noise`` is the 1-sigma noise of the smoothed background in those units.
    """

    net: np.ma.MaskedArray
    x0: int
    y0: int
    noise: float
    background: float
    sigma_pix: float
    counts: float
    cx: float
    cy: float
    #: the noise the contour levels use: ``noise`` (the Poisson model; the tensors' unit) or the
    #: scatter measured on the map where that is larger, and the measured one alone for a map that
    #: does not hold counts (an intensity or rate map, where the Poisson model does not apply)
    level_noise: float = 0.0
    #: background counts in one smoothing beam (``4 pi s^2`` pixels); 0 for a map not of counts
    beam_counts: float = 0.0


def _smooth(stack: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing (reflecting edges, 3 sigma) of each map of a ``(k, ny, nx)`` stack, in one call."""
    return ndimage.gaussian_filter(stack, sigma, mode="reflect", truncate=3.0, axes=(1, 2))


#: Values a median is taken from (evenly spaced over the map; the maps are smooth, so exact enough).
_MEDIAN_SAMPLES = 4096


def _sample(a: np.ndarray) -> np.ndarray:
    """At most ~`_MEDIAN_SAMPLES` evenly spaced values of ``a`` (a view)."""
    return a.ravel()[:: max(1, a.size // _MEDIAN_SAMPLES)]


def _median(sample: np.ndarray) -> float:
    """The median of ``sample`` (0 for none)."""
    return float(np.median(sample)) if sample.size else 0.0


def xray_signal(xray: SkyImage, ra: float, dec: float, radius_arcsec: float,
                config: RenderConfig) -> XraySignal:
    """Smooth and correct the X-ray map in a box of half-side ``radius_arcsec`` around (ra, dec).

    With counts ``C``, exposure ``E`` and background ``B`` maps and Gaussian smoothing ``S``, the
    signal is ``S(C - B) / S(E)`` counts/s/pixel (``S(C) / S(E) - median`` without a background
    map; counts/pixel without an exposure map), masked where ``S(E)`` is below 10% of its maximum.
    Smoothing is linear, so this equals ``S(C) / S(E) - S(B) / S(E)`` with one map fewer to smooth.

    The noise model: Gaussian smoothing with sigma ``s`` pixels averages the Poisson background of
    ``B`` counts/pixel over an effective area ``4 pi s^2`` pixels, so the smoothed background has
    ``sigma = sqrt(B / (4 pi s^2)) / E`` (``E`` the median exposure, 1 without an exposure map;
    ``B`` at least one count per kernel area so that the noise is never zero).

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> from hunt_clusters.sky import load_xray
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.cdelt = [-2.5 / 3600, 2.5 / 3600]; w.wcs.crval = [150, 2]; w.wcs.crpix = [50.5, 50.5]
    >>> sig = xray_signal(load_xray((np.full((100, 100), 4.0), w)), 150, 2, 60.0,
    ...                   RenderConfig(smooth_arcsec=10.0))
    >>> round(sig.background, 3), round(sig.noise, 4)   # sqrt(4 / (4 pi 4^2))
    (4.0, 0.141)
    """
    cx, cy = _center_pixel(xray, ra, dec, "X-ray")
    scale = xray.pixel_scale_arcsec
    s = max(config.smooth_arcsec / scale, 1.0)
    half = int(np.ceil(radius_arcsec / scale + 3.0 * s)) + 1
    ny_full, nx_full = xray.data.shape
    x0, y0 = max(int(round(cx)) - half, 0), max(int(round(cy)) - half, 0)
    x1, y1 = min(int(round(cx)) + half + 1, nx_full), min(int(round(cy)) + half + 1, ny_full)
    c = xray.data[y0:y1, x0:x1]
    finite: np.ndarray | None = None  # None: every count is finite (always so for integer maps)
    if c.dtype.kind == "f":
        ok = np.isfinite(c)
        if not ok.all():
            if not ok.any():
                raise EmptyXrayError(f"{xray.label}: the X-ray cutout around RA {ra:.5f}, Dec {dec:+.5f} is all NaN")
            finite = ok
    has_exposure = xray.exposure is not None
    # maps[0]: counts (minus background); maps[1]: the exposure, or the finite-count mask without a map
    maps = np.empty((1 + (has_exposure or finite is not None),) + c.shape, dtype=np.float32)
    counts = maps[0]
    counts[...] = c if finite is None else np.where(finite, c, 0.0)
    total = float(counts.sum())
    if total <= 0:
        raise EmptyXrayError(
            f"{xray.label}: the X-ray cutout around RA {ra:.5f}, Dec {dec:+.5f} holds no counts; "
            "the candidate needs X-ray counts to draw contours"
        )
    e = None
    if has_exposure:
        e = maps[1]
        e[...] = xray.exposure[y0:y1, x0:x1]
        good = e > 0  # False for NaN too
        if finite is not None:
            good &= finite
        if not good.any():
            raise EmptyXrayError(f"{xray.label}: zero exposure around RA {ra:.5f}, Dec {dec:+.5f}")
        if not good.all():
            e[~good] = 0.0
        e_typ = _median(_sample(e)[_sample(good)])
    elif finite is not None:
        e = maps[1]
        e[...] = finite
        e_typ = 1.0  # a NaN mask only: the units stay counts/pixel
    else:
        e_typ = 1.0
    b_counts = None
    bkg_rate = None
    if xray.background is not None:
        b = np.asarray(xray.background[y0:y1, x0:x1], dtype=np.float32)
        if not np.isfinite(b).all():
            b = np.where(np.isfinite(b), b, 0.0)
        b_sample = _sample(b)
        if e is not None:
            e_sample = _sample(e)
            exposed = e_sample > 0
            b_counts = _median(b_sample[exposed])
            bkg_rate = _median(b_sample[exposed] / e_sample[exposed]) if has_exposure else b_counts
        else:
            b_counts = bkg_rate = _median(b_sample)
        counts -= b

    sm = _smooth(maps, s)
    if e is not None:
        esm = sm[1]
        valid = esm >= 0.1 * float(esm.max())
        esm[~valid] = 1.0
        net = np.divide(sm[0], esm, out=sm[0])
        mask: Any = ~valid
    else:
        valid = None
        net = sm[0]
        mask = np.ma.nomask
    if bkg_rate is not None:
        bkg_level = bkg_rate
    else:
        bkg_level = _median(_sample(net) if valid is None else _sample(net)[_sample(valid)])
        net -= bkg_level
        b_counts = bkg_level * e_typ
    area = 4.0 * np.pi * s * s
    b_counts = max(b_counts, 1.0 / area)
    noise = float(np.sqrt(b_counts / area) / e_typ)
    if valid is not None:
        net[mask] = np.nan  # contourpy reads NaN as masked
    # the scatter of the map itself, from the low side of its distribution (sources only add to the
    # high side): median minus the 15.9th percentile is one sigma for Gaussian noise
    sample = _sample(net)
    sample = sample[np.isfinite(sample)]
    measured = float(np.median(sample) - np.percentile(sample, 15.87)) if sample.size >= 16 else 0.0
    is_counts = _holds_counts(c)
    level_noise = max(noise, measured) if is_counts or not measured > 0 else measured
    return XraySignal(np.ma.MaskedArray(net, mask=mask), x0, y0, noise, bkg_level, s, total, cx, cy,
                      level_noise, b_counts * area if is_counts else 0.0)


def _holds_counts(c: np.ndarray) -> bool:
    """Whether an X-ray map holds photon counts (whole numbers), not rates or intensities."""
    if c.dtype.kind in "iu":
        return True
    sample = _sample(c)
    sample = sample[np.isfinite(sample)]
    return bool(sample.size) and bool(np.all(sample == np.round(sample)))


@lru_cache(maxsize=8)
def _edge_noise_factor(ny: int, nx: int, sigma: float) -> np.ndarray:
    """Noise of white noise smoothed as `_smooth` does it (reflecting edges), relative to the
    middle of the map: 1 inside, up to 2 in the corners (read-only)."""
    def axis(n: int) -> np.ndarray:
        k = ndimage.gaussian_filter1d(np.eye(n), sigma, axis=0, mode="reflect", truncate=3.0)
        v = np.sqrt((k * k).sum(axis=1))
        return v / v[n // 2]

    out = np.outer(axis(ny), axis(nx))
    out.flags.writeable = False
    return out


#: Chance that noise alone reaches the seed level anywhere in a field (see `seed_sigma`).
SEED_FALSE_ALARM = 0.05


def seed_sigma(n_pixels: float, sigma_pix: float, beam_counts: float, min_sigma: float,
               false_alarm: float = SEED_FALSE_ALARM) -> float:
    """The significance (in noise sigmas) an island of emission must reach to be drawn.

    A field of ``n_pixels`` smoothed by a Gaussian of ``sigma_pix`` pixels holds ``R = n_pixels /
    FWHM^2`` resolution elements; noise alone reaches ``u`` sigmas somewhere in it with probability
    about ``R (4 ln 2) (2 pi)^-3/2 u exp(-u^2/2)`` (the expected Euler characteristic of a smooth
    Gaussian random field, Worsley et al. 1996, Hum. Brain Mapp. 4, 58). ``u`` is set so that this
    is ``false_alarm``; with ``beam_counts`` background counts per beam (a count map), the same tail
    probability is taken from the Poisson distribution, whose tail is heavier at low counts. Never
    below ``min_sigma``.

    Examples
    --------
    >>> round(seed_sigma(144 * 144, 3.2, 0.0, 3.0), 2)        # a 6' XMM field, Gaussian noise
    4.14
    >>> round(seed_sigma(144 * 144, 3.2, 2.6, 3.0), 2)        # 2.6 background counts per beam
    5.24
    """
    from scipy.special import ndtr, pdtrik

    fwhm = 2.0 * np.sqrt(2.0 * np.log(2.0)) * sigma_pix
    resels = max(n_pixels / (fwhm * fwhm), 1.0)
    coef = resels * 4.0 * np.log(2.0) / (2.0 * np.pi) ** 1.5
    lo, hi = 1.0, 12.0  # the expected count falls with u beyond 1: bisect
    for _ in range(40):
        u = 0.5 * (lo + hi)
        lo, hi = (u, hi) if coef * u * np.exp(-0.5 * u * u) > false_alarm else (lo, u)
    u = 0.5 * (lo + hi)
    if beam_counts > 0:
        tail = float(ndtr(-u))
        k = float(pdtrik(1.0 - tail, beam_counts))  # counts with P(N > k) = tail
        if np.isfinite(k):
            u = max(u, (k - beam_counts) / np.sqrt(beam_counts))
    return float(max(u, min_sigma))


def contour_levels(noise: float, peak: float, n_levels: int, min_sigma: float) -> np.ndarray:
    """Log-spaced contour levels from just above the background noise to the peak.

    ``L_k = L_0 * (peak / L_0) ** (k / n)`` for ``k = 0 .. n-1`` with ``L_0 = min_sigma * noise``:
    the ``n`` levels cut ``[L_0, peak]`` into ``n`` equal steps in log, the highest one step below the
    peak. No levels when the peak is not above ``L_0``.

    Examples
    --------
    >>> contour_levels(noise=1.0, peak=3000.0, n_levels=3, min_sigma=3.0)
    array([  3.,  30., 300.])
    >>> contour_levels(noise=1.0, peak=2.0, n_levels=3, min_sigma=3.0).size
    0
    """
    low = min_sigma * noise
    if not (peak > low > 0):
        return np.empty(0)
    return low * (peak / low) ** (np.arange(n_levels) / n_levels)


# --------------------------------------------------------------------------- contours
@dataclass(frozen=True, eq=False)
class ContourSet:
    """Contours in optical pixel coordinates (0-based ``x, y`` of the optical FITS array).

    ``lines[k]`` holds the polylines of ``levels[k]`` (outermost first), each an ``(m, 2)`` array.
    """

    levels: np.ndarray
    lines: tuple[tuple[np.ndarray, ...], ...]
    noise: float
    peak: float


def xray_to_optical_pixels(points: np.ndarray, xray_wcs: Any, optical_wcs: Any) -> np.ndarray:
    """Map ``(m, 2)`` X-ray pixel positions to optical pixel positions through world coordinates.

    All vertices go through `astropy.wcs.WCS.pixel_to_world_values` and
    `~astropy.wcs.WCS.world_to_pixel_values` in one vectorised call each.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> def tan(scale):
    ...     w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]; w.wcs.crval = [150, 2]
    ...     w.wcs.cdelt = [-scale / 3600, scale / 3600]; w.wcs.crpix = [1, 1]; return w
    >>> xray_to_optical_pixels(np.array([[0.0, 0.0], [4.0, 0.0]]), tan(2.5), tan(1.0)).round(3) + 0.0
    array([[ 0.,  0.],
           [10.,  0.]])
    """
    if points.size == 0:
        return points.reshape(0, 2)
    ra, dec = xray_wcs.pixel_to_world_values(points[:, 0], points[:, 1])
    x, y = optical_wcs.world_to_pixel_values(ra, dec)
    return np.column_stack([x, y])


#: Largest miss (optical pixels) of the fitted homography at its check points; beyond it, every
#: vertex goes through the WCSs one by one.
HOMOGRAPHY_TOLERANCE_PIX = 1e-6


def apply_homography(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map ``(m, 2)`` points by the 3x3 projective matrix ``h``."""
    w = points @ h[2, :2] + h[2, 2]
    out = points @ h[:2, :2].T
    out += h[:2, 2]
    out /= w[:, None]
    return out


#: Where `pixel_homography` compares the matrix with the WCSs, in units of its box: a 3x3 grid
#: (the corners solve it, the rest check it) and four points between.
_HOMOGRAPHY_POINTS = np.array([[x, y] for y in (0.0, 0.5, 1.0) for x in (0.0, 0.5, 1.0)]
                              + [[x, y] for y in (0.25, 0.75) for x in (0.25, 0.75)])


def pixel_homography(src_wcs: Any, dst_wcs: Any, box: tuple[float, float, float, float]) -> np.ndarray | None:
    """The 3x3 matrix taking ``src_wcs`` pixels to ``dst_wcs`` pixels inside ``box``, when one is exact.

    Between two gnomonic (TAN) projections the map is a projective transformation: both project
    the sphere from its centre onto a plane, so a pixel of one is a ray through the centre that
    meets the other's plane at one point, and pixel to plane coordinates is linear in each. The
    matrix is solved from the WCSs' own mapping (wcslib, as `~astropy.wcs.WCS.pixel_to_world_values`
    and `~astropy.wcs.WCS.world_to_pixel_values` do it) of the corners of ``box`` = ``(x0, y0, x1, y1)``
    (source pixels) and kept only if it reproduces the mapping at the centre, the edge midpoints
    and four points between them to `HOMOGRAPHY_TOLERANCE_PIX`. Any other projection, or a
    distortion (SIP, a plate solution), misses and gives ``None``: then each vertex goes through the
    WCSs.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> def tan(ra, dec, scale, rot, proj="TAN"):
    ...     w = WCS(naxis=2); w.wcs.ctype = ["RA---" + proj, "DEC--" + proj]; w.wcs.crval = [ra, dec]
    ...     c, s = np.cos(np.radians(rot)), np.sin(np.radians(rot))
    ...     w.wcs.cd = np.array([[-c, s], [s, c]]) * scale / 3600; w.wcs.crpix = [50, 50]; return w
    >>> xray, optical = tan(150.0, 2.0, 2.5, 10), tan(150.05, 2.04, 1.0, -15)
    >>> h = pixel_homography(xray, optical, (0, 0, 100, 100))
    >>> p = np.array([[12.3, 45.6], [77.0, 3.5]])
    >>> exact = np.column_stack(optical.world_to_pixel_values(*xray.pixel_to_world_values(p[:, 0], p[:, 1])))
    >>> bool(np.abs(apply_homography(h, p) - exact).max() < 1e-8)
    True
    >>> pixel_homography(tan(150, 2, 2.5, 0, "SIN"), optical, (0, 0, 100, 100)) is None
    True
    """
    src_prm, dst_prm = _celestial_core(src_wcs), _celestial_core(dst_wcs)
    if src_prm is None or dst_prm is None:
        return None
    x0, y0, x1, y1 = box
    src = _HOMOGRAPHY_POINTS * [x1 - x0, y1 - y0] + [x0, y0]
    try:
        with np.errstate(all="ignore"):
            world = src_prm.p2s(src, 0)["world"]
            dst = dst_prm.s2p(world, 0)["pixcrd"]
    except Exception:  # noqa: BLE001 - wcslib refuses points outside a projection's domain
        return None
    if not np.isfinite(dst).all():
        return None
    # exact through the four corners (coordinates centred and scaled for conditioning), checked at all
    corners = [0, 2, 6, 8]
    cs, ks = src[4], 2.0 / max(x1 - x0, y1 - y0, 1e-12)
    cd = dst[4]
    kd = 1.0 / max(float(np.abs(dst[corners] - cd).max()), 1e-12)
    a, b = (src[corners] - cs) * ks, (dst[corners] - cd) * kd
    m = np.zeros((8, 8))
    m[0::2, 0:2], m[0::2, 2] = a, 1.0
    m[1::2, 3:5], m[1::2, 5] = a, 1.0
    m[0::2, 6:8] = -b[:, :1] * a
    m[1::2, 6:8] = -b[:, 1:] * a
    try:
        hn = np.append(np.linalg.solve(m, b.ravel()), 1.0).reshape(3, 3)
    except np.linalg.LinAlgError:
        return None
    t_src = np.array([[ks, 0.0, -ks * cs[0]], [0.0, ks, -ks * cs[1]], [0.0, 0.0, 1.0]])
    t_dst_inv = np.array([[1 / kd, 0.0, cd[0]], [0.0, 1 / kd, cd[1]], [0.0, 0.0, 1.0]])
    h = t_dst_inv @ hn @ t_src
    if not np.isfinite(h).all() or h[2, 2] == 0:
        return None
    h /= h[2, 2]
    with np.errstate(all="ignore"):
        miss = np.abs(apply_homography(h, src) - dst).max()
    return h if miss <= HOMOGRAPHY_TOLERANCE_PIX else None


@lru_cache(maxsize=8)
def _grid(ny: int, nx: int) -> tuple[np.ndarray, np.ndarray]:
    """contourpy's default x, y pixel grids, made once per map shape (read-only)."""
    x, y = np.meshgrid(np.arange(nx, dtype=np.float64), np.arange(ny, dtype=np.float64))
    x.flags.writeable = y.flags.writeable = False
    return x, y


def xray_contours(signal: XraySignal, xray: SkyImage, optical: SkyImage, config: RenderConfig,
                  peak_box: int | None = None) -> ContourSet:
    """Contour the X-ray signal and place the lines in the optical pixel frame.

    The levels are `contour_levels` up to the peak within ``peak_box`` X-ray pixels of the
    candidate; the lines come from `contourpy` on the X-ray pixel grid, and their vertices go to
    optical pixels through both WCSs (by `pixel_homography` where that is exact, else one by one).
    """
    net = signal.net
    z = np.array(net.data, dtype=np.float64)
    invalid = ~np.isfinite(z)
    mask = np.ma.getmask(net)
    if mask is not np.ma.nomask:
        invalid |= mask
    if invalid.any():
        z[invalid] = np.nan
    else:
        invalid = None
    if peak_box is not None:
        cy, cx = int(round(signal.cy)) - signal.y0, int(round(signal.cx)) - signal.x0
        region = z[max(cy - peak_box, 0):cy + peak_box + 1, max(cx - peak_box, 0):cx + peak_box + 1]
    else:
        region = z
    noise = signal.level_noise or signal.noise
    low = config.min_sigma * noise
    if low > 0:
        # seeded islands: a region above the lowest level is drawn only if it rises to a level that
        # noise alone reaches nowhere in the field (5 % chance); the others are noise, levelled off
        seed = seed_sigma(z.size if invalid is None else float((~invalid).sum()), signal.sigma_pix,
                          signal.beam_counts, config.min_sigma) * noise
        above = z > low  # NaN compares False
        if above.any():
            islands, n_islands = ndimage.label(above)
            # near the edges the reflected kernel averages fewer pixels: noise is up to 2x there
            tops = ndimage.maximum(z / _edge_noise_factor(*z.shape, signal.sigma_pix), islands,
                                   np.arange(1, n_islands + 1))
            weak = np.flatnonzero(np.asarray(tops) < seed) + 1
            if weak.size:
                drop = np.isin(islands, weak)
                z[drop] = low * (1.0 - 1e-6)
    peak = float(np.fmax.reduce(region, axis=None)) if region.size else 0.0
    if not np.isfinite(peak):
        peak = 0.0  # all masked
    levels = contour_levels(noise, peak, config.n_levels, config.min_sigma)
    if levels.size == 0:
        return ContourSet(levels, (), noise, peak)
    gx, gy = _grid(*z.shape)
    # the generator contourpy.contour_generator(z=z, line_type=...) makes, without its masked-array
    # round trip (a third of the contouring time at these sizes)
    gen = contourpy.SerialContourGenerator(
        gx, gy, z, invalid, corner_mask=True, line_type=contourpy.LineType.ChunkCombinedOffset,
        fill_type=contourpy.SerialContourGenerator.default_fill_type, quad_as_tri=False,
        z_interp=contourpy.ZInterp.Linear, x_chunk_size=0, y_chunk_size=0)
    parts, starts, n_lines = [], [], []
    n = 0
    for points, offsets in gen.multi_lines(levels):  # one chunk: ([points or None], [offsets or None])
        p, o = points[0], offsets[0]
        if p is None or len(p) == 0:
            n_lines.append(0)
            continue
        parts.append(p)
        starts.append(o[:-1].astype(np.intp) + n)
        n_lines.append(len(o) - 1)
        n += len(p)
    if not parts:
        return ContourSet(levels, tuple(() for _ in levels), noise, peak)
    pts = np.concatenate(parts)
    pts[:, 0] += signal.x0
    pts[:, 1] += signal.y0
    ny, nx = z.shape
    box = (signal.x0, signal.y0, signal.x0 + nx - 1.0, signal.y0 + ny - 1.0)
    h = pixel_homography(xray.wcs, optical.wcs, box)
    opt = apply_homography(h, pts) if h is not None else xray_to_optical_pixels(pts, xray.wcs, optical.wcs)
    bounds = np.append(np.concatenate(starts), len(opt)).tolist()
    lines, i = [], 0
    for k in n_lines:
        lines.append(tuple(opt[a:b] for a, b in zip(bounds[i:i + k], bounds[i + 1:i + k + 1])))
        i += k
    return ContourSet(levels, tuple(lines), noise, peak)


# --------------------------------------------------------------------------- drawing
def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(px, 8))


#: The translucent backing of the scale bar and compass (RGBA).
MARK_BACKING = (0, 0, 0, 150)


@lru_cache(maxsize=32)
def _marks_patches(size: int, line_width: float, bar_px: float, bar_label: str,
                   compass: tuple[tuple[float, float], tuple[float, float]] | None
                   ) -> tuple[tuple[Image.Image, tuple[int, int]], ...]:
    """The scale bar and compass of a subject as RGBA patches with their places (drawn once per look).

    ``bar_px`` is the bar's length in output pixels (0: none), ``compass`` the unit vectors of north
    and east in the output frame (None: none). Every subject of a survey with one plate scale and
    orientation shares them, so they are drawn once and pasted through their alpha.
    """
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas, "RGBA")
    font = _font(int(round(size * 0.04)))
    lw = max(1, int(round(line_width)))
    white, black = (255, 255, 255, 255), (0, 0, 0, 255)
    pad = int(round(size * 0.04))
    if bar_px > 0:
        y = size - pad
        x1, x2 = pad, pad + bar_px
        draw.line([(x1, y), (x2, y)], fill=black, width=lw + 2)
        draw.line([(x1, y), (x2, y)], fill=white, width=lw)
        draw.text(((x1 + x2) / 2, y - lw - 2), bar_label, fill=white, font=font, anchor="md",
                  stroke_width=1, stroke_fill=black)
    if compass is not None:
        arm = size * 0.07
        fs = float(getattr(font, "size", 10))
        origin = np.array([size - pad - fs, pad + arm + fs])
        for v, label in zip(compass, ("N", "E")):
            u = np.asarray(v)
            tip = origin + u * arm
            for fill, width in ((black, lw + 2), (white, lw)):
                draw.line([tuple(origin), tuple(tip)], fill=fill, width=width)
            lab = origin + u * (arm + fs * 0.7)
            draw.text(tuple(lab), label, fill=white, font=font, anchor="mm", stroke_width=1,
                      stroke_fill=black)
    patches = []
    alpha = canvas.getchannel("A")
    # the two marks sit in opposite corners: one patch each keeps the pasted area small. Each goes
    # on a translucent dark backing (pasted after the contours), legible on any sky and over lines.
    m = max(2, int(round(size * 0.012)))
    for half in ((0, size // 2, size, size), (0, 0, size, size // 2)):
        box = alpha.crop(half).getbbox()
        if box is not None:
            box = (max(box[0] + half[0] - m, 0), max(box[1] + half[1] - m, 0),
                   min(box[2] + half[0] + m, size), min(box[3] + half[1] + m, size))
            w, h = box[2] - box[0], box[3] - box[1]
            patch = Image.new("RGBA", (w, h), (0, 0, 0, 0))
            ImageDraw.Draw(patch).rounded_rectangle((0, 0, w - 1, h - 1), radius=m, fill=MARK_BACKING)
            patch.alpha_composite(canvas.crop(box))
            patches.append((patch, (box[0], box[1])))
    return tuple(patches)


def _draw_marks(img: Image.Image, optical: SkyImage, crop: OpticalCrop, ra: float, dec: float,
                to_out: Any, config: RenderConfig) -> None:
    """Paste the scale bar (``config.scale_bar_arcmin``) and the N/E compass onto ``img``."""
    size = config.size
    bar_px = 0.0
    if config.scale_bar_arcmin > 0:
        length = config.scale_bar_arcmin * 60.0 / optical.pixel_scale_arcsec * (size / crop.n)
        if length < size * 0.8:
            bar_px = round(float(length), 3)
    compass = None
    if config.compass:
        delta = 1.0 / 60.0  # 1 arcmin
        cosd = max(np.cos(np.radians(dec)), 1e-6)
        px, py = _world_to_pixel(optical.wcs, [ra, ra, ra + delta / cosd], [dec, dec + delta, dec])
        o = to_out(np.column_stack([px, py]))
        arms = []
        for j in (1, 2):
            v = o[j] - o[0]
            norm = float(np.hypot(*v))
            arms.append((round(float(v[0]) / norm, 4), round(float(v[1]) / norm, 4))
                        if np.isfinite(norm) and norm > 0 else None)
        if None not in arms:
            compass = (arms[0], arms[1])
    if bar_px == 0 and compass is None:
        return
    for patch, where in _marks_patches(size, config.line_width, bar_px, f"{config.scale_bar_arcmin:g}'", compass):
        img.paste(patch, where, patch)


def _draw_lines(img: Image.Image, groups: list[tuple[tuple[int, int, int], list[np.ndarray]]],
                config: RenderConfig) -> None:
    """Draw polylines (``(m, 2)`` arrays, output pixel coordinates) into ``img``, one colour per group.

    Later groups (the inner levels) go on top. With ``config.antialias`` the lines are drawn by
    `aggdraw <https://github.com/pytroll/aggdraw>`_ (the Anti-Grain Geometry rasteriser: exact
    coverage of wide lines, so edge pixels are partly opaque), into the lines' bounding box only;
    without it Pillow draws them with hard edges (pure colours). Vertices that did not map to a
    finite position (outside a projection's domain) are left out.
    """
    pts = np.concatenate([line for _, lines in groups for line in lines])
    if not np.isfinite(pts).all():
        cleaned = []
        for colour, lines in groups:
            kept = [line[np.isfinite(line).all(axis=1)] for line in lines]
            kept = [line for line in kept if len(line) >= 2]
            if kept:
                cleaned.append((colour, kept))
        if not cleaned:
            return
        groups = cleaned
        pts = np.concatenate([line for _, lines in groups for line in lines])
    if not config.antialias:
        draw = ImageDraw.Draw(img)
        width = max(1, int(round(config.line_width)))
        for colour, lines in groups:
            for line in lines:
                draw.line(line.ravel().tolist(), fill=colour, width=width, joint="curve")
        return
    pad = config.line_width / 2.0 + 2.0
    x0, y0 = np.maximum(np.floor(pts.min(axis=0) - pad).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(pts.max(axis=0) + pad).astype(int) + 1, img.size)
    if x1 <= x0 or y1 <= y0:
        return
    box = (int(x0), int(y0), int(x1), int(y1))
    sub = img.crop(box)
    # pixels in and out as bytes (as aggdraw.Draw(image) + flush() do, at the same cost, but explicit)
    draw = aggdraw.Draw("RGB", sub.size)
    draw.frombytes(sub.tobytes())
    # aggdraw's pixel (i, j) covers [i, i + 1) x [j, j + 1): its centre is at +0.5
    pts -= (x0 - 0.5, y0 - 0.5)
    flat = pts.ravel().tolist()  # one conversion for all lines; each line is a slice of it
    i = 0
    for colour, lines in groups:
        pen = aggdraw.Pen(colour, config.line_width)
        for line in lines:
            n = 2 * len(line)
            draw.line(flat[i:i + n], pen)
            i += n
    img.paste(Image.frombytes("RGB", sub.size, draw.tobytes()), box)


def no_contour_reason(contours: ContourSet, config: RenderConfig) -> str:
    """Why a subject has no contour, in one line (empty when it has some).

    Examples
    --------
    >>> cs = ContourSet(np.empty(0), (), noise=0.5, peak=1.2)
    >>> no_contour_reason(cs, RenderConfig())
    "no contours: the X-ray peak within 1' of the candidate (1.2) is not above the lowest level (3 sigma = 1.5)"
    """
    if any(len(lines) for lines in contours.lines):
        return ""
    where = (f"within {config.peak_radius_arcmin:g}' of the candidate" if config.peak_radius_arcmin > 0
             else "in the field")
    low = config.min_sigma * contours.noise
    return (f"no contours: the X-ray peak {where} ({contours.peak:.3g}) is not above the lowest level "
            f"({config.min_sigma:g} sigma = {low:.3g})")


def coarse_xray_note(xray_pixel_arcsec: float, config: RenderConfig) -> str:
    """A warning when the X-ray image has fewer than `MIN_XRAY_PIXELS_ACROSS` pixels across the field.

    Examples
    --------
    >>> coarse_xray_note(45.0, RenderConfig())
    "coarse X-ray: 8 pixels of 45'' across the 6' field (under 16): blocky, jagged contours; use a larger --fov or a finer X-ray image"
    >>> coarse_xray_note(2.5, RenderConfig())
    ''
    """
    across = config.fov_arcmin * 60.0 / xray_pixel_arcsec
    if across >= MIN_XRAY_PIXELS_ACROSS:
        return ""
    return (f"coarse X-ray: {across:.0f} pixels of {xray_pixel_arcsec:.3g}'' across the {config.fov_arcmin:g}' "
            f"field (under {MIN_XRAY_PIXELS_ACROSS:g}): blocky, jagged contours; use a larger --fov or a "
            "finer X-ray image")


@dataclass(frozen=True, eq=False)
class Overlay:
    """A rendered subject: the RGB picture and the contours drawn on it (optical pixel frame)."""

    image: Image.Image
    contours: ContourSet
    crop: OpticalCrop


def render_overlay(optical: Any, xray: Any, ra: float | None = None, dec: float | None = None,
                   config: RenderConfig | None = None, *, signal: XraySignal | None = None) -> Overlay:
    """Draw X-ray contours over the stretched optical image of one candidate.

    Parameters
    ----------
    optical, xray : path, HDU, HDUList, (array, WCS), NDData or SkyImage
        The two images; X-ray exposure and background maps are used where the file holds them.
    ra, dec : float, optional
        Candidate position (deg, ICRS); default: the optical image centre.
    config : RenderConfig, optional
        Render options (defaults otherwise).
    signal : XraySignal, optional
        A precomputed `xray_signal` covering the field (saves work when tensors are made too).

    Returns
    -------
    Overlay
        ``image`` is a square RGB `PIL.Image.Image` of ``config.size`` pixels, north and east as the
        optical image has them (the compass shows them); ``contours`` the placed lines.

    Raises
    ------
    InputError
        The candidate is outside an image, the optical image has no WCS, the X-ray cutout is empty.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> def tan(scale, n):
    ...     w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    ...     w.wcs.cdelt = [-scale / 3600, scale / 3600]; w.wcs.crval = [150, 2]
    ...     w.wcs.crpix = [(n + 1) / 2, (n + 1) / 2]; return w
    >>> yy, xx = np.mgrid[:144, :144]
    >>> counts = 1 + 500 * np.exp(-((xx - 71.5) ** 2 + (yy - 71.5) ** 2) / 8)
    >>> sky = np.random.default_rng(1).normal(100, 5, (360, 360))
    >>> ov = render_overlay((sky, tan(1.0, 360)), (counts, tan(2.5, 144)), 150, 2,
    ...                     RenderConfig(size=256))
    >>> ov.image.size, len(ov.contours.levels)
    ((256, 256), 6)
    """
    config = config if config is not None else RenderConfig()
    use_pillow_block_pool()
    opt = load_image(optical, "optical")
    xr = load_image(xray, "xray")
    if ra is None or dec is None:
        ny, nx = opt.data.shape
        ra_c, dec_c = opt.wcs.pixel_to_world_values((nx - 1) / 2.0, (ny - 1) / 2.0)
        ra, dec = float(ra_c), float(dec_c)
    crop = optical_crop(opt, ra, dec, config.fov_arcmin)
    if signal is None:
        signal = xray_signal(xr, ra, dec, config.fov_arcmin * 30.0 * np.sqrt(2.0), config)
    radius = config.peak_radius_arcmin if config.peak_radius_arcmin > 0 else config.fov_arcmin / 2.0
    peak_box = int(np.ceil(min(radius, config.fov_arcmin / 2.0) * 60.0 / xr.pixel_scale_arcsec))
    contours = xray_contours(signal, xr, opt, config, peak_box=peak_box)

    size = config.size
    grey = stretch_uint8(crop.data, config)
    base = Image.fromarray(np.ascontiguousarray(grey[::-1]), mode="L")
    if crop.n != size:
        base = base.resize((size, size), Image.Resampling.BILINEAR)
    k = size / crop.n

    def to_out(p: np.ndarray) -> np.ndarray:
        out = np.empty_like(p)
        out[:, 0] = (p[:, 0] - crop.x0 + 0.5) * k - 0.5
        out[:, 1] = size - 0.5 - (p[:, 1] - crop.y0 + 0.5) * k
        return out

    img = Image.merge("RGB", (base, base, base))
    n_lev, n_col = len(contours.lines), len(config.colors)
    by_colour: dict[int, list[np.ndarray]] = {}
    for k_lev, lines in enumerate(contours.lines):
        by_colour.setdefault(min(k_lev * n_col // n_lev, n_col - 1), []).extend(
            line for line in lines if len(line) >= 2)
    ordered = [(ci, by_colour[ci]) for ci in sorted(by_colour) if by_colour[ci]]
    if ordered:
        # one affine map for all vertices, then each line is a view of the result
        placed = to_out(np.concatenate([line for _, lines in ordered for line in lines]))
        i = 0
        colour_groups = []
        for ci, lines in ordered:
            views = []
            for line in lines:
                views.append(placed[i:i + len(line)])
                i += len(line)
            colour_groups.append((_hex(config.colors[ci]), views))
        _draw_lines(img, colour_groups, config)
    _draw_marks(img, opt, crop, ra, dec, to_out, config)
    return Overlay(img, contours, crop)


def encode_subject(image: Image.Image, config: RenderConfig,
                   max_bytes: int = MAX_SUBJECT_BYTES) -> tuple[bytes, str]:
    """Encode a subject as PNG or JPEG under ``max_bytes`` (Zooniverse's limit is 1 MiB).

    JPEG quality is lowered step by step (to 30 at worst) until the file fits; a PNG is retried at
    the smallest zlib setting. Returns ``(data, note)`` where ``note`` says what was changed.

    Raises
    ------
    SubjectTooLargeError
        When nothing makes it fit.

    Examples
    --------
    >>> from PIL import Image
    >>> data, note = encode_subject(Image.new("RGB", (64, 64)), RenderConfig(format="jpeg"))
    >>> data[:2] == b"\\xff\\xd8", note
    (True, '')
    """
    buf = io.BytesIO()
    if config.format == "jpeg":
        qualities = [config.jpeg_quality] + [q for q in (75, 60, 45, 30) if q < config.jpeg_quality]
        for q in qualities:
            buf.seek(0)
            buf.truncate()
            # subsampling=0 (4:4:4): Pillow's default 4:2:0 halves the colour resolution, and 2-px
            # coloured lines come out smeared and greyed (31.9 -> 17.8 dB on line pixels)
            image.save(buf, "JPEG", quality=q, subsampling=0)
            if buf.tell() <= max_bytes:
                note = "" if q == config.jpeg_quality else f"JPEG quality lowered to {q} to stay under 1 MiB"
                return buf.getvalue(), note
        raise SubjectTooLargeError(
            f"the subject is {buf.tell()} bytes even at JPEG quality {qualities[-1]}, above the "
            f"{max_bytes}-byte limit; use a smaller --size"
        )
    pixels = np.asarray(image.convert("RGB") if image.mode != "RGB" else image)
    data = png_bytes(pixels, config.png_compress_level)
    if len(data) <= max_bytes:
        return data, ""
    data = png_bytes(pixels, 9)
    if len(data) <= max_bytes:
        return data, "PNG re-encoded at zlib level 9 to stay under 1 MiB"
    raise SubjectTooLargeError(
        f"the subject is {len(data)} bytes as PNG even at zlib level 9, above the {max_bytes}-byte "
        "limit; use --format jpeg or a smaller --size"
    )


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png_bytes(rgb: np.ndarray, level: int = 1) -> bytes:
    """Encode an ``(h, w, 3)`` uint8 array as an 8-bit RGB PNG.

    Every row uses the PNG "Up" filter (computed with numpy at once) and one zlib stream; this is
    about twice as fast as Pillow's encoder at the same size, which matters at thousands of subjects.

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> a = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    >>> with Image.open(io.BytesIO(png_bytes(a))) as im:
    ...     bool((np.asarray(im) == a).all())
    True
    """
    h, w, c = rgb.shape
    if c != 3 or rgb.dtype != np.uint8:
        raise ValueError("png_bytes expects an (h, w, 3) uint8 array")
    rows = np.empty((h, w * 3 + 1), dtype=np.uint8)
    rows[:, 0] = 2  # filter type Up
    flat = rgb.reshape(h, w * 3)
    rows[0, 1:] = flat[0]
    np.subtract(flat[1:], flat[:-1], out=rows[1:, 1:])  # uint8 arithmetic wraps modulo 256
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(rows.tobytes(), level)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
