"""Plurality vote: the consensus of panoptes_aggregation's question_consensus_reducer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import CLASSES, CLUSTER_CLASSES
from ._base import ConsensusEstimator, check_tie_break, plurality
from ._votes import EncodedVotes


class MajorityVote(ConsensusEstimator):
    """Vote fractions, the most voted class and its agreement, per subject.

    The label is ``argmax_a n_a`` and ``agreement = n_label / sum_a n_a`` (the
    ``most_likely`` and ``agreement`` keys of panoptes_aggregation's question_consensus_reducer;
    note that its ``num_votes`` is the count of the top answer, our ``n_votes`` the total).
    ``p_cluster`` is the fraction of votes for a cluster class (``frac_low-z + frac_hi-z``).
    Each volunteer's ``skill`` is the fraction of their votes that agree with the consensus.
    ``fit(votes, gold)`` accepts ``gold`` for a uniform interface and ignores it.

    Parameters
    ----------
    tie_break : {"first-vote", "class-order"}
        How a tie between classes is resolved; both are deterministic. ``"first-vote"``
        (default) picks the tied class whose first vote came earliest (``created_at``), which is
        the first-encountered rule of panoptes_aggregation on time-sorted votes, falling back to
        the order of ``classes`` where times are missing or equal; ``"class-order"`` picks the
        tied class that comes first in ``classes`` (low-z, hi-z, galaxy, point, other).
    classes, cluster_classes : sequence of str
        The classes in order and those that count as a cluster.
    include_experts : bool
        Count expert-flagged rows of the votes table as votes (default: ignore them).

    Attributes
    ----------
    labels_, probas_, skills_, volunteers_, counts_
        See `ConsensusEstimator`; ``probas_`` holds the vote fractions and ``skills_`` the
        columns ``skill`` and ``n_agree``.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({
    ...     "subject_id": [1] * 9, "candidate_id": ["XC-1"] * 9,
    ...     "user": list("abcdefghi"),
    ...     "class": ["low-z"] * 4 + ["hi-z"] * 3 + ["galaxy"] * 2})
    >>> mv = MajorityVote().fit(votes)
    >>> row = mv.labels_.iloc[0]
    >>> row["label"], int(row["n_votes"]), round(float(row["agreement"]), 4), round(float(row["p_cluster"]), 4)
    ('low-z', 9, 0.4444, 0.7778)
    """

    method = "majority"

    def __init__(self, *, tie_break: str = "first-vote", classes: Sequence[str] = CLASSES,
                 cluster_classes: Sequence[str] | frozenset[str] = CLUSTER_CLASSES,
                 include_experts: bool = False) -> None:
        super().__init__(classes=classes, cluster_classes=cluster_classes, include_experts=include_experts)
        self.tie_break = check_tie_break(tie_break)

    def _params(self) -> dict[str, Any]:
        return {"tie_break": self.tie_break}

    def _fit_encoded(self, enc: EncodedVotes, gold: pd.Series | pd.DataFrame | None) -> None:
        counts = enc.vote_counts()
        label = plurality(enc, counts, tie_break=self.tie_break)
        n = counts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = counts / n[:, None]
        p_cluster = frac[:, self._cluster()].sum(axis=1)
        self._set_labels(enc, label, p_cluster)
        self.probas_ = pd.DataFrame(frac, index=enc.subjects, columns=list(enc.classes))
        agree = label[enc.subject] == enc.klass
        n_agree = np.bincount(enc.user, weights=agree, minlength=enc.n_users)
        n_user = np.bincount(enc.user, minlength=enc.n_users)
        self._set_volunteers(enc, pd.DataFrame({
            "skill": n_agree / np.maximum(n_user, 1),
            "n_agree": n_agree.astype(np.int64),
        }))

    def fit_partitions(self, parts: Iterable[pd.DataFrame]) -> MajorityVote:
        """Fit on a votes table given in parts that split it by subject, one part in memory at a time.

        Every subject's votes must lie in one part (``aggregate --partitions`` sends each record
        to the partition of its subject): the plurality, its tie-break and the fractions are per
        subject, and a volunteer's ``n_agree`` and ``n_classifications`` add up over the parts, so
        `labels_`, `volunteers_`, `probas_` and `counts_` are those of `fit` on the whole table
        (subjects in ``subject_id`` order, volunteers by name), while memory holds one part and the
        per-subject and per-volunteer results, not every vote.

        Parameters
        ----------
        parts : iterable of pandas.DataFrame
            Votes tables (as for `fit`), disjoint in ``subject_id``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            A subject has votes in two parts.

        Examples
        --------
        >>> import pandas as pd
        >>> votes = pd.DataFrame({"subject_id": [1, 1, 2, 2, 2], "user": ["a", "b", "a", "b", "c"],
        ...                       "class": ["low-z", "low-z", "point", "hi-z", "point"]})
        >>> parts = [votes[votes["subject_id"] == s] for s in (2, 1)]
        >>> whole, split = MajorityVote().fit(votes), MajorityVote().fit_partitions(parts)
        >>> split.labels_.equals(whole.labels_), split.volunteers_.equals(whole.volunteers_)
        (True, True)
        """
        # the labels of each part as separate column arrays (copies: the part's frames are freed)
        labels: list[dict[str, np.ndarray]] = []
        columns: list[str] = []
        counts: Counter[str] = Counter()
        # the volunteers' counts, added up as the parts come (per volunteer, not per part: a
        # volunteer active in every part is one entry, not one per part)
        user_code: dict[str, int] = {}
        n_user = np.zeros(0, np.int64)
        n_agree = np.zeros(0, np.int64)
        first: pd.DataFrame | None = None
        for part in parts:
            if first is None:
                first = part.iloc[:0]
            if not len(part):
                continue
            est = type(self)(tie_break=self.tie_break, classes=self.classes, cluster_classes=self.cluster_classes,
                             include_experts=self.include_experts).fit(part)
            columns = list(est.labels_.columns)
            labels.append({c: est.labels_[c].to_numpy(copy=True) for c in columns})
            vol = est.volunteers_
            codes = np.fromiter((user_code.setdefault(u, len(user_code)) for u in vol["user"].tolist()),
                                np.int64, len(vol))
            if len(user_code) > len(n_user):
                grow = len(user_code) - len(n_user)
                n_user = np.concatenate([n_user, np.zeros(grow, np.int64)])
                n_agree = np.concatenate([n_agree, np.zeros(grow, np.int64)])
            np.add.at(n_user, codes, vol["n_classifications"].to_numpy(np.int64))
            np.add.at(n_agree, codes, vol["n_agree"].to_numpy(np.int64))
            keys = list(est.counts_)
            counts.update(est.counts_)
            del est, vol
        if not labels:  # no vote at all: what fit gives on the empty table
            return self.fit(first if first is not None else pd.DataFrame(columns=["subject_id", "user", "class"]))
        subject = np.concatenate([part["subject_id"] for part in labels])
        order = np.argsort(subject, kind="stable")
        repeated = np.flatnonzero(subject[order][1:] == subject[order][:-1])
        if len(repeated):
            raise ValueError(f"subject {subject[order][repeated[0]]} has votes in two parts: the parts must split "
                             "the votes by subject")
        # column by column, each part's array dropped once gathered: memory holds the labels about
        # once (they grow with the subjects), not three times (concatenated, then reordered)
        data: dict[str, np.ndarray] = {}
        for c in columns:
            data[c] = np.concatenate([part.pop(c) for part in labels])[order]
        del labels
        self.labels_ = pd.DataFrame(data, columns=columns)
        del data
        frac = [f"frac_{c}" for c in self.classes]
        self.probas_ = pd.DataFrame(self.labels_[frac].to_numpy(), columns=list(self.classes),
                                    index=pd.Index(self.labels_["subject_id"].to_numpy(), name="subject_id"))
        names = np.empty(len(user_code), dtype=object)
        names[list(user_code.values())] = list(user_code.keys())
        by_name = np.argsort(names, kind="stable")  # by name, as fit orders them
        n, agree = n_user[by_name], n_agree[by_name]
        self.skills_ = pd.DataFrame({"skill": agree / np.maximum(n, 1), "n_agree": agree},
                                    index=pd.Index(names[by_name], name="user"))
        out = self.skills_.reset_index()
        out.insert(1, "n_classifications", n)
        self.volunteers_ = out
        counts["users"] = len(out)
        self.counts_ = {k: int(counts[k]) for k in keys}
        return self


__all__ = ["MajorityVote"]
