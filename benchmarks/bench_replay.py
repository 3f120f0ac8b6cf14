"""Replay every policy on several mock surveys, as typed, and tabulate across seeds (issue 20's goals).

Each survey is a (subject set, catalogue, expert set) of one seed; ``hunt-clusters replay`` runs on
each as a user types it (a subprocess: start-up included, wall time measured), then the replay
folders are read back and summarised:

- per policy: classifications, saving, accuracy / completeness / purity and their change against the
  count baseline, at the policy's own stopping point; mean and spread over the seeds;
- the saving at equal accuracy (the first point of a policy's curve at the baseline's final
  accuracy), with the completeness change there;
- active learning: labels BALD and random selection needed to come within the tolerance of training
  on every candidate, and the saving;
- the wall time of each replay.

    python benchmarks/bench_replay.py --survey 7:p7_zoo:p7_candidates.ecsv:p7_exp:8 \\
        --survey 8:p8_zoo:p8_candidates.ecsv:p8_exp:9 --out bench_replay/

``--survey SEED:SUBJECT_SET:CATALOGUE:EXPERT_SET:CROWD_SEED``; ``--reuse`` reads replay folders
already in ``--out`` instead of running them again; extra replay options follow ``--``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hunt_clusters.retire import labels_needed


def run_one(spec: str, out: Path, extra: list[str], reuse: bool) -> tuple[str, Path, float | None]:
    seed, subject_set, catalogue, expert_set, crowd_seed = spec.split(":")
    folder = out / f"seed{seed}"
    if reuse and (folder / "summary.json").exists():
        return seed, folder, None
    cmd = ["hunt-clusters", "replay", subject_set, "--catalogue", catalogue, "--expert-set", expert_set,
           "--crowd-seed", crowd_seed, "--seed", seed, "--out", str(folder), *extra]
    print("$", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=(out / f"seed{seed}.log").open("w"), stderr=subprocess.STDOUT)
    return seed, folder, time.perf_counter() - t0


def summarise(runs: list[tuple[str, Path, float | None]]) -> dict[str, object]:
    rows, eq_rows, al_rows = [], [], []
    for seed, folder, wall in runs:
        s = json.loads((folder / "summary.json").read_text())
        pol = pd.read_csv(folder / "policies.csv")
        base = pol.set_index("policy").loc[s["baseline"]]
        for _, r in pol.iterrows():
            rows.append({"seed": seed, "policy": r["policy"], "classifications": r["classifications"],
                         "saving": r["saving"], "accuracy": r["accuracy"],
                         "d_accuracy_pts": 100 * (r["accuracy"] - base["accuracy"]),
                         "d_completeness_pts": 100 * (r["completeness"] - base["completeness"]),
                         "purity": r["purity"], "to_experts": r["to_experts"]})
        for name, e in s["equal_accuracy"].items():
            eq_rows.append({"seed": seed, "policy": name, "classifications": e["classifications"],
                            "saving": e["saving"],
                            "d_completeness_pts": None if e.get("completeness_change") is None
                            else 100 * e["completeness_change"]})
        al = s.get("active_learning")
        if al and (folder / "active_learning.csv").exists():
            c = pd.read_csv(folder / "active_learning.csv")
            tol = al["tolerance"]
            row: dict[str, object] = {"seed": seed, "wall_s": wall, "seconds": s["seconds"]}
            for metric in ("accuracy", "roc_auc"):
                final = float(c.loc[c["n_labelled"] == c["n_labelled"].max(), metric].iloc[0])
                need = labels_needed(c, final, tol, metric)
                b, r = need.get("bald"), need.get("random")
                row[metric] = {"final": final, "bald": b, "random": r,
                               "saving_fraction": (1 - b / r) if b is not None and r else None}
            piv = c.pivot(index="n_labelled", columns="strategy", values="accuracy")
            row["bald_minus_random_pts"] = {int(n): round(100 * float(v), 1) for n, v in (piv["bald"] - piv["random"]).items()}
            al_rows.append(row)
        else:
            al_rows.append({"seed": seed, "wall_s": wall, "seconds": s["seconds"]})
    per = pd.DataFrame(rows)
    agg = per.drop(columns=["seed"]).groupby("policy", sort=False).agg(["mean", "std"])
    return {"per_seed": per, "mean_std": agg, "equal_accuracy": pd.DataFrame(eq_rows), "active": al_rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--survey", action="append", required=True,
                    metavar="SEED:SUBJECT_SET:CATALOGUE:EXPERT_SET:CROWD_SEED")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--reuse", action="store_true", help="read replay folders already in --out")
    ap.add_argument("extra", nargs=argparse.REMAINDER, help="-- then options for hunt-clusters replay")
    args = ap.parse_args()
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    args.out.mkdir(parents=True, exist_ok=True)
    runs = [run_one(spec, args.out, extra, args.reuse) for spec in args.survey]
    res = summarise(runs)
    pd.set_option("display.width", 200)
    print(res["per_seed"].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(res["mean_std"].to_string(float_format=lambda x: f"{x:.3f}"))
    print(res["equal_accuracy"].to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    for a in res["active"]:
        print(json.dumps(a))
    res["per_seed"].to_csv(args.out / "per_seed.csv", index=False)
    res["equal_accuracy"].to_csv(args.out / "equal_accuracy.csv", index=False)
    (args.out / "active.json").write_text(json.dumps(res["active"], indent=2, default=float) + "\n")
    if any(w is not None for _, _, w in runs):
        walls = [w for _, _, w in runs if w is not None]
        print(f"wall time per replay as typed: {np.mean(walls):.0f} s (min {min(walls):.0f}, max {max(walls):.0f})",
              file=sys.stderr)


if __name__ == "__main__":
    main()
