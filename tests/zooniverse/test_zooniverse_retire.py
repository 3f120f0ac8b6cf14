"""Retirement through the real panoptes-client (``Workflow.retire_subjects``) against the Panoptes double."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import SENTINEL
from panoptes_double import PanoptesDouble
from test_zooniverse_upload import upload

from hunt_clusters._errors import InputError
from hunt_clusters.cli import main
from hunt_clusters.zooniverse import Credentials, ZooniverseConfig, ZooniverseError, apply_retirement

pytestmark = pytest.mark.timeout(60)


def test_retire_in_batches_of_100(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials) -> None:
    ids = list(range(5000, 5150))
    res = apply_retirement(workflow=9, retire=ids, reason="consensus", config=fast, credentials=creds)
    posts = double.requests_to("POST", r"^/api/workflows/9/retired_subjects$")
    assert [p.json for p in posts] == [
        {"subject_ids": ids[:100], "retirement_reason": "consensus"},
        {"subject_ids": ids[100:], "retirement_reason": "consensus"},
    ]
    assert all(p.user == "alice" and p.headers["content-type"] == "application/json" for p in posts)
    assert double.state.retired["9"] == {str(i): "consensus" for i in ids}
    assert (res.n_retired, res.n_to_experts, res.dry_run) == (150, 0, False)
    assert len(double.requests_to("GET", r"^/api/workflows/9$")) == 1   # checked once, not reloaded by the client


def test_dry_run_sends_nothing(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials) -> None:
    res = apply_retirement(workflow=9, retire=["11", 12.0], to_experts=[13], expert_set=77, config=fast,
                           credentials=creds, dry_run=True)
    assert double.requests == []
    assert res.plan == ('POST /api/workflows/9/retired_subjects {"subject_ids": [11, 12], "retirement_reason": '
                        '"consensus"}', 'POST /api/subject_sets/77/links/subjects {"subjects": ["13"]}')


def test_experts_are_linked_not_retired(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials,
                                        subject_set: Path) -> None:
    up = upload(subject_set, fast, creds, project="alice/hunt")
    ids = sorted(double.state.members[str(up.subject_set_id)], key=int)
    experts = double.add_subject_set("7", "experts")
    res = apply_retirement(workflow=9, retire=ids[:2], to_experts=ids[2:4], expert_set=experts, reason="other",
                           config=fast, credentials=creds)
    assert double.state.retired["9"] == {ids[0]: "other", ids[1]: "other"}
    assert double.state.members[experts] == ids[2:4]
    assert (res.n_retired, res.n_to_experts) == (2, 2)


def test_refusals_are_clear(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials) -> None:
    with pytest.raises(InputError, match="reason 'done' unknown; Panoptes accepts classification_count"):
        apply_retirement(workflow=9, retire=[1], reason="done", config=fast, credentials=creds)
    with pytest.raises(InputError, match="subject_id 'XC 001' is not a Zooniverse subject id"):
        apply_retirement(workflow=9, retire=["XC 001"], config=fast, credentials=creds)
    with pytest.raises(InputError, match="workflow 404 not found"):
        apply_retirement(workflow=404, retire=[1], config=fast, credentials=creds)
    with pytest.raises(InputError, match="--expert-set"):
        apply_retirement(workflow=9, to_experts=[1], config=fast, credentials=creds)
    assert double.requests_to("POST", "retired_subjects") == []


def test_server_error_says_how_far_it_got(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials) -> None:
    double.inject("POST", r"/retired_subjects$", status=500, skip=1)
    with pytest.raises(ZooniverseError, match=r"\(100 of 150 subjects retired before; run again") as err:
        apply_retirement(workflow=9, retire=list(range(1, 151)), config=fast, credentials=creds)
    assert SENTINEL not in str(err.value)
    assert len(double.state.retired["9"]) == 100


def test_cli_apply(double: PanoptesDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PANOPTES_USERNAME", "alice")
    monkeypatch.setenv("PANOPTES_PASSWORD", SENTINEL)
    votes = pd.DataFrame({"subject_id": [21] * 3 + [22] * 3, "candidate_id": ["X"] * 3 + ["Y"] * 3,
                          "user": ["u1", "u2", "u3"] * 2, "class": ["low-z"] * 3 + ["point", "low-z", "point"]})
    votes.to_csv(tmp_path / "votes.csv", index=False)
    pd.DataFrame({"candidate_id": ["X", "Y"], "p_cluster": [0.97, 0.5], "p_cluster_std": [0.01, 0.02]}).to_csv(
        tmp_path / "p.csv", index=False)
    rc = main(["-q", "retire", str(tmp_path / "votes.csv"), "--predictions", str(tmp_path / "p.csv"),
               "--out", str(tmp_path / "out"), "--apply", "--workflow", "9", "--endpoint", double.url])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    # no gold: every vote weighs nothing, X retires on the CNN's 0.97 once it has 3 votes
    assert double.state.retired["9"] == {"21": "consensus"}
    assert "workflow 9: 1 subjects retired (consensus)" in captured.out
    assert SENTINEL not in captured.out + captured.err
