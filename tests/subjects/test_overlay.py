"""The overlay: contour placement through two WCSs, levels, noise, corrections, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from subjects_synth import gaussian_blob, tan_wcs

from hunt_clusters._errors import InputError
from hunt_clusters.sky import load_xray
from hunt_clusters.subjects import (
    EmptyXrayError,
    OutsideFootprintError,
    RenderConfig,
    SubjectTooLargeError,
    contour_levels,
    encode_subject,
    render_overlay,
    xray_signal,
)

RA0, DEC0 = 150.0, 2.0


def _polygon_centroid(line: np.ndarray) -> np.ndarray:
    x, y = line[:, 0], line[:, 1]
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    area = cross.sum() / 2
    cx = ((x[:-1] + x[1:]) * cross).sum() / (6 * area)
    cy = ((y[:-1] + y[1:]) * cross).sum() / (6 * area)
    return np.array([cx, cy])


@pytest.fixture(scope="module")
def point_pair() -> dict:
    """A point source 1' off the centres; X-ray rotated 30 deg at 2.5"/px, optical -15 deg at 0.9"/px."""
    wx = tan_wcs(RA0, DEC0, 2.5, 160, rot_deg=30.0, crpix=(75.3, 88.9))
    wo = tan_wcs(RA0 + 0.003, DEC0 - 0.002, 0.9, 400, rot_deg=-15.0)
    src_ra, src_dec = RA0 + 0.9 / 60 / np.cos(np.radians(DEC0)), DEC0 + 0.6 / 60
    sx, sy = wx.world_to_pixel_values(src_ra, src_dec)
    counts = 0.2 + gaussian_blob((160, 160), float(sx), float(sy), 2.0, 500.0)
    optical = np.random.default_rng(0).normal(100.0, 3.0, (400, 400))
    return {"xray": (counts, wx), "optical": (optical, wo), "src": (src_ra, src_dec), "wo": wo}


def test_point_source_contour_centre_within_half_an_optical_pixel(point_pair: dict) -> None:
    ov = render_overlay(point_pair["optical"], point_pair["xray"], RA0, DEC0, RenderConfig(fov_arcmin=5))
    true_xy = np.array(point_pair["wo"].world_to_pixel_values(*point_pair["src"]), dtype=float)
    assert len(ov.contours.levels) == 6
    innermost = ov.contours.lines[-1]
    assert len(innermost) == 1
    offset = np.hypot(*(_polygon_centroid(innermost[0]) - true_xy))
    assert offset < 0.5
    # every level of a symmetric source is centred on it too
    for lines in ov.contours.lines:
        main = max(lines, key=len)
        assert np.hypot(*(_polygon_centroid(main) - true_xy)) < 0.5


def test_contour_pixels_land_where_the_source_is_in_the_png(point_pair: dict) -> None:
    cfg = RenderConfig(fov_arcmin=5, size=400, antialias=False, colors=("#ff0000",),
                       compass=False, scale_bar_arcmin=0)
    ov = render_overlay(point_pair["optical"], point_pair["xray"], RA0, DEC0, cfg)
    px, py = point_pair["wo"].world_to_pixel_values(*point_pair["src"])
    crop = ov.crop
    k = cfg.size / crop.n
    expect_col = (px - crop.x0 + 0.5) * k - 0.5
    expect_row = cfg.size - 0.5 - (py - crop.y0 + 0.5) * k
    rgb = np.asarray(ov.image).astype(int)
    red = (rgb[..., 0] == 255) & (rgb[..., 1] == 0) & (rgb[..., 2] == 0)
    rows, cols = np.nonzero(red)
    assert red.sum() > 50
    # the red pixels of a round source surround it: their mean is its position
    assert abs(cols.mean() - expect_col) < 1.5
    assert abs(rows.mean() - expect_row) < 1.5


