"""Cross-fitting: consensus labels that no candidate's own expert label shaped.

A skill-aware method (SWAP, Dawid-Skene) given expert classes as gold learns the volunteers' skill
from them, and its label of a gold subject is (or leans to) the expert's own. Scored against the
experts on those subjects, it would be scored on what it was told. Cross-fitting (as in
double/debiased machine learning, Chernozhukov et al. 2018) splits the expert-labelled subjects
into ``k`` folds; the labels of fold ``f`` come from a fit whose gold is the other folds, so every
expert-labelled subject gets a label its own expert label did not shape and all of them can be
scored. The subjects without an expert label take their label from a fit with no gold at all: their
labels (the CNN's training labels) are shaped by no expert label of a held-out candidate.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ._base import ConsensusEstimator
from ._majority import MajorityVote
from ._votes import _missing, as_expert_series

log = logging.getLogger(__name__)

#: Default number of folds of `cross_fit`.
DEFAULT_FOLDS = 5


def assign_folds(candidate_ids: Any, n_folds: int, seed: int = 0) -> pd.Series:
    """A fold (``0 .. n_folds - 1``) per candidate: a shuffle of the sorted ids drawn with ``seed``,
    dealt round-robin, so fold sizes differ by at most one and depend on the ids and the seed only
    (never on a class).

    Examples
    --------
    >>> f = assign_folds(["c", "a", "b", "d", "e"], 2, seed=1)
    >>> sorted(f.index.tolist()), sorted(f.value_counts().tolist())
    (['a', 'b', 'c', 'd', 'e'], [2, 3])
    """
    if n_folds < 2:
        raise InputError(f"cross-fitting needs at least 2 folds, not {n_folds}")
    ids = np.sort(pd.unique(np.asarray(candidate_ids, dtype=object).astype(str)))
    order = np.random.default_rng(seed).permutation(len(ids))
    fold = np.empty(len(ids), dtype=np.int64)
    fold[order] = np.arange(len(ids)) % n_folds
    return pd.Series(fold, index=pd.Index(ids, name="candidate_id"), name="fold")


@dataclasses.dataclass(frozen=True)
class CrossFit:
    """The result of `cross_fit`.

    Attributes
    ----------
    labels : pandas.DataFrame
        The labels table (``docs/formats.md``) with two more columns: ``fold`` (the candidate's
        fold, -1 for a candidate without an expert label) and ``n_gold`` (the number of gold
        subjects of the fit its label comes from: 0 for the no-gold fit; the fit of fold ``f``
        had as gold every expert-labelled subject outside fold ``f``).
    volunteers : pandas.DataFrame
        The volunteers table of the fit of fold 0 (its gold: the other folds), or of the no-gold fit
        where there is no gold (it describes the volunteers; it labels nothing).
    counts : dict
        The no-gold fit's counts, with ``gold`` (the largest gold of any fit) and ``fits``.
    folds : pandas.DataFrame
        ``candidate_id, expert_class, fold`` of the expert-labelled candidates with votes (empty
        for a method that learns nothing from gold).
    """

    labels: pd.DataFrame
    volunteers: pd.DataFrame
    counts: dict[str, Any]
    folds: pd.DataFrame


def cross_fit(estimator: ConsensusEstimator, votes: pd.DataFrame, experts: pd.Series | pd.DataFrame | None, *,
              n_folds: int = DEFAULT_FOLDS, seed: int = 0) -> CrossFit:
    """Fit ``estimator`` so that no subject's label depends on that subject's expert class.

    Parameters
    ----------
    estimator : ConsensusEstimator
        Its settings are used; it is copied for each fit (``1 + n_folds`` fits for a method that
        learns from gold; one for `MajorityVote`, which ignores gold).
    votes : pandas.DataFrame
        The votes table.
    experts : pandas.Series or pandas.DataFrame or None
        Expert classes (see `parse_gold`); None or ``n_folds < 2``: one fit without gold.
    n_folds : int
        Number of folds of the expert-labelled subjects with votes.
    seed : int
        Seed of the fold assignment (`assign_folds`).

    Returns
    -------
    CrossFit

    Examples
    --------
    >>> import pandas as pd
    >>> from hunt_clusters.consensus import SWAP
    >>> votes = pd.DataFrame({"subject_id": [1, 1, 2, 2, 3, 3], "candidate_id": list("AABBCC"),
    ...                       "user": ["u", "v"] * 3, "class": ["low-z", "low-z", "point", "low-z",
    ...                       "galaxy", "galaxy"]})
    >>> cf = cross_fit(SWAP(), votes, pd.Series({"A": "low-z", "B": "point"}), n_folds=2)
    >>> cf.labels[["candidate_id", "fold", "n_gold"]].values.tolist()
    [['A', 0, 1], ['B', 1, 1], ['C', -1, 0]]
    """
    def fit(gold: pd.Series | None) -> ConsensusEstimator:
        return copy.deepcopy(estimator).fit(votes, gold=gold)

    base = fit(None)
    labels = base.labels_.copy()
    labels.insert(len(labels.columns), "fold", np.int64(-1))
    labels.insert(len(labels.columns), "n_gold", np.int64(0))
    counts = dict(base.counts_)
    empty = pd.DataFrame({"candidate_id": pd.Series(dtype=str), "expert_class": pd.Series(dtype=str),
                          "fold": pd.Series(dtype=np.int64)})
    if experts is None or n_folds < 2:
        return CrossFit(labels, base.volunteers_, {**counts, "gold": 0, "fits": 1}, empty)
    exp = as_expert_series(experts, name="experts")
    exp = exp[~_missing(exp)].astype(str)
    exp = exp[~exp.index.duplicated()]
    voted = pd.Index(labels.loc[labels["n_votes"] > 0, "candidate_id"].dropna().astype(str).unique())
    pool = exp[exp.index.isin(voted)].sort_index()
    if len(pool) < n_folds:
        log.info("%s: %d expert-labelled subjects with votes, fewer than %d folds: no gold", estimator.method,
                 len(pool), n_folds)
        return CrossFit(labels, base.volunteers_, {**counts, "gold": 0, "fits": 1}, empty)
    fold = assign_folds(pool.index, n_folds, seed)
    folds = pd.DataFrame({"candidate_id": pool.index.to_numpy(), "expert_class": pool.to_numpy(),
                          "fold": fold.reindex(pool.index).to_numpy()})
    cid = labels["candidate_id"].astype(str)
    labels["fold"] = fold.reindex(cid).fillna(-1).astype(np.int64).to_numpy()
    if isinstance(estimator, MajorityVote):  # learns nothing from gold: one fit labels every fold
        return CrossFit(labels, base.volunteers_, {**counts, "gold": 0, "fits": 1}, folds)
    n_gold = 0
    volunteers = base.volunteers_
    for f in range(n_folds):
        gold = pool[fold.reindex(pool.index).to_numpy() != f]
        est = fit(gold)
        if f == 0:
            volunteers = est.volunteers_
        rows = labels["fold"].to_numpy() == f
        theirs = est.labels_.set_index("subject_id").reindex(labels.loc[rows, "subject_id"])
        for col in base.labels_.columns:
            labels.loc[rows, col] = theirs[col].to_numpy() if col != "subject_id" else labels.loc[rows, col]
        labels.loc[rows, "n_gold"] = len(gold)
        n_gold = max(n_gold, len(gold))
    log.info("%s: cross-fitted over %d folds of %d expert-labelled subjects", estimator.method, n_folds, len(pool))
    return CrossFit(labels, volunteers, {**counts, "gold": n_gold, "fits": 1 + n_folds}, folds)


__all__ = ["DEFAULT_FOLDS", "CrossFit", "assign_folds", "cross_fit"]
