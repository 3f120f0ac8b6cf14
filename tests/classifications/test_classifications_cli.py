"""``hunt-clusters aggregate`` end to end on the hand-made export."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import handmade_export as hm
from hunt_clusters.cli import main


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    return hm.write(tmp_path / "export.csv")


def test_aggregate_writes_everything(tmp_path: Path, export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    experts = tmp_path / "candidates.csv"
    experts.write_text("candidate_id,ra,dec,expert_class\nXC1,1,2,low-z\nXC2,1,2,hi-z\nXC3,1,2,\n")
    out = tmp_path / "out"
    rc = main(["aggregate", str(export), "--out", str(out), "--workflow", "1", "--method", "all",
               "--experts", str(experts), "--folds", "0"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "20 rows in = 9 kept + 2 expert + 6 filtered + 3 rejected" in text
    assert "rejected row 16: bad_json_annotations" in text and "duplicates policy: first" in text
    names = {p.name for p in out.iterdir()}
    assert {"votes.parquet", "expert_votes.parquet", "rejects.csv", "unmapped_answers.csv", "labels.csv",
            "volunteers.csv", "metrics.json"} <= names
    votes = pd.read_parquet(out / "votes.parquet")
    assert sorted(votes["classification_id"]) == [1, 2, 5, 6, 7, 8, 9, 13, 15, 15]
    labels = pd.read_csv(out / "labels.csv")
    assert sorted(labels["method"].unique()) == ["dawid-skene", "majority", "swap"]
    maj = labels[labels["method"] == "majority"].set_index("candidate_id")
    # XC2 by hand (first policy): alice hi-z (index 1), bob null (no class), carol hi-z -> hi-z 2/2
    assert maj.loc["XC2", "label"] == "hi-z" and maj.loc["XC2", "n_votes"] == 2
    assert maj.loc["XC2", "agreement"] == 1.0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["export"]["rows_in"] == 20 and metrics["export"]["rejected"]["no_candidate_id"] == 1
    assert metrics["methods"]["majority"]["experts"]["n_both"] == 2


def test_aggregate_csv_votes_and_policies(tmp_path: Path, export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    rc = main(["aggregate", str(export), "-o", str(out), "--workflow", "1", "--duplicates", "last",
               "--version", "1", "--votes-format", "csv"])
    assert rc == 0
    votes = pd.read_csv(out / "votes.csv")
    assert sorted(votes["classification_id"]) == [2, 3, 4, 6, 7, 8, 10]
    assert "duplicates policy: last" in capsys.readouterr().out


def test_aggregate_strict_fails(tmp_path: Path, export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["aggregate", str(export), "--out", str(tmp_path / "o"), "--workflow", "1", "--strict"])
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "3 row(s) rejected with --strict: row 16: bad_json_annotations" in err[0]
    assert (tmp_path / "o" / "rejects.csv").exists()  # written before failing


def test_aggregate_other_project(real_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = real_dir / "zooniverse_exports" / "superluminous_supernovae_classifications.csv"
    rc = main(["aggregate", str(export), "--out", str(tmp_path / "o"), "--candidate-key", "none",
               "--workflows-export", str(real_dir / "zooniverse_exports" / "superluminous_supernovae_workflows.csv")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "7 volunteer classifications -> 7 votes" in text and "no class mapping" in text
    assert len(pd.read_parquet(tmp_path / "o" / "votes.parquet")) == 7


@pytest.mark.parametrize(
    "args, message",
    [(["--version", "1.x"], "--version: '1.x' is not a workflow version"),
     (["--workflow", "9"], "no classification of workflow 9"),
     (["--version", "3", "--min-version", "2"], "cannot be combined")],
)  # fmt: skip
def test_aggregate_usage_errors(tmp_path: Path, export: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                message: str) -> None:
    rc = main(["aggregate", str(export), "--out", str(tmp_path / "o"), *args])
    assert rc == 1
    assert message in capsys.readouterr().err


def test_aggregate_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["aggregate", "--help"])
    text = capsys.readouterr().out
    assert "--duplicates" in text and "example:" in text and "16.55" in text


def test_aggregate_mock_export_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A mock export (mock volunteers) through the command, mock experts of the same pictures as the expert table (ECSV)."""
    from astropy.table import Table

    mock_write, VolunteerConfig, synthetic_subject_set = hm.mock_writer()
    from hunt_clusters.mock import expert_labels_from_cues

    manifest, catalogue = synthetic_subject_set(80, seed=3)
    mock_write(tmp_path / "mock.csv", manifest, catalogue, config=VolunteerConfig(seed=3, retirement=12),
               workflows_out=tmp_path / "workflows.csv")
    truth = Table({"candidate_id": catalogue["candidate_id"].astype(str).to_numpy(),
                   "expert_class": expert_labels_from_cues(catalogue, seed=3, lapse=0.05)})
    truth.write(tmp_path / "candidates.ecsv")
    out = tmp_path / "out"
    rc = main(["aggregate", str(tmp_path / "mock.csv"), "--out", str(out), "--workflows-export",
               str(tmp_path / "workflows.csv"), "--experts", str(tmp_path / "candidates.ecsv"), "--method", "all"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "0 rejected" in text and "vs experts: 80 candidates classified by both" in text
    assert "cross-fitted: 80 expert-classified subjects in 5 folds" in text
    metrics = json.loads((out / "metrics.json").read_text())
    folds = pd.read_csv(out / "folds.csv")
    assert len(folds) == 80 and folds["fold"].value_counts().tolist() == [16] * 5
    assert metrics["cross_fit"]["folds"] == 5 and metrics["methods"]["swap"]["gold"] == 64
    assert metrics["methods"]["majority"]["gold"] == 0
    # every method is compared with the experts on all 80: none of them was scored on its own gold
    assert {m["experts"]["n_both"] for m in metrics["methods"].values()} == {80}
    # SWAP learned volunteer skill from the gold of fold 0: not every volunteer is left at P_L = P_D = 0.5
    vols = pd.read_csv(out / "volunteers.csv")
    assert (vols.loc[vols["method"] == "swap", "skill"] != 0.5).any()
    assert metrics["export"]["unmapped"] == []
    acc = metrics["methods"]["majority"]["experts"]["accuracy"]
    assert 0.5 < acc <= 1.0  # volunteers mostly right, not perfect
    labels = pd.read_csv(out / "labels.csv")
    assert set(labels["method"]) == {"majority", "dawid-skene", "swap"} and len(labels) == 3 * 80
