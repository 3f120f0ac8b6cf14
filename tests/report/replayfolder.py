"""A tiny hand-made ``hunt-clusters replay`` folder with numbers known by hand (docs/report.md, "Human + machine").

Three policies on 10 subjects (saving = 200 / classifications):

    policy       kind      classifications saving accuracy completeness purity to_experts
    count-20     count     200             1.0x   0.80     0.75         0.75   0
    swap         swap      100             2.0x   0.78     0.75         0.70   1
    swap-cnn-gs  swap-cnn  80              2.5x   0.82     0.70         0.80   0

Curves: count-20 ends at 0.80 after 200; swap never reaches 0.80 (0.78 at 100); swap-cnn-gs reaches
0.80 at 50 classifications, so its saving at equal accuracy is 200 / 50 = 4.0x (summary.json says the
same), with completeness 5.0 points below the baseline: the 8x goal is not met.

labels.csv, machine policy swap-cnn-gs: C01 (5 votes) and C02 (3 votes) retired on the wrong side of
the truth, with pictures (C02 relative to the folder, C01 absolute); C07 (4 votes) too, but its
picture is missing; C03 retired right; C04 wrong but sent to the experts; C05 wrong but not scored.
count-20 retired C06 wrongly (another policy: not shown).

Active learning, 2 rounds each: BALD reaches the target 0.80 with 30 labels, random with 50: 40 %
fewer (the goal: at least 40 %).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from PIL import Image

POLICIES = [
    {"policy": "count-20", "kind": "count", "classifications": 200, "saving": 1.0, "accuracy": 0.80,
     "completeness": 0.75, "purity": 0.75, "to_experts": 0, "n_subjects": 10},
    {"policy": "swap", "kind": "swap", "classifications": 100, "saving": 2.0, "accuracy": 0.78,
     "completeness": 0.75, "purity": 0.70, "to_experts": 1, "n_subjects": 10},
    {"policy": "swap-cnn-gs", "kind": "swap-cnn", "classifications": 80, "saving": 2.5, "accuracy": 0.82,
     "completeness": 0.70, "purity": 0.80, "to_experts": 0, "n_subjects": 10},
]
CURVES = {"count-20": [(50, 0.5), (100, 0.6), (200, 0.80)],
          "swap": [(25, 0.6), (50, 0.7), (100, 0.78)],
          "swap-cnn-gs": [(20, 0.6), (50, 0.80), (80, 0.82)]}
#: (candidate, n_votes, label, cluster, decision, p_cnn, truth, scored, image)
LABELS = [
    ("C01", 5, "cluster", True, "retire-cluster", 0.91, False, True, "ABS"),
    ("C02", 3, "non-cluster", False, "retire-non-cluster", 0.12, True, True, "pics/c02.jpg"),
    ("C03", 3, "cluster", True, "retire-cluster", 0.95, True, True, "pics/c03.jpg"),
    ("C04", 20, "cluster", True, "experts", 0.55, False, True, "pics/c04.jpg"),
    ("C05", 3, "cluster", True, "retire-cluster", 0.97, None, False, "pics/c05.jpg"),
    ("C07", 4, "cluster", True, "retire-cluster", 0.88, False, True, "pics/gone.jpg"),
]
AL = [("bald", 0, 20, 0.70, 0.60, 0.80), ("bald", 1, 40, 0.85, 0.78, 0.90),
      ("random", 0, 20, 0.65, 0.55, 0.75), ("random", 1, 40, 0.75, 0.66, 0.83)]
SUMMARY = {
    "mode": "mock", "baseline": "count-20", "machine_policy": "swap-cnn-gs", "n_subjects": 10, "n_gold": 4,
    "n_scored": 9,
    "equal_accuracy": {"count-20": {"classifications": 200, "saving": 1.0},
                       "swap": {"classifications": None, "saving": None},
                       "swap-cnn-gs": {"classifications": 50, "saving": 4.0}},
    "active_learning": {"target_accuracy": 0.8, "labels_needed": {"bald": 30, "random": 50}, "saving_fraction": 0.4,
                        "retrained_per_round": "the 5-run ensemble from scratch, 10 epochs"},
    "cnn": {"how": "expert-hard ensemble of 5 runs", "test_accuracy": 0.7}, "seconds": {"replay": 1.5},
}


def _jpeg(path: Path, colour: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (24, 24), colour).save(path, format="JPEG")


def make_replay_folder(root: Path, name: str = "replay") -> Path:
    """Write the replay folder under ``root`` and return its path."""
    d = root / name
    d.mkdir(parents=True)
    pd.DataFrame(POLICIES).to_csv(d / "policies.csv", index=False)
    pd.DataFrame([{"policy": p, "step": i, "classifications": c, "accuracy": a}
                  for p, pts in CURVES.items() for i, (c, a) in enumerate(pts)]).to_csv(d / "curves.csv", index=False)
    absolute = (root / "elsewhere" / "c01.jpg").resolve()
    rows = []
    for cid, n, label, cl, dec, p, truth, scored, image in LABELS:
        rows.append({"policy": "swap-cnn-gs", "candidate_id": cid, "subject_id": 100 + int(cid[1:]), "n_votes": n,
                     "label": label, "cluster": cl, "decision": dec, "p_cnn": p,
                     "truth": "" if truth is None else truth, "scored": scored,
                     "image": str(absolute) if image == "ABS" else image})
    rows.append({"policy": "count-20", "candidate_id": "C06", "subject_id": 106, "n_votes": 20, "label": "low-z",
                 "cluster": True, "decision": "retire-cluster", "p_cnn": "", "truth": False, "scored": True,
                 "image": "pics/c06.jpg"})
    pd.DataFrame(rows).to_csv(d / "labels.csv", index=False)
    _jpeg(absolute, (200, 60, 60))
    for cid in ("c02", "c03", "c04", "c05", "c06"):
        _jpeg(d / "pics" / f"{cid}.jpg", (60, 60, 200))
    pd.DataFrame(AL, columns=["strategy", "round", "n_labelled", "accuracy", "accuracy_lo", "accuracy_hi"]).assign(
        classifications=lambda t: t["n_labelled"] * 20, n_test=100, seconds=2.0).to_csv(
        d / "active_learning.csv", index=False)
    (d / "summary.json").write_text(json.dumps(SUMMARY, indent=2), encoding="utf-8")
    return d
