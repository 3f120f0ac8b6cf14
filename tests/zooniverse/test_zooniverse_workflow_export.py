"""Workflow push / pull and exports against the Panoptes double."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from conftest import SENTINEL
from panoptes_double import PanoptesDouble

from hunt_clusters._errors import InputError
from hunt_clusters.cli import main
from hunt_clusters.workflow import DEFAULT_WORKFLOW_PATH, load_workflow
from hunt_clusters.zooniverse import (
    Credentials,
    ZooniverseConfig,
    ZooniverseError,
    download_export,
    pull_workflow,
    push_workflow,
    workflow_attributes,
)

pytestmark = pytest.mark.timeout(60)


def test_attributes_carry_literal_text() -> None:
    attrs = workflow_attributes(load_workflow())
    t0 = attrs["tasks"]["T0"]
    assert t0["question"].startswith("**What do the X-ray contours show?**")
    assert [a["label"] for a in t0["answers"]][:2] == [
        "Galaxy cluster with visible galaxies", "Galaxy cluster with no visible galaxies (distant)"]
    assert attrs["retirement"] == {"criteria": "classification_count", "options": {"count": 20}}
    assert set(attrs) == {"display_name", "first_task", "tasks", "retirement"}


def test_push_update_then_pull_roundtrip(double: PanoptesDouble, fast: ZooniverseConfig,
                                         creds: Credentials) -> None:
    local = load_workflow()
    res = push_workflow(local, project="alice/hunt", workflow=9, config=fast, credentials=creds)
    assert (res.workflow_id, res.created, res.version) == ("9", False, "2.2")
    live = double.state.workflows["9"]
    assert live["tasks"]["T0"]["answers"][3] == {"label": "T0.answers.3.label"}  # server keeps keys
    assert live["strings"]["T0.answers.3.label"] == "A star or point source"
    assert live["retirement"]["options"] == {"count": 20}
    put = double.requests_to("PUT", "^/api/workflows/9$")[0]
    assert put.headers["if-match"] and "strings" not in put.json["workflows"]
    pulled = pull_workflow(9, template=local, config=fast, credentials=creds)
    assert pulled == local.__class__(**{**local.__dict__, "workflow_id": 9})
    again = push_workflow(local, project="alice/hunt", workflow=9, config=fast, credentials=creds)
    assert again.version == "2.2"  # nothing changed, no new version


def test_push_creates_once_then_updates_by_name(double: PanoptesDouble, fast: ZooniverseConfig,
                                                creds: Credentials) -> None:
    first = push_workflow(DEFAULT_WORKFLOW_PATH, project="7", config=fast, credentials=creds)
    assert first.created and double.state.workflows[first.workflow_id]["display_name"] == "The Hunt for Galaxy Clusters"
    second = push_workflow(DEFAULT_WORKFLOW_PATH, project="7", config=fast, credentials=creds)
    assert not second.created and second.workflow_id == first.workflow_id
    assert len(double.state.workflows) == 2  # workflow 9 and the new one


@pytest.mark.parametrize("fault", [dict(kind="drop_after"), dict(status=503)], ids=["reply lost", "503"])
def test_push_create_is_not_repeated_blindly(fault: dict[str, object], double: PanoptesDouble, creds: Credentials) -> None:
    cfg = ZooniverseConfig(endpoint=double.url, timeout=0.5, retries=3, backoff=0.01, max_backoff=0.02)
    f = double.inject("POST", "^/api/workflows$", times=1, **fault)  # type: ignore[arg-type]
    res = push_workflow(DEFAULT_WORKFLOW_PATH, project="7", config=cfg, credentials=creds)
    assert f.fired == 1 and res.created
    assert len(double.state.workflows) == 2  # workflow 9 and exactly one new one
    assert double.state.workflows[res.workflow_id]["display_name"] == "The Hunt for Galaxy Clusters"


def test_push_to_workflow_of_another_project(double: PanoptesDouble, fast: ZooniverseConfig,
                                             creds: Credentials) -> None:
    double.add_workflow("8", workflow_id="19")
    with pytest.raises(InputError, match="workflow 19 belongs to project 8"):
        push_workflow(load_workflow(), project="alice/hunt", workflow=19, config=fast, credentials=creds)


def test_workflow_cli_push_and_pull(double: PanoptesDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PANOPTES_USERNAME", "alice")
    monkeypatch.setenv("PANOPTES_PASSWORD", SENTINEL)
    monkeypatch.setenv("PANOPTES_ENDPOINT", double.url)
    path = tmp_path / "wf.yaml"
    path.write_text(DEFAULT_WORKFLOW_PATH.read_text())
    assert main(["workflow", "push", str(path), "--project", "alice/hunt", "--workflow", "9"]) == 0
    assert "updated workflow 9 (version 2.2)" in capsys.readouterr().out
    double.state.workflows["9"]["strings"]["T0.answers.4.label"] = "Something else entirely"
    assert main(["workflow", "pull", str(path), "--workflow", "9"]) == 0
    out = capsys.readouterr().out
    assert "answers without a class" in out and "Something else entirely" in out
    saved = yaml.safe_load(path.read_text())
    assert saved["workflow_id"] == 9 and saved["answers"][4] == {
        "label": "Something else entirely", "class": None, "help": ""}
    assert saved["answers"][0]["class"] == "low-z"


def test_export_generate_and_download(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials,
                                      tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hunt_clusters")
    content = "classification_id,user_name\n1,alice\n"
    double.set_export("projects", "7", "classifications", content)
    double.export_polls = 2
    out = download_export(tmp_path / "c.csv", project="alice/hunt", generate=True, config=fast,
                          credentials=creds, poll_s=0.01, progress=True)
    assert out.read_text() == content
    assert len(double.requests_to("POST", "^/api/projects/7/classifications_export$")) == 1
    assert len(double.requests_to("GET", "^/api/projects/7/classifications_export$")) == 3
    assert "waiting for Zooniverse to generate the classifications export" in caplog.text
    assert [p.name for p in tmp_path.iterdir()] == ["c.csv"]


def test_export_latest_subjects_and_workflow_classifications(double: PanoptesDouble, fast: ZooniverseConfig,
                                                            creds: Credentials, tmp_path: Path) -> None:
    double.set_export("workflows", "9", "classifications", "classification_id\n5\n")
    out = download_export(tmp_path / "w.csv", project="7", workflow=9, config=fast, credentials=creds,
                          progress=False)
    assert out.read_text() == "classification_id\n5\n"
    sub = download_export(tmp_path / "s.csv", project="7", export_type="workflows", generate=True, config=fast,
                          credentials=creds, poll_s=0.01, progress=False)
    assert sub.read_text().startswith("workflow_id,display_name,version,minor_version")


def test_export_errors(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no subjects export of project 7 .* exists yet; run again with --generate"):
        download_export(tmp_path / "x.csv", project="7", export_type="subjects", config=fast, credentials=creds)
    with pytest.raises(InputError, match="valid types are classifications, subjects, workflows"):
        download_export(tmp_path / "x.csv", project="7", export_type="votes", config=fast, credentials=creds)
    with pytest.raises(InputError, match="classifications exports only"):
        download_export(tmp_path / "x.csv", project="7", export_type="subjects", workflow=9, config=fast,
                        credentials=creds)
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("fault, message", [(dict(status=500), "HTTP 500"), (dict(kind="drop"), "ConnectionError")],
                         ids=["500", "dropped"])
def test_export_download_failure_leaves_nothing(fault: dict[str, object], message: str, double: PanoptesDouble,
                                                fast: ZooniverseConfig, creds: Credentials, tmp_path: Path) -> None:
    double.set_export("projects", "7", "classifications", "classification_id\n1\n")
    f = double.inject("GET", "^/exports/", times=1, **fault)  # type: ignore[arg-type]
    with pytest.raises(ZooniverseError, match=f"downloading the classifications export of project 7 .*{message}"):
        download_export(tmp_path / "c.csv", project="7", config=fast, credentials=creds, progress=False)
    assert f.fired == 1
    assert list(tmp_path.iterdir()) == []  # no partial file, no temp file


def test_export_cli(double: PanoptesDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PANOPTES_USERNAME", "alice")
    monkeypatch.setenv("PANOPTES_PASSWORD", SENTINEL)
    double.set_export("projects", "7", "classifications", "classification_id\n1\n")
    out = tmp_path / "cls.csv"
    rc = main(["-q", "export", "--project", "alice/hunt", "--out", str(out), "--endpoint", double.url])
    assert rc == 0 and out.read_text() == "classification_id\n1\n"
    assert f"wrote {out}" in capsys.readouterr().out


def test_workflow_cli_missing_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workflow", "push", str(DEFAULT_WORKFLOW_PATH)]) == 2
    assert main(["workflow", "pull", "x.yaml"]) == 2
    err = capsys.readouterr().err
    assert "--project is required" in err and "--workflow is required" in err
