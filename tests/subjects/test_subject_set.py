"""Subject set folders: manifest rules of the panoptes CLI, failures, skipping, jobs, tensors, Kosiba."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from PIL import Image

from hunt_clusters.cli import main
from hunt_clusters.subjects import (
    MANIFEST_COLUMNS,
    MAX_SUBJECT_BYTES,
    RenderConfig,
    contact_sheet,
    make_tensor,
    render_subject_set,
)

SMALL = RenderConfig(size=256, format="png")


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def panoptes_file_columns(manifest: Path) -> list[int]:
    """The image columns `panoptes subject-set upload-subjects` detects (zooniverse/panoptes-cli,
    commands/subject_set.py): on the first data row, every cell naming an existing file relative to
    the manifest's folder; 1-based column numbers."""
    with open(manifest, newline="") as fh:
        rows = list(csv.reader(fh))
    first = rows[1]
    return [i + 1 for i, cell in enumerate(first)
            if os.path.exists(os.path.join(os.path.dirname(manifest), cell))]


def check_manifest_like_panoptes_cli(folder: Path) -> list[dict[str, str]]:
    manifest = folder / "manifest.csv"
    with open(manifest, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0].keys()) == MANIFEST_COLUMNS
    assert panoptes_file_columns(manifest) == [1]  # only `image`, never a metadata column
    for row in rows:
        f = folder / row["image"]
        assert f.is_file() and 0 < f.stat().st_size <= MAX_SUBJECT_BYTES
        assert not os.path.isabs(row["image"])
    header = list(rows[0])
    assert not any("class" in h or "true" in h or "expert" in h for h in header)
    return rows


