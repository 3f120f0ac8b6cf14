"""Benchmark ``hunt-clusters aggregate`` against panoptes_aggregation, and the reader on a 10M-row export.

Usage::

    python benchmarks/bench_aggregate.py                 # both parts (the 10M part writes ~7 GB to a temp dir)
    python benchmarks/bench_aggregate.py --rows 100000 --big-rows 0     # only the comparison
    python benchmarks/bench_aggregate.py --rows 0 --big-rows 10000000   # only the 10M-row reader

Part 1 (anchor: panoptes_aggregation 5.3.1 config + extract + reduce, measured in the same run: 36-81 s
wall, 35-41 s CPU on this shared 2-core machine for 100,000 rows, by load; target >= 50x): an export of
``--rows`` classifications of one single-answer question (5000 subjects) is written in the real
14-column format; panoptes_aggregation
``config`` + ``extract`` + ``reduce`` (question extractor and reducer, its CLI functions) runs on it, and so
do, on our side, (a) the reader + majority vote in this process and (b) the command a user types,
``hunt-clusters aggregate EXPORT --workflow W --version 3 --task T0 --duplicates all --workflows-export
workflows.csv --out DIR``, end to end in a child process (start-up, reading, consensus, writing every
output file; median of 7 runs, wall and CPU, each with the load average before it), and (c) the
command's steps one after the other in a child process, with the CPU of each (where the time goes).
Per-subject answer counts (a) and votes per subject (b) must equal panoptes_aggregation's (ours with
``duplicates="all"``, since its CLI ignores its own duplicate filter).

Figures (three runs, load average 0.8-1.0 on 2 cores; docs/aggregate.md, "Speed and memory"): anchor
33.3 / 33.8 / 33.1 s; the command, median of 7 runs, 0.56 / 0.54 / 0.54 s wall (0.79 / 0.77 / 0.77 s
CPU): 59x / 63x / 61x (target 50x; the runs of one benchmark within 0.52-0.61 s); reader + majority in
one process 0.31-0.38 s (87-107x). Of the command's CPU, 0.22-0.25 s is importing pandas, numpy and
pyarrow. The phases child applies the command's process settings (``apply_process_settings``) first.

Part 2 (anchor: < 3 min, < 4 GB peak memory): a ``--big-rows`` export through reader + votes +
majority in a child process; wall time and peak RSS (``ru_maxrss``) of that process are printed,
reader and consensus apart.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HEADER = (
    "classification_id,user_name,user_id,user_ip,workflow_id,workflow_name,workflow_version,created_at,"
    "gold_standard,expert,metadata,annotations,subject_data,subject_ids\n"
)
LABELS = (
    "Galaxy cluster with visible galaxies",
    "Galaxy cluster with no visible galaxies (distant)",
    "A single bright galaxy",
    "A star or point source",
    "Something else",
)
WORKFLOW_ID = 4242
VERSIONS = ("3.7", "3.8")


def _q(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def generate_export(path: Path, n_rows: int, *, n_subjects: int | None = None, seed: int = 1,
                    chunk: int = 200_000) -> Path:
    """Write an ``n_rows`` export in the real format, fast (vectorised per chunk).

    Volunteers follow a heavy-tailed activity distribution (a few classify thousands), one in
    five classifications is anonymous, 1 % are flagged ``seen_before``, answers are drawn with a
    subject-dependent bias; versions 3.7 and 3.8 differ in the markdown of one answer label.
    """
    rng = np.random.default_rng(seed)
    n_subjects = n_subjects or max(n_rows // 20, 1)
    n_users = max(n_rows // 30, 10)
    t0 = np.datetime64("2019-01-01T00:00:00")
    meta_tpl = ('"{{""source"":""api"",""session"":""{s:016x}"",""viewport"":{{""width"":1280,""height"":900}},'
                '""started_at"":""{t}Z"",""user_agent"":""Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"",'
                '""utc_offset"":""0"",""finished_at"":""{t}Z"",""live_project"":true,""user_language"":""en"",'
                '""subject_dimensions"":[{{""clientWidth"":600,""clientHeight"":600,""naturalWidth"":800,'
                '""naturalHeight"":800}}]{seen}}}"')
    ann_tpl = '"[{{""task"":""T0"",""task_label"":""**What do the X-ray contours show?**"",""value"":""{a}""}}]"'
    sd_tpl = ('"{{""{sid}"":{{""retired"":null,""image"":""XC{sid}.png"",""#candidate_id"":""XC{sid}"",'
              '""#ra"":""150.1"",""#dec"":""2.2""}}}}"')
    labels_v = {
        "3.7": list(LABELS),
        "3.8": ["![cl.png](https://panoptes-uploads.zooniverse.org/x/cl.png) " + LABELS[0], *LABELS[1:]],
    }
    truth = rng.integers(0, 5, n_subjects)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        done = 0
        while done < n_rows:
            m = min(chunk, n_rows - done)
            cid = np.arange(done + 1, done + m + 1) + 10_000_000
            sidx = rng.integers(0, n_subjects, m)
            uidx = np.minimum((rng.pareto(1.2, m) * 3).astype(np.int64), n_users - 1)
            anon = rng.random(m) < 0.2
            ans = np.where(rng.random(m) < 0.6, truth[sidx], rng.integers(0, 5, m))
            ver = rng.random(m) < 0.5
            secs = np.sort(rng.integers(0, 365 * 86400, m)) + done
            times = (t0 + secs.astype("timedelta64[s]")).astype(str)
            seen = rng.random(m) < 0.01
            lines = []
            for i in range(m):
                v = VERSIONS[int(ver[i])]
                t = times[i]
                sid = 80_000_000 + int(sidx[i])
                if anon[i]:
                    ip = f"{int(uidx[i]) * 7919 % 16**20:020x}"
                    user, uid = f"not-logged-in-{ip}", ""
                else:
                    ip = f"{int(uidx[i]) * 104729 % 16**20:020x}"
                    user, uid = f"volunteer{int(uidx[i])}", str(1_000_000 + int(uidx[i]))
                lines.append(
                    f"{cid[i]},{user},{uid},{ip},{WORKFLOW_ID},The Hunt for Galaxy Clusters,{v},"
                    f"{t.replace('T', ' ')} UTC,,,"
                    + meta_tpl.format(s=int(cid[i]), t=t, seen=',""seen_before"":true' if seen[i] else "")
                    + "," + ann_tpl.format(a=labels_v[v][ans[i]]) + "," + sd_tpl.format(sid=sid) + f",{sid}\n"
                )
            f.write("".join(lines))
            done += m
    return path


def write_workflows_export(path: Path) -> Path:
    """The matching workflows export (one row per version), for panoptes_aggregation ``config``."""
    rows = []
    for v in VERSIONS:
        major, minor = v.split(".")
        tasks = {"T0": {"type": "single", "question": "T0.question", "help": "T0.help", "required": True,
                        "answers": [{"label": f"T0.answers.{i}.label"} for i in range(5)]}}
        strings = {"T0.question": "**What do the X-ray contours show?**", "T0.help": ""}
        strings.update({f"T0.answers.{i}.label": lab for i, lab in enumerate(LABELS)})
        rows.append(f"{WORKFLOW_ID},The Hunt for Galaxy Clusters,{major},{minor},true,0,false,false,false,en,T0,,0,"
                    f"{_q(json.dumps(tasks))},{_q(json.dumps({'criteria': 'classification_count', 'options': {'count': 20}}))},"
                    f"{{}},{_q(json.dumps(strings))}\n")
    path.write_text("workflow_id,display_name,version,minor_version,active,classifications_count,pairwise,grouped,"
                    "prioritized,primary_language,first_task,tutorial_subject_id,retired_set_member_subjects_count,"
                    "tasks,retirement,aggregation,strings\n" + "".join(rows))
    return path


def run_panoptes(export: Path, workflows: Path, tmp: Path) -> tuple[dict[int, dict[str, int]], float, float]:
    """config + extract + reduce with panoptes_aggregation's CLI functions; counts, wall and CPU seconds."""
    import pandas as pd
    from panoptes_aggregation.scripts import config_workflow, extract_csv, reduce_csv

    t = time.perf_counter()
    c = time.process_time()
    major = VERSIONS[0].split(".")[0]
    config_workflow(str(workflows), WORKFLOW_ID, version=major, output_dir=str(tmp))
    ext_cfg = next(tmp.glob("Extractor_config_workflow_*.yaml"))
    red_cfg = next(tmp.glob("Reducer_config_workflow_*question_extractor.yaml"))
    (extracted,) = extract_csv(str(export), str(ext_cfg), output_dir=str(tmp), hide_progressbar=True)
    reduced = reduce_csv(extracted, str(red_cfg), filter="first", output_dir=str(tmp), hide_progressbar=True)
    seconds = time.perf_counter() - t
    cpu = time.process_time() - c
    df = pd.read_csv(reduced)
    counts: dict[int, dict[str, int]] = {}
    for _, r in df.iterrows():
        d = {k[5:]: int(v) for k, v in r.items()
             if k.startswith("data.") and k != "data.aggregation_version" and v == v}
        counts[int(r["subject_id"])] = d
    return counts, seconds, cpu


