"""The shared estimator interface: method names, edge cases of the votes, gold without votes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hunt_clusters import CLASSES
from hunt_clusters._errors import InputError
from hunt_clusters.consensus import (
    METHODS,
    SWAP,
    DawidSkene,
    MajorityVote,
    encode_votes,
    label_columns,
    make_estimator,
)


def _votes() -> pd.DataFrame:
    return pd.DataFrame({
        "candidate_id": ["A", "A", "", "B", "B", "C", "D"],
        "subject_id": [1, 1, 1, 2, 2, 3, 4],
        "user": ["ann", "bob", "cat", "ann", "boss", "cat", "bob"],
        "class": ["low-z", "low-z", "hi-z", "point", "galaxy", None, "other"],
        "expert": [False, False, False, False, True, False, False],
    })


def test_make_estimator_by_name() -> None:
    assert list(METHODS) == ["majority", "dawid-skene", "swap"]
    assert isinstance(make_estimator("DS", smoothing=0.5), DawidSkene)
    assert make_estimator("dawid_skene").smoothing == 0.1
    with pytest.raises(InputError, match="unknown consensus method 'vote'; valid methods are majority, dawid"):
        make_estimator("vote")


@pytest.mark.parametrize("name", ["majority", "dawid-skene", "swap"])
def test_every_method_writes_the_labels_contract(name: str) -> None:
    est = make_estimator(name)
    lab = est.fit(_votes(), pd.Series({"A": "low-z", "B": "point"})).labels_
    assert list(lab.columns) == label_columns()
    assert lab["subject_id"].tolist() == [1, 2, 3, 4]
    assert lab["candidate_id"].tolist() == ["A", "B", "C", "D"]        # blank id ignored
    assert lab["n_votes"].tolist() == [3, 1, 0, 1]                     # expert row and empty class ignored
    assert (lab["method"] == name).all()
    assert lab.loc[2, "label"] is None and np.isnan(lab.loc[2, "p_cluster"])
    assert est.counts_["expert"] == 1 and est.counts_["missing_class"] == 1
    assert set(est.volunteers_["user"]) == {"ann", "bob", "cat"}
    assert est.volunteers_["n_classifications"].sum() == 5
    assert list(est.volunteers_.columns[:3]) == ["user", "n_classifications", "skill"]
    assert "Majority" in repr(est) or "DawidSkene" in repr(est) or "SWAP" in repr(est)
    lab.to_csv(index=False)   # plain values a CSV can hold


def test_experts_as_votes_when_asked() -> None:
    lab = MajorityVote(include_experts=True).fit(_votes()).labels_
    assert lab["n_votes"].tolist() == [3, 2, 0, 1]
    assert lab.loc[1, "label"] == "galaxy"      # tie point/galaxy; no times: class order


def test_gold_subject_without_votes_keeps_its_gold_label() -> None:
    ds = DawidSkene().fit(_votes(), pd.Series({"C": "hi-z"}))
    lab = ds.labels_.set_index("candidate_id")
    assert lab.loc["C", "label"] == "hi-z" and lab.loc["C", "n_votes"] == 0
    assert lab.loc["C", "p_cluster"] == 1.0 and np.isnan(lab.loc["C", "agreement"])
    assert ds.probas_.loc[3].tolist() == [0, 1, 0, 0, 0]


def test_other_projects_classes() -> None:
    votes = pd.DataFrame({"subject_id": [1, 1, 1], "user": ["a", "b", "c"], "class": ["yes", "no", "yes"]})
    mv = MajorityVote(classes=("yes", "no"), cluster_classes={"yes"}).fit(votes)
    assert list(mv.labels_.columns) == label_columns(("yes", "no"))
    assert mv.labels_.loc[0, "label"] == "yes" and mv.labels_.loc[0, "p_cluster"] == pytest.approx(2 / 3)
    with pytest.raises(InputError, match="row 0 has class 'yes'"):
        MajorityVote().fit(votes)


def test_swap_settings_are_checked() -> None:
    with pytest.raises(InputError, match="SWAP threshold"):
        SWAP(threshold=1.0)
    with pytest.raises(InputError, match="SWAP cap"):
        SWAP(cap=0.3)


def test_large_ids_and_category_dtypes() -> None:
    n = 1000
    rng = np.random.default_rng(5)
    subj = rng.integers(0, 50, n)
    votes = pd.DataFrame({
        "subject_id": (10**12 + subj).astype(np.int64),
        "candidate_id": pd.Categorical([f"X{s}" for s in subj]),
        "user": pd.Categorical([f"u{i}" for i in rng.integers(0, 30, n)]),
        "class": pd.Categorical(rng.choice(CLASSES, n), categories=list(CLASSES)),
    })
    enc = encode_votes(votes)
    assert enc.counts["used"] == n and enc.n_subjects == 50 and enc.n_users == 30
    lab = DawidSkene().fit(votes).labels_
    assert lab["subject_id"].iloc[0] == 10**12 and lab["candidate_id"].iloc[0] == "X0"
