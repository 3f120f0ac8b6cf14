"""The paper-sized comparison (votes- vs expert-trained CNN) on several mock-survey seeds: mean +- sd.

For each seed: the mock survey, its renders, mock volunteers and ``aggregate`` (the demo's steps 1-6
at ``--size paper``, skipped where the folder already holds them), then ``train-on-votes`` with the
given runs and label sources. Per seed it prints each model's ensemble test accuracy with its 95 %
bootstrap interval over the test candidates, the paired votes-hard - expert-hard difference with its
interval and exact McNemar p, collapsed runs, and the volunteers-vs-experts agreement; then the mean
+- sd across seeds. ``--code DIR`` runs the commands with another checkout's code (e.g. main before a
change): the intervals are then recomputed here from its ``ensemble.csv`` (threshold 0.5 where its
metrics.json has none).

    python benchmarks/bench_comparison.py --work /tmp/bench --seeds 0,1,2 --runs 10
    python benchmarks/bench_comparison.py --work /tmp/bench --seeds 0,1,2 --runs 10 --code /work/main --tag before

Slow: each seed is a paper-sized survey (2903 candidates; simulate + render + aggregate take minutes)
and ``--runs`` trainings per model (about 4 min for votes + expert at 10 runs on a quiet 2-core machine).
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

import numpy as np
import pandas as pd


def _hc(args: list[str], code: Path | None) -> float:
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    t0 = time.perf_counter()
    exe = shutil.which("hunt-clusters", path=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""))
    subprocess.run([exe or "hunt-clusters", "-q", *args], check=True, env=env)
    return time.perf_counter() - t0


def prepare(folder: Path, seed: int, code: Path | None, size: list[str]) -> dict[str, float]:
    """The demo's steps 1-6 for one seed (each skipped where its output exists)."""
    cat = folder / "mock_survey" / "candidates.ecsv"
    steps = [
        (folder / "mock_survey", ["simulate", *size, "--out", str(folder / "mock_survey"), "--seed", str(seed),
                                  "--jobs", "2"]),
        (folder / "subject_set", ["render", str(cat), "--select", "in_zooniverse", "--out",
                                  str(folder / "subject_set"), "--jobs", "2"]),
        (folder / "expert_set", ["render", str(cat), "--select", "in_expert", "--out", str(folder / "expert_set"),
                                 "--jobs", "2"]),
        (folder / "classifications.csv", ["simulate-volunteers", str(folder / "subject_set"), "--catalogue", str(cat),
                                          "--out", str(folder / "classifications.csv"), "--workflows-out",
                                          str(folder / "workflows.csv"), "--seed", str(seed + 1)]),
        (folder / "aggregate", ["aggregate", str(folder / "classifications.csv"), "--workflows-export",
                                str(folder / "workflows.csv"), "--experts", str(cat), "--method", "all", "--out",
                                str(folder / "aggregate")]),
    ]
    seconds = {}
    for out, args in steps:
        if not out.exists():
            seconds[args[0] + (f" {args[3]}" if args[0] == "render" else "")] = round(_hc(args, code), 1)
    return seconds


def _figures(run: Path) -> dict:
    """Per-model ensemble accuracy with 95 % interval, the paired comparison and collapsed runs."""
    from hunt_clusters.cnn._evaluate import accuracy_interval, paired_comparison

    m = json.loads((run / "metrics.json").read_text())
    cand = pd.read_csv(run / "candidates.csv", dtype={"candidate_id": str}, keep_default_na=False)
    test = cand[cand["in_test"].astype(str).str.lower().isin(("true", "1"))].set_index("candidate_id")
    spec = test["spec_class"] == "cluster"
    ens = pd.read_csv(run / "ensemble.csv", dtype={"candidate_id": str})
    out: dict = {"n_test": int(len(test)), "models": {}}
    correct = {}
    for name, entry in m["models"].items():
        thr = (entry.get("ensemble") or {}).get("threshold", 0.5)
        e = ens[(ens["model"] == name)].set_index("candidate_id").reindex(test.index)
        c = ((e["p_cluster"] >= thr) == spec).to_numpy()
        correct[name] = c
        lo, hi = accuracy_interval(c.astype(float))
        out["models"][name] = {"accuracy": float(c.mean()), "ci": [lo, hi], "n_train": entry.get("n_train"),
                               "threshold": thr, "collapsed": (entry.get("collapsed") or {}).get("runs_collapsed"),
                               "runs": len(entry.get("runs") or [])}
    if "votes-hard" in correct and "expert-hard" in correct:
        out["votes_minus_expert"] = paired_comparison(correct["votes-hard"], correct["expert-hard"])
    vol = (m.get("baselines") or {}).get("volunteers-majority", {})
    out["volunteers_test_accuracy"] = (vol.get("test") or {}).get("accuracy")
    out["volunteers_vs_experts"] = vol.get("overlap")
    out["timing_s"] = (m.get("timing") or {}).get("total_seconds")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True, help="folder for the surveys (kept: reruns reuse them)")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated mock-survey seeds (default 0,1,2)")
    ap.add_argument("--runs", type=int, default=10, help="runs per model (default 10)")
    ap.add_argument("--label-source", default="votes,expert", help="train-on-votes --label-source")
    ap.add_argument("--size", choices=("paper", "small"), default="paper", help="survey size (default paper)")
    ap.add_argument("--train-args", default="", help="more train-on-votes options, one string")
    ap.add_argument("--code", type=Path, help="run the commands with this checkout's code (PYTHONPATH)")
    ap.add_argument("--tag", default="after", help="name of this set of runs (folder cnn_<tag>)")
    args = ap.parse_args(argv)
    size = [] if args.size == "paper" else ["--small"]
    per_seed = []
    for seed in (int(s) for s in args.seeds.split(",")):
        folder = args.work / f"seed{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        prep = prepare(folder, seed, args.code, size)
        run = folder / f"cnn_{args.tag}"
        t = _hc(["train-on-votes", str(folder / "subject_set"), str(folder / "expert_set"), "--labels",
                 str(folder / "aggregate" / "labels.csv"),
                 "--catalogue", str(folder / "mock_survey" / "candidates.ecsv"),
                 "--label-source", args.label_source, "--runs", str(args.runs), "--seed", str(seed), "--out", str(run),
                 "--force", *args.train_args.split()], args.code)
        row = {"seed": seed, "prepare_s": prep, "train_s": round(t, 1), **_figures(run)}
        per_seed.append(row)
        print(json.dumps(row), flush=True)
    names = list(per_seed[0]["models"])
    print(f"\n{args.tag}: {len(per_seed)} seeds, {args.runs} runs, ensemble test accuracy mean +- sd across seeds")
    for name in names:
        a = np.array([r["models"][name]["accuracy"] for r in per_seed])
        w = np.array([(r["models"][name]["ci"][1] - r["models"][name]["ci"][0]) / 2 for r in per_seed])
        print(f"  {name:<24} {100 * a.mean():5.1f} +- {100 * a.std(ddof=1) if len(a) > 1 else 0:4.1f} %  "
              f"(per-seed 95 % interval +-{100 * w.mean():.1f}; n_train {per_seed[0]['models'][name]['n_train']})")
    d = [r["votes_minus_expert"] for r in per_seed if "votes_minus_expert" in r]
    if d:
        diff = np.array([c["difference"] for c in d])
        sd = 100 * diff.std(ddof=1) if len(d) > 1 else 0.0
        print(f"  votes-hard - expert-hard  {100 * diff.mean():+.1f} +- {sd:.1f}"
              " points; McNemar p per seed: " + ", ".join(f"{c['mcnemar_p']:.2g}" for c in d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
