"""The report's figures, drawn with matplotlib's object API (Agg canvas, no pyplot state)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: One colour per series, in order (colour-blind-safe Okabe-Ito).
COLOURS: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def new_figure(width: float, height: float) -> Figure:
    """A matplotlib figure on the Agg canvas, with constrained layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: Path) -> bytes:
    """Write ``fig`` to ``path`` as PNG and return the bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def histograms(panels: Sequence[tuple[str, Mapping[str, np.ndarray], bool]]) -> Figure:
    """One panel per quantity: ``(xlabel, {group: values}, log_x)``, groups overlaid as step histograms."""
    fig = new_figure(4.2 * len(panels), 3.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (xlabel, groups, log_x) in zip(axes, panels):
        allv = np.concatenate([np.asarray(v, dtype=float) for v in groups.values()]) if groups else np.array([])
        allv = allv[np.isfinite(allv) & ((allv > 0) if log_x else True)]
        if len(allv) == 0:
            ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes)
            continue
        lo, hi = allv.min(), allv.max()
        if hi == lo:
            hi = lo + 1.0
        bins = np.geomspace(lo, hi, 16) if log_x else np.linspace(lo, hi, 16)
        for (name, vals), colour in zip(groups.items(), COLOURS):
            v = np.asarray(vals, dtype=float)
            v = v[np.isfinite(v) & ((v > 0) if log_x else True)]
            ax.hist(v, bins=bins, histtype="step", lw=1.8, color=colour, label=f"{name} ({len(v)})")
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("candidates")
        ax.legend(fontsize=8, frameon=False)
    return fig


def confusion_matrices(panels: Sequence[tuple[str, Sequence[str], Sequence[Sequence[int]], str, str]]) -> Figure:
    """Confusion matrices side by side: ``(title, classes, matrix, row_label, column_label)``."""
    width = sum(1.6 + 0.6 * len(c) for _, c, _, _, _ in panels)
    fig = new_figure(max(width, 4.0), 3.6)
    ratios = [len(c) + 1.5 for _, c, _, _, _ in panels]
    axes = fig.subplots(1, len(panels), squeeze=False, gridspec_kw={"width_ratios": ratios})[0]
    for ax, (title, classes, matrix, rows, cols) in zip(axes, panels):
        m = np.asarray(matrix, dtype=float)
        norm = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", fontsize=9,
                        color="white" if norm[i, j] > 0.6 else "black")
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(classes)), classes, fontsize=8)
        ax.set_xlabel(cols)
        ax.set_ylabel(rows)
        ax.set_title(title, fontsize=10)
    return fig


def agreement_by_votes(series: Mapping[str, Sequence[Mapping[str, Any]]]) -> Figure:
    """Accuracy against the experts (5-class and binary) per bin of the number of votes, one line per method."""
    fig = new_figure(8.4, 3.2)
    axes = fig.subplots(1, 2)
    for ax, key, title in zip(axes, ("accuracy", "binary_accuracy"), ("5 classes", "cluster / non-cluster")):
        for (method, rows), colour in zip(series.items(), COLOURS):
            x = np.arange(len(rows))
            y = [np.nan if r.get(key) is None else r[key] for r in rows]
            ax.plot(x, y, "o-", color=colour, label=method)
            ax.set_xticks(x, [str(r["n_votes"]) for r in rows])
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("number of votes")
        ax.set_ylabel("agreement with the experts")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, frameon=False)
    return fig


def roc_figure(curves: Mapping[str, Mapping[str, Any]], points: Mapping[str, tuple[float, float]]) -> Figure:
    """ROC curves (``{name: {"fpr", "tpr", "auc", "runs": [...]}}``) and single operating points."""
    fig = new_figure(5.0, 4.4)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    for (name, c), colour in zip(curves.items(), COLOURS):
        for run in c.get("runs", []):
            ax.plot(run["fpr"], run["tpr"], color=colour, lw=0.7, alpha=0.35, drawstyle="steps-post")
        ax.plot(c["fpr"], c["tpr"], color=colour, lw=2, drawstyle="steps-post",
                ls="--" if name.startswith("volunteers") else "-", label=f"{name} (AUC {c['auc']:.3f})")
    for (name, (fpr, tpr)), marker in zip(points.items(), "s^Dv"):
        ax.plot([fpr], [tpr], marker, color="black", ms=8, label=f"{name} (one call)")
    ax.set_xlabel("false positive rate (non-clusters called clusters)")
    ax.set_ylabel("true positive rate (clusters found)")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def reliability_figure(series: Mapping[str, Sequence[Mapping[str, Any]]]) -> Figure:
    """Reliability diagram: fraction of clusters against mean predicted p_cluster, per bin."""
    fig = new_figure(5.0, 4.4)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1, label="perfectly calibrated")
    for (name, rows), colour in zip(series.items(), COLOURS):
        ax.plot([r["mean_p"] for r in rows], [r["fraction_clusters"] for r in rows], marker="o", color=colour,
                ls="--" if name.startswith("volunteers") else "-", label=name)
    ax.set_xlabel("mean predicted p_cluster in the bin")
    ax.set_ylabel("fraction that are clusters")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def training_curves(history: Any, models: Sequence[str]) -> Figure:
    """Loss and accuracy against epoch, one row per model, one line per run (validation dashed)."""
    fig = new_figure(8.4, 2.6 * len(models))
    axes = fig.subplots(len(models), 2, squeeze=False)
    for row, model in zip(axes, models):
        h = history[history["model"] == model]
        for (run, g), colour in zip(h.groupby("run", sort=True), COLOURS):
            g = g.sort_values("epoch")
            for ax, key in zip(row, ("loss", "accuracy")):
                if key in g:
                    ax.plot(g["epoch"], g[key], color=colour, label=f"run {run}")
                if f"val_{key}" in g:
                    ax.plot(g["epoch"], g[f"val_{key}"], color=colour, ls="--")
        for ax, key in zip(row, ("loss", "accuracy")):
            ax.set_title(f"{model}: {key} (solid train, dashed validation)", fontsize=9)
            ax.set_xlabel("epoch")
            ax.set_ylabel(key)
        row[0].legend(fontsize=7, frameon=False)
    return fig


def selection_figure(curves: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
                     quantities: Sequence[tuple[str, str, bool]]) -> Figure:
    """Completeness (top) and purity (bottom) against each quantity, one line per classifier.

    ``curves[quantity][classifier]`` are `selection_function` rows; ``quantities`` are
    ``(key, axis label, log_x)``.
    """
    fig = new_figure(4.3 * len(quantities), 6.4)
    axes = fig.subplots(2, len(quantities), squeeze=False)
    for j, (key, label, log_x) in enumerate(quantities):
        for i, what in enumerate(("completeness", "purity")):
            ax = axes[i][j]
            for k, ((name, rows), colour) in enumerate(zip(curves[key].items(), COLOURS)):
                x = np.array([np.sqrt(r["lo"] * r["hi"]) if log_x else (r["lo"] + r["hi"]) / 2 for r in rows])
                y = np.array([np.nan if r[what] is None else r[what] for r in rows], dtype=float)
                ci = np.array([[np.nan, np.nan] if r.get(f"{what}_ci") is None else r[f"{what}_ci"] for r in rows],
                              dtype=float).reshape(-1, 2)
                err = np.clip(np.vstack([y - ci[:, 0], ci[:, 1] - y]), 0, None)  # Wilson: asymmetric
                shift = (1 + 0.02 * (k - 1)) if log_x else 0.0
                xs = x * shift if log_x else x + 0.004 * (k - 1) * (x.max() - x.min() if len(x) > 1 else 1)
                ax.errorbar(xs, y, yerr=err, marker="o", color=colour, ms=4, capsize=2,
                            ls="--" if name.startswith("volunteers") else "-", label=name)
            if np.all([r[what] is None for rows in curves[key].values() for r in rows]):
                ax.text(0.5, 0.5, f"{what} not defined against {label}\n(non-clusters have no {label})",
                        ha="center", va="center", transform=ax.transAxes, fontsize=9)
            if log_x:
                ax.set_xscale("log")
            ax.set_ylim(-0.02, 1.05)
            ax.set_xlabel(label)
            ax.set_ylabel(what)
            ax.set_title(f"{what} against {label}", fontsize=10)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:  # below the panels, off the data (constrained layout makes room for it)
        fig.legend(handles, labels, loc="outside lower center", ncol=min(3, len(handles)), fontsize=8, frameon=False)
    return fig


def replay_curves(series: Mapping[str, np.ndarray], baseline_accuracy: float | None, baseline: str) -> Figure:
    """Accuracy against volunteer classifications, one line per policy (``{policy: [[classifications,
    accuracy], ...]}``), the baseline's final accuracy dashed; log x (a saving is a ratio), legend right."""
    fig = new_figure(8.6, 4.0)
    ax = fig.subplots()
    for (name, xy), colour in zip(series.items(), COLOURS * (1 + len(series) // len(COLOURS))):
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        ok = xy[:, 0] > 0
        if not ok.any() and len(xy):   # no volunteer at all (the CNN alone): a level, not a point at 0
            ax.axhline(xy[-1, 1], color=colour, ls=":", lw=1.6,
                       label=f"{name}: no volunteers ({100 * xy[-1, 1]:.1f}%)")
            continue
        ax.plot(xy[ok, 0], xy[ok, 1], color=colour, lw=2 if name == baseline else 1.6,
                marker="o" if ok.sum() < 25 else None, ms=3, label=name)
    if baseline_accuracy is not None:
        ax.axhline(baseline_accuracy, color="black", ls="--", lw=1,
                   label=f"{baseline} final accuracy ({100 * baseline_accuracy:.1f}%)")
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))  # 20, 50, 100 (not 2 x 10^1)
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_xlabel("volunteer classifications spent (log scale)")
    ax.set_ylabel("accuracy (cluster / non-cluster)")
    ax.grid(True, which="both", alpha=0.25)
    if series or baseline_accuracy is not None:
        fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=8, frameon=False)
    return fig


