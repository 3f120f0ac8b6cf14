"""The report's "Human + machine" section: a replay folder (``hunt-clusters replay``) -> verdict, tables, figures.

The replay ran retirement policies (the workflow's count retirement, SWAP, SWAP with the CNN as prior,
the CNN alone) and, optionally, active learning (BALD-chosen labels against random ones) over one
survey. This module reads its folder and writes the part of the report an astronomer reads before
trusting the machine with a Zooniverse project: how many volunteer classifications each policy
spends for the count baseline's accuracy, what it costs in completeness, which subjects the machine
retires wrongly, and how that compares with the published anchors.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from . import _figures as F
from ._html import esc, figure, fmt, note, table, thumb_card, thumbnail
from ._inputs import _read_csv

log = logging.getLogger(__name__)

#: Goals of issue 20: a retirement policy reaching the count baseline's accuracy with at least this many
#: times fewer classifications (Beck et al. 2018's SWAP + machine), its cluster completeness no more than
#: this many points lower; BALD reaching the target accuracy with at least this fraction fewer labels
#: than random selection (Walmsley et al. 2020: 35-60 %).
GOAL_SAVING = 8.0
GOAL_COMPLETENESS_DROP = 1.0
GOAL_AL_FRACTION = 0.40

#: Pictures of wrong machine retirements shown at most.
N_WRONG = 8

#: The columns each file must have (the ones the section uses), and the columns read as text.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "policies": ("policy", "kind", "classifications", "saving", "accuracy", "completeness", "purity", "to_experts",
                 "n_subjects"),
    "curves": ("policy", "classifications", "accuracy"),
    "labels": ("policy", "candidate_id", "n_votes", "label", "cluster", "decision", "p_cnn", "truth", "scored",
               "image"),
    "active_learning": ("strategy", "n_labelled", "accuracy", "accuracy_lo", "accuracy_hi"),
}
_NUMERIC: dict[str, tuple[str, ...]] = {
    "policies": ("classifications", "saving", "accuracy", "completeness", "purity", "to_experts", "n_subjects"),
    "curves": ("classifications", "accuracy"),
    "labels": ("n_votes", "p_cnn"),
    "active_learning": ("n_labelled", "accuracy", "accuracy_lo", "accuracy_hi"),
}
_BOOLEAN = ("cluster", "truth", "scored")
_TEXT = ("policy", "kind", "decision", "strategy", "cluster", "truth", "scored", "subject_id")
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}

#: The published figures the replay is measured against (fixed text; shown as the anchors table).
ANCHORS: tuple[dict[str, str], ...] = (
    {"source": "Beck et al. 2018, MNRAS 476, 5516 (Galaxy Zoo 2 replayed)", "what": "SWAP alone",
     "figure": 'classifications "nearly 5-fold" fewer than the original retirement; 95.7 % accuracy'},
    {"source": "Beck et al. 2018, MNRAS 476, 5516", "what": "SWAP + a machine classifier trained on SWAP-retired subjects",
     "figure": 'classifications "at least a factor of 8" fewer; 93.1 % accuracy'},
    {"source": "Walmsley et al. 2020, MNRAS 491, 1554 (Galaxy Zoo, Bayesian CNNs)",
     "what": "BALD-chosen labels vs random choice", "figure": "35-60 % fewer labelled galaxies for the same model quality"},
    {"source": "Gravity Spy (Zevin et al. 2017, CQG 34, 064003)", "what": "machine score as the first vote",
     "figure": "a subject retires when the weighted posterior passes 0.9"},
    {"source": "Zooniverse Panoptes", "what": "classification_count retirement",
     "figure": "default 15 classifications a subject; this project's workflow 20"},
)


@dataclass(frozen=True)
class ReplayFolder:
    """The files of one ``hunt-clusters replay`` folder; ``None`` where an optional file is absent.

    Attributes
    ----------
    path : pathlib.Path
        The replay folder.
    summary : dict
        ``summary.json`` (``mode`` and ``baseline`` are always there).
    policies : pandas.DataFrame
        ``policies.csv``, one row per retirement policy (the baseline's row included).
    curves, labels, active_learning : pandas.DataFrame or None
        ``curves.csv``, ``labels.csv`` (``cluster``, ``truth``, ``scored`` as booleans, ``truth``
        missing where not scored), ``active_learning.csv``.
    missing : tuple of str
        The optional files that are absent, by name.
    """

    path: Path
    summary: dict[str, Any]
    policies: pd.DataFrame
    curves: pd.DataFrame | None = None
    labels: pd.DataFrame | None = None
    active_learning: pd.DataFrame | None = None
    missing: tuple[str, ...] = field(default_factory=tuple)


def _numbers(df: pd.DataFrame, path: Path, cols: tuple[str, ...]) -> pd.DataFrame:
    """``cols`` as floats; a value that is not a number is an error naming the file, row and column."""
    out = df.copy()
    for col in cols:
        v = pd.to_numeric(df[col], errors="coerce")
        bad = v.isna() & df[col].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{path}: row {i + 2}, column {col}: {df[col].iloc[i]!r} is not a number")
        out[col] = v.astype(float)
    return out


def _booleans(df: pd.DataFrame, path: Path, cols: tuple[str, ...]) -> pd.DataFrame:
    """``cols`` (``True``/``False``, empty allowed) as objects True / False / None."""
    out = df.copy()
    for col in cols:
        vals = []
        for i, v in enumerate(df[col]):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                vals.append(None)
            elif str(v).strip().lower() in _TRUE:
                vals.append(True)
            elif str(v).strip().lower() in _FALSE:
                vals.append(False)
            else:
                raise InputError(f"{path}: row {i + 2}, column {col}: {v!r} is not True or False")
        out[col] = pd.Series(vals, index=df.index, dtype=object)
    return out


def read_replay_folder(replay_dir: str | Path) -> ReplayFolder:
    """Read the output folder of ``hunt-clusters replay``.

    Parameters
    ----------
    replay_dir : str or pathlib.Path
        The folder; it must hold ``policies.csv`` and ``summary.json`` (with ``mode`` and
        ``baseline``, the policy the others are measured against). ``curves.csv``, ``labels.csv``
        and ``active_learning.csv`` are optional: a part of the section whose file is absent says so.

    Returns
    -------
    ReplayFolder

    Raises
    ------
    InputError
        The folder is not a replay folder (the message says what it found), or a file lacks a
        column, holds a value of the wrong kind, or the baseline has no row in ``policies.csv``.
    """
    path = Path(replay_dir)
    if not (path / "policies.csv").is_file():
        from .._outputs import describe_folder

        raise InputError(f"{replay_dir}: not a replay folder (expected policies.csv, curves.csv, labels.csv and "
                         f"summary.json written by 'hunt-clusters replay'; found {describe_folder(path)})")
    spath = path / "summary.json"
    if not spath.is_file():
        raise InputError(f"{spath}: not found (a replay folder has summary.json with its mode and baseline policy)")
    try:
        summary = json.loads(spath.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{spath}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{spath}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(summary, dict):
        raise InputError(f"{spath}: expected a JSON object, found {type(summary).__name__}")
    for key in ("mode", "baseline"):
        if key not in summary:
            raise InputError(f"{spath}: no key {key!r} (the replay's summary has mode and baseline)")
    found: dict[str, pd.DataFrame] = {}
    missing: list[str] = []
    for name, required in _COLUMNS.items():
        p = path / f"{name}.csv"
        if not p.is_file():
            missing.append(p.name)
            continue
        df = _numbers(_read_csv(p, required, text=_TEXT), p, _NUMERIC[name])
        if name == "labels":
            df = _booleans(df, p, _BOOLEAN)
        found[name] = df
    pol = found.pop("policies")
    if str(summary["baseline"]) not in set(pol["policy"].astype(str)):
        raise InputError(f"{path / 'policies.csv'}: no row of the baseline policy {summary['baseline']!r} "
                         f"(summary.json 'baseline'); policies: {', '.join(map(str, pol['policy']))}")
    if missing:
        log.info("%s: no %s", path, ", ".join(missing))
    return ReplayFolder(path=path, summary=summary, policies=pol, missing=tuple(missing), **found)


# ---------------------------------------------------------------------------------------------- numbers


def _num(x: Any) -> float | None:
    """A finite float, or None (absent, null, NaN)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _int(x: Any) -> int | None:
    v = _num(x)
    return None if v is None else int(round(v))


def saving_text(x: Any) -> str:
    """A saving as the page shows it: ``4.0x``, or ``not reached``.

    Examples
    --------
    >>> saving_text(4), saving_text(3.44), saving_text(None)
    ('4.0x', '3.4x', 'not reached')
    """
    v = _num(x)
    return "not reached" if v is None else f"{v:.1f}x"


def _points(x: float | None) -> str:
    return "–" if x is None else f"{x:+.1f}"


def _than(points: float | None) -> str:
    """A change in points as words: ``5.0 points lower than``, ``0.3 points higher than``, ``the same as``."""
    if points is None:
        return "unknown against"
    if round(points, 1) == 0:
        return "the same as"
    return f"{abs(points):.1f} points {'lower' if points < 0 else 'higher'} than"


def _count(x: Any) -> str:
    v = _int(x)
    return "–" if v is None else f"{v:,}"


def _equal_accuracy(rf: ReplayFolder) -> dict[str, dict[str, Any]]:
    """Per policy, the classifications at which it first reaches the baseline's final accuracy, the
    saving, and the completeness change there (points; None where unknown).

    From ``summary.json`` (``equal_accuracy``) where it has the policy; else from ``curves.csv`` by
    the replay's own rule (`hunt_clusters.retire.equal_accuracy`).
    """
    given = rf.summary.get("equal_accuracy") if isinstance(rf.summary.get("equal_accuracy"), dict) else {}
    derived: dict[str, dict[str, Any]] = {}
    if rf.curves is not None and any(not isinstance(given.get(n), dict) for n in rf.policies["policy"].astype(str)):
        from ..retire import equal_accuracy

        derived = equal_accuracy(rf.curves, rf.policies.assign(policy=rf.policies["policy"].astype(str)),
                                 str(rf.summary["baseline"]))
    out: dict[str, dict[str, Any]] = {}
    for name in rf.policies["policy"].astype(str):
        e, source = (given[name], "summary.json") if isinstance(given.get(name), dict) else \
            (derived.get(name), "curves.csv")
        if e is None:
            out[name] = {"classifications": None, "saving": None, "completeness_change_points": None,
                         "source": "not available"}
            continue
        change = _num(e.get("completeness_change"))
        out[name] = {"classifications": _int(e.get("classifications")), "saving": _num(e.get("saving")),
                     "completeness_change_points": None if change is None else 100 * change, "source": source}
    return out


def _policy_rows(rf: ReplayFolder) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One record per policy with its changes against the baseline, and the baseline's record."""
    base_name = str(rf.summary["baseline"])
    pol = rf.policies
    base = pol[pol["policy"].astype(str) == base_name].iloc[0]
    b_acc, b_comp, b_pur = (_num(base[k]) for k in ("accuracy", "completeness", "purity"))
    eq = _equal_accuracy(rf)
    rows = []
    for _, r in pol.iterrows():
        name = str(r["policy"])
        rec: dict[str, Any] = {"policy": name, "kind": None if pd.isna(r["kind"]) else str(r["kind"]),
                               "baseline": name == base_name}
        for k in ("classifications", "to_experts", "n_subjects"):
            rec[k] = _int(r[k])
        for k in ("saving", "accuracy", "completeness", "purity"):
            rec[k] = _num(r[k])
        for k in ("difference_lo", "difference_hi", "mcnemar_p"):   # optional columns (older replays lack them)
            rec[k] = _num(r[k]) if k in pol.columns else None
        for k, b in (("accuracy", b_acc), ("completeness", b_comp), ("purity", b_pur)):
            rec[f"{k}_change_points"] = None if rec[k] is None or b is None else 100 * (rec[k] - b)
        rec["equal_accuracy_classifications"] = eq[name]["classifications"]
        rec["equal_accuracy_saving"] = eq[name]["saving"]
        rec["equal_accuracy_source"] = eq[name]["source"]
        rec["equal_accuracy_completeness_change_points"] = eq[name]["completeness_change_points"]
        # the goal's completeness is the one where the baseline's accuracy is reached; the final one
        # where the replay does not say it
        at = eq[name]["completeness_change_points"]
        drop = at if at is not None else rec["completeness_change_points"]
        rec["meets_goal"] = bool(not rec["baseline"] and rec["equal_accuracy_saving"] is not None
                                 and rec["equal_accuracy_saving"] >= GOAL_SAVING - 1e-9
                                 and drop is not None and drop >= -GOAL_COMPLETENESS_DROP - 1e-9)
        rows.append(rec)
    return rows, next(r for r in rows if r["baseline"])


def _pct(x: float | None) -> str:
    return fmt(x, pct=True)


# ---------------------------------------------------------------------------------------------- verdict


def _goal_drop(r: dict[str, Any]) -> float | None:
    """The completeness change (points) the goal is judged on: where the baseline's accuracy is reached."""
    at = r.get("equal_accuracy_completeness_change_points")
    return at if at is not None else r["completeness_change_points"]


def _retirement_verdict(rows: list[dict[str, Any]], base: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    others = [r for r in rows if not r["baseline"]]
    reached = [r for r in others if r["equal_accuracy_saving"] is not None]
    goal = (f"the goal of at least {GOAL_SAVING:.0f}x (Beck et al. 2018's SWAP + machine; SWAP alone there: nearly "
            f"5x) with cluster completeness no more than {GOAL_COMPLETENESS_DROP:.0f} point lower")
    met_by = [r["policy"] for r in others if r["meets_goal"]]
    data: dict[str, Any] = {"goal_saving": GOAL_SAVING, "goal_completeness_drop_points": GOAL_COMPLETENESS_DROP,
                            "met": bool(met_by), "met_by": met_by, "baseline_accuracy": base["accuracy"],
                            "baseline_classifications": base["classifications"]}
    if not others:
        data["best"] = None
        return (f"The replay ran only the baseline <code>{esc(base['policy'])}</code>: nothing to compare; "
                f"{goal} is not measured.", data)
    if reached:
        best = max(reached, key=lambda r: (r["meets_goal"], r["equal_accuracy_saving"],
                                           -1e9 if r["completeness_change_points"] is None
                                           else r["completeness_change_points"]))
        data["best"] = best["policy"]
        text = (f"<b>Best retirement policy: <code>{esc(best['policy'])}</code> reaches the count baseline's accuracy "
                f"({_pct(base['accuracy'])}, <code>{esc(base['policy'])}</code>) after "
                f"{_count(best['equal_accuracy_classifications'])} volunteer classifications: "
                f"{saving_text(best['equal_accuracy_saving'])} fewer than the baseline's "
                f"{_count(base['classifications'])}; its cluster completeness there is "
                f"{_than(_goal_drop(best))} the baseline's"
                + ("" if best.get("equal_accuracy_completeness_change_points") is None
                   else f" (where it stops: {_points(best['completeness_change_points'])} points)")
                + ".</b> ")
        if best["meets_goal"]:
            text += f"That meets {goal}."
        else:
            why = []
            if best["equal_accuracy_saving"] < GOAL_SAVING:
                why.append(f"{saving_text(best['equal_accuracy_saving'])} is under {GOAL_SAVING:.0f}x")
            drop = _goal_drop(best)
            if drop is None:
                why.append("its completeness is unknown")
            elif drop < -GOAL_COMPLETENESS_DROP - 1e-9:
                why.append(f"completeness falls by {-drop:.1f} points")
            text += f"<b>Not met:</b> {goal} ({'; '.join(why)})."
            if met_by:
                text += " It is met by " + ", ".join(f"<code>{esc(p)}</code>" for p in met_by) + "."
        alone = [r for r in others if r["equal_accuracy_classifications"] == 0]
        if alone:
            text += (" " + ", ".join(f"<code>{esc(r['policy'])}</code>" for r in alone)
                     + " reach" + ("es" if len(alone) == 1 else "")
                     + " it with no volunteer classification at all: the CNN alone is as accurate as the baseline "
                       "on these subjects, so a saving at equal accuracy measures the CNN more than the way the "
                       "votes are combined; compare the policies also where they stop (the table's 'saving').")
            data["reached_without_volunteers"] = [r["policy"] for r in alone]
        return text, data
    cheapest = max(others, key=lambda r: r["saving"] if r["saving"] is not None else -1.0)
    data["best"] = None
    return (f"<b>No policy reaches the count baseline's accuracy ({_pct(base['accuracy'])}, "
            f"<code>{esc(base['policy'])}</code>): {goal} is not met.</b> The largest saving of classifications is "
            f"<code>{esc(cheapest['policy'])}</code>'s {saving_text(cheapest['saving'])} at "
            f"{_pct(cheapest['accuracy'])} accuracy ({_points(cheapest['accuracy_change_points'])} points) and "
            f"{_points(cheapest['completeness_change_points'])} points of completeness.", data)


def _al_numbers(rf: ReplayFolder) -> dict[str, Any] | None:
    al = rf.summary.get("active_learning")
    if not isinstance(al, dict):
        return None
    need = al.get("labels_needed") if isinstance(al.get("labels_needed"), dict) else {}
    return {"target_accuracy": _num(al.get("target_accuracy")),
            "labels_needed": {str(k): _int(v) for k, v in need.items()},
            "saving_fraction": _num(al.get("saving_fraction")),
            "retrained_per_round": al.get("retrained_per_round")}


def _al_verdict(al: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    goal = (f"the goal of at least {100 * GOAL_AL_FRACTION:.0f} % fewer labels than random selection "
            "(Walmsley et al. 2020: 35-60 %)")
    if al is None:
        return (f"Active learning was not run in this replay (no <code>active_learning</code> in summary.json): "
                f"{goal} is not measured.", {"measured": False, "met": None})
    need = al["labels_needed"]
    bald, rnd, frac = need.get("bald"), need.get("random"), al["saving_fraction"]
    met = frac is not None and frac >= GOAL_AL_FRACTION - 1e-9
    data = {"measured": True, "met": met, "goal_fraction": GOAL_AL_FRACTION, "saving_fraction": frac}

    def reaches(who: str, n: int | None) -> str:
        return f"{who} reach it with {_count(n)} labelled candidates" if n is not None else f"{who} do not reach it"

    reach = (f"the CNN's target test accuracy is {_pct(al['target_accuracy'])}; "
             f"{reaches('BALD-chosen labels', bald)}, {reaches('randomly chosen labels', rnd)}")
    if frac is None:
        return f"<b>Active learning: {reach}; no saving can be stated.</b> <b>Not met:</b> {goal}.", data
    how_many = (f"{100 * frac:.0f} % fewer labels with BALD" if frac >= 0
                else f"BALD needed {bald / rnd:.1f}x as many labels as random selection")
    return (f"<b>Active learning: {reach}: {how_many}.</b> "
            + (f"That meets {goal}." if met else f"<b>Not met:</b> {goal}."), data)


# ----------------------------------------------------------------------------------------------- parts


def _interval(r: dict[str, Any]) -> str:
    """`` [lo, hi]``: the 95 % paired interval of the difference from the baseline, in points, where the
    replay wrote it (policies.csv ``difference_lo`` / ``difference_hi``); else nothing."""
    lo, hi = r.get("difference_lo"), r.get("difference_hi")
    if lo is None or hi is None or r["baseline"]:
        return ""
    return f" [{100 * lo:+.1f}, {100 * hi:+.1f}]"


def _policies_table(rows: list[dict[str, Any]], base: dict[str, Any]) -> str:
    bname = base["policy"]
    tab = pd.DataFrame([{
        "policy": r["policy"], "kind": r["kind"] or "–", "classifications": _count(r["classifications"]),
        "saving": "no volunteers" if r["classifications"] == 0
        else saving_text(r["saving"]) if r["saving"] is not None else "–",
        "saving at equal accuracy": "1.0x" if r["baseline"] else "no volunteers"
        if r["equal_accuracy_classifications"] == 0 else saving_text(r["equal_accuracy_saving"]),
        f"accuracy (pts vs {bname})": f"{_pct(r['accuracy'])} ({_points(r['accuracy_change_points'])}"
                                      + _interval(r) + ")",
        "completeness (pts)": f"{_pct(r['completeness'])} ({_points(r['completeness_change_points'])})",
        "purity (pts)": f"{_pct(r['purity'])} ({_points(r['purity_change_points'])})",
        "to experts": _count(r["to_experts"]), "subjects": _count(r["n_subjects"])} for r in rows])
    return table(tab, row_classes=["baseline" if r["baseline"] else "" for r in rows])


def _curves_part(rf: ReplayFolder, base: dict[str, Any], save: Callable[[str, Any], bytes]) -> tuple[str, dict[str, Any]]:
    head = "<h3>Accuracy against volunteer classifications</h3>"
    if rf.curves is None:
        return head + note("<b>Curves</b>: not shown: the replay folder has no curves.csv"), {"available": False}
    series = {str(p): g.sort_values("classifications", kind="stable")[["classifications", "accuracy"]].to_numpy(float)
              for p, g in rf.curves.groupby("policy", sort=False)}
    order = [p for p in rf.policies["policy"].astype(str) if p in series] + \
            [p for p in series if p not in set(rf.policies["policy"].astype(str))]
    png = save("human_machine_curves", F.replay_curves({p: series[p] for p in order}, base["accuracy"],
                                                       base["policy"]))
    cap = (f"Accuracy of each policy's labels (cluster / non-cluster, on the scored subjects) against the volunteer "
           f"classifications spent so far, from curves.csv. Dashed: the final accuracy of the count baseline "
           f"<code>{esc(base['policy'])}</code> ({_pct(base['accuracy'])}); where a curve first reaches it is its "
           f"saving at equal accuracy. The x axis is logarithmic: a saving is a ratio, so \"8x fewer\" is the same "
           f"distance anywhere on it, and policies that spend 10 and 100 % of the baseline's classifications are "
           f"both readable.")
    return head + figure(png, cap, "accuracy against volunteer classifications"), {
        "available": True, "policies": order, "points": {p: len(series[p]) for p in order}}


def _al_part(rf: ReplayFolder, al: dict[str, Any] | None,
             save: Callable[[str, Any], bytes]) -> tuple[str, dict[str, Any]]:
    head = "<h3>Active learning: which candidates volunteers should label</h3>"
    data: dict[str, Any] = {"available": rf.active_learning is not None, **(al or {})}
    parts = [head]
    if al is not None and al.get("retrained_per_round"):
        parts.append(f"<p class=\"small\">Retrained per round: {esc(al['retrained_per_round'])}.</p>")
    if rf.active_learning is None:
        parts.append(note("<b>Active learning</b>: not shown: the replay folder has no active_learning.csv "
                          "(the replay was run without active learning)"))
        return "".join(parts), data
    a = rf.active_learning
    series = {str(s): g.sort_values("n_labelled", kind="stable")[["n_labelled", "accuracy", "accuracy_lo",
                                                                   "accuracy_hi"]].to_numpy(float)
              for s, g in a.groupby("strategy", sort=True)}
    target = al["target_accuracy"] if al else None
    png = save("human_machine_active_learning", F.active_learning_figure(series, target))
    cap = ("The CNN's test accuracy against the number of labelled candidates it was trained on, candidates chosen "
           "by BALD (the ensemble's mutual information) or at random; bands: 95 % intervals (active_learning.csv)."
           + (f" Dotted: the target accuracy {_pct(target)} (summary.json)." if target is not None else ""))
    parts.append(figure(png, cap, "active learning"))
    need = (al or {}).get("labels_needed") or {}
    rows = [{"strategy": s, "rounds": len(v), "labelled (last round)": _count(v[-1, 0]),
             "accuracy (last round)": _pct(v[-1, 1]),
             "labels to reach the target": _count(need[s]) if need.get(s) is not None else "not reached"}
            for s, v in series.items()]
    parts.append(table(pd.DataFrame(rows)))
    data["strategies"] = {s: {"rounds": len(v), "n_labelled": v[:, 0].tolist(), "accuracy": v[:, 1].tolist()}
                          for s, v in series.items()}
    return "".join(parts), data


def _image_path(rf: ReplayFolder, value: Any) -> Path | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return None
    p = Path(str(value))
    return p if p.is_absolute() else rf.path / p


def _wrong_part(rf: ReplayFolder) -> tuple[str, dict[str, Any]]:
    head = "<h3>Retired wrongly by the machine</h3>"
    machine = rf.summary.get("machine_policy")
    if rf.labels is None:
        return head + note("<b>Wrong retirements</b>: not shown: the replay folder has no labels.csv"), {
            "available": False}
    if not machine:
        return head + note("<b>Wrong retirements</b>: not shown: summary.json names no machine_policy"), {
            "available": False}
    lab = rf.labels
    mine = lab[lab["policy"].astype(str) == str(machine)]
    if not len(mine):
        return head + note(f"<b>Wrong retirements</b>: not shown: labels.csv has no rows of the machine policy "
                           f"<code>{esc(machine)}</code>"), {"available": False, "machine_policy": machine}
    retired = mine[mine["scored"].map(lambda v: v is True) & mine["decision"].astype(str).str.startswith("retire")]
    wrong = retired[retired["truth"].notna() & (retired["cluster"] != retired["truth"])]
    wrong = wrong.assign(_n=wrong["n_votes"].fillna(np.inf)).sort_values(["_n", "candidate_id"], kind="stable")
    cards, shown, skipped = [], [], []
    for _, r in wrong.iterrows():
        if len(shown) == N_WRONG:
            break
        img = _image_path(rf, r["image"])
        if img is None or not img.is_file():  # skipped and counted; an unreadable file shows as a box saying so
            skipped.append(str(r["candidate_id"]))
            continue
        png, why = thumbnail(img)
        lines = [str(r["candidate_id"]), f"truth: {'cluster' if r['truth'] else 'non-cluster'}",
                 f"label: {'–' if pd.isna(r['label']) else r['label']}", f"n_votes: {_count(r['n_votes'])}",
                 f"p_cnn: {fmt(_num(r['p_cnn']), digits=2)}"]
        cards.append(thumb_card(png, why, lines))
        shown.append(str(r["candidate_id"]))
    data = {"available": True, "machine_policy": str(machine), "n_retired_scored": int(len(retired)),
            "n_wrong": int(len(wrong)), "shown": shown, "n_skipped_no_image": len(skipped),
            "skipped": skipped[:20]}
    intro = (f"<p>The machine policy <code>{esc(machine)}</code> retired {len(retired)} scored subjects; "
             f"{len(wrong)} of them on the wrong side of the truth"
             + (f" ({_pct(len(wrong) / len(retired))})" if len(retired) else "") + ". "
             + (f"The {len(shown)} with the fewest volunteer votes and a picture on disk:" if shown else
                "None has a picture on disk." if len(wrong) else "") + "</p>")
    if skipped:
        intro += note(f"{len(skipped)} wrongly retired subject{'s' if len(skipped) != 1 else ''} skipped: the picture "
                      f"file is missing (e.g. {esc(', '.join(skipped[:5]))}).")
    return head + intro + (f"<div class=\"gallery\">{''.join(cards)}</div>" if cards else ""), data


def _anchors_table(rows: list[dict[str, Any]], base: dict[str, Any], al: dict[str, Any] | None,
                   rf: ReplayFolder) -> str:
    kinds = {r["policy"]: r["kind"] for r in rows}

    def best_of(kind: str) -> str:
        cand = [r for r in rows if kinds[r["policy"]] == kind and r["equal_accuracy_saving"] is not None]
        if not cand:
            return "no such policy reaches the baseline's accuracy" if any(
                kinds[r["policy"]] == kind for r in rows) else "not run"
        b = max(cand, key=lambda r: r["equal_accuracy_saving"])
        return f"{b['policy']}: {saving_text(b['equal_accuracy_saving'])} at equal accuracy; {_pct(b['accuracy'])}"

    frac = (al or {}).get("saving_fraction")
    machine = rf.summary.get("machine_policy")
    m = next((r for r in rows if r["policy"] == machine), None)
    ours = [best_of("swap"), best_of("swap-cnn"),
            "not run" if al is None else ("not reached" if frac is None else f"{100 * frac:.0f} % fewer labels"),
            "no machine_policy in summary.json" if machine is None else f"{machine}: not in policies.csv" if m is None
            else f"{machine}: {saving_text(m['equal_accuracy_saving'])} at equal accuracy; {_pct(m['accuracy'])}",
            f"{base['policy']} (the baseline): {_count(base['classifications'])} classifications, "
            f"{_pct(base['accuracy'])}"]
    tab = pd.DataFrame([{**a, "this replay": o} for a, o in zip(ANCHORS, ours)])
    return ("<h3>Against the anchors</h3><p class=\"small\">Published figures of projects that combine volunteers and "
            "machines (fixed text), beside this replay's.</p>" + table(tab, text_columns=True))


def human_machine(rf: ReplayFolder, save: Callable[[str, Any], bytes]) -> tuple[str, dict[str, Any]]:
    """The section: its HTML and its numbers (the report's ``metrics.json["human_machine"]``).

    ``save(name, fig)`` writes a figure as ``figures/<name>.png`` and returns its PNG bytes.
    """
    s = rf.summary
    rows, base = _policy_rows(rf)
    al = _al_numbers(rf)
    ret_text, ret = _retirement_verdict(rows, base)
    al_text, al_goal = _al_verdict(al)
    mode = str(s["mode"])
    where = ("the mock survey, scored against its truth" if mode == "mock" else
             "a recorded Zooniverse export, scored against the experts on the overlap (a policy can only retire "
             "earlier than the recorded votes)" if mode == "export" else f"mode {mode}")
    counts = ", ".join(f"{_count(s[k])} {w}" for k, w in (("n_subjects", "subjects"), ("n_scored", "scored"),
                                                           ("n_gold", "gold subjects for the volunteers' skills"))
                       if _int(s.get(k)) is not None)
    parts = [f"<p class=\"verdict\">{ret_text}</p><p class=\"verdict\">{al_text}</p>",
             f"<p class=\"small\">Replay folder <code>{esc(rf.path.resolve())}</code>: {esc(where)}"
             + (f"; {esc(counts)}" if counts else "") + ". Saving = the baseline's classifications / the policy's; "
             "\"at equal accuracy\": at the point where the policy's curve first reaches the baseline's final "
             "accuracy. Changes are in percentage points against the baseline (blue row).</p>"]
    cnn = s.get("cnn") if isinstance(s.get("cnn"), dict) else None
    if cnn:
        parts.append(f"<p class=\"small\">The CNN of the machine policies: {esc(cnn.get('how') or '–')}; test accuracy "
                     f"{_pct(_num(cnn.get('test_accuracy')))}.</p>")
    parts.append("<h3>Retirement policies</h3>" + _policies_table(rows, base))
    curves_html, curves = _curves_part(rf, base, save)
    al_html, al_data = _al_part(rf, al, save)
    wrong_html, wrong = _wrong_part(rf)
    parts += [curves_html, al_html, wrong_html, _anchors_table(rows, base, al, rf)]
    if rf.missing:
        parts.append(note("Files of the replay folder that are absent: " + esc(", ".join(rf.missing)) + "."))
    data = {"available": True, "replay_dir": str(rf.path.resolve()), "mode": mode, "baseline": base["policy"],
            "machine_policy": s.get("machine_policy"), "n_subjects": s.get("n_subjects"), "n_gold": s.get("n_gold"),
            "n_scored": s.get("n_scored"), "policies": rows, "retirement": ret,
            "active_learning": {**al_data, "goal": al_goal}, "curves": curves, "wrong_retirements": wrong,
            "anchors": list(ANCHORS), "cnn": cnn, "seconds": s.get("seconds"), "missing_inputs": list(rf.missing)}
    return "".join(parts), data


__all__ = ["ANCHORS", "GOAL_AL_FRACTION", "GOAL_COMPLETENESS_DROP", "GOAL_SAVING", "N_WRONG", "ReplayFolder",
           "human_machine", "read_replay_folder", "saving_text"]
