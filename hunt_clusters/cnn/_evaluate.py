"""Scores of a cluster / non-cluster call: against spectroscopy on the test set, against experts on the overlap."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import CLASSES, CLUSTER_CLASSES

#: The test-set scores, in the order the paper's table and the report give them.
TEST_METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1", "roc_auc", "brier")


def is_cluster(classes: Any) -> np.ndarray:
    """Boolean: the class is low-z or hi-z (or the spectroscopic class ``cluster``)."""
    c = np.asarray(classes, dtype=object).astype(str)
    return np.isin(c, list(CLUSTER_CLASSES) + ["cluster"])


def _nan(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def binary_scores(truth: Any, p_cluster: Any, threshold: float = 0.5) -> dict[str, Any]:
    """Accuracy, precision, recall, F1, ROC AUC and Brier score of ``p_cluster`` against ``truth``.

    Parameters
    ----------
    truth : array-like of bool
        True for clusters.
    p_cluster : array-like of float
        Probability of being a cluster; the call is ``p_cluster >= threshold``.

    Returns
    -------
    dict
        The `TEST_METRICS` and ``n``; ``roc_auc`` is None when the truth has one class only.

    Examples
    --------
    >>> s = binary_scores([True, True, False, False], [0.9, 0.4, 0.2, 0.6])
    >>> s["accuracy"], s["precision"], s["recall"], s["roc_auc"], round(s["brier"], 4)
    (0.5, 0.5, 0.5, 0.75, 0.1925)
    """
    from sklearn.metrics import accuracy_score, brier_score_loss, precision_recall_fscore_support, roc_auc_score

    t = np.asarray(truth, dtype=bool)
    p = np.clip(np.asarray(p_cluster, dtype=np.float64), 0.0, 1.0)
    if len(t) == 0:
        return {**{m: None for m in TEST_METRICS}, "n": 0}
    call = p >= threshold
    prec, rec, f1, _ = precision_recall_fscore_support(t, call, average="binary", zero_division=0)
    auc = roc_auc_score(t, p) if 0 < t.sum() < len(t) else float("nan")
    return {"accuracy": float(accuracy_score(t, call)), "precision": float(prec), "recall": float(rec),
            "f1": float(f1), "roc_auc": _nan(auc), "brier": float(brier_score_loss(t, p, pos_label=True)),
            "n": int(len(t))}


def agreement_scores(expert_class: Any, p_cluster: Any, label: Any | None = None) -> dict[str, Any]:
    """Agreement with the experts: binary accuracy and Cohen's kappa, and 5-class ones when ``label`` is given.

    Examples
    --------
    >>> s = agreement_scores(["low-z", "point", "galaxy", "hi-z"], [0.8, 0.3, 0.6, 0.9],
    ...                      ["low-z", "point", "low-z", "low-z"])
    >>> s["accuracy"], s["kappa"], s["accuracy_5class"]
    (0.75, 0.5, 0.5)
    """
    from sklearn.metrics import cohen_kappa_score

    e = np.asarray(expert_class, dtype=object).astype(str)
    if len(e) == 0:
        return {"accuracy": None, "kappa": None, "n": 0}
    t = is_cluster(e)
    call = np.asarray(p_cluster, dtype=np.float64) >= 0.5
    out: dict[str, Any] = {"accuracy": float((t == call).mean()),
                           "kappa": _nan(cohen_kappa_score(t, call)) if len(set(t) | set(call)) > 1 else None,
                           "n": int(len(e))}
    if label is not None:
        lab = np.asarray(label, dtype=object).astype(str)
        out["accuracy_5class"] = float((lab == e).mean())
        out["kappa_5class"] = _nan(cohen_kappa_score(e, lab, labels=list(CLASSES)))
    return out


def mean_std(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Mean and sample standard deviation over runs of each score (None where no run has it)."""
    mean: dict[str, Any] = {}
    std: dict[str, Any] = {}
    for k in keys:
        v = np.array([r[k] for r in rows if r.get(k) is not None], dtype=np.float64)
        mean[k] = float(v.mean()) if len(v) else None
        std[k] = float(v.std(ddof=1)) if len(v) > 1 else (0.0 if len(v) else None)
    return mean, std


