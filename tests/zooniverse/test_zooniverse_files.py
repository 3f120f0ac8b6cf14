"""Manifest checks, the ledger, credentials and endpoints: no network involved."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import SENTINEL, make_subject_set

from hunt_clusters._errors import InputError
from hunt_clusters.zooniverse import (
    LIVE_ENDPOINT,
    Credentials,
    Ledger,
    LedgerEntry,
    LedgerLock,
    UploadLockedError,
    ZooniverseConfig,
    load_credentials,
    read_subject_set,
    resolve_endpoint,
)


def test_read_subject_set_keeps_every_column(subject_set: Path) -> None:
    recs = read_subject_set(subject_set)
    assert [r.candidate_id for r in recs] == [f"XC {i:03d}" for i in range(6)]
    r = recs[2]
    assert r.row == 4 and r.mime == "image/png" and r.image == (subject_set / "XC_002.png").resolve()
    assert dict(r.metadata) == {"image": "XC_002.png", "#candidate_id": "XC 002", "#ra": "35.0200",
                                "#dec": "-4.4800", "#field": "XXL-N", "object": "candidate 2"}
    assert r.size == (subject_set / "XC_002.png").stat().st_size
    assert read_subject_set(subject_set / "manifest.csv") == recs


def _rewrite(folder: Path, old: str, new: str) -> None:
    m = folder / "manifest.csv"
    m.write_text(m.read_text().replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("#candidate_id", "candidate_id", r"missing column\(s\) #candidate_id"),
        ("XC 003", "XC 001", r"line 5: #candidate_id 'XC 001' already on line 3"),
        ("XC 002,", ",", r"line 4: empty #candidate_id"),
        ("35.0100", "3h", r"line 3 \(XC 001\): #ra '3h' is not a number"),
        ("XC_004.png", "XC_004.txt", r"line 6 \(XC 004\): image 'XC_004.txt' not found"),
        ("XC_000.png", "", r"line 2 \(XC 000\): empty image cell"),
    ],
)
def test_manifest_errors_name_file_line_and_value(subject_set: Path, old: str, new: str, message: str) -> None:
    _rewrite(subject_set, old, new)
    with pytest.raises(InputError, match=message) as exc:
        read_subject_set(subject_set)
    assert str(subject_set / "manifest.csv") in str(exc.value)


def test_image_content_must_match_extension(subject_set: Path) -> None:
    (subject_set / "XC_001.png").write_bytes(b"GIF89a not a png")
    with pytest.raises(InputError, match=r"'XC_001.png' does not contain image/png data"):
        read_subject_set(subject_set)


def test_empty_and_headerless(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="manifest not found"):
        read_subject_set(tmp_path)
    (tmp_path / "manifest.csv").write_text("image,#candidate_id,#ra,#dec\n")
    with pytest.raises(InputError, match="no subjects"):
        read_subject_set(tmp_path)


def test_ledger_roundtrip_and_atomic_rewrite(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "upload_ledger.csv")
    led.record(LedgerEntry("A 1", "1001", "1000", "2026-01-01T00:00:00Z", True))
    led.record(LedgerEntry("B,2", "1002", "1000", "2026-01-01T00:00:01Z", False))
    led.record(LedgerEntry("A 1", "1001", "1000", "2026-01-01T00:00:02Z", True))
    text = (tmp_path / "upload_ledger.csv").read_text()
    assert text == (
        "candidate_id,subject_id,subject_set_id,uploaded_at,media_ok\n"
        "A 1,1001,1000,2026-01-01T00:00:02Z,true\n"
        '"B,2",1002,1000,2026-01-01T00:00:01Z,false\n'
    )
    assert sorted(os.listdir(tmp_path)) == ["upload_ledger.csv"]  # no temp file left behind
    again = Ledger(tmp_path / "upload_ledger.csv")
    assert again.entries == led.entries
    again.record(LedgerEntry('C "3"', "1003", "1000", "2026-01-01T00:00:03Z", True))  # loaded rows kept as they were
    assert (tmp_path / "upload_ledger.csv").read_text() == text + '"C ""3""",1003,1000,2026-01-01T00:00:03Z,true\n'
    assert list(Ledger(tmp_path / "upload_ledger.csv").entries) == ["A 1", "B,2", 'C "3"']


