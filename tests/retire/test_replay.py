"""The replay: the count policy is the plain consensus, exactly; SWAP policies spend at most as much."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hunt_clusters.consensus import MajorityVote
from hunt_clusters.mock import VolunteerConfig, VolunteerCrowd, synthetic_subject_set
from hunt_clusters._errors import InputError
from hunt_clusters.retire import Policy, RetireConfig, crowd_votes, equal_accuracy, replay


@pytest.fixture(scope="module")
def crowd_and_votes() -> tuple[VolunteerCrowd, pd.DataFrame]:
    m, c = synthetic_subject_set(40, seed=3)
    crowd = VolunteerCrowd(m, VolunteerConfig(seed=3), cues=c)
    return crowd, crowd_votes(crowd, 6, np.random.default_rng(4))


def _truth(crowd: VolunteerCrowd) -> pd.Series:
    # any fixed truth will do for these checks (the synthetic set does not return its classes)
    return pd.Series([i % 3 == 0 for i in range(len(crowd.candidate_ids))], index=crowd.candidate_ids.astype(str))


def test_crowd_votes_come_in_rounds(crowd_and_votes: tuple[VolunteerCrowd, pd.DataFrame]) -> None:
    crowd, votes = crowd_and_votes
    assert len(votes) == 6 * 40 and (votes.groupby("subject_id").size() == 6).all()
    assert votes["created_at"].is_monotonic_increasing
    assert votes["subject_id"].iloc[:40].tolist() == crowd.subject_ids.tolist()


@pytest.mark.parametrize("count", [6, 3])
def test_count_policy_is_the_plain_consensus(count: int, crowd_and_votes: tuple[VolunteerCrowd, pd.DataFrame]) -> None:
    crowd, votes = crowd_and_votes
    truth = _truth(crowd)
    res = replay(votes, truth, [Policy("count", "count", count=count)])
    first = votes[votes["classification_id"] <= count * 40]            # rounds 1..count
    plain = MajorityVote().fit(first).labels_
    got = res.labels.set_index("candidate_id").loc[plain["candidate_id"].astype(str)]
    assert got["label"].tolist() == plain["label"].tolist()
    cluster = plain["label"].isin(["low-z", "hi-z"]).to_numpy()
    t = truth.loc[plain["candidate_id"].astype(str)].to_numpy()
    row = res.policies.iloc[0]
    assert row["classifications"] == count * 40
    assert row["accuracy"] == (cluster == t).mean()
    assert row["completeness"] == (cluster & t).sum() / t.sum()
    assert row["purity"] == (cluster & t).sum() / cluster.sum()
    assert res.curves["classifications"].tolist() == [40 * k for k in range(1, count + 1)]


def test_swap_without_gold_or_cnn_retires_nothing_early(crowd_and_votes: tuple[VolunteerCrowd, pd.DataFrame]) -> None:
    crowd, votes = crowd_and_votes
    res = replay(votes, _truth(crowd), [Policy("swap", "swap", count=6)])
    row = res.policies.iloc[0]
    # no gold: every vote weighs nothing, the posterior stays at 0.5, all 6 votes are spent, then experts
    assert row["classifications"] == 240 and row["to_experts"] == 40


def test_cnn_prior_spends_less(crowd_and_votes: tuple[VolunteerCrowd, pd.DataFrame]) -> None:
    crowd, votes = crowd_and_votes
    truth = _truth(crowd)
    cnn = pd.DataFrame({"candidate_id": truth.index, "p_cluster": np.where(truth.to_numpy(), 0.97, 0.03),
                        "p_cluster_std": 0.01})
    cfg = RetireConfig(retire_cluster=0.9, retire_non_cluster=0.1, min_votes=1)
    res = replay(votes, truth, [Policy("count", "count", count=6), Policy("swap-cnn", "swap-cnn", 6, cfg)],
                 predictions=cnn)
    p = res.policies.set_index("policy")
    # no gold: the votes weigh nothing, and the CNN's 0.97 / 0.03 retires every subject after its first vote
    assert p.loc["swap-cnn", "classifications"] == 40
    assert p.loc["swap-cnn", "accuracy"] == 1.0 and p.loc["swap-cnn", "to_experts"] == 0
    assert p.loc["count", "classifications"] == 240


def test_cnn_policy_retires_what_the_cnn_is_sure_of_and_counts_the_rest(
        crowd_and_votes: tuple[VolunteerCrowd, pd.DataFrame]) -> None:
    crowd, votes = crowd_and_votes
    truth = _truth(crowd)
    ids = truth.index.to_numpy()
    # sure (>= 0.9 either way) on every third subject, unsure (0.6) on the others; one subject unscored
    p = np.where(np.arange(len(ids)) % 3 == 0, np.where(np.arange(len(ids)) % 2 == 0, 0.95, 0.05), 0.6)
    cnn = pd.DataFrame({"candidate_id": ids[:-1], "p_cluster": p[:-1], "p_cluster_std": 0.0})
    sure = pd.Series(np.maximum(p, 1 - p) >= 0.9, index=ids)
    sure.iloc[-1] = False                                   # no prediction: the volunteers decide
    res = replay(votes, truth, [Policy("cnn", "cnn", count=4, confidence=0.9)], predictions=cnn)
    lab = res.labels.set_index("candidate_id")
    n_rest = int((~sure).sum())
    assert res.policies.loc[0, "classifications"] == 4 * n_rest
    assert (lab.loc[sure[sure].index, "n_votes"] == 0).all()
    assert lab.loc[sure[sure].index, "cluster"].tolist() == (p[sure.to_numpy()] > 0.5).tolist()
    # the rest: exactly the plain consensus of their first 4 votes
    first = votes[(votes["classification_id"] <= 4 * 40) & votes["candidate_id"].astype(str).isin(sure[~sure].index)]
    plain = MajorityVote().fit(first).labels_.set_index("candidate_id")
    assert lab.loc[plain.index.astype(str), "label"].tolist() == plain["label"].tolist()
    assert res.curves["classifications"].tolist() == [n_rest * k for k in range(1, 5)]
    # confidence 0.5: the CNN labels every subject it scored, no volunteer for them
    res = replay(votes, truth, [Policy("all", "cnn", count=4, confidence=0.5)], predictions=cnn)
    assert res.policies.loc[0, "classifications"] == 4


def test_equal_accuracy_gives_the_saving_and_the_completeness_there() -> None:
    curves = pd.DataFrame({"policy": ["base"] * 3 + ["fast"] * 3, "step": [1, 2, 3] * 2,
                           "classifications": [100, 200, 300, 10, 20, 30],
                           "accuracy": [0.6, 0.7, 0.8, 0.7, 0.8, 0.9],
                           "completeness": [0.5, 0.6, 0.7, 0.55, 0.66, 0.9]})
    pol = pd.DataFrame({"policy": ["base", "fast"], "classifications": [300, 30], "accuracy": [0.8, 0.9],
                        "completeness": [0.7, 0.9]})
    eq = equal_accuracy(curves, pol, "base")
    assert eq["base"]["classifications"] == 300 and eq["base"]["saving"] == 1.0
    assert eq["fast"]["classifications"] == 20 and eq["fast"]["saving"] == 15.0
    assert eq["fast"]["completeness"] == 0.66 and eq["fast"]["completeness_change"] == pytest.approx(-0.04)
    with pytest.raises(InputError, match="baseline policy 'nope'"):
        equal_accuracy(curves, pol, "nope")
