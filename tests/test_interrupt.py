"""Ctrl-C: ``interrupted`` on one line, exit status 130, never a traceback, no half-written output.

Each command runs as typed (the console script's entry point, in its own process group) and gets
SIGINT from "the terminal" (the whole group, workers included) at spread moments: while Python and
TensorFlow load, while Keras trains or a model scores, between two runs, while workers render. A
command that had already finished when the signal came counts as such (exit 0), but each command
must be interrupted at least once. A re-run into the same --out then works.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hunt_clusters
from cnn.toy import SIZE, write_survey

pytestmark = pytest.mark.slow

#: the code under test (the worktree, or whatever PYTHONPATH gives), for the commands' processes
ROOT = Path(hunt_clusters.__file__).resolve().parents[1]
ENTRY = "from hunt_clusters.cli import console_main; console_main()"

#: (command, delay in seconds) -> "interrupted" or "finished": the outcomes, printed at the end (-s)
OUTCOMES: list[tuple[str, float, str, float]] = []


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", ENTRY, *argv], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout)


def _interrupt(argv: list[str], cwd: Path, delay: float | str) -> tuple[int, str]:
    """Run ``hunt-clusters argv``; after ``delay`` seconds (or once the path or glob ``delay`` exists) send
    SIGINT to its process group, as Ctrl-C in a terminal does. Returns (exit status, stderr)."""
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, *argv], cwd=cwd, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    t0 = time.monotonic()
    if isinstance(delay, str):  # wait until the command has written this path (then a little more)
        # a glob pattern ("subjects/*.jpg": the first picture) is sent at once: the work has begun and
        # a fast machine may finish the rest within the extra wait
        while not _written(cwd, delay) and proc.poll() is None and time.monotonic() - t0 < 120:
            time.sleep(0.02)
        if "*" not in delay:
            time.sleep(0.3)
    else:
        time.sleep(delay)
    sent = time.monotonic() - t0
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    OUTCOMES.append((argv[0], round(sent, 1), "interrupted" if proc.returncode == 130 else
                     f"finished (exit {proc.returncode})", round(time.monotonic() - t0, 1)))
    return proc.returncode, err


def _written(cwd: Path, path: str) -> bool:
    return any(cwd.glob(path)) if "*" in path else (cwd / path).exists()


def _check(argv: list[str], cwd: Path, delays: list[float | str], leftovers: list[str]) -> None:
    """Interrupt ``argv`` at each delay: one line, exit 130 (or a finished run, exit 0), nothing half
    written (none of ``leftovers`` exists after an interrupt); at least one try is interrupted."""
    codes = []
    for delay in delays:
        rc, err = _interrupt(argv, cwd, delay)
        assert "Traceback" not in err and "Error" not in err, (delay, err)
        assert rc in (0, 130), (delay, rc, err)
        if rc == 130:
            assert err.strip().splitlines()[-1] == "interrupted", (delay, err)
            assert err.count("interrupted") == 1, err
            assert not [p for p in leftovers if (cwd / p).exists()], (delay, [p for p in leftovers
                                                                              if (cwd / p).exists()])
        else:
            for p in leftovers:  # it finished: remove its result to interrupt the next try afresh
                _remove(cwd / p)
        codes.append(rc)
    assert 130 in codes, f"{argv[0]} finished before every interrupt: {OUTCOMES}"


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ctrl_c")
    write_survey(d / "toy")
    yield d
    print("\nCtrl-C tries (command, seconds after start, outcome, seconds to exit):")
    for row in OUTCOMES:
        print("  ", *row)


def _train(out: str, epochs: int) -> list[str]:
    return ["train-on-votes", "toy/tensors.npz", "--labels", "toy/labels.csv", "--catalogue", "toy/candidates.csv",
            "--input-size", str(SIZE), "--runs", "2", "--epochs", str(epochs), "--patience", str(epochs),
            "--out", out]


def test_train_and_predict(work: Path) -> None:
    # while TensorFlow loads; inside the first fit; inside the second run's fit (after run 1 was saved)
    _check(_train("run", 60), work, [2.0, "run.part/votes-hard", "run.part/votes-hard/run_00.keras"],
           ["run", "run.part"])
    again = _run(["-q", *_train("run", 2)], work)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert (work / "run" / "metrics.json").exists() and not (work / "run.part").exists()
    _check(["predict", "run", "toy/tensors.npz", "--out", "p.csv"], work, [1.5, 4.0], ["p.csv", "p.csv.part"])
    again = _run(["-q", "predict", "run", "toy/tensors.npz", "--out", "p.csv"], work)
    assert again.returncode == 0 and again.stdout == "wrote p.csv\n", again.stderr


def test_simulate_render_aggregate(work: Path) -> None:
    sim = ["simulate", "--small", "--n-expert", "30", "--n-zooniverse", "30", "--n-overlap", "10",
           "--n-test-clusters", "2", "--n-test-noncluster", "2", "--jobs", "2", "--out", "survey"]
    _check(sim, work, [2.5], ["survey"])
    assert _run(["-q", *sim], work).returncode == 0
    render = ["render", "survey/candidates.ecsv", "--jobs", "2", "--out", "subjects"]
    # while the workers start; while they render (the first picture is written: 60 subjects take well
    # under a second on a quiet machine, so a fixed delay may come after the end)
    _check(render, work, [1.5, "subjects/*.jpg"], ["subjects"])
    assert _run(["-q", *render], work).returncode == 0
    export = ["simulate-volunteers", "subjects", "--catalogue", "survey/candidates.ecsv", "--out", "export.csv",
              "--workflows-out", "workflows.csv"]
    assert _run(["-q", *export], work).returncode == 0
    agg = ["aggregate", "export.csv", "--workflows-export", "workflows.csv", "--method", "all", "--out", "agg"]
    assert _run(["-q", *agg], work).returncode == 0
    # aggregate reads the 60 subjects' export in well under half a second on a quiet machine: it is
    # interrupted on 400,000 rows of made-up subjects (~3 s), while it reads and while it fits
    big = ["simulate-volunteers", "--rows", "400000", "--metadata", "minimal", "--out", "big.csv",
           "--workflows-out", "big_workflows.csv"]
    assert _run(["-q", *big], work).returncode == 0
    agg = ["aggregate", "big.csv", "--workflows-export", "big_workflows.csv", "--method", "all",
           "--candidate-key", "none", "--out", "bigagg"]
    _check(agg, work, [0.5, 1.5], ["bigagg"])
    assert _run(["-q", *agg], work).returncode == 0


def test_demo(work: Path) -> None:
    # in the survey's simulation; in the renders or later
    _check(["demo", "--tiny", "--jobs", "2", "--out", "demo"], work, [3.0, "demo/subject_set/manifest.csv"],
           ["demo"])


def test_an_interrupt_python_cannot_raise_stays_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGINT inside a callback where Python ignores exceptions (importlib's module-lock ``cb`` while
    TensorFlow loads, a ``__del__``) printed "Exception ignored in ..." and a traceback; with the
    command line's handler installed it is silent (the flag stays set for the next safe point), and any
    other unraisable error still reaches the previous hook."""
    from hunt_clusters import _interrupt

    seen: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_type))

    class Raises:
        def __init__(self, exc: type[BaseException]) -> None:
            self.exc = exc

        def __del__(self) -> None:
            raise self.exc

    with _interrupt.installed():
        _interrupt._state["interrupted"] = True     # what _handler does before it raises
        Raises(KeyboardInterrupt)                   # unraisable: dropped at once
        Raises(ValueError)
        assert _interrupt.interrupted()
    assert seen == [ValueError]
    Raises(KeyboardInterrupt)                       # the hook is the previous one again outside the block
    assert seen == [ValueError, KeyboardInterrupt]
