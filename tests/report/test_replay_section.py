"""The report's "Human + machine" section on a hand-made replay folder whose numbers are known (replayfolder.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image

from hunt_clusters._errors import InputError
from hunt_clusters.cli import main
from hunt_clusters.report import read_replay_folder, write_report
from hunt_clusters.report._human_machine import human_machine

from .replayfolder import SUMMARY, make_replay_folder
from .runfolder import make_run_folder


def _sections(html: str) -> dict[str, str]:
    parts = re.split(r'<section id="([^"]+)">', html)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def _text(html: str) -> str:
    """The words of an HTML piece, entities decoded, whitespace collapsed."""
    import html as h

    inline = re.sub(r"</?(?:code|b)>", "", html)
    return re.sub(r"\s+", " ", h.unescape(re.sub(r"<[^>]+>", " ", inline))).strip()


def _section(rf_dir: Path) -> tuple[str, dict[str, Any]]:
    """The section alone, figures built but not written (fast)."""
    return human_machine(read_replay_folder(rf_dir), lambda name, fig: b"png")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("hm")
    path = write_report(make_run_folder(root), root / "out", replay=make_replay_folder(root))
    return path, path.read_text(encoding="utf-8"), json.loads((root / "out" / "metrics.json").read_text())


def test_section_present_before_what_was_run(report: tuple[Path, str, dict[str, Any]]) -> None:
    _, html, metrics = report
    assert list(_sections(html)) == ["verdict", "survey", "volunteers", "cnn", "selection", "human-machine", "run"]
    assert '<h2>Human + machine</h2>' in html
    assert metrics["human_machine"]["available"] is True


def test_verdict_states_the_saving_from_the_numbers(report: tuple[Path, str, dict[str, Any]]) -> None:
    _, html, _ = report
    verdict = _text(_sections(html)["human-machine"].split("<h3>")[0])
    # swap-cnn-gs reaches count-20's 80.0 % at 50 of 200 classifications: 4.0x, completeness 75 -> 70 %
    assert ("Best retirement policy: swap-cnn-gs reaches the count baseline's accuracy (80.0%, count-20) after 50 "
            "volunteer classifications: 4.0x fewer than the baseline's 200; its cluster completeness there is 5.0 "
            "points lower than the baseline's.") in verdict
    assert "Not met: the goal of at least 8x" in verdict and "4.0x is under 8x; completeness falls by 5.0 points" in verdict
    assert ("Active learning: the CNN's target test accuracy is 80.0%; BALD-chosen labels reach it with 30 labelled "
            "candidates, randomly chosen labels reach it with 50 labelled candidates: 40 % fewer labels with BALD. "
            "That meets the goal of at least 40 % fewer labels") in verdict


def test_policies_table_savings_and_changes_in_points(report: tuple[Path, str, dict[str, Any]]) -> None:
    _, html, _ = report
    tab = html.split("<h3>Retirement policies</h3>")[1].split("</table>")[0]
    rows = [_text(r) for r in tab.split("<tr")[2:]]
    assert rows[0].endswith("count-20 count 200 1.0x 1.0x 80.0% (+0.0) 75.0% (+0.0) 75.0% (+0.0) 0 10")
    assert rows[1].endswith("swap swap 100 2.0x not reached 78.0% (-2.0) 75.0% (+0.0) 70.0% (-5.0) 1 10")
    assert rows[2].endswith("swap-cnn-gs swap-cnn 80 2.5x 4.0x 82.0% (+2.0) 70.0% (-5.0) 80.0% (+5.0) 0 10")
    assert 'class="baseline"' in tab.split("<tbody>")[1].split("</tr>")[0]


def test_thumbnails_exactly_the_wrong_machine_retirements(report: tuple[Path, str, dict[str, Any]]) -> None:
    _, html, metrics = report
    part = html.split("<h3>Retired wrongly by the machine</h3>")[1].split("<h3>")[0]
    cards = re.findall(r'<div class="thumb"><img src="data:image/png;base64,[^"]+" alt="([^"]+)"><div>(.*?)</div>',
                       part)
    # C02 (3 votes) before C01 (5); C07 has no picture; C03 right, C04 to experts, C05 unscored, C06 count-20's
    assert [c for c, _ in cards] == ["C02", "C01"]
    assert cards[0][1] == "C02<br>truth: cluster<br>label: non-cluster<br>n_votes: 3<br>p_cnn: 0.12"
    assert cards[1][1] == "C01<br>truth: non-cluster<br>label: cluster<br>n_votes: 5<br>p_cnn: 0.91"
    assert 'class="missing"' not in part
    assert "1 wrongly retired subject skipped: the picture file is missing (e.g. C07)" in _text(part)
    w = metrics["human_machine"]["wrong_retirements"]
    assert (w["n_retired_scored"], w["n_wrong"], w["shown"], w["n_skipped_no_image"], w["skipped"]) == (
        4, 3, ["C02", "C01"], 1, ["C07"])


def test_metrics_json_holds_the_numbers(report: tuple[Path, str, dict[str, Any]]) -> None:
    path, _, metrics = report
    hm = metrics["human_machine"]
    assert (hm["mode"], hm["baseline"], hm["machine_policy"], hm["n_scored"]) == ("mock", "count-20", "swap-cnn-gs", 9)
    pol = {r["policy"]: r for r in hm["policies"]}
    assert pol["swap-cnn-gs"]["equal_accuracy_classifications"] == 50
    assert pol["swap-cnn-gs"]["equal_accuracy_saving"] == 4.0
    assert pol["swap-cnn-gs"]["completeness_change_points"] == pytest.approx(-5.0)
    assert pol["swap"]["accuracy_change_points"] == pytest.approx(-2.0)
    assert pol["swap"]["equal_accuracy_saving"] is None and pol["count-20"]["baseline"] is True
    assert hm["retirement"]["best"] == "swap-cnn-gs" and hm["retirement"]["met"] is False
    assert hm["active_learning"]["goal"] == {"measured": True, "met": True, "goal_fraction": 0.4,
                                             "saving_fraction": 0.4}
    assert hm["active_learning"]["strategies"]["bald"]["accuracy"] == [0.7, 0.85]
    for fig in ("figures/human_machine_curves.png", "figures/human_machine_active_learning.png"):
        assert fig in metrics["figures"]
        with Image.open(path.parent / fig) as im:
            assert im.format == "PNG"


def test_without_replay_the_report_has_no_such_section(tmp_path: Path) -> None:
    path = write_report(make_run_folder(tmp_path), tmp_path / "out")
    assert "human-machine" not in _sections(path.read_text(encoding="utf-8"))
    assert "human_machine" not in json.loads((tmp_path / "out" / "metrics.json").read_text())


def test_equal_accuracy_from_the_curves_where_summary_lacks_it(tmp_path: Path) -> None:
    d = make_replay_folder(tmp_path)
    s = {k: v for k, v in SUMMARY.items() if k != "equal_accuracy"}
    (d / "summary.json").write_text(json.dumps(s))
    _, data = _section(d)
    pol = {r["policy"]: r for r in data["policies"]}
    # swap-cnn-gs's curve first reaches 0.80 at 50 classifications: 200 / 50
    assert (pol["swap-cnn-gs"]["equal_accuracy_classifications"], pol["swap-cnn-gs"]["equal_accuracy_saving"],
            pol["swap-cnn-gs"]["equal_accuracy_source"]) == (50, 4.0, "curves.csv")
    assert pol["swap"]["equal_accuracy_saving"] is None


def test_goal_met_when_saving_and_completeness_allow(tmp_path: Path) -> None:
    d = make_replay_folder(tmp_path)
    pol = pd.read_csv(d / "policies.csv")
    pol.loc[pol["policy"] == "swap-cnn-gs", "completeness"] = 0.745  # 0.5 points lower: within 1 point
    pol.to_csv(d / "policies.csv", index=False)
    s = json.loads(json.dumps(SUMMARY))
    s["equal_accuracy"]["swap-cnn-gs"] = {"classifications": 25, "saving": 8.0}
    (d / "summary.json").write_text(json.dumps(s))
    html, data = _section(d)
    assert data["retirement"]["met"] is True and data["retirement"]["met_by"] == ["swap-cnn-gs"]
    assert "8.0x fewer than the baseline's 200; its cluster completeness there is 0.5 points lower" in _text(html)
    assert "That meets the goal of at least 8x" in _text(html)
    # the goal is judged where the baseline's accuracy is reached: 2 points lower there is not met
    s["equal_accuracy"]["swap-cnn-gs"]["completeness_change"] = -0.02
    (d / "summary.json").write_text(json.dumps(s))
    html, data = _section(d)
    assert data["retirement"]["met"] is False
    assert ("its cluster completeness there is 2.0 points lower than the baseline's (where it stops: -0.5 points)"
            in _text(html))
    assert "completeness falls by 2.0 points" in _text(html)


def test_no_policy_reaches_the_baseline(tmp_path: Path) -> None:
    d = make_replay_folder(tmp_path)
    s = json.loads(json.dumps(SUMMARY))
    s["equal_accuracy"]["swap-cnn-gs"] = {"classifications": None, "saving": None}
    (d / "summary.json").write_text(json.dumps(s))
    html, data = _section(d)
    assert data["retirement"]["best"] is None and data["retirement"]["met"] is False
    assert ("No policy reaches the count baseline's accuracy (80.0%, count-20): the goal of at least 8x") in _text(html)
    assert "The largest saving of classifications is swap-cnn-gs's 2.5x at 82.0% accuracy" in _text(html)


def test_missing_active_learning_csv_omits_that_part(tmp_path: Path) -> None:
    d = make_replay_folder(tmp_path)
    (d / "active_learning.csv").unlink()
    saved: list[str] = []
    html, data = human_machine(read_replay_folder(d), lambda name, fig: saved.append(name) or b"png")
    assert saved == ["human_machine_curves"]
    assert "the replay folder has no active_learning.csv" in _text(html)
    assert data["active_learning"]["available"] is False and data["missing_inputs"] == ["active_learning.csv"]


def test_text_from_the_files_is_escaped(tmp_path: Path) -> None:
    d = make_replay_folder(tmp_path)
    for name in ("policies.csv", "curves.csv"):
        t = pd.read_csv(d / name)
        t["policy"] = t["policy"].replace("swap", "swap<script>&")
        t.to_csv(d / name, index=False)
    s = json.loads(json.dumps(SUMMARY))
    s["equal_accuracy"]["swap<script>&"] = s["equal_accuracy"].pop("swap")
    s["cnn"]["how"] = "<b>bold</b>"
    (d / "summary.json").write_text(json.dumps(s))
    html, _ = _section(d)
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "swap&lt;script&gt;&amp;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_cli_writes_the_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, rp = make_run_folder(tmp_path), make_replay_folder(tmp_path)
    assert main(["--quiet", "report", str(run), "--out", str(tmp_path / "rep"), "--replay", str(rp)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'rep' / 'report.html'}"
    assert "human-machine" in _sections((tmp_path / "rep" / "report.html").read_text(encoding="utf-8"))


def test_cli_not_a_replay_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run_folder(tmp_path)
    (tmp_path / "notreplay").mkdir()
    (tmp_path / "notreplay" / "votes.parquet").write_bytes(b"")
    assert main(["report", str(run), "--out", str(tmp_path / "rep"), "--replay", str(tmp_path / "notreplay")]) == 1
    err = capsys.readouterr().err
    assert err == (f"error: {tmp_path / 'notreplay'}: not a replay folder (expected policies.csv, curves.csv, "
                   "labels.csv and summary.json written by 'hunt-clusters replay'; found the output folder of "
                   "'hunt-clusters aggregate')\n")
    assert not (tmp_path / "rep").exists()


@pytest.mark.parametrize(("name", "column"), [("policies.csv", "completeness"), ("curves.csv", "accuracy"),
                                              ("labels.csv", "scored"), ("active_learning.csv", "accuracy_lo")])
def test_missing_column_names_file_and_column(tmp_path: Path, name: str, column: str) -> None:
    d = make_replay_folder(tmp_path)
    pd.read_csv(d / name).drop(columns=[column]).to_csv(d / name, index=False)
    with pytest.raises(InputError, match=rf"^{re.escape(str(d / name))}: missing column\(s\) {column}; has "):
        read_replay_folder(d)


def test_bad_values_name_the_row(tmp_path: Path) -> None:
    d = make_replay_folder(tmp_path)
    lab = pd.read_csv(d / "labels.csv", dtype=str)
    lab.loc[1, "scored"] = "maybe"
    lab.to_csv(d / "labels.csv", index=False)
    with pytest.raises(InputError, match=re.escape(f"{d / 'labels.csv'}: row 3, column scored: 'maybe' is not "
                                                   "True or False")):
        read_replay_folder(d)
    d2 = make_replay_folder(tmp_path, "r2")
    pol = pd.read_csv(d2 / "policies.csv", dtype=str)
    pol.loc[2, "accuracy"] = "high"
    pol.to_csv(d2 / "policies.csv", index=False)
    with pytest.raises(InputError, match=re.escape(f"{d2 / 'policies.csv'}: row 4, column accuracy: 'high' is not "
                                                   "a number")):
        read_replay_folder(d2)


def test_summary_without_baseline_or_its_row(tmp_path: Path) -> None:
    d = make_replay_folder(tmp_path)
    (d / "summary.json").write_text(json.dumps({"mode": "mock"}))
    with pytest.raises(InputError, match="no key 'baseline'"):
        read_replay_folder(d)
    (d / "summary.json").write_text(json.dumps({"mode": "mock", "baseline": "count-15"}))
    with pytest.raises(InputError, match=re.escape(f"{d / 'policies.csv'}: no row of the baseline policy 'count-15' "
                                                   "(summary.json 'baseline'); policies: count-20, swap, swap-cnn-gs")):
        read_replay_folder(d)


def test_active_learning_random_never_reaching_the_target(tmp_path: Path) -> None:
    d = make_replay_folder(tmp_path)
    s = json.loads(json.dumps(SUMMARY))
    s["active_learning"].update(labels_needed={"bald": 30, "random": None}, saving_fraction=None)
    (d / "summary.json").write_text(json.dumps(s))
    html, data = _section(d)
    assert ("BALD-chosen labels reach it with 30 labelled candidates, randomly chosen labels do not reach it; no "
            "saving can be stated. Not met: the goal of at least 40 %") in _text(html)
    assert data["active_learning"]["goal"]["met"] is False
    assert "<td>not reached</td>" in html.split("labels to reach the target")[1]


def test_policies_table_shows_the_paired_interval(tmp_path: Path) -> None:
    d = make_replay_folder(tmp_path)
    pol = pd.read_csv(d / "policies.csv")
    pol["difference_lo"], pol["difference_hi"], pol["mcnemar_p"] = -0.02, 0.01, 0.5
    pol.to_csv(d / "policies.csv", index=False)
    html, _ = _section(d)
    rows = html.split("<h3>Retirement policies</h3>")[1].split("</table>")[0]
    assert rows.count(" [-2.0, +1.0])") == len(pol) - 1      # every policy but the baseline


def test_active_learning_when_bald_needs_more(tmp_path: Path) -> None:
    d = make_replay_folder(tmp_path)
    s = json.loads(json.dumps(SUMMARY))
    s["active_learning"].update(labels_needed={"bald": 50, "random": 25}, saving_fraction=-1.0)
    (d / "summary.json").write_text(json.dumps(s))
    html, data = _section(d)
    assert ("randomly chosen labels reach it with 25 labelled candidates: BALD needed 2.0x as many labels as random "
            "selection. Not met") in _text(html)
    assert data["active_learning"]["goal"]["met"] is False


def test_unreadable_picture_is_a_box_not_a_skip(tmp_path: Path) -> None:
    d = make_replay_folder(tmp_path)
    (d / "pics" / "c02.jpg").write_bytes(b"not a jpeg")
    html, data = _section(d)
    part = html.split("<h3>Retired wrongly by the machine</h3>")[1]
    assert data["wrong_retirements"]["shown"] == ["C02", "C01"] and data["wrong_retirements"]["skipped"] == ["C07"]
    assert '<div class="missing">unreadable image (UnidentifiedImageError)</div><div>C02<br>' in part
