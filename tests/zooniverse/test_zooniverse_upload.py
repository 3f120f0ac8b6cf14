"""Upload against the Panoptes double: exactly once, media verified, resumable, faults, bad input."""

from __future__ import annotations

import csv
import http.server
import shutil
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SENTINEL, make_subject_set
from panoptes_double import PanoptesDouble
from PIL import Image

from hunt_clusters._errors import InputError
from hunt_clusters.zooniverse import (
    Credentials,
    LoginError,
    UploadResult,
    ZooniverseConfig,
    ZooniverseError,
    upload_subject_set,
)

pytestmark = pytest.mark.timeout(60)


def upload(folder: Path, cfg: ZooniverseConfig, creds: Credentials, **kw: object) -> UploadResult:
    kw.setdefault("project", "alice/hunt")
    kw.setdefault("threads", 4)
    return upload_subject_set(folder, config=cfg, credentials=creds, progress=False, **kw)  # type: ignore[arg-type]


def ledger_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "upload_ledger.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def assert_complete(double: PanoptesDouble, folder: Path, set_id: str) -> None:
    """Every manifest row exactly once in the set and on the server, media byte-equal, ledger all ok."""
    with (folder / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    all_cids = Counter(s["metadata"]["#candidate_id"] for s in double.state.subjects.values())
    assert all(n == 1 for n in all_cids.values()), f"duplicates on the server: {all_cids}"
    in_set = {s["metadata"]["#candidate_id"]: s for s in double.subjects_in(set_id)}
    assert sorted(in_set) == sorted(r["#candidate_id"] for r in rows)
    assert len(double.subjects_in(set_id)) == len(rows)
    for r in rows:
        subj = in_set[r["#candidate_id"]]
        assert subj["metadata"] == r  # every column, hidden ones with their '#'
        assert double.media_of(subj["id"]) == [(folder / r["image"]).read_bytes()]
        assert double.state.media_types[f"{subj['id']}/0"] == "image/png"
    ledger = {r["candidate_id"]: r for r in ledger_rows(folder)}
    assert sorted(ledger) == sorted(in_set)
    for cid, row in ledger.items():
        assert row["subject_id"] == in_set[cid]["id"] and row["subject_set_id"] == set_id
        assert row["media_ok"] == "true" and row["uploaded_at"].endswith("Z")


def test_upload_everything_exactly_once(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials,
                                        subject_set: Path) -> None:
    res = upload(subject_set, fast, creds, workflow="9")
    assert res.ok and res.n_created == 6 and res.n_present == 0 and res.n_subjects == 6
    assert_complete(double, subject_set, res.subject_set_id or "")
    assert double.state.subject_sets[res.subject_set_id]["display_name"] == "demo"
    assert res.subject_set_id in double.state.workflows["9"]["links"]["subject_sets"]
    # no per-subject GETs: 3 login + project + workflow + set lookup + set create + 6x(create+PUT) + workflow link
    assert len(double.requests) == 3 + 4 + 12 + 1 == res.n_requests
    assert not double.requests_to("GET", "set_member_subjects")
    assert not [r for r in double.requests if r.path.startswith("/upload/") and "authorization" in r.headers]


def test_rerun_sends_no_create_and_no_media(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials,
                                            subject_set: Path) -> None:
    first = upload(subject_set, fast, creds)
    double.reset_requests()
    again = upload(subject_set, fast, creds)
    assert again.ok and again.n_created == 0 and again.n_present == 6
    assert again.subject_set_id == first.subject_set_id
    assert not double.requests_to("POST", "/api/subjects") and not double.requests_to("PUT", "/upload/")


def test_lost_ledger_is_rebuilt_from_candidate_ids(double: PanoptesDouble, fast: ZooniverseConfig,
                                                   creds: Credentials, subject_set: Path) -> None:
    first = upload(subject_set, fast, creds)
    (subject_set / "upload_ledger.csv").unlink()
    double.reset_requests()
    again = upload(subject_set, fast, creds, subject_set=first.subject_set_id)
    assert again.ok and again.n_created == 0 and again.n_present == 6
    assert not double.requests_to("POST", "/api/subjects")
    assert len(double.requests_to("HEAD", "/media/")) == 6  # media verified, not re-sent
    assert_complete(double, subject_set, first.subject_set_id or "")


def test_new_rows_in_the_manifest_are_added(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials,
                                            tmp_path: Path) -> None:
    folder = make_subject_set(tmp_path / "grow", 3)
    upload(folder, fast, creds)
    make_subject_set(folder, 5)  # rewrites the manifest with two more rows
    res = upload(folder, fast, creds)
    assert res.n_created == 2 and res.n_present == 3
    assert_complete(double, folder, res.subject_set_id or "")


FAULTS = {
    "503 on create": dict(method="POST", path="^/api/subjects$", status=503, times=3),
    "500 on create": dict(method="POST", path="^/api/subjects$", status=500, times=2, skip=2),
    "reply lost after create": dict(method="POST", path="^/api/subjects$", kind="drop_after", times=3),
    "dropped before create": dict(method="POST", path="^/api/subjects$", kind="drop", times=2),
    "create hangs": dict(method="POST", path="^/api/subjects$", kind="hang", hang_s=10, times=1),
    "429 on create": dict(method="POST", path="^/api/subjects$", status=429, retry_after=0.02, times=3),
    "503 on listing": dict(method="GET", path="^/api/subjects$", status=503, times=2),
    "502 on set lookup": dict(method="GET", path="^/api/subject_sets$", status=502, times=1),
    "reply lost after set create": dict(method="POST", path="^/api/subject_sets$", kind="drop_after", times=1),
    "media 500": dict(method="PUT", path="^/upload/", status=500, times=4),
    "media 503 Retry-After": dict(method="PUT", path="^/upload/", status=503, retry_after=0.01, times=2),
    "media 429 Retry-After": dict(method="PUT", path="^/upload/", status=429, retry_after=0.02, times=3),
    "media dropped": dict(method="PUT", path="^/upload/", kind="drop", times=3),
    "media stored, reply lost": dict(method="PUT", path="^/upload/", kind="drop_after", times=2),
    "media hangs": dict(method="PUT", path="^/upload/", kind="hang", hang_s=10, times=1),
    "link 503": dict(method="POST", path="links/subject_sets", status=503, times=2),
}


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_fault_is_survived_without_duplicates(fault: str, double: PanoptesDouble, creds: Credentials,
                                              subject_set: Path) -> None:
    cfg = ZooniverseConfig(endpoint=double.url, timeout=0.5, retries=4, backoff=0.01, max_backoff=0.05)
    if "listing" in fault:
        double.add_subject_set("7", "demo")  # the set exists, so its subjects are listed first
    f = double.inject(**FAULTS[fault])  # type: ignore[arg-type]
    res = upload(subject_set, cfg, creds, workflow="9")
    assert f.fired == f.times, "the fault did not fire"
    assert res.ok, res.failures
    assert_complete(double, subject_set, res.subject_set_id or "")
    assert len(double.state.subject_sets) == 2  # bob's and this one: no duplicate set either
    assert res.subject_set_id in double.state.workflows["9"]["links"]["subject_sets"]


def test_create_refused_every_time_stops_clearly_then_resumes(double: PanoptesDouble, creds: Credentials,
                                                              subject_set: Path) -> None:
    cfg = ZooniverseConfig(endpoint=double.url, timeout=1, retries=2, backoff=0.01, max_backoff=0.02)
    f = double.inject("POST", "^/api/subjects$", status=503, times=None)
    res = upload(subject_set, cfg, creds)
    assert not res.ok and len(res.failures) == 6
    assert all("HTTP 503" in reason for _, reason in res.failures)
    assert not double.state.subjects
    assert not (subject_set / "upload_ledger.csv").exists()  # a subject not created is not recorded
    f.times = 0
    res = upload(subject_set, cfg, creds)
    assert res.ok and res.n_created == 6
    assert_complete(double, subject_set, res.subject_set_id or "")


def test_media_never_accepted_is_a_failure_then_repaired(double: PanoptesDouble, creds: Credentials,
                                                         subject_set: Path) -> None:
    cfg = ZooniverseConfig(endpoint=double.url, timeout=1, retries=2, backoff=0.01, max_backoff=0.02)
    f = double.inject("PUT", "^/upload/", status=500, times=None)
    res = upload(subject_set, cfg, creds)
    assert not res.ok and len(res.failures) == 6
    assert all("media upload: HTTP 500" in reason for _, reason in res.failures)
    assert [r["media_ok"] for r in ledger_rows(subject_set)] == ["false"] * 6
    assert len(double.state.subjects) == 6 and not double.state.media
    f.times = 0
    double.reset_requests()
    again = upload(subject_set, cfg, creds)
    assert again.ok and again.n_created == 0 and again.n_media_repaired == 6
    assert len(double.requests_to("PUT", "^/api/subjects/")) == 6  # fresh signed URLs
    assert_complete(double, subject_set, res.subject_set_id or "")


def test_truncated_media_is_found_and_repaired(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials,
                                               subject_set: Path) -> None:
    first = upload(subject_set, fast, creds)
    sid = first.subject_set_id or ""
    victim = double.subjects_in(sid)[2]["id"]
    double.state.media[f"{victim}/0"] = double.state.media[f"{victim}/0"][:-7]  # wrong size on the server
    (subject_set / "upload_ledger.csv").unlink()  # no ledger: every image is checked with a HEAD
    double.reset_requests()
    again = upload(subject_set, fast, creds, subject_set=sid)
    assert again.ok and again.n_created == 0 and again.n_media_repaired == 1
    assert len(double.requests_to("HEAD", "/media/")) == 6
    assert [r.path for r in double.requests_to("PUT", "^/api/subjects/")] == [f"/api/subjects/{victim}"]
    assert_complete(double, subject_set, sid)


def test_expired_url_gets_a_fresh_one(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials,
                                      subject_set: Path) -> None:
    # one refused PUT: whichever worker meets it asks for one fresh signed URL and succeeds
    # (two injected refusals would race: both could land on the same subject's two tries)
    double.inject("PUT", "^/upload/", status=403, times=1)
    res = upload(subject_set, fast, creds)
    assert res.ok
    assert len(double.requests_to("PUT", "^/api/subjects/")) == 1
    assert_complete(double, subject_set, res.subject_set_id or "")


def test_url_refused_twice_is_a_failure_then_a_rerun_completes(
    double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials, subject_set: Path
) -> None:
    double.inject("PUT", "^/upload/", status=403, times=2)
    res = upload(subject_set, fast, creds, threads=1)  # one worker: both refusals hit the first subject
    assert not res.ok and len(res.failures) == 1 and "HTTP 403" in str(res.failures)
    assert sum(r["media_ok"] == "false" for r in ledger_rows(subject_set)) == 1
    again = upload(subject_set, fast, creds)
    assert again.ok and again.n_created == 0
    assert_complete(double, subject_set, again.subject_set_id or "")


def test_token_revoked_midway_logs_in_again(creds: Credentials, tmp_path: Path) -> None:
    folder = make_subject_set(tmp_path / "tok", 8)
    with PanoptesDouble(users={"alice": SENTINEL}, token_ttl=0.06, latency=0.02) as d:
        d.add_project()
        cfg = ZooniverseConfig(endpoint=d.url, timeout=2, retries=3, backoff=0.01)
        res = upload(folder, cfg, creds, threads=2)
        assert res.ok
        assert len(d.requests_to("POST", "/oauth/token")) >= 2
        assert_complete(d, folder, res.subject_set_id or "")


def test_client_credentials_login(double: PanoptesDouble, fast: ZooniverseConfig, subject_set: Path) -> None:
    res = upload(subject_set, fast, Credentials(client_id="robot", client_secret="client-" + SENTINEL))
    assert res.ok
    assert not double.requests_to("POST", "/users/sign_in")
    assert double.requests_to("POST", "/oauth/token")[0].body.startswith(b"grant_type=client_credentials")


def test_dry_run_sends_nothing(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials,
                               subject_set: Path) -> None:
    res = upload(subject_set, fast, creds, dry_run=True, workflow="9")
    assert res.dry_run and res.subject_set_id is None
    assert double.requests == []
    assert any("6 to upload" in line for line in res.plan)
    assert not (subject_set / "upload_ledger.csv").exists()


# -- bad input: clear errors, nothing half-created ------------------------------------------------
def test_wrong_password_one_line_without_secret(double: PanoptesDouble, fast: ZooniverseConfig,
                                                subject_set: Path) -> None:
    with pytest.raises(LoginError) as exc:
        upload(subject_set, fast, Credentials(username="alice", password="not-" + SENTINEL))
    msg = str(exc.value)
    assert "alice" in msg and "Invalid login or password" in msg and SENTINEL not in msg and "\n" not in msg


def test_wrong_client_secret(double: PanoptesDouble, fast: ZooniverseConfig, subject_set: Path) -> None:
    with pytest.raises(LoginError, match="client id or secret") as exc:
        upload(subject_set, fast, Credentials(client_id="robot", client_secret="bad-" + SENTINEL))
    assert SENTINEL not in str(exc.value)


def test_no_credentials(double: PanoptesDouble, fast: ZooniverseConfig, subject_set: Path) -> None:
    with pytest.raises(LoginError, match="PANOPTES_USERNAME"):
        upload(subject_set, fast, Credentials())
    assert double.requests == []


def test_missing_image_is_caught_before_any_request(double: PanoptesDouble, fast: ZooniverseConfig,
                                                    creds: Credentials, subject_set: Path) -> None:
    (subject_set / "XC_003.png").unlink()
    with pytest.raises(InputError, match=r"manifest.csv, line 5 \(XC 003\): image 'XC_003.png' not found"):
        upload(subject_set, fast, creds)
    assert double.requests == []


def test_oversized_image(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials,
                         subject_set: Path) -> None:
    import numpy as np

    noise = np.random.default_rng(1).integers(0, 255, (700, 700, 3), dtype=np.uint8)
    Image.fromarray(noise).save(subject_set / "XC_001.png")
    with pytest.raises(InputError, match=r"line 3 \(XC 001\): image 'XC_001.png' is \d+ bytes; .* 1048576"):
        upload(subject_set, fast, creds)
    assert double.requests == []


def test_unknown_project(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials,
                         subject_set: Path) -> None:
    with pytest.raises(InputError, match="project 'alice/nope' not found"):
        upload(subject_set, fast, creds, project="alice/nope")
    with pytest.raises(InputError, match="project 99 not found"):
        upload(subject_set, fast, creds, project="99")
    assert not double.requests_to("POST", "/api/")


def test_subject_set_of_another_project(double: PanoptesDouble, fast: ZooniverseConfig, creds: Credentials,
                                        subject_set: Path) -> None:
    theirs = next(iter(double.state.subject_sets))
    with pytest.raises(InputError, match=f"subject set {theirs} belongs to project 8, not to project 7"):
        upload(subject_set, fast, creds, subject_set=theirs)
    assert not double.requests_to("POST", "/api/")


def test_workflow_of_another_project_creates_nothing(double: PanoptesDouble, fast: ZooniverseConfig,
                                                     creds: Credentials, subject_set: Path) -> None:
    double.add_workflow("8", workflow_id="19")
    with pytest.raises(InputError, match="workflow 19 belongs to project 8"):
        upload(subject_set, fast, creds, workflow="19")
    assert not double.requests_to("POST", "/api/")


@pytest.fixture
def not_panoptes() -> Iterator[str]:
    """A plain web server: 404 HTML for everything."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.RequestHandlerClass.log_message = lambda *a: None  # type: ignore[method-assign]
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_endpoint_that_is_not_panoptes(not_panoptes: str, creds: Credentials, subject_set: Path) -> None:
    cfg = ZooniverseConfig(endpoint=not_panoptes, timeout=2, retries=0)
    with pytest.raises(LoginError, match="does not look like a Panoptes server"):
        upload(subject_set, cfg, creds)


def test_endpoint_unreachable(creds: Credentials, subject_set: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = ZooniverseConfig(endpoint=f"http://127.0.0.1:{port}", timeout=1, retries=0)
    with pytest.raises(LoginError, match="cannot reach"):
        upload(subject_set, cfg, creds)


def test_a_set_removed_subject_is_linked_back(double: PanoptesDouble, fast: ZooniverseConfig,
                                              creds: Credentials, subject_set: Path) -> None:
    res = upload(subject_set, fast, creds)
    sid = res.subject_set_id or ""
    removed = double.state.members[sid].pop(0)
    double.reset_requests()
    again = upload(subject_set, fast, creds)
    assert again.ok and again.n_created == 0
    assert len(double.requests_to("POST", f"/api/subject_sets/{sid}/links/subjects")) == 1
    assert removed in double.state.members[sid]
    assert_complete(double, subject_set, sid)


def test_ledger_of_another_folder_is_not_trusted(double: PanoptesDouble, fast: ZooniverseConfig,
                                                 creds: Credentials, subject_set: Path, tmp_path: Path) -> None:
    upload(subject_set, fast, creds)
    copy = tmp_path / "copy"
    shutil.copytree(subject_set, copy)
    res = upload(copy, fast, creds)  # another set name ('copy'): a new set, subjects created there
    assert res.ok and res.n_created == 6
    assert len(double.subjects_in(res.subject_set_id or "")) == 6


def test_upload_error_is_zooniverse_error(double: PanoptesDouble, creds: Credentials, subject_set: Path) -> None:
    cfg = ZooniverseConfig(endpoint=double.url, timeout=1, retries=1, backoff=0.01)
    double.inject("GET", "^/api/projects$", status=503, times=None)
    with pytest.raises(ZooniverseError, match=r"GET /api/projects on .*: HTTP 503 after 2 attempts"):
        upload(subject_set, cfg, creds)


def test_short_lived_tokens_refresh_without_races(creds: Credentials, tmp_path: Path) -> None:
    """expires_in < 2 min: panoptes-client refreshes before every call; refresh tokens are single-use."""
    folder = make_subject_set(tmp_path / "short", 12)
    with PanoptesDouble(users={"alice": SENTINEL}, expires_in=60) as d:
        d.add_project()
        cfg = ZooniverseConfig(endpoint=d.url, timeout=2, retries=2, backoff=0.01)
        res = upload(folder, cfg, creds, threads=6)
        assert res.ok, res.failures
        refreshes = [r for r in d.requests_to("POST", "/oauth/token") if b"grant_type=refresh_token" in r.body]
        assert len(refreshes) >= 12
        assert_complete(d, folder, res.subject_set_id or "")
