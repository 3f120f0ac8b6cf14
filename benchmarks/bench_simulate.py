"""Speed and memory of ``hunt-clusters simulate`` for the paper-sized mock survey.

Anchors (issue 2, "Performance"): the paper-sized survey (1707 expert + 1600 Zooniverse - 404 overlap
= 2903 candidates) in under 5 minutes and under 2 GB peak memory on the project's 2-core machine.

Run from the repository root:

    python benchmarks/bench_simulate.py                 # paper-sized, --jobs 2
    python benchmarks/bench_simulate.py --small         # ~290 candidates, a quick check

The survey is simulated in this process (workers are child processes); peak memory is reported
as this process's peak RSS plus ``jobs`` times the largest child's peak RSS
(``resource.getrusage(RUSAGE_SELF / RUSAGE_CHILDREN)``), an upper bound of the tree's peak.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ANCHOR_WALL_S = 300.0
ANCHOR_PEAK_MB = 2048.0


def _mb(kb: int) -> float:
    return kb / 1024.0  # Linux reports ru_maxrss in KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a tenth of the paper's sizes")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "_out" / "simulate"))
    parser.add_argument("--keep", action="store_true", help="keep the survey folder afterwards")
    args = parser.parse_args(argv)

    from hunt_clusters.mock import SurveyConfig, format_summary, simulate_survey

    config = SurveyConfig.small(seed=args.seed) if args.small else SurveyConfig(seed=args.seed)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    result = simulate_survey(out, config, jobs=args.jobs, progress=sys.stderr.isatty())
    wall = time.perf_counter() - t0
    load1 = os.getloadavg()[0]
    ru_self = resource.getrusage(resource.RUSAGE_SELF)
    ru_child = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_mb = _mb(ru_self.ru_maxrss)
    child_mb = _mb(ru_child.ru_maxrss)
    cpu = ru_self.ru_utime + ru_self.ru_stime + ru_child.ru_utime + ru_child.ru_stime
    idle_wall = cpu / max(1, min(args.jobs, os.cpu_count() or 1))
    peak_mb = self_mb + (args.jobs * child_mb if args.jobs > 1 else 0.0)
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    n = len(result.catalogue)

    print(format_summary(result.catalogue))
    print()
    print(f"machine: {os.cpu_count()} CPUs, load average {load0:.1f} at start, {load1:.1f} at end "
          "(other processes share the cores)")
    print(f"jobs={args.jobs}; candidates={n}; files on disk {size_mb:.0f} MiB; CPU time {cpu:.0f} s")
    print(f"{'measure':<28}{'anchor':>12}{'ours':>12}{'ours/anchor':>14}")
    scale = n / 2903.0
    print(f"{'wall time (s)':<28}{ANCHOR_WALL_S * scale:>12.1f}{wall:>12.1f}{wall / (ANCHOR_WALL_S * scale):>14.2f}")
    print(f"{'CPU time / jobs (s)':<28}{ANCHOR_WALL_S * scale:>12.1f}{idle_wall:>12.1f}"
          f"{idle_wall / (ANCHOR_WALL_S * scale):>14.2f}   (wall time with the cores to ourselves)")
    print(f"{'peak memory (MiB)':<28}{ANCHOR_PEAK_MB:>12.0f}{peak_mb:>12.0f}{peak_mb / ANCHOR_PEAK_MB:>14.2f}")
    print(f"  (main process {self_mb:.0f} MiB; largest worker {child_mb:.0f} MiB)")
    print(f"{'time per candidate (ms)':<28}{1000 * ANCHOR_WALL_S / 2903:>12.1f}{1000 * wall / n:>12.1f}")
    if scale != 1.0:
        print(f"(anchor wall time scaled to {n} candidates)")
    if not args.keep:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
