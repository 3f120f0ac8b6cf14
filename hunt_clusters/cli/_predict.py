"""``hunt-clusters predict``: score new candidates with a trained run (the ensemble of its models)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .._scheduler import add_scheduler_argument, client_for
from ._paths import check_output_file, positive_int
from ._say import say

NAME = "predict"
HELP = "score new candidates with a trained run: p_cluster, its spread over the runs, 5-class probabilities"
DESCRIPTION = """\
Triage the next survey's candidates before volunteers see them: the models of a train-on-votes run
(all its runs, as an ensemble) score the tensors of a render folder. Writes a CSV with one row per
candidate: candidate_id, p_cluster (mean over the runs), p_cluster_std (their spread: the
uncertainty), p_low-z ... p_other (or p_cluster/p_non-cluster for a binary head), n_runs, model,
and p_cluster_run0, p_cluster_run1, ... (each run's own: 'upload --priority-by bald' uses them).

examples:
  hunt-clusters predict demo/cnn demo/subject_set --out predictions.csv
  hunt-clusters predict comparison next_survey/subject_set --model expert-hard --out triage.csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a folder written by train-on-votes")
    parser.add_argument("tensors", nargs="+", type=Path, metavar="TENSORS",
                        help="render folder(s) with tensors.npz, .npz file(s) or a Kosiba2020 layout")
    parser.add_argument("--out", "-o", type=Path, default=Path("predictions.csv"), metavar="CSV",
                        help="output table (default predictions.csv)")
    parser.add_argument("--model", metavar="NAME", help="which model of the run (default its first, e.g. votes-hard)")
    parser.add_argument("--batch-size", type=positive_int, default=512, help="(default 512)")
    add_scheduler_argument(parser, jobs=False)  # predict has no --jobs


def run(args: argparse.Namespace) -> int:
    from .._errors import InputError

    out = check_output_file(args.out)
    if not args.run_dir.is_dir():
        raise InputError(f"{args.run_dir}: not a train-on-votes run folder (not a folder)")
    from ..cnn import load_tensors, predict, read_run

    names = [m["name"] for m in read_run(args.run_dir)["models"]]
    if args.model is not None and args.model not in names:  # before reading any tensor
        raise InputError(f"{args.run_dir}: no model {args.model!r}; it holds {', '.join(names)}")
    tensors = load_tensors(args.tensors, progress=args.progress)
    t0 = time.perf_counter()
    with client_for(args.scheduler) as client:
        if client is None:
            table = predict(args.run_dir, tensors, model=args.model, batch_size=args.batch_size)
        else:
            from ..cnn._distributed import predict_distributed

            table = predict_distributed(client, args.run_dir, tensors, model=args.model, batch_size=args.batch_size)
    seconds = time.perf_counter() - t0
    tmp = out.with_name(out.name + ".part")
    try:
        table.to_csv(tmp, index=False, float_format="%.6g")
        tmp.replace(out)
    except BaseException:  # Ctrl-C or a full disk: no half-written table left behind
        tmp.unlink(missing_ok=True)
        raise
    n_hi = int((table["p_cluster"] >= 0.5).sum())
    say(f"{len(table)} candidates scored with {table['model'].iloc[0]} ({int(table['n_runs'].iloc[0])} runs) "
        f"in {seconds:.1f} s: {n_hi} with p_cluster >= 0.5")
    print(f"wrote {out}")
    return 0
