"""``write_report``: a training run folder -> report.html, metrics.json and figures/*.png."""

from __future__ import annotations

import json
import logging
import math
import shlex
from functools import partial
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import CLASSES, __version__
from .._errors import InputError
from . import _figures as F
from ._human_machine import human_machine, read_replay_folder
from ._html import esc, figure, fmt, fmt_pm, note, page, table, thumb_card, thumbnail
from ._inputs import RunFolder, read_run_folder
from ._metrics import (
    PAPER_REFERENCE,
    bin_edges,
    binary_comparison,
    calibration,
    is_cluster,
    model_summary,
    roc_curve,
    selection_function,
    sort_models,
)

log = logging.getLogger(__name__)

#: Below these sizes the CNN's figures are a quick look, not a measurement: fewer spectroscopic test
#: candidates than this (the interval on an accuracy near 90 % is then wider than +-6 points), or fewer
#: training candidates per model than this (demo --size small trains on ~120 and stays near chance).
MEANINGFUL_TEST = 100
MEANINGFUL_TRAIN = 500

#: Subjects shown per class in the survey's gallery, and disagreements shown with pictures.
GALLERY_PER_CLASS = 6
N_DISAGREEMENTS = 8


@dataclass
class _Writer:
    """Where figures go, and the list of them."""

    out_dir: Path
    figures: list[str] = field(default_factory=list)

    def save(self, name: str, fig: Any) -> bytes:
        self.figures.append(f"figures/{name}.png")
        return F.save_png(fig, self.out_dir / "figures" / f"{name}.png")


# --------------------------------------------------------------------------------------------- helpers


def _nonempty(df: pd.DataFrame | None, col: str) -> bool:
    return df is not None and col in df.columns and bool(df[col].notna().any())


def _image_path(run: RunFolder, value: Any) -> Path | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return None
    p = Path(str(value))
    return p if p.is_absolute() else run.path / p


def _main_method(run: RunFolder) -> str | None:
    """The consensus method the votes models were trained on (the one of ``vote_label``)."""
    for name in sort_models(list(run.metrics.get("models", {}))):
        entry = run.metrics["models"][name]
        if entry.get("label_source") == "votes" and entry.get("method"):
            return str(entry["method"])
    if run.labels is not None and "method" in run.labels.columns and run.labels["method"].notna().any():
        methods = list(dict.fromkeys(run.labels["method"].dropna()))
        return "majority" if "majority" in methods else str(methods[0])
    return None


def _labels_of(run: RunFolder, method: str | None) -> pd.DataFrame | None:
    lab = run.labels
    if lab is None:
        return None
    if "method" in lab.columns and method is not None:
        lab = lab[lab["method"] == method]
    return lab.drop_duplicates("candidate_id") if len(lab) else None


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _missing_note(what: str, why: str) -> str:
    return note(f"<b>{esc(what)}</b>: not shown: {why}")


# ------------------------------------------------------------------------------------------ the survey


def _survey(run: RunFolder, w: _Writer) -> tuple[str, dict[str, Any]]:
    c = run.candidates
    if c is None:
        return _missing_note("The survey", "the run folder has no candidates.csv"), {"available": False}
    data: dict[str, Any] = {"available": True, "n_candidates": int(len(c))}
    parts = [f"<p>{len(c)} candidates in the run folder's <code>candidates.csv</code>.</p>"]
    if "role" in c.columns:
        roles = c["role"].fillna("(none)").value_counts().sort_index()
        data["roles"] = {str(k): int(v) for k, v in roles.items()}
        parts.append("<h3>Roles in training</h3>" + table(pd.DataFrame({"role": roles.index, "candidates": roles.to_numpy()})))
        n = run.metrics.get("n") or {}
        if n.get("overlap") is not None:
            parts.append(f"<p class=\"small\">Role <code>overlap</code> counts the overlap candidates outside the test "
                         f"set; the overlap with the experts ({fmt(n.get('overlap'))} candidates) includes "
                         f"{fmt(n.get('overlap_test'))} of the {fmt(n.get('test'))} test candidates.</p>")
    sources = [(col, title) for col, title in (("vote_label", "volunteers (vote_label)"),
                                               ("expert_class", "experts (expert_class)"),
                                               ("true_class", "truth (true_class)")) if _nonempty(c, col)]
    counts: dict[str, dict[str, int]] = {}
    if sources:
        tab = pd.DataFrame({"class": [*CLASSES, "not classified", "total"]})
        for col, title in sources:
            vc = c[col].value_counts()
            n = {k: int(vc.get(k, 0)) for k in CLASSES}
            n["not classified"] = int(c[col].isna().sum() + (~c[col].isna() & ~c[col].isin(CLASSES)).sum())
            n["total"] = int(len(c))
            counts[col] = n
            tab[title] = [n[k] for k in tab["class"]]
        parts.append("<h3>Candidates per class</h3>" + table(tab))
    else:
        parts.append(_missing_note("Candidates per class", "candidates.csv has no vote_label, expert_class or true_class"))
    if _nonempty(c, "spec_class"):
        vc = c["spec_class"].value_counts()
        counts["spec_class"] = {"cluster": int(vc.get("cluster", 0)), "non-cluster": int(vc.get("non-cluster", 0)),
                                "none": int(c["spec_class"].isna().sum())}
        parts.append("<p>Spectroscopy: " + ", ".join(f"{v} {esc(k)}" for k, v in counts["spec_class"].items())
                     + " (spec_class).</p>")
    data["classes"] = counts

    # distributions
    truth_col = next((col for col in ("true_class", "expert_class", "spec_class") if _nonempty(c, col)), None)
    panels, stats = [], {}
    for col, label, log_x in (("redshift", "redshift", False), ("count_rate", "X-ray count rate (counts/s)", True)):
        if not _nonempty(c, col):
            parts.append(_missing_note(f"{label} distribution", f"candidates.csv has no {col} column or no values"))
            continue
        v = pd.to_numeric(c[col], errors="coerce")
        if truth_col:
            b = is_cluster(c[truth_col])
            groups = {"clusters": v[b == 1].to_numpy(), "non-clusters": v[b == 0].to_numpy()}
            if (b.isna() & v.notna()).any():
                groups["unknown"] = v[b.isna()].to_numpy()
        else:
            groups = {"all": v.to_numpy()}
        panels.append((label, groups, log_x))
        ok = v.dropna()
        stats[col] = {"n": int(len(ok)), "min": float(ok.min()), "median": float(ok.median()), "max": float(ok.max())}
    if panels:
        png = w.save("survey_distributions", F.histograms(panels))
        split = f" split by {esc(truth_col)}" if truth_col else ""
        parts.append("<h3>Redshift and X-ray count rate</h3>" + figure(png, f"Distributions{split}.", "distributions"))
        parts.append(table(pd.DataFrame([{"quantity": k, "candidates with a value": s["n"], "min": fmt(s["min"], digits=4),
                                          "median": fmt(s["median"], digits=4), "max": fmt(s["max"], digits=4)}
                                         for k, s in stats.items()])))
    data["distributions"] = stats
    gallery_html, gallery_data = _gallery(run)
    parts.append(gallery_html)
    data["gallery"] = gallery_data
    return "".join(parts), data