def run_ours(export: Path, duplicates: str) -> tuple[dict[int, dict[str, int]], float, float, float]:
    """Reader + majority vote; per-subject counts, reader seconds, majority seconds, CPU seconds of both."""
    from slugify import slugify

    from hunt_clusters.classifications import ReadOptions, VersionRange, read_export
    from hunt_clusters.consensus import MajorityVote
    from hunt_clusters.workflow import load_workflow

    c = time.process_time()
    t = time.perf_counter()
    res = read_export(export, ReadOptions(workflow_id=WORKFLOW_ID, versions=VersionRange.from_options(version="3"),
                                          duplicates=duplicates), workflow=load_workflow())
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    MajorityVote().fit(res.votes)
    t_major = time.perf_counter() - t
    cpu = time.process_time() - c
    v = res.votes
    g = v.groupby(["subject_id", "answer"], observed=True).size()
    slug = {a: slugify(str(a), separator="-") for a in v["answer"].cat.categories}
    counts: dict[int, dict[str, int]] = {}
    for (s, a), n in g.items():
        counts.setdefault(int(s), {})[slug[a]] = int(n)
    return counts, t_read, t_major, cpu


def _command() -> list[str]:
    """The ``hunt-clusters`` console script of this interpreter's environment (as a user runs it)."""
    script = Path(sys.executable).with_name("hunt-clusters")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from hunt_clusters.cli import console_main; console_main()"]