def test_ledger_with_wrong_columns(tmp_path: Path) -> None:
    (tmp_path / "upload_ledger.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not an upload ledger"):
        Ledger(tmp_path / "upload_ledger.csv")
    (tmp_path / "upload_ledger.csv").write_text(
        "candidate_id,subject_id,subject_set_id,uploaded_at,media_ok\nA,1,2,t,yes\n")
    with pytest.raises(InputError, match=r"line 2: media_ok 'yes' is not true or false"):
        Ledger(tmp_path / "upload_ledger.csv")


def test_credentials_sources(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yml"
    cfg.write_text(f"endpoint: https://panoptes-staging.zooniverse.org\nusername: bob\npassword: '{SENTINEL}'\n")
    env_user = {"PANOPTES_USERNAME": "alice", "PANOPTES_PASSWORD": "pw"}
    env_client = {"PANOPTES_CLIENT_ID": "id", "PANOPTES_CLIENT_SECRET": SENTINEL, **env_user}
    assert load_credentials(env=env_client, config_file=cfg) == Credentials(
        client_id="id", client_secret=SENTINEL, source="environment")
    assert load_credentials(env=env_user, config_file=cfg).username == "alice"
    from_file = load_credentials(env={}, config_file=cfg)
    assert (from_file.username, from_file.password, from_file.source) == ("bob", SENTINEL, str(cfg))
    assert SENTINEL not in repr(from_file) and SENTINEL not in repr(load_credentials(env=env_client))
    assert load_credentials(env={}, config_file=tmp_path / "none.yml").empty
    assert resolve_endpoint(env={}, config_file=cfg) == "https://panoptes-staging.zooniverse.org"
    assert resolve_endpoint(env={"PANOPTES_ENDPOINT": "http://x:1/"}, config_file=cfg) == "http://x:1"
    assert resolve_endpoint(env={}, config_file=tmp_path / "none.yml") == LIVE_ENDPOINT


def test_broken_config_file_does_not_quote_it(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yml"
    cfg.write_text(f"username: bob\npassword: [{SENTINEL}\n")
    with pytest.raises(InputError) as exc:
        load_credentials(env={}, config_file=cfg)
    assert SENTINEL not in str(exc.value) and "config.yml" in str(exc.value)


def test_bad_endpoint_and_backoff() -> None:
    with pytest.raises(InputError, match="not an http"):
        resolve_endpoint("www.zooniverse.org")
    cfg = ZooniverseConfig(backoff=1.0, max_backoff=8.0)
    assert cfg.wait(0, retry_after=3.0) == 3.0 and cfg.wait(0, retry_after=100) == 8.0
    assert 0.75 <= cfg.wait(0) <= 1.25 and 6.0 <= cfg.wait(3) <= 10.0 and cfg.wait(10) <= 10.0


def test_make_subject_set_fixture_is_small(tmp_path: Path) -> None:
    folder = make_subject_set(tmp_path / "s", 2)
    assert all(p.stat().st_size < 200 for p in folder.glob("*.png"))


def test_ledger_lock_refuses_a_second_holder_and_ignores_a_dead_one(tmp_path: Path) -> None:
    ledger = tmp_path / "upload_ledger.csv"
    with LedgerLock(ledger) as held:
        assert held.path == tmp_path / "upload_ledger.lock"
        assert f"pid={os.getpid()} " in held.path.read_text()
        with pytest.raises(UploadLockedError, match=rf"another upload of this folder is running \(process {os.getpid()}, since 20"):
            LedgerLock(ledger).acquire()
    # a file left by a process that died (its flock went with it) does not block
    (tmp_path / "upload_ledger.lock").write_text("pid=999999 host=elsewhere since=2020-01-01T00:00:00Z\n")
    with LedgerLock(ledger):
        pass