def active_learning_figure(series: Mapping[str, np.ndarray], target: float | None) -> Figure:
    """Test accuracy against labelled candidates per strategy (``{strategy: [[n_labelled, accuracy, lo,
    hi], ...]}``) with the 95 % interval as a band, and the target accuracy as a horizontal line."""
    fig = new_figure(8.6, 3.8)
    ax = fig.subplots()
    fixed = {"bald": COLOURS[0], "random": COLOURS[1]}
    spare = iter(COLOURS[2:] * (1 + len(series)))
    for name, v in series.items():
        v = np.asarray(v, dtype=float).reshape(-1, 4)
        colour = fixed.get(name) or next(spare)
        ax.fill_between(v[:, 0], v[:, 2], v[:, 3], color=colour, alpha=0.2, lw=0)
        ax.plot(v[:, 0], v[:, 1], color=colour, marker="o", ms=3, lw=1.8, label=f"{name} (95 % band)")
    if target is not None:
        ax.axhline(target, color="black", ls=":", lw=1.2, label=f"target accuracy ({100 * target:.1f}%)")
    ax.set_xlabel("labelled candidates the CNN was trained on")
    ax.set_ylabel("CNN test accuracy")
    ax.grid(True, alpha=0.25)
    if series or target is not None:
        fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=8, frameon=False)
    return fig


__all__ = ["COLOURS", "active_learning_figure", "agreement_by_votes", "confusion_matrices", "histograms", "new_figure",
           "reliability_figure", "replay_curves", "roc_figure", "save_png", "selection_figure", "training_curves"]
