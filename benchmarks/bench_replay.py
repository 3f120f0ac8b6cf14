"""Replay retirement policies on a rendered mock subject set with its crowd (issue 20, a start).

Draws ``--count`` votes of every subject from the mock `VolunteerCrowd` (in rounds), then replays
Panoptes' count retirement (plain consensus), SWAP alone (skills from gold subjects: half of the
expert-classified subjects of the set, as ``aggregate --gold-fraction 0.5``) and, with
``--predictions``, SWAP with the CNN prior; scores the final labels against the truth on the
subjects that are not gold. No CNN is trained here.

    python benchmarks/bench_replay.py --subject-set S7/subject_set --catalogue S7/survey/candidates.ecsv \
        --experts experts.csv --seed 8 --out replay_s7/

``--subject-set`` is a rendered set (``manifest.csv``, ``tensors.npz``; the cues cached in
``cues.parquet`` by simulate-volunteers are read back, or measured and cached).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hunt_clusters.mock import VolunteerConfig, VolunteerCrowd
from hunt_clusters.retire import Policy, RetireConfig, crowd_votes, read_predictions, replay


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subject-set", type=Path, required=True)
    ap.add_argument("--catalogue", type=Path, required=True, help="candidates.ecsv with true_class")
    ap.add_argument("--experts", type=Path, required=True, help="candidate_id, expert_class (simulate-experts)")
    ap.add_argument("--predictions", type=Path, help="predict's output for the SWAP + CNN policy")
    ap.add_argument("--seed", type=int, default=8, help="crowd seed (simulate-volunteers --seed)")
    ap.add_argument("--count", type=int, default=20, help="workflow retirement count (20)")
    ap.add_argument("--gold-fraction", type=float, default=0.5)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    from astropy.table import Table

    t0 = time.perf_counter()
    crowd = VolunteerCrowd(args.subject_set, VolunteerConfig(seed=args.seed))
    votes = crowd_votes(crowd, args.count, np.random.default_rng(args.seed))
    t_votes = time.perf_counter() - t0

    cat = Table.read(args.catalogue).to_pandas()
    cat["candidate_id"] = cat["candidate_id"].astype(str)
    truth = cat.set_index("candidate_id")["true_class"].astype(str)
    experts = pd.read_csv(args.experts, dtype=str).set_index("candidate_id")["expert_class"]
    pool = experts[experts.index.isin(set(crowd.candidate_ids))].sort_index()
    rng = np.random.default_rng(args.seed)
    chosen = np.sort(rng.choice(len(pool), size=int(round(args.gold_fraction * len(pool))), replace=False))
    gold = pool.iloc[chosen]
    scored = truth[truth.index.isin(set(crowd.candidate_ids)) & ~truth.index.isin(gold.index)]

    policies = [Policy(f"count-{args.count}", "count", args.count),
                Policy("swap", "swap", args.count, RetireConfig()),
                Policy("swap-gs", "swap", args.count, RetireConfig(retire_cluster=0.9, retire_non_cluster=0.1))]
    predictions = None
    if args.predictions is not None:
        predictions = read_predictions(args.predictions)
        policies += [Policy("swap-cnn", "swap-cnn", args.count, RetireConfig()),
                     Policy("swap-cnn-gs", "swap-cnn", args.count,
                            RetireConfig(retire_cluster=0.9, retire_non_cluster=0.1))]
    t1 = time.perf_counter()
    res = replay(votes, scored, policies, predictions=predictions, gold=gold)
    t_replay = time.perf_counter() - t1
    args.out.mkdir(parents=True, exist_ok=True)
    res.policies.to_csv(args.out / "policies.csv", index=False, float_format="%.4f")
    res.curves.to_csv(args.out / "curves.csv", index=False, float_format="%.4f")
    summary = {"subjects": len(crowd.subject_ids), "gold": len(gold), "scored": len(scored),
               "votes_drawn": len(votes), "seconds_votes": round(t_votes, 2), "seconds_replay": round(t_replay, 2)}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))
    print(res.policies.to_string(index=False))


if __name__ == "__main__":
    main()
