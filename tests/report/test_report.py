"""The comparison report on a synthetic run folder whose numbers are known by hand (see runfolder.py)."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from hunt_clusters.cli import main
from hunt_clusters.report import write_report

from .runfolder import make_run_folder


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[str] = []
        self.tags: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src") or "")
        if tag in ("link", "script", "iframe", "object", "embed"):
            self.links.append(tag)


def _sections(html: str) -> dict[str, str]:
    parts = re.split(r'<section id="([^"]+)">', html)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict]:
    root = tmp_path_factory.mktemp("report")
    run = make_run_folder(root)
    path = write_report(run, root / "out")
    return path, path.read_text(encoding="utf-8"), json.loads((root / "out" / "metrics.json").read_text())


def test_writes_page_metrics_and_figures(report: tuple[Path, str, dict]) -> None:
    path, html, metrics = report
    assert path.name == "report.html"
    assert metrics["figures"]
    for fig in metrics["figures"]:
        with Image.open(path.parent / fig) as im:
            assert im.format == "PNG"
    assert {p.name for p in (path.parent / "figures").iterdir()} == {Path(f).name for f in metrics["figures"]}


def test_words_where_their_figures_are(report: tuple[Path, str, dict]) -> None:
    _, html, _ = report
    sec = _sections(html)
    assert set(sec) == {"verdict", "survey", "volunteers", "cnn", "selection", "run"}
    for word in ("Cohen", "confusion"):
        assert word in sec["volunteers"] and "<img" in sec["volunteers"]
    assert "spectroscopic" in sec["cnn"] and "<img" in sec["cnn"]
    for word in ("completeness", "purity"):
        assert word in sec["selection"] and "<img" in sec["selection"]


def test_self_contained_every_image_a_png_data_uri(report: tuple[Path, str, dict]) -> None:
    _, html, _ = report
    p = _Tags()
    p.feed(html)
    assert not p.links, "the page must need no scripts, stylesheets or frames"
    assert "http://" not in html and "https://" not in html and "file:" not in html
    assert len(p.imgs) >= 30 + 9  # the gallery, the disagreements and the figures
    for src in p.imgs:
        assert src.startswith("data:image/png;base64,"), src[:60]
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "PNG"
            im.verify()


def test_missing_picture_is_a_note_not_a_crash(report: tuple[Path, str, dict]) -> None:
    _, html, metrics = report
    g = metrics["survey"]["gallery"]
    assert (g["n_found"], g["n_missing"], g["missing_examples"]) == (39, 1, ["C39"])
    assert "1 of 40 candidates have no subject picture on disk (e.g. C39)" in html
    assert g["shown"]["hi-z"][0] == "C01"  # the absolute path is found


def test_survey_counts(report: tuple[Path, str, dict]) -> None:
    s = report[2]["survey"]
    assert s["roles"] == {"overlap": 10, "test": 10, "train": 20}
    assert s["classes"]["expert_class"]["low-z"] == 3  # C20, C22 (an expert mistake), C25
    assert s["classes"]["vote_label"]["hi-z"] == 9  # 8 true + C33
    assert s["classes"]["spec_class"] == {"cluster": 4, "non-cluster": 6, "none": 30}
    assert s["distributions"]["redshift"]["n"] == 24


def test_volunteers_vs_experts_exact(report: tuple[Path, str, dict]) -> None:
    v = report[2]["volunteers_vs_experts"]["methods"]
    maj, ds = v["majority"], v["dawid-skene"]
    assert maj["source"] == "aggregate_metrics.json"
    assert ds["source"] == "labels.csv + candidates.csv"
    # experts low-z: C20 (vol low-z), C22 and C25 (vol galaxy)
    assert maj["confusion"][0] == [1, 0, 2, 0, 0]
    assert maj["binary_confusion"] == [[3, 2], [1, 4]]
    assert maj["accuracy"] == pytest.approx(0.7)
    assert ds["accuracy"] == pytest.approx(0.8)  # Dawid-Skene fixes C25
    assert ">0.625<" in report[1]  # 5-class kappa of majority: (0.7 - 0.2) / 0.8


def test_disagreements_ranked_by_votes_against_the_experts(report: tuple[Path, str, dict]) -> None:
    d = report[2]["volunteers_vs_experts"]["disagreements"]
    # C22: no vote for the experts' low-z; C27 and C25: 70% against, C27 has more votes
    assert [r["candidate_id"] for r in d] == ["C22", "C27", "C25"]
    assert d[0]["votes_against_experts"] == 1.0


def test_cnn_table_mean_and_spread_and_reference_row(report: tuple[Path, str, dict]) -> None:
    _, html, metrics = report
    models = {m["model"]: m for m in metrics["cnn"]["table"]["models"]}
    assert list(models) == ["votes-hard", "expert-hard"]
    assert models["expert-hard"]["test_accuracy_mean"] == pytest.approx(0.8)
    assert models["expert-hard"]["test_accuracy_std"] == pytest.approx(0.17320508)  # ddof=1 of 0.9, 0.9, 0.6
    assert "80.0% ± 10.0%" in html  # votes-hard, as metrics.json says
    assert "80.0% ± 17.3%" in html  # expert-hard, computed from the runs
    ref = re.search(r'<tr class="reference">(.*?)</tr>', html, re.S)
    assert ref and "Kosiba et al. 2020" in ref.group(1) and "90.0% (reference)" in ref.group(1)
    assert html.count('<tr class="baseline">') == 2


def test_cnn_roc_and_overlap_exact(report: tuple[Path, str, dict]) -> None:
    cnn = report[2]["cnn"]
    assert cnn["roc"]["votes-hard"]["auc"] == 1.0
    assert len(cnn["roc"]["votes-hard"]["runs"]) == 3
    # volunteers on the test set: the 4 clusters have p_cluster 0.7, so has C33 (a point, a tie); 5 negatives 0
    assert cnn["roc"]["volunteers (majority)"]["auc"] == pytest.approx(11 / 12)
    ov = cnn["overlap_ensemble"]
    assert ov["votes-hard"]["confusion"] == [[4, 1], [1, 4]]
    assert ov["votes-hard"]["kappa"] == pytest.approx(0.6)
    assert ov["expert-hard"]["accuracy"] == 1.0
    assert ov["volunteers (majority)"]["confusion"] == [[3, 2], [1, 4]]
    cal = {(r["lo"], r["n"]) for r in cnn["calibration"]["votes-hard"]}
    assert cal == {(0.0, 5), (0.6, 1), (0.8, 4)}


def test_selection_function_exact(report: tuple[Path, str, dict]) -> None:
    sel = report[2]["selection_function"]
    assert sel["truth"] == "true_class"
    e = sel["classifiers"]["experts"]
    # experts: true clusters C20, C21, C25, C26 all called; C22 (galaxy) called too
    assert (e["n"], e["completeness"], e["purity"]) == (10, 1.0, 0.8)
    assert set(sel["bins"]) == {"redshift", "count_rate"}


def test_what_was_run(report: tuple[Path, str, dict]) -> None:
    html, r = report[1], report[2]["run"]
    assert r["command"] == "hunt-clusters train-on-votes labels.csv --out run"
    assert [x["seed"] for x in r["runs"]] == [0, 1, 2, 100, 101, 102]
    assert r["versions"]["tensorflow"] == "2.16.1" and r["versions"]["pandas"] == "2.2.0"
    assert "hunt-clusters train-on-votes labels.csv --out run" in _sections(html)["run"]


@pytest.mark.parametrize("drop", ["aggregate_metrics.json", "history.csv", "ensemble.csv", "labels.csv",
                                  "config.json", "predictions.csv"])
def test_missing_optional_file(tmp_path: Path, drop: str) -> None:
    run = make_run_folder(tmp_path)
    (run / drop).unlink()
    html = write_report(run, tmp_path / "out").read_text()
    assert "<section" in html
    assert drop in json.loads((tmp_path / "out" / "metrics.json").read_text())["run"]["missing_inputs"]
    if drop == "history.csv":
        assert "the run folder has no history.csv" in html


def test_missing_columns_give_notes(tmp_path: Path) -> None:
    run = make_run_folder(tmp_path)
    c = pd.read_csv(run / "candidates.csv")
    c.drop(columns=["image", "true_class", "redshift"]).to_csv(run / "candidates.csv", index=False)
    html = write_report(run, tmp_path / "out").read_text()
    m = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert "candidates.csv has no image column" in html
    assert "candidates.csv has no redshift column" in html
    assert m["selection_function"]["truth"] == "spec_class"  # spectroscopy where there is no truth
    assert set(m["selection_function"]["bins"]) == {"count_rate"}


def test_only_metrics_json(tmp_path: Path) -> None:
    run = make_run_folder(tmp_path)
    for p in run.iterdir():
        if p.name != "metrics.json":
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    html = write_report(run, tmp_path / "out").read_text()
    assert "the run folder has no candidates.csv" in html
    assert "Kosiba et al. 2020" in html and "80.0% ± 10.0%" in html


def test_cli_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run_folder(tmp_path)
    assert main(["--quiet", "report", str(run), "--out", str(tmp_path / "rep")]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'rep' / 'report.html'}"


def test_cli_not_a_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "rep")]) == 1
    err = capsys.readouterr().err
    assert err == (f"error: {tmp_path}: not a train-on-votes run folder (expected metrics.json with the models' "
                   "scores, config.json, predictions.csv; found an empty folder)\n")
    assert not (tmp_path / "rep").exists()


def test_cli_refuses_the_folder_of_another_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An aggregate folder also holds a metrics.json: report names what it expected and what it found."""
    agg = tmp_path / "aggregate"
    agg.mkdir()
    (agg / "metrics.json").write_text(json.dumps({"export": {"rows_in": 4}, "methods": {}}))
    (agg / "votes.parquet").write_bytes(b"")
    assert main(["report", str(agg), "--out", str(tmp_path / "r2")]) == 1
    err = capsys.readouterr().err
    assert err == (f"error: {agg}: not a train-on-votes run folder (expected metrics.json with the models' scores, "
                   "config.json, predictions.csv; found the output folder of 'hunt-clusters aggregate')\n")
    assert not (tmp_path / "r2").exists()


