"""Replay a survey's votes under retirement policies: classifications spent against accuracy (a start).

The votes of each subject are taken in time order (a real export's recorded order, or the order a
mock crowd drew them in, `crowd_votes`); a policy consumes each subject's votes one at a time and
stops where it retires the subject. On a real export a policy can only stop earlier than the recorded
votes did; a mock crowd draws as many as asked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .. import CLUSTER_CLASSES
from .._errors import InputError
from ..consensus import MajorityVote
from ._decide import RetireConfig, decide

log = logging.getLogger(__name__)

#: Kinds of policy `replay` knows.
POLICY_KINDS: tuple[str, ...] = ("count", "swap", "swap-cnn")

#: Columns of the policies table.
POLICY_COLUMNS: tuple[str, ...] = ("policy", "classifications", "accuracy", "completeness", "purity", "to_experts",
                                   "n_subjects")


@dataclass(frozen=True)
class Policy:
    """A retirement policy.

    Attributes
    ----------
    name : str
        Its name in the tables.
    kind : {"count", "swap", "swap-cnn"}
        ``count``: every subject gets ``count`` votes and the plain consensus (`MajorityVote`)
        labels it, Panoptes' ``classification_count`` retirement. ``swap``: `decide` without the
        CNN at all (SWAP alone: no CNN prior, no disagreement or spread rule); ``swap-cnn``:
        `decide` with the CNN's predictions as prior.
    count : int
        Votes per subject of a ``count`` policy, and the most any policy gives a subject.
    config : RetireConfig
        The thresholds of a ``swap`` / ``swap-cnn`` policy (``max_votes`` is set to ``count``).
    """

    name: str
    kind: str
    count: int = 20
    config: RetireConfig = field(default_factory=RetireConfig)

    def __post_init__(self) -> None:
        if self.kind not in POLICY_KINDS:
            raise InputError(f"policy {self.name!r}: kind {self.kind!r} unknown; valid: {', '.join(POLICY_KINDS)}")
        if self.count < 1:
            raise InputError(f"policy {self.name!r}: count {self.count} must be at least 1")


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
    n = len(sids)
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


def _truth_series(truth: pd.Series) -> pd.Series:
    t = truth.copy()
    t.index = t.index.astype(str)
    if t.dtype == bool:
        return t
    return t.astype(str).isin(CLUSTER_CLASSES)


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
    cluster_classes = np.array(sorted(CLUSTER_CLASSES), dtype=object)
    rows, curves, labels = [], [], []
    for pol in policies:
        if pol.kind == "swap-cnn" and predictions is None:
            raise InputError(f"policy {pol.name!r} uses the CNN: give the predictions")
        if pol.kind == "count":
            for step in range(1, pol.count + 1):
                seen = votes[pos < step]
                lab = MajorityVote().fit(seen).labels_
                cl = pd.Series(np.isin(lab["label"].to_numpy(dtype=object), cluster_classes),
                               index=lab["candidate_id"].astype(str).to_numpy())
                curves.append({"policy": pol.name, "step": step, "classifications": len(seen),
                               **{k: v for k, v in _scores(cl, t).items() if k == "accuracy"}})
            rows.append({"policy": pol.name, "classifications": len(seen), **_scores(cl, t), "to_experts": 0})
            labels.append(pd.DataFrame({"policy": pol.name, "candidate_id": lab["candidate_id"].astype(str),
                                        "subject_id": lab["subject_id"], "n_votes": lab["n_votes"],
                                        "label": lab["label"], "cluster": cl.to_numpy(), "decision": "count"}))
            continue
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
            curves.append({"policy": pol.name, "step": step, "classifications": len(seen),
                           "accuracy": _scores(cl, t)["accuracy"]})
            if not open_.any():
                break
        rows.append({"policy": pol.name, "classifications": len(seen), **_scores(cl, t),
                     "to_experts": int((dd["decision"] == "experts").sum())})
        labels.append(pd.DataFrame({"policy": pol.name, "candidate_id": dd["candidate_id"].astype(str).to_numpy(),
                                    "subject_id": subjects.to_numpy(), "n_votes": dd["n_votes"].to_numpy(),
                                    "label": np.where(cl.to_numpy(), "cluster", "non-cluster"),
                                    "cluster": cl.to_numpy(), "decision": dd["decision"].to_numpy()}))
        log.info("%s: %d classifications", pol.name, len(seen))
    return ReplayResult(pd.DataFrame(rows, columns=list(POLICY_COLUMNS)), pd.DataFrame(curves),
                        pd.concat(labels, ignore_index=True))


__all__ = ["POLICY_COLUMNS", "POLICY_KINDS", "Policy", "ReplayResult", "crowd_votes", "replay"]
