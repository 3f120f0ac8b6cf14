"""The demo runs the whole mission end to end on a tiny mock survey, and its stages agree with each other."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from astropy.table import Table

from hunt_clusters.cli import main


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The tiny demo, run once: its folder and what it printed."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        # --rehearse: the upload goes through panoptes-client to the local Panoptes test double
        assert main(["demo", "--tiny", "--rehearse", "--out", str(out)]) == 0
    return out, buf.getvalue()


def test_demo_runs_the_whole_mission(tiny_demo: tuple[Path, str]) -> None:
    out, text = tiny_demo
    for i, step in enumerate(("simulate", "render", "render", "upload", "simulate-volunteers", "aggregate",
                              "train-on-votes", "report"), 1):
        assert f"[{i}/8] $ hunt-clusters {step} " in text
    assert "--endpoint http://127.0.0.1:" in text and str(out / "report" / "report.html") in text
    # the hint after training names the report folder the demo writes next
    assert f"next: hunt-clusters report {out / 'cnn'} --out {out / 'report'}\n" in text
    assert text.count("wrote " + str(out / "report" / "report.html")) == 1  # report says "wrote" once

    # every file the demo wrote is one its commands know as theirs: a re-run (or --force) is never
    # refused for a file of its own
    from hunt_clusters._outputs import LAYOUTS, foreign_file

    assert foreign_file(out, LAYOUTS["demo"]) is None
    for sub, command in (("cnn", "train-on-votes"), ("aggregate", "aggregate"), ("report", "report"),
                         ("subject_set", "render"), ("expert_set", "render"), ("mock_survey", "simulate")):
        assert foreign_file(out / sub, LAYOUTS[command]) is None, sub
    assert "PANOPTES_PASSWORD" not in os.environ or os.environ["PANOPTES_PASSWORD"] != "pw"

    cat = Table.read(out / "mock_survey" / "candidates.ecsv").to_pandas()
    zoo = set(cat["candidate_id"][cat["in_zooniverse"]])
    expert = set(cat["candidate_id"][cat["in_expert"]])
    manifest = pd.read_csv(out / "subject_set" / "manifest.csv")
    ledger = pd.read_csv(out / "subject_set" / "upload_ledger.csv")
    assert sorted(ledger["candidate_id"]) == sorted(manifest["#candidate_id"])  # one subject each
    labels = pd.read_csv(out / "aggregate" / "labels.csv")
    # candidates shown on Zooniverse = subjects = labelled subjects of every method
    assert set(manifest["#candidate_id"]) == zoo
    for method, lab in labels.groupby("method"):
        assert set(lab["candidate_id"]) == zoo, method
    assert labels["label"].notna().all()
    metrics = json.loads((out / "aggregate" / "metrics.json").read_text())
    exp = metrics["export"]
    assert exp["rejected"] == {} and exp["rows_in"] == exp["rows_kept"] + exp["rows_expert"] + sum(exp["filtered"].values())
    # volunteers agree with the (simulated) experts far above chance
    assert metrics["methods"]["majority"]["experts"]["accuracy"] > 0.5

    # the CNN saw every candidate of both renders; predictions cover each of them once per model and run
    run = json.loads((out / "cnn" / "metrics.json").read_text())
    assert run["n"]["candidates"] == len(zoo | expert)
    assert run["n"]["test"] == int(cat["in_test"].sum())
    pred = pd.read_csv(out / "cnn" / "predictions.csv")
    for (model, r), p in pred.groupby(["model", "run"]):
        assert set(p["candidate_id"]) == zoo | expert and len(p) == len(zoo | expert), (model, r)
    # the CNN never trained on the overlap or the test set
    held = set(cat["candidate_id"][(cat["in_expert"] & cat["in_zooniverse"]) | cat["in_test"]])
    assert not set(pred["candidate_id"][pred["split"].isin(["train", "val"])]) & held

    html = (out / "report" / "report.html").read_text()
    for word in ("Cohen", "confusion", "spectroscopic", "completeness", "purity"):
        assert word in html
    assert json.loads((out / "report" / "metrics.json").read_text())

    # issue 19, item 2: one volunteers-vs-experts answer, the same in aggregate, train-on-votes and the report
    agg = metrics["methods"]["majority"]["experts"]
    base = run["baselines"]["volunteers-majority"]["overlap"]
    rep = json.loads((out / "report" / "metrics.json").read_text())
    in_report = rep["volunteers_vs_experts"]["methods"]["majority"]
    verdict = rep["verdict"]["volunteers_vs_experts"]
    overlap = set(cat["candidate_id"][cat["in_expert"] & cat["in_zooniverse"]])
    assert agg["n_both"] == base["n"] == in_report["n_both"] == verdict["n"] == len(overlap) == run["n"]["overlap"]
    assert agg["binary_accuracy"] == base["accuracy"] == in_report["binary_accuracy"] == verdict["accuracy"]
    assert agg["binary_kappa"] == pytest.approx(base["kappa"]) and agg["accuracy"] == base["accuracy_5class"]
    vol = next(v for k, v in rep["cnn"]["overlap_ensemble"].items() if k.startswith("volunteers"))
    assert vol["n"] == agg["n_both"] and vol["accuracy"] == agg["binary_accuracy"]
    # overlap and test counted one way: the overlap includes the test set, everywhere
    n_ov_test = len(overlap & set(cat["candidate_id"][cat["in_test"]]))
    assert run["n"]["overlap_test"] == n_ov_test and run["n"]["overlap_includes_test"]
    assert (f"{len(overlap)} in the overlap with the experts ({n_ov_test} of them in the test set)" in text)
    assert f"({n_ov_test} of them in the test set)" in html
    roles = rep["survey"]["roles"]
    assert roles.get("overlap", 0) + n_ov_test == len(overlap)  # role 'overlap' = the overlap outside the test set


def test_the_default_demo_trains_on_the_paper_sized_survey(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 19, item 6: 'hunt-clusters demo' as typed simulates the paper's survey (170 test candidates,
    ~1200 training candidates per model), not the small one whose CNN stays at chance."""
    import argparse

    from hunt_clusters.cli._demo import _steps, add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    steps = {s[0]: s for s in _steps(parser.parse_args([]), Path("demo"))}
    assert "--small" not in steps["simulate"] and "--n-test-clusters" not in steps["simulate"]
    train = steps["train-on-votes"]
    assert train[train.index("--runs") + 1] == "3" and train[train.index("--label-source") + 1] == "votes,expert"
    small = {s[0]: s for s in _steps(parser.parse_args(["--size", "small"]), Path("demo"))}
    assert "--small" in small["simulate"]
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--size standard (default)" in text and "11.5 minutes" in text and "not meaningful" in text