def test_training_curve_table_counts_epochs_as_the_runs_table(tmp_path: Path) -> None:
    """history.csv counts epochs from 1: the last epoch of a 5-epoch run is 5 in both tables."""
    run = make_run_folder(tmp_path)
    write_report(run, tmp_path / "out")
    data = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert {f["epochs"] for f in data["cnn"]["training_final_epoch"]} == {5}
    assert {r["epochs"] for r in data["run"]["runs"]} == {5}


def test_cli_bad_json_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "metrics.json").write_text("{oops")
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "rep")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'metrics.json'}: not valid JSON") and err.count("\n") == 1


def test_cli_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report"])
    assert exc.value.code == 2


def test_help_has_an_example_and_imports_nothing_heavy() -> None:
    code = ("import sys, argparse; from hunt_clusters.cli import _report; p = argparse.ArgumentParser("
            "prog='hunt-clusters report', description=_report.DESCRIPTION); _report.add_arguments(p); "
            "h = p.format_help(); print('examples:' in h and 'hunt-clusters report' in h, "
            "[m for m in ('hunt_clusters.report', 'matplotlib', 'pandas', 'numpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "[]"]


def test_verdict_comes_first_with_the_paired_figures_and_a_caveat(report: tuple[Path, str, dict]) -> None:
    """Issue 19, item 5: the answer first; 10 test candidates are too few to decide, and it says so."""
    _, html, metrics = report
    sec = _sections(html)
    assert list(sec)[0] == "verdict"
    v = sec["verdict"]
    assert "votes: 90.0%" in v and "labels: 100.0%" in v
    assert "difference -10.0 points [-30.0, +0.0], McNemar p = 1, 10 spectroscopic test candidates" in v
    assert "Too small to decide" in v
    # +-15 points on 10 candidates: (15 / 5)^2 * 10 = 90, but a 95 % binomial +-5 at 95 % needs 73 -> 90
    assert metrics["verdict"]["caveat"]["needed_for_5_points"] == 90
    assert "Paired comparisons" in sec["cnn"] and "McNemar" in sec["cnn"]
    # 20 training candidates per model, 10 test: a quick look, and the report says so first
    assert v.index("not meaningful") < v.index("votes: 90.0%") and metrics["verdict"]["not_meaningful"]


def test_selection_function_has_wilson_intervals_and_no_purity_against_redshift(
        report: tuple[Path, str, dict]) -> None:
    _, _, metrics = report
    sel = metrics["selection_function"]
    rows = sel["bins"]["count_rate"]["rows"]
    for name, rr in rows.items():
        for r in rr:
            for what in ("completeness", "purity"):
                if r[what] in (0.0, 1.0):
                    lo, hi = r[f"{what}_ci"]
                    assert hi - lo > 0.05, (name, what, r)  # Wilson: never zero-width
    assert all(r["purity"] is None for rr in sel["bins"]["redshift"]["rows"].values() for r in rr)
    common = sel["common"]
    assert common["n"] > 0 and set(common["classifiers"]) == set(sel["classifiers"])
