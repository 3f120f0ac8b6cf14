"""Time the consensus methods on 10^6 votes over 10^5 subjects (not run by CI).

    python benchmarks/bench_consensus.py [--votes 1000000] [--subjects 100000] [--users 20000]

Anchors, printed beside our figures with the ratio:

- majority: panoptes_aggregation's ``question_consensus_reducer`` (the reference plurality
  reducer, called per subject on its extract dicts, without its CSV reading), timed on a sample
  of subjects and scaled to all of them;
- Dawid-Skene: the target of issue 5 ("10^6 votes in a few seconds": 5 s), and a per-vote Python
  loop of one EM iteration timed on a sample and scaled;
- SWAP: the Space Warps update applied one vote at a time in Python (as the original
  ``agent.py``/``subject.py`` do), timed on a sample and scaled.

The crowd is synthetic: volunteers with heavy-tailed activity (a few classify thousands, most
a handful) and per-volunteer accuracy between 0.2 and 0.95; 20 % of subjects have gold labels.
Accuracies against the truth are printed too.

With ``--mock DIR`` it instead scores the methods against ``true_class`` on a mock survey whose
export was written by ``simulate-volunteers`` (``DIR/candidates.ecsv``, ``DIR/classifications.csv``,
``DIR/workflows.csv``), with the expert classes as gold for the skill-aware methods:

    hunt-clusters simulate --out mock
    hunt-clusters render mock/candidates.ecsv --out sets/mock
    hunt-clusters simulate-volunteers sets/mock --catalogue mock/candidates.ecsv \
        --out mock/classifications.csv --workflows-out mock/workflows.csv --seed 1
    python benchmarks/bench_consensus.py --mock mock
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd
from panoptes_aggregation.reducers.question_consensus_reducer import question_consensus_reducer

from hunt_clusters import CLASSES, CLUSTER_CLASSES
from hunt_clusters.consensus import SWAP, DawidSkene, MajorityVote, compare_with_experts


def make_votes(n_votes: int, n_subjects: int, n_users: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    k = len(CLASSES)
    truth = rng.choice(k, size=n_subjects, p=[0.25, 0.15, 0.25, 0.25, 0.10])
    weight = 1.0 / np.arange(1, n_users + 1) ** 1.1          # Zipf-like activity
    users = rng.choice(n_users, size=n_votes, p=weight / weight.sum())
    acc = rng.uniform(0.2, 0.95, n_users)
    subj = rng.integers(0, n_subjects, n_votes)
    right = rng.random(n_votes) < acc[users]
    answer = np.where(right, truth[subj], (truth[subj] + rng.integers(1, k, n_votes)) % k)
    cand = np.array([f"XC-{i:06d}" for i in range(n_subjects)], dtype=object)
    user_names = np.array([f"volunteer{i}" for i in range(n_users)], dtype=object)
    votes = pd.DataFrame({
        "candidate_id": cand[subj],
        "subject_id": 50_000_000 + subj,
        "user": user_names[users],
        "class": np.asarray(CLASSES, dtype=object)[answer],
        "created_at": pd.Timestamp("2019-01-01", tz="UTC") + pd.to_timedelta(rng.permutation(n_votes), unit="s"),
        "expert": False,
        "gold_standard": False,
    })
    return votes, pd.Series(np.asarray(CLASSES, dtype=object)[truth], index=pd.Index(cand, name="candidate_id"))


def timed(fn, repeat: int = 1) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def anchor_panoptes_majority(votes: pd.DataFrame, n_sample: int) -> float:
    """Seconds for question_consensus_reducer over all subjects, scaled from a sample."""
    subjects = votes["subject_id"].unique()[:n_sample]
    sample = votes[votes["subject_id"].isin(subjects)].sort_values("created_at")
    groups = [[{c: 1} for c in g] for _, g in sample.groupby("subject_id")["class"]]
    t0 = time.perf_counter()
    for g in groups:
        question_consensus_reducer._original(g)
    dt = time.perf_counter() - t0
    return dt * votes["subject_id"].nunique() / len(groups)


def anchor_loop_em_iteration(votes: pd.DataFrame, n_sample: int) -> float:
    """Seconds for one EM iteration (E + M step) written as a per-vote Python loop, scaled."""
    k = len(CLASSES)
    sample = votes.iloc[:n_sample]
    s = pd.factorize(sample["subject_id"])[0]
    u = pd.factorize(sample["user"])[0]
    c = pd.Categorical(sample["class"], categories=list(CLASSES)).codes
    post = np.full((s.max() + 1, k), 1.0 / k).tolist()
    pi = np.full((u.max() + 1, k, k), 1.0 / k).tolist()
    t0 = time.perf_counter()
    counts = [[[0.0] * k for _ in range(k)] for _ in range(u.max() + 1)]
    for si, ui, ci in zip(s.tolist(), u.tolist(), c.tolist()):
        p = post[si]
        row = counts[ui]
        for j in range(k):
            row[j][ci] += p[j]
    logp = [[0.0] * k for _ in range(s.max() + 1)]
    for si, ui, ci in zip(s.tolist(), u.tolist(), c.tolist()):
        lp = logp[si]
        m = pi[ui]
        for j in range(k):
            lp[j] += math.log(m[j][ci])
    dt = time.perf_counter() - t0
    return dt * len(votes) / n_sample


def anchor_swap_loop(votes: pd.DataFrame, n_sample: int, p_l: dict[str, float], p_d: dict[str, float],
                     prior: float) -> float:
    """Seconds for the Space Warps per-vote update over all votes, scaled from a sample."""
    sample = votes.iloc[:n_sample].sort_values("created_at")
    cluster = sample["class"].isin(CLUSTER_CLASSES).tolist()
    subj = sample["subject_id"].tolist()
    users = sample["user"].tolist()
    t0 = time.perf_counter()
    post: dict[int, float] = {}
    for s, usr, yes in zip(subj, users, cluster):
        p = post.get(s, prior)
        pl, pd_ = p_l[usr], p_d[usr]
        if yes:
            p = pl * p / (pl * p + (1 - pd_) * (1 - p))
        else:
            p = (1 - pl) * p / ((1 - pl) * p + pd_ * (1 - p))
        post[s] = max(p, 2e-8)
    dt = time.perf_counter() - t0
    return dt * len(votes) / n_sample


def score_mock(folder: str) -> None:
    """Accuracy against the mock's true_class: all subjects, and those without an expert label."""
    from pathlib import Path

    from astropy.table import Table

    from hunt_clusters.classifications import ReadOptions, read_export, read_workflows_export
    from hunt_clusters.workflow import load_workflow

    root = Path(folder)
    res = read_export(root / "classifications.csv", ReadOptions(), workflow=load_workflow(),
                      version_labels=read_workflows_export(root / "workflows.csv", "T0"))
    votes = res.votes
    cat = Table.read(root / "candidates.ecsv").to_pandas()
    cat["candidate_id"] = cat["candidate_id"].astype(str)
    truth = cat.set_index("candidate_id")["true_class"].astype(str)
    exp = cat.set_index("candidate_id")["expert_class"]
    exp = exp[exp.notna() & (exp.astype(str).str.strip() != "")].astype(str)
    gold = exp[exp.index.isin(votes["candidate_id"])]
    print(f"{len(votes):,} votes on {votes['subject_id'].nunique():,} subjects by {votes['user'].nunique():,} "
          f"volunteers; {len(gold):,} subjects with an expert class (gold); experts vs truth "
          f"{100 * (exp == truth.reindex(exp.index)).mean():.1f} %")
    print(f"{'method':<42}{'all 5-cl.':>10}{'binary':>8}{'non-gold 5-cl.':>16}{'binary':>8}")
    for name, est, g in (("majority", MajorityVote(), None), ("dawid-skene", DawidSkene(), None),
                         ("dawid-skene + gold", DawidSkene(), gold), ("swap + gold", SWAP(), gold),
                         ("dawid-skene classic (a=1, no shrinkage)", DawidSkene(smoothing=1, shrinkage=0), None)):
        lab = est.fit(votes, g).labels_.dropna(subset=["label"]).set_index("candidate_id")
        out = []
        for part in (lab, lab[~lab.index.isin(gold.index)]):
            t = truth.reindex(part.index)
            out += [100 * (part["label"] == t).mean(),
                    100 * ((part["p_cluster"] >= 0.5) == t.isin(CLUSTER_CLASSES)).mean()]
        print(f"{name:<42}{out[0]:>9.1f}%{out[1]:>7.1f}%{out[2]:>15.1f}%{out[3]:>7.1f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--votes", type=int, default=1_000_000)
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--mock", metavar="DIR", help="score the methods on a mock survey folder instead")
    args = ap.parse_args()
    if args.mock:
        score_mock(args.mock)
        return

    t_gen, (votes, truth) = timed(lambda: make_votes(args.votes, args.subjects, args.users))
    gold = truth.sample(frac=0.2, random_state=1)
    test = truth.drop(gold.index)
    print(f"{len(votes):,} votes, {votes['subject_id'].nunique():,} subjects, "
          f"{votes['user'].nunique():,} volunteers (generated in {t_gen:.1f} s)")

    rows = []
    t_mv, mv = timed(lambda: MajorityVote().fit(votes), args.repeat)
    rows.append(("majority", t_mv, anchor_panoptes_majority(votes, 5000),
                 "panoptes_aggregation question_consensus_reducer"))
    t_ds, ds = timed(lambda: DawidSkene().fit(votes), args.repeat)
    loop_iter = anchor_loop_em_iteration(votes, 100_000)
    rows.append(("dawid-skene", t_ds, 5.0, "issue 5 target: a few seconds"))
    rows.append((f"  per iteration ({ds.n_iter_} it.)", t_ds / ds.n_iter_, loop_iter,
                 "one EM iteration as a per-vote Python loop"))
    t_dsg, dsg = timed(lambda: DawidSkene().fit(votes, gold), args.repeat)
    rows.append(("dawid-skene + gold", t_dsg, 5.0, "issue 5 target: a few seconds"))
    t_sw, sw = timed(lambda: SWAP().fit(votes, gold), args.repeat)
    sk = sw.skills_
    rows.append(("swap + gold", t_sw,
                 anchor_swap_loop(votes, 200_000, sk["P_L"].to_dict(), sk["P_D"].to_dict(), sw.prior_),
                 "Space Warps per-vote update loop (posterior only)"))

    print(f"\n{'method':<26}{'ours (s)':>10}{'anchor (s)':>12}{'anchor/ours':>13}  anchor")
    for name, ours, anchor, what in rows:
        print(f"{name:<26}{ours:>10.3f}{anchor:>12.3f}{anchor / ours:>12.1f}x  {what}")

    print(f"\naccuracy on the {len(test):,} non-gold subjects (truth known):")
    print(f"{'method':<22}{'5-class':>9}{'binary':>9}")
    for name, est in (("majority", mv), ("dawid-skene", ds), ("dawid-skene + gold", dsg), ("swap + gold", sw)):
        m = compare_with_experts(est.labels_, test)
        print(f"{name:<22}{100 * m['accuracy']:>8.1f}%{100 * m['binary_accuracy']:>8.1f}%")


if __name__ == "__main__":
    main()
