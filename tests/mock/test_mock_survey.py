"""The mock survey as a whole: files of docs/formats.md, samples, reproducibility, WCS, experts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS
from mocksurvey_fixtures import TINY, tiny_survey  # noqa: F401  (fixture)

from hunt_clusters import CLASSES
from hunt_clusters._errors import InputError
from hunt_clusters.mock import (
    CONTRACT_COLUMNS,
    SurveyConfig,
    SurveyResult,
    confusion_matrix,
    draw_truth,
    format_summary,
    redshift_distribution,
    simulate_survey,
)

SMALL_CONFIG = SurveyConfig(seed=5, n_expert=8, n_zooniverse=8, n_overlap=4, n_test_clusters=1, n_test_noncluster=1)


def test_catalogue_has_the_contract_columns_first(tiny_survey: SurveyResult) -> None:
    cat = Table.read(tiny_survey.catalogue_path)
    assert tuple(cat.colnames[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert len(cat) == 60
    assert len(set(cat["candidate_id"])) == 60
    for col in ("true_class", "expert_class"):
        values = set(np.ma.compressed(np.ma.asarray(cat[col]).astype(str))) - {""}
        assert values <= set(CLASSES)
    assert cat["ra"].unit == "deg" and cat["flux"].unit == "erg / (s cm2)"


def test_class_mix_is_exact_largest_remainder(tiny_survey: SurveyResult) -> None:
    tc = list(tiny_survey.catalogue["true_class"])
    # 60 candidates x (0.40, 0.15, 0.10, 0.20, 0.15) = 24, 9, 6, 12, 9
    assert [tc.count(c) for c in CLASSES] == [24, 9, 6, 12, 9]


def test_samples_overlap_and_test_set(tiny_survey: SurveyResult) -> None:
    cat = tiny_survey.catalogue
    exp, zoo, test = (np.asarray(cat[c], dtype=bool) for c in ("in_expert", "in_zooniverse", "in_test"))
    assert exp.sum() == TINY.n_expert and zoo.sum() == TINY.n_zooniverse
    assert (exp & zoo).sum() == TINY.n_overlap
    assert (exp | zoo).all()
    assert not (test & ~(exp & zoo)).any()
    spec = np.ma.filled(np.ma.asarray(cat["spec_class"]), "").astype(str)
    cluster = np.isin(np.asarray(cat["true_class"]).astype(str), ["low-z", "hi-z"])
    assert ((spec == "cluster") == (test & cluster)).all()
    assert ((spec == "non-cluster") == (test & ~cluster)).all()
    assert (spec == "cluster").sum() == 5 and (spec == "non-cluster").sum() == 5
    # expert labels exactly on the expert sample; masked (empty) elsewhere
    assert (np.ma.getmaskarray(cat["expert_class"]) == ~exp).all()


def test_redshifts_by_class(tiny_survey: SurveyResult) -> None:
    cat = tiny_survey.catalogue
    tc = np.asarray(cat["true_class"]).astype(str)
    z = np.ma.filled(np.ma.asarray(cat["redshift"], dtype=float), np.nan)
    assert ((z[tc == "low-z"] >= 0.05) & (z[tc == "low-z"] <= 0.35)).all()
    assert ((z[tc == "hi-z"] >= 0.45) & (z[tc == "hi-z"] <= 1.5)).all()
    assert ((z[tc == "galaxy"] >= 0.005) & (z[tc == "galaxy"] <= 0.05)).all()
    assert np.isnan(z[np.isin(tc, ["point", "other"])]).all()
    dist = redshift_distribution(cat)
    assert int(np.sum(dist["low-z"])) == 24 and int(np.sum(dist["hi-z"])) == 9


def test_candidate_position_lies_inside_both_images(tiny_survey: SurveyResult) -> None:
    cat = tiny_survey.catalogue
    for row in cat:
        for key, npix, scale in (("xray_image", 144, 2.5), ("optical_image", 360, 1.0)):
            with fits.open(tiny_survey.out_dir / row[key]) as hdul:
                h = hdul[0].header
                assert (h["NAXIS1"], h["NAXIS2"]) == (npix, npix)
                w = WCS(h)
                assert w.has_celestial and w.wcs.ctype[0] == "RA---TAN"
                assert abs(w.proj_plane_pixel_scales()[0].to_value("arcsec") - scale) < 1e-9
                x, y = w.world_to_pixel_values(row["ra"], row["dec"])
                # near the centre but not on it: offset of a few arcsec
                off = np.hypot(x - (npix - 1) / 2, y - (npix - 1) / 2) * scale
                assert off < 40.0
                assert 0 <= x < npix and 0 <= y < npix
    offsets = []
    for row in cat[:20]:
        w = WCS(fits.getheader(tiny_survey.out_dir / row["xray_image"]))
        x, y = w.world_to_pixel_values(row["ra"], row["dec"])
        offsets.append(np.hypot(x - 71.5, y - 71.5))
    assert np.mean(offsets) > 0.3  # not exactly centred


def test_xray_file_looks_like_an_xmm_product(tiny_survey: SurveyResult) -> None:
    row = tiny_survey.catalogue[0]
    with fits.open(tiny_survey.out_dir / row["xray_image"]) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "EXPOSURE", "BACKGROUND"]
        h = hdul[0].header
        assert h["BITPIX"] == 32 and h["TELESCOP"] == "XMM" and h["INSTRUME"] == "EPIC"
        assert h["EXPOSURE"] in (10000.0, 20000.0)
        assert (h["ENERG_LO"], h["ENERG_HI"]) == (0.5, 2.0)
        assert hdul["EXPOSURE"].data.shape == hdul[0].data.shape == hdul["BACKGROUND"].data.shape
        assert float(hdul["EXPOSURE"].data.max()) <= h["EXPOSURE"]
        pix = ([0.0, 50.0, 143.0], [0.0, 70.0, 143.0])
        assert np.allclose(WCS(hdul["EXPOSURE"].header).pixel_to_world_values(*pix), WCS(h).pixel_to_world_values(*pix))
        assert (hdul[0].data >= 0).all()
    with fits.open(tiny_survey.out_dir / row["optical_image"]) as hdul:
        h = hdul[0].header
        assert h["BITPIX"] == 16 and "Schmidt" in h["TELESCOP"]
        assert h["DATAMIN"] == hdul[0].data.min() and h["DATAMAX"] == hdul[0].data.max()
        assert 2500 <= hdul[0].data.min() and hdul[0].data.max() <= 20000


def test_clusters_are_brighter_in_xray_than_background(tiny_survey: SurveyResult) -> None:
    cat = tiny_survey.catalogue
    cl = np.asarray(cat["true_class"]) == "low-z"
    net = np.asarray(cat["net_counts"])[cl]
    assert np.median(net) > 30
    # low-z clusters show their galaxies, hi-z ones (almost) do not
    nvis = np.asarray(cat["n_members_visible"])
    tc = np.asarray(cat["true_class"])
    assert np.median(nvis[tc == "low-z"]) >= 3 and np.median(nvis[tc == "hi-z"]) <= 1


def test_same_seed_same_survey_whatever_the_jobs(tmp_path: Path) -> None:
    a = simulate_survey(tmp_path / "a", SMALL_CONFIG, jobs=1)
    b = simulate_survey(tmp_path / "b", SMALL_CONFIG, jobs=2)
    assert a.catalogue_path.read_bytes() == b.catalogue_path.read_bytes()
    for rel in list(a.catalogue["xray_image"]) + list(a.catalogue["optical_image"]):
        da, db = fits.getdata(tmp_path / "a" / rel), fits.getdata(tmp_path / "b" / rel)
        assert np.array_equal(da, db)
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    c = simulate_survey(tmp_path / "c", dataclasses.replace(SMALL_CONFIG, seed=6), jobs=1)
    assert not np.array_equal(np.asarray(a.catalogue["ra"]), np.asarray(c.catalogue["ra"]))


def test_truth_does_not_depend_on_rendering() -> None:
    t1, t2 = draw_truth(SMALL_CONFIG), draw_truth(SMALL_CONFIG)
    assert all(np.array_equal(np.asarray(t1[c]), np.asarray(t2[c]), equal_nan=t1[c].dtype.kind == "f") for c in t1.colnames)


def test_pointings_are_at_high_galactic_latitude_within_the_field() -> None:
    from astropy.coordinates import SkyCoord

    t = draw_truth(SurveyConfig.small(seed=2))
    b = SkyCoord(t["pointing_ra"], t["pointing_dec"], unit="deg").galactic.b.deg
    assert (np.abs(b) > 20).all()
    assert (np.asarray(t["offaxis_arcmin"]) <= 13.0).all()
    sep = SkyCoord(t["pointing_ra"], t["pointing_dec"], unit="deg").separation(
        SkyCoord(t["true_ra"], t["true_dec"], unit="deg")
    ).arcmin
    assert sep == pytest.approx(np.asarray(t["offaxis_arcmin"]), abs=1e-6)


def test_confusion_matrix_counts_the_expert_sample(tiny_survey: SurveyResult) -> None:
    cm = confusion_matrix(tiny_survey.catalogue)
    total = sum(int(np.sum(cm[c])) for c in CLASSES)
    assert total == TINY.n_expert
    text = format_summary(tiny_survey.catalogue)
    assert "class mix" in text and "redshift distribution" in text and "experts vs truth" in text
    agree = sum(int(cm[c][i]) for i, c in enumerate(CLASSES))  # the diagonal
    assert f"5-class agreement {agree / total:.3f}," in text


@pytest.mark.parametrize(
    "changes",
    [
        {"n_overlap": 50},  # more than n_expert
        {"n_test_clusters": 30},  # test set larger than the overlap
        {"n_expert": -1},
        {"seed": -3},
    ],
)
def test_bad_settings_are_input_errors(changes: dict[str, int]) -> None:
    with pytest.raises(InputError, match=next(iter(changes))):
        dataclasses.replace(TINY, **changes)


def test_test_set_needs_enough_clusters_in_the_overlap() -> None:
    cfg = SurveyConfig(seed=0, n_expert=10, n_zooniverse=10, n_overlap=10, n_test_clusters=9, n_test_noncluster=1)
    with pytest.raises(InputError, match="--n-overlap"):
        draw_truth(cfg)


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        simulate_survey(f, SMALL_CONFIG)


def test_sky_readers_read_the_mock_files(tiny_survey: SurveyResult) -> None:
    sky = pytest.importorskip("hunt_clusters.sky")
    from astropy.coordinates import SkyCoord

    cands = sky.read_candidates(tiny_survey.catalogue_path)
    assert len(cands) == 60
    row = tiny_survey.catalogue[3]
    xr = sky.load_xray(tiny_survey.out_dir / row["xray_image"])
    op = sky.load_optical(tiny_survey.out_dir / row["optical_image"])
    assert xr.exposure is not None and xr.background is not None
    assert xr.data.shape == (144, 144) and op.data.shape == (360, 360)
    pos = SkyCoord(row["ra"], row["dec"], unit="deg")
    cut = sky.cutout(op, pos, 120 * u.arcsec)
    assert cut.data.shape[0] in (119, 120, 121)


def test_fits_files_pass_strict_verification(tiny_survey: SurveyResult) -> None:
    # written with output_verify="ignore" for speed: check here that nothing needed fixing
    for rel in list(tiny_survey.catalogue["xray_image"][:5]) + list(tiny_survey.catalogue["optical_image"][:5]):
        with fits.open(tiny_survey.out_dir / rel) as hdul:
            hdul.verify("exception")
            for hdu in hdul:
                WCS(hdu.header).wcs.set()  # a valid celestial TAN WCS on every HDU
