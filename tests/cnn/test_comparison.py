"""Issue 19: like-for-like training sets, training labels free of held-out gold, intervals and paired tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .toy import write_survey

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_survey(tmp_path_factory.mktemp("toy"), n=150)


def test_every_model_trains_on_the_same_number_of_candidates(toy: dict[str, Path]) -> None:
    from hunt_clusters.cnn import TrainConfig, load_tensors, prepare_experiment

    tensors = load_tensors([toy["tensors"]])
    cfg = TrainConfig(label_sources=("votes", "expert", "truth"), targets=("hard", "soft"))
    exp = prepare_experiment(tensors, cfg, labels=toy["labels"], catalogue=toy["catalogue"])
    sizes = {t.model: len(t.rows) for t in exp.targets}
    # 150 toy candidates, 50 held out; 50 volunteer-only and 50 expert-only: truth covers all 100
    assert sizes == {"votes-hard": 50, "votes-soft": 50, "expert-hard": 50, "truth-hard": 50,
                     "truth-hard-votes-set": 50, "truth-hard-expert-set": 50}
    by = {t.model: set(tensors.candidate_id[t.rows]) for t in exp.targets}
    assert by["truth-hard-votes-set"] == by["votes-hard"] and by["truth-hard-expert-set"] == by["expert-hard"]
    truth = next(t for t in exp.targets if t.model == "truth-hard")
    assert np.bincount(truth.hard, minlength=5).tolist() == [10] * 5  # stratified: each class keeps its share
    assert np.allclose(truth.weight, 1.0)  # balanced classes: balanced weights are 1
    # --sizes all: truth trains on every candidate it has a class for
    exp = prepare_experiment(tensors, TrainConfig(label_sources=("votes", "truth"), sizes="all"),
                             labels=toy["labels"], catalogue=toy["catalogue"])
    assert {t.model: len(t.rows) for t in exp.targets} == {"votes-hard": 50, "truth-hard": 100,
                                                          "truth-hard-votes-set": 50}


def test_equal_sizes_subsample_with_the_seed(toy: dict[str, Path]) -> None:
    from hunt_clusters.cnn import TrainConfig, load_tensors, prepare_experiment

    tensors = load_tensors([toy["tensors"]])

    def rows(seed: int) -> list[int]:
        cfg = TrainConfig(label_sources=("votes", "truth"), seed=seed)
        exp = prepare_experiment(tensors, cfg, labels=toy["labels"], catalogue=toy["catalogue"])
        return next(t for t in exp.targets if t.model == "truth-hard").rows.tolist()

    assert rows(0) == rows(0) and rows(0) != rows(1) and len(rows(1)) == 50


def test_training_labels_never_come_from_a_fit_with_held_out_gold(toy: dict[str, Path], tmp_path: Path) -> None:
    """labels.csv from a cross-fitted aggregate: a training label whose fit had a held-out candidate as
    gold is not trained on; with the default hold-out only no-gold labels train."""
    from hunt_clusters.cnn import TrainConfig, load_tensors, prepare_experiment

    cat = pd.read_csv(toy["catalogue"])
    lab = pd.read_csv(toy["labels"])
    overlap = cat["candidate_id"][cat["in_expert"] & cat["in_zooniverse"]].tolist()
    folds = pd.DataFrame({"candidate_id": overlap, "expert_class": "low-z", "fold": np.arange(len(overlap)) % 2})
    folds.to_csv(tmp_path / "folds.csv", index=False)
    lab["fold"] = lab["candidate_id"].map(dict(zip(folds["candidate_id"], folds["fold"]))).fillna(-1).astype(int)
    lab["n_gold"] = np.where(lab["fold"] >= 0, 25, 0)
    volunteer_only = lab["candidate_id"][lab["fold"] < 0]
    bad = volunteer_only.iloc[:7].tolist()  # labelled by a fit that had every overlap candidate as gold
    lab.loc[lab["candidate_id"].isin(bad), "n_gold"] = 50
    lab.to_csv(tmp_path / "labels.csv", index=False)
    tensors = load_tensors([toy["tensors"]])
    for holdout in ("overlap", "spec"):
        exp = prepare_experiment(tensors, TrainConfig(label_sources=("votes",), holdout=holdout, sizes="all"),
                                 labels=tmp_path / "labels.csv", catalogue=toy["catalogue"])
        trained = set(tensors.candidate_id[exp.targets[0].rows])
        assert trained and not trained & set(bad), holdout
        assert set(volunteer_only) - set(bad) <= trained
        # spec: the overlap outside the test set may train, but its fits had test candidates as gold
        assert not trained & set(overlap), holdout
    (tmp_path / "folds.csv").unlink()
    from hunt_clusters._errors import InputError

    with pytest.raises(InputError, match="folds.csv"):
        prepare_experiment(tensors, TrainConfig(label_sources=("votes",)), labels=tmp_path / "labels.csv",
                           catalogue=toy["catalogue"])


def test_intervals_and_mcnemar_on_a_hand_computed_case() -> None:
    from hunt_clusters.cnn._evaluate import accuracy_interval, paired_comparison, wilson_interval

    # a right on 8 of 10, b on 5; discordant pairs: a only 4 (candidates 3-6), b only 1 (candidate 8)
    a = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], dtype=bool)
    b = np.array([1, 1, 1, 0, 0, 0, 0, 1, 1, 0], dtype=bool)
    r = paired_comparison(a, b, seed=3)
    assert (r["n"], r["accuracy_a"], r["accuracy_b"], r["a_only"], r["b_only"]) == (10, 0.8, 0.5, 4, 1)
    # exact McNemar: two-sided binomial, 2 * P(X <= 1 | n = 5, 1/2) = 2 * (1 + 5) / 32
    assert r["mcnemar_p"] == pytest.approx(12 / 32)
    assert r["difference"] == pytest.approx(0.3)
    lo, hi = r["difference_ci"]
    assert -0.2 <= lo < 0.3 < hi <= 0.7
    # runs included: the interval holds the test-set sampling; 2 runs agreeing = 1 run
    one = accuracy_interval(a)
    assert accuracy_interval(np.stack([a, a])) == one
    # 153 of 170 right (90 %): the bootstrap interval is the binomial one, about +- 4.5 points
    c = np.r_[np.ones(153), np.zeros(17)]
    blo, bhi = accuracy_interval(c)
    wlo, whi = wilson_interval(153, 170)
    assert abs(blo - wlo) < 0.015 and abs(bhi - whi) < 0.015 and 0.08 < bhi - blo < 0.10
    # Wilson at 0 % and 100 %: not zero-width
    assert wilson_interval(0, 10)[1] > 0.25 and wilson_interval(10, 10)[0] < 0.75


def test_collapsed_run_detection() -> None:
    from hunt_clusters.cnn._train import collapsed

    ok = pd.DataFrame({"val_loss": [0.9, 0.7, 0.8]})
    assert collapsed(np.array([True, False, True]), ok) is None
    assert collapsed(np.array([False, False, False]), ok) == "one class"
    assert collapsed(np.array([True, False]), pd.DataFrame({"val_loss": [0.5, 0.6, 0.7]})) == "never improved"
