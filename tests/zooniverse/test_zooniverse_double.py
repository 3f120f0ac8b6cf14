"""The Panoptes test double answers the real, unpatched panoptes-client as the platform doc records."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from conftest import SENTINEL, png_bytes
from panoptes_double import PanoptesDouble

from hunt_clusters.zooniverse._client import _panoptes

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def pc():  # type: ignore[no-untyped-def]
    mod = _panoptes()
    yield mod
    mod.Panoptes._local.panoptes_client = None  # forget the connected client


def test_documented_toolkit_sequence(double: PanoptesDouble, pc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    img = tmp_path / "x.png"
    img.write_bytes(png_bytes(1))
    pc.Panoptes.connect(username="alice", password=SENTINEL, endpoint=double.url)
    proj = pc.Project.find(slug="alice/hunt")
    assert proj.id == "7"
    ss = pc.SubjectSet()
    ss.links.project = proj
    ss.display_name = "batch1"
    ss.save()
    subjects = []
    for i in range(2):
        s = pc.Subject()
        s.links.project = proj
        s.add_location(str(img))
        s.metadata.update({"#candidate_id": f"c{i}"})
        s.save()
        subjects.append(s)
    ss.add(subjects)
    pc.Workflow(9).add_subject_sets(ss)
    listed = list(pc.Subject.where(subject_set_id=ss.id))
    trace = [(r.method, r.path) for r in double.requests]
    sid = ss.id
    assert trace == [
        ("GET", "/users/sign_in"),
        ("POST", "/users/sign_in"),
        ("POST", "/oauth/token"),
        ("GET", "/api/projects"),
        ("POST", "/api/subject_sets"),
        ("POST", "/api/subjects"),
        ("PUT", f"/upload/{subjects[0].id}/0.png"),
        ("POST", "/api/subjects"),
        ("PUT", f"/upload/{subjects[1].id}/0.png"),
        ("GET", f"/api/subject_sets/{sid}"),
        ("GET", "/api/set_member_subjects"),
        ("GET", "/api/set_member_subjects"),
        ("POST", f"/api/subject_sets/{sid}/links/subjects"),
        ("GET", "/api/workflows/9"),
        ("POST", "/api/workflows/9/links/subject_sets"),
        ("GET", "/api/subjects"),
    ]
    assert [s.id for s in listed] == [s.id for s in subjects]
    assert double.media_of(subjects[0].id) == [png_bytes(1)]
    put = double.requests_to("PUT", "/upload/")[0]
    assert put.headers["x-ms-blob-type"] == "BlockBlob" and "authorization" not in put.headers
    login = double.requests_to("POST", "/users/sign_in")[0].json
    assert login["user"] == {"login": "alice", "password": SENTINEL, "remember_me": True}
    assert double.requests_to("POST", "/oauth/token")[0].body.startswith(b"grant_type=password")


def test_wrong_password_is_refused_with_json_error(double: PanoptesDouble, pc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(pc.panoptes.PanoptesAPIException, match="Invalid login or password"):
        pc.Panoptes(username="alice", password="wrong", endpoint=double.url)


def test_api_needs_vnd_accept_header_and_auth_for_writes(double: PanoptesDouble) -> None:
    assert requests.get(f"{double.url}/api/projects", timeout=5).status_code == 404
    headers = {"Accept": "application/vnd.api+json; version=1", "Content-Type": "application/json"}
    r = requests.post(f"{double.url}/api/subjects", json={}, headers=headers, timeout=5)
    assert r.status_code == 401 and r.json()["errors"][0]["message"]


def test_pagination_follows_next_href(double: PanoptesDouble, pc) -> None:  # type: ignore[no-untyped-def]
    for i in range(45):
        double.add_subject_set("7", f"s{i}")
    pc.Panoptes.connect(username="alice", password=SENTINEL, endpoint=double.url)
    names = [s.display_name for s in pc.SubjectSet.where(project_id=7)]
    assert len(names) == 45 and len(double.requests_to("GET", "^/api/subject_sets$")) == 3


def test_faults_fire_the_requested_number_of_times(double: PanoptesDouble) -> None:
    url = f"{double.url}/api/projects/7"
    headers = {"Accept": "application/vnd.api+json; version=1"}
    double.inject("GET", r"^/api/projects/7$", status=429, retry_after=3, skip=1, times=2)
    codes = [requests.get(url, headers=headers, timeout=5) for _ in range(4)]
    assert [c.status_code for c in codes] == [200, 429, 429, 200]
    assert codes[1].headers["Retry-After"] == "3"
    double.inject("GET", r"^/api/projects/7$", kind="drop")
    with pytest.raises(requests.ConnectionError):
        requests.get(url, headers=headers, timeout=5)
