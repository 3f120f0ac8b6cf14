"""The report's numbers: binary calls, ROC, calibration, completeness and purity, the CNN table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import CLASSES, CLUSTER_CLASSES
from ..consensus._experts import cohen_kappa  # the project's one kappa (report re-exports it)

#: Order of the models in tables and figures (others follow alphabetically).
MODEL_ORDER: tuple[str, ...] = ("votes-hard", "votes-soft", "votes-dirichlet", "expert-hard", "truth-hard",
                                "truth-hard-votes-set", "truth-hard-expert-set")

#: The paper's headline, shown as a reference row (not a number of this run).
PAPER_REFERENCE: dict[str, Any] = {
    "name": "Kosiba et al. 2020 (published reference)",
    "description": "custom CNN, expert labels, real X-CLASS data, 10 runs, 85 + 85 spectroscopic test set",
    "accuracy": 0.90,
}


def is_cluster(values: pd.Series) -> pd.Series:
    """1.0 where a class (5-class or ``cluster`` / ``non-cluster``) is a cluster, 0.0 where not, NaN where unknown.

    Examples
    --------
    >>> is_cluster(pd.Series(["low-z", "point", "cluster", "non-cluster", None, "junk"])).tolist()
    [1.0, 0.0, 1.0, 0.0, nan, nan]
    """
    v = values.astype(object).where(values.notna(), None).map(lambda x: str(x).strip().lower() if x is not None else "")
    out = pd.Series(np.nan, index=values.index, dtype=np.float64)
    out[v.isin(CLUSTER_CLASSES) | (v == "cluster")] = 1.0
    out[v.isin(set(CLASSES) - set(CLUSTER_CLASSES)) | (v == "non-cluster")] = 0.0
    return out


def binary_comparison(truth: np.ndarray, call: np.ndarray) -> dict[str, Any]:
    """Confusion matrix (rows truth, columns call; order cluster, non-cluster), accuracy, kappa, n.

    Examples
    --------
    >>> r = binary_comparison(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    >>> r["confusion"], r["accuracy"]
    ([[1, 1], [0, 2]], 0.75)
    """
    t = np.asarray(truth, dtype=bool)
    c = np.asarray(call, dtype=bool)
    cm = [[int((t & c).sum()), int((t & ~c).sum())], [int((~t & c).sum()), int((~t & ~c).sum())]]
    n = int(len(t))
    return {"classes": ["cluster", "non-cluster"], "confusion": cm, "n": n,
            "accuracy": float((t == c).mean()) if n else None, "kappa": cohen_kappa(cm)}


def roc_curve(truth: np.ndarray, score: np.ndarray) -> dict[str, Any] | None:
    """ROC curve (false and true positive rates at every distinct threshold) and its area.

    None where the truth has only one class.

    Examples
    --------
    >>> r = roc_curve(np.array([1, 1, 0, 0]), np.array([0.9, 0.4, 0.6, 0.1]))
    >>> r["auc"]
    0.75
    """
    y = np.asarray(truth, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(y)[last]
    fps = last + 1 - tps
    tpr = np.r_[0.0, tps / n_pos]
    fpr = np.r_[0.0, fps / n_neg]
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "auc": auc, "n_pos": n_pos, "n_neg": n_neg}


def calibration(truth: np.ndarray, score: np.ndarray, n_bins: int = 10) -> list[dict[str, Any]]:
    """Reliability table: per probability bin, the count, mean predicted p_cluster and fraction of clusters.

    Examples
    --------
    >>> calibration(np.array([1, 0, 1, 1]), np.array([0.9, 0.1, 0.8, 0.3]), n_bins=2)[1]
    {'lo': 0.5, 'hi': 1.0, 'n': 2, 'mean_p': 0.85, 'fraction_clusters': 1.0}
    """
    y = np.asarray(truth, dtype=np.float64)
    s = np.asarray(score, dtype=np.float64)
    idx = np.clip((s * n_bins).astype(int), 0, n_bins - 1)
    rows = []
    for i in range(n_bins):
        sel = idx == i
        if not sel.any():
            continue
        rows.append({"lo": i / n_bins, "hi": (i + 1) / n_bins, "n": int(sel.sum()),
                     "mean_p": round(float(s[sel].mean()), 12), "fraction_clusters": float(y[sel].mean())})
    return rows


def bin_edges(values: np.ndarray, *, log: bool, n_bins: int = 5) -> list[float] | None:
    """Common bin edges for a quantity (linear, or logarithmic for count rates); None where too few values."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & ((v > 0) if log else True)]
    if len(v) < 2 or v.min() == v.max():
        return None
    n_bins = max(1, min(n_bins, len(v) // 4 or 1))
    if log:
        return np.geomspace(v.min(), v.max(), n_bins + 1).tolist()
    return np.linspace(v.min(), v.max(), n_bins + 1).tolist()


def _wilson(k: int, n: int) -> list[float] | None:
    """95 % Wilson score interval of ``k / n`` (not zero-width at 0 or 1), None for ``n = 0``."""
    if not n:
        return None
    from ..cnn._evaluate import wilson_interval

    lo, hi = wilson_interval(k, n)
    return [float(lo), float(hi)]  # type: ignore[arg-type]


def selection_function(value: np.ndarray, truth: np.ndarray, call: np.ndarray,
                       edges: Sequence[float]) -> list[dict[str, Any]]:
    """Completeness and purity of a cluster call in bins of a quantity.

    Completeness: of the true clusters in the bin, the fraction called a cluster. Purity: of the
    candidates called a cluster in the bin, the fraction that are true clusters. Values outside
    the edges (or NaN) are left out; the last bin includes its upper edge. ``*_ci``: 95 % Wilson
    intervals (never zero-width at 0 % or 100 %).

    Examples
    --------
    >>> rows = selection_function(np.array([0.1, 0.2, 0.6, 0.7]), np.array([1, 1, 1, 0]),
    ...                           np.array([1, 0, 1, 1]), [0.0, 0.5, 1.0])
    >>> [(r["completeness"], r["purity"]) for r in rows]
    [(0.5, 1.0), (1.0, 0.5)]
    >>> [round(x, 3) for x in rows[0]["purity_ci"]]
    [0.207, 1.0]
    """
    v = np.asarray(value, dtype=np.float64)
    t = np.asarray(truth, dtype=bool)
    c = np.asarray(call, dtype=bool)
    e = np.asarray(edges, dtype=np.float64)
    ok = np.isfinite(v) & (v >= e[0]) & (v <= e[-1])
    idx = np.clip(np.searchsorted(e, v, side="right") - 1, 0, len(e) - 2)
    rows = []
    for i in range(len(e) - 1):
        sel = ok & (idx == i)
        n_true, n_called = int((sel & t).sum()), int((sel & c).sum())
        k_c, k_p = int((sel & t & c).sum()), int((sel & t & c).sum())
        rows.append({"lo": float(e[i]), "hi": float(e[i + 1]), "n": int(sel.sum()),
                     "n_true": n_true, "n_called": n_called,
                     "completeness": k_c / n_true if n_true else None,
                     "completeness_ci": _wilson(k_c, n_true),
                     "purity": k_p / n_called if n_called else None,
                     "purity_ci": _wilson(k_p, n_called)})
    return rows


def sort_models(names: Sequence[str]) -> list[str]:
    """Models in the report's order: ``MODEL_ORDER`` first, then the others alphabetically."""
    known = [m for m in MODEL_ORDER if m in names]
    return known + sorted(set(names) - set(known))


def mean_std(runs: Sequence[dict[str, Any]], split: str, key: str) -> tuple[float | None, float | None]:
    """Mean and standard deviation (ddof=1; 0 for one run) of ``run[split][key]`` over the runs."""
    vals = [r.get(split, {}).get(key) for r in runs]
    vals = [float(v) for v in vals if v is not None and np.isfinite(v)]
    if not vals:
        return None, None
    return float(np.mean(vals)), float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0


def model_summary(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """One model's row of the CNN table from its ``metrics.json`` entry.

    ``test_mean`` / ``test_std`` (and the overlap ones) are taken as written; where absent they
    are computed from ``runs`` (standard deviation with ddof=1).
    """
    runs = entry.get("runs") or []
    row: dict[str, Any] = {"model": name, "label_source": entry.get("label_source"), "target": entry.get("target"),
                           "method": entry.get("method"), "architecture": entry.get("architecture"),
                           "n_train": entry.get("n_train"), "n_runs": len(runs)}
    for split, keys in (("test", ("accuracy", "roc_auc", "f1", "brier")), ("overlap", ("accuracy", "kappa"))):
        given_mean = entry.get(f"{split}_mean") or {}
        given_std = entry.get(f"{split}_std") or {}
        for key in keys:
            m, s = mean_std(runs, split, key)
            row[f"{split}_{key}_mean"] = given_mean.get(key, m)
            row[f"{split}_{key}_std"] = given_std.get(key, s)
        ns = [r.get(split, {}).get("n") for r in runs if r.get(split, {}).get("n") is not None]
        row[f"{split}_n"] = ns[0] if ns else None
    ens = entry.get("ensemble") or {}
    row["ensemble_test_accuracy"] = (ens.get("test") or {}).get("accuracy")
    row["ensemble_test_accuracy_ci"] = (ens.get("test") or {}).get("accuracy_ci")
    row["test_accuracy_ci"] = entry.get("test_accuracy_ci")
    row["threshold"] = ens.get("threshold")
    row["collapsed"] = (entry.get("collapsed") or {}).get("kept_collapsed")
    row["collapsed_retried"] = (entry.get("collapsed") or {}).get("retried")
    row["output_means"] = entry.get("output_means")
    row["ensemble_overlap_accuracy"] = (ens.get("overlap") or {}).get("accuracy")
    return row


__all__ = ["MODEL_ORDER", "PAPER_REFERENCE", "bin_edges", "binary_comparison", "calibration", "cohen_kappa",
           "is_cluster", "mean_std", "model_summary", "roc_curve", "selection_function", "sort_models"]