def test_contour_levels_are_log_spaced_from_noise_to_peak() -> None:
    levels = contour_levels(noise=1.0, peak=3 * 2.0**6, n_levels=6, min_sigma=3.0)
    np.testing.assert_allclose(levels, [3, 6, 12, 24, 48, 96])
    np.testing.assert_allclose(contour_levels(0.5, 40.0, 2, 4.0), [2.0, 2.0 * np.sqrt(20.0)])
    assert contour_levels(1.0, 2.9, 6, 3.0).size == 0


def test_noise_formula_matches_smoothed_poisson_background() -> None:
    wx = tan_wcs(RA0, DEC0, 2.5, 200)
    counts = np.random.default_rng(5).poisson(4.0, (200, 200)).astype(float)
    cfg = RenderConfig(smooth_arcsec=10.0)  # sigma = 4 pixels
    sig = xray_signal(load_xray((counts, wx)), RA0, DEC0, 150.0, cfg)
    expected = np.sqrt(4.0 / (4 * np.pi * 16.0))
    assert sig.sigma_pix == pytest.approx(4.0)
    assert sig.noise == pytest.approx(expected, rel=0.02)  # background estimated from the median
    inner = sig.net
    assert float(inner.std()) == pytest.approx(expected, rel=0.15)


def test_exposure_and_background_maps_are_used() -> None:
    wx = tan_wcs(RA0, DEC0, 2.5, 120)
    exposure = np.full((120, 120), 1000.0)
    exposure[:, 40:] = 2000.0  # most of the cutout (columns 25-95) has 2000 s
    background = exposure * 0.001  # 1e-3 counts/s/pixel
    counts = background.copy()  # noise-free: nothing but background
    hdul = fits.HDUList([
        fits.PrimaryHDU(counts, header=wx.to_header()),
        fits.ImageHDU(exposure, header=wx.to_header(), name="EXPOSURE"),
        fits.ImageHDU(background, header=wx.to_header(), name="BKGMAP"),
    ])
    m = load_xray(hdul)
    assert m.exposure is not None and m.background is not None
    sig = xray_signal(m, RA0, DEC0, 60.0, RenderConfig())
    assert sig.background == pytest.approx(1e-3)
    assert float(np.abs(sig.net).max()) < 1e-9
    # noise in rate units: sqrt(B / (4 pi s^2)) / E with the medians B = 2 counts and E = 2000 s
    s = RenderConfig().smooth_arcsec / 2.5
    assert sig.noise == pytest.approx(np.sqrt(2.0 / (4 * np.pi * s * s)) / 2000.0)


def test_nan_pixels_in_the_xray_map_are_masked_not_fatal(point_pair: dict) -> None:
    counts, wx = point_pair["xray"]
    holed = counts.copy()
    holed[:, :40] = np.nan
    ov = render_overlay(point_pair["optical"], (holed, wx), RA0, DEC0, RenderConfig(fov_arcmin=5))
    assert len(ov.contours.levels) == 6


def test_candidate_outside_the_optical_image(point_pair: dict) -> None:
    with pytest.raises(OutsideFootprintError, match=r"outside this optical image"):
        render_overlay(point_pair["optical"], point_pair["xray"], RA0 + 1.0, DEC0)


def test_empty_xray_cutout(point_pair: dict) -> None:
    _, wx = point_pair["xray"]
    with pytest.raises(EmptyXrayError, match="holds no counts"):
        render_overlay(point_pair["optical"], (np.zeros((160, 160)), wx), RA0, DEC0)
    with pytest.raises(EmptyXrayError, match="all NaN"):
        render_overlay(point_pair["optical"], (np.full((160, 160), np.nan), wx), RA0, DEC0)


def test_optical_without_wcs_names_the_file(tmp_path, point_pair: dict) -> None:
    path = tmp_path / "nowcs.fits"
    fits.PrimaryHDU(np.ones((50, 50), dtype=np.float32)).writeto(path)
    with pytest.raises(InputError, match=r"nowcs\.fits: WCS is not celestial"):
        render_overlay(path, point_pair["xray"], RA0, DEC0)


def test_all_nan_optical_is_an_input_error(point_pair: dict) -> None:
    _, wo = point_pair["optical"]
    with pytest.raises(InputError, match="no finite optical pixels"):
        render_overlay((np.full((400, 400), np.nan), wo), point_pair["xray"], RA0, DEC0)


