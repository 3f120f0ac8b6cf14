"""Real FITS: ROSAT Coma over the SkyView DSS of Coma; XMM A907/A1835; the DSS plate-solution file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from subjects_synth import gaussian_blob, tan_wcs

from hunt_clusters.sky import load_optical, load_xray
from hunt_clusters.subjects import RenderConfig, make_tensor, render_overlay

COMA = (194.94, 27.93)  # Coma's X-ray core
RASS_PIXEL_ARCSEC = 45.0


def _centroid(line: np.ndarray) -> np.ndarray:
    return line[:-1].mean(axis=0) if np.allclose(line[0], line[-1]) else line.mean(axis=0)


def _star_field(ra: float, dec: float, n: int = 480, rot: float = 10.0) -> tuple[np.ndarray, object]:
    rng = np.random.default_rng(11)
    img = rng.normal(1000.0, 10.0, (n, n))
    for _ in range(60):
        img += gaussian_blob((n, n), rng.uniform(0, n), rng.uniform(0, n), 1.6, rng.uniform(100, 3000))
    return img, tan_wcs(ra, dec, 1.0, n, rot_deg=rot)


def test_rosat_coma_contours_sit_on_the_core_in_the_dss_frame(real_dir: Path) -> None:
    dss = real_dir / "dss" / "skyview_dss_coma_A1656.fits"
    rass = real_dir / "rosat" / "rass_hard_counts_coma.fits"
    cfg = RenderConfig(fov_arcmin=50, smooth_arcsec=60, scale_bar_arcmin=10)
    ov = render_overlay(dss, rass, 194.95, 27.95, cfg)
    assert ov.image.size == (512, 512)
    assert len(ov.contours.levels) == 6
    innermost = ov.contours.lines[-1]
    assert len(innermost) == 1
    optical = load_optical(dss)
    ra, dec = optical.wcs.pixel_to_world_values(*_centroid(innermost[0]))
    sep = np.hypot((ra - COMA[0]) * np.cos(np.radians(COMA[1])), dec - COMA[1]) * 3600
    # the peak of a 45" binned map is known to about a pixel; smoothing adds half a pixel
    assert sep < 1.5 * RASS_PIXEL_ARCSEC
    # the lowest contour encloses a large region: Coma is ~1 deg across in RASS
    outer = max(ov.contours.lines[0], key=len)
    assert np.ptp(outer[:, 0]) * optical.pixel_scale_arcsec > 20 * 60


def test_rosat_coma_tensor(real_dir: Path) -> None:
    dss = real_dir / "dss" / "skyview_dss_coma_A1656.fits"
    rass = real_dir / "rosat" / "rass_hard_counts_coma.fits"
    cfg = RenderConfig(smooth_arcsec=60, tensor_fov_arcmin=50, tensor_size=64)
    t = make_tensor(dss, rass, *COMA, cfg)
    assert t.shape == (64, 64, 2)
    row, col = np.unravel_index(np.argmax(t[..., 1]), (64, 64))
    # peak within 2 tensor pixels (47") of the core; centre of the grid is (31.5, 31.5)
    assert abs(row - 31.5) <= 2.5 and abs(col - 31.5) <= 2.5
    assert t[..., 0].std() > 0.05  # the galaxies are there


@pytest.mark.parametrize(
    ("name", "centre", "has_exposure", "has_background"),
    [
        ("0201903501_pn_exp1-0.50-2.00keVimg.fits", (149.5916, -11.0642), True, False),
        ("0201901401-0.50-2.00keVmerged_img.fits", (149.5916, -11.0642), False, False),
        ("P0098010101M2U009IMAGE_3000.FTZ", (210.2588, 2.8786), True, True),
    ],
)
def test_real_xmm_clusters_over_a_synthetic_optical_field(real_dir: Path, name: str, centre: tuple,
                                                          has_exposure: bool, has_background: bool) -> None:
    path = real_dir / "xmm" / name
    xray = load_xray(path)
    assert (xray.exposure is not None, xray.background is not None) == (has_exposure, has_background)
    optical = _star_field(*centre)
    ov = render_overlay(optical, path, *centre, RenderConfig(fov_arcmin=7))
    assert len(ov.contours.levels) == 6
    wcs = optical[1]
    best = min(
        (np.hypot(*((np.array(wcs.pixel_to_world_values(*_centroid(line))) - centre)
                    * [np.cos(np.radians(centre[1])), 1])) * 3600 for line in ov.contours.lines[-1])
    )
    assert best < 3 * xray.pixel_scale_arcsec  # the cluster's core, within 3 XMM pixels


def test_dss_plate_file_with_a_synthetic_point_source(real_dir: Path) -> None:
    dss = real_dir / "dss" / "dss.14.29.56-62.41.05.fits.gz"
    optical = load_optical(dss)
    ny, nx = optical.data.shape
    ra0, dec0 = (float(v) for v in optical.wcs.pixel_to_world_values((nx - 1) / 2, (ny - 1) / 2))
    src = (ra0 + 20 / 3600 / np.cos(np.radians(dec0)), dec0 - 15 / 3600)
    wx = tan_wcs(ra0, dec0, 2.5, 120, rot_deg=17.0)
    sx, sy = wx.world_to_pixel_values(*src)
    counts = 0.1 + gaussian_blob((120, 120), float(sx), float(sy), 2.0, 300.0)
    ov = render_overlay(dss, (counts, wx), ra0, dec0, RenderConfig(fov_arcmin=2.5))
    true = np.array(optical.wcs.world_to_pixel_values(*src), dtype=float)
    (inner,) = ov.contours.lines[-1]
    assert np.hypot(*(_centroid(inner) - true)) < 0.5
