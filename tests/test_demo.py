"""The demo runs every built step end to end on a small mock survey (about half a minute)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hunt_clusters.cli import main


def test_demo_runs_the_pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["-q", "demo", "--out", str(out), "--method", "majority"]) == 0
    text = capsys.readouterr().out
    for step in ("simulate", "render", "simulate-volunteers", "aggregate"):
        assert f"$ hunt-clusters {step} " in text
    manifest = pd.read_csv(out / "subject_set" / "manifest.csv")
    labels = pd.read_csv(out / "aggregate" / "labels.csv")
    # every rendered subject was classified by the mock volunteers and got a label
    assert set(labels["candidate_id"]) == set(manifest["#candidate_id"])
    assert labels["label"].notna().all()
    metrics = json.loads((out / "aggregate" / "metrics.json").read_text())
    exp = metrics["export"]
    assert exp["rejected"] == {} and exp["rows_in"] == exp["rows_kept"] + exp["rows_expert"] + sum(exp["filtered"].values())
    # volunteers agree with the (simulated) experts far above the 20 % of chance on 5 classes
    assert metrics["methods"]["majority"]["experts"]["accuracy"] > 0.5
