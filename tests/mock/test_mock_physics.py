"""Physics of the mock survey: numbers from docs/mock-survey.md, checked on the rendered images."""

from __future__ import annotations

import numpy as np
import pytest
from mocksurvey_fixtures import tiny_survey  # noqa: F401  (fixture)

from hunt_clusters.mock import _physics as ph
from hunt_clusters.mock._candidate import _cluster, _Scene
from hunt_clusters.mock._optical import FOG, DENSITY_RANGE, SKY_PER_PIXEL, GAIN, OpticalScene, density, intensity_image
from hunt_clusters.mock._xray import (
    BetaSource,
    PointSource,
    XrayGeometry,
    background_map,
    beta_image,
    chip_mask,
    render_xray,
)


def test_logn_logs_matches_the_tabulated_counts() -> None:
    # mock-physics.md section 4, N(>S) per deg2 [D]
    s = [1e-15, 5e-15, 1e-14, 2e-14, 5e-14, 1e-13]
    expected = [782, 244, 126, 55, 14, 4.5]
    assert ph.logn_logs(s) == pytest.approx(expected, rel=0.03)


def test_cluster_scaling_worked_example() -> None:
    # mock-physics.md: M500=1e14 at z=0.3 -> T~2.5 keV, L(0.5-2)~3e43, flux ~1e-13
    t = ph.temperature_from_mass(1e14, 0.3)
    lum = ph.luminosity_from_temperature(t, 0.3)
    assert float(t) == pytest.approx(2.5, abs=0.05)
    assert float(lum) == pytest.approx(3.1e43, rel=0.05)
    assert float(ph.flux_from_luminosity(lum, 0.3)) == pytest.approx(1.07e-13, rel=0.05)


def test_core_radius_shrinks_with_redshift_as_tabulated() -> None:
    # r_c = 0.24 R500 for M500 = 1e14: 89" (z=0.1), 34" (0.3), 23" (0.5), 15" (1.0) [D]
    z = np.array([0.1, 0.3, 0.5, 1.0])
    rc = ph.CORE_FRACTION * ph.r500_kpc(1e14, z) / ph.kpc_per_arcsec(z)
    assert rc == pytest.approx([89, 34, 23, 15], rel=0.04)
    assert np.all(np.diff(rc) < 0)


def test_core_radius_shrinks_with_redshift_in_the_survey(tiny_survey) -> None:  # type: ignore[no-untyped-def]
    cat = tiny_survey.catalogue
    cl = np.isin(np.asarray(cat["true_class"]), ["low-z", "hi-z"])
    z = np.asarray(cat["redshift"])[cl]
    rc = np.asarray(cat["core_radius_arcsec"])[cl]
    low, high = rc[z < 0.35], rc[z > 0.45]
    assert low.size > 5 and high.size > 3
    assert np.median(high) < 0.6 * np.median(low)


def _geometry(exposure: float = 1e4, npix: int = 96) -> XrayGeometry:
    c = (npix - 1) / 2
    return XrayGeometry(npix=npix, pointing_xy=(c, c), roll_deg=0.0, exposure_s=exposure)


def _encircled(img: np.ndarray, x0: float, y0: float, r_arcsec: float, pix: float = 2.5) -> float:
    yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    return float(img[np.hypot(xx - x0, yy - y0) * pix <= r_arcsec].sum())


def test_bright_point_source_has_the_xmm_encircled_energy() -> None:
    # pn EE at 15"/30" = 0.71/0.88 (SAS eupper docs); on-axis FWHM ~6" (UHB).
    # The source sits 1.8' from the optical axis, away from the pn chip gaps through it.
    geom = XrayGeometry(npix=128, pointing_xy=(20.0, 20.0), roll_deg=0.0, exposure_s=1e6)
    x0 = y0 = 50.0
    im = render_xray(geom, [PointSource(x0, y0, 1.0)], [], np.random.default_rng(1))
    net = im.counts - im.background
    total = 1.0 * 1e6 * float(ph.vignetting(np.hypot(30, 30) * 2.5 / 60))
    assert _encircled(net, x0, y0, 15.0) / total == pytest.approx(0.71, abs=0.04)
    assert _encircled(net, x0, y0, 30.0) / total == pytest.approx(0.88, abs=0.03)
    assert float(ph.king_fwhm(ph.psf_core_radius(0.0))) == pytest.approx(6.0, abs=0.3)


def test_psf_widens_off_axis() -> None:
    npix = 64
    on = XrayGeometry(npix, (31.5, 31.5), 0.0, 1e6)
    off = XrayGeometry(npix, (31.5 + 12 * 60 / 2.5, 31.5), 0.0, 1e6)  # source 12' off axis
    rng = np.random.default_rng(2)
    ee = []
    for g in (on, off):
        im = render_xray(g, [PointSource(31.5 + 6, 31.5 + 6, 1.0)], [], rng)
        net = im.model - im.background
        ee.append(_encircled(net, 37.5, 37.5, 10.0) / net.sum())
    assert ee[1] < ee[0] - 0.05


