"""Speed and memory of the mock volunteers (`hunt_clusters.mock.write_export`).

Anchors:
  * paper scale, 1600 subjects x 20 classifications: "well under 10 s" (issue 5, item 5);
  * 1e5 and 1e7-row exports for the aggregation benchmark: the export should be written faster
    than `hunt-clusters aggregate` is asked to read it (3 min for 1e7 rows, issue 5).

Each size runs in its own process so that its peak memory (max RSS) is its own.

    python benchmarks/bench_simulate_volunteers.py                     # paper scale, 1e5, 1e6
    python benchmarks/bench_simulate_volunteers.py --rows 10000000 --metadata minimal [--jobs 2]
    python benchmarks/bench_simulate_volunteers.py --keep --out-dir /tmp/exports   # keep the files
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: seconds: the brief's bound at paper scale; for 1e7 rows, the time `hunt-clusters aggregate` is
#: allowed to read such an export (issue 5), which writing it should not exceed. None: no anchor.
ANCHORS: dict[object, float] = {"paper": 10.0, 10_000_000: 180.0}


def one(kind: str, out: Path, metadata: str, jobs: int) -> dict:
    from hunt_clusters.mock._volunteers import VolunteerConfig, synthetic_subject_set, write_export

    t = time.perf_counter()
    if kind == "paper":
        m, c = synthetic_subject_set(1600, seed=1)
        s = write_export(out, m, c, config=VolunteerConfig(seed=1, metadata=metadata), jobs=jobs)
    else:
        s = write_export(
            out, n_classifications=int(kind), config=VolunteerConfig(seed=1, metadata=metadata), jobs=jobs
        )
    sec = time.perf_counter() - t
    return {
        "rows": s.n_rows,
        "subjects": s.n_subjects,
        "seconds": sec,
        "bytes": out.stat().st_size,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", nargs="*", default=["paper", "100000", "1000000"], help="'paper' or row counts")
    ap.add_argument("--metadata", choices=("full", "minimal"), default="full")
    ap.add_argument("--jobs", type=int, default=1, help="processes formatting rows")
    ap.add_argument("--out-dir", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the exports")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], Path(args.one[1]), args.metadata, args.jobs)))
        return
    out_dir = args.out_dir or Path(tempfile.mkdtemp(prefix="bench_volunteers_"))
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"{'export':>12} {'rows':>10} {'MB':>8} {'anchor s':>9} {'ours s':>8} {'ratio':>7} {'rows/s':>9} {'RSS MB':>7}")
    for kind in args.rows:
        out = out_dir / f"export_{kind}_{args.metadata}.csv"
        r = subprocess.run(
            [sys.executable, __file__, "--metadata", args.metadata, "--jobs", str(args.jobs), "--one", kind, str(out)],
            check=True, capture_output=True, text=True,
        )
        res = json.loads(r.stdout.strip().splitlines()[-1])
        anchor = ANCHORS.get(kind if kind == "paper" else int(kind))
        a_txt = f"{anchor:>9.1f}" if anchor else f"{'-':>9}"
        r_txt = f"{anchor / res['seconds']:>6.1f}x" if anchor else f"{'-':>7}"
        print(
            f"{kind:>12} {res['rows']:>10} {res['bytes'] / 1e6:>8.0f} {a_txt} {res['seconds']:>8.2f} "
            f"{r_txt} {res['rows'] / res['seconds']:>9.0f} {res['max_rss_mb']:>7.0f}"
        )
        if not args.keep:
            os.remove(out)


if __name__ == "__main__":
    main()