def test_unknown_image_form_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="cannot use a int as an image; accepted: a path"):
        render_overlay(42, (np.ones((8, 8)), tan_wcs(RA0, DEC0, 2.5, 8)), RA0, DEC0)


def test_faint_source_renders_without_contours(point_pair: dict) -> None:
    _, wx = point_pair["xray"]
    flat = np.full((160, 160), 3.0)
    ov = render_overlay(point_pair["optical"], (flat, wx), RA0, DEC0)
    assert ov.contours.levels.size == 0 and ov.image.size == (512, 512)


def test_jpeg_quality_is_lowered_to_fit_and_png_fails_clearly() -> None:
    from PIL import Image

    noise = Image.fromarray(np.random.default_rng(2).integers(0, 255, (512, 512, 3), dtype=np.uint8))
    data, note = encode_subject(noise, RenderConfig(format="jpeg"), max_bytes=200_000)
    assert len(data) <= 200_000 and "quality lowered" in note
    with pytest.raises(SubjectTooLargeError, match="above the 200000-byte limit"):
        encode_subject(noise, RenderConfig(format="png"), max_bytes=200_000)


def test_output_is_square_rgb_of_the_configured_size(point_pair: dict) -> None:
    for size in (256, 333):
        ov = render_overlay(point_pair["optical"], point_pair["xray"], RA0, DEC0, RenderConfig(size=size))
        assert ov.image.size == (size, size) and ov.image.mode == "RGB"


def test_config_rejects_bad_values_with_the_option_name() -> None:
    with pytest.raises(InputError, match=r"format='gif'.*one of png, jpeg"):
        RenderConfig(format="gif")
    with pytest.raises(InputError, match=r"colors='green'.*#rrggbb"):
        RenderConfig(colors="green")
    with pytest.raises(InputError, match=r"unknown render option 'fov'"):
        RenderConfig.from_mapping({"fov": 3})
    assert RenderConfig(colors="#112233,#445566").colors == ("#112233", "#445566")
    assert RenderConfig(format="JPG").format == "jpeg"


@pytest.mark.parametrize("antialias", [True, False])
def test_lines_are_drawn_where_their_vertices_are(antialias: bool) -> None:
    from PIL import Image

    from hunt_clusters.subjects._overlay import _draw_lines

    img = Image.new("RGB", (30, 30))
    # a horizontal line through pixel centres of row 10 (2 px wide: rows 9.5-10.5 fully, 9 and 11 half)
    line = np.array([[4.0, 10.0], [25.0, 10.0], [np.nan, 10.0]])  # the NaN vertex is left out
    _draw_lines(img, [((255, 0, 0), [line])], RenderConfig(line_width=2.0, antialias=antialias))
    red = np.asarray(img)[..., 0].astype(int)
    assert (np.asarray(img)[..., 1:] == 0).all()
    middle = red[:, 8:22]
    assert (middle[10] == 255).all()
    assert (middle[:8] == 0).all() and (middle[13:] == 0).all()
    if antialias:  # half-covered rows are half red: the edge is anti-aliased, at the right place
        assert (abs(middle[9] - 128) <= 3).all() and (abs(middle[11] - 128) <= 3).all()
        assert (middle[8] == 0).all() and (middle[12] == 0).all()
    else:  # Pillow's 2-px line: pure red, two rows
        assert sorted({int(r) for r in np.nonzero(middle.max(axis=1))[0]}) in ([9, 10], [10, 11])
        assert set(np.unique(middle)) <= {0, 255}


