"""The read started ahead (`prefetch_export`): the same result as a plain read, on real and malformed exports."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from hunt_clusters._errors import InputError
from hunt_clusters.classifications import ReadOptions, prefetch_export, read_export, write_example_export
from hunt_clusters.workflow import load_workflow

WF = load_workflow()


def _same(a: object, b: object) -> None:
    pd.testing.assert_frame_equal(a.votes, b.votes)  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(a.expert_votes, b.expert_votes)  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(a.rejects, b.rejects)  # type: ignore[attr-defined]
    assert a.summary == b.summary  # type: ignore[attr-defined]


@pytest.mark.parametrize("name, options", [
    ("galaxy_zoo_decals_classifications.csv", ReadOptions(task="T0", candidate_key=None, duplicates="all")),
    ("superluminous_supernovae_classifications.csv", ReadOptions(task=None, candidate_key=None)),
    ("mixed_projects_classifications.csv", ReadOptions(task="T0", candidate_key=None, duplicates="last")),
])
def test_prefetched_read_of_a_real_export_equals_the_plain_read(real_dir: Path, name: str,
                                                                options: ReadOptions) -> None:
    path = real_dir / "zooniverse_exports" / name
    plain = read_export(path, options)
    with prefetch_export(path, options.block_mb, options.task, options.candidate_key) as pre:
        fetched = read_export(path, options, prefetch=pre)
        assert not pre.matches(path, options.block_mb << 20, options.task, options.candidate_key)  # used once
    assert plain.summary.rows_in > 0
    _same(plain, fetched)


def test_prefetched_read_numbers_rows_with_the_wrong_field_count(tmp_path: Path) -> None:
    """The threaded read stops at a bad row (raised from the prefetch thread); the serial read numbers it."""
    path = write_example_export(tmp_path / "e.csv")
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = lines[2].rstrip("\n") + ",EXTRA\n"  # data row 2: a field too many
    path.write_text("".join(lines))
    opts = ReadOptions(duplicates="all")
    with prefetch_export(path) as pre:
        res = read_export(path, opts, workflow=WF, prefetch=pre)
    assert res.rejects[["row", "reason"]].values.tolist() == [[2, "wrong_field_count"]]
    assert res.summary.rows_in == 4 and res.summary.balanced
    _same(res, read_export(path, opts, workflow=WF))


def test_a_prefetch_of_other_options_is_not_used(tmp_path: Path) -> None:
    path = write_example_export(tmp_path / "e.csv")
    other = tmp_path / "other.csv"
    shutil.copy(path, other)
    opts = ReadOptions(duplicates="all")
    with prefetch_export(other) as pre:  # another file
        res = read_export(path, opts, workflow=WF, prefetch=pre)
        assert pre.matches(other, 8 << 20, "T0", "#candidate_id")  # left unused
    with prefetch_export(path, task="T1") as pre:  # another task: its regular expressions differ
        res2 = read_export(path, opts, workflow=WF, prefetch=pre)
        assert pre.matches(path, 8 << 20, "T1", "#candidate_id")
    _same(res, res2)
    assert len(res.votes) == 3


def test_prefetch_errors_are_raised_by_the_read_and_close_stops_the_thread(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    with prefetch_export(missing) as pre, pytest.raises(InputError, match="missing.csv: export not found"):
        read_export(missing, ReadOptions(), prefetch=pre)
    # a read nobody consumes: close() ends the thread although its queue is full
    path = write_example_export(tmp_path / "e.csv")
    big = tmp_path / "big.csv"
    body = path.read_text().splitlines(keepends=True)
    big.write_text(body[0] + "".join(body[1:]) * 20000)  # 80,000 rows, blocks of 1 MiB
    pre = prefetch_export(big, 1)
    time.sleep(0.2)
    pre.close()
    pre._thread.join(timeout=5)
    assert not pre._thread.is_alive()


def test_the_console_script_flushes_its_output_and_exits_with_the_status(tmp_path: Path) -> None:
    """``hunt-clusters`` ends without the interpreter's teardown: the output must still all arrive."""
    export = write_example_export(tmp_path / "e.csv")
    script = [sys.executable, "-c", "from hunt_clusters.cli import console_main; console_main()"]
    ok = subprocess.run([*script, "aggregate", str(export), "--out", str(tmp_path / "out"), "--duplicates", "all"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.rstrip().splitlines()[-1].startswith(f"wrote {tmp_path / 'out'}/: ")
    assert "check: 4 rows in" in ok.stdout
    labels = pd.read_csv(tmp_path / "out" / "labels.csv")
    assert len(labels) == len(set(labels["subject_id"])) > 0
    bad = subprocess.run([*script, "aggregate", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o2")],
                         capture_output=True, text=True)
    assert bad.returncode == 1
    assert bad.stderr.strip().endswith("nope.csv: export not found")
    usage = subprocess.run([*script, "aggregate", str(export)], capture_output=True, text=True)
    assert usage.returncode == 2 and "--out" in usage.stderr
