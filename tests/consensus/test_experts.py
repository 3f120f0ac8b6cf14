"""Volunteers vs experts: confusion matrices, accuracy and Cohen's kappa on a table done by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hunt_clusters._errors import InputError
from hunt_clusters.consensus import MajorityVote, compare_with_experts, format_comparison

EXPERT = ["low-z", "low-z", "hi-z", "hi-z", "low-z", "galaxy", "galaxy", "point", "point", "other"]
VOLUNTEERS = ["low-z", "hi-z", "hi-z", "galaxy", "low-z", "galaxy", "low-z", "point", "hi-z", "other"]
N_VOTES = [3, 3, 3, 5, 5, 5, 12, 12, 60, 1]


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = [f"C{i}" for i in range(10)]
    labels = pd.DataFrame({
        "candidate_id": ids + ["X1", "X2"],
        "subject_id": range(12),
        "n_votes": N_VOTES + [7, 0],
        "label": VOLUNTEERS + ["point", None],
        "agreement": [0.5] * 10 + [1.0, np.nan],
        "p_cluster": [0.9, 0.6, 0.7, 0.2, 0.8, 0.1, 0.5, 0.0, 0.6, 0.3] + [0.0, np.nan],
        "method": "majority",
    })
    experts = pd.DataFrame({"candidate_id": ids + ["X2", "X3", "X1"],
                            "expert_class": EXPERT + ["galaxy", "point", None]})
    return labels, experts


def test_hand_computed_table() -> None:
    labels, experts = _tables()
    m = compare_with_experts(labels, experts)
    assert m["method"] == "majority"
    assert (m["n_both"], m["n_labels"], m["n_experts"]) == (10, 11, 12)
    assert m["classes"] == ["low-z", "hi-z", "galaxy", "point", "other"]
    assert m["confusion"] == [[2, 1, 0, 0, 0],
                              [0, 1, 1, 0, 0],
                              [1, 0, 1, 0, 0],
                              [0, 1, 0, 1, 0],
                              [0, 0, 0, 0, 1]]
    assert m["accuracy"] == pytest.approx(0.6)
    # p_e = (3*3 + 2*3 + 2*2 + 2*1 + 1*1) / 100 = 0.22; kappa = (0.6 - 0.22) / 0.78
    assert m["kappa"] == pytest.approx(0.38 / 0.78)
    assert m["binary_classes"] == ["cluster", "non-cluster"]
    assert m["binary_confusion"] == [[4, 1], [2, 3]]
    assert m["binary_accuracy"] == pytest.approx(0.7)
    # p_e = (5*6 + 5*4) / 100 = 0.5; kappa = (0.7 - 0.5) / 0.5
    assert m["binary_kappa"] == pytest.approx(0.4)
    bins = {r["n_votes"]: r for r in m["by_n_votes"]}
    assert list(bins) == ["1-2", "3-4", "5-9", "10-14", "50+"]
    assert bins["3-4"]["n"] == 3 and bins["3-4"]["accuracy"] == pytest.approx(2 / 3)
    assert bins["3-4"]["binary_accuracy"] == 1.0
    assert bins["5-9"]["accuracy"] == pytest.approx(2 / 3) and bins["5-9"]["binary_accuracy"] == pytest.approx(2 / 3)
    assert bins["10-14"]["accuracy"] == 0.5 and bins["50+"]["accuracy"] == 0.0
    assert bins["50+"]["max"] is None and bins["1-2"]["mean_agreement"] == 0.5
    json.dumps(m, allow_nan=False)   # JSON-serialisable, no NaN


def test_exclude_gold_and_series_input() -> None:
    labels, experts = _tables()
    series = experts.set_index("candidate_id")["expert_class"]
    m = compare_with_experts(labels, series, exclude=["C0", "C1", "nobody"])
    assert m["n_both"] == 8 and m["n_excluded"] == 2
    assert m["accuracy"] == pytest.approx(5 / 8)


def test_binary_from_label_or_p_cluster() -> None:
    labels, experts = _tables()
    labels.loc[0, "p_cluster"] = 0.4        # label low-z but fewer than half the votes say cluster
    by_p = compare_with_experts(labels, experts)
    by_label = compare_with_experts(labels, experts, binary_from="label")
    assert by_p["binary_confusion"] == [[3, 2], [2, 3]] and by_p["binary_from"] == "p_cluster"
    assert by_label["binary_confusion"] == [[4, 1], [2, 3]]
    assert by_p["confusion"] == by_label["confusion"]


def test_kappa_is_sklearns() -> None:
    from sklearn.metrics import cohen_kappa_score

    from hunt_clusters import CLASSES

    rng = np.random.default_rng(4)
    truth = rng.choice(CLASSES, 300)
    pred = np.where(rng.random(300) < 0.6, truth, rng.choice(CLASSES, 300))
    ids = [f"C{i}" for i in range(300)]
    labels = pd.DataFrame({"candidate_id": ids, "subject_id": range(300), "n_votes": 5, "label": pred,
                           "p_cluster": 0.5})
    m = compare_with_experts(labels, pd.Series(truth, index=ids))
    assert m["kappa"] == pytest.approx(cohen_kappa_score(truth, pred, labels=list(CLASSES)), rel=1e-12)
    assert 0.4 < m["kappa"] < 0.7


def test_undefined_kappa_is_none() -> None:
    labels = pd.DataFrame({"candidate_id": ["A", "B"], "subject_id": [1, 2], "n_votes": [3, 3],
                           "label": ["low-z", "low-z"], "p_cluster": [1.0, 0.9]})
    m = compare_with_experts(labels, pd.Series({"A": "low-z", "B": "low-z"}))
    assert m["accuracy"] == 1.0 and m["kappa"] is None and m["binary_kappa"] is None
    none = compare_with_experts(labels, pd.Series({"Q": "low-z"}))
    assert none["n_both"] == 0 and none["accuracy"] is None and none["by_n_votes"] == []
    json.dumps(none, allow_nan=False)


def test_bad_expert_class() -> None:
    labels, experts = _tables()
    experts.loc[3, "expert_class"] = "cluster"
    with pytest.raises(InputError, match="experts: candidate 'C3' has class 'cluster'; valid classes"):
        compare_with_experts(labels, experts)


def test_text_table() -> None:
    labels, experts = _tables()
    text = format_comparison(compare_with_experts(labels, experts))
    lines = text.splitlines()
    assert lines[0] == "majority vs experts: 10 candidates classified by both"
    assert lines[1] == ("  5 classes: accuracy 60.0%, kappa 0.487   cluster/non-cluster (p_cluster >= 0.5): "
                        "accuracy 70.0%, kappa 0.400")
    assert any(line.split()[:2] == ["cluster", "4"] for line in lines)
    assert any(line.split() == ["3-4", "3", "66.7%", "100.0%", "0.500"] for line in lines)


def test_works_on_estimator_output() -> None:
    votes = pd.DataFrame({"candidate_id": ["A"] * 3 + ["B"] * 2, "subject_id": [1, 1, 1, 2, 2],
                          "user": list("abcab"), "class": ["hi-z", "hi-z", "point", "point", "point"]})
    m = compare_with_experts(MajorityVote().fit(votes).labels_, pd.Series({"A": "low-z", "B": "point"}))
    assert m["accuracy"] == 0.5 and m["binary_accuracy"] == 1.0
