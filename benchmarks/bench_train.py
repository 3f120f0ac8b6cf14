"""train-on-votes and predict: time per epoch, candidates per second, and accuracy against input size.

Needs a paper-sized mock survey run through render and aggregate (the commands are printed with
--help-setup). Measures, in one run on this machine:

1. ``--sizes``: for each input size, the votes-trained and expert-trained models (hard target,
   ``--runs`` runs each) in-process: seconds per epoch, training and prediction candidates per
   second, test accuracy mean and spread: accuracy against time, to choose the default size.
2. ``--cli``: the commands as a user types them, with their defaults and start-up:
   ``hunt-clusters train-on-votes`` (votes + expert, 10 runs each) and ``hunt-clusters predict``.

    python benchmarks/bench_train.py --survey /work/paper --sizes 32,64,128 --runs 3
    python benchmarks/bench_train.py --survey /work/paper --cli
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETUP = """\
hunt-clusters simulate --out S/survey --seed 7 --jobs 2
hunt-clusters render S/survey/candidates.ecsv --select in_zooniverse --out S/subject_set --jobs 2
hunt-clusters render S/survey/candidates.ecsv --select in_expert --out S/expert_set --jobs 2
hunt-clusters simulate-volunteers S/subject_set --out S/classifications.csv --workflows-out S/workflows.csv \\
    --seed 8 --jobs 2
hunt-clusters aggregate S/classifications.csv --workflows-export S/workflows.csv --experts S/survey/candidates.ecsv \\
    --method all --out S/aggregate"""


def sweep(survey: Path, sizes: list[int], runs: int, epochs: int,
          label_sources: tuple[str, ...] = ("votes", "expert")) -> list[dict]:
    from hunt_clusters.cnn import TrainConfig, load_tensors, prepare_experiment, train_comparison

    tensors = load_tensors([survey / "subject_set", survey / "expert_set"])
    rows = []
    for size in sizes:
        cfg = TrainConfig(runs=runs, input_size=size, epochs=epochs, label_sources=label_sources)
        exp = prepare_experiment(tensors, cfg, labels=survey / "aggregate" / "labels.csv",
                                 catalogue=survey / "survey" / "candidates.ecsv")
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            m = train_comparison(exp, cfg, Path(tmp) / "run")
            wall = time.perf_counter() - t0
        row = {"input_size": size, "wall_s": round(wall, 1), **m["timing"]}
        for name, mm in m["models"].items():
            row[f"{name}_acc"] = round(mm["test_mean"]["accuracy"], 4)
            row[f"{name}_acc_std"] = round(mm["test_std"]["accuracy"], 4)
            row[f"{name}_auc"] = round(mm["test_mean"]["roc_auc"], 4)
            row[f"{name}_epochs"] = sum(r["epochs"] for r in mm["runs"]) / len(mm["runs"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def cli(survey: Path) -> dict:
    out = Path(tempfile.mkdtemp()) / "run"
    cmd = ["hunt-clusters", "-q", "train-on-votes", str(survey / "subject_set"), str(survey / "expert_set"),
           "--labels", str(survey / "aggregate" / "labels.csv"), "--catalogue", str(survey / "survey" / "candidates.ecsv"),
           "--out", str(out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    train_s = time.perf_counter() - t0
    m = json.loads((out / "metrics.json").read_text())
    n_tensors = m["n"]["candidates"]
    pcmd = ["hunt-clusters", "-q", "predict", str(out), str(survey / "subject_set"), str(survey / "expert_set"),
            "--out", str(out / "p.csv")]
    t0 = time.perf_counter()
    subprocess.run(pcmd, check=True)
    pred_s = time.perf_counter() - t0
    res = {"train_on_votes_command_s": round(train_s, 1), "train_in_process": m["timing"],
           "predict_command_s": round(pred_s, 2), "predict_candidates": n_tensors,
           "predict_command_candidates_per_s": round(n_tensors / pred_s, 1),
           "models": {k: (v["test_mean"]["accuracy"], v["test_std"]["accuracy"]) for k, v in m["models"].items()}}
    print(json.dumps(res, indent=1))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--survey", type=Path, help="folder S of the set-up commands")
    ap.add_argument("--sizes", default="", help="comma-separated input sizes for the sweep")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--label-sources", default="votes,expert", help="label sources of the sweep (votes,expert,truth)")
    ap.add_argument("--cli", action="store_true", help="time the commands as typed")
    ap.add_argument("--help-setup", action="store_true")
    a = ap.parse_args()
    if a.help_setup or a.survey is None:
        print(SETUP)
        return
    if a.sizes:
        sweep(a.survey, [int(s) for s in a.sizes.split(",")], a.runs, a.epochs, tuple(a.label_sources.split(",")))
    if a.cli:
        cli(a.survey)


if __name__ == "__main__":
    sys.exit(main())
