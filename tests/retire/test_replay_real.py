"""The replay on a real Zooniverse export, read by aggregate: what it cannot replay is said in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hunt_clusters.cli import main


def test_a_real_export_of_another_project_is_refused_in_one_line(real_dir: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The Superluminous Supernovae export (7 real classifications): its Yes/No answers are no class of
    this project's question, so there is nothing to replay; the votes folder alone is accepted as the
    survey (no pictures) and nothing is written."""
    ex = real_dir / "zooniverse_exports"
    agg = tmp_path / "agg"
    assert main(["aggregate", str(ex / "superluminous_supernovae_classifications.csv"), "--out", str(agg),
                 "--candidate-key", "none", "--workflows-export",
                 str(ex / "superluminous_supernovae_workflows.csv"), "-q"]) == 0
    capsys.readouterr()
    assert main(["replay", str(agg), "--votes", str(agg), "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {agg}: none of its 7 votes has a class of this project's question (aggregate wrote the "
                   "answers it could not map to unmapped_answers.csv): nothing to replay"]
    assert not (tmp_path / "r").exists()
    # without --votes the same folder is no subject set: said in one line, naming what it is
    assert main(["replay", str(agg), "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "expected a rendered subject set" in err and "the output folder of 'hunt-clusters aggregate'" in err
