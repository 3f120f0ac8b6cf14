"""Time ``hunt-clusters retire`` on 10^5 subjects: the command as typed and ``decide()`` in process (issue 20).

    python benchmarks/bench_retire.py [--subjects 100000] [--out /tmp/bench_retire] [--repeat 3]

Builds, seeded, an aggregate-like folder (``votes.parquet`` in aggregate's votes schema, with its
dictionary-encoded text columns, and ``folds.csv`` with ~2 % of the subjects expert-classified, the
gold SWAP learns the skills from) and ``predict``-like predictions (``p_cluster``, ``p_cluster_std``
and five ``p_cluster_runN``). The crowd: 1-20 votes per subject (mean ~8, so ~800,000 vote rows for
10^5 subjects) from 3,000 volunteers of heavy-tailed activity and accuracies between 0.55 and 0.95.

Then it times, each ``--repeat`` times (the best and all runs are kept):

(a) in process: `read_votes`, `read_predictions`, `decide` and `write_outputs` apart;
(b) the command as typed, in a subprocess (wall and CPU time, interpreter start-up and imports included):
    ``hunt-clusters retire AGG_DIR --predictions predictions.csv --out OUT`` with default options;
(c) the fixed cost: the same command on a 100-subject aggregate (interpreter start-up, imports, the
    output folder), ``hunt-clusters retire --help`` (start-up and argument parsing only), and whether
    the retire command imports TensorFlow or Keras (it must not).

and writes ``OUT/bench_retire.json`` with the figures and the sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import hunt_clusters
from hunt_clusters import CLASSES, CLUSTER_CLASSES

#: Answer text of each class (as a workflow's answers map to classes).
_ANSWERS = {"low-z": "Cluster - galaxies visible", "hi-z": "Cluster - faint / distant",
            "galaxy": "Single galaxy", "point": "Point source / star", "other": "Other (artefact, noise)"}


def make_aggregate(folder: Path, n_subjects: int, *, n_users: int = 3000, gold_fraction: float = 0.02,
                   seed: int = 20) -> dict[str, int]:
    """Write ``votes.parquet`` and ``folds.csv`` of a synthetic aggregate into ``folder``; return the sizes."""
    rng = np.random.default_rng(seed)
    k = len(CLASSES)
    is_cluster = np.array([c in CLUSTER_CLASSES for c in CLASSES])
    truth = rng.choice(k, size=n_subjects, p=[0.2, 0.1, 0.3, 0.3, 0.1])
    # votes per subject: 1 + Binomial(19, 7/19), i.e. 1..20 with mean 8
    n_per = 1 + rng.binomial(19, 7 / 19, n_subjects)
    subj = np.repeat(np.arange(n_subjects), n_per)
    n_votes = len(subj)
    weight = 1.0 / np.arange(1, n_users + 1) ** 1.1            # Zipf-like activity
    user = rng.choice(n_users, size=n_votes, p=weight / weight.sum())
    acc = rng.uniform(0.55, 0.95, n_users)
    right_side = rng.random(n_votes) < acc[user]
    t = truth[subj]
    same = np.where(rng.random(n_votes) < 0.8, t, rng.integers(0, k, n_votes))   # a class, mostly the true one
    # a right-side vote keeps the side of the truth, a wrong one flips it (to a class of the other side)
    cl_idx, non_idx = np.flatnonzero(is_cluster), np.flatnonzero(~is_cluster)
    flip_to = np.where(is_cluster[t], non_idx[rng.integers(0, len(non_idx), n_votes)],
                       cl_idx[rng.integers(0, len(cl_idx), n_votes)])
    side_ok = is_cluster[same] == is_cluster[t]
    klass = np.where(right_side, np.where(side_ok, same, t), flip_to)

    cand = pd.Categorical.from_codes(subj, categories=[f"HC-{i:06d}" for i in range(n_subjects)])
    names = pd.Categorical.from_codes(user, categories=[f"volunteer-{i:05d}" for i in range(n_users)])
    start = np.datetime64("2026-01-01T00:00:00", "ns")
    created = pd.to_datetime(np.sort(rng.integers(0, 180 * 86400, n_votes)) * 10**9 + start.astype(np.int64),
                             utc=True)
    order = rng.permutation(n_votes)                             # the export's time order, not subject order
    votes = pd.DataFrame({
        "classification_id": np.arange(200_000_000, 200_000_000 + n_votes, dtype=np.int64),
        "subject_id": (80_000_000 + subj[order]).astype(np.int64),
        "candidate_id": cand[order],
        "user": names[order],
        "user_id": pd.array(1_000_000 + user[order], dtype="Int64"),
        "workflow_id": np.full(n_votes, 11235, dtype=np.int32),
        "workflow_version": pd.Categorical(["16.55"] * n_votes),
        "task": pd.Categorical.from_codes(np.zeros(n_votes, dtype=np.int8), categories=["T0"]),
        "answer": pd.Categorical.from_codes(klass[order], categories=[_ANSWERS[c] for c in CLASSES]),
        "created_at": created,
        "gold_standard": np.zeros(n_votes, dtype=bool),
        "expert": np.zeros(n_votes, dtype=bool),
        "seen_before": np.zeros(n_votes, dtype=bool),
        "class": pd.Categorical.from_codes(klass[order], categories=list(CLASSES)),
    })
    folder.mkdir(parents=True, exist_ok=True)
    votes.to_parquet(folder / "votes.parquet", index=False)
    gold = np.sort(rng.choice(n_subjects, size=int(round(gold_fraction * n_subjects)), replace=False))
    pd.DataFrame({"candidate_id": np.asarray(cand.categories)[gold],
                  "expert_class": np.asarray(CLASSES, dtype=object)[truth[gold]],
                  "fold": rng.integers(0, 5, len(gold))}).to_csv(folder / "folds.csv", index=False)
    return {"subjects": n_subjects, "vote_rows": n_votes, "volunteers": int(len(np.unique(user))),
            "gold": len(gold), "votes_per_subject_min": int(n_per.min()), "votes_per_subject_max": int(n_per.max())}


def make_predictions(path: Path, n_subjects: int, *, runs: int = 5, seed: int = 21) -> None:
    """Write ``predict``-like predictions of the subjects of `make_aggregate` (all of them)."""
    rng = np.random.default_rng(seed)
    centre = rng.normal(0.0, 2.5, n_subjects)
    p_runs = 1.0 / (1.0 + np.exp(-(centre[:, None] + rng.normal(0.0, 0.6, (n_subjects, runs)))))
    table = pd.DataFrame({"candidate_id": [f"HC-{i:06d}" for i in range(n_subjects)],
                          "p_cluster": p_runs.mean(axis=1), "p_cluster_std": p_runs.std(axis=1)})
    for r in range(runs):
        table[f"p_cluster_run{r}"] = p_runs[:, r]
    table.to_csv(path, index=False, float_format="%.6f")


def _command() -> list[str]:
    exe = shutil.which("hunt-clusters")
    if exe is None:
        sys.exit("bench_retire: the hunt-clusters command is not on PATH (activate the venv)")
    return [exe]


def time_cli(args: list[str], out: Path | None = None) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of the command, start-up included; exits on failure.

    The CPU time is the child's own (`resource.getrusage`), less sensitive than the wall time to
    other jobs on a shared machine.
    """
    if out is not None and out.exists():
        shutil.rmtree(out)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(_command() + args, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"bench_retire: {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(wall, 3), round(cpu, 3)


def imports_tensorflow(cli_args: list[str], out: Path) -> bool:
    """True if running the command (``cli_args``) imports TensorFlow or Keras (the interpreter's module table)."""
    if out.exists():
        shutil.rmtree(out)
    code = ("import sys; from hunt_clusters.cli import main\n"
            f"rc = main({cli_args!r})\n"
            "print(rc, int(any(m.split('.')[0] in ('tensorflow', 'keras') for m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    rc, tf = proc.stdout.split()[-2:]
    if rc != "0":
        sys.exit(f"bench_retire: retire failed ({rc}): {proc.stderr[-2000:]}")
    return tf == "1"


def time_in_process(agg: Path, pred: Path, out: Path) -> dict[str, float]:
    """Seconds of each library step of ``retire``, as the command calls them."""
    from hunt_clusters.retire import RetireConfig, decide, read_predictions, read_votes, write_outputs

    cfg = RetireConfig()
    t = [time.perf_counter()]
    inputs = read_votes(agg)
    t.append(time.perf_counter())
    predictions = read_predictions(pred)
    t.append(time.perf_counter())
    decisions = decide(inputs.votes, predictions, gold=inputs.gold, config=cfg)
    t.append(time.perf_counter())
    write_outputs(decisions, out, cfg)
    t.append(time.perf_counter())
    steps = ("read_votes", "read_predictions", "decide", "write_outputs")
    res = {s: round(t[i + 1] - t[i], 3) for i, s in enumerate(steps)}
    res["total"] = round(t[-1] - t[0], 3)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_retire"))
    ap.add_argument("--repeat", type=int, default=3, help="runs of each timing (default 3; the best is reported)")
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--profile", type=Path, help="also write a cProfile of the in-process steps here (.prof)")
    args = ap.parse_args()

    agg, pred = args.out / "aggregate", args.out / "predictions.csv"
    t0 = time.perf_counter()
    sizes = make_aggregate(agg, args.subjects, seed=args.seed)
    make_predictions(pred, args.subjects, seed=args.seed + 1)
    sizes["seconds_build"] = round(time.perf_counter() - t0, 2)
    sizes["votes_parquet_mb"] = round((agg / "votes.parquet").stat().st_size / 1e6, 2)
    print(json.dumps(sizes))

    in_process = [time_in_process(agg, pred, args.out / "in_process") for _ in range(args.repeat)]
    cli_args = ["retire", str(agg), "--predictions", str(pred), "--out", str(args.out / "retire")]
    cli = [time_cli(cli_args, args.out / "retire") for _ in range(args.repeat)]
    startup = [time_cli(["retire", "--help"])[0] for _ in range(args.repeat)]
    small, small_pred = args.out / "small" / "aggregate", args.out / "small" / "predictions.csv"
    make_aggregate(small, 100, seed=args.seed)
    make_predictions(small_pred, 100, seed=args.seed + 1)
    small_args = ["retire", str(small), "--predictions", str(small_pred), "--out", str(args.out / "small" / "retire")]
    fixed = [time_cli(small_args, args.out / "small" / "retire") for _ in range(args.repeat)]
    same = (pd.read_csv(args.out / "in_process" / "decisions.csv").equals(
        pd.read_csv(args.out / "retire" / "decisions.csv")))
    if args.profile is not None:
        import cProfile

        cProfile.runctx("time_in_process(agg, pred, out)", globals(),
                        {"time_in_process": time_in_process, "agg": agg, "pred": pred,
                         "out": args.out / "profiled"}, str(args.profile))
    result = {
        "sizes": sizes,
        "command": " ".join(["hunt-clusters", *cli_args]),
        "cli_seconds_best": min(w for w, _ in cli), "cli_cpu_seconds_best": min(c for _, c in cli),
        "cli_seconds": [w for w, _ in cli], "cli_cpu_seconds": [c for _, c in cli],
        "cli_100_subjects_seconds_best": min(w for w, _ in fixed),
        "cli_100_subjects_cpu_seconds_best": min(c for _, c in fixed),
        "cli_100_subjects_seconds": [w for w, _ in fixed], "cli_100_subjects_cpu_seconds": [c for _, c in fixed],
        "help_seconds_best (retire --help)": min(startup), "help_seconds": startup,
        "in_process_best": min(in_process, key=lambda r: r["total"]), "in_process": in_process,
        "cli_and_in_process_same_decisions": bool(same),
        "retire_imports_tensorflow": imports_tensorflow(cli_args, args.out / "retire"),
        "hunt_clusters": str(Path(hunt_clusters.__file__).parent),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    (args.out / "bench_retire.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
