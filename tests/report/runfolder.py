"""A small synthetic train-on-votes run folder with numbers known by hand (docs/formats.md contract).

40 candidates C00..C39: true_class cycles low-z, hi-z, galaxy, point, other (16 clusters).
Roles: C00-C19 train, C20-C29 overlap (expert_class = truth, except C22: a galaxy the experts
call low-z), C30-C39 test (spec_class: C30, C31, C35, C36 are clusters).
Majority labels = truth except C25 (low-z, volunteers say galaxy), C27 (galaxy -> low-z) and C33
(point -> hi-z); the winning class has 0.7 of the votes, the truth (or `other`) the other 0.3.
Dawid-Skene fixes C25. C27 has 20 votes, every other subject 10.
Two models, 3 runs: votes-hard (test accuracy 0.8, 0.9, 0.7, written mean 0.8 and std 0.1) and
expert-hard (0.9, 0.9, 0.6, no mean/std written: the report computes 0.8 and std 0.1732).
CNN p_cluster: 0.85 for clusters, 0.15 otherwise, plus 0.02 * run; votes-hard says 0.70 on C33
and 0.60 on C27, expert-hard 0.75 on C22. C39's picture is missing; C01's path is absolute.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from hunt_clusters import CLASSES, CLUSTER_CLASSES

IDS = [f"C{i:02d}" for i in range(40)]
COLOURS = {"low-z": (200, 60, 60), "hi-z": (220, 150, 40), "galaxy": (60, 160, 60), "point": (60, 60, 200),
           "other": (120, 120, 120)}


def true_class(i: int) -> str:
    return CLASSES[i % 5]


def role(i: int) -> str:
    return "train" if i < 20 else "overlap" if i < 30 else "test"


def expert_class(i: int) -> str | None:
    if role(i) != "overlap":
        return None
    return "low-z" if i == 22 else true_class(i)


def majority_label(i: int) -> str:
    return {25: "galaxy", 27: "low-z", 33: "hi-z"}.get(i, true_class(i))


def _labels(method: str) -> pd.DataFrame:
    rows = []
    for i, cid in enumerate(IDS):
        lab = majority_label(i)
        if method == "dawid-skene" and i == 25:
            lab = "low-z"
        second = true_class(i) if lab != true_class(i) else ("other" if lab != "other" else "point")
        fr = {c: 0.0 for c in CLASSES}
        fr[lab] = 0.7
        fr[second] = 0.3
        rows.append({"candidate_id": cid, "subject_id": 1000 + i, "n_votes": 20 if i == 27 else 10,
                     **{f"frac_{c}": fr[c] for c in CLASSES}, "label": lab, "agreement": 0.7,
                     "p_cluster": round(fr["low-z"] + fr["hi-z"], 10), "method": method})
    return pd.DataFrame(rows)


def p_cluster(model: str, run: int, i: int) -> float:
    base = 0.85 if true_class(i) in CLUSTER_CLASSES else 0.15
    if model == "votes-hard":
        base = {33: 0.70, 27: 0.60}.get(i, base)
    if model == "expert-hard":
        base = {22: 0.75}.get(i, base)
    return round(base + 0.02 * run, 10)


def _run_entry(model: str, accs: list[float], *, write_mean: bool) -> dict:
    runs = [{"run": r, "seed": 100 * (model == "expert-hard") + r, "epochs": 5, "seconds": 1.5 + r,
             "test": {"accuracy": a, "precision": 0.8, "recall": 0.75, "f1": 0.77, "roc_auc": 0.9, "brier": 0.1,
                      "n": 10},
             "overlap": {"accuracy": 0.8, "kappa": 0.6, "n": 10}} for r, a in enumerate(accs)]
    entry = {"label_source": model.split("-")[0], "target": "hard", "method": "majority" if model.startswith("votes")
             else None, "architecture": "custom", "n_train": 20, "runs": runs,
             "ensemble": {"test": {"accuracy": 0.9 if model == "votes-hard" else 1.0}, "overlap": {"accuracy": 0.8}}}
    if write_mean:
        entry["test_mean"] = {"accuracy": 0.8, "roc_auc": 0.9}
        entry["test_std"] = {"accuracy": 0.1, "roc_auc": 0.0}
    return entry


def make_run_folder(root: Path) -> Path:
    """Write the run folder under ``root / "run"`` and return its path."""
    from hunt_clusters.consensus import compare_with_experts

    run = root / "run"
    (run / "subjects").mkdir(parents=True)
    cand = []
    for i, cid in enumerate(IDS):
        img = run / "subjects" / f"{cid}.png"
        if i != 39:
            a = np.zeros((48, 48, 3), np.uint8)
            a[:] = COLOURS[true_class(i)]
            a[20:28, 20:28] = 255
            Image.fromarray(a).save(img)
        cl = true_class(i) in CLUSTER_CLASSES
        cand.append({"candidate_id": cid, "ra": 30.0 + i / 10, "dec": -5.0 + i / 20, "role": role(i),
                     "in_overlap": role(i) == "overlap", "in_test": role(i) == "test",
                     "redshift": round(0.1 + 0.02 * i, 4) if cl else (0.01 if true_class(i) == "galaxy" else None),
                     "count_rate": round(0.001 * 1.2**i, 8), "expert_class": expert_class(i),
                     "spec_class": (("cluster" if cl else "non-cluster") if role(i) == "test" else None),
                     "true_class": true_class(i),
                     "image": str(img) if i == 1 else f"subjects/{cid}.png", "vote_label": majority_label(i)})
    cands = pd.DataFrame(cand)
    cands.to_csv(run / "candidates.csv", index=False)
    labels = pd.concat([_labels("majority"), _labels("dawid-skene")], ignore_index=True)
    labels.to_csv(run / "labels.csv", index=False)
    experts = cands[["candidate_id", "expert_class"]].dropna()
    agg = {"export": {"rows": 400}, "methods": {"majority": {
        "counts": {}, "experts": compare_with_experts(labels[labels["method"] == "majority"], experts)}}}
    (run / "aggregate_metrics.json").write_text(json.dumps(agg))

    split = {"train": "train", "overlap": "overlap", "test": "test"}
    preds, ens = [], []
    for model in ("votes-hard", "expert-hard"):
        for i, cid in enumerate(IDS):
            s = "val" if 16 <= i < 20 else split[role(i)]
            ps = [p_cluster(model, r, i) for r in range(3)]
            for r, p in enumerate(ps):
                preds.append({"model": model, "run": r, "candidate_id": cid, "split": s, "p_cluster": p})
            ens.append({"model": model, "candidate_id": cid, "split": "train" if s == "val" else s,
                        "p_cluster": round(float(np.mean(ps)), 10), "p_cluster_std": float(np.std(ps))})
    pd.DataFrame(preds).to_csv(run / "predictions.csv", index=False)
    pd.DataFrame(ens).to_csv(run / "ensemble.csv", index=False)
    # epochs counted from 1, as train-on-votes writes them: 5 epochs, as the runs table says
    hist = [{"model": m, "run": r, "epoch": e + 1, "loss": 1.0 / (e + 1), "val_loss": 1.2 / (e + 1),
             "accuracy": 0.5 + 0.08 * e, "val_accuracy": 0.45 + 0.08 * e, "seconds": 0.3}
            for m in ("votes-hard", "expert-hard") for r in range(3) for e in range(5)]
    pd.DataFrame(hist).to_csv(run / "history.csv", index=False)
    metrics = {"holdout": "overlap+spec", "n": {"train": 20, "overlap": 10, "test": 10, "test_clusters": 4},
               "models": {"votes-hard": _run_entry("votes-hard", [0.8, 0.9, 0.7], write_mean=True),
                          "expert-hard": _run_entry("expert-hard", [0.9, 0.9, 0.6], write_mean=False)},
               "baselines": {"volunteers-majority": {"test": {"accuracy": 0.9, "n": 10},
                                                     "overlap": {"accuracy": 0.7, "kappa": 0.4, "n": 10}},
                             "experts": {"test": {"accuracy": None, "n": 0}}},
               "comparisons": [{"a": "votes-hard", "b": "expert-hard", "n": 10, "accuracy_a": 0.9, "accuracy_b": 1.0,
                                "difference": -0.1, "difference_ci": [-0.3, 0.0], "a_only": 0, "b_only": 1,
                                "mcnemar_p": 1.0}],
               "timing": {"total_seconds": 12.5, "seconds_per_epoch": 0.3, "train_candidates_per_second": 66.0,
                          "predict_candidates_per_second": 800.0},
               "versions": {"hunt_clusters": "0.1.0", "tensorflow": "2.16.1", "keras": "3.3.3", "numpy": "1.26.4",
                            "python": "3.11.2"}}
    (run / "metrics.json").write_text(json.dumps(metrics, indent=1))
    config = {"train": {"epochs": 5, "batch_size": 8, "runs": 3}, "seeds": [0, 1, 2],
              "command": ["hunt-clusters", "train-on-votes", "labels.csv", "--out", "run"],
              "inputs": {"labels": "/data/labels.csv"}, "versions": {"pandas": "2.2.0"}}
    (run / "config.json").write_text(json.dumps(config, indent=1))
    return run