def _image_status(run: RunFolder) -> tuple[pd.Series, dict[str, Any]]:
    """Path (or None) of every candidate's picture, and the counts of found / missing ones."""
    c = run.candidates
    assert c is not None
    if "image" not in c.columns:
        paths = pd.Series([None] * len(c), index=c.index, dtype=object)
    else:
        paths = c["image"].map(lambda v: _image_path(run, v))
    found = paths.map(lambda p: p is not None and p.is_file())
    missing_ids = c.loc[~found, "candidate_id"].astype(str).tolist()
    return paths, {"has_image_column": "image" in c.columns, "n_found": int(found.sum()),
                   "n_missing": len(missing_ids), "missing_examples": missing_ids[:10]}


def _caption(row: pd.Series) -> list[str]:
    lines = [str(row["candidate_id"])]
    for col, name in (("vote_label", "volunteers"), ("expert_class", "experts"), ("true_class", "truth"),
                      ("spec_class", "spectroscopy")):
        if col in row.index and isinstance(row[col], str):
            lines.append(f"{name}: {row[col]}")
    return lines


def _gallery(run: RunFolder) -> tuple[str, dict[str, Any]]:
    c = run.candidates
    assert c is not None
    paths, status = _image_status(run)
    head = "<h3>Subjects as volunteers saw them</h3>"
    if not status["has_image_column"]:
        return head + _missing_note("Gallery", "candidates.csv has no image column (the subject pictures)"), status
    msg = ""
    if status["n_missing"]:
        ex = ", ".join(status["missing_examples"])
        msg = note(f"{status['n_missing']} of {len(c)} candidates have no subject picture on disk "
                   f"(e.g. {esc(ex)}); the gallery shows those with a picture first, the others as empty boxes.")
    col = next((k for k in ("vote_label", "true_class", "expert_class") if _nonempty(c, k)), None)
    if col is None:
        return head + msg + _missing_note("Gallery by class", "no class column to group the subjects by"), status
    found = paths.map(lambda p: p is not None and p.is_file())
    shown: dict[str, list[str]] = {}
    html_parts = [head, f"<p class=\"small\">Up to {GALLERY_PER_CLASS} subjects per class of <code>{esc(col)}</code>, "
                  "the pictures volunteers classified.</p>", msg]
    for cls in [*CLASSES, *sorted(set(c[col].dropna()) - set(CLASSES))]:
        sel = c[c[col] == cls].assign(_found=found).sort_values(["_found", "candidate_id"], ascending=[False, True])
        if not len(sel):
            continue
        sel = sel.head(GALLERY_PER_CLASS)
        shown[str(cls)] = sel["candidate_id"].astype(str).tolist()
        cards = [thumb_card(*thumbnail(paths[i]), _caption(row)) for i, row in sel.iterrows()]
        html_parts.append(f"<h4>{esc(cls)} ({int((c[col] == cls).sum())} candidates)</h4>"
                          f"<div class=\"gallery\">{''.join(cards)}</div>")
    status["by"] = col
    status["shown"] = shown
    return "".join(html_parts), status


# ---------------------------------------------------------------------------- volunteers vs experts


def _comparisons(run: RunFolder) -> dict[str, dict[str, Any]]:
    """Per consensus method, the comparison with the experts: aggregate's, else recomputed."""
    out: dict[str, dict[str, Any]] = {}
    agg = (run.aggregate_metrics or {}).get("methods") or {}
    for method, entry in agg.items():
        if isinstance(entry, dict) and isinstance(entry.get("experts"), dict):
            out[str(method)] = {**entry["experts"], "source": "aggregate_metrics.json"}
    c = run.candidates
    if run.labels is None or not _nonempty(c, "expert_class"):
        return out
    assert c is not None
    from ..consensus import compare_with_experts

    experts = c[["candidate_id", "expert_class"]].dropna()
    lab = run.labels
    methods = list(dict.fromkeys(lab["method"].dropna())) if "method" in lab.columns else ["consensus"]
    for method in methods:
        if method in out:
            continue
        sub = lab[lab["method"] == method] if "method" in lab.columns else lab
        if "n_votes" not in sub.columns or "p_cluster" not in sub.columns:
            continue
        out[str(method)] = {**compare_with_experts(sub, experts), "source": "labels.csv + candidates.csv"}
    return out