@pytest.fixture(scope="module")
def rendered(tiny_survey: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("set") / "zooniverse"
    summary = render_subject_set(tiny_survey, out, config=SMALL, select="in_zooniverse")
    assert summary.ok and summary.n_rendered == 8
    return out


def test_manifest_is_what_the_panoptes_cli_accepts(rendered: Path, tiny_survey: Path) -> None:
    rows = check_manifest_like_panoptes_cli(rendered)
    cat = Table.read(tiny_survey)
    expected = [r["candidate_id"] for r in cat if r["in_zooniverse"]]
    assert [r["#candidate_id"] for r in rows] == expected
    first = cat[cat["candidate_id"] == rows[0]["#candidate_id"]][0]
    assert float(rows[0]["#ra"]) == pytest.approx(first["ra"], abs=1e-6)
    assert float(rows[0]["#dec"]) == pytest.approx(first["dec"], abs=1e-6)
    with Image.open(rendered / rows[0]["image"]) as im:
        assert im.format == "PNG" and im.size == (256, 256)


def test_tensors_file(rendered: Path) -> None:
    with np.load(rendered / "tensors.npz") as z:
        x, ids = z["x"], list(z["candidate_id"])
        assert x.shape == (8, 128, 128, 2) and x.dtype == np.float32
        assert list(z["channels"]) == ["optical", "xray"]
        assert float(z["pixel_scale_arcsec"]) == pytest.approx(360 / 128)
    manifest_ids = [r["#candidate_id"] for r in read_rows(rendered / "manifest.csv")]
    assert ids == manifest_ids
    assert x.min() >= 0 and x.max() <= 1
    # every synthetic source sits at the centre: the X-ray channel is brighter there than at the edges
    centre = x[:, 56:72, 56:72, 1].mean(axis=(1, 2))
    edge = x[:, :16, :16, 1].mean(axis=(1, 2))
    assert (centre > edge + 0.2).all()


def test_rerun_skips_up_to_date_subjects_and_force_redraws(tiny_survey: Path, tmp_path: Path) -> None:
    out = tmp_path / "set"
    first = render_subject_set(tiny_survey, out, config=SMALL, candidates=["XC0000", "XC0001"])
    assert first.n_rendered == 2
    again = render_subject_set(tiny_survey, out, config=SMALL, candidates=["XC0000", "XC0001"])
    assert (again.n_rendered, again.n_skipped) == (0, 2)
    check_manifest_like_panoptes_cli(out)
    # a newer input file makes its subject out of date
    img = out / "XC0001.png"
    os.utime(img, (img.stat().st_mtime - 100, img.stat().st_mtime - 100))
    xray = tiny_survey.parent / "xray" / "XC0001.fits.gz"
    stamp = xray.stat().st_mtime
    try:
        os.utime(xray, (img.stat().st_mtime + 50, img.stat().st_mtime + 50))
        third = render_subject_set(tiny_survey, out, config=SMALL, candidates=["XC0000", "XC0001"])
    finally:
        os.utime(xray, (stamp, stamp))
    assert [r.status for r in third.records] == ["skipped", "rendered"]
    forced = render_subject_set(tiny_survey, out, config=SMALL, candidates=["XC0000", "XC0001"], force=True)
    assert forced.n_rendered == 2
    changed = render_subject_set(tiny_survey, out, config=RenderConfig(size=200),
                                 candidates=["XC0000", "XC0001"])
    assert changed.n_rendered == 2


@pytest.fixture()
def bad_survey(tiny_survey: Path, tmp_path: Path) -> Path:
    """The tiny survey plus four bad candidates."""
    folder = tmp_path / "bad"
    shutil.copytree(tiny_survey.parent, folder)
    t = Table.read(folder / "candidates.ecsv")
    t = t[:3]
    x = fits.open(folder / "xray" / "XC0000.fits.gz")
    x[0].data = np.zeros_like(x[0].data)
    x.writeto(folder / "xray" / "empty.fits")
    x.close()
    fits.PrimaryHDU(np.ones((100, 100), dtype=np.float32)).writeto(folder / "optical" / "nowcs.fits")
    base = dict(t[0])
    rows = [
        ("FAR", 200.0, 10.0, "xray/XC0000.fits.gz", "optical/XC0000.fits.gz"),
        ("EMPTY", base["ra"], base["dec"], "xray/empty.fits", "optical/XC0000.fits.gz"),
        ("NOWCS", base["ra"], base["dec"], "xray/XC0000.fits.gz", "optical/nowcs.fits"),
        ("MISSING", base["ra"], base["dec"], "xray/nothere.fits", "optical/XC0000.fits.gz"),
    ]
    for cid, ra, dec, xr, op in rows:
        t.add_row({**{k: base[k] for k in t.colnames}, "candidate_id": cid, "ra": ra, "dec": dec,
                   "xray_image": xr, "optical_image": op})
    t.write(folder / "candidates.ecsv", overwrite=True)
    return folder / "candidates.ecsv"


def test_bad_candidates_fail_one_by_one(bad_survey: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    s = render_subject_set(bad_survey, out, config=SMALL)
    assert (s.n_rendered, s.n_failed) == (3, 4)
    reasons = {r.candidate_id: r.message for r in s.records if r.status == "failed"}
    assert "outside this X-ray image" in reasons["FAR"] or "outside this optical image" in reasons["FAR"]
    assert "empty.fits" in reasons["EMPTY"] and "no counts" in reasons["EMPTY"]
    assert "nowcs.fits: WCS is not celestial" in reasons["NOWCS"]
    assert "nothere.fits: file not found" in reasons["MISSING"]
    with open(out / "render_failures.csv", newline="") as fh:
        failures = list(csv.DictReader(fh))
    assert {f["candidate_id"]: f["reason"] for f in failures} == reasons
    rows = check_manifest_like_panoptes_cli(out)
    assert len(rows) == 3
    assert "failed 4" in s.summary() and "failed FAR:" in s.summary()


def test_cli_exit_status_and_summary(bad_survey: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["-q", "render", str(bad_survey), "--out", str(tmp_path / "o"), "--size", "128",
               "--no-tensors"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "rendered 3, up to date 0, failed 4" in err and "failed EMPTY:" in err
    assert not (tmp_path / "o" / "tensors.npz").exists()


def test_two_jobs_give_the_same_set_as_one(tiny_survey: Path, tmp_path: Path) -> None:
    a = render_subject_set(tiny_survey, tmp_path / "a", config=SMALL, jobs=1)
    b = render_subject_set(tiny_survey, tmp_path / "b", config=SMALL, jobs=2)
    assert [r.status for r in b.records] == ["rendered"] * 10
    assert (tmp_path / "a" / "manifest.csv").read_bytes() == (tmp_path / "b" / "manifest.csv").read_bytes()
    for r in a.records:
        assert (tmp_path / "a" / r.image).read_bytes() == (tmp_path / "b" / r.image).read_bytes()
    with np.load(tmp_path / "a" / "tensors.npz") as za, np.load(tmp_path / "b" / "tensors.npz") as zb:
        np.testing.assert_array_equal(za["x"], zb["x"])


def test_jpeg_subjects(tiny_survey: Path, tmp_path: Path) -> None:
    s = render_subject_set(tiny_survey, tmp_path / "j", config=RenderConfig(format="jpeg", size=300),
                           candidates=["XC0003"], tensors=False)
    assert s.records[0].image == "XC0003.jpg"
    with Image.open(tmp_path / "j" / "XC0003.jpg") as im:
        assert im.format == "JPEG" and im.size == (300, 300)


def test_subject_over_the_limit_is_a_failure_with_a_reason(tiny_survey: Path, tmp_path: Path) -> None:
    s = render_subject_set(tiny_survey, tmp_path / "big", config=SMALL, candidates=["XC0000"],
                           max_bytes=20_000, tensors=False)
    assert s.n_failed == 1 and "20000-byte limit" in s.records[0].message


def test_kosiba_layout(tiny_survey: Path, tmp_path: Path) -> None:
    s = render_subject_set(tiny_survey, tmp_path / "k", config=SMALL, kosiba_dir=tmp_path / "kos",
                           kosiba_class="true", tensors=False)
    assert s.ok
    with Image.open(tmp_path / "kos" / "XC0000.png") as im:
        a = np.asarray(im)
    assert a.shape == (356, 356, 3) and a.dtype == np.uint8
    assert a[..., 0].max() == 0 and a[..., 1].max() > 200 and a[..., 2].max() > 200
    train = read_rows(tmp_path / "kos" / "train.csv")
    test = read_rows(tmp_path / "kos" / "test.csv")
    assert list(train[0]) == ["image_id", "class"]
    cat = Table.read(tiny_survey)
    assert {r["image_id"] for r in test} == {c["candidate_id"] for c in cat if c["in_test"]}
    assert {r["image_id"]: r["class"] for r in train + test} == {c["candidate_id"]: c["true_class"] for c in cat}
    # expert classes: only the candidates the experts classified
    render_subject_set(tiny_survey, tmp_path / "k", config=SMALL, kosiba_dir=tmp_path / "kos2",
                       kosiba_class="expert", kosiba_split=0.0, tensors=False)
    rows = read_rows(tmp_path / "kos2" / "train.csv")
    assert {r["image_id"] for r in rows} == {c["candidate_id"] for c in cat if c["expert_class"]}


def test_tensor_methods_agree_on_a_rotated_pair() -> None:
    from subjects_synth import make_pair

    xh, oh = make_pair(30.0, -5.0, "low-z", np.random.default_rng(4), xray_rot=25.0, optical_rot=-40.0)
    cfg = RenderConfig(tensor_size=64)
    fast = make_tensor(oh, xh, 30.0, -5.0, cfg)
    exact = make_tensor(oh, xh, 30.0, -5.0, RenderConfig(tensor_size=64, tensor_method="reproject"))
    # X-ray: identical maps resampled by two interpolators
    assert np.abs(fast[8:-8, 8:-8, 1] - exact[8:-8, 8:-8, 1]).mean() < 0.02
    # optical: the affine path smooths before resampling (anti-aliasing); same picture on average
    assert np.corrcoef(fast[..., 0].ravel(), exact[..., 0].ravel())[0, 1] > 0.8


def test_contact_sheet_has_one_row_per_class(rendered: Path, tiny_survey: Path, tmp_path: Path) -> None:
    from hunt_clusters.subjects import class_captions

    caps = class_captions(Table.read(tiny_survey))
    path = contact_sheet(rendered, caps, tmp_path / "sheet.png", per_class=3, thumb=100)
    with Image.open(path) as im:
        # 8 Zooniverse candidates cover the 5 classes with at most 2 each
        cap = max(12, 100 // 18) + 2
        assert im.size == (2 * 100, 5 * (100 + cap))
