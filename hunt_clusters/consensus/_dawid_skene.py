"""Dawid-Skene: EM over per-volunteer confusion matrices, vectorised with sparse matrices."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import CLASSES, CLUSTER_CLASSES
from .._errors import InputError
from ._base import ConsensusEstimator
from ._votes import EncodedVotes, parse_gold

log = logging.getLogger(__name__)


class DawidSkene(ConsensusEstimator):
    """Dawid & Skene (1979): each volunteer has a confusion matrix; EM finds them and the classes.

    Volunteer ``u`` answers class ``c`` on a subject of true class ``k`` with probability
    ``pi[u, k, c]``; classes have priors ``rho[k]``. EM alternates

    - E-step: ``T[s, k] ∝ rho[k] * prod_{votes (u, c) on s} pi[u, k, c]`` (in logs), and
    - M-step: ``pi[u, k, c] ∝ n[u, k, c] + shrinkage * crowd[k, c] + alpha`` with the soft counts
      ``n[u, k, c] = sum over u's votes c on subjects s of T[s, k]``, and
      ``rho[k] ∝ alpha + sum_s T[s, k]``,

    starting from the majority-vote fractions, until the log-likelihood changes by less than
    ``tol`` (relative) or after ``max_iter`` iterations. Both steps are products of one sparse
    (subject x volunteer*class) count matrix with dense arrays, so 10^6 votes take about a
    second. Subjects with gold labels have their posteriors clamped to the gold class at every
    step, so that they teach the volunteers' confusion matrices.

    Two regularisers keep volunteers with few votes from being judged "perfect" or "random":
    Laplace smoothing ``alpha`` (``smoothing``) adds a pseudo-count to every cell, and
    ``shrinkage`` adds that many pseudo-votes to each row distributed like the crowd's pooled
    confusion matrix ``crowd`` (rows normalised), so that a newcomer behaves like the average
    volunteer until their own votes say otherwise (empirical-Bayes shrinkage, in the spirit of
    the community Dawid-Skene model of Venanzi et al. 2014). With ``shrinkage=0`` this is the
    classic model. On synthetic crowds where most volunteers classify a handful of subjects,
    shrinkage is what lets Dawid-Skene match or beat majority vote; with ``smoothing=1`` and
    no shrinkage, such crowds collapse to uniform posteriors.

    This is the model of crowd-kit's ``DawidSkene`` (Toloka), written here to avoid its
    dependencies (transformers, nltk); unlike crowd-kit it regularises the counts and takes
    gold labels.

    Parameters
    ----------
    max_iter : int
        Most EM iterations (default 100).
    tol : float
        Stop when the observed-data log-likelihood changes by less than ``tol`` times its
        absolute value (default 1e-5).
    smoothing : float
        Laplace pseudo-count ``alpha`` added to every cell of every confusion matrix and to the
        class counts of the priors (default 0.1).
    shrinkage : float
        Pseudo-votes per confusion-matrix row drawn toward the crowd's pooled confusion matrix
        (default 5; 0 for the classic model).
    classes, cluster_classes : sequence of str
        The classes in order and those that count as a cluster.
    include_experts : bool
        Count expert-flagged rows of the votes table as votes (default: ignore them).

    Attributes
    ----------
    labels_ : pandas.DataFrame
        The labels table; ``label`` = most probable class (ties: order of ``classes``),
        ``p_cluster`` = posterior of a cluster class, ``agreement`` = vote fraction of ``label``.
    probas_ : pandas.DataFrame
        Posterior class probabilities per subject (NaN for subjects without votes and gold).
    skills_ : pandas.DataFrame
        Indexed by user: ``skill`` = mean diagonal of the confusion matrix, and
        ``p_correct_<class>`` = its diagonal.
    volunteers_ : pandas.DataFrame
        ``user, n_classifications, skill, p_correct_<class>...``.
    confusion_matrices_ : numpy.ndarray
        ``(n_users, K, K)``: ``[u, true, answered]``; rows sum to 1.
    priors_ : pandas.Series
        Class priors.
    n_iter_, converged_, log_likelihood_
        Iterations run, whether ``tol`` was reached, and the final observed-data log-likelihood.
    counts_ : dict
        Rows read and ignored (see `encode_votes`), plus ``gold`` (subjects with a gold label).

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({
    ...     "subject_id": [1, 1, 1, 2, 2, 2],
    ...     "user": ["ann", "bob", "cat"] * 2,
    ...     "class": ["low-z", "low-z", "point", "galaxy", "galaxy", "galaxy"]})
    >>> ds = DawidSkene().fit(votes)
    >>> ds.labels_["label"].tolist()
    ['low-z', 'galaxy']
    >>> round(float(ds.probas_.loc[1, "low-z"]), 3) > 0.5
    True
    """

    method = "dawid-skene"

    def __init__(self, *, max_iter: int = 100, tol: float = 1e-5, smoothing: float = 0.1,
                 shrinkage: float = 5.0,
                 classes: Sequence[str] = CLASSES,
                 cluster_classes: Sequence[str] | frozenset[str] = CLUSTER_CLASSES,
                 include_experts: bool = False) -> None:
        super().__init__(classes=classes, cluster_classes=cluster_classes, include_experts=include_experts)
        if int(max_iter) < 1:
            raise InputError(f"Dawid-Skene max_iter must be at least 1, not {max_iter!r}")
        if not tol > 0:
            raise InputError(f"Dawid-Skene tol must be positive, not {tol!r}")
        if not smoothing >= 0:
            raise InputError(f"Dawid-Skene smoothing must be >= 0, not {smoothing!r}")
        if not shrinkage >= 0:
            raise InputError(f"Dawid-Skene shrinkage must be >= 0, not {shrinkage!r}")
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.smoothing = float(smoothing)
        self.shrinkage = float(shrinkage)

    def _params(self) -> dict[str, Any]:
        return {"max_iter": self.max_iter, "tol": self.tol, "smoothing": self.smoothing,
                "shrinkage": self.shrinkage}

    def _fit_encoded(self, enc: EncodedVotes, gold: pd.Series | pd.DataFrame | None) -> None:
        k = enc.n_classes
        n_users = max(enc.n_users, 1)
        alpha = self.smoothing
        a = enc.design_matrix()                      # (S, U*K): counts of (user, answer) per subject
        a_t = a.T.tocsr()
        counts = enc.vote_counts()
        n_votes = counts.sum(axis=1)
        gold_codes = parse_gold(gold, enc)
        is_gold = gold_codes >= 0
        active = (n_votes > 0) | is_gold              # subjects that enter the model
        onehot = np.eye(k)[gold_codes[is_gold]]

        # Initialise from the majority-vote fractions (uniform where there are no votes).
        post = np.full((enc.n_subjects, k), 1.0 / k)
        voted = n_votes > 0
        post[voted] = counts[voted] / n_votes[voted, None]
        post[is_gold] = onehot
        post[~active] = 0.0

        if voted.any() and np.median(n_votes[voted]) < 2 and not is_gold.any():
            log.warning(
                "Dawid-Skene: most subjects have a single vote (median %g); without redundancy or gold "
                "labels the confusion matrices cannot be learned and labels follow the class priors",
                float(np.median(n_votes[voted])),
            )
        from scipy.special import logsumexp  # here: scipy.special costs ~0.1 s of start-up

        converged = False
        ll = np.inf
        it = 0
        log_pi = np.zeros((n_users, k, k))
        log_rho = np.zeros(k)
        for it in range(1, self.max_iter + 1):  # noqa: B007 (it is read after the loop)
            # M-step: confusion matrices and priors from the current posteriors.
            conf = (a_t @ post).reshape(n_users, k, k).transpose(0, 2, 1)   # [u, true, answer]
            if self.shrinkage > 0:
                crowd = conf.sum(axis=0) + alpha
                conf = conf + self.shrinkage * crowd / crowd.sum(axis=1, keepdims=True)
            conf = conf + alpha
            row = conf.sum(axis=2, keepdims=True)
            conf = np.where(row > 0, conf, 1.0)                  # a row never seen (alpha = 0): uniform
            with np.errstate(divide="ignore"):
                log_pi = np.log(conf / conf.sum(axis=2, keepdims=True))
            rho = post[active].sum(axis=0) + alpha
            with np.errstate(divide="ignore"):
                log_rho = np.log(rho / rho.sum())
            # E-step: log posteriors = log prior + sum of log pi over each subject's votes.
            log_post = a @ log_pi.transpose(0, 2, 1).reshape(n_users * k, k) + log_rho
            norm = logsumexp(log_post, axis=1, keepdims=True)
            with np.errstate(invalid="ignore"):
                new = np.exp(log_post - norm)
            stuck = ~np.isfinite(norm[:, 0])                     # every class impossible (alpha = 0)
            new[stuck] = post[stuck]
            norm[stuck] = 0.0
            new[is_gold] = onehot
            new[~active] = 0.0
            ll_prev, ll = ll, float(norm[voted & ~is_gold].sum())
            post = new
            if abs(ll - ll_prev) <= self.tol * abs(ll):
                converged = True
                break
        if not converged:
            log.warning("Dawid-Skene did not converge in %d iterations (tol %g)", self.max_iter, self.tol)
        log.debug("Dawid-Skene: %d iterations, log-likelihood %.6g", it, ll)

        pi = np.exp(log_pi)[: enc.n_users]
        probas = post.copy()
        probas[~active] = np.nan
        label = np.where(active, post.argmax(axis=1), 0)
        p_cluster = post[:, self._cluster()].sum(axis=1)
        self._set_labels(enc, label, p_cluster, labelled=active)   # gold without votes keeps its label
        self.probas_ = pd.DataFrame(probas, index=enc.subjects, columns=list(enc.classes))
        self.confusion_matrices_ = pi
        self.priors_ = pd.Series(np.exp(log_rho), index=list(enc.classes), name="prior")
        self.n_iter_ = it
        self.converged_ = converged
        self.log_likelihood_ = ll
        diag = np.diagonal(pi, axis1=1, axis2=2)
        skills = pd.DataFrame({"skill": diag.mean(axis=1)})
        for j, c in enumerate(enc.classes):
            skills[f"p_correct_{c}"] = diag[:, j]
        self._set_volunteers(enc, skills)
        self.counts_["gold"] = int(is_gold.sum())


__all__ = ["DawidSkene"]