def choose_threshold(truth: Any, score: Any) -> float:
    """The cluster threshold on ``score`` with the best accuracy against ``truth`` (the validation
    split's labels): the midpoint between two consecutive distinct scores (or 0.5), ties resolved
    toward 0.5. Chosen on the validation split, it never sees a test candidate.

    Examples
    --------
    >>> choose_threshold([False, False, True, True], [0.1, 0.2, 0.3, 0.45])
    0.25
    >>> choose_threshold([True, False], [0.5, 0.5])
    0.5
    """
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(score, dtype=np.float64)
    u = np.unique(p)
    cands = np.unique(np.concatenate([[0.5], (u[1:] + u[:-1]) / 2])) if len(u) > 1 else np.array([0.5])
    acc = np.array([((p >= c) == t).mean() for c in cands]) if len(t) else np.zeros(len(cands))
    best = np.flatnonzero(np.isclose(acc, acc.max()))
    return float(cands[best[np.argmin(np.abs(cands[best] - 0.5))]])


def accuracy_interval(correct: Any, *, seed: int = 0, confidence: float = 0.95,
                      n_resamples: int = 2000) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of an accuracy over the test candidates (`scipy.stats.bootstrap`).

    ``correct`` is ``(n,)`` (one model) or ``(runs, n)``: with runs, each resample draws test
    candidates (with all their runs), so the interval holds the test-set sampling, not only the
    spread over runs. The mean over runs of the accuracy is the mean over candidates of their
    run-averaged correctness, which is what is resampled.

    Examples
    --------
    >>> accuracy_interval([[1, 1, 1, 1], [1, 1, 1, 1]])
    (1.0, 1.0)
    """
    from scipy import stats

    c = np.asarray(correct, dtype=np.float64)
    per_candidate = c.mean(axis=0) if c.ndim == 2 else c
    if len(per_candidate) == 0:
        return None, None
    r = stats.bootstrap((per_candidate,), np.mean, confidence_level=confidence, n_resamples=n_resamples,
                        method="percentile", random_state=np.random.default_rng(seed))
    return float(r.confidence_interval.low), float(r.confidence_interval.high)


def paired_comparison(correct_a: Any, correct_b: Any, *, seed: int = 0, confidence: float = 0.95,
                      n_resamples: int = 2000) -> dict[str, Any]:
    """Two classifiers scored on the same candidates: accuracies, their difference ``a - b`` with a
    paired percentile bootstrap interval, and the exact McNemar test (a two-sided binomial test of
    the discordant pairs, `scipy.stats.binomtest`).

    Examples
    --------
    >>> r = paired_comparison([1, 1, 1, 1, 0, 1, 1, 1, 1, 1], [1, 0, 0, 0, 1, 0, 0, 1, 1, 1])
    >>> r["n"], r["difference"], r["a_only"], r["b_only"], r["mcnemar_p"]
    (10, 0.4, 5, 1, 0.21875)
    """
    from scipy import stats

    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"paired_comparison: {a.shape} and {b.shape} candidates; pair them first")
    n = int(len(a))
    if n == 0:
        return {"n": 0, "accuracy_a": None, "accuracy_b": None, "difference": None, "difference_ci": [None, None],
                "a_only": 0, "b_only": 0, "mcnemar_p": None}
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    lo, hi = accuracy_interval(a.astype(float) - b.astype(float), seed=seed, confidence=confidence,
                               n_resamples=n_resamples)
    p = float(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue) if only_a + only_b else 1.0
    return {"n": n, "accuracy_a": float(a.mean()), "accuracy_b": float(b.mean()),
            "difference": float(a.mean() - b.mean()), "difference_ci": [lo, hi], "a_only": only_a, "b_only": only_b,
            "mcnemar_p": p}


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion ``k / n`` (never zero-width at 0 or 1).

    Examples
    --------
    >>> lo, hi = wilson_interval(0, 5)
    >>> lo, round(hi, 4)
    (0.0, 0.4345)
    """
    from scipy import stats

    if n == 0:
        return None, None
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def needed_test_size(accuracy: float, half_width: float, confidence: float = 0.95) -> int:
    """Test candidates for a binomial interval of ``+- half_width`` at ``accuracy`` (normal approximation).

    Examples
    --------
    >>> needed_test_size(0.9, 0.03)
    385
    """
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return int(math.ceil(z**2 * accuracy * (1 - accuracy) / half_width**2))


__all__ = ["TEST_METRICS", "accuracy_interval", "agreement_scores", "binary_scores", "choose_threshold",
           "is_cluster", "mean_std", "needed_test_size", "paired_comparison", "wilson_interval"]
