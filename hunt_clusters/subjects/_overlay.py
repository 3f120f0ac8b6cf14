"""The volunteer's picture: a stretched optical image with X-ray contours placed through both WCSs."""

from __future__ import annotations

import io
import logging
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import aggdraw
import contourpy
import numpy as np
from astropy.visualization import (
    AsinhStretch,
    LinearStretch,
    LogStretch,
    PercentileInterval,
    SqrtStretch,
    ZScaleInterval,
)
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


# --------------------------------------------------------------------------- optical
@dataclass(frozen=True, eq=False)
class OpticalCrop:
    """The square optical region shown: ``data[y0:y0+n, x0:x0+n]`` (NaN-padded beyond the edges)."""

    data: np.ndarray
    x0: int
    y0: int
    n: int


def _center_pixel(m: SkyImage, ra: float, dec: float, what: str) -> tuple[float, float]:
    x, y = m.wcs.world_to_pixel_values(ra, dec)
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
    if stretch == "asinh":
        s: Any = AsinhStretch(a=a)
    elif stretch == "log":
        s = LogStretch()
    elif stretch == "sqrt":
        s = SqrtStretch()
    else:
        s = LinearStretch()
    return np.asarray(s(np.linspace(0.0, 1.0, _LUT_SIZE), clip=True), dtype=np.float32)


