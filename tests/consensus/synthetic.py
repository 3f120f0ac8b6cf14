"""Synthetic votes from volunteers with known confusion matrices (a helper of the consensus tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hunt_clusters import CLASSES


def synthetic_votes(
    *,
    n_subjects: int = 2000,
    n_users: int = 200,
    votes_per_subject: int = 7,
    frac_good: float = 0.3,
    good_accuracy: float = 0.9,
    poor_accuracy: float = 0.25,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """Votes, the true class per candidate, and each volunteer's accuracy.

    Good volunteers answer right with ``good_accuracy``; poor ones with ``poor_accuracy`` and
    otherwise a class drawn uniformly from the other four. Each subject is shown to
    ``votes_per_subject`` distinct volunteers drawn at random.
    """
    rng = np.random.default_rng(seed)
    k = len(CLASSES)
    truth = rng.choice(k, size=n_subjects, p=[0.25, 0.15, 0.25, 0.25, 0.10])
    good = rng.random(n_users) < frac_good
    acc = np.where(good, good_accuracy, poor_accuracy)
    users = np.argsort(rng.random((n_subjects, n_users)), axis=1)[:, :votes_per_subject].ravel()
    subj = np.repeat(np.arange(n_subjects), votes_per_subject)
    correct = rng.random(len(subj)) < acc[users]
    wrong = (truth[subj] + rng.integers(1, k, size=len(subj))) % k
    answer = np.where(correct, truth[subj], wrong)
    cand = np.array([f"C{i:05d}" for i in range(n_subjects)], dtype=object)
    votes = pd.DataFrame({
        "candidate_id": cand[subj],
        "subject_id": 1000 + subj,
        "user": [f"u{j:04d}" for j in users],
        "class": np.asarray(CLASSES, dtype=object)[answer],
        "created_at": pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(np.arange(len(subj)), unit="s"),
        "expert": False,
        "gold_standard": False,
    })
    truth_s = pd.Series(np.asarray(CLASSES, dtype=object)[truth], index=pd.Index(cand, name="candidate_id"))
    return votes, truth_s, acc
