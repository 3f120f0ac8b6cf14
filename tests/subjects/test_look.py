"""Issue 11 item 4: subjects look alike for no physical reason no more: the sky at one grey, marks
legible on any sky, no contour traced by noise."""

from __future__ import annotations

import numpy as np
import pytest
from subjects_synth import gaussian_blob, tan_wcs

from hunt_clusters.subjects import RenderConfig, make_tensor, render_overlay

RA0, DEC0 = 150.0, 2.0
FLAT_XRAY = (np.full((144, 144), 1.0), tan_wcs(RA0, DEC0, 2.5, 144))


def _field(sky: float, noise: float, n_stars: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.normal(sky, noise, (360, 360))
    for _ in range(n_stars):
        img += gaussian_blob((360, 360), rng.uniform(0, 360), rng.uniform(0, 360), 1.6, rng.uniform(20, 300) * noise)
    return img


def _grey(optical: np.ndarray, cfg: RenderConfig) -> np.ndarray:
    ov = render_overlay((optical, tan_wcs(RA0, DEC0, 1.0, 360)), FLAT_XRAY, RA0, DEC0, cfg)
    return np.asarray(ov.image)[..., 0]


def test_the_sky_is_shown_at_one_grey_whatever_the_plate() -> None:
    cfg = RenderConfig(size=256, compass=False, scale_bar_arcmin=0)
    empty = _grey(_field(1000.0, 8.0, 0, 1), cfg)             # a blank field of a shallow plate
    crowded = _grey(_field(5000.0, 40.0, 60, 2), cfg)         # another zero point, many stars
    target = 255 * cfg.sky_grey
    for img in (empty, crowded):
        assert abs(float(np.median(img)) - target) <= 10
    assert abs(float(np.median(empty)) - float(np.median(crowded))) <= 8
    # and the bright end reaches white in the crowded field
    assert (crowded == 255).sum() > 50


def test_tensor_optical_channel_keeps_its_normalisation() -> None:
    opt = (_field(1000.0, 8.0, 30, 3), tan_wcs(RA0, DEC0, 1.0, 360))
    sky = make_tensor(opt, FLAT_XRAY, RA0, DEC0, RenderConfig(tensor_size=32))
    pct = make_tensor(opt, FLAT_XRAY, RA0, DEC0, RenderConfig(tensor_size=32, interval="percentile"))
    np.testing.assert_array_equal(sky, pct)


def test_scale_bar_and_compass_are_legible_on_a_white_sky() -> None:
    opt = _field(1000.0, 8.0, 0, 4)
    yy, xx = np.mgrid[:360, :360]
    # two huge saturated galaxies under the marks (bottom left: scale bar; top right: compass)
    for cx, cy in ((40, 40), (320, 320)):
        opt[np.hypot(xx - cx, yy - cy) < 110] = 60000.0
    size = 512
    plain = _grey(opt, RenderConfig(size=size, compass=False, scale_bar_arcmin=0))
    marked = _grey(opt, RenderConfig(size=size))
    # just below the bar (y = size - 20, from x = 20 to 105) the sky is white ...
    band = (slice(size - 20 + 3, size - 20 + 6), slice(30, 95))
    assert plain[band].mean() > 240
    # ... and the bar stands on a dark backing there, as does the compass
    assert marked[band].mean() < 110
    corner = (slice(0, 110), slice(400, size))
    assert (marked[corner] < 110).mean() > 0.4 and (plain[corner] < 110).mean() < 0.05


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_noise_draws_no_contour_away_from_the_source(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 144
    counts = rng.poisson(0.3 + gaussian_blob((n, n), 100.0, 60.0, 2.0, 60.0)).astype(np.int32)
    opt = (_field(1000.0, 8.0, 0, 5), tan_wcs(RA0, DEC0, 1.0, 360))
    cfg = RenderConfig(size=256, peak_radius_arcmin=0)  # levels from the bright source, whole field
    ov = render_overlay(opt, (counts, tan_wcs(RA0, DEC0, 2.5, n)), RA0, DEC0, cfg)
    assert ov.contours.levels.size == cfg.n_levels
    # the source is at X-ray pixel (100, 60): optical pixel (100 - 71.5) * 2.5 + 179.5
    src = np.array([(100 - 71.5) * 2.5 + 179.5, (60 - 71.5) * 2.5 + 179.5])
    stray = [line for lines in ov.contours.lines for line in lines
             if np.hypot(*(line.mean(axis=0) - src)) > 60]  # more than 1' from the source
    assert stray == []
