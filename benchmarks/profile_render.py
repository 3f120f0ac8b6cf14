"""Where the render time goes: cProfile of rendering subjects the way bench_render.py times them.

    python benchmarks/profile_render.py --survey mock_survey [-n 100] [--format jpeg] [--top 25]

Same jobs as the benchmark (FITS read per candidate, renderer cache off); prints the functions
with the most time of their own. Divide by ``-n`` for per-subject figures.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_render as bench  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--survey", required=True, help="folder with candidates.ecsv (hunt-clusters simulate)")
    ap.add_argument("-n", type=int, default=100, help="candidates to render (default 100)")
    ap.add_argument("--format", choices=("jpeg", "png"), default="jpeg")
    ap.add_argument("--top", type=int, default=25, help="functions to list (default 25)")
    args = ap.parse_args()

    from hunt_clusters.subjects import RenderConfig
    from hunt_clusters.subjects._subject_set import _Job

    bench._no_cache()
    rows = bench._rows(Path(args.survey) / "candidates.ecsv", args.n)
    tmp = Path(tempfile.mkdtemp(prefix="profile_render_"))
    cfg = RenderConfig(format=args.format)
    ext = "jpg" if args.format == "jpeg" else "png"
    jobs = [_Job(c, ra, dec, x, o, str(tmp / f"{c}.{ext}"), True, False, "", cfg, 1 << 20) for c, ra, dec, x, o in rows]
    bench.ours_one(jobs[0])  # warm-up: imports, caches of the libraries
    prof = cProfile.Profile()
    prof.enable()
    for job in jobs:
        bench.ours_one(job)
    prof.disable()
    print(f"{len(jobs)} {args.format.upper()} subjects of {args.survey}")
    pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
