"""Replay a survey's votes under retirement policies: classifications spent against accuracy (a start).

The votes of each subject are taken in time order (a real export's recorded order, or the order a
mock crowd drew them in, `crowd_votes`); a policy consumes each subject's votes one at a time and
stops where it retires the subject. On a real export a policy can only stop earlier than the recorded
votes did; a mock crowd draws as many as asked.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .. import CLUSTER_CLASSES
from .._errors import InputError
from ..consensus import MajorityVote
from ._decide import RetireConfig, decide

log = logging.getLogger(__name__)

#: Kinds of policy `replay` knows.
POLICY_KINDS: tuple[str, ...] = ("count", "swap", "swap-cnn", "cnn")

#: Columns of the policies table.
POLICY_COLUMNS: tuple[str, ...] = ("policy", "kind", "classifications", "accuracy", "completeness", "purity",
                                   "to_experts", "n_subjects")


@dataclass(frozen=True)
class Policy:
    """A retirement policy.

    Attributes
    ----------
    name : str
        Its name in the tables.
    kind : {"count", "swap", "swap-cnn", "cnn"}
        ``count``: every subject gets ``count`` votes and the plain consensus (`MajorityVote`)
        labels it, Panoptes' ``classification_count`` retirement. ``swap``: `decide` without the
        CNN at all (SWAP alone: no CNN prior, no disagreement or spread rule); ``swap-cnn``:
        `decide` with the CNN's predictions as prior. ``cnn``: the CNN alone retires every subject
        it is at least ``confidence`` sure of (``max(p, 1 - p) >= confidence``) before any volunteer
        sees it; the others get ``count`` votes and the plain consensus, as ``count``.
    count : int
        Votes per subject of a ``count`` policy, and the most any policy gives a subject.
    config : RetireConfig
        The thresholds of a ``swap`` / ``swap-cnn`` policy (``max_votes`` is set to ``count``).
    confidence : float
        The ``cnn`` policy's confidence, in [0.5, 1] (0.5: the CNN labels every subject it scored).
    """

    name: str
    kind: str
    count: int = 20
    config: RetireConfig = field(default_factory=RetireConfig)
    confidence: float = 0.9

    def __post_init__(self) -> None:
        if self.kind not in POLICY_KINDS:
            raise InputError(f"policy {self.name!r}: kind {self.kind!r} unknown; valid: {', '.join(POLICY_KINDS)}")
        if self.count < 1:
            raise InputError(f"policy {self.name!r}: count {self.count} must be at least 1")
        if not 0.5 <= self.confidence <= 1:
            raise InputError(f"policy {self.name!r}: confidence {self.confidence} must be between 0.5 and 1")


@dataclass(frozen=True)
class ReplayResult:
    """What `replay` measured.

    Attributes
    ----------
    policies : pandas.DataFrame
        One row per policy: `POLICY_COLUMNS` (accuracy, completeness and purity of the final binary
        labels against the truth, on the subjects that have a truth; ``to_experts`` subjects keep
        their posterior's side).
    curves : pandas.DataFrame
        ``policy, step, classifications, accuracy``: after every step (one more vote for each
        subject not yet retired).
    labels : pandas.DataFrame
        ``policy, candidate_id, subject_id, n_votes, label, cluster, decision``: the final labels
        (``label``: the 5-class consensus of a count policy, the side otherwise).
    """

    policies: pd.DataFrame
    curves: pd.DataFrame
    labels: pd.DataFrame


def crowd_votes(crowd: object, n_per_subject: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n_per_subject`` classifications of every subject of a mock `VolunteerCrowd`, in rounds.

    Round ``r`` gives every subject its ``r``-th vote (``created_at`` increases with the round), so
    a policy that stops a subject after ``k`` votes sees exactly what a crowd asked for ``k``
    votes would have given: the votes of one subject are independent draws.

    Returns
    -------
    pandas.DataFrame
        A votes table: ``classification_id, subject_id, candidate_id, user, class, created_at``.
    """
    sids = np.asarray(crowd.subject_ids)  # type: ignore[attr-defined]
    cids = np.asarray(crowd.candidate_ids)  # type: ignore[attr-defined]
    ids = np.tile(sids, n_per_subject)
    answers, vol = crowd.classify(ids, rng, return_volunteers=True)  # type: ignore[attr-defined]
    t0 = pd.Timestamp("2020-01-01", tz="UTC")
    return pd.DataFrame({
        "classification_id": np.arange(1, ids.size + 1),
        "subject_id": ids,
        "candidate_id": np.tile(cids, n_per_subject),
        "user": np.asarray(crowd.user_name, dtype=object)[vol],  # type: ignore[attr-defined]
        "class": answers,
        "created_at": t0 + pd.to_timedelta(np.arange(ids.size), unit="s"),
    })


def _vote_order(votes: pd.DataFrame) -> np.ndarray:
    """Each row's position among its subject's votes (0 first), in time order where times are given."""
    order = votes.sort_values(["subject_id", "created_at"], kind="stable").index if "created_at" in votes.columns \
        else votes.sort_values("subject_id", kind="stable").index
    pos = pd.Series(0, index=votes.index)
    pos.loc[order] = votes.loc[order].groupby("subject_id", sort=False).cumcount().to_numpy()
    return pos.to_numpy()


def _scores(cluster: pd.Series, truth: pd.Series) -> dict[str, float]:
    both = cluster.index.intersection(truth.index)
    y, t = cluster.loc[both].astype(bool).to_numpy(), truth.loc[both].astype(bool).to_numpy()
    tp, fp, fn = int((y & t).sum()), int((y & ~t).sum()), int((~y & t).sum())
    return {"accuracy": float((y == t).mean()) if len(both) else float("nan"),
            "completeness": tp / (tp + fn) if tp + fn else float("nan"),
            "purity": tp / (tp + fp) if tp + fp else float("nan"), "n_subjects": int(len(both))}


def _curve_scores(cluster: pd.Series, truth: pd.Series) -> dict[str, float]:
    s = _scores(cluster, truth)
    return {k: s[k] for k in ("accuracy", "completeness", "purity")}


@contextlib.contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """The per-fit INFO lines of SWAP and `decide` (one per replay step) kept off the console."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


def _truth_series(truth: pd.Series) -> pd.Series:
    t = truth.copy()
    t.index = t.index.astype(str)
    if t.dtype == bool:
        return t
    return t.astype(str).isin(CLUSTER_CLASSES)


def _count_policy(votes: pd.DataFrame, pos: np.ndarray, t: pd.Series, pol: Policy,
                  predictions: pd.DataFrame | None) -> tuple[dict[str, object], list[dict[str, object]], pd.DataFrame]:
    """Count retirement, with the CNN first for a ``cnn`` policy: (policies row, curve rows, labels)."""
    cluster_classes = np.array(sorted(CLUSTER_CLASSES), dtype=object)
    cnn_side = pd.Series(dtype=bool)
    if pol.kind == "cnn":
        assert predictions is not None
        p = pd.Series(predictions["p_cluster"].to_numpy(dtype=np.float64),
                      index=predictions["candidate_id"].astype(str).to_numpy())
        sure = np.maximum(p, 1 - p) >= pol.confidence
        cnn_side = p[sure] > 0.5
    by_cnn = votes["candidate_id"].astype(str).isin(cnn_side.index).to_numpy()
    curves: list[dict[str, object]] = []
    for step in range(1, pol.count + 1):
        seen = votes[(pos < step) & ~by_cnn]
        lab = MajorityVote().fit(seen).labels_ if len(seen) else pd.DataFrame(
            {"candidate_id": pd.Series(dtype=object), "subject_id": pd.Series(dtype=np.int64),
             "n_votes": pd.Series(dtype=np.int64), "label": pd.Series(dtype=object)})
        crowd = pd.Series(np.isin(lab["label"].to_numpy(dtype=object), cluster_classes),
                          index=lab["candidate_id"].astype(str).to_numpy())
        cl = pd.concat([crowd, cnn_side[cnn_side.index.isin(votes["candidate_id"].astype(str))]])
        curves.append({"policy": pol.name, "step": step, "classifications": len(seen), **_curve_scores(cl, t)})
    row = {"policy": pol.name, "kind": pol.kind, "classifications": len(seen), **_scores(cl, t), "to_experts": 0}
    first = votes.drop_duplicates("subject_id")
    machine = first[by_cnn[first.index]]
    side = cnn_side.reindex(machine["candidate_id"].astype(str)).to_numpy(dtype=bool)
    labels = pd.concat([
        pd.DataFrame({"policy": pol.name, "candidate_id": lab["candidate_id"].astype(str),
                      "subject_id": lab["subject_id"], "n_votes": lab["n_votes"], "label": lab["label"],
                      "cluster": crowd.to_numpy(), "decision": "count"}),
        pd.DataFrame({"policy": pol.name, "candidate_id": machine["candidate_id"].astype(str).to_numpy(),
                      "subject_id": machine["subject_id"].to_numpy(), "n_votes": 0,
                      "label": np.where(side, "cluster", "non-cluster"), "cluster": side,
                      "decision": np.where(side, "retire-cluster", "retire-non-cluster")}),
    ], ignore_index=True)
    return row, curves, labels


def equal_accuracy(curves: pd.DataFrame, policies: pd.DataFrame, baseline: str) -> dict[str, dict[str, object]]:
    """Classifications at which each policy's curve first reaches the baseline's final accuracy.

    Returns ``{policy: {"classifications": int or None, "saving": float or None, "completeness":
    float or None, "completeness_change": float or None}}``: ``saving`` is the baseline's
    classifications over the policy's there (None where the curve never reaches it, or reaches it
    with no classification at all), ``completeness`` the policy's there and ``completeness_change``
    its difference from the baseline's final completeness (in fractions, not points).

    Examples
    --------
    >>> c = pd.DataFrame({"policy": ["n", "n", "m", "m"], "step": [1, 2, 1, 2],
    ...                   "classifications": [10, 20, 4, 5], "accuracy": [0.6, 0.8, 0.8, 0.7]})
    >>> p = pd.DataFrame({"policy": ["n", "m"], "classifications": [20, 5], "accuracy": [0.8, 0.7]})
    >>> equal_accuracy(c, p, "n")["m"]["classifications"], equal_accuracy(c, p, "n")["m"]["saving"]
    (4, 5.0)
    """
    base = policies.set_index("policy")
    if baseline not in base.index:
        raise InputError(f"baseline policy {baseline!r} is not among the policies ({', '.join(base.index)})")
    target, spent = float(base.loc[baseline, "accuracy"]), float(base.loc[baseline, "classifications"])
    out: dict[str, dict[str, object]] = {}
    for name, c in curves.groupby("policy", sort=False):
        reached = c[c["accuracy"] >= target - 1e-12].sort_values("step")
        n = int(reached["classifications"].iloc[0]) if len(reached) else None
        comp = float(reached["completeness"].iloc[0]) if len(reached) and "completeness" in c else None
        base_comp = float(base.loc[baseline, "completeness"]) if "completeness" in base else None
        # a curve at 0 classifications (the CNN alone) has no finite saving: None, with classifications 0
        out[str(name)] = {"classifications": n, "saving": spent / n if n else None, "completeness": comp,
                          "completeness_change": comp - base_comp if comp is not None and base_comp is not None
                          else None}
    return out


def replay(
    votes: pd.DataFrame,
    truth: pd.Series,
    policies: Sequence[Policy],
    *,
    predictions: pd.DataFrame | None = None,
    gold: pd.Series | pd.DataFrame | None = None,
) -> ReplayResult:
    """Run retirement policies side by side on the same votes.

    Parameters
    ----------
    votes : pandas.DataFrame
        The votes (``subject_id, candidate_id, user, class``, and ``created_at`` for the order).
    truth : pandas.Series
        ``candidate_id ->`` the true class (or a bool: cluster) of the subjects to score.
    policies : sequence of Policy
    predictions : pandas.DataFrame, optional
        The CNN's predictions (for ``swap-cnn``).
    gold : optional
        Gold labels from which SWAP learns the skills (from the votes each policy has consumed).

    Returns
    -------
    ReplayResult
    """
    if not policies:
        raise InputError("replay: give at least one policy")
    votes = votes.reset_index(drop=True)
    pos = _vote_order(votes)
    t = _truth_series(truth)
    rows: list[dict[str, object]] = []
    curves: list[dict[str, object]] = []
    labels: list[pd.DataFrame] = []
    with _quiet("hunt_clusters.retire._decide", "hunt_clusters.consensus"):
        for pol in policies:
            _one(pol, votes, pos, t, predictions, gold, rows, curves, labels)
    return ReplayResult(pd.DataFrame(rows, columns=list(POLICY_COLUMNS)), pd.DataFrame(curves),
                        pd.concat(labels, ignore_index=True))


def _one(pol: Policy, votes: pd.DataFrame, pos: np.ndarray, t: pd.Series, predictions: pd.DataFrame | None,
         gold: pd.Series | pd.DataFrame | None, rows: list[dict[str, object]], curves: list[dict[str, object]],
         labels: list[pd.DataFrame]) -> None:
    """Replay one policy, appending its row, curve and labels."""
    if pol.kind in ("swap-cnn", "cnn") and predictions is None:
        raise InputError(f"policy {pol.name!r} uses the CNN: give the predictions")
    if pol.kind in ("count", "cnn"):
        rows_, curves_, labels_ = _count_policy(votes, pos, t, pol, predictions)
        rows.append(rows_)
        curves.extend(curves_)
        labels.append(labels_)
        return
    cfg = replace(pol.config, max_votes=pol.count, cnn_prior=pol.kind == "swap-cnn")
    subjects = pd.Index(votes["subject_id"].unique())
    budget = pd.Series(0, index=subjects)
    open_ = pd.Series(True, index=subjects)
    n_avail = votes.groupby("subject_id").size().reindex(subjects).to_numpy()
    for step in range(1, pol.count + 1):
        budget[open_] = np.minimum(step, n_avail[open_.to_numpy()])
        seen = votes[pos < budget.reindex(votes["subject_id"]).to_numpy()]
        d = decide(seen, predictions if pol.kind == "swap-cnn" else None, gold=gold, config=cfg)
        dd = d[d["subject_id"].notna()].copy()
        dd["subject_id"] = dd["subject_id"].astype(np.int64)
        dd = dd.set_index("subject_id").reindex(subjects)
        done = dd["decision"].ne("more-eyes").to_numpy() | (budget.to_numpy() >= n_avail)
        open_ = open_ & ~done
        cl = pd.Series((dd["p_posterior"] > 0.5).to_numpy(), index=dd["candidate_id"].astype(str).to_numpy())
        curves.append({"policy": pol.name, "step": step, "classifications": len(seen), **_curve_scores(cl, t)})
        if not open_.any():
            break
    rows.append({"policy": pol.name, "kind": pol.kind, "classifications": len(seen), **_scores(cl, t),
                 "to_experts": int((dd["decision"] == "experts").sum())})
    labels.append(pd.DataFrame({"policy": pol.name, "candidate_id": dd["candidate_id"].astype(str).to_numpy(),
                                "subject_id": subjects.to_numpy(), "n_votes": dd["n_votes"].to_numpy(),
                                "label": np.where(cl.to_numpy(), "cluster", "non-cluster"),
                                "cluster": cl.to_numpy(), "decision": dd["decision"].to_numpy()}))
    log.info("%s: %d classifications", pol.name, len(seen))


__all__ = ["POLICY_COLUMNS", "POLICY_KINDS", "Policy", "ReplayResult", "crowd_votes", "equal_accuracy", "replay"]
