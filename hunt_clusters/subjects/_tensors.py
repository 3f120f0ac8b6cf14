"""CNN tensors: the same field at a fixed angular scale, channels [optical, X-ray]."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
from astropy.wcs import WCS
from scipy import ndimage

from ..sky import shift_wcs
from ._config import RenderConfig
from ._inputs import load_image
from ._overlay import XraySignal, stretch_unit, xray_signal

log = logging.getLogger(__name__)

#: X-ray channel: ``asinh(snr / XRAY_SOFTENING) / asinh(XRAY_SNR_MAX / XRAY_SOFTENING)``, clipped to [0, 1].
XRAY_SOFTENING: float = 3.0
XRAY_SNR_MAX: float = 100.0
_AFFINE_TOLERANCE_PX = 0.05


def tensor_wcs(ra: float, dec: float, fov_arcmin: float, size: int) -> WCS:
    """The common grid of the tensors: gnomonic (TAN), north up, east left, centred on the candidate.

    Examples
    --------
    >>> w = tensor_wcs(150.0, 2.0, 6.0, 128)
    >>> [round(float(v), 6) for v in w.pixel_to_world_values(63.5, 63.5)]
    [150.0, 2.0]
    """
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra, dec]
    w.wcs.crpix = [(size + 1) / 2.0, (size + 1) / 2.0]
    step = fov_arcmin / 60.0 / size
    w.wcs.cdelt = [-step, step]
    w.wcs.set()
    return w


def _affine_map(target: WCS, source: WCS, size: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Fit source_pixel = A @ target_pixel + b through a 5x5 grid of control points.

    Returns ``A`` (2x2, for (x, y)), ``b`` and the largest residual in source pixels.
    """
    g = np.linspace(-0.5, size - 0.5, 5)
    tx, ty = np.meshgrid(g, g)
    tx, ty = tx.ravel(), ty.ravel()
    ra, dec = target.pixel_to_world_values(tx, ty)
    sx, sy = source.world_to_pixel_values(ra, dec)
    design = np.column_stack([tx, ty, np.ones_like(tx)])
    coef, *_ = np.linalg.lstsq(design, np.column_stack([sx, sy]), rcond=None)
    resid = design @ coef - np.column_stack([sx, sy])
    a = coef[:2].T  # rows: source x, source y; cols: target x, target y
    b = coef[2]
    return a, b, float(np.nanmax(np.abs(resid))) if np.isfinite(resid).all() else np.inf


def _resample(data: np.ndarray, source_wcs: WCS, target: WCS, size: int, method: str,
              offset: tuple[int, int] = (0, 0), cval: float = np.nan) -> np.ndarray:
    """Resample ``data`` (whose pixel (0, 0) is source pixel ``offset``) onto the target grid."""
    if method == "affine":
        a, b, resid = _affine_map(target, source_wcs, size)
        if resid <= _AFFINE_TOLERANCE_PX:
            b = b - np.asarray(offset, dtype=float)
            ratio = float(np.sqrt(abs(np.linalg.det(a))))  # source pixels per target pixel
            # Work on the part of the source that the target grid touches.
            corners = np.array([[-1, -1], [size, -1], [-1, size], [size, size]], dtype=float)
            sc = corners @ a.T + b
            margin = int(np.ceil(2 * max(ratio, 1.0))) + 2
            xa = max(int(np.floor(sc[:, 0].min())) - margin, 0)
            ya = max(int(np.floor(sc[:, 1].min())) - margin, 0)
            xb = min(int(np.ceil(sc[:, 0].max())) + margin + 1, data.shape[1])
            yb = min(int(np.ceil(sc[:, 1].max())) + margin + 1, data.shape[0])
            if xb <= xa or yb <= ya:
                return np.full((size, size), cval, dtype=np.float32)
            src = np.asarray(data[ya:yb, xa:xb], dtype=np.float32)
            b = b - np.array([xa, ya], dtype=float)
            if ratio > 1.5:  # anti-alias: Gaussian of FWHM = one target pixel
                finite = np.isfinite(src)
                if not finite.all():
                    src = np.where(finite, src, np.nanmedian(src) if finite.any() else 0.0)
                src = ndimage.gaussian_filter(src, ratio / 2.355, mode="nearest", truncate=3.0)
            # ndimage works in (row, col) = (y, x) order.
            matrix = a[::-1, ::-1]
            out = ndimage.affine_transform(src, matrix, offset=b[::-1], output_shape=(size, size),
                                           order=1, mode="constant", cval=cval)
            return out.astype(np.float32, copy=False)
        log.debug("affine map off by %.3f px; falling back to reproject_interp", resid)
    from reproject import reproject_interp

    sub = shift_wcs(source_wcs, offset) if offset != (0, 0) else source_wcs
    out, _ = reproject_interp((data, sub), target, shape_out=(size, size), order="bilinear")
    return np.where(np.isfinite(out), out, cval).astype(np.float32)


