"""Issue 11 item 3: a subject without contours is reported, marked and can be made a failure;
a coarse X-ray image is warned about."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from PIL import Image
from subjects_synth import tan_wcs

from hunt_clusters.cli import main
from hunt_clusters.subjects import RenderConfig, contact_sheet, render_subject_set

SMALL = RenderConfig(size=128)


@pytest.fixture()
def survey_with_blank(tiny_survey: Path, tmp_path: Path) -> Path:
    """Two good candidates and BLANK: an X-ray image of flat Poisson background, no source at all."""
    folder = tmp_path / "blank"
    shutil.copytree(tiny_survey.parent, folder)
    t = Table.read(folder / "candidates.ecsv")[:2]
    base = dict(t[0])
    rng = np.random.default_rng(3)
    counts = rng.poisson(0.2, (144, 144)).astype(np.int32)
    fits.PrimaryHDU(counts, header=tan_wcs(base["ra"], base["dec"], 2.5, 144).to_header()).writeto(
        folder / "xray" / "blank.fits")
    t.add_row({**{k: base[k] for k in t.colnames}, "candidate_id": "BLANK",
               "xray_image": "xray/blank.fits", "optical_image": base["optical_image"]})
    t.write(folder / "candidates.ecsv", overwrite=True)
    return folder / "candidates.ecsv"


def _manifest(folder: Path) -> dict[str, dict[str, str]]:
    with open(folder / "manifest.csv", newline="") as fh:
        return {r["#candidate_id"]: r for r in csv.DictReader(fh)}


def test_subject_without_contours_is_reported_and_marked(survey_with_blank: Path, tmp_path: Path) -> None:
    out = tmp_path / "set"
    s = render_subject_set(survey_with_blank, out, config=SMALL)
    assert s.ok and s.n_rendered == 3 and s.n_no_contours == 1
    blank = next(r for r in s.records if r.candidate_id == "BLANK")
    assert blank.contour_levels == 0 and "no_contours" in blank.flags
    assert "no contours: the X-ray peak" in blank.message
    text = s.summary()
    assert "without contours 1" in text and "warning: 1 subject(s) without contours: BLANK" in text
    rows = _manifest(out)
    assert rows["BLANK"]["#contour_levels"] == "0"
    assert all(int(rows[c]["#contour_levels"]) > 0 for c in rows if c != "BLANK")
    # an up-to-date rerun still knows
    again = render_subject_set(survey_with_blank, out, config=SMALL)
    assert again.n_skipped == 3 and again.n_no_contours == 1 and _manifest(out)["BLANK"]["#contour_levels"] == "0"


def test_require_contours_makes_it_a_failure(survey_with_blank: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    assert main(["-q", "render", str(survey_with_blank), "--out", str(out), "--size", "128", "--no-tensors"]) == 0
    err = capsys.readouterr().err
    assert "without contours 1" in err and "BLANK" in err  # said even with -q
    rc = main(["-q", "render", str(survey_with_blank), "--out", str(out), "--size", "128", "--no-tensors",
               "--require-contours"])
    assert rc == 1
    assert "failed BLANK: no contours" in capsys.readouterr().err
    with open(out / "render_failures.csv", newline="") as fh:
        failures = {r["candidate_id"]: r["reason"] for r in csv.DictReader(fh)}
    assert list(failures) == ["BLANK"] and "--require-contours" in failures["BLANK"]
    assert "BLANK" not in _manifest(out)


def test_contact_sheet_flags_a_subject_without_contours(survey_with_blank: Path, tmp_path: Path) -> None:
    out = tmp_path / "set"
    render_subject_set(survey_with_blank, out, config=SMALL, tensors=False)
    ids = list(_manifest(out))
    sheet = contact_sheet(out, {c: "point" for c in ids}, tmp_path / "sheet.png", per_class=3, thumb=100)
    with Image.open(sheet) as im:
        a = np.asarray(im.convert("RGB")).astype(int)
    col = ids.index("BLANK")
    red = (a[..., 0] > 180) & (a[..., 1] < 60) & (a[..., 2] < 60)
    per_thumb = [red[:, c * 100:(c + 1) * 100].mean() for c in range(3)]
    assert per_thumb[col] > 0.1 and max(p for c, p in enumerate(per_thumb) if c != col) < 0.01


def test_coarse_xray_image_is_warned_about(tiny_survey: Path, tmp_path: Path) -> None:
    folder = tmp_path / "coarse"
    shutil.copytree(tiny_survey.parent, folder)
    t = Table.read(folder / "candidates.ecsv")[:1]
    ra, dec = float(t[0]["ra"]), float(t[0]["dec"])
    yy, xx = np.mgrid[:40, :40]
    counts = np.random.default_rng(1).poisson(2 + 300 * np.exp(-((xx - 19.5) ** 2 + (yy - 19.5) ** 2) / 2))
    fits.PrimaryHDU(counts.astype(np.int32), header=tan_wcs(ra, dec, 45.0, 40).to_header()).writeto(
        folder / "xray" / "rass.fits")
    t["xray_image"][0] = "xray/rass.fits"
    t.write(folder / "candidates.ecsv", overwrite=True)
    s = render_subject_set(folder / "candidates.ecsv", tmp_path / "o", config=SMALL, tensors=False)
    (rec,) = s.records
    assert rec.status == "rendered" and "coarse_xray" in rec.flags
    assert "8 pixels of 45'' across the 6' field" in s.summary()
    ok = render_subject_set(folder / "candidates.ecsv", tmp_path / "o2", tensors=False,
                            config=RenderConfig(size=128, fov_arcmin=30, smooth_arcsec=60))
    assert "coarse_xray" not in ok.records[0].flags
