"""Dawid-Skene: learned confusion matrices by hand, and the vectorised EM against a plain loop."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hunt_clusters import CLASSES
from hunt_clusters._errors import InputError
from hunt_clusters.consensus import DawidSkene, MajorityVote

from .logs import captured_warnings

K = len(CLASSES)
LOWZ, HIZ, GAL, PNT, OTH = range(K)


def _truthful_and_wrong() -> tuple[pd.DataFrame, dict[int, str]]:
    """Three truthful volunteers and 'cat', who answers point for low-z, other for galaxy,
    galaxy for point; subject 99 was seen by cat alone."""
    truth = {1: "low-z", 2: "low-z", 3: "galaxy", 4: "galaxy", 5: "point", 6: "point", 7: "low-z"}
    swap = {"low-z": "point", "galaxy": "other", "point": "galaxy"}
    rows = []
    for sid, cls in truth.items():
        for user in ("ann", "bob", "dan"):
            rows.append((sid, user, cls))
        rows.append((sid, "cat", swap[cls]))
    rows.append((99, "cat", "other"))
    return pd.DataFrame(rows, columns=["subject_id", "user", "class"]), truth


def test_always_wrong_volunteer_is_learned_and_decoded() -> None:
    votes, truth = _truthful_and_wrong()
    ds = DawidSkene(smoothing=0.01, shrinkage=0.0, tol=1e-9).fit(votes[votes["subject_id"] != 99])
    assert ds.converged_
    users = list(ds.skills_.index)
    cat = ds.confusion_matrices_[users.index("cat")]
    assert cat.sum(axis=1) == pytest.approx(np.ones(K))
    # rows of the true classes cat saw: all mass on the wrong answer cat always gives,
    # (n + alpha) / (n + 5 alpha) for n subjects of that class
    assert cat[LOWZ, PNT] == pytest.approx(3.01 / 3.05, abs=1e-4)
    assert cat[GAL, OTH] == pytest.approx(2.01 / 2.05, abs=1e-4)
    assert cat[PNT, GAL] == pytest.approx(2.01 / 2.05, abs=1e-4)
    assert cat[HIZ] == pytest.approx(np.full(K, 0.2), abs=1e-3)     # never saw a hi-z: ~uniform
    ann = ds.confusion_matrices_[users.index("ann")]
    assert ann[LOWZ, LOWZ] == pytest.approx(3.01 / 3.05, abs=1e-4)
    assert ds.skills_.loc["cat", "skill"] < 0.2 < 0.6 < ds.skills_.loc["ann", "skill"]
    # with the default regularisation, on all subjects (a tiny alpha without shrinkage can settle
    # in the label-swapped optimum where "other" stands for galaxy)
    lab = DawidSkene().fit_predict(votes)
    assert [lab[s] for s in truth] == list(truth.values())
    # cat's lone "other" on subject 99 means galaxy (majority vote says other)
    assert lab[99] == "galaxy"
    assert MajorityVote().fit_predict(votes)[99] == "other"


def test_gold_subjects_teach_exact_confusion_counts() -> None:
    # Every subject has a gold label, so the M-step counts are exact: Laplace-smoothed frequencies.
    votes = pd.DataFrame({
        "candidate_id": ["A", "A", "B", "B", "C", "C", "D", "D"],
        "subject_id": [1, 1, 2, 2, 3, 3, 4, 4],
        "user": ["ann", "cat"] * 4,
        "class": ["low-z", "point", "low-z", "point", "galaxy", "other", "point", "galaxy"],
    })
    gold = pd.Series({"A": "low-z", "B": "low-z", "C": "galaxy", "D": "point"})
    ds = DawidSkene(smoothing=1.0, shrinkage=0.0).fit(votes, gold)
    cat = ds.confusion_matrices_[1]
    assert cat[LOWZ] == pytest.approx(np.array([1, 1, 1, 3, 1]) / 7)
    assert cat[GAL] == pytest.approx(np.array([1, 1, 1, 1, 2]) / 6)
    assert cat[PNT] == pytest.approx(np.array([1, 1, 2, 1, 1]) / 6)
    assert cat[HIZ] == pytest.approx(np.full(K, 1 / 5))
    assert ds.skills_.loc["cat", "skill"] == pytest.approx((1 / 7 + 1 / 5 + 1 / 6 + 1 / 6 + 1 / 5) / 5)
    assert ds.skills_.loc["ann", "p_correct_low-z"] == pytest.approx(3 / 7)
    assert ds.priors_.to_numpy() == pytest.approx(np.array([3, 1, 2, 2, 1]) / 9)
    assert ds.labels_["label"].tolist() == ["low-z", "low-z", "galaxy", "point"]
    assert ds.counts_["gold"] == 4
    assert list(ds.volunteers_.columns) == ["user", "n_classifications", "skill",
                                            *(f"p_correct_{c}" for c in CLASSES)]


def _reference_dawid_skene(subjects: list[int], users: list[int], answers: list[int], n_s: int, n_u: int,
                           gold: dict[int, int], n_iter: int, alpha: float, shrink: float) -> np.ndarray:
    """Dawid-Skene written plainly, one vote at a time (the reference for the vectorised code)."""
    post = [[0.0] * K for _ in range(n_s)]
    for s, c in zip(subjects, answers):
        post[s][c] += 1.0
    for s in range(n_s):
        tot = sum(post[s])
        post[s] = [x / tot for x in post[s]] if tot else [0.0] * K
    for s, g in gold.items():
        post[s] = [1.0 if k == g else 0.0 for k in range(K)]
    for _ in range(n_iter):
        counts = [[[0.0] * K for _ in range(K)] for _ in range(n_u)]
        for s, u, c in zip(subjects, users, answers):
            for k in range(K):
                counts[u][k][c] += post[s][k]
        crowd = [[alpha + sum(counts[u][k][c] for u in range(n_u)) for c in range(K)] for k in range(K)]
        crowd = [[x / sum(row) for x in row] for row in crowd]
        pi = []
        for u in range(n_u):
            rows = []
            for k in range(K):
                row = [counts[u][k][c] + shrink * crowd[k][c] + alpha for c in range(K)]
                rows.append([x / sum(row) for x in row])
            pi.append(rows)
        rho = [alpha + sum(post[s][k] for s in range(n_s)) for k in range(K)]
        rho = [x / sum(rho) for x in rho]
        logp = [[math.log(rho[k]) for k in range(K)] for _ in range(n_s)]
        for s, u, c in zip(subjects, users, answers):
            for k in range(K):
                logp[s][k] += math.log(pi[u][k][c])
        for s in range(n_s):
            m = max(logp[s])
            w = [math.exp(x - m) for x in logp[s]]
            post[s] = [x / sum(w) for x in w]
        for s, g in gold.items():
            post[s] = [1.0 if k == g else 0.0 for k in range(K)]
    return np.array(post)


@pytest.mark.parametrize("alpha,shrink,use_gold", [(0.1, 5.0, False), (1.0, 0.0, True), (0.3, 2.0, True)])
def test_vectorised_em_equals_the_plain_loop(alpha: float, shrink: float, use_gold: bool) -> None:
    rng = np.random.default_rng(11)
    n_s, n_u, n = 40, 9, 260
    subjects = rng.integers(0, n_s, n)
    subjects[:n_s] = np.arange(n_s)                      # every subject has a vote
    users = rng.integers(0, n_u, n)
    users[:n_u] = np.arange(n_u)
    answers = rng.integers(0, K, n)
    gold = {int(s): int(rng.integers(0, K)) for s in rng.choice(n_s, 8, replace=False)} if use_gold else {}
    votes = pd.DataFrame({"subject_id": subjects, "candidate_id": [f"C{s:02d}" for s in subjects],
                          "user": [f"u{u}" for u in users], "class": np.asarray(CLASSES)[answers]})
    gold_s = pd.Series({f"C{s:02d}": CLASSES[g] for s, g in gold.items()}, dtype=object)
    ds = DawidSkene(max_iter=4, tol=1e-300, smoothing=alpha, shrinkage=shrink).fit(votes, gold_s if gold else None)
    assert ds.n_iter_ == 4
    ref = _reference_dawid_skene(subjects.tolist(), users.tolist(), answers.tolist(), n_s, n_u, gold, 4, alpha, shrink)
    np.testing.assert_allclose(ds.probas_.to_numpy(), ref, rtol=1e-10, atol=1e-12)


def test_bad_settings_are_input_errors() -> None:
    with pytest.raises(InputError, match="smoothing must be >= 0"):
        DawidSkene(smoothing=-1)
    with pytest.raises(InputError, match="max_iter must be at least 1"):
        DawidSkene(max_iter=0)


def test_single_vote_subjects_warn(caplog: pytest.LogCaptureFixture) -> None:
    votes = pd.DataFrame({"subject_id": [1, 2, 3], "user": ["a", "b", "a"], "class": ["low-z", "point", "point"]})
    with captured_warnings(caplog):
        DawidSkene().fit(votes)
    assert "most subjects have a single vote" in caplog.text