def _volunteers_vs_experts(run: RunFolder, w: _Writer) -> tuple[str, dict[str, Any]]:
    comps = _comparisons(run)
    if not comps:
        why = ("no aggregate_metrics.json with an expert comparison, and "
               + ("no labels.csv" if run.labels is None else "no expert_class in candidates.csv"))
        return _missing_note("Volunteers vs experts", why), {"available": False, "reason": why}
    parts = ["<p>Each consensus method's labels against the experts' classes on every candidate both "
             "classified (the overlap, test set included). The skill-aware methods are cross-fitted: each "
             "candidate's label comes from a fit whose gold standard did not hold it, so none is scored on its "
             "own expert label. Cohen's kappa measures agreement beyond chance (1 perfect, 0 chance). "
             "Rows of the confusion matrices are the experts' classes, columns the volunteers'.</p>"]
    rows = []
    for method, r in comps.items():
        rows.append({"method": method, "source": r["source"], "compared": r.get("n_both"),
                     "5-class accuracy": fmt(r.get("accuracy"), pct=True),
                     "5-class Cohen's kappa": fmt(r.get("kappa")),
                     "cluster accuracy": fmt(r.get("binary_accuracy"), pct=True),
                     "cluster Cohen's kappa": fmt(r.get("binary_kappa"))})
    parts.append("<h3>Accuracy and Cohen's kappa per method</h3>" + table(pd.DataFrame(rows)))
    for method, r in comps.items():
        if "confusion" not in r:
            continue
        png = w.save(f"confusion_{method}", F.confusion_matrices([
            ("5 classes", r["classes"], r["confusion"], "experts", "volunteers"),
            ("cluster / non-cluster", r.get("binary_classes", ["cluster", "non-cluster"]),
             r["binary_confusion"], "experts", "volunteers")]))
        parts.append(f"<h3>{esc(method)}: confusion matrices</h3>" + figure(
            png, f"{esc(method)} vs experts, {r.get('n_both')} candidates: 5-class confusion matrix (left) and "
                 f"cluster / non-cluster confusion matrix (right; cluster = low-z or hi-z). Counts; shading is the "
                 "fraction of the experts' row.", f"confusion matrices {method}"))
    by_votes = {m: r["by_n_votes"] for m, r in comps.items() if r.get("by_n_votes")}
    if by_votes:
        png = w.save("agreement_by_votes", F.agreement_by_votes(by_votes))
        parts.append("<h3>Agreement against the number of votes</h3>" + figure(
            png, "Fraction of subjects where the consensus agrees with the experts, by number of volunteer votes.",
            "agreement by number of votes"))
        parts.append(table(pd.DataFrame([{"method": m, "votes": b["n_votes"], "subjects": b["n"],
                                          "5-class accuracy": fmt(b.get("accuracy"), pct=True),
                                          "cluster accuracy": fmt(b.get("binary_accuracy"), pct=True),
                                          "mean agreement": fmt(b.get("mean_agreement"))}
                                         for m, rows_ in by_votes.items() for b in rows_])))
    dis_html, dis = _disagreements(run)
    parts.append(dis_html)
    return "".join(parts), {"available": True, "methods": comps, "disagreements": dis}


def _disagreements(run: RunFolder) -> tuple[str, list[dict[str, Any]]]:
    head = "<h3>Subjects volunteers and experts disagree on most</h3>"
    method = _main_method(run)
    lab = _labels_of(run, method)
    c = run.candidates
    if lab is None or not _nonempty(c, "expert_class"):
        return head + _missing_note("Disagreements", "needs labels.csv and expert_class in candidates.csv"), []
    assert c is not None
    both = lab.merge(c.drop(columns=[k for k in ("label",) if k in c.columns]), on="candidate_id",
                     how="inner", suffixes=("", "_cand"))
    both = both[both["expert_class"].notna() & both["label"].notna() & (both["label"] != both["expert_class"])]
    if not len(both):
        return head + "<p>None: on every candidate both classified, the volunteers' label is the experts'.</p>", []

    def against(row: pd.Series) -> float:
        col = f"frac_{row['expert_class']}"
        return 1.0 - float(row[col]) if col in row.index and pd.notna(row[col]) else float(row.get("agreement", 1.0))

    both = both.assign(_against=both.apply(against, axis=1))
    sort_cols = ["_against", *(["n_votes"] if "n_votes" in both.columns else []), "candidate_id"]
    both = both.sort_values(sort_cols, ascending=[False, *([False] if "n_votes" in both.columns else []), True])
    top = both.head(N_DISAGREEMENTS)
    paths, _ = _image_status(run)
    path_of = dict(zip(c["candidate_id"].astype(str), paths))
    cards, rows = [], []
    for _, r in top.iterrows():
        fracs = {k: float(r[f"frac_{k}"]) for k in CLASSES if f"frac_{k}" in r.index and pd.notna(r[f"frac_{k}"])}
        row = {"candidate_id": str(r["candidate_id"]), "expert_class": r["expert_class"], "volunteers": r["label"],
               "n_votes": int(r["n_votes"]) if "n_votes" in r.index and pd.notna(r["n_votes"]) else None,
               "votes_against_experts": float(r["_against"]), "fractions": fracs}
        if isinstance(r.get("true_class"), str):
            row["true_class"] = r["true_class"]
        rows.append(row)
        lines = [row["candidate_id"], f"experts: {row['expert_class']}", f"volunteers: {row['volunteers']}",
                 f"{fmt(row['votes_against_experts'], pct=True)} of {row['n_votes']} votes not {row['expert_class']}"]
        if "true_class" in row:
            lines.append(f"truth: {row['true_class']}")
        cards.append(thumb_card(*thumbnail(path_of.get(row["candidate_id"])), lines))
    intro = (f"<p class=\"small\">Consensus method <code>{esc(method or 'consensus')}</code>; ranked by the fraction "
             f"of votes for another class than the experts' ({len(both)} disagreements, the first "
             f"{len(top)} shown).</p>")
    tab = pd.DataFrame([{"candidate": r["candidate_id"], "experts": r["expert_class"], "volunteers": r["volunteers"],
                         "votes": r["n_votes"], "votes not the experts' class": fmt(r["votes_against_experts"], pct=True),
                         **{f"{k}": fmt(v, digits=2) for k, v in r["fractions"].items()}} for r in rows])
    return head + intro + f"<div class=\"gallery\">{''.join(cards)}</div>" + table(tab), rows


# ---------------------------------------------------------------------------------------------- the CNN


def _truth_on(run: RunFolder, col: str) -> pd.Series:
    c = run.candidates
    if not _nonempty(c, col):
        return pd.Series(dtype=np.float64)
    assert c is not None
    return pd.Series(is_cluster(c[col]).to_numpy(), index=c["candidate_id"].astype(str)).dropna()


def _ensemble(run: RunFolder) -> pd.DataFrame | None:
    """``ensemble.csv``, or the mean over runs of ``predictions.csv`` where it is absent."""
    if run.ensemble is not None:
        return run.ensemble
    if run.predictions is None:
        return None
    p = run.predictions
    return (p.groupby(["model", "candidate_id"], as_index=False)
            .agg(split=("split", "first"), p_cluster=("p_cluster", "mean")))


