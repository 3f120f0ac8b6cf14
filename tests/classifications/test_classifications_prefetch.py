"""The read started ahead (`prefetch_export`): the same result as a plain read, on real and malformed exports."""

from __future__ import annotations

import json
import os
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


def test_the_reader_thread_work_imports_no_pandas_and_takes_the_answer_whole(tmp_path: Path) -> None:
    """`arrow_work` runs in the prefetch thread while the main thread imports pandas: it must not import
    pandas itself (pyarrow does when handed a Python value), or it waits for that import. Its ``tail``
    (the answer's JSON text) is the text after ``"value":``, even when the label quotes that key."""
    export = tmp_path / "e.csv"
    export.write_text(
        "classification_id,user_name,workflow_id,workflow_version,created_at,annotations,subject_data,subject_ids,"
        "metadata\n"
        '1,a,7,1.1,2020-01-01 00:00:00 UTC,"[{""task"":""T0"",""task_label"":""say \\""value\\"": x"",'
        '""value"":""A star""}]","{""9"":{""#candidate_id"":""C1""}}",9,"{}"\n'
        '2,b,7,1.1,not a date,"[{""task"":""T0"",""value"":[""a"",""b""]}]","{""8"":{}}",9,\n'
        '3,c,7,1.1,2020-01-01 00:00:01 UTC,"[{""task"":""T1"",""value"":1}]","{""9"":{""#candidate_id"":7}}",9,'
        '"{""seen_before"": true}"\n')
    code = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from hunt_clusters.classifications._blocks import arrow_work, read_columns, read_header, record_batches\n"
        "p = Path(sys.argv[1])\n"
        "[batch] = list(record_batches(p, read_columns(read_header(p)), 1 << 20, []))\n"
        "w = arrow_work(batch, 'T0', '#candidate_id')\n"
        "print(json.dumps({'pandas': 'pandas' in sys.modules, 'tail': w['tail'].to_pylist(),\n"
        "    'one': w['one'].to_pylist(), 'created': [t is not None for t in w['created'].to_pylist()],\n"
        "    'meta_shape': w['meta_shape'].to_pylist(), 'seen': w['seen'].to_pylist(),\n"
        "    'first_key': w['sd_first_key'].to_pylist(), 'cand': w['cand'].to_pylist()}))\n")
    r = subprocess.run([sys.executable, "-c", code, str(export)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["pandas"] is False
    assert got["one"] == [True, True, False]
    assert got["tail"] == ['"A star"', '["a","b"]']
    assert got["created"] == [True, False, True]
    assert got["meta_shape"] == [True, True, True]  # "{}", "" (no metadata) and an object
    assert got["seen"] == [False, False, True]
    assert got["first_key"] == [True, False, True]  # row 2: subject_data's key 8 is not subject 9
    assert got["cand"] == [{"s": '"C1"', "n": ""}, None, {"s": "", "n": "7"}]


@pytest.mark.skipif(not Path("/proc/self/status").exists() or "THP_enabled" not in Path("/proc/self/status").read_text(),
                    reason="Linux only: the process's transparent-huge-page switch is read from /proc")
def test_aggregate_sets_its_allocator_settings_before_pyarrow_loads_and_keeps_the_users(tmp_path: Path) -> None:
    """``aggregate`` turns transparent huge pages off for its process (mimalloc does, told by
    MIMALLOC_ALLOW_THP=0 before pyarrow loads) and OpenBLAS to one thread; a value the user set is kept."""
    export = write_example_export(tmp_path / "e.csv")
    code = (
        "import sys, os\n"
        "from hunt_clusters.cli import main\n"
        "assert main(['-q', 'aggregate', sys.argv[1], '--out', sys.argv[2], '--duplicates', 'all']) == 0\n"
        "thp = open('/proc/self/status').read().split('THP_enabled:')[1].split()[0]\n"
        "print(thp, os.environ['OPENBLAS_NUM_THREADS'], 'pyarrow' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("MIMALLOC_ALLOW_THP", "OPENBLAS_NUM_THREADS")}
    r = subprocess.run([sys.executable, "-c", code, str(export), str(tmp_path / "o1")], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].split() == ["0", "1", "True"]
    r = subprocess.run([sys.executable, "-c", code, str(export), str(tmp_path / "o2")], capture_output=True,
                       text=True, env={**env, "MIMALLOC_ALLOW_THP": "1", "OPENBLAS_NUM_THREADS": "2"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].split() == ["1", "2", "True"]


def test_an_export_over_the_mapping_size_is_read_with_the_same_result(real_dir: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Small exports are memory-mapped for the parser, larger ones read (a mapping's pages count in the
    process's resident memory): both give the same votes, rejects and summary."""
    import pyarrow as pa

    from hunt_clusters.classifications import _blocks

    path = real_dir / "zooniverse_exports" / "galaxy_zoo_decals_classifications.csv"
    options = ReadOptions(task="T0", candidate_key=None, duplicates="all")
    mapped: list[str] = []
    real_map = pa.memory_map
    monkeypatch.setattr(pa, "memory_map", lambda p, *a, **k: mapped.append(p) or real_map(p, *a, **k))
    small = read_export(path, options)
    assert mapped == [str(path)]
    monkeypatch.setattr(_blocks, "MAP_MAX_BYTES", path.stat().st_size - 1)
    large = read_export(path, options)
    assert mapped == [str(path)]  # not mapped this time
    _same(small, large)
    assert small.summary.rows_in > 0 and len(small.votes) > 0