# --------------------------------------------------------------------------- fast paths: same results
def test_homography_equals_the_wcs_round_trip_for_two_tan_frames(point_pair: dict) -> None:
    from hunt_clusters.subjects._overlay import apply_homography, pixel_homography

    wx = tan_wcs(RA0, DEC0, 2.5, 160, rot_deg=30.0, crpix=(75.3, 88.9))
    wo = tan_wcs(RA0 + 0.25, DEC0 - 0.2, 0.9, 400, rot_deg=-15.0)  # tangent points 19' apart
    h = pixel_homography(wx, wo, (0.0, 0.0, 159.0, 159.0))
    assert h is not None
    p = np.random.default_rng(3).uniform(0, 159, (1000, 2))
    exact = np.column_stack(wo.world_to_pixel_values(*wx.pixel_to_world_values(p[:, 0], p[:, 1])))
    assert np.abs(apply_homography(h, p) - exact).max() < 1e-6


def test_homography_refuses_other_projections_and_distortions() -> None:
    from astropy.wcs import WCS

    from hunt_clusters.subjects._overlay import pixel_homography

    tan = tan_wcs(RA0, DEC0, 2.5, 160)
    box = (0.0, 0.0, 159.0, 159.0)
    for proj in ("SIN", "CAR", "ZEA"):
        other = WCS(naxis=2)
        other.wcs.ctype = [f"RA---{proj}", f"DEC--{proj}"]
        other.wcs.cdelt = [-2.5 / 3600, 2.5 / 3600]
        other.wcs.crval = [RA0 + 0.3, DEC0 + 0.3]
        other.wcs.crpix = [80.5, 80.5]
        assert pixel_homography(other, tan, box) is None, proj
        assert pixel_homography(tan, other, box) is None, proj
    header = tan.to_header()
    header.update({"CTYPE1": "RA---TAN-SIP", "CTYPE2": "DEC--TAN-SIP", "A_ORDER": 2, "B_ORDER": 2,
                   "A_2_0": 1e-4, "B_0_2": -1e-4})
    sip = WCS(header)
    assert sip.sip is not None and pixel_homography(sip, tan, box) is None


def test_contours_are_the_same_through_the_homography_or_vertex_by_vertex(point_pair: dict,
                                                                            monkeypatch) -> None:
    from hunt_clusters.subjects import _overlay

    cfg = RenderConfig(fov_arcmin=5)
    fast = render_overlay(point_pair["optical"], point_pair["xray"], RA0, DEC0, cfg).contours
    monkeypatch.setattr(_overlay, "pixel_homography", lambda *a, **k: None)
    slow = render_overlay(point_pair["optical"], point_pair["xray"], RA0, DEC0, cfg).contours
    assert [len(lines) for lines in fast.lines] == [len(lines) for lines in slow.lines]
    for a, b in zip(fast.lines, slow.lines):
        for la, lb in zip(a, b):
            np.testing.assert_allclose(la, lb, atol=1e-6)


def test_net_map_equals_the_three_smoothed_maps_formula() -> None:
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(11)
    wx = tan_wcs(RA0, DEC0, 2.5, 100)
    exposure = np.full((100, 100), 8000.0)
    exposure[:, 47:50] = 0.0  # a chip gap
    exposure[60:] *= 0.6
    background = 2e-5 * exposure * (1 + 0.2 * np.linspace(0, 1, 100))[None, :]
    counts = rng.poisson(background + gaussian_blob((100, 100), 30.0, 40.0, 3.0, 40.0) * (exposure > 0))
    hdul = fits.HDUList([
        fits.PrimaryHDU(counts.astype(np.int32), header=wx.to_header()),
        fits.ImageHDU(exposure, header=wx.to_header(), name="EXPOSURE"),
        fits.ImageHDU(background, header=wx.to_header(), name="BKGMAP"),
    ])
    cfg = RenderConfig(smooth_arcsec=8.0)
    sig = xray_signal(load_xray(hdul), RA0, DEC0, 200.0, cfg)  # the box covers the whole map
    assert (sig.x0, sig.y0, sig.net.shape) == (0, 0, (100, 100))

    def smooth(a: np.ndarray) -> np.ndarray:
        return gaussian_filter(a.astype(float), 8.0 / 2.5, mode="reflect", truncate=3.0)

    se = smooth(exposure)
    valid = se >= 0.1 * se.max()
    expected = (smooth(counts) - smooth(background)) / np.where(valid, se, 1.0)
    assert np.array_equal(np.ma.getmaskarray(sig.net), ~valid)
    np.testing.assert_allclose(sig.net.data[valid], expected[valid], rtol=1e-4, atol=1e-9)
    assert np.isnan(sig.net.data[~valid]).all()
    exposed = exposure > 0
    assert sig.background == pytest.approx(np.median(background[exposed] / exposure[exposed]), rel=0.02)


