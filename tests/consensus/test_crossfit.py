"""Cross-fitting (issue 19, item 1): no candidate's consensus label is shaped by its own expert class."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hunt_clusters import CLASSES
from hunt_clusters._outputs import LAYOUTS
from hunt_clusters.cli import main
from hunt_clusters.consensus import METHODS, assign_folds, cross_fit, make_estimator

from .synthetic import synthetic_votes


@pytest.fixture(scope="module")
def votes_truth() -> tuple[pd.DataFrame, pd.Series]:
    votes, truth, _ = synthetic_votes(n_subjects=240, n_users=40, votes_per_subject=5, seed=11)
    return votes, truth


def _flip(experts: pd.Series, cid: str) -> pd.Series:
    out = experts.copy()
    out[cid] = CLASSES[(CLASSES.index(out[cid]) + 2) % len(CLASSES)]
    return out


def test_folds_depend_on_ids_and_seed_only() -> None:
    a = assign_folds([f"C{i}" for i in range(23)], 5, seed=3)
    b = assign_folds([f"C{i}" for i in reversed(range(23))], 5, seed=3)
    assert a.equals(b) and sorted(a.value_counts().tolist()) == [4, 4, 5, 5, 5]
    assert not a.equals(assign_folds(a.index, 5, seed=4))


@pytest.mark.parametrize("method", list(METHODS))
def test_changing_an_expert_class_changes_no_label_of_that_candidate(votes_truth, method: str) -> None:
    votes, truth = votes_truth
    experts = truth.iloc[:160]  # 160 expert-classified, 80 without an expert class
    base = cross_fit(make_estimator(method), votes, experts, n_folds=4, seed=0).labels.set_index("candidate_id")
    for cid in experts.index[[0, 57, 131]]:
        other = cross_fit(make_estimator(method), votes, _flip(experts, cid), n_folds=4, seed=0)
        row = other.labels.set_index("candidate_id").loc[cid]
        pd.testing.assert_series_equal(row, base.loc[cid], check_names=False)
    # every expert-classified candidate is labelled by a fit whose gold does not hold it
    lab = base.loc[experts.index]
    assert (lab["fold"] >= 0).all() and lab["label"].notna().all()
    assert (base.drop(experts.index)["n_gold"] == 0).all()  # the others: a fit with no gold at all
    if method != "majority":
        assert set(lab["n_gold"]) == {120}


def test_gold_does_shape_the_other_folds(votes_truth) -> None:
    """The check above can fail: SWAP does learn from gold (a flip elsewhere moves some p_cluster)."""
    votes, truth = votes_truth
    experts = truth.iloc[:160]
    base = cross_fit(make_estimator("swap"), votes, experts, n_folds=4, seed=0).labels.set_index("candidate_id")
    flipped = experts.copy()
    flipped[:] = np.roll(experts.to_numpy(), 1)  # scramble every expert class
    other = cross_fit(make_estimator("swap"), votes, flipped, n_folds=4, seed=0).labels.set_index("candidate_id")
    assert not np.allclose(base["p_cluster"], other["p_cluster"])


@pytest.mark.parametrize("method", ["swap", "dawid-skene"])
def test_aggregate_label_ignores_own_expert_class(tmp_path: Path, votes_truth, method: str) -> None:
    """The command: flipping one candidate's expert_class in --experts changes none of its labels."""
    from hunt_clusters.mock import VolunteerConfig, synthetic_subject_set
    from hunt_clusters.mock import write_export as mock_write

    manifest, catalogue = synthetic_subject_set(60, seed=4)
    mock_write(tmp_path / "mock.csv", manifest, catalogue, config=VolunteerConfig(seed=4, retirement=8),
               workflows_out=tmp_path / "workflows.csv")
    from hunt_clusters.mock import expert_labels_from_cues

    experts = pd.DataFrame({"candidate_id": catalogue["candidate_id"].astype(str).to_numpy(),
                            "expert_class": np.asarray(expert_labels_from_cues(catalogue, seed=4, lapse=0.05),
                                                       dtype=str)})
    experts.to_csv(tmp_path / "a.csv", index=False)
    labels = {}
    for cid in experts["candidate_id"].iloc[:6]:
        flipped = experts.copy()
        flipped.loc[flipped["candidate_id"] == cid, "expert_class"] = _flip(
            experts.set_index("candidate_id")["expert_class"], cid)[cid]
        flipped.to_csv(tmp_path / "b.csv", index=False)
        for name in ("a", "b"):
            out = tmp_path / f"out_{name}"
            assert main(["-q", "aggregate", str(tmp_path / "mock.csv"), "--out", str(out), "--workflows-export",
                         str(tmp_path / "workflows.csv"), "--experts", str(tmp_path / f"{name}.csv"),
                         "--method", method, "--gold-methods", method]) == 0
            labels[name] = pd.read_csv(out / "labels.csv").set_index("candidate_id").loc[cid]
            metrics = json.loads((out / "metrics.json").read_text())
            assert metrics["methods"][method]["experts"]["n_both"] == 60  # every one compared
            # written again into the same folder on the next candidate: every file is one aggregate owns
            assert all(LAYOUTS["aggregate"].owns(p.name) for p in out.iterdir()), sorted(os.listdir(out))
        pd.testing.assert_series_equal(labels["a"], labels["b"], check_names=False)