def test_replay_of_the_demo(tiny_demo: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``hunt-clusters replay`` on a demo folder: every policy, the CNN trained on the expert set
    outside the subject set, active learning, and the folder rules of every command."""
    demo, _ = tiny_demo
    out = tmp_path / "replay"
    args = ["replay", str(demo), "--out", str(out), "--cnn-runs", "2", "--al-schedule", "20,40", "--al-runs", "2",
            "--al-epochs", "2", "-q"]
    assert main(args) == 0
    assert capsys.readouterr().out.strip() == str(out)
    pol = pd.read_csv(out / "policies.csv").set_index("policy")
    assert list(pol.index) == ["count-20", "swap", "swap-gs", "swap-cnn", "swap-cnn-gs", "cnn-0.9", "cnn-all"]
    cat = Table.read(demo / "mock_survey" / "candidates.ecsv").to_pandas()
    n_sub = int(cat["in_zooniverse"].sum())
    assert pol.loc["count-20", "classifications"] == 20 * n_sub and pol.loc["count-20", "saving"] == 1.0
    assert (pol["classifications"] <= 20 * n_sub).all() and pol.loc["cnn-all", "classifications"] == 0
    # every policy carries its interval, and its paired difference from the baseline on the same subjects
    assert ((pol["accuracy_lo"] <= pol["accuracy"]) & (pol["accuracy"] <= pol["accuracy_hi"])).all()
    base = pol.loc["count-20"]
    assert base["difference_lo"] == base["difference_hi"] == 0 and base["mcnemar_p"] == 1
    d = pol["accuracy"] - base["accuracy"]
    assert ((pol["difference_lo"] <= d + 1e-9) & (d - 1e-9 <= pol["difference_hi"])).all()
    summary = json.loads((out / "summary.json").read_text())
    gold_and_scored = summary["n_gold"] + summary["n_scored"]
    assert summary["mode"] == "mock" and gold_and_scored == n_sub and summary["n_subjects"] == n_sub
    # the CNN never saw a subject-set candidate's label: trained on the expert set's candidates outside it
    outside = int((cat["in_expert"] & ~cat["in_zooniverse"]).sum())
    assert summary["cnn"]["trained_here"] and summary["cnn"]["n_train"] == outside
    labels = pd.read_csv(out / "labels.csv", dtype={"candidate_id": str})
    assert set(labels["policy"]) == set(pol.index)
    assert labels.groupby("policy").size().eq(n_sub).all()
    machine = labels[(labels["policy"] == "cnn-all")]
    assert (machine["n_votes"] == 0).all() and machine["image"].map(lambda p: Path(p).is_file()).all()
    assert (out / "figures" / "curves.png").stat().st_size > 0 and (out / "figures" / "active_learning.png").exists()
    al = pd.read_csv(out / "active_learning.csv")
    assert al["n_labelled"].tolist() == [20, 40, n_sub] * 2 and (al["n_test"] == outside).all()
    # a re-run into the same folder, with the CNN's predictions given, is fine (and gives the same policies)
    given = tmp_path / "given.csv"
    given.write_bytes((out / "predictions.csv").read_bytes())
    assert main([*args, "--no-active-learning", "--predictions", str(given)]) == 0
    again = pd.read_csv(out / "policies.csv").set_index("policy")
    pd.testing.assert_frame_equal(again, pol, check_exact=False, rtol=1e-5)
    assert not (out / "active_learning.csv").exists()   # the first run's curves are not left as this run's
    assert not (out / "figures" / "active_learning.png").exists()
    # the report reads the replay folder: its "human + machine" section
    assert main(["report", str(demo / "cnn"), "--out", str(tmp_path / "report"), "--replay", str(out), "-q"]) == 0
    html = (tmp_path / "report" / "report.html").read_text()
    assert 'id="human-machine"' in html and "cnn-all" in html
    # a folder holding a file of someone else's is refused before any work
    (out / "notes.txt").write_text("mine")
    assert main([*args, "--no-active-learning"]) == 1
    assert "notes.txt" in capsys.readouterr().err


def test_replay_of_recorded_votes_keeps_the_plain_consensus(tiny_demo: tuple[Path, str], tmp_path: Path) -> None:
    """A real survey's replay (--votes: the export as aggregate read it, in time order, scored against
    the experts): its count policy, given every recorded vote, is aggregate's majority consensus exactly."""
    demo, _ = tiny_demo
    votes = pd.read_parquet(demo / "aggregate" / "votes.parquet")
    most = int(votes.groupby("subject_id").size().max())
    out = tmp_path / "replay"
    assert main(["replay", str(demo / "subject_set"), "--votes", str(demo / "aggregate"), "--count", str(most),
                 "--no-active-learning", "--out", str(out), "-q"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mode"] == "export" and summary["cnn"] is None      # no expert set, no predictions: no CNN policy
    labels = pd.read_csv(out / "labels.csv", dtype={"candidate_id": str})
    count = labels[labels["policy"] == f"count-{most}"].set_index("candidate_id").sort_index()
    plain = pd.read_csv(demo / "aggregate" / "labels.csv", dtype={"candidate_id": str})
    plain = plain[plain["method"] == "majority"].set_index("candidate_id").sort_index()
    assert count.index.tolist() == plain.index.tolist()
    assert count["label"].tolist() == plain["label"].tolist()
    assert count["n_votes"].tolist() == plain["n_votes"].tolist()
    # scored against the experts, on the expert-classified subjects that are not SWAP's gold
    folds = pd.read_csv(demo / "aggregate" / "folds.csv", dtype={"candidate_id": str})
    assert summary["n_gold"] + summary["n_scored"] == len(folds)
    assert labels.loc[labels["scored"], "candidate_id"].isin(folds["candidate_id"]).all()
