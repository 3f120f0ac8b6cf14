"""SWAP (Marshall et al. 2016): a Bayesian cluster / non-cluster posterior per subject."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import CLASSES, CLUSTER_CLASSES
from .._errors import InputError
from ._base import ConsensusEstimator, check_tie_break, plurality
from ._votes import EncodedVotes, parse_gold

log = logging.getLogger(__name__)


def agent_information(p_l: np.ndarray | float, p_d: np.ndarray | float) -> np.ndarray:
    """Information (bits) a SWAP agent with skills ``P_L``, ``P_D`` contributes per vote.

    ``I = ½ [P_D log₂ P_D + (1−P_D) log₂(1−P_D) + P_L log₂ P_L + (1−P_L) log₂(1−P_L) + 2]``
    (Marshall et al. 2016): 0 for a random classifier (0.5, 0.5), 1 for a perfect one.

    Examples
    --------
    >>> float(agent_information(0.5, 0.5)), float(agent_information(1.0, 1.0))
    (0.0, 1.0)
    """
    def h(p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = p * np.log2(p) + (1 - p) * np.log2(1 - p)
        return np.where((p <= 0) | (p >= 1), 0.0, out)

    return 0.5 * (h(np.asarray(p_d)) + h(np.asarray(p_l)) + 2.0)


class SWAP(ConsensusEstimator):
    """Space Warps Analysis Pipeline: volunteer skills from gold subjects, Bayesian posteriors.

    The question is binary: cluster (a vote for a class in ``cluster_classes``) or not.
    Each volunteer ("agent") has ``P_L = P("cluster" | cluster)`` and
    ``P_D = P("not" | not cluster)``, learned from the gold (expert-classified) subjects they saw
    as in Space Warps: starting from ``initial`` with pseudo-count ``pseudo_count`` (0.5 and 2),

        ``P_L = (initial * N0 + #correct on gold clusters) / (N0 + #gold clusters seen)``

    (likewise ``P_D`` on gold non-clusters), capped at ``cap`` (0.99). Space Warps updates these
    after every training subject and caps at every step; this closed form caps once at the end
    (the same unless the cap is reached). Volunteers who saw no gold subject keep ``initial``:
    with the default 0.5 their votes carry no information, exactly as in SWAP.

    A subject's posterior after a vote is Bayes' rule,
    ``"cluster": p <- P_L p / [P_L p + (1-P_D)(1-p)]``,
    ``"not": p <- (1-P_L) p / [(1-P_L) p + P_D (1-p)]``. In log-odds each vote adds its
    log-likelihood ratio, so with the skills fixed the posterior after all votes is
    ``logit(prior) + sum of the votes' log-likelihood ratios``: the order of the votes does not
    matter for the final value, and it is computed in one vectorised pass. (Space Warps applied
    the votes in time order with the skills of that moment, floored p at 2e-8, and averaged over
    Beta-sampled skills; here every vote uses the final skills.)

    Parameters
    ----------
    prior : float, optional
        Prior probability that a subject is a cluster. Default: the (Laplace-smoothed) fraction
        of clusters among the gold subjects, ``(1 + n_cluster) / (2 + n_gold)``, which is 0.5
        without gold. Space Warps used 2e-4, the rate of lenses; cluster candidate lists are a
        good fraction clusters, so that value does not suit them.
    threshold : float
        ``p_cluster > threshold`` puts a subject on the cluster side, ``<`` on the non-cluster side
        (default 0.5); exactly at the threshold (no evidence either way, as when no volunteer has
        seen a gold subject) the side at least half the votes are on.
    initial, pseudo_count, cap : float
        ``P_L`` and ``P_D`` before any gold subject (0.5), its weight in subjects (2), and the
        largest value a skill may take (0.99).
    tie_break : {"first-vote", "class-order"}
        Tie rule of the within-side plurality that picks the 5-class label (see `MajorityVote`).
    classes, cluster_classes : sequence of str
        The classes in order and those that count as a cluster.
    include_experts : bool
        Count expert-flagged rows of the votes table as votes (default: ignore them).

    Attributes
    ----------
    labels_ : pandas.DataFrame
        The labels table; ``p_cluster`` = the SWAP posterior; ``label`` = the most voted class on
        the side SWAP chose (a cluster class if ``p_cluster > threshold``, else a non-cluster
        class; see ``threshold``; if no vote fell on that side, the first class of that side in
        ``classes``);
        ``frac_<class>`` are the vote fractions and ``agreement`` the fraction for ``label``.
    probas_ : pandas.DataFrame
        Columns ``cluster`` and ``non-cluster`` per subject.
    skills_ : pandas.DataFrame
        Indexed by user: ``skill = (P_L + P_D) / 2``, ``P_L``, ``P_D``, ``n_seen_L``, ``n_seen_D``
        (gold clusters / non-clusters seen), ``n_seen``, and ``information`` (bits per vote,
        see `agent_information`).
    volunteers_ : pandas.DataFrame
        ``user, n_classifications`` and the columns of ``skills_``.
    prior_ : float
        The prior used.
    log_odds_ : pandas.Series
        Posterior log-odds per subject.
    counts_ : dict
        Rows read and ignored (see `encode_votes`), plus ``gold``.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({
    ...     "subject_id": [1, 1, 2, 2, 3, 3],
    ...     "candidate_id": ["A", "A", "B", "B", "C", "C"],
    ...     "user": ["ann", "bob"] * 3,
    ...     "class": ["low-z", "point", "galaxy", "galaxy", "hi-z", "other"]})
    >>> gold = pd.Series({"A": "low-z", "B": "galaxy"})
    >>> swap = SWAP().fit(votes, gold)
    >>> swap.skills_[["P_L", "P_D"]].round(4).values.tolist()
    [[0.6667, 0.6667], [0.3333, 0.6667]]
    >>> swap.labels_.set_index("candidate_id").loc["C", "label"]
    'hi-z'
    """

    method = "swap"

    def __init__(self, *, prior: float | None = None, threshold: float = 0.5, initial: float = 0.5,
                 pseudo_count: float = 2.0, cap: float = 0.99, tie_break: str = "first-vote",
                 classes: Sequence[str] = CLASSES,
                 cluster_classes: Sequence[str] | frozenset[str] = CLUSTER_CLASSES,
                 include_experts: bool = False) -> None:
        super().__init__(classes=classes, cluster_classes=cluster_classes, include_experts=include_experts)
        if prior is not None and not 0 < prior < 1:
            raise InputError(f"SWAP prior must be strictly between 0 and 1, not {prior!r}")
        if not 0 < threshold < 1:
            raise InputError(f"SWAP threshold must be strictly between 0 and 1, not {threshold!r}")
        if not 0 < initial < 1:
            raise InputError(f"SWAP initial skill must be strictly between 0 and 1, not {initial!r}")
        if not pseudo_count > 0:
            raise InputError(f"SWAP pseudo_count must be positive, not {pseudo_count!r}")
        if not initial <= cap < 1:
            raise InputError(f"SWAP cap must be at least the initial skill and below 1, not {cap!r}")
        self.prior = prior
        self.threshold = threshold
        self.initial = initial
        self.pseudo_count = pseudo_count
        self.cap = cap
        self.tie_break = check_tie_break(tie_break)

    def _params(self) -> dict[str, Any]:
        return {"prior": self.prior, "threshold": self.threshold, "initial": self.initial,
                "pseudo_count": self.pseudo_count, "cap": self.cap, "tie_break": self.tie_break}

    def _fit_encoded(self, enc: EncodedVotes, gold: pd.Series | pd.DataFrame | None) -> None:
        is_cluster_class = self._cluster()
        gold_codes = parse_gold(gold, enc)
        has_gold = gold_codes >= 0
        gold_cluster = is_cluster_class[np.maximum(gold_codes, 0)] & has_gold
        vote_cluster = is_cluster_class[enc.klass]
        u, nu = enc.user, max(enc.n_users, 1)

        # Skills from the votes on gold subjects.
        on_l = gold_cluster[enc.subject]
        on_d = has_gold[enc.subject] & ~on_l
        n_seen_l = np.bincount(u, weights=on_l, minlength=nu)
        n_seen_d = np.bincount(u, weights=on_d, minlength=nu)
        ok_l = np.bincount(u, weights=on_l & vote_cluster, minlength=nu)
        ok_d = np.bincount(u, weights=on_d & ~vote_cluster, minlength=nu)
        n0, p0 = self.pseudo_count, self.initial
        p_l = np.minimum(self.cap, (p0 * n0 + ok_l) / (n0 + n_seen_l))
        p_d = np.minimum(self.cap, (p0 * n0 + ok_d) / (n0 + n_seen_d))

        # Prior and posterior log-odds.
        n_gold = int(has_gold.sum())
        if self.prior is not None:
            prior = float(self.prior)
        else:
            prior = (1.0 + float(gold_cluster.sum())) / (2.0 + n_gold)
        if n_gold == 0:
            log.warning("SWAP without gold subjects: every volunteer keeps P_L = P_D = %g", p0)
        llr_yes = np.log(p_l) - np.log1p(-p_d)       # vote "cluster"
        llr_no = np.log1p(-p_l) - np.log(p_d)        # vote "not"
        llr = np.where(vote_cluster, llr_yes[u], llr_no[u])
        log_odds = np.log(prior) - np.log1p(-prior) + np.bincount(
            enc.subject, weights=llr, minlength=enc.n_subjects)
        from scipy.special import expit  # here: scipy.special costs ~0.1 s of start-up

        p_cluster = expit(log_odds)

        counts = enc.vote_counts()
        voted = counts.sum(axis=1) > 0
        # cluster side above the threshold; exactly at it (no evidence, e.g. no gold) follow the votes
        vote_side = counts[:, is_cluster_class].sum(axis=1) * 2 >= counts.sum(axis=1)
        side = np.where(p_cluster == self.threshold, vote_side, p_cluster > self.threshold)
        allowed = np.where(side[:, None], is_cluster_class[None, :], ~is_cluster_class[None, :])
        label = plurality(enc, counts, allowed=allowed, tie_break=self.tie_break)
        self._set_labels(enc, label, p_cluster)
        p = np.where(voted, p_cluster, np.nan)
        self.probas_ = pd.DataFrame({"cluster": p, "non-cluster": 1.0 - p}, index=enc.subjects)
        self.log_odds_ = pd.Series(np.where(voted, log_odds, np.nan), index=enc.subjects, name="log_odds")
        self.prior_ = prior
        n = enc.n_users
        self._set_volunteers(enc, pd.DataFrame({
            "skill": (p_l[:n] + p_d[:n]) / 2.0,
            "P_L": p_l[:n],
            "P_D": p_d[:n],
            "n_seen_L": n_seen_l[:n].astype(np.int64),
            "n_seen_D": n_seen_d[:n].astype(np.int64),
            "n_seen": (n_seen_l[:n] + n_seen_d[:n]).astype(np.int64),
            "information": agent_information(p_l[:n], p_d[:n]),
        }))
        self.counts_["gold"] = n_gold


__all__ = ["SWAP", "agent_information"]
