"""DSS2-red-like photographic images: seeing, sky noise, non-linear density response, saturation.

Objects are deposited on a pixel grid (stars as sub-pixel deltas, galaxies as Sersic stamps) and the
whole image is convolved once with the seeing; no per-pixel Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from . import _physics as ph

FloatArray = NDArray[np.float64]

#: Magnitude of unit flux in the intensity units used here (an arbitrary choice).
ZEROPOINT = 25.0
#: Sky per 1"x1" pixel, in those units [D from SKY_MAG_ARCSEC2].
SKY_PER_PIXEL = float(ph.mag_to_flux(ph.SKY_MAG_ARCSEC2, ZEROPOINT)) * ph.OPTICAL_PIXEL_ARCSEC**2
_SIGMA_PIX = ph.SEEING_FWHM_ARCSEC / (2.0 * np.sqrt(2.0 * np.log(2.0))) / ph.OPTICAL_PIXEL_ARCSEC
#: Fraction of starlight in the broad photographic halo and its Gaussian sigma (pixels) [A].
HALO_FRACTION = 0.1
HALO_SIGMA_PIX = 5.0
#: Only objects brighter than this get the halo (for fainter ones it is far below the sky noise).
HALO_MAG = 17.0
#: Effective gain: makes a star of STAR_LIMIT_MAG a 5-sigma detection against the sky [D].
_LIMIT_FLUX = float(ph.mag_to_flux(ph.STAR_LIMIT_MAG, ZEROPOINT))
GAIN = SKY_PER_PIXEL * (5.0 * np.sqrt(4.0 * np.pi * _SIGMA_PIX**2) / _LIMIT_FLUX) ** 2
#: Density values: fog level and range, like the DATAMIN..DATAMAX of real DSS cutouts (~3000-20000).
FOG = 2500.0
DENSITY_RANGE = 17500.0
_PEAK_FRAC = (1.0 - HALO_FRACTION) / (2.0 * np.pi * _SIGMA_PIX**2)
#: Scale of the characteristic curve: the peak of a SATURATION_MAG star reaches 95 % of the range.
RESPONSE_SCALE = float(
    np.log10(1.0 + (ph.mag_to_flux(ph.SATURATION_MAG, ZEROPOINT) * _PEAK_FRAC + SKY_PER_PIXEL) / SKY_PER_PIXEL)
) / 3.0


@dataclass(frozen=True)
class OpticalScene:
    """Objects of one optical image, in 0-based pixel coordinates of that image.

    Stars are point sources; galaxies are Sersic profiles with effective radius ``gal_re`` (pixels),
    index ``gal_n``, axis ratio ``gal_q`` and position angle ``gal_pa`` (degrees).
    """

    star_x: FloatArray
    star_y: FloatArray
    star_mag: FloatArray
    gal_x: FloatArray
    gal_y: FloatArray
    gal_mag: FloatArray
    gal_re: FloatArray
    gal_n: FloatArray
    gal_q: FloatArray
    gal_pa: FloatArray


def _sersic_b(n: float) -> float:
    return 2.0 * n - 1.0 / 3.0 + 0.009876 / n


def intensity_image(npix: int, scene: OpticalScene, margin: int = 24) -> FloatArray:
    """Noiseless intensity (sky excluded) after seeing, in units where R=25 has flux 1."""
    size = npix + 2 * margin
    faint = np.zeros((size, size))  # seeing only
    bright = np.zeros((size, size))  # seeing + photographic halo
    # galaxies smaller than a pixel are deposited like stars
    gre = np.asarray(scene.gal_re, dtype=float)
    small = gre < 0.8
    px = np.concatenate([np.asarray(scene.star_x, dtype=float), np.asarray(scene.gal_x, dtype=float)[small]]) + margin
    py = np.concatenate([np.asarray(scene.star_y, dtype=float), np.asarray(scene.gal_y, dtype=float)[small]]) + margin
    pmag = np.concatenate([np.asarray(scene.star_mag, dtype=float), np.asarray(scene.gal_mag, dtype=float)[small]])
    flux = ph.mag_to_flux(pmag, ZEROPOINT)
    inside = (px >= 0) & (px < size - 1) & (py >= 0) & (py < size - 1)
    px, py, flux, pmag = px[inside], py[inside], flux[inside], pmag[inside]
    x0 = np.floor(px).astype(int)
    y0 = np.floor(py).astype(int)
    fx, fy = px - x0, py - y0
    is_bright = pmag < HALO_MAG
    for target, sel in ((faint, ~is_bright), (bright, is_bright)):
        if not sel.any():
            continue
        for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            np.add.at(target, (y0[sel] + dy, x0[sel] + dx), (flux * w)[sel])
    # resolved galaxies: Sersic stamps normalised to their flux
    big = ~small
    gflux = ph.mag_to_flux(np.asarray(scene.gal_mag, dtype=float)[big], ZEROPOINT)
    gmag = np.asarray(scene.gal_mag, dtype=float)[big]
    for x, y, f, m, re, n, q, pa in zip(
        np.asarray(scene.gal_x, dtype=float)[big] + margin, np.asarray(scene.gal_y, dtype=float)[big] + margin,
        gflux, gmag, gre[big], np.asarray(scene.gal_n)[big], np.asarray(scene.gal_q)[big],
        np.asarray(scene.gal_pa)[big],
    ):
        half = int(np.clip(np.ceil(6.0 * re) + 3, 4, 150))
        xc, yc = int(round(x)), int(round(y))
        xlo, xhi = max(xc - half, 0), min(xc + half + 1, size)
        ylo, yhi = max(yc - half, 0), min(yc + half + 1, size)
        if xlo >= xhi or ylo >= yhi:
            continue
        a = np.radians(pa)
        dxp = np.arange(xlo, xhi)[None, :] - x
        dyp = np.arange(ylo, yhi)[:, None] - y
        xr = dxp * np.cos(a) + dyp * np.sin(a)
        yr = (-dxp * np.sin(a) + dyp * np.cos(a)) / q
        r = np.hypot(xr, yr)
        prof = np.exp(-_sersic_b(n) * ((r / re) ** (1.0 / n) - 1.0))
        tot = prof.sum()
        if tot > 0:
            target = bright if m < HALO_MAG else faint
            target[ylo:yhi, xlo:xhi] += f * prof / tot
    out = ndimage.gaussian_filter(faint + (1.0 - HALO_FRACTION) * bright, _SIGMA_PIX, mode="constant", truncate=4.0)
    if bright.any():
        out += HALO_FRACTION * ndimage.gaussian_filter(bright, HALO_SIGMA_PIX, mode="constant", truncate=4.0)
    return out[margin:-margin, margin:-margin]


def density(intensity: FloatArray) -> FloatArray:
    """Photographic density-like values of an intensity map that includes the sky.

    A characteristic curve: D = fog + range (1 - exp(-log10(1 + I/sky) / scale)); sky sits about a
    third of the way up, stars of R <~ 12.5 fill the range (saturate).

    Examples
    --------
    >>> d = density(np.array([0.0, SKY_PER_PIXEL, 1e9]))
    >>> int(d[0]), int(d[1]) > 5000, int(d[2]) > 19990
    (2500, True, True)
    """
    x = np.log10(1.0 + np.clip(intensity, 0.0, None) / SKY_PER_PIXEL)
    return FOG + DENSITY_RANGE * (1.0 - np.exp(-x / RESPONSE_SCALE))


def render_optical(npix: int, scene: OpticalScene, rng: np.random.Generator) -> NDArray[np.int16]:
    """Render a DSS2-red-like image (16-bit integers) of ``npix`` x ``npix`` 1" pixels.

    Parameters
    ----------
    npix : int
        Image side in pixels.
    scene : OpticalScene
        Stars and galaxies in pixel coordinates.
    rng : numpy.random.Generator
        Source of the sky and photon noise.

    Examples
    --------
    >>> empty = OpticalScene(*([np.zeros(0)] * 10))
    >>> im = render_optical(50, empty, np.random.default_rng(0))
    >>> im.dtype.name, 4000 < float(im.mean()) < 9000
    ('int16', True)
    """
    lin = intensity_image(npix, scene) + SKY_PER_PIXEL
    noisy = lin + rng.normal(0.0, 1.0, lin.shape) * np.sqrt(lin / GAIN)
    return np.round(density(noisy)).astype(np.int16)


__all__ = ["OpticalScene", "density", "intensity_image", "render_optical"]
