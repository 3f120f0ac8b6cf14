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


__all__ = ["TEST_METRICS", "agreement_scores", "binary_scores", "is_cluster", "mean_std"]
