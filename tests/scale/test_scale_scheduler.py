"""The --scheduler switch: one parser, the error without the extra, nothing imported without it."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from hunt_clusters._scheduler import DASK_EXTRA, Scheduler, batches, client_for, parse_scheduler
from hunt_clusters.cli import main


@pytest.mark.parametrize("text, expected", [
    ("local:2", Scheduler("", 2)),
    ("local:16", Scheduler("", 16)),
    ("tcp://10.0.0.5:8786", Scheduler("tcp://10.0.0.5:8786", 0)),
    ("scheduler.cluster:8786", Scheduler("tcp://scheduler.cluster:8786", 0)),
])  # fmt: skip
def test_parse(text: str, expected: Scheduler) -> None:
    assert parse_scheduler(text) == expected


@pytest.mark.parametrize("text", ["local", "local:0", "local:x", "8786", "http//x", ""])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="tcp://HOST:PORT"):
        parse_scheduler(text)


@pytest.mark.parametrize("command", ["render", "aggregate", "simulate", "predict"])
def test_every_scaling_command_has_the_switch(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "--scheduler tcp://HOST:PORT|local:N" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main([command, "--scheduler", "local:0"])
    assert exc.value.code == 2


def test_without_the_extra_one_line_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path, capsys) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("dask", "distributed") else real(name, *a))
    code = main(["aggregate", str(tmp_path / "e.csv"), "--out", str(tmp_path / "o"), "--scheduler", "local:2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err == [f"error: --scheduler needs Dask, which is not installed: {DASK_EXTRA}"]


def test_without_the_switch_dask_is_not_imported() -> None:
    code = ("import sys\nfrom hunt_clusters._scheduler import client_for\n"
            "from hunt_clusters.cli import main\nimport contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    for c in ('render', 'aggregate', 'simulate', 'predict'):\n"
            "        try:\n            main([c, '--help'])\n        except SystemExit:\n            pass\n"
            "with client_for(None) as c:\n    assert c is None\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_batches_keep_the_order() -> None:
    items = list(range(23))
    parts = batches(items, 2)
    assert [x for p in parts for x in p] == items and len(parts) >= 4
    assert client_for(None).__enter__() is None


def _has_marker() -> bool:
    return "hunt_clusters_fork_marker" in sys.modules


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_forked_local_workers_inherit_the_commands_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """``fork=True`` (render, simulate, aggregate): the workers are forks of the command and hold what it
    imported; without it they are fresh interpreters (spawned), as for predict (TensorFlow is not fork-safe)."""
    import types

    monkeypatch.setitem(sys.modules, "hunt_clusters_fork_marker", types.ModuleType("hunt_clusters_fork_marker"))
    for fork, expected in ((True, True), (False, False)):
        with client_for(Scheduler("", 1), fork=fork) as client:
            assert client.submit(_has_marker, pure=False).result() is expected