def _cnn_table(run: RunFolder, models: list[str]) -> tuple[str, dict[str, Any]]:
    m = run.metrics
    summaries = [model_summary(name, m["models"][name]) for name in models]
    rows, classes = [], []
    for s in summaries:
        rows.append({"model": s["model"], "trained on": s["label_source"], "target": s["target"],
                     "consensus": s["method"] if s["label_source"] == "votes" else "–",
                     "candidates": fmt(s["n_train"]), "runs": s["n_runs"],
                     "collapsed": fmt(s.get("collapsed")),
                     "test accuracy (spectroscopic)": fmt_pm(s["test_accuracy_mean"], s["test_accuracy_std"])
                     + " " + _ci(s.get("test_accuracy_ci")),
                     "ensemble test accuracy": fmt(s["ensemble_test_accuracy"], pct=True) + " "
                     + _ci(s.get("ensemble_test_accuracy_ci")),
                     "test ROC AUC": fmt_pm(s["test_roc_auc_mean"], s["test_roc_auc_std"], pct=False),
                     "overlap accuracy vs experts": fmt_pm(s["overlap_accuracy_mean"], s["overlap_accuracy_std"]),
                     "overlap Cohen's kappa": fmt_pm(s["overlap_kappa_mean"], s["overlap_kappa_std"], pct=False)})
        classes.append("")
    baselines = m.get("baselines") or {}
    for name, b in baselines.items():
        t, o = b.get("test") or {}, b.get("overlap") or {}
        rows.append({"model": name, "trained on": "(no CNN)", "target": "consensus" if name != "experts" else "experts",
                     "consensus": name.removeprefix("volunteers-") if name.startswith("volunteers") else "–",
                     "candidates": "–", "runs": "–", "collapsed": "–",
                     "test accuracy (spectroscopic)": fmt(t.get("accuracy"), pct=True) + f" (of {fmt(t.get('n'))})",
                     "ensemble test accuracy": fmt(t.get("accuracy"), pct=True) + " " + _ci(t.get("accuracy_ci")),
                     "test ROC AUC": fmt(t.get("roc_auc")),
                     "overlap accuracy vs experts": fmt(o.get("accuracy"), pct=True),
                     "overlap Cohen's kappa": fmt(o.get("kappa"))})
        classes.append("baseline")
    rows.append({"model": PAPER_REFERENCE["name"], "trained on": "expert labels (real X-CLASS data)",
                 "target": "custom CNN", "consensus": "–", "candidates": "–", "runs": "10", "collapsed": "–",
                 "test accuracy (spectroscopic)": fmt(PAPER_REFERENCE["accuracy"], pct=True) + " (reference)",
                 "test ROC AUC": "–", "ensemble test accuracy": "–", "overlap accuracy vs experts": "–",
                 "overlap Cohen's kappa": "–"})
    classes.append("reference")
    n = m.get("n") or {}
    caption = (f"<p>Binary accuracy (cluster = low-z or hi-z) on the spectroscopic test set "
               f"({fmt(n.get('test'))} candidates, {fmt(n.get('test_clusters'))} of them clusters), at the cluster "
               f"threshold each run chose on its validation split: mean ± standard deviation over the runs, then in "
               f"brackets the 95 % bootstrap interval over the test candidates (runs included); the ensemble (mean "
               f"over runs) with its own interval. Soft and Dirichlet outputs are expected vote fractions, not "
               f"P(cluster): they have no Brier score. 'candidates': the training candidates (by default the same "
               f"number for every model). Overlap: the CNN's call against the experts on the overlap candidates it "
               f"did not train on ({fmt(n.get('overlap'))} in the overlap, {fmt(n.get('overlap_test'))} of them in "
               f"the test set), with Cohen's kappa. Blue rows: the volunteers' consensus "
               "and the experts themselves, scored the same way. <i>Italic row: the paper's published headline "
               "(Kosiba et al. 2020, custom CNN, expert labels, real X-CLASS data), for reference only: not computed "
               "from this run.</i></p>")
    return caption + table(pd.DataFrame(rows), row_classes=classes), {
        "models": summaries, "baselines": baselines, "reference": PAPER_REFERENCE, "n": n,
        "holdout": m.get("holdout")}


def _ci(v: Any) -> str:
    """``[lo, hi]`` in per cent, or empty."""
    if not v or v[0] is None:
        return ""
    return f"[{100 * v[0]:.0f}, {100 * v[1]:.0f}]"