def display_limits(values: np.ndarray, config: RenderConfig) -> tuple[float, float]:
    """Display limits of the optical values (finite ones) from the configured astropy interval."""
    flat = values.ravel()
    good = np.isfinite(flat)
    finite = flat if good.all() else flat[good]  # no copy in the usual all-finite case
    if finite.size == 0:
        raise InputError("no finite optical pixels around the candidate (all NaN)")
    step = max(1, finite.size // 10000)
    sample = finite[::step]
    if config.interval == "zscale":
        vmin, vmax = ZScaleInterval().get_limits(sample)
    else:
        vmin, vmax = PercentileInterval(config.percentile).get_limits(sample)
    vmin, vmax = float(vmin), float(vmax)
    if not vmax > vmin:
        vmax = vmin + 1.0
    return vmin, vmax


@lru_cache(maxsize=16)
def _stretch_lut8(stretch: str, a: float) -> np.ndarray:
    return (_stretch_lut(stretch, a) * 255.0 + 0.5).astype(np.uint8)


def _lut_index(values: np.ndarray, config: RenderConfig,
               limits: tuple[float, float] | None) -> np.ndarray:
    vmin, vmax = limits if limits is not None else display_limits(values, config)
    idx = np.subtract(values, vmin, dtype=np.float32)
    idx *= np.float32((_LUT_SIZE - 1) / (vmax - vmin))
    np.clip(idx, 0, _LUT_SIZE - 1, out=idx)  # NaN stays NaN
    if np.isnan(idx).any():
        np.nan_to_num(idx, copy=False, nan=0.0)
    return idx.astype(np.int16)


def stretch_unit(values: np.ndarray, config: RenderConfig,
                 limits: tuple[float, float] | None = None) -> np.ndarray:
    """Map optical values to [0, 1] by the interval and stretch of ``config`` (NaN -> 0).

    The interval (`astropy.visualization.PercentileInterval` or ``ZScaleInterval``) gives the
    limits; the stretch (``AsinhStretch`` ...) is applied through a 4096-entry lookup table.
    """
    return _stretch_lut(config.stretch, config.stretch_a)[_lut_index(values, config, limits)]


def stretch_uint8(values: np.ndarray, config: RenderConfig,
                  limits: tuple[float, float] | None = None) -> np.ndarray:
    """`stretch_unit` scaled to 0-255 as uint8 (the display image)."""
    return np.take(_stretch_lut8(config.stretch, config.stretch_a), _lut_index(values, config, limits))


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


def _smooth(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing (reflecting edges); a constant map is returned as it is."""
    flat = a.ravel()
    if flat.size and flat[0] == flat.min() == flat.max():
        return np.asarray(a, dtype=np.float32)
    return ndimage.gaussian_filter(a, sigma, mode="reflect", truncate=3.0)


def _median(a: np.ndarray) -> float:
    """Median of at most ~20000 evenly spaced values (the maps are smooth; exact enough)."""
    flat = a.ravel()
    return float(np.median(flat[:: max(1, flat.size // 20000)]))


def xray_signal(xray: SkyImage, ra: float, dec: float, radius_arcsec: float,
                config: RenderConfig) -> XraySignal:
    """Smooth and correct the X-ray map in a box of half-side ``radius_arcsec`` around (ra, dec).

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
    finite = np.isfinite(c)
    if not finite.any():
        raise EmptyXrayError(f"{xray.label}: the X-ray cutout around RA {ra:.5f}, Dec {dec:+.5f} is all NaN")
    all_finite = bool(finite.all())
    c = np.where(finite, c, 0.0).astype(np.float32) if not all_finite else c.astype(np.float32)
    total = float(c.sum())
    if total <= 0:
        raise EmptyXrayError(
            f"{xray.label}: the X-ray cutout around RA {ra:.5f}, Dec {dec:+.5f} holds no counts; "
            "the candidate needs X-ray counts to draw contours"
        )
    if xray.exposure is not None:
        e = xray.exposure[y0:y1, x0:x1]
        e = np.where(np.isfinite(e) & finite & (e > 0), e, 0.0).astype(np.float32)
    elif not all_finite:
        e = finite.astype(np.float32)
    else:
        e = None
    b = None
    if xray.background is not None:
        b = xray.background[y0:y1, x0:x1]
        b = np.where(np.isfinite(b), b, 0.0).astype(np.float32)

    csm = _smooth(c, s)
    if e is not None:
        if not (e > 0).any():
            raise EmptyXrayError(f"{xray.label}: zero exposure around RA {ra:.5f}, Dec {dec:+.5f}")
        esm = _smooth(e, s)
        valid = esm >= 0.1 * float(esm.max())
        esm_safe = np.where(valid, esm, 1.0)
        rate = csm / esm_safe
        # typical exposure; with a NaN mask only (no exposure map) the units stay counts/pixel
        e_typ = _median(e[e > 0]) if xray.exposure is not None else 1.0
    else:
        valid = None
        rate = csm
        e_typ = 1.0
    if b is not None:
        bsm = _smooth(b, s)
        bkg_rate = bsm / (esm_safe if e is not None else 1.0)
        net = rate - bkg_rate
        b_counts = _median(b if e is None else b[e > 0])
        bkg_level = _median(bkg_rate if valid is None else bkg_rate[valid])
    else:
        bkg_level = _median(rate if valid is None else rate[valid])
        net = rate - bkg_level
        b_counts = bkg_level * e_typ
    area = 4.0 * np.pi * s * s
    b_counts = max(b_counts, 1.0 / area)
    noise = float(np.sqrt(b_counts / area) / e_typ)
    mask = ~valid if valid is not None else np.ma.nomask
    return XraySignal(np.ma.MaskedArray(net, mask=mask), x0, y0, noise, bkg_level, s, total, cx, cy)


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


def xray_contours(signal: XraySignal, xray: SkyImage, optical: SkyImage, config: RenderConfig,
                  peak_box: int | None = None) -> ContourSet:
    """Contour the X-ray signal and place the lines in the optical pixel frame."""
    net = signal.net
    if peak_box is not None:
        cy, cx = int(round(signal.cy)) - signal.y0, int(round(signal.cx)) - signal.x0
        region = net[max(cy - peak_box, 0):cy + peak_box + 1, max(cx - peak_box, 0):cx + peak_box + 1]
    else:
        region = net
    peak = float(region.max()) if region.count() else 0.0
    levels = contour_levels(signal.noise, peak, config.n_levels, config.min_sigma)
    if levels.size == 0:
        return ContourSet(levels, (), signal.noise, peak)
    gen = contourpy.contour_generator(z=net, line_type="Separate")
    per_level = gen.multi_lines(levels)
    flat = [line for lines in per_level for line in lines]
    counts = [len(lines) for lines in per_level]
    if flat:
        lengths = [len(line) for line in flat]
        pts = np.concatenate(flat).astype(np.float64)
        pts[:, 0] += signal.x0
        pts[:, 1] += signal.y0
        opt = xray_to_optical_pixels(pts, xray.wcs, optical.wcs)
        parts = np.split(opt, np.cumsum(lengths)[:-1])
    else:
        parts = []
    out: list[tuple[np.ndarray, ...]] = []
    i = 0
    for c in counts:
        out.append(tuple(parts[i:i + c]))
        i += c
    return ContourSet(levels, tuple(out), signal.noise, peak)


# --------------------------------------------------------------------------- drawing
def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(px, 8))


def _draw_marks(img: Image.Image, optical: SkyImage, crop: OpticalCrop, ra: float, dec: float,
                to_out: Any, config: RenderConfig) -> None:
    size = config.size
    draw = ImageDraw.Draw(img)
    font = _font(int(round(size * 0.04)))
    lw = max(1, int(round(config.line_width)))
    white, black = (255, 255, 255), (0, 0, 0)
    pad = int(round(size * 0.04))
    if config.scale_bar_arcmin > 0:
        k = size / crop.n
        length = config.scale_bar_arcmin * 60.0 / optical.pixel_scale_arcsec * k
        if length < size * 0.8:
            y = size - pad
            x1, x2 = pad, pad + length
            draw.line([(x1, y), (x2, y)], fill=black, width=lw + 2)
            draw.line([(x1, y), (x2, y)], fill=white, width=lw)
            label = f"{config.scale_bar_arcmin:g}'"
            draw.text(((x1 + x2) / 2, y - lw - 2), label, fill=white, font=font, anchor="md",
                      stroke_width=1, stroke_fill=black)
    if config.compass:
        delta = 1.0 / 60.0  # 1 arcmin
        cosd = max(np.cos(np.radians(dec)), 1e-6)
        world_ra = np.array([ra, ra, ra + delta / cosd])
        world_dec = np.array([dec, dec + delta, dec])
        px, py = optical.wcs.world_to_pixel_values(world_ra, world_dec)
        o = to_out(np.column_stack([px, py]))
        arm = size * 0.07
        fs = float(getattr(font, "size", 10))
        origin = np.array([size - pad - fs, pad + arm + fs])
        for j, label in ((1, "N"), (2, "E")):
            v = o[j] - o[0]
            norm = float(np.hypot(*v))
            if not np.isfinite(norm) or norm == 0:
                continue
            tip = origin + v / norm * arm
            for fill, width in ((black, lw + 2), (white, lw)):
                draw.line([tuple(origin), tuple(tip)], fill=fill, width=width)
            lab = origin + v / norm * (arm + fs * 0.7)
            draw.text(tuple(lab), label, fill=white, font=font, anchor="mm", stroke_width=1,
                      stroke_fill=black)


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
    draw = aggdraw.Draw(sub)
    # aggdraw's pixel (i, j) covers [i, i + 1) x [j, j + 1): its centre is at +0.5
    shift = np.array([0.5 - x0, 0.5 - y0])
    for colour, lines in groups:
        pen = aggdraw.Pen(colour, config.line_width)
        for line in lines:
            draw.line((line + shift).ravel().tolist(), pen)
    draw.flush()
    img.paste(sub, box)


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

    img = base.convert("RGB")
    n_lev = len(contours.lines)
    kept = [(k_lev, line) for k_lev, lines in enumerate(contours.lines) for line in lines if len(line) >= 2]
    if kept:
        n_col = len(config.colors)
        placed = np.split(to_out(np.concatenate([line for _, line in kept])),
                          np.cumsum([len(line) for _, line in kept])[:-1])
        groups: dict[int, list[np.ndarray]] = {}
        for (k_lev, _), line in zip(kept, placed):
            groups.setdefault(min(k_lev * n_col // n_lev, n_col - 1), []).append(line)
        _draw_lines(img, [(_hex(config.colors[ci]), lines) for ci, lines in sorted(groups.items())], config)
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
            image.save(buf, "JPEG", quality=q)
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
