"""Upload speed: the Zooniverse documentation's loop (anchor) vs ``upload_subject_set`` (ours).

Both run against the Panoptes test double (tests/zooniverse/panoptes_double.py) with 50 ms added
to every reply, on the same 500-subject set, in one run. Prints requests per subject and subjects
per second for both, and the ratio. Target: ours >= 8x the anchor's rate, <= 3 requests/subject.

    python benchmarks/bench_upload.py            # 500 subjects, 50 ms, 8 threads (about 2 minutes)
    python benchmarks/bench_upload.py -n 100     # quicker
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "zooniverse"))

from panoptes_double import PanoptesDouble  # noqa: E402

from hunt_clusters.zooniverse import Credentials, ZooniverseConfig, upload_subject_set  # noqa: E402
from hunt_clusters.zooniverse._client import _panoptes  # noqa: E402

PASSWORD = "bench-pw"


def make_set(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    with (folder / "manifest.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "#candidate_id", "#ra", "#dec"])
        for i in range(n):
            buf = io.BytesIO()
            Image.new("RGB", (64, 64), (i % 256, (3 * i) % 256, 90)).save(buf, format="PNG")
            (folder / f"c{i:05d}.png").write_bytes(buf.getvalue())
            w.writerow([f"c{i:05d}.png", f"C{i:05d}", f"{10 + i * 1e-3:.4f}", "-5.0"])
    return folder


def anchor(folder: Path, double: PanoptesDouble) -> tuple[float, str]:
    """The loop of the panoptes-client documentation (synchronous saves, then subject_set.add)."""
    pc = _panoptes()
    t0 = time.perf_counter()
    pc.Panoptes.connect(username="alice", password=PASSWORD, endpoint=double.url)
    project = pc.Project.find(slug="alice/hunt")
    subject_set = pc.SubjectSet()
    subject_set.links.project = project
    subject_set.display_name = "anchor"
    subject_set.save()
    subjects = []
    with (folder / "manifest.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            subject = pc.Subject()
            subject.links.project = project
            subject.add_location(str(folder / row["image"]))
            subject.metadata.update(row)
            subject.save()
            subjects.append(subject)
    subject_set.add(subjects)
    elapsed = time.perf_counter() - t0
    pc.Panoptes._local.panoptes_client = None
    return elapsed, str(subject_set.id)


def check(double: PanoptesDouble, set_id: str, n: int) -> str:
    subs = double.subjects_in(set_id)
    with_media = sum(all(m is not None for m in double.media_of(s["id"])) for s in subs)
    return f"{len(subs)}/{n} in the set, {with_media} with media"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=500, help="subjects (500)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every reply (0.05)")
    parser.add_argument("--threads", type=int, default=8, help="our worker threads (8)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_set(Path(tmp) / "bench", args.n)
        with PanoptesDouble(users={"alice": PASSWORD}, latency=args.latency) as double:
            double.add_project()
            t_anchor, set_anchor = anchor(folder, double)
            req_anchor = len(double.requests)
            ok_anchor = check(double, set_anchor, args.n)
            double.reset_requests()
            res = upload_subject_set(
                folder, project="alice/hunt", subject_set="ours", threads=args.threads, progress=False,
                config=ZooniverseConfig(endpoint=double.url),
                credentials=Credentials(username="alice", password=PASSWORD),
            )
            t_ours, req_ours = res.elapsed_s, len(double.requests)
            ok_ours = check(double, res.subject_set_id or "", args.n)
    rate_a, rate_o = args.n / t_anchor, args.n / t_ours
    print(f"{args.n} subjects, {args.latency * 1000:.0f} ms added to every reply, ours with {args.threads} threads")
    print(f"{'':8s} {'seconds':>9s} {'subjects/s':>11s} {'requests':>9s} {'req/subject':>12s}  result")
    print(f"{'anchor':8s} {t_anchor:9.1f} {rate_a:11.2f} {req_anchor:9d} {req_anchor / args.n:12.2f}  {ok_anchor}")
    print(f"{'ours':8s} {t_ours:9.1f} {rate_o:11.2f} {req_ours:9d} {req_ours / args.n:12.2f}  {ok_ours}")
    print(f"ratio (ours / anchor subjects per second): {rate_o / rate_a:.1f}x  (target >= 8x, <= 3 requests/subject)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
