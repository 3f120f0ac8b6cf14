"""``hunt-clusters upload / workflow / export`` end to end, secrets, and SIGKILL then resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SENTINEL, make_subject_set
from panoptes_double import PanoptesDouble
from test_zooniverse_upload import assert_complete, upload

from hunt_clusters.cli import main
from hunt_clusters.zooniverse import Credentials, ZooniverseConfig

pytestmark = pytest.mark.timeout(90)

CLI = [sys.executable, "-c", "import sys; from hunt_clusters.cli import main; sys.exit(main())"]


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANOPTES_")}
    env.update({"HOME": str(tmp_path / "home"), "PANOPTES_USERNAME": "alice", "PANOPTES_PASSWORD": SENTINEL, **extra})
    return env


def test_upload_cli_in_process(double: PanoptesDouble, subject_set: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PANOPTES_USERNAME", "alice")
    monkeypatch.setenv("PANOPTES_PASSWORD", SENTINEL)
    rc = main(["-q", "upload", str(subject_set), "--project", "alice/hunt", "--endpoint", double.url,
               "--workflow", "9", "--subject-set", "batch 1"])
    out = capsys.readouterr().out
    assert rc == 0
    sid = next(s for s, v in double.state.subject_sets.items() if v["display_name"] == "batch 1")
    assert f"subject set {sid} (project 7): 6 subjects, 6 created, 0 already there" in out
    assert_complete(double, subject_set, sid)


def test_dry_run_cli_sends_no_request(double: PanoptesDouble, subject_set: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PANOPTES_ENDPOINT", double.url)
    rc = main(["upload", str(subject_set), "--project", "alice/hunt", "--dry-run"])
    out = capsys.readouterr().out
    assert rc == 0 and "dry run: nothing was sent" in out and "6 to upload" in out
    assert double.requests == []


def test_bad_manifest_is_one_line_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_subject_set(tmp_path / "bad", 2)
    (folder / "XC_001.png").unlink()
    rc = main(["upload", str(folder), "--project", "alice/hunt", "--dry-run"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and err.count("\n") == 0 and "line 3 (XC 001): image 'XC_001.png' not found" in err


def test_usage_error_exit_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["upload", "somewhere"])  # --project missing
    assert exc.value.code == 2


def test_secret_never_written_anywhere(double: PanoptesDouble, tmp_path: Path) -> None:
    """--verbose, PANOPTES_DEBUG, a forced re-login, failures: the password shows up nowhere."""
    folder = make_subject_set(tmp_path / "secret", 6)
    double.inject("POST", "^/api/subjects$", status=401, times=1)  # forces a fresh login
    double.inject("POST", "^/api/subjects$", status=503, times=1)
    double.inject("PUT", "^/upload/", status=500, times=None, skip=3)  # some media never accepted
    env = cli_env(tmp_path, PANOPTES_DEBUG="1")
    args = ["--verbose", "upload", str(folder), "--project", "alice/hunt", "--endpoint", double.url,
            "--retries", "1", "--threads", "2"]
    run = subprocess.run(CLI + args, env=env, capture_output=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 1, run.stderr.decode()[-2000:]
    assert b"subjects are not on Zooniverse with their image" in run.stderr
    assert b"DEBUG hunt_clusters.zooniverse" in run.stderr and b"logging in again" in run.stderr
    assert len(double.requests_to("POST", "/users/sign_in")) == 2  # the re-login happened
    bad = subprocess.run(CLI + args, env=cli_env(tmp_path, PANOPTES_PASSWORD="x" + SENTINEL, PANOPTES_DEBUG="1"),
                         capture_output=True, timeout=60, cwd=tmp_path)
    assert bad.returncode == 1 and b"Invalid login or password" in bad.stderr
    secret = SENTINEL.encode()
    for blob in (run.stdout, run.stderr, bad.stdout, bad.stderr):
        assert secret not in blob
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert folder / "upload_ledger.csv" in files
    for p in files:
        assert secret not in p.read_bytes(), p


def test_sigkill_mid_upload_then_resume(tmp_path: Path) -> None:
    n = 40
    folder = make_subject_set(tmp_path / "killed", n)
    with PanoptesDouble(users={"alice": SENTINEL}, latency=0.03) as d:
        d.add_project()
        args = ["-q", "upload", str(folder), "--project", "alice/hunt", "--endpoint", d.url, "--threads", "3"]
        proc = subprocess.Popen(CLI + args, env=cli_env(tmp_path), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while len(d.state.subjects) < n // 3 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        # the killed run's lock file stays behind, naming it; the kernel has released its lock
        assert f"pid={proc.pid} " in (folder / "upload_ledger.lock").read_text()
        created_before = len(d.state.subjects)
        assert 0 < created_before < n
        cfg = ZooniverseConfig(endpoint=d.url, timeout=5, backoff=0.01)
        res = upload(folder, cfg, Credentials(username="alice", password=SENTINEL))
        assert res.ok and res.n_created == n - created_before
        assert_complete(d, folder, res.subject_set_id or "")


def test_second_concurrent_upload_refuses_and_names_the_first(tmp_path: Path) -> None:
    """Two uploads of one folder at once: the second stops at once saying why; one subject per candidate."""
    n = 40
    folder = make_subject_set(tmp_path / "twice", n)
    with PanoptesDouble(users={"alice": SENTINEL}, latency=0.05) as d:
        d.add_project()
        args = ["-q", "upload", str(folder), "--project", "alice/hunt", "--endpoint", d.url, "--threads", "2"]
        first = subprocess.Popen(CLI + args, env=cli_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while not d.state.subjects and time.monotonic() < deadline and first.poll() is None:
                time.sleep(0.01)
            assert first.poll() is None, "the first upload ended before the second started"
            second = subprocess.run(CLI + args, env=cli_env(tmp_path), capture_output=True, timeout=60)
            out, err = first.communicate(timeout=60)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(timeout=10)
        assert first.returncode == 0, err.decode()[-2000:]
        assert second.returncode == 1
        line = second.stderr.decode().strip()
        assert "\n" not in line and "Traceback" not in line
        assert line.startswith(f"error: {folder}: another upload of this folder is running (process {first.pid}, since ")
        assert second.stdout == b""
        sid = next(iter(d.state.subject_sets))
        assert len(d.state.subjects) == n
        assert_complete(d, folder, sid)
