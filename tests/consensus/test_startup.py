"""Start-up cost of the consensus stage: no scikit-learn, scipy only where a method needs it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hunt_clusters.consensus._experts import _confusion


def test_majority_vote_loads_neither_sklearn_nor_scipy() -> None:
    """``hunt-clusters aggregate`` imports the consensus stage on every run: importing it and
    fitting a majority vote must not load scikit-learn (~1 s, and not a dependency of ours) or
    scipy (~0.2 s; Dawid-Skene and SWAP import the parts they use when they run)."""
    code = (
        "import sys, pandas as pd\n"
        "from hunt_clusters.consensus import MajorityVote, compare_with_experts\n"
        "v = pd.DataFrame({'subject_id': [1, 1, 2], 'candidate_id': ['A', 'A', 'B'], 'user': ['u', 'v', 'u'],\n"
        "                  'class': ['low-z', 'hi-z', 'point']})\n"
        "lab = MajorityVote().fit(v).labels_\n"
        "compare_with_experts(lab, pd.Series({'A': 'low-z', 'B': 'galaxy'}))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("seed", range(5))
def test_confusion_matches_scikit_learn(seed: int) -> None:
    """The bincount confusion matrix equals scikit-learn's ``confusion_matrix(labels=...)``, which it
    replaced: rows truth, columns prediction, pairs with a value outside the classes left out."""
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    order = ["low-z", "hi-z", "galaxy", "point", "other"]
    values = np.array([*order, "unknown"], dtype=object)
    truth = values[rng.integers(0, 6, 300)]
    pred = values[rng.integers(0, 6, 300)]
    truth[0] = "low-z"  # scikit-learn refuses a truth with none of the classes
    expected = metrics.confusion_matrix(list(truth), list(pred), labels=order).astype(int).tolist()
    assert _confusion(truth, pred, order) == expected
    binary = ["cluster", "non-cluster"]
    tb = np.where(np.isin(truth, ["low-z", "hi-z"]), "cluster", "non-cluster").astype(object)
    pb = np.where(rng.random(300) < 0.5, "cluster", "non-cluster").astype(object)
    assert _confusion(tb, pb, binary) == metrics.confusion_matrix(list(tb), list(pb), labels=binary).tolist()


def test_confusion_of_nothing_is_zeros() -> None:
    assert _confusion(np.array([], dtype=object), np.array([], dtype=object), ["a", "b"]) == [[0, 0], [0, 0]]
