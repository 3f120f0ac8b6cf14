"""Where the render time goes: per-stage CPU time, or cProfile, of rendering subjects as bench_render.py does.

    python benchmarks/profile_render.py --survey mock_survey [-n 100] [--format jpeg]           # stages
    python benchmarks/profile_render.py --survey mock_survey --cprofile [--top 25]              # functions

Same jobs as the benchmark (FITS read per candidate, renderer cache off, the matplotlib anchor run
once first so that the process is in the same state). ``--stages`` (the default) wraps the
renderer's steps with CPU-time counters and prints milliseconds per subject, the best of
``--repeat`` passes; ``--cprofile`` prints the functions with the most time of their own (divide
by ``-n`` for per-subject figures; cProfile itself adds ~40%).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_render as bench  # noqa: E402

#: (module, function) pairs timed by --stages, in pipeline order; nested ones are inside render_overlay.
STAGES = [
    ("_subject_set", "load_image"), ("_subject_set", "xray_signal"), ("_subject_set", "render_overlay"),
    ("_overlay", "optical_crop"), ("_overlay", "xray_contours"), ("_overlay", "stretch_uint8"),
    ("PIL", "resize"), ("_overlay", "_draw_lines"), ("_overlay", "_draw_marks"),
    ("_subject_set", "encode_subject"), ("_subject_set", "_atomic_write"),
]


def _timed(fn: Callable[..., Any], name: str, acc: dict[str, float]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*a: Any, **k: Any) -> Any:
        t0 = time.process_time()
        try:
            return fn(*a, **k)
        finally:
            acc[name] = acc.get(name, 0.0) + time.process_time() - t0
    return wrapper


def stages(jobs: list, repeat: int) -> None:  # type: ignore[type-arg]
    from PIL import Image

    from hunt_clusters.subjects import _overlay, _subject_set

    acc: dict[str, float] = {}
    modules = {"_overlay": _overlay, "_subject_set": _subject_set}
    for mod, name in STAGES:
        if mod == "PIL":
            setattr(Image.Image, name, _timed(getattr(Image.Image, name), f"  Image.{name}", acc))
        else:
            label = name if mod == "_subject_set" else f"  {name}"
            setattr(modules[mod], name, _timed(getattr(modules[mod], name), label, acc))
    best: tuple[float, dict[str, float]] | None = None
    for _ in range(repeat):
        acc.clear()
        c0 = time.process_time()
        for job in jobs:
            bench.ours_one(job)
        total = time.process_time() - c0
        if best is None or total < best[0]:
            best = (total, dict(acc))
    assert best is not None
    total, times = best
    n = len(jobs)
    print(f"CPU ms per subject, best of {repeat} passes over {n} subjects "
          "(indented: parts of render_overlay):")
    for _, name in STAGES:
        for label, t in times.items():
            if label.strip().removeprefix("Image.") == name:
                print(f"  {label:26s}{t / n * 1e3:7.2f}")
    print(f"  {'total (whole job)':26s}{total / n * 1e3:7.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--survey", required=True, help="folder with candidates.ecsv (hunt-clusters simulate)")
    ap.add_argument("-n", type=int, default=100, help="candidates to render (default 100)")
    ap.add_argument("--format", choices=("jpeg", "png"), default="jpeg")
    ap.add_argument("--cprofile", action="store_true", help="cProfile by function instead of stages")
    ap.add_argument("--repeat", type=int, default=5, help="passes for --stages (default 5; best kept)")
    ap.add_argument("--top", type=int, default=25, help="functions to list with --cprofile (default 25)")
    args = ap.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    from hunt_clusters.subjects import RenderConfig
    from hunt_clusters.subjects._subject_set import _Job

    bench._no_cache()
    rows = bench._rows(Path(args.survey) / "candidates.ecsv", args.n)
    tmp = Path(tempfile.mkdtemp(prefix="profile_render_"))
    cfg = RenderConfig(format=args.format)
    ext = "jpg" if args.format == "jpeg" else "png"
    jobs = [_Job(c, ra, dec, x, o, str(tmp / f"{c}.{ext}"), True, False, "", cfg, 1 << 20) for c, ra, dec, x, o in rows]
    for r in rows[:3]:
        bench.anchor_one(*r[1:])  # the process state the benchmark measures in
    bench.ours_one(jobs[0])  # warm-up: imports, caches of the libraries
    print(f"{len(jobs)} {args.format.upper()} subjects of {args.survey}")
    if not args.cprofile:
        stages(jobs, args.repeat)
        return
    prof = cProfile.Profile()
    prof.enable()
    for job in jobs:
        bench.ours_one(job)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
