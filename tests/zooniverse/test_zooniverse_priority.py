"""``upload --priority-from``: each new subject's ``#priority`` from the CNN (BALD or spread), on the double."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import SENTINEL
from panoptes_double import PanoptesDouble

from hunt_clusters.cli import main

pytestmark = pytest.mark.timeout(60)

# Six candidates XC 000 ... XC 005 (conftest's subject set); runs of a 2-model ensemble.
# BALD = H(mean) - mean H(run): XC 001 (0 vs 1) = 1 bit, XC 003 (0.2 vs 0.8) = 0.278, XC 004 (0.4 vs 0.6)
# = 0.029, the agreed ones 0. Spread (std): 0.5, 0.3, 0.1, 0. XC 005 has no prediction.
_RUNS = {"XC 000": (0.5, 0.5), "XC 001": (0.0, 1.0), "XC 002": (0.9, 0.9), "XC 003": (0.2, 0.8),
         "XC 004": (0.4, 0.6)}


def _predictions(tmp_path: Path) -> Path:
    t = pd.DataFrame({"candidate_id": list(_RUNS), "p_cluster_run0": [a for a, _ in _RUNS.values()],
                      "p_cluster_run1": [b for _, b in _RUNS.values()]})
    t["p_cluster"] = (t["p_cluster_run0"] + t["p_cluster_run1"]) / 2
    t["p_cluster_std"] = (t["p_cluster_run0"] - t["p_cluster_run1"]).abs() / 2
    path = tmp_path / "predictions.csv"
    t.to_csv(path, index=False)
    return path


def _priorities(double: PanoptesDouble) -> dict[str, str]:
    return {s["metadata"]["#candidate_id"]: s["metadata"].get("#priority") for s in double.state.subjects.values()}


@pytest.mark.parametrize("by, expected", [
    ("bald", {"XC 001": "1", "XC 003": "2", "XC 004": "3", "XC 000": "4", "XC 002": "5", "XC 005": "6"}),
    ("spread", {"XC 001": "1", "XC 003": "2", "XC 004": "3", "XC 000": "4", "XC 002": "5", "XC 005": "6"}),
    # the mean alone cannot tell the runs' disagreement from an agreed 0.5: four ties, in table order
    ("entropy", {"XC 000": "1", "XC 001": "2", "XC 003": "3", "XC 004": "4", "XC 002": "5", "XC 005": "6"}),
])
def test_upload_sets_priority(by: str, expected: dict[str, str], double: PanoptesDouble, subject_set: Path,
                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PANOPTES_USERNAME", "alice")
    monkeypatch.setenv("PANOPTES_PASSWORD", SENTINEL)
    rc = main(["-q", "upload", str(subject_set), "--project", "alice/hunt", "--endpoint", double.url,
               "--priority-from", str(_predictions(tmp_path)), "--priority-by", by])
    assert rc == 0, capsys.readouterr().err
    assert _priorities(double) == expected


def test_bald_without_runs_is_one_line(subject_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _predictions(tmp_path)
    pd.read_csv(path).drop(columns=["p_cluster_run1"]).to_csv(path, index=False)
    rc = main(["upload", str(subject_set), "--project", "alice/hunt", "--dry-run", "--priority-from", str(path)])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and err.count("\n") == 0 and "BALD needs the per-run columns" in err


def test_dry_run_shows_priority(subject_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["upload", str(subject_set), "--project", "alice/hunt", "--dry-run",
               "--priority-from", str(_predictions(tmp_path))])
    assert rc == 0 and "'#priority': '1'" in capsys.readouterr().out
