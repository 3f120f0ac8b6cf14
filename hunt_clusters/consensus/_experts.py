"""Volunteers vs experts: confusion matrices, accuracy, Cohen's kappa, agreement by number of votes."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import CLASSES, CLUSTER_CLASSES
from .._errors import InputError
from ._votes import _missing, _show, as_expert_series

log = logging.getLogger(__name__)

#: Default lower edges of the ``n_votes`` bins: 1-2, 3-4, 5-9, 10-14, 15-19, 20-29, 30-49, 50+.
DEFAULT_VOTE_BINS: tuple[int, ...] = (1, 3, 5, 10, 15, 20, 30, 50)

BINARY_CLASSES: tuple[str, str] = ("cluster", "non-cluster")


def cohen_kappa(cm: Sequence[Sequence[int]]) -> float | None:
    """Cohen's kappa ``(p_o - p_e) / (1 - p_e)`` of a confusion matrix, or None where it is undefined
    (no pair, or chance agreement of 1).

    Examples
    --------
    >>> round(cohen_kappa([[4, 1], [2, 3]]), 4)
    0.4
    """
    m = np.asarray(cm, dtype=np.float64)
    n = float(m.sum())
    if n == 0:
        return None
    p_e = float((m.sum(axis=0) * m.sum(axis=1)).sum() / n**2)
    if math.isclose(p_e, 1.0):
        return None
    return (float(np.trace(m)) / n - p_e) / (1.0 - p_e)


def _confusion(truth: np.ndarray, pred: np.ndarray, order: Sequence[str]) -> list[list[int]]:
    """Confusion matrix (rows: ``truth``, columns: ``pred``) over the classes of ``order``; pairs
    with a value outside ``order`` are left out (as scikit-learn's ``confusion_matrix(labels=...)``)."""
    k = len(order)
    lookup = {c: i for i, c in enumerate(order)}
    t = np.fromiter((lookup.get(c, -1) for c in truth), dtype=np.int64, count=len(truth))
    p = np.fromiter((lookup.get(c, -1) for c in pred), dtype=np.int64, count=len(pred))
    ok = (t >= 0) & (p >= 0)
    return np.bincount(t[ok] * k + p[ok], minlength=k * k).reshape(k, k).astype(int).tolist()


def _accuracy(truth: np.ndarray, pred: np.ndarray) -> float | None:
    return float((truth == pred).mean()) if len(truth) else None


def compare_with_experts(
    labels: pd.DataFrame,
    experts: pd.Series | pd.DataFrame,
    *,
    classes: Sequence[str] = CLASSES,
    cluster_classes: Sequence[str] | frozenset[str] = CLUSTER_CLASSES,
    vote_bins: Sequence[int] = DEFAULT_VOTE_BINS,
    exclude: Iterable[Any] | None = None,
    binary_from: str = "p_cluster",
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Compare consensus labels with expert classes on the candidates both classified.

    Parameters
    ----------
    labels : pandas.DataFrame
        A labels table (``docs/formats.md``; e.g. ``MajorityVote().fit(votes).labels_``): at
        least ``candidate_id``, ``label`` and ``n_votes``; ``agreement`` and ``method`` are used
        when present. Subjects without a label (no votes) are left out.
    experts : pandas.Series or pandas.DataFrame
        Expert classes: a Series indexed by candidate id, or a DataFrame with ``candidate_id``
        and ``expert_class`` columns (as in the candidate catalogue). Empty values mean "not
        classified by the experts".
    classes, cluster_classes : sequence of str
        Class order of the 5-class matrix, and the classes that count as a cluster.
    vote_bins : sequence of int
        Increasing lower edges of the ``n_votes`` bins of the agreement table; the last bin is
        open (``50+``).
    exclude : iterable, optional
        Candidate ids to leave out, e.g. the gold subjects a skill-aware method was given
        (their labels are the experts' own, so comparing them says nothing).
    binary_from : {"p_cluster", "label"}
        The volunteers' cluster / non-cluster answer: ``p_cluster >= threshold`` (default; for
        majority vote that is "at least half the votes say cluster", for SWAP its posterior) or
        whether ``label`` is a cluster class. The two differ where the votes split, e.g. 4 low-z,
        3 galaxy, 2 point: label low-z, but p_cluster = 4/9.
    threshold : float
        Threshold on ``p_cluster`` (default 0.5).

    Returns
    -------
    dict
        JSON-serialisable (plain ints, floats, lists; ``None`` where undefined):
        ``method``, ``n_labels`` (labelled subjects), ``n_experts`` (expert-classified
        candidates), ``n_excluded``, ``n_both`` (pairs compared), ``classes``,
        ``confusion`` (5-class, rows = experts, columns = volunteers), ``accuracy``, ``kappa``,
        ``binary_classes`` (``["cluster", "non-cluster"]``), ``binary_confusion``,
        ``binary_accuracy``, ``binary_kappa``, and ``by_n_votes``: a list of rows
        ``{"n_votes": "5-9", "min": 5, "max": 9, "n": ..., "accuracy": ..., "binary_accuracy": ...,
        "mean_agreement": ...}`` for the non-empty bins.

    Raises
    ------
    InputError
        A missing column, or a class that is not one of ``classes``.

    Examples
    --------
    >>> import pandas as pd
    >>> labels = pd.DataFrame({"candidate_id": ["A", "B", "C", "D"], "subject_id": [1, 2, 3, 4],
    ...                        "n_votes": [9, 9, 12, 3], "label": ["low-z", "hi-z", "point", "galaxy"],
    ...                        "agreement": [0.5, 0.6, 0.9, 1.0], "p_cluster": [0.7, 0.6, 0.1, 0.0],
    ...                        "method": "majority"})
    >>> experts = pd.Series({"A": "low-z", "B": "low-z", "C": "point", "E": "other"})
    >>> m = compare_with_experts(labels, experts)
    >>> m["n_both"], m["accuracy"], m["binary_accuracy"]
    (3, 0.6666666666666666, 1.0)
    """
    classes = tuple(classes)
    cluster_set = frozenset(cluster_classes)
    if binary_from not in ("p_cluster", "label"):
        raise InputError(f"binary_from must be 'p_cluster' or 'label', not {binary_from!r}")
    for col in ("candidate_id", "label", "n_votes") + (("p_cluster",) if binary_from == "p_cluster" else ()):
        if col not in labels.columns:
            raise InputError(f"labels table: missing column {col!r}; has {', '.join(map(str, labels.columns))}")
    exp = as_expert_series(experts, name="experts")
    if exp.index.name != "candidate_id":
        raise InputError("experts: compare on candidate_id (a Series indexed by candidate id, "
                         "or a DataFrame with candidate_id and expert_class columns)")
    exp = exp[~_missing(exp)].astype(str)
    bad = ~exp.isin(classes)
    if bad.any():
        raise InputError(f"experts: candidate {_show(exp.index[bad][0])} has class {_show(exp[bad].iloc[0])}; "
                         f"valid classes are {', '.join(classes)}")
    if exp.index.duplicated().any():
        dup = exp.index[exp.index.duplicated()][0]
        if exp.loc[[dup]].nunique() > 1:
            raise InputError(f"experts: candidate {_show(dup)} has two different expert classes")
        exp = exp[~exp.index.duplicated()]
    lab = labels.loc[~_missing(labels["label"]) & ~_missing(labels["candidate_id"])]
    bad = ~lab["label"].isin(classes)
    if bad.any():
        i = lab.index[bad][0]
        raise InputError(f"labels table: row {i} has label {_show(lab.loc[i, 'label'])}; "
                         f"valid classes are {', '.join(classes)}")
    n_excluded = 0
    if exclude is not None:
        keep = ~lab["candidate_id"].isin(set(exclude))
        n_excluded = int((~keep & lab["candidate_id"].isin(exp.index)).sum())
        lab = lab[keep]
    both = lab[lab["candidate_id"].isin(exp.index)]
    truth = exp.reindex(both["candidate_id"]).to_numpy(dtype=object)
    pred = both["label"].to_numpy(dtype=object)
    to_bin = np.vectorize(lambda c: BINARY_CLASSES[0] if c in cluster_set else BINARY_CLASSES[1], otypes=[object])
    truth_b = to_bin(truth) if len(truth) else truth
    if binary_from == "p_cluster":
        p_cl = both["p_cluster"].to_numpy(dtype=np.float64)
        pred_b = np.where(p_cl >= threshold, BINARY_CLASSES[0], BINARY_CLASSES[1]).astype(object)
    else:
        pred_b = to_bin(pred) if len(pred) else pred

    def cm(t: np.ndarray, p: np.ndarray, order: Sequence[str]) -> list[list[int]]:
        return _confusion(t, p, order)

    methods = sorted(map(str, labels["method"].dropna().unique())) if "method" in labels.columns else []
    confusion, binary_confusion = cm(truth, pred, classes), cm(truth_b, pred_b, BINARY_CLASSES)
    result: dict[str, Any] = {
        "method": methods[0] if len(methods) == 1 else (methods or None),
        "n_labels": int(len(labels.loc[~_missing(labels["label"])])),
        "n_experts": int(len(exp)),
        "n_excluded": n_excluded,
        "n_both": int(len(both)),
        "binary_from": binary_from,
        "classes": list(classes),
        "confusion": confusion,
        "accuracy": _accuracy(truth, pred),
        "kappa": cohen_kappa(confusion),
        "binary_classes": list(BINARY_CLASSES),
        "binary_confusion": binary_confusion,
        "binary_accuracy": _accuracy(truth_b, pred_b),
        "binary_kappa": cohen_kappa(binary_confusion),
        "by_n_votes": _by_n_votes(both, truth, pred, truth_b, pred_b, vote_bins),
    }
    return result


def _by_n_votes(both: pd.DataFrame, truth: np.ndarray, pred: np.ndarray, truth_b: np.ndarray,
                pred_b: np.ndarray, vote_bins: Sequence[int]) -> list[dict[str, Any]]:
    edges = [int(e) for e in vote_bins]
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])):
        raise InputError(f"vote bins must be increasing integers, not {list(vote_bins)!r}")
    n_votes = both["n_votes"].to_numpy(dtype=np.int64)
    agreement = (both["agreement"].to_numpy(dtype=np.float64) if "agreement" in both.columns
                 else np.full(len(both), np.nan))
    rows = []
    for i, lo in enumerate(edges):
        hi = edges[i + 1] - 1 if i + 1 < len(edges) else None
        sel = (n_votes >= lo) & (n_votes <= hi if hi is not None else True)
        if not sel.any():
            continue
        name = f"{lo}+" if hi is None else (str(lo) if hi == lo else f"{lo}-{hi}")
        agr = agreement[sel]
        rows.append({
            "n_votes": name, "min": lo, "max": hi, "n": int(sel.sum()),
            "accuracy": _accuracy(truth[sel], pred[sel]),
            "binary_accuracy": _accuracy(truth_b[sel], pred_b[sel]),
            "mean_agreement": float(np.nanmean(agr)) if np.isfinite(agr).any() else None,
        })
    below = int((n_votes < edges[0]).sum())
    if below:
        log.info("%d compared subjects have fewer than %d votes and are in no n_votes bin", below, edges[0])
    return rows


def expert_classes_from_votes(expert_votes: pd.DataFrame, *, classes: Sequence[str] = CLASSES) -> pd.Series:
    """One expert class per candidate from expert (or gold-standard) classifications.

    The experts' plurality class per subject (ties: the class voted first, see `MajorityVote`),
    as a Series indexed by ``candidate_id``, ready for ``gold=`` or `compare_with_experts`.

    Parameters
    ----------
    expert_votes : pandas.DataFrame
        A votes table of expert classifications (``subject_id``, ``candidate_id``, ``user``,
        ``class``), such as the ``expert_votes`` the export reader sets apart.
    classes : sequence of str
        The valid classes.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"subject_id": [1, 1, 1, 2], "candidate_id": ["A", "A", "A", "B"],
    ...                    "user": ["ml", "ak", "x", "ml"], "class": ["hi-z", "hi-z", "low-z", "point"],
    ...                    "expert": True})
    >>> expert_classes_from_votes(ev).to_dict()
    {'A': 'hi-z', 'B': 'point'}
    """
    from ._majority import MajorityVote

    lab = MajorityVote(classes=classes, include_experts=True).fit(expert_votes).labels_
    lab = lab[lab["label"].notna() & lab["candidate_id"].notna()]
    return pd.Series(lab["label"].to_numpy(), index=pd.Index(lab["candidate_id"].to_numpy(), name="candidate_id"),
                     name="expert_class")


def _fmt(x: Any, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, float):
        return f"{100 * x:.1f}%" if pct else f"{x:.3f}"
    return str(x)


def format_comparison(result: dict[str, Any]) -> str:
    """Render `compare_with_experts`'s result as plain text for a terminal summary.

    Examples
    --------
    >>> import pandas as pd
    >>> labels = pd.DataFrame({"candidate_id": ["A", "B"], "subject_id": [1, 2], "n_votes": [9, 3],
    ...                        "label": ["low-z", "point"], "p_cluster": [1.0, 0.0], "method": "majority"})
    >>> text = format_comparison(compare_with_experts(labels, pd.Series({"A": "low-z", "B": "galaxy"})))
    >>> print(text.splitlines()[0])
    majority vs experts: 2 candidates classified by both
    """
    lines = [f"{result.get('method') or 'consensus'} vs experts: {result['n_both']} candidates classified by both"]
    binary_note = "p_cluster >= 0.5" if result.get("binary_from", "p_cluster") == "p_cluster" else "label"
    if result.get("n_excluded"):
        lines[0] += f" ({result['n_excluded']} gold candidates left out)"
    lines.append(
        f"  5 classes: accuracy {_fmt(result['accuracy'], pct=True)}, kappa {_fmt(result['kappa'])}"
        f"   cluster/non-cluster ({binary_note}): accuracy {_fmt(result['binary_accuracy'], pct=True)}, "
        f"kappa {_fmt(result['binary_kappa'])}"
    )
    for title, order, matrix in (("5-class", result["classes"], result["confusion"]),
                                 ("binary", result["binary_classes"], result["binary_confusion"])):
        width = max(len(c) for c in order) + 2
        lines.append(f"  {title} confusion (rows: experts, columns: volunteers)")
        lines.append("  " + " " * width + "".join(f"{c:>{width}}" for c in order))
        for name, row in zip(order, matrix):
            lines.append("  " + f"{name:<{width}}" + "".join(f"{v:>{width}d}" for v in row))
    if result["by_n_votes"]:
        lines.append("  agreement with experts by number of votes")
        lines.append(f"  {'n_votes':>8}{'subjects':>10}{'5-class':>10}{'binary':>10}{'mean agr.':>11}")
        for r in result["by_n_votes"]:
            lines.append(f"  {r['n_votes']:>8}{r['n']:>10}{_fmt(r['accuracy'], True):>10}"
                         f"{_fmt(r['binary_accuracy'], True):>10}{_fmt(r['mean_agreement']):>11}")
    return "\n".join(lines)


__all__ = ["BINARY_CLASSES", "DEFAULT_VOTE_BINS", "compare_with_experts", "expert_classes_from_votes",
           "format_comparison"]
