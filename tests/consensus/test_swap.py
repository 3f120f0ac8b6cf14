"""SWAP: skills and the posterior after two votes, by hand from the Space Warps equations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hunt_clusters._errors import InputError
from hunt_clusters.consensus import SWAP, agent_information

from .logs import captured_warnings


def _votes(order: str = "ann-first") -> tuple[pd.DataFrame, pd.Series]:
    t0, t1 = "2020-05-01 10:00", "2020-05-01 11:00"
    if order != "ann-first":
        t0, t1 = t1, t0
    votes = pd.DataFrame({
        "candidate_id": ["G1", "G1", "G2", "G2", "G3", "G3", "T", "T", "N"],
        "subject_id": [1, 1, 2, 2, 3, 3, 4, 4, 5],
        "user": ["ann", "bob", "ann", "bob", "ann", "bob", "ann", "bob", "eve"],
        "class": ["hi-z", "galaxy", "low-z", "hi-z", "point", "low-z", "low-z", "point", "hi-z"],
        "created_at": pd.to_datetime(["2020-04-01"] * 6 + [t0, t1, "2020-05-02"], utc=True, format="ISO8601"),
    })
    gold = pd.Series({"G1": "low-z", "G2": "hi-z", "G3": "point"})
    return votes, gold


def test_skills_from_gold_by_hand() -> None:
    votes, gold = _votes()
    swap = SWAP(prior=0.3).fit(votes, gold)
    sk = swap.skills_
    # ann: 2/2 right on gold clusters, 1/1 on non-clusters; bob: 1/2 and 0/1; eve saw no gold
    assert sk.loc["ann", "P_L"] == pytest.approx(3 / 4) and sk.loc["ann", "P_D"] == pytest.approx(2 / 3)
    assert sk.loc["bob", "P_L"] == pytest.approx(1 / 2) and sk.loc["bob", "P_D"] == pytest.approx(1 / 3)
    assert sk.loc["eve", "P_L"] == 0.5 and sk.loc["eve", "P_D"] == 0.5
    assert sk.loc["ann", ["n_seen_L", "n_seen_D", "n_seen"]].tolist() == [2, 1, 3]
    assert sk.loc["ann", "skill"] == pytest.approx((3 / 4 + 2 / 3) / 2)
    h = lambda p: p * math.log2(p) + (1 - p) * math.log2(1 - p)  # noqa: E731
    assert sk.loc["ann", "information"] == pytest.approx(0.5 * (h(2 / 3) + h(3 / 4) + 2))
    assert sk.loc["eve", "information"] == 0.0
    assert list(swap.volunteers_.columns) == ["user", "n_classifications", "skill", "P_L", "P_D", "n_seen_L",
                                              "n_seen_D", "n_seen", "information"]


@pytest.mark.parametrize("order", ["ann-first", "bob-first"])
def test_posterior_after_two_votes_by_hand(order: str) -> None:
    votes, gold = _votes(order)
    swap = SWAP(prior=0.3).fit(votes, gold)
    # ann says cluster: p1 = 3/4*0.3 / (3/4*0.3 + (1-2/3)*0.7) = 27/55
    # bob says not:     p2 = (1-1/2) p1 / ((1-1/2) p1 + 1/3 (1-p1)) = 81/137 (either order)
    lab = swap.labels_.set_index("candidate_id")
    assert lab.loc["T", "p_cluster"] == pytest.approx(81 / 137, rel=1e-12)
    assert swap.probas_.loc[4, "cluster"] == pytest.approx(81 / 137, rel=1e-12)
    assert lab.loc["T", "label"] == "low-z"           # cluster side: the cluster class voted
    assert lab.loc["T", "agreement"] == 0.5
    assert lab.loc["N", "p_cluster"] == pytest.approx(0.3)   # eve's vote carries no information
    assert lab.loc["N", "label"] == "galaxy"          # non-cluster side, no vote there: first class of it
    assert lab.loc["T", "method"] == "swap"
    assert swap.log_odds_.loc[4] == pytest.approx(math.log(81 / 56))


def test_default_prior_is_the_smoothed_gold_fraction() -> None:
    votes, gold = _votes()
    swap = SWAP().fit(votes, gold)
    assert swap.prior_ == pytest.approx((1 + 2) / (2 + 3))
    assert SWAP().fit(votes).prior_ == 0.5
    assert swap.counts_["gold"] == 3


def test_skill_cap() -> None:
    n = 300
    votes = pd.DataFrame({"candidate_id": [f"G{i}" for i in range(n)], "subject_id": range(n),
                          "user": "ann", "class": "low-z"})
    gold = pd.Series("hi-z", index=[f"G{i}" for i in range(n)])
    sk = SWAP().fit(votes, gold).skills_
    assert sk.loc["ann", "P_L"] == 0.99 and sk.loc["ann", "P_D"] == 0.5
    prior = 301 / 302
    p = prior * 0.99 / (prior * 0.99 + (1 - 0.5) * (1 - prior))
    assert SWAP().fit(votes, gold).labels_["p_cluster"].tolist() == pytest.approx([p] * n, rel=1e-12)
    expected = 0.5 * (0.99 * math.log2(0.99) + 0.01 * math.log2(0.01) + 1)
    assert agent_information(np.array([0.99]), np.array([0.5]))[0] == pytest.approx(expected)


def test_bad_prior_is_an_input_error() -> None:
    with pytest.raises(InputError, match="SWAP prior must be strictly between 0 and 1, not 0$"):
        SWAP(prior=0)


def test_without_gold_the_side_follows_the_votes(caplog: pytest.LogCaptureFixture) -> None:
    votes = pd.DataFrame({"subject_id": [1, 1, 1, 2, 2, 3, 3], "user": list("abcabab"),
                          "class": ["point", "galaxy", "hi-z", "low-z", "galaxy", "hi-z", "point"]})
    with captured_warnings(caplog):
        swap = SWAP().fit(votes)
    assert "SWAP without gold subjects" in caplog.text
    assert swap.labels_["p_cluster"].tolist() == [0.5, 0.5, 0.5]
    assert swap.labels_["label"].tolist() == ["galaxy", "low-z", "hi-z"]   # ties: cluster side