def make_tensor(optical: Any, xray: Any, ra: float, dec: float, config: RenderConfig | None = None,
                *, size: int | None = None, signal: XraySignal | None = None) -> np.ndarray:
    """The CNN input of one candidate: ``(S, S, 2)`` float32, channels [optical, X-ray], in [0, 1].

    Both images are resampled onto `tensor_wcs` (north up, ``config.tensor_fov_arcmin`` wide, ``S``
    pixels), so every candidate has the same angular scale whatever the instruments.

    Normalisation: optical = the display interval and stretch of ``config`` (percentile, also for the
    pictures' ``sky`` interval, or zscale
    limits of this field, asinh/log/... stretch), 0 outside the optical footprint; X-ray = the
    smoothed, background-subtracted, exposure-corrected map in units of its noise (``snr``), then
    ``asinh(snr / 3) / asinh(100 / 3)`` clipped to [0, 1]: 0 at or below the background, ~0.33 at
    3 sigma, 1 at S/N 100; the same scale for every candidate.

    Parameters
    ----------
    optical, xray : path, HDU, (array, WCS), NDData or SkyImage
        The images.
    ra, dec : float
        Centre of the field (deg).
    config : RenderConfig, optional
        Uses ``tensor_size``, ``tensor_fov_arcmin``, ``tensor_method`` and the optical stretch.
    size : int, optional
        Override ``config.tensor_size`` (the Kosiba layout uses 356).
    signal : XraySignal, optional
        A precomputed `xray_signal` that covers the tensor field.

    Returns
    -------
    numpy.ndarray
        ``(S, S, 2)`` float32 in picture order: row 0 is north, east is left (as in the PNGs of
        the Kosiba2020 dataset).

    Examples
    --------
    >>> import numpy as np
    >>> w = tensor_wcs(150.0, 2.0, 6.0, 360)
    >>> yy, xx = np.mgrid[:360, :360]
    >>> counts = 0.5 + 200 * np.exp(-((xx - 179.5) ** 2 + (yy - 179.5) ** 2) / 50)
    >>> t = make_tensor((np.ones((360, 360)), w), (counts, w), 150.0, 2.0, RenderConfig(tensor_size=64))
    >>> t.shape, t.dtype, bool(t[32, 32, 1] > 0.9), float(t[0, 0, 1])
    ((64, 64, 2), dtype('float32'), True, 0.0)
    """
    config = config if config is not None else RenderConfig()
    size = int(size if size is not None else config.tensor_size)
    opt = load_image(optical, "optical")
    xr = load_image(xray, "xray")
    target = tensor_wcs(ra, dec, config.tensor_fov_arcmin, size)
    out = np.zeros((size, size, 2), dtype=np.float32)

    o = _resample(opt.data, opt.wcs, target, size, config.tensor_method)
    if np.isfinite(o).any():
        # the tensors keep their normalisation (a CNN is trained on it): the sky-anchored display
        # interval of the pictures is a volunteers' view; the tensor uses the percentile interval
        tcfg = dataclasses.replace(config, interval="percentile") if config.interval == "sky" else config
        out[..., 0] = stretch_unit(o, tcfg)
    if signal is None:
        signal = xray_signal(xr, ra, dec, config.tensor_fov_arcmin * 30.0 * np.sqrt(2.0), config)
    snr = signal.net.filled(np.nan) / signal.noise
    x = _resample(snr, xr.wcs, target, size, config.tensor_method, offset=(signal.x0, signal.y0))
    x = np.arcsinh(np.clip(np.nan_to_num(x, nan=0.0), 0.0, None) / XRAY_SOFTENING)
    out[..., 1] = np.clip(x / np.arcsinh(XRAY_SNR_MAX / XRAY_SOFTENING), 0.0, 1.0)
    return np.ascontiguousarray(out[::-1])


def kosiba_png_array(tensor: np.ndarray) -> np.ndarray:
    """The published Kosiba2020 layout of a tensor: ``(S, S, 3)`` uint8, channels [empty, optical, X-ray].

    Examples
    --------
    >>> import numpy as np
    >>> a = kosiba_png_array(np.ones((4, 4, 2), dtype=np.float32))
    >>> a.shape, a.dtype, int(a[..., 0].max()), int(a[..., 1].min())
    ((4, 4, 3), dtype('uint8'), 0, 255)
    """
    s = tensor.shape[0]
    out = np.zeros((s, tensor.shape[1], 3), dtype=np.uint8)
    out[..., 1:] = np.round(np.clip(tensor, 0.0, 1.0) * 255.0).astype(np.uint8)
    return out
