"""Majority vote: hand-computed fractions, agreement, ties; cross-checked with panoptes_aggregation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from panoptes_aggregation.reducers.question_consensus_reducer import question_consensus_reducer

from hunt_clusters import CLASSES
from hunt_clusters.consensus import SWAP, MajorityVote, label_columns


def _nine_votes() -> pd.DataFrame:
    # 4 low-z, 3 hi-z, 2 galaxy on subject 5; subject 6: one vote without a class.
    return pd.DataFrame({
        "candidate_id": ["XC-5"] * 9 + ["XC-6"],
        "subject_id": [5] * 9 + [6],
        "user": list("abcdefghi") + ["a"],
        "class": ["low-z"] * 4 + ["hi-z"] * 3 + ["galaxy"] * 2 + [None],
    })


def test_nine_vote_subject_by_hand() -> None:
    mv = MajorityVote().fit(_nine_votes())
    lab = mv.labels_
    assert list(lab.columns) == label_columns()
    row = lab.iloc[0]
    assert row["candidate_id"] == "XC-5" and row["subject_id"] == 5
    assert row["n_votes"] == 9
    assert row["label"] == "low-z"
    assert row["agreement"] == pytest.approx(4 / 9, abs=1e-15)
    assert row["p_cluster"] == pytest.approx(7 / 9, abs=1e-15)
    assert [row[f"frac_{c}"] for c in CLASSES] == pytest.approx([4 / 9, 3 / 9, 2 / 9, 0, 0])
    assert row["method"] == "majority"
    empty = lab.iloc[1]
    assert empty["n_votes"] == 0 and empty["label"] is None
    assert np.isnan(empty["agreement"]) and np.isnan(empty["p_cluster"])
    assert mv.counts_["missing_class"] == 1


def test_volunteer_skill_is_agreement_with_consensus() -> None:
    mv = MajorityVote().fit(_nine_votes())
    vol = mv.volunteers_.set_index("user")
    assert vol.loc["a", "skill"] == 1.0 and vol.loc["a", "n_classifications"] == 1
    assert vol.loc["e", "skill"] == 0.0
    assert list(mv.volunteers_.columns) == ["user", "n_classifications", "skill", "n_agree"]


def test_ties_first_vote_and_class_order() -> None:
    votes = pd.DataFrame({
        "subject_id": [1, 1, 2, 2, 3, 3],
        "user": list("abcdef"),
        "class": ["point", "hi-z", "galaxy", "other", "low-z", "point"],
        "created_at": pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-05", "2020-01-04",
                                      None, None], utc=True),
    })
    first = MajorityVote().fit_predict(votes)
    assert first.tolist() == ["point", "other", "low-z"]     # earliest first vote; no times -> class order
    order = MajorityVote(tie_break="class-order").fit_predict(votes)
    assert order.tolist() == ["hi-z", "galaxy", "low-z"]
    assert first.index.tolist() == [1, 2, 3]


def test_unknown_tie_break_is_refused() -> None:
    with pytest.raises(ValueError, match="tie_break must be one of first-vote, class-order, not 'random'"):
        MajorityVote(tie_break="random")
    with pytest.raises(ValueError, match="not 'random'"):
        SWAP(tie_break="random")


def test_string_times_as_in_the_export_break_ties() -> None:
    votes = pd.DataFrame({"subject_id": [1, 1], "user": ["a", "b"], "class": ["other", "galaxy"],
                          "created_at": ["2020-01-01 10:00:00 UTC", "2019-12-31 10:00:00 UTC"]})
    assert MajorityVote().fit_predict(votes).tolist() == ["galaxy"]


def test_probas_are_the_fractions() -> None:
    proba = MajorityVote().fit_predict_proba(_nine_votes())
    assert list(proba.columns) == list(CLASSES)
    assert proba.loc[5].tolist() == pytest.approx([4 / 9, 1 / 3, 2 / 9, 0, 0])


def test_same_consensus_as_panoptes_aggregation() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    votes = pd.DataFrame({
        "subject_id": rng.integers(0, 300, n),
        "user": [f"u{i}" for i in rng.integers(0, 50, n)],
        "class": rng.choice(CLASSES, n, p=[0.3, 0.3, 0.2, 0.1, 0.1]),
        "created_at": pd.Timestamp("2021-03-01", tz="UTC") + pd.to_timedelta(rng.permutation(n), unit="min"),
    })
    ours = MajorityVote().fit(votes).labels_.set_index("subject_id")
    n_ties = 0
    for sid, grp in votes.sort_values("created_at").groupby("subject_id"):
        ref = question_consensus_reducer._original([{c: 1} for c in grp["class"]])
        counts = grp["class"].value_counts()
        n_ties += int((counts == counts.max()).sum() > 1)
        assert ours.loc[sid, "label"] == ref["most_likely"]
        assert ours.loc[sid, "agreement"] == pytest.approx(ref["agreement"], abs=1e-12)
        assert ours.loc[sid, "n_votes"] == len(grp)
    assert n_ties > 20     # the tie rule was exercised
