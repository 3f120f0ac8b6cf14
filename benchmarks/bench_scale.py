"""Scale: aggregate memory vs rows, Dask LocalCluster(1)/(2) vs embedded, a projection to 32 workers.

Not run by the tests. Each measurement runs in a child process (peak RSS from ``wait4``, wall and CPU
seconds), and every line carries the 1-minute load average at its start (the machine is shared)::

    python benchmarks/bench_scale.py memory --rows 1000000 3000000 10000000   # aggregate peak RSS vs rows
    python benchmarks/bench_scale.py cluster --survey /work/paper/survey --rows 100000
    python benchmarks/bench_scale.py all --work /tmp/bench_scale

``memory``: the same generated export (benchmarks/bench_aggregate.py's generator) read (a) embedded,
``read_export`` + ``write_votes`` (today), (b) ``stream_export`` in partitions of 128 MiB (the
``--partitions`` path: memory bounded by a partition), and (c) the whole command with
``--partitions`` and majority vote (which loads the votes table back for the consensus).
Anchor (issue 12): peak RSS flat in rows, under 1 GB; rows/s no worse than today.

``cluster``: ``hunt-clusters render`` of the survey and ``hunt-clusters aggregate`` of a
``--rows`` export, embedded (``--jobs 2``) vs ``--scheduler local:1`` vs ``local:2``.
Anchor: overhead against the embedded run at the paper's size under 10 %.

The projection multiplies the measured per-item CPU costs (render: seconds per candidate in one
worker; aggregate: seconds per row in one worker + the driver's split pass per row) out to 10^6
candidates and 10^8 rows on 32 workers, assuming workers as fast as this machine's cores and a
shared file system that keeps up (the split pass is serial at the driver).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


#: The hunt-clusters command, as a user runs it.
CLI = [sys.executable, "-c", "from hunt_clusters.cli import console_main; console_main()"]


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def child(args: list[str], *, env: dict[str, str] | None = None) -> dict[str, float]:
    """Run a command; wall, CPU (user+sys of it and its children) and peak RSS (MiB) of the largest process.

    The peak is ``ru_maxrss`` from ``wait4``; it cannot be below this (parent) process's own RSS when
    the child was started (Linux keeps the high-water mark across fork + exec), so the parent stays small.
    """
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode() if p.stderr else ""
    if status != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({status}): {err[-2000:]}")
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_mib": ru.ru_maxrss / 1024}


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def export_for(work: Path, rows: int) -> Path:
    path = work / f"export_{rows}.csv"
    if not path.exists():
        t0 = time.perf_counter()
        # in a child process: Linux carries a process's peak RSS over fork + exec into the children it
        # starts, so a parent grown by the generator would set a floor under every child's figure
        subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                        "from pathlib import Path; from bench_aggregate import generate_export; "
                        "generate_export(Path(sys.argv[2]), int(sys.argv[3]))", str(HERE), str(path), str(rows)],
                       check=True)
        print(f"  generated {path} ({path.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


READ_EMBEDDED = """
import sys
from hunt_clusters.classifications import ReadOptions, read_export, write_votes
from hunt_clusters.workflow import load_workflow
res = read_export(sys.argv[1], ReadOptions(workflow_id=4242, duplicates='first'), workflow=load_workflow())
write_votes(res, sys.argv[2])
"""
SPLIT = """
import sys
from hunt_clusters.classifications._stream import split_export
split_export(sys.argv[1], sys.argv[2], int(sys.argv[3]))
"""
READ_STREAM = """
import sys
from hunt_clusters.classifications import ReadOptions
from hunt_clusters.classifications._stream import stream_export
from hunt_clusters.workflow import load_workflow
stream_export(sys.argv[1], sys.argv[2], ReadOptions(workflow_id=4242, duplicates='first'), workflow=load_workflow())
"""


def memory(work: Path, rows_list: list[int], keep: bool, embedded_max: int = 10_000_000) -> list[dict[str, object]]:
    out = []
    print("aggregate: peak RSS and rows/s vs rows (child process each; 128 MiB partitions)")
    print(f"{'rows':>11} {'what':<36} {'wall s':>8} {'cpu s':>8} {'rows/s':>10} {'peak MiB':>9}  load")
    for rows in rows_list:
        path = export_for(work, rows)
        n_parts = max(1, -(-path.stat().st_size // (128 << 20)))
        runs = [
            (f"split pass alone ({n_parts} partitions)", py(SPLIT) + [str(path), str(work / "o_split"), str(n_parts)]),
            ("embedded read_export + write_votes", py(READ_EMBEDDED) + [str(path), str(work / "o_emb")]),
            ("stream_export (--partitions auto)", py(READ_STREAM) + [str(path), str(work / "o_str")]),
            ("command --partitions, majority", [*CLI, "-q", "aggregate",
                                                str(path), "--workflow", "4242", "--out",
                                                str(work / "o_cmd"), "--partitions", str(n_parts)]),
        ]
        for what, cmd in runs:
            if what.startswith("embedded") and rows > embedded_max:
                print(f"{rows:>11} {what:<36} not run (--embedded-max-rows {embedded_max}: it holds every vote)")
                continue
            ld = load()
            try:
                r = child(cmd)
            except RuntimeError as exc:
                print(f"{rows:>11} {what:<36} failed: {str(exc)[-300:]}")
                for d in ("o_split", "o_emb", "o_str", "o_cmd"):
                    shutil.rmtree(work / d, ignore_errors=True)
                continue
            print(f"{rows:>11} {what:<36} {r['wall_s']:8.1f} {r['cpu_s']:8.1f} {rows / r['wall_s']:10.0f} "
                  f"{r['peak_mib']:9.0f}  {ld}", flush=True)
            out.append({"rows": rows, "what": what, "load": ld, **r})
            for d in ("o_split", "o_emb", "o_str", "o_cmd"):  # before the next run: a partitioned copy
                shutil.rmtree(work / d, ignore_errors=True)  # of 3x10^7 rows is 24 GB
        if not keep and rows >= 3_000_000:
            path.unlink()
    return out


def cluster(work: Path, survey: Path, rows: int) -> list[dict[str, object]]:
    out = []
    cat = survey / "candidates.ecsv"
    from astropy.table import Table

    t = Table.read(cat)
    n_cand = int(t["in_zooniverse"].sum()) if "in_zooniverse" in t.colnames else len(t)  # the paper's 1600
    print(f"render of {cat} ({n_cand} candidates, in_zooniverse) and aggregate of {rows} rows: embedded vs Dask LocalCluster")
    print(f"{'step':<10} {'where':<22} {'wall s':>8} {'cpu s':>8} {'per item ms':>12} {'peak MiB':>9}  load")
    exe = [*CLI, "-q"]
    path = export_for(work, rows)
    for step, base, n in (
        ("render", exe + ["render", str(cat), "--force"]
         + (["--select", "in_zooniverse"] if "in_zooniverse" in t.colnames else []), n_cand),
        ("aggregate", exe + ["aggregate", str(path), "--workflow", "4242"], rows),
    ):
        for where, extra in (("embedded --jobs 2", ["--jobs", "2"] if step == "render" else []),
                             ("--partitions 4", ["--partitions", "4"] if step == "aggregate" else None),
                             ("--scheduler local:1", ["--scheduler", "local:1"]),
                             ("--scheduler local:2", ["--scheduler", "local:2"])):
            if extra is None:
                continue
            o = work / f"o_{step}_{where.split()[-1].replace(':', '')}"
            shutil.rmtree(o, ignore_errors=True)
            ld = load()
            r = child(base + ["--out", str(o)] + extra)
            print(f"{step:<10} {where:<22} {r['wall_s']:8.1f} {r['cpu_s']:8.1f} {1e3 * r['wall_s'] / n:12.4f} "
                  f"{r['peak_mib']:9.0f}  {ld}", flush=True)
            out.append({"step": step, "where": where, "n": n, "load": ld, **r})
            shutil.rmtree(o, ignore_errors=True)
    return out


def projection(mem: list[dict[str, object]], clu: list[dict[str, object]]) -> None:
    """10^6 candidates and 10^8 rows on 32 workers, from per-item costs measured here."""
    print("projection to 32 workers (per-item costs measured above; split pass serial at the driver):")
    r1 = [c for c in clu if c["step"] == "render" and c["where"] == "--scheduler local:1"]
    if r1:
        per = float(r1[0]["wall_s"]) / float(r1[0]["n"])  # one worker: wall per candidate (includes start-up)
        print(f"  render: {per * 1e3:.1f} ms/candidate on one worker -> 10^6 candidates: "
              f"{per * 1e6 / 3600:.1f} h on 1 worker, {per * 1e6 / 32 / 60:.0f} min on 32")
    streams = [m for m in mem if m["what"].startswith("stream_export")]
    splits = {m["rows"]: m for m in mem if str(m["what"]).startswith("split")}
    if streams:
        big = max(streams, key=lambda m: int(m["rows"]))
        rows = int(big["rows"])
        # CPU seconds: the wall of a partitioned read on this shared disk is mostly I/O wait
        per_row = float(big["cpu_s"]) / rows
        split = float(splits[rows]["cpu_s"]) / rows if rows in splits else 0.0
        read = per_row - split
        print(f"  aggregate: {per_row * 1e6:.1f} us CPU/row in one process = split {split * 1e6:.1f} (serial, driver) + "
              f"partition reads {read * 1e6:.1f} (parallel)")
        print(f"  -> 10^8 rows: {per_row * 1e8 / 60:.0f} min in one process; on 32 workers "
              f"{split * 1e8 / 60:.0f} min split + {read * 1e8 / 32 / 60:.1f} min reads = "
              f"{(split + read / 32) * 1e8 / 60:.0f} min (plus the consensus on the driver), if the file system "
              f"reads and writes {1e8 * 812 / 1e6 / max(split * 1e8, 1):.0f} MB/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("memory", "cluster", "all"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_scale"))
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000])
    ap.add_argument("--survey", type=Path, default=Path("/work/paper/survey"))
    ap.add_argument("--keep", action="store_true", help="keep the generated exports")
    ap.add_argument("--embedded-max-rows", type=int, default=10_000_000,
                    help="run the embedded (in-memory) read only up to this many rows (default 10^7)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} CPUs, {load()}; python {sys.version.split()[0]}")
    mem = memory(a.work, a.rows, a.keep, a.embedded_max_rows) if a.what in ("memory", "all") else []
    clu = cluster(a.work, a.survey, a.rows[0]) if a.what in ("cluster", "all") else []
    projection(mem, clu)
    if a.json:
        a.json.write_text(json.dumps({"memory": mem, "cluster": clu}, indent=1))


if __name__ == "__main__":
    main()