def _comparisons_table(m: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    comps = [c for c in m.get("comparisons") or [] if c.get("difference") is not None]
    if not comps:
        return _missing_note("Paired comparisons", "metrics.json has none (a run of an older version)"), []
    rows = [{"A": c["a"], "B": c["b"], "test candidates": c["n"], "A accuracy": fmt(c["accuracy_a"], pct=True),
             "B accuracy": fmt(c["accuracy_b"], pct=True),
             "A − B (points)": f"{100 * c['difference']:+.1f} [{100 * c['difference_ci'][0]:+.1f}, "
                               f"{100 * c['difference_ci'][1]:+.1f}]",
             "right only A / only B": f"{c['a_only']} / {c['b_only']}", "McNemar p (exact)": f"{c['mcnemar_p']:.3g}"}
            for c in comps]
    return ("<h3>Paired comparisons on the same test candidates</h3><p>The ensembles (and the volunteers' "
            "consensus and the experts) on the test candidates both classified: the difference in accuracy with "
            "its 95 % paired bootstrap interval, and the exact McNemar test of the candidates only one of the two "
            "got right.</p>" + table(pd.DataFrame(rows))), comps


def _verdict(run: RunFolder) -> tuple[str, dict[str, Any]]:
    """The answer first: votes-trained vs expert-trained CNN, with intervals, the paired test and caveats."""
    from ..cnn._evaluate import needed_test_size

    m = run.metrics
    models = m.get("models") or {}
    n = m.get("n") or {}
    comp = next((c for c in m.get("comparisons") or [] if c.get("a") == "votes-hard" and c.get("b") == "expert-hard"),
                None)
    if "votes-hard" not in models or "expert-hard" not in models or comp is None or comp.get("difference") is None:
        return _missing_note("Verdict", "needs votes-hard and expert-hard models with paired comparisons "
                             "(train-on-votes --label-source votes,expert)"), {"available": False}

    def acc(name: str) -> str:
        t = models[name]["ensemble"]["test"]
        return f"{fmt(t.get('accuracy'), pct=True)} {_ci(t.get('accuracy_ci'))}"

    lo, hi = comp["difference_ci"]
    half = (hi - lo) / 2
    vol = next((b for k, b in (m.get("baselines") or {}).items() if k.startswith("volunteers-")), None)
    ov = (vol or {}).get("overlap") or {}
    text = (f"<p class=\"verdict\"><b>CNN trained on the volunteers' votes: {acc('votes-hard')}; on the experts' "
            f"labels: {acc('expert-hard')}; difference {100 * comp['difference']:+.1f} points "
            f"[{100 * lo:+.1f}, {100 * hi:+.1f}], McNemar p = {comp['mcnemar_p']:.2g}, {comp['n']} spectroscopic test "
            f"candidates</b> (ensembles of {len(models['votes-hard']['runs'])} runs, each model trained on "
            f"{fmt(models['votes-hard']['n_train'])} / {fmt(models['expert-hard']['n_train'])} candidates; 95 % "
            f"bootstrap intervals).")
    if ov.get("n"):
        text += (f" Volunteers' consensus vs experts: {fmt(ov.get('accuracy'), pct=True)} agreement, Cohen's kappa "
                 f"{fmt(ov.get('kappa'))}, on {ov['n']} candidates both classified.")
    text += "</p>"
    collapsed = {k: (v.get("collapsed") or {}) for k, v in models.items()}
    bad = {k: c.get("kept_collapsed", 0) for k, c in collapsed.items() if c.get("runs_collapsed")}
    if bad:
        text += note("Collapsed runs (one class for the whole validation split, or never better than the first "
                     "epoch): " + ", ".join(f"{esc(k)} {collapsed[k]['runs_collapsed']} collapsed, "
                                            f"{collapsed[k]['retried']} retried, {v} kept" for k, v in bad.items()))
    data: dict[str, Any] = {"available": True, "votes_hard": models["votes-hard"]["ensemble"]["test"],
                            "expert_hard": models["expert-hard"]["ensemble"]["test"], "comparison": comp,
                            "volunteers_vs_experts": ov, "collapsed": collapsed, "n_test": n.get("test")}
    n_train = min(int(v.get("n_train") or 0) for v in models.values())
    if (n.get("test") or comp["n"]) < MEANINGFUL_TEST or n_train < MEANINGFUL_TRAIN:
        data["not_meaningful"] = True
        text = note(f"<b>These CNN figures are not meaningful</b>: {fmt(n.get('test') or comp['n'])} spectroscopic test "
                    f"candidates and {n_train} training candidates per model (a quick look, e.g. <code>hunt-clusters "
                    f"demo --size small</code>); a measurement needs at least {MEANINGFUL_TEST} test and "
                    f"{MEANINGFUL_TRAIN} training candidates (<code>hunt-clusters demo</code> as typed).") + text
    if half > 0.05 or comp["n"] < 100:
        a = (comp["accuracy_a"] + comp["accuracy_b"]) / 2
        need = max(needed_test_size(a, 0.05), int(np.ceil(comp["n"] * (half / 0.05) ** 2)))
        data["caveat"] = {"half_width": half, "needed_for_5_points": need}
        text += note(f"<b>Too small to decide:</b> the difference's 95 % interval spans ±{100 * half:.1f} points on "
                     f"{comp['n']} test candidates. Telling the two apart to ±5 points needs about {need} spectroscopic "
                     "test candidates (the interval narrows as one over the square root of their number).")
    return text, data


def _cnn(run: RunFolder, w: _Writer) -> tuple[str, dict[str, Any]]:
    models = sort_models(list((run.metrics.get("models") or {}).keys()))
    if not models:
        return _missing_note("The CNN", "metrics.json lists no models"), {"available": False}
    parts, data = [], {"available": True}
    tab_html, data["table"] = _cnn_table(run, models)
    parts.append("<h3>Accuracy on the spectroscopic test set</h3>" + tab_html)
    comp_html, data["comparisons"] = _comparisons_table(run.metrics)
    parts.append(comp_html)

    ens = _ensemble(run)
    spec = _truth_on(run, "spec_class")
    method = _main_method(run)
    lab = _labels_of(run, method)
    vol_name = f"volunteers ({method or 'consensus'})"
    # ROC and calibration on the spectroscopic test set
    if ens is None or not len(spec):
        why = "no ensemble.csv or predictions.csv" if ens is None else "no spec_class in candidates.csv"
        parts.append(_missing_note("ROC curves and calibration", why))
    else:
        curves: dict[str, dict[str, Any]] = {}
        reliab: dict[str, list[dict[str, Any]]] = {}
        for model in models:
            e = ens[(ens["model"] == model) & (ens["split"] == "test")]
            e = e[e["candidate_id"].isin(spec.index)]
            if not len(e):
                continue
            y = spec.reindex(e["candidate_id"]).to_numpy()
            r = roc_curve(y, e["p_cluster"].to_numpy(float))
            if r is None:
                continue
            runs = []
            if run.predictions is not None:
                p = run.predictions
                p = p[(p["model"] == model) & (p["split"] == "test") & p["candidate_id"].isin(spec.index)]
                for k, g in p.groupby("run", sort=True):
                    rr = roc_curve(spec.reindex(g["candidate_id"]).to_numpy(), g["p_cluster"].to_numpy(float))
                    if rr is not None:
                        runs.append({"run": int(k), **rr})
            curves[model] = {**r, "runs": runs}
            n_bins = 10 if len(e) >= 100 else 5
            reliab[model] = calibration(y, e["p_cluster"].to_numpy(float), n_bins=n_bins)
        if lab is not None:
            v = lab[lab["candidate_id"].isin(spec.index) & lab["p_cluster"].notna()] if "p_cluster" in lab else lab.iloc[:0]
            if len(v):
                y = spec.reindex(v["candidate_id"]).to_numpy()
                r = roc_curve(y, v["p_cluster"].to_numpy(float))
                if r is not None:
                    curves[vol_name] = {**r, "runs": []}
                reliab[vol_name] = calibration(y, v["p_cluster"].to_numpy(float), n_bins=10 if len(v) >= 100 else 5)
        points: dict[str, tuple[float, float]] = {}
        experts = _truth_on(run, "expert_class")
        on = experts.index.intersection(spec.index)
        if len(on):
            bc = binary_comparison(spec[on].to_numpy(), experts[on].to_numpy())
            (tp, fn), (fp, tn) = bc["confusion"]
            if tp + fn and fp + tn:
                points["experts"] = (fp / (fp + tn), tp / (tp + fn))
        data["roc"] = {k: {kk: vv for kk, vv in v.items()} for k, v in curves.items()}
        data["roc_points"] = {k: {"fpr": a, "tpr": b} for k, (a, b) in points.items()}
        data["calibration"] = reliab
        if curves:
            png = w.save("roc", F.roc_figure(curves, points))
            aucs = ", ".join(f"{esc(k)} {v['auc']:.3f}" for k, v in curves.items())
            parts.append("<h3>ROC curves</h3>" + figure(
                png, f"ROC curves on the spectroscopic test set: the mean p_cluster over runs (thick) and each run "
                     f"(thin); the volunteers' p_cluster dashed; the experts as one point. Area under the curve: {aucs}.",
                "ROC curves"))
        if reliab:
            png = w.save("calibration", F.reliability_figure(reliab))
            parts.append("<h3>Calibration</h3>" + figure(
                png, "Reliability diagram on the spectroscopic test set: in each bin of predicted p_cluster, the "
                     "fraction of candidates that are spectroscopic clusters. On the diagonal, p_cluster means what it says.",
                "reliability diagram"))
            parts.append("<details><summary>the reliability diagram's numbers</summary>" + table(pd.DataFrame([{"model": k, "p_cluster bin": f"{r['lo']:.1f}-{r['hi']:.1f}", "candidates": r["n"],
                                              "mean p_cluster": fmt(r["mean_p"]),
                                              "fraction clusters": fmt(r["fraction_clusters"])}
                                             for k, rows in reliab.items() for r in rows])) + "</details>")
    # training curves
    if run.history is None:
        parts.append(_missing_note("Training curves", "the run folder has no history.csv"))
    else:
        h = run.history
        hm = [m for m in models if (h["model"] == m).any()]
        if hm:
            png = w.save("training_curves", F.training_curves(h, hm))
            parts.append("<h3>Training curves</h3>" + figure(png, "Loss and accuracy per epoch for every run "
                                                                  "(solid: training; dashed: validation).", "training curves"))
            last = h.sort_values("epoch").groupby(["model", "run"], sort=True).tail(1)
            last = last.assign(_order=last["model"].map({m: i for i, m in enumerate(hm)})).sort_values(["_order", "run"])
            # history.csv counts epochs from 1 (as the runs table's "epochs" does): the last is the count
            final = [{"model": r["model"], "run": int(r["run"]), "epochs": int(r["epoch"]),
                      **{k: float(r[k]) for k in ("loss", "val_loss", "accuracy", "val_accuracy") if k in r.index and pd.notna(r[k])}}
                     for _, r in last.iterrows() if r["model"] in hm]
            data["training_final_epoch"] = final
            parts.append(table(pd.DataFrame([{k: fmt(v) if isinstance(v, float) else v for k, v in f.items()} for f in final])))
    # agreement with experts on the overlap (ensemble)
    experts = _truth_on(run, "expert_class")
    if ens is None or not len(experts):
        parts.append(_missing_note("Agreement with the experts on the overlap",
                                   "no ensemble.csv / predictions.csv" if ens is None else "no expert_class in candidates.csv"))
    else:
        panels, overlap = [], {}
        # the overlap includes the test set (role "test" in the run folder): every held-out overlap candidate
        held = ens["split"].isin(("overlap", "test"))
        if run.candidates is not None and "in_overlap" in run.candidates.columns:
            flag = run.candidates["in_overlap"].astype(str).str.lower().isin(("true", "1"))
            held &= ens["candidate_id"].isin(run.candidates.loc[flag, "candidate_id"])
        else:
            held &= ens["split"] == "overlap"
        for model in models:
            e = ens[(ens["model"] == model) & held & ens["candidate_id"].isin(experts.index)]
            if not len(e):
                continue
            bc = binary_comparison(experts.reindex(e["candidate_id"]).to_numpy(), e["p_cluster"].to_numpy(float) >= 0.5)
            overlap[model] = bc
            panels.append((model, bc["classes"], bc["confusion"], "experts", "CNN call"))
        ov_ids = pd.Index(ens.loc[held, "candidate_id"].unique()).intersection(experts.index)
        if lab is not None and "p_cluster" in lab.columns and len(ov_ids):
            v = lab[lab["candidate_id"].isin(ov_ids) & lab["p_cluster"].notna()]
            if len(v):
                bc = binary_comparison(experts.reindex(v["candidate_id"]).to_numpy(), v["p_cluster"].to_numpy(float) >= 0.5)
                overlap[vol_name] = bc
                panels.append((vol_name, bc["classes"], bc["confusion"], "experts", "volunteers' call"))
        data["overlap_ensemble"] = overlap
        if panels:
            png = w.save("overlap_confusion", F.confusion_matrices(panels))
            parts.append("<h3>Agreement with the experts on the overlap</h3>" + figure(
                png, "Cluster / non-cluster confusion matrices against the experts on the overlap candidates "
                     "(rows: experts; columns: the CNN's mean p_cluster over runs, or the volunteers' p_cluster, at 0.5).",
                "overlap confusion matrices"))
            parts.append(table(pd.DataFrame([{"classifier": k, "overlap candidates": b["n"],
                                              "accuracy": fmt(b["accuracy"], pct=True),
                                              "Cohen's kappa": fmt(b["kappa"])} for k, b in overlap.items()])))
    return "".join(parts), data


# ------------------------------------------------------------------------------------ selection function


def _selection(run: RunFolder, w: _Writer) -> tuple[str, dict[str, Any]]:
    c = run.candidates
    truth_col = next((k for k in ("true_class", "spec_class") if _nonempty(c, k)), None)
    if c is None or truth_col is None:
        why = "no candidates.csv" if c is None else "candidates.csv has neither true_class nor spec_class"
        return _missing_note("The selection function", why), {"available": False, "reason": why}
    ids = c["candidate_id"].astype(str)
    truth = pd.Series(is_cluster(c[truth_col]).to_numpy(), index=ids)
    calls: dict[str, pd.Series] = {}
    method = _main_method(run)
    lab = _labels_of(run, method)
    if lab is not None and "p_cluster" in lab.columns:
        calls[f"volunteers ({method or 'consensus'})"] = pd.Series(
            (lab["p_cluster"].to_numpy(float) >= 0.5).astype(float), index=lab["candidate_id"].astype(str)
        ).where(lab["p_cluster"].notna().to_numpy())
    elif _nonempty(c, "vote_label"):
        calls["volunteers (vote_label)"] = pd.Series(is_cluster(c["vote_label"]).to_numpy(), index=ids)
    if _nonempty(c, "expert_class"):
        calls["experts"] = pd.Series(is_cluster(c["expert_class"]).to_numpy(), index=ids)
    ens = _ensemble(run)
    if ens is not None:
        for model in sort_models(list(ens["model"].unique())):
            e = ens[(ens["model"] == model) & (ens["split"] != "train")]
            calls[f"CNN {model}"] = pd.Series((e["p_cluster"].to_numpy(float) >= 0.5).astype(float),
                                              index=e["candidate_id"].astype(str))
    if not calls:
        return _missing_note("The selection function", "no volunteer, expert or CNN calls in the run folder"), {
            "available": False}
    quantities = [(k, lbl, lg) for k, lbl, lg in (("redshift", "redshift", False),
                                                  ("count_rate", "X-ray count rate (counts/s)", True),
                                                  ("extent_arcsec", "X-ray extent (arcsec)", True)) if _nonempty(c, k)]
    parts = [f"<p>Completeness (of the true clusters, the fraction each classifier calls a cluster) and purity (of "
             f"those it calls a cluster, the fraction that are clusters) against <code>{esc(truth_col)}</code>"
             + (" (the mock survey's truth)" if truth_col == "true_class" else " (spectroscopy: only the candidates "
                "with a spectroscopic class count)")
             + ". Each classifier is scored on the candidates it classified: volunteers on the subjects with votes, "
               "experts on their sample, the CNN on every candidate it was not trained on; then each on the one "
               "common set of candidates every classifier scored. Error bars: 95 % Wilson intervals. Purity is not "
               "shown against redshift: non-clusters have no redshift, so a purity per redshift bin would count "
               "only the called clusters and be 100 % by construction; it is shown against X-ray count rate and "
               "extent instead.</p>"]
    summary, data = [], {"available": True, "truth": truth_col, "classifiers": {}, "bins": {}}
    for name, call in calls.items():
        call = call[~call.index.duplicated()].dropna()
        on = call.index.intersection(truth.dropna().index)
        bc = binary_comparison(truth[on].to_numpy(), call[on].to_numpy())
        (tp, fn), (fp, _tn) = bc["confusion"]
        entry = {"n": len(on), "n_true_clusters": tp + fn, "n_called_clusters": tp + fp,
                 "completeness": tp / (tp + fn) if tp + fn else None, "purity": tp / (tp + fp) if tp + fp else None}
        data["classifiers"][name] = entry
        summary.append({"classifier": name, "candidates scored": entry["n"], "true clusters": entry["n_true_clusters"],
                        "called clusters": entry["n_called_clusters"], "completeness": fmt(entry["completeness"], pct=True),
                        "purity": fmt(entry["purity"], pct=True)})
    parts.append("<h3>Overall completeness and purity</h3>" + table(pd.DataFrame(summary)))
    common = truth.dropna().index
    for call in calls.values():
        common = common.intersection(call[~call.index.duplicated()].dropna().index)
    data["common"] = {"n": int(len(common)), "classifiers": {}}
    rows_c = []
    for name, call in calls.items():
        call = call[~call.index.duplicated()]
        bc = binary_comparison(truth[common].to_numpy(), call[common].to_numpy()) if len(common) else None
        if bc is None:
            continue
        (tp, fn), (fp, _tn) = bc["confusion"]
        comp = tp / (tp + fn) if tp + fn else None
        pur = tp / (tp + fp) if tp + fp else None
        data["common"]["classifiers"][name] = {"completeness": comp, "purity": pur, "n_true_clusters": tp + fn}
        rows_c.append({"classifier": name, "true clusters": tp + fn, "completeness": fmt(comp, pct=True),
                       "purity": fmt(pur, pct=True)})
    if rows_c:
        parts.append(f"<h3>On one common set: the {len(common)} candidates every classifier scored</h3>"
                     + table(pd.DataFrame(rows_c)))
    if not quantities:
        parts.append(_missing_note("Completeness and purity against redshift and count rate",
                                   "candidates.csv has neither redshift nor count_rate"))
        return "".join(parts), data
    curves: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for key, label, log_x in quantities:
        value = pd.Series(pd.to_numeric(c[key], errors="coerce").to_numpy(), index=ids)
        edges = bin_edges(value[truth.notna()].to_numpy(), log=log_x)
        if edges is None:
            parts.append(_missing_note(f"Selection against {label}", f"too few candidates with a {key}"))
            continue
        curves[key] = {}
        for name, call in calls.items():
            call = call[~call.index.duplicated()].dropna()
            on = call.index.intersection(truth.dropna().index)
            rows_q = selection_function(value[on].to_numpy(), truth[on].to_numpy(), call[on].to_numpy(), edges)
            if key == "redshift":  # non-clusters have no redshift: a purity per bin is 100 % by construction
                rows_q = [{**r, "purity": None, "purity_ci": None} for r in rows_q]
            curves[key][name] = rows_q
        data["bins"][key] = {"edges": edges, "rows": curves[key]}
    shown = [q for q in quantities if q[0] in curves]
    if shown:
        png = w.save("selection_function", F.selection_figure(curves, shown))
        parts.append("<h3>Completeness and purity against redshift, X-ray count rate and extent</h3>" + figure(
            png, "Completeness (top) and purity (bottom) per bin with 95 % Wilson intervals; volunteers dashed. "
                 "No purity against redshift (non-clusters have none).", "completeness and purity"))
        for key, label, log_x in shown:
            rows = []  # long format (one row per classifier and bin): as narrow with 9 classifiers as with 2
            for name, rr in curves[key].items():
                for b in rr:
                    row = {"classifier": name, label: f"{b['lo']:.3g}-{b['hi']:.3g}", "true clusters": b["n_true"],
                           "completeness": fmt(b["completeness"], pct=True) + " " + _ci(b.get("completeness_ci"))}
                    if key != "redshift":
                        row.update({"called clusters": b["n_called"],
                                    "purity": fmt(b["purity"], pct=True) + " " + _ci(b.get("purity_ci"))})
                    rows.append(row)
            parts.append(f"<h4>Completeness and purity by {esc(label)}</h4>" + table(pd.DataFrame(rows)))
    return "".join(parts), data


# ----------------------------------------------------------------------------------------- what was run


def _what_was_run(run: RunFolder) -> tuple[str, dict[str, Any]]:
    cfg = run.config or {}
    m = run.metrics
    parts: list[str] = []
    data: dict[str, Any] = {}
    command = next((cfg[k] for k in ("command", "command_line", "argv") if k in cfg), None)
    if isinstance(command, list):
        command = shlex.join(map(str, command))
    data["command"] = command
    if command:
        parts.append(f"<h3>Command</h3><pre>{esc(command)}</pre>")
    else:
        parts.append(_missing_note("Command", "config.json is absent or has no command"))
    runs = [{"model": name, "run": r.get("run"), "seed": r.get("seed"), "epochs": r.get("epochs"),
             "seconds": r.get("seconds")} for name in sort_models(list(m.get("models", {})))
            for r in m["models"][name].get("runs") or []]
    data["runs"] = runs
    if runs:
        parts.append("<h3>Runs and seeds</h3>" + table(pd.DataFrame(
            [{**r, "seconds": fmt(r["seconds"], digits=1)} for r in runs])))
    seeds = {k: cfg[k] for k in ("seed", "seeds") if k in cfg}
    if seeds:
        data["config_seeds"] = seeds
        parts.append("<p>Seeds in config.json: " + esc(json.dumps(seeds)) + "</p>")
    timing = m.get("timing") or {}
    data["timing"] = timing
    if timing:
        parts.append("<h3>Timings</h3>" + table(pd.DataFrame({"timing": list(timing),
                                                               "value": [fmt(v, digits=3) for v in timing.values()]})))
    versions = {**(cfg.get("versions") or {}), **(m.get("versions") or {})}
    versions.setdefault("hunt_clusters (report)", __version__)
    data["versions"] = versions
    parts.append("<h3>Versions</h3>" + table(pd.DataFrame({"library": list(versions),
                                                            "version": [str(v) for v in versions.values()]})))
    if run.config is not None:
        parts.append("<h3>config.json</h3><pre>" + esc(json.dumps(run.config, indent=2, default=str)) + "</pre>")
    data["missing_inputs"] = list(run.missing)
    if run.missing:
        parts.append(note("Files of the run folder contract that are absent: " + esc(", ".join(run.missing)) + "."))
    return "".join(parts), data


# ------------------------------------------------------------------------------------------------ main


def write_report(run_dir: str | Path, out_dir: str | Path, *, progress: bool = False,
                 replay: str | Path | None = None) -> Path:
    """Write the comparison report of a ``train-on-votes`` run folder.

    Reads the run folder (``docs/formats.md``, "Training run folder") and writes, in ``out_dir``:
    ``report.html`` (one self-contained page: figures embedded as PNG data URIs, inline CSS, no
    JavaScript; it opens offline), ``metrics.json`` (every number the page shows) and
    ``figures/*.png``. Every number comes from a file of the run folder, except the paper's
    headline accuracy, shown as a marked reference row. Optional files that are absent give a
    section that says what is missing.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        The run folder; it must hold ``metrics.json``.
    out_dir : str or pathlib.Path
        The report folder (created; files in it are overwritten).
    progress : bool
        Log each section as it is written.
    replay : str or pathlib.Path, optional
        A ``hunt-clusters replay`` folder: adds the section "Human + machine" (retirement policies,
        their saving at equal accuracy, active learning, the subjects the machine retired wrongly,
        the published anchors) and its numbers under ``metrics.json["human_machine"]``. Without it
        the report has no such section.

    Returns
    -------
    pathlib.Path
        The path of ``report.html``.

    Raises
    ------
    InputError
        ``run_dir`` is not a run folder, ``replay`` is not a replay folder, or one of their files
        cannot be read or lacks a column.

    Examples
    --------
    >>> from hunt_clusters.report import write_report
    >>> write_report("runs/votes", "report")  # doctest: +SKIP
    PosixPath('report/report.html')
    """
    run = read_run_folder(run_dir)
    rf = read_replay_folder(replay) if replay is not None else None  # both read before anything is written
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    w = _Writer(out)
    steps: list[tuple[str, str, str, Callable[[], tuple[str, dict[str, Any]]]]] = [
        ("verdict", "verdict", "Verdict: votes or experts?", lambda: _verdict(run)),
        ("survey", "survey", "The survey", lambda: _survey(run, w)),
        ("volunteers", "volunteers_vs_experts", "Volunteers vs experts on the overlap",
         lambda: _volunteers_vs_experts(run, w)),
        ("cnn", "cnn", "The CNN", lambda: _cnn(run, w)),
        ("selection", "selection_function", "The selection function: completeness and purity",
         lambda: _selection(run, w)),
        *([("human-machine", "human_machine", "Human + machine", partial(human_machine, rf, w.save))]
          if rf is not None else []),
        ("run", "run", "What was run", lambda: _what_was_run(run)),
    ]
    sections, data = [], {"run_dir": str(run.path.resolve()), "report_version": __version__}
    for anchor, key, heading, fn in steps:
        if progress:
            log.info("report: %s", heading)
        body, d = fn()
        sections.append((anchor, heading, body))
        data[key] = d
    data["figures"] = w.figures
    n = run.metrics.get("n") or {}
    subtitle = (f"Run folder <code>{esc(run.path.resolve())}</code>; held out: {esc(run.metrics.get('holdout', '–'))}; "
                f"{fmt(n.get('train'))} training candidates, {fmt(n.get('overlap'))} in the overlap with the experts "
                f"({fmt(n.get('overlap_test'))} of them in the test set) and {fmt(n.get('test'))} spectroscopic test "
                f"candidates.")
    html = page("The Hunt for Galaxy Clusters: volunteers, experts and the CNN", subtitle, sections)
    (out / "metrics.json").write_text(json.dumps(_jsonable(data), indent=2, default=str) + "\n", encoding="utf-8")
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    log.debug("report: wrote %s (%d figures)", path, len(w.figures))  # the command line prints the path
    return path


__all__ = ["write_report"]
