"""Quiet, consistent output: -q/-v after the command, -q prints only the result's path, each command
says "wrote" once and lists only what it wrote, help texts and docs name what exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from hunt_clusters.classifications import write_example_export
from hunt_clusters.cli import main
from report.runfolder import make_run_folder

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_before_or_after_the_command_prints_only_the_path(
        where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export, out = write_example_export(tmp_path / "export.csv"), tmp_path / "agg"
    argv = ["aggregate", str(export), "--out", str(out)]
    assert main(["-q", *argv] if where == "before" else [*argv, "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == (f"wrote {out}/: expert_votes.parquet, labels.csv, metrics.json, rejects.csv, "
                            "unmapped_answers.csv, volunteers.csv, votes.parquet\n")
    assert captured.err == ""


def test_verbose_after_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    export = write_example_export(tmp_path / "export.csv")
    assert main(["aggregate", str(export), "--out", str(tmp_path / "agg"), "-v"]) == 0
    assert logging.getLogger("hunt_clusters").level == logging.DEBUG
    with pytest.raises(SystemExit) as exc:  # one or the other
        main(["aggregate", str(export), "--out", str(tmp_path / "agg"), "-v", "-q"])
    assert exc.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_aggregate_lists_only_the_files_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """gold.csv of an earlier run with --experts stays in the folder but this run did not write it."""
    export, out = write_example_export(tmp_path / "export.csv"), tmp_path / "agg"
    out.mkdir()
    (out / "gold.csv").write_text("candidate_id,expert_class,role\n")
    assert main(["aggregate", str(export), "--out", str(out)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"wrote {out}/: ") and "gold.csv" not in last and "votes.parquet" in last


def test_aggregate_that_keeps_no_vote_fails_with_a_hint(real_dir: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    export = real_dir / "zooniverse_exports" / "superluminous_supernovae_classifications.csv"
    assert main(["-q", "aggregate", str(export), "--out", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert err == (f"error: {export}: no vote kept; 7 of 7 rows rejected for no #candidate_id in subject_data: "
                   "pass --candidate-key none for exports of other projects (or --ledger with the upload ledger)\n")
    assert (tmp_path / "a" / "rejects.csv").exists()  # what was rejected, and why, is kept
    assert main(["-q", "aggregate", str(export), "--out", str(tmp_path / "b"), "--candidate-key", "none"]) == 0


def test_report_says_wrote_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run_folder(tmp_path)
    assert main(["report", str(run), "--out", str(tmp_path / "rep")]) == 0
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).replace(str(tmp_path), "TMP").splitlines()
    assert [line for line in lines if "wrote" in line] == ["wrote TMP/rep/report.html"]
    assert captured.out == f"wrote {tmp_path / 'rep' / 'report.html'}\n"


def test_predict_help_names_only_its_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("predict", "aggregate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--jobs" not in capsys.readouterr().out, command
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    assert "--jobs" in capsys.readouterr().out


def test_docs_agree_with_the_demo() -> None:
    tutorial = (ROOT / "docs" / "tutorial.md").read_text()
    assert "steps 1, 2, 4 and 5" not in tutorial and tutorial.count("sections 1 to 7") == 2
    assert "/demo/" in (ROOT / ".gitignore").read_text().split()
    readme = (ROOT / "README.md").read_text()
    assert "about 10 minutes on 2 cores" not in readme  # the time says what it measured
