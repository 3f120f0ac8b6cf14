"""``hunt-clusters simulate-experts``: mock expert labels of a rendered subject set, from its pictures alone."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._paths import check_output_file, positive_int

NAME = "simulate-experts"
HELP = "mock expert labels of a rendered subject set, from its pictures alone"
DESCRIPTION = """\
Label each subject of a rendered subject set as the mock experts would, and write
candidate_id,expert_class. The experts see what the volunteers see (cues measured on the set's
tensors.npz, cached in cues.parquet) with less perception noise, no personal biases and a finer
rule (only extended objects count as cluster galaxies; weak sources are "other"); with
probability --lapse they answer at random. 'hunt-clusters simulate' labels its expert sample with
this same function, so on the expert set it renders the labels are those of candidates.ecsv.
The model and its numbers: docs/mock-volunteers.md.

examples:
  hunt-clusters simulate --small --out mock --seed 3
  hunt-clusters render mock/candidates.ecsv --select in_expert --out expert_set
  hunt-clusters simulate-experts expert_set --seed 3 --out experts.csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("subject_set", metavar="SUBJECT_SET_DIR", help="rendered subject set (manifest.csv, tensors.npz)")
    parser.add_argument("--out", required=True, metavar="CSV", help="where to write candidate_id,expert_class")
    parser.add_argument("--seed", type=int, default=0, help="random seed (simulate's --seed gives its labels; default 0)")
    parser.add_argument("--lapse", type=float, default=0.05, help="probability of an answer at random (default 0.05)")
    parser.add_argument("--catalogue", metavar="FILE", help="optional: check that every subject is in this catalogue (ids only)")
    parser.add_argument("--jobs", type=positive_int, default=1, metavar="N", help="processes measuring uncached cues (default 1)")


def run(args: argparse.Namespace) -> int:
    from .._errors import InputError
    from ..mock import simulate_experts

    if not 0.0 <= args.lapse <= 1.0:
        raise InputError(f"--lapse {args.lapse}: use a probability between 0 and 1")
    check_output_file(args.out)
    labels = simulate_experts(args.subject_set, seed=args.seed, lapse=args.lapse, jobs=args.jobs, catalogue=args.catalogue)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    labels.to_csv(out, index=False)
    counts = labels["expert_class"].value_counts()
    mix = ", ".join(f"{c} {int(counts.get(c, 0))}" for c in ("low-z", "hi-z", "galaxy", "point", "other"))
    print(f"{out}: {len(labels)} expert labels ({mix})")
    return 0