def run_command(export: Path, workflows: Path, out: Path) -> tuple[dict[int, int], float, float, float]:
    """``hunt-clusters aggregate`` as a user types it, in a child process: start-up, reading, consensus
    and writing. Returns ``n_votes`` per subject from its labels.csv, wall and CPU seconds, and the
    1-minute load average just before the run."""
    import pandas as pd

    argv = [*_command(), "aggregate", str(export), "--workflow", str(WORKFLOW_ID), "--version", "3",
            "--task", "T0", "--duplicates", "all", "--workflows-export", str(workflows), "--out", str(out)]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    labels = pd.read_csv(out / "labels.csv")
    return dict(zip(labels["subject_id"].astype(int), labels["n_votes"].astype(int))), seconds, cpu, load


#: The command's steps one after the other in a child process, CPU seconds of each (where the time goes).
_PHASES = """
import sys, time, json
from pathlib import Path
from hunt_clusters.cli._aggregate import apply_process_settings
apply_process_settings()  # what the command does before pyarrow loads
c0 = time.process_time()
marks = []
def mark(name):
    marks.append((name, time.process_time()))
from hunt_clusters.cli import main  # argument parsing: the command line's own start-up
from hunt_clusters.classifications import ReadOptions, VersionRange, read_export, read_workflows_export, write_votes
from hunt_clusters.consensus import make_estimator
from hunt_clusters.workflow import load_workflow
import pandas as pd
mark("imports (pandas, numpy, pyarrow, ours)")
export, workflows, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
wf = load_workflow()
labels = read_workflows_export(workflows, "T0")
mark("workflow definition + workflows export")
res = read_export(export, ReadOptions(workflow_id=4242, versions=VersionRange.from_options(version="3"),
                                      duplicates="all"), workflow=wf, version_labels=labels)
mark("read the export")
write_votes(res, out)
mark("write votes.parquet, expert_votes.parquet, rejects, unmapped")
est = make_estimator("majority").fit(res.votes)
vol = est.volunteers_.copy()
vol.insert(0, "method", est.method)
est.labels_.to_csv(out / "labels.csv", index=False)
vol.to_csv(out / "volunteers.csv", index=False)
(out / "metrics.json").write_text(json.dumps({"export": res.summary.to_dict()}, default=str))
mark("majority vote, labels.csv, volunteers.csv, metrics.json")
prev, steps = c0, []
for name, c in marks:
    steps.append((name, c - prev))
    prev = c
print(json.dumps(steps))
"""