def test_stretch_takes_nan_and_infinities_to_the_ends() -> None:
    from hunt_clusters.subjects._overlay import stretch_uint8, stretch_unit

    v = np.array([[np.nan, -1e30, 0.0, 0.5, 1.0, 1e30, np.inf, -np.inf]], dtype=np.float32)
    cfg = RenderConfig(stretch="linear")
    # 0.5 -> entry int(0.5 * 4095) = 2047 -> round(2047 / 4095 * 255) = 127
    assert stretch_uint8(v, cfg, (0.0, 1.0)).tolist() == [[0, 0, 0, 127, 255, 255, 255, 0]]
    np.testing.assert_allclose(stretch_unit(v, cfg, (0.0, 1.0)), [[0, 0, 0, 2047 / 4095, 1, 1, 1, 0]],
                               rtol=1e-6)


def test_scale_bar_and_compass_are_drawn_white_on_black_edges() -> None:
    from astropy.wcs import WCS

    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.cdelt = [-1 / 3600, 1 / 3600]
    w.wcs.crval = [RA0, DEC0]
    w.wcs.crpix = [180.5, 180.5]
    grey = np.full((360, 360), 100.0)
    counts = np.full((144, 144), 1.0)
    cfg = RenderConfig(size=512, fov_arcmin=6)
    plain = np.asarray(render_overlay((grey, w), (counts, tan_wcs(RA0, DEC0, 2.5, 144)), RA0, DEC0,
                                      RenderConfig(size=512, fov_arcmin=6, compass=False,
                                                   scale_bar_arcmin=0)).image)
    marked = np.asarray(render_overlay((grey, w), (counts, tan_wcs(RA0, DEC0, 2.5, 144)), RA0, DEC0, cfg).image)
    changed = np.any(marked != plain, axis=2)
    # scale bar: 1' = 60 optical pixels = 85.3 output pixels from x = 20 at y = 512 - 20
    row = marked[512 - 20, :, 0]
    assert (row[22:100] == 255).all() and row[130] == plain[512 - 20, 130, 0]
    # compass in the top right, north arm pointing up from its origin (x = 512 - 20 - font size)
    assert changed[:256, 256:].any() and not changed[100:400, 100:400].any()
    ys, xs = np.nonzero(changed[:256, 256:])
    assert xs.min() + 256 > 400 and ys.max() < 110


def test_world_to_pixel_matches_astropy_with_and_without_distortion() -> None:
    from astropy.wcs import WCS

    from hunt_clusters.subjects._overlay import _world_to_pixel

    tan = tan_wcs(RA0, DEC0, 2.5, 160, rot_deg=20.0)
    header = tan.to_header()
    header.update({"CTYPE1": "RA---TAN-SIP", "CTYPE2": "DEC--TAN-SIP", "A_ORDER": 2, "B_ORDER": 2,
                   "A_2_0": 1e-4, "B_0_2": -1e-4})
    sip = WCS(header)
    for w in (tan, sip):  # wcslib directly for the plain one; astropy (SIP included) for the other
        for ra, dec in ((RA0 + 0.01, DEC0 - 0.02), ([RA0, RA0 + 0.02], [DEC0, DEC0 + 0.01])):
            x, y = _world_to_pixel(w, ra, dec)
            ex, ey = w.world_to_pixel_values(ra, dec)
            assert x.shape == y.shape == np.atleast_1d(ex).shape  # 1-d even for one position
            np.testing.assert_allclose(x, np.atleast_1d(ex), atol=1e-9)
            np.testing.assert_allclose(y, np.atleast_1d(ey), atol=1e-9)
