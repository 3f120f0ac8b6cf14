"""Synthetic crowds with known skills: the skill-aware methods beat majority when many volunteers are poor."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest

from hunt_clusters import CLUSTER_CLASSES
from hunt_clusters.consensus import SWAP, DawidSkene, MajorityVote, compare_with_experts

from .synthetic import synthetic_votes


def _accuracies(labels: pd.DataFrame, truth: pd.Series) -> tuple[float, float]:
    lab = labels.set_index("candidate_id").loc[truth.index]
    five = float((lab["label"] == truth).mean())
    binary = float(((lab["p_cluster"] >= 0.5) == truth.isin(CLUSTER_CLASSES)).mean())
    return five, binary


@pytest.fixture(scope="module")
def crowd() -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    # 30 % good volunteers (90 % right), 70 % poor (25 % right, barely above chance)
    return synthetic_votes(n_subjects=2000, n_users=200, frac_good=0.3, good_accuracy=0.9,
                           poor_accuracy=0.25, seed=0)


def test_skill_aware_methods_beat_majority(crowd: tuple[pd.DataFrame, pd.Series, np.ndarray]) -> None:
    votes, truth, acc = crowd
    gold = truth.sample(frac=0.2, random_state=1)
    test = truth.drop(gold.index)
    mv5, mv2 = _accuracies(MajorityVote().fit(votes).labels_, test)
    ds = DawidSkene().fit(votes)
    ds5, ds2 = _accuracies(ds.labels_, test)
    dsg5, _ = _accuracies(DawidSkene().fit(votes, gold).labels_, test)
    swap = SWAP().fit(votes, gold)
    _, sw2 = _accuracies(swap.labels_, test)
    assert ds5 > mv5 + 0.05 and dsg5 > mv5 + 0.05
    assert ds2 > mv2 + 0.03 and sw2 > mv2 + 0.03
    # the learned skills separate good from poor volunteers
    users = np.array([int(u[1:]) for u in ds.skills_.index])
    good = acc[users] > 0.5
    assert ds.skills_["skill"].to_numpy()[good].min() > ds.skills_["skill"].to_numpy()[~good].max()
    sw_skill = swap.skills_["skill"].to_numpy()
    assert np.median(sw_skill[good]) > np.median(sw_skill[~good]) + 0.2
    # and compare_with_experts agrees with the direct count
    m = compare_with_experts(ds.labels_, test)
    assert m["accuracy"] == pytest.approx(ds5) and m["binary_accuracy"] == pytest.approx(ds2)


def test_majority_is_not_beaten_by_much_when_everyone_is_good() -> None:
    votes, truth, _ = synthetic_votes(n_subjects=500, n_users=60, frac_good=1.0, seed=2)
    mv5, _ = _accuracies(MajorityVote().fit(votes).labels_, truth)
    ds5, _ = _accuracies(DawidSkene().fit(votes).labels_, truth)
    assert mv5 > 0.95 and ds5 >= mv5 - 0.01


@pytest.mark.parametrize("module", ["_votes", "_base", "_majority", "_dawid_skene", "_swap", "_experts", "_registry"])
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(f"hunt_clusters.consensus.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