def test_background_matches_rate_times_exposure() -> None:
    geom = XrayGeometry(npix=128, pointing_xy=(20.0, 20.0), roll_deg=0.0, exposure_s=2e4)
    # hand-computed at pixel (30, 30), 0.589' off axis (V = 0.9823; half the background vignetted):
    # 0.0041 c/s/arcmin2 * (2.5/60)^2 arcmin2 * 2e4 s * (0.5 + 0.5 * 0.9823) = 0.14110 counts/pixel
    bkg = background_map(geom)
    assert float(bkg[30, 30]) == pytest.approx(0.14110, rel=1e-3)
    im = render_xray(geom, [], [], np.random.default_rng(3))
    good = chip_mask(geom) == 1.0
    expected = float(bkg[good].mean())
    sigma = np.sqrt(expected / good.sum())
    assert abs(float(im.counts[good].mean()) - expected) < 4 * sigma


def test_exposure_map_has_chip_gaps_vignetting_and_field_edge() -> None:
    npix = 128
    # optical axis 14' to the right: the field edge at 15' crosses the image
    geom = XrayGeometry(npix, (63.5 - 14 * 60 / 2.5, 63.5), 0.0, 1e4)
    im = render_xray(geom, [], [], np.random.default_rng(4))
    exp = im.exposure
    assert exp.max() < 1e4 * float(ph.vignetting(11.0))  # vignetted everywhere here
    assert (exp == 0).sum() > 100  # outside the field of view
    assert np.isclose(exp[exp > 0] / exp.max(), 1 - ph.PN_SHARE, atol=0.05).sum() > 0  # pn gaps


def test_beta_model_is_normalised_within_r500() -> None:
    geom = _geometry(npix=160)
    src = BetaSource(79.5, 79.5, rate=1.0, core_arcsec=10.0, r_max_arcsec=40.0)
    img = beta_image(geom, src, rc_psf=4.0)
    # The rate is the flux within r_max = 40": the beta model (beta=2/3) holds
    # (1 - 1/sqrt(1 + 120^2/10^2)) / (1 - 1/sqrt(1 + 40^2/10^2)) = 1.2105 times that within 120",
    # less what the King PSF kernel (+-100") leaves out: EE(100") = 1 - 1/sqrt(1 + (100/4)^2) = 0.960.
    assert _encircled(img, 79.5, 79.5, 120.0) == pytest.approx(1.2105 * 0.960, abs=0.03)


def test_hi_z_clusters_show_fewer_members_than_low_z_at_equal_richness() -> None:
    def visible(z: float, seed: int) -> int:
        t = {"redshift": z, "r500_arcsec": 600.0 / float(ph.kpc_per_arcsec(z)), "flux": 1e-13,
             "agn_fraction": 0.0, "core_radius_arcsec": 20.0, "richness": 40.0}
        return int(_cluster(np.random.default_rng(seed), _Scene(), t, 180.0)["n_members_visible"])

    low = [visible(0.15, s) for s in range(8)]
    high = [visible(0.7, s) for s in range(8)]
    assert np.mean(low) >= 10
    assert np.mean(high) <= 1
    # the magnitude of L* at z=0.7 lies beyond the DSS galaxy depth (R~20)
    assert float(ph.mstar_r(0.7)) > ph.GALAXY_LIMIT_MAG + 1.5


def _stars(x: list[float], y: list[float], mag: list[float]) -> OpticalScene:
    e = np.zeros(0)
    return OpticalScene(np.array(x), np.array(y), np.array(mag), e, e, e, e, e, e, e)


def test_bright_stars_saturate_and_faint_ones_stay_in_the_linear_range() -> None:
    lin = intensity_image(80, _stars([20.0, 60.0], [40.0, 40.0], [10.0, 17.0])) + SKY_PER_PIXEL
    d = density(lin)
    sky = float(density(np.array(SKY_PER_PIXEL)))
    assert d[40, 20] > FOG + 0.98 * DENSITY_RANGE  # R=10 saturates
    assert sky < d[40, 60] < FOG + 0.9 * DENSITY_RANGE  # R=17 does not
    # a star at the plate limit R=20.8 is a ~5 sigma detection (PSF-weighted)
    psf = intensity_image(41, _stars([20.0], [20.0], [20.8]))
    snr = float((psf**2).sum() / np.sqrt((psf**2 * SKY_PER_PIXEL / GAIN).sum()))
    assert snr == pytest.approx(5.0, rel=0.15)


def test_member_magnitudes_follow_mstar_table() -> None:
    # m*_R = Rykoff+12 m*_i + 0.2: 16.5 (z=0.1), 18.1 (0.2), 19.1 (0.3); ~20.7 at z=0.5
    assert ph.mstar_r([0.1, 0.2, 0.3, 0.5]) == pytest.approx([16.47, 18.05, 19.05, 20.7], abs=0.1)
