"""Spec files in subject_sets/ and the render command line."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from hunt_clusters._errors import InputError
from hunt_clusters.cli import main
from hunt_clusters.subjects import load_spec

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["zooniverse", "expert_overlap"])
def test_project_specs_load_and_point_at_the_mock_survey(name: str) -> None:
    spec = load_spec(ROOT / "subject_sets" / f"{name}.yaml")
    assert spec.name == name
    assert spec.catalogue.resolve() == (ROOT / "mock_survey" / "candidates.ecsv").resolve()
    assert spec.out == ROOT / "subject_sets" / name
    assert spec.select is not None and "in_zooniverse" in spec.select
    assert spec.config.size == 512


def test_spec_errors_name_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncatalogue: c.ecsv\nrender: {sise: 3}\n")
    with pytest.raises(InputError, match=r"bad\.yaml: render: unknown render option 'sise'"):
        load_spec(bad)
    bad.write_text("name: x\ncatalog: c.ecsv\n")
    with pytest.raises(InputError, match=r"bad\.yaml: unknown key\(s\) catalog"):
        load_spec(bad)
    bad.write_text("name: x\n")
    with pytest.raises(InputError, match=r"catalogue: is required"):
        load_spec(bad)


def test_render_a_spec_with_cli_overrides(tiny_survey: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "project"
    shutil.copytree(tiny_survey.parent, project / "mock_survey")
    (project / "subject_sets").mkdir()
    shutil.copy(ROOT / "subject_sets" / "expert_overlap.yaml", project / "subject_sets")
    spec = project / "subject_sets" / "expert_overlap.yaml"
    rc = main(["render", str(spec), "--size", "128", "--format", "jpeg",
               "--contact-sheet", str(tmp_path / "sheet.png")])
    assert rc == 0
    out = project / "subject_sets" / "expert_overlap"
    with open(out / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    # in_expert (even rows) & in_zooniverse (i % 4 != 3): 0, 2, 4, 6, 8
    assert [r["#candidate_id"] for r in rows] == ["XC0000", "XC0002", "XC0004", "XC0006", "XC0008"]
    assert all(r["image"].endswith(".jpg") for r in rows)
    assert (project / "subject_sets" / "expert_overlap_kosiba" / "train.csv").is_file()
    assert (tmp_path / "sheet.png").is_file()
    err = capsys.readouterr().err
    assert "rendered 5, up to date 0, failed 0" in err
    # second run: nothing to redraw
    assert main(["-q", "render", str(spec), "--size", "128", "--format", "jpeg", "--no-tensors"]) == 0


def test_cli_bad_option_is_one_line(tiny_survey: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["render", str(tiny_survey), "--out", str(tmp_path / "x"), "--stretch", "cubic"])
    assert rc == 1
    assert capsys.readouterr().err.strip() == (
        "error: render option stretch='cubic' is not valid: one of asinh, log, sqrt, linear"
    )
    rc = main(["render", str(tiny_survey), "--out", str(tmp_path / "x"), "--select", "in_nothing"])
    assert rc == 1
    assert "select 'in_nothing': no column 'in_nothing'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # a usage error, as for every command with --jobs
        main(["render", str(tiny_survey), "--out", str(tmp_path / "x"), "--jobs", "0"])
    assert exc.value.code == 2
    assert "argument -j/--jobs: must be a whole number of at least 1, not '0'" in capsys.readouterr().err


def test_render_help_teaches_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    out = capsys.readouterr().out
    assert "hunt-clusters render subject_sets/zooniverse.yaml" in out and "--contact-sheet" in out
