"""What every consensus estimator shares: the fit/predict interface and the labels table."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from .. import CLASSES, CLUSTER_CLASSES
from .._errors import InputError
from ._votes import EncodedVotes, cluster_mask, encode_votes

log = logging.getLogger(__name__)

_E = TypeVar("_E", bound="ConsensusEstimator")

#: Tie-breaking rules of the plurality vote (see `MajorityVote`).
TIE_BREAKS: tuple[str, ...] = ("first-vote", "class-order")


def check_tie_break(tie_break: str) -> str:
    """Return ``tie_break`` if it is one of `TIE_BREAKS`, else raise ValueError."""
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {', '.join(TIE_BREAKS)}, not {tie_break!r}")
    return tie_break


def label_columns(classes: Sequence[str] = CLASSES) -> list[str]:
    """Columns of the labels table (``docs/formats.md``), in order.

    Examples
    --------
    >>> label_columns()[:4]
    ['candidate_id', 'subject_id', 'n_votes', 'frac_low-z']
    """
    return ["candidate_id", "subject_id", "n_votes", *(f"frac_{c}" for c in classes),
            "label", "agreement", "p_cluster", "method"]


def plurality(
    enc: EncodedVotes,
    counts: np.ndarray,
    *,
    allowed: np.ndarray | None = None,
    tie_break: str = "first-vote",
) -> np.ndarray:
    """Most voted class per subject, with a deterministic tie-break.

    Parameters
    ----------
    enc : EncodedVotes
    counts : numpy.ndarray
        ``(n_subjects, n_classes)`` vote counts.
    allowed : numpy.ndarray, optional
        ``(n_subjects, n_classes)`` or ``(n_classes,)`` boolean: choose only among these classes.
    tie_break : {"first-vote", "class-order"}
        ``"first-vote"``: among tied classes the one whose first vote is earliest (``created_at``),
        as panoptes_aggregation's question_consensus_reducer, which keeps the first-encountered
        answer of the time-sorted votes; where times are missing or equal, the class earliest in
        ``classes``. ``"class-order"``: the tied class earliest in ``classes``.

    Returns
    -------
    numpy.ndarray
        ``(n_subjects,)`` class codes.
    """
    check_tie_break(tie_break)
    masked = counts.astype(np.float64)
    if allowed is not None:
        masked = np.where(allowed, masked, -1.0)
    top = masked.max(axis=1)
    tied = masked == top[:, None]
    label = tied.argmax(axis=1)
    if tie_break == "first-vote":
        multi = np.flatnonzero((tied.sum(axis=1) > 1) & (top > 0))
        if len(multi):
            times = np.where(tied[multi], enc.first_vote_time(multi), np.inf)
            best = tied[multi] & (times == times.min(axis=1)[:, None])
            label[multi] = best.argmax(axis=1)
    return label


class ConsensusEstimator:
    """Base class of the consensus methods (crowd-kit style).

    Settings go in the constructor; `fit` learns from a votes table and sets the attributes that
    end in ``_``.

    Attributes
    ----------
    labels_ : pandas.DataFrame
        The labels table of ``docs/formats.md``: one row per subject (sorted by ``subject_id``):
        ``candidate_id, subject_id, n_votes, frac_<class>..., label, agreement, p_cluster, method``.
        ``frac_<class>`` are always the plain vote fractions; ``label`` and ``p_cluster`` are the
        method's; ``agreement`` is the fraction of votes for ``label``. Subjects whose votes were
        all ignored have ``n_votes == 0`` and no label (empty ``label``, NaN elsewhere).
    probas_ : pandas.DataFrame
        Per-subject probabilities, indexed by ``subject_id``.
    skills_ : pandas.DataFrame
        Per-volunteer skill, indexed by ``user``: ``skill`` plus method-specific columns.
    volunteers_ : pandas.DataFrame
        The volunteers table: ``user, n_classifications, skill`` and the method's columns.
    counts_ : dict
        Rows read, votes used and rows ignored by reason (see `encode_votes`); the skill-aware
        methods add ``gold``, the number of subjects with a gold label.
    """

    method: ClassVar[str] = ""

    def __init__(self, *, classes: Sequence[str] = CLASSES,
                 cluster_classes: Sequence[str] | frozenset[str] = CLUSTER_CLASSES,
                 include_experts: bool = False) -> None:
        self.classes = tuple(classes)
        self.cluster_classes = frozenset(cluster_classes)
        self.include_experts = include_experts

    # -- public interface ------------------------------------------------------------------------
    def fit(self: _E, votes: pd.DataFrame, gold: pd.Series | pd.DataFrame | None = None) -> _E:
        """Learn the consensus from a votes table.

        Parameters
        ----------
        votes : pandas.DataFrame
            The votes table (``docs/formats.md``): ``subject_id``, ``user``, ``class``, and
            ``candidate_id``, ``created_at``, ``expert`` when present.
        gold : pandas.Series or pandas.DataFrame, optional
            Expert classes (see `parse_gold`) used as gold standard by the skill-aware methods.

        Returns
        -------
        self
        """
        enc = encode_votes(votes, classes=self.classes, include_experts=self.include_experts)
        self.counts_: dict[str, int] = dict(enc.counts)
        self._fit_encoded(enc, gold)
        if enc.counts["used"] < enc.counts["rows"]:
            log.info(
                "%s: %d of %d rows used (%d without class, %d without user, %d expert rows ignored)",
                self.method, enc.counts["used"], enc.counts["rows"], enc.counts["missing_class"],
                enc.counts["missing_user"], enc.counts["expert"],
            )
        return self

    def fit_predict(self, votes: pd.DataFrame, gold: pd.Series | pd.DataFrame | None = None) -> pd.Series:
        """Fit and return the label per subject (a Series indexed by ``subject_id``)."""
        self.fit(votes, gold)
        return self.labels_.set_index("subject_id")["label"]

    def fit_predict_proba(self, votes: pd.DataFrame, gold: pd.Series | pd.DataFrame | None = None
                          ) -> pd.DataFrame:
        """Fit and return `probas_` (a DataFrame indexed by ``subject_id``)."""
        self.fit(votes, gold)
        return self.probas_

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({params})"

    # -- for subclasses --------------------------------------------------------------------------
    def _params(self) -> dict[str, Any]:
        return {}

    def _fit_encoded(self, enc: EncodedVotes, gold: pd.Series | pd.DataFrame | None) -> None:
        raise NotImplementedError

    def _cluster(self) -> np.ndarray:
        mask = cluster_mask(self.classes, self.cluster_classes)
        if not mask.any():
            raise InputError(
                f"{self.method}: none of the classes {', '.join(self.classes)} is a cluster class "
                f"({', '.join(sorted(self.cluster_classes))})"
            )
        return mask

    def _set_labels(self, enc: EncodedVotes, label: np.ndarray, p_cluster: np.ndarray,
                    labelled: np.ndarray | None = None) -> None:
        """Fill `labels_` from label codes and p_cluster; no label and NaN p_cluster outside
        ``labelled`` (default: the subjects with votes, ``n_votes > 0``)."""
        counts = enc.vote_counts()
        n_votes = counts.sum(axis=1)
        voted = n_votes > 0
        if labelled is None:
            labelled = voted
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = counts / n_votes[:, None]
        frac[~voted] = np.nan
        labels = np.asarray(enc.classes, dtype=object)[label]
        labels[~labelled] = None
        agreement = np.full(enc.n_subjects, np.nan)
        agreement[voted] = frac[voted, label[voted]]
        p = np.asarray(p_cluster, dtype=np.float64).copy()
        p[~labelled] = np.nan
        cols: dict[str, Any] = {
            "candidate_id": enc.candidate_ids,
            "subject_id": enc.subjects.to_numpy(),
            "n_votes": n_votes.astype(np.int64),
        }
        for k, c in enumerate(enc.classes):
            cols[f"frac_{c}"] = frac[:, k]
        cols.update(label=labels, agreement=agreement, p_cluster=p, method=self.method)
        self.labels_ = pd.DataFrame(cols, columns=label_columns(enc.classes))

    def _set_volunteers(self, enc: EncodedVotes, skills: pd.DataFrame) -> None:
        """Set `skills_` (indexed by user) and `volunteers_` (user, n_classifications, skill, ...)."""
        skills.index = enc.users
        self.skills_ = skills
        n = np.bincount(enc.user, minlength=enc.n_users)
        vol = skills.reset_index()
        vol.insert(1, "n_classifications", n.astype(np.int64))
        self.volunteers_ = vol


__all__ = ["TIE_BREAKS", "ConsensusEstimator", "label_columns", "plurality"]