def command_phases(export: Path, workflows: Path, out: Path) -> list[tuple[str, float]]:
    """CPU seconds of the command's steps (imports, reading, writing, consensus), run as the command
    runs them, in one child process; the interpreter's own start-up is not included."""
    out.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([sys.executable, "-c", _PHASES, str(export), str(workflows), str(out)], check=True,
                       capture_output=True, text=True)
    return [(str(k), float(v)) for k, v in json.loads(r.stdout.strip().splitlines()[-1])]


def part1(n_rows: int, tmp: Path, command_runs: int = 7) -> None:
    export = generate_export(tmp / "export_100k.csv", n_rows)
    workflows = write_workflows_export(tmp / "workflows.csv")
    print(f"part 1: {n_rows} rows, {export.stat().st_size / 1e6:.1f} MB; load average at the start: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    run_ours(export, "all")  # warm-up: imports, page cache
    # hunt-clusters' bytecode, as pip writes it at install (an editable install under
    # PYTHONDONTWRITEBYTECODE, as on the project's machines, would compile every module at every start)
    import compileall

    import hunt_clusters

    compileall.compile_dir(str(Path(hunt_clusters.__file__).parent), quiet=1)
    ours, t_read, t_major, cpu_ours = run_ours(export, "all")
    cmd = [run_command(export, workflows, tmp / f"cmd_out{i}") for i in range(command_runs)]
    phases = command_phases(export, workflows, tmp / "phases_out")
    load_ref = os.getloadavg()[0]
    ref, t_ref, cpu_ref = run_panoptes(export, workflows, tmp)
    same = ours == ref
    n_votes = cmd[0][0]
    same_cmd = n_votes == {s: sum(d.values()) for s, d in ref.items()}
    t_cmd = sorted(c[1] for c in cmd)[len(cmd) // 2]       # median run
    cpu_cmd = sorted(c[2] for c in cmd)[len(cmd) // 2]
    ours_total = t_read + t_major
    print(f"  panoptes_aggregation config+extract+reduce: {t_ref:8.2f} s wall, {cpu_ref:8.2f} s CPU   (the anchor; "
          f"load average {load_ref:.1f} before it)")
    print(f"  hunt-clusters reader + majority:             {ours_total:8.2f} s wall, {cpu_ours:8.2f} s CPU   "
          f"(reader {t_read:.2f} s, majority {t_major:.2f} s)")
    print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  ratio: {t_ref / ours_total:.0f}x wall, {cpu_ref / cpu_ours:.0f}x CPU (target >= 50x); "
          f"per-subject counts identical: {same} "
          f"({len(ref)} subjects, {sum(sum(d.values()) for d in ref.values())} votes)")
    print(f"  hunt-clusters aggregate (the command, end to end, median of {len(cmd)}): {t_cmd:8.2f} s wall, "
          f"{cpu_cmd:8.2f} s CPU")
    print("    runs (wall / CPU, load average before each): "
          + "; ".join(f"{c[1]:.2f} / {c[2]:.2f} s ({c[3]:.1f})" for c in cmd))
    print(f"  ratio, command end to end: {t_ref / t_cmd:.0f}x wall, {cpu_ref / cpu_cmd:.0f}x CPU (target >= 50x); "
          f"votes per subject identical: {same_cmd}")
    total = sum(v for _, v in phases)
    print(f"  where the command's CPU goes (its steps in one child process, {total:.2f} s without the interpreter's "
          "start-up):")
    for name, v in phases:
        print(f"    {v:6.2f} s  {name}")
    if not (same and same_cmd):
        sys.exit("counts differ")


_CHILD = """
import sys, time, resource, json
from pathlib import Path
from hunt_clusters.classifications import ReadOptions, VersionRange, read_export
from hunt_clusters.consensus import MajorityVote
from hunt_clusters.workflow import load_workflow
t = time.perf_counter()
res = read_export(Path(sys.argv[1]), ReadOptions(workflow_id=4242, versions=VersionRange.from_options(version="3"),
                  duplicates="first", block_mb=int(sys.argv[2])), workflow=load_workflow())
t_read = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu_read = ru.ru_utime + ru.ru_stime
rss_read = ru.ru_maxrss / 1e6
t = time.perf_counter()
lab = MajorityVote().fit(res.votes).labels_
t_major = time.perf_counter() - t
s = res.summary
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"t_read": t_read, "t_major": t_major, "rss_read_gb": rss_read, "cpu_read_s": cpu_read, "cpu_s": ru.ru_utime + ru.ru_stime,
                  "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                  "rows_in": s.rows_in, "votes": s.n_votes, "filtered": s.filtered, "rejected": s.rejected,
                  "subjects": len(lab)}))
"""


def part2(n_rows: int, tmp: Path, block_mb: int, keep: bool) -> None:
    path = tmp / f"export_{n_rows}.csv"
    t = time.perf_counter()
    if path.exists():
        print(f"part 2: reusing {path}")
    else:
        generate_export(path, n_rows, chunk=500_000)
    print(f"part 2: {n_rows} rows, {path.stat().st_size / 1e9:.2f} GB (ready in {time.perf_counter() - t:.0f} s)")
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(block_mb)], check=True,
                         capture_output=True, text=True)
    wall = time.perf_counter() - t
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  reader: {r['t_read']:.1f} s wall, {r['cpu_read_s']:.1f} s CPU, peak RSS {r['rss_read_gb']:.2f} GB"
          "   (anchor: < 180 s, < 4 GB)")
    print(f"  load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time > CPU time"
          " means other processes shared the machine)")
    print(f"  majority vote: {r['t_major']:.1f} s; whole child process {wall:.1f} s, peak RSS {r['rss_gb']:.2f} GB")
    print(f"  rows in {r['rows_in']}, votes {r['votes']}, filtered {r['filtered']}, rejected {r['rejected']}, "
          f"subjects {r['subjects']}")
    if not keep:
        path.unlink()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000, help="rows of the comparison export (0: skip)")
    p.add_argument("--big-rows", type=int, default=10_000_000, help="rows of the big export (0: skip)")
    p.add_argument("--block-mb", type=int, default=8)
    p.add_argument("--tmp", type=Path, default=None, help="scratch folder (default: a new temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the big export (a later run with --tmp reuses it)")
    a = p.parse_args()
    tmp = a.tmp or Path(tempfile.mkdtemp(prefix="bench_aggregate_"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores; scratch {tmp}")
    try:
        if a.rows:
            part1(a.rows, tmp)
        if a.big_rows:
            part2(a.big_rows, tmp, a.block_mb, a.keep)
    finally:
        if a.tmp is None and not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)   # our own temp dir: leave nothing behind


if __name__ == "__main__":
    main()
