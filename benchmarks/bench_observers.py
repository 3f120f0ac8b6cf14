"""Mock observers (volunteers and experts) against the truth and each other, and the cue step's speed.

Measures, on a mock survey run through ``simulate``, ``render`` and ``simulate-volunteers``
(the set-up commands are printed by ``--help-setup``):

1. the volunteers' majority consensus against the truth (5-class and cluster / non-cluster;
   recall per true class; clusters per redshift bin) and against the experts on the overlap;
2. the experts against the truth over the expert sample; both confusion matrices;
3. the ``--gallery`` subjects of the overlap that volunteers and experts disagree on most (the
   share of volunteers who did not give the experts' class), with their vote counts, written
   as a contact sheet (``--sheet``) to look at;
4. with ``--timing``: ``hunt-clusters simulate-volunteers`` as typed with ``--jobs 2``, first with
   no cue cache (the cues are measured) and again (cached), and the cue step alone per subject.

Run it on the export of any version of the mock volunteers (``--export``), with the experts of
the catalogue or of ``hunt-clusters simulate-experts`` (``--experts``), to compare before and after:

    python benchmarks/bench_observers.py --survey S --export S/classifications.csv
    python benchmarks/bench_observers.py --survey S --export S/classifications.csv \\
        --experts S/experts.csv --sheet S/disagreements.png --timing
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

CLASSES = ("low-z", "hi-z", "galaxy", "point", "other")
CLUSTER = ("low-z", "hi-z")
Z_BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5)

SETUP = """\
hunt-clusters simulate --out S/survey --seed 7 --jobs 2
hunt-clusters render S/survey/candidates.ecsv --select in_zooniverse --out S/subject_set --jobs 2
hunt-clusters render S/survey/candidates.ecsv --select in_expert --out S/expert_set --jobs 2
hunt-clusters simulate-volunteers S/subject_set --out S/classifications.csv --workflows-out S/workflows.csv \\
    --seed 8 --jobs 2
hunt-clusters simulate-experts S/expert_set --seed 7 --out S/experts.csv   # = candidates.ecsv's expert_class"""


def read_votes(export: Path) -> pd.DataFrame:
    """Volunteer votes (candidate_id, class) of an export: experts, gold and seen_before rows left out."""
    from hunt_clusters.mock import EARLY_LABELS
    from hunt_clusters.workflow import load_workflow

    wf = load_workflow()
    label_class = {v: k for k, v in EARLY_LABELS.items()}
    label_class.update({lbl: wf.class_of(lbl) for lbl in wf.labels})
    df = pd.read_csv(export, dtype=str, keep_default_na=False,
                     usecols=["expert", "gold_standard", "metadata", "annotations", "subject_data"])
    keep = (df["expert"] == "") & (df["gold_standard"] != "true") & ~df["metadata"].str.contains('"seen_before":true')
    df = df[keep]
    value = df["annotations"].map(lambda s: json.loads(s)[0]["value"])
    cand = df["subject_data"].map(lambda s: next(iter(json.loads(s).values()))["#candidate_id"])
    return pd.DataFrame({"candidate_id": cand.to_numpy(), "klass": value.map(label_class).to_numpy()})


def consensus(votes: pd.DataFrame) -> pd.DataFrame:
    """Vote counts per class and the majority class (ties: the first class in CLASSES order)."""
    counts = pd.crosstab(votes["candidate_id"], votes["klass"]).reindex(columns=list(CLASSES), fill_value=0)
    counts["majority"] = np.array(CLASSES)[counts[list(CLASSES)].to_numpy().argmax(axis=1)]
    return counts


def _acc(a: pd.Series, b: pd.Series) -> tuple[float, float, int]:
    a, b = a.astype(str), b.astype(str)
    return (float((a == b).mean()), float((a.isin(CLUSTER) == b.isin(CLUSTER)).mean()), int(len(a)))


def _cm(rows: pd.Series, cols: pd.Series) -> pd.DataFrame:
    return pd.crosstab(rows.rename("rows"), cols.rename("cols")).reindex(index=list(CLASSES), columns=list(CLASSES),
                                                                        fill_value=0)


def compare(catalogue: Path, export: Path, experts: Path | None) -> dict:
    from astropy.table import Table

    t = Table.read(catalogue)
    cat = pd.DataFrame({
        "candidate_id": np.asarray(t["candidate_id"]).astype(str),
        "true_class": np.asarray(t["true_class"]).astype(str),
        "redshift": np.ma.filled(np.ma.asarray(t["redshift"], dtype=float), np.nan),
        "expert_class": np.ma.filled(np.ma.asarray(t["expert_class"]), "").astype(str),
        "in_expert": np.asarray(t["in_expert"], dtype=bool),
        "subtype": np.asarray(t["subtype"]).astype(str),
    }).set_index("candidate_id")
    if experts is not None:
        e = pd.read_csv(experts, dtype=str).set_index("candidate_id")["expert_class"]
        cat["expert_class"] = e.reindex(cat.index).fillna("")
    cons = consensus(read_votes(export))
    j = cons.join(cat, how="left")
    res: dict = {"n_subjects": int(len(j)), "n_votes": int(cons[list(CLASSES)].to_numpy().sum())}
    res["volunteers_vs_truth"] = dict(zip(("acc5", "acc2", "n"), _acc(j["majority"], j["true_class"])))
    res["volunteers_recall_by_class"] = {c: round(float((j.loc[j.true_class == c, "majority"] == c).mean()), 3)
                                         for c in CLASSES}
    clusters = j[j.true_class.isin(CLUSTER)]
    zb = pd.cut(clusters["redshift"], Z_BINS)
    res["volunteers_clusters_by_z"] = {
        str(k): {"n": int(len(g)), "acc5": round(float((g.majority == g.true_class).mean()), 3),
                 "called_cluster": round(float(g.majority.isin(CLUSTER).mean()), 3)}
        for k, g in clusters.groupby(zb, observed=True)}
    ov = j[j.in_expert & (j.expert_class != "")]
    res["volunteers_vs_experts_overlap"] = dict(zip(("acc5", "acc2", "n"), _acc(ov["majority"], ov["expert_class"])))
    res["volunteers_vs_experts_by_expert_class"] = {
        c: round(float((ov.loc[ov.expert_class == c, "majority"] == c).mean()), 3) for c in CLASSES}
    ex = cat[cat.in_expert]
    res["experts_vs_truth"] = dict(zip(("acc5", "acc2", "n"), _acc(ex["expert_class"], ex["true_class"])))
    res["experts_recall_by_class"] = {c: round(float((ex.loc[ex.true_class == c, "expert_class"] == c).mean()), 3)
                                      for c in CLASSES}
    res["cm_truth_vs_volunteers"] = _cm(j["true_class"], j["majority"]).to_dict(orient="index")
    res["cm_truth_vs_experts"] = _cm(ex["true_class"], ex["expert_class"]).to_dict(orient="index")
    res["cm_experts_vs_volunteers_overlap"] = _cm(ov["expert_class"], ov["majority"]).to_dict(orient="index")
    n = ov[list(CLASSES)].sum(axis=1)
    agree = np.array([ov.loc[i, ov.loc[i, "expert_class"]] for i in ov.index]) if len(ov) else np.zeros(0)
    ov = ov.assign(disagree=1.0 - agree / n)
    top = ov.sort_values(["disagree", "redshift"], ascending=[False, True]).head(8)
    res["top_disagreements"] = [
        {"candidate_id": i, "true": r.true_class, "subtype": r.subtype, "z": None if np.isnan(r.redshift) else
         round(float(r.redshift), 3), "expert": r.expert_class, "votes": {c: int(r[c]) for c in CLASSES}}
        for i, r in top.iterrows()]
    return res


def sheet(subject_set: Path, rows: list[dict], out: Path) -> None:
    """The disagreement gallery: the subjects' pictures with truth, expert and votes."""
    from PIL import Image, ImageDraw

    tile = 320
    img = Image.new("RGB", (4 * tile, 2 * (tile + 36)), "white")
    manifest = pd.read_csv(subject_set / "manifest.csv", dtype=str).set_index("#candidate_id")
    draw = ImageDraw.Draw(img)
    for k, r in enumerate(rows):
        x, y = (k % 4) * tile, (k // 4) * (tile + 36)
        with Image.open(subject_set / manifest.loc[r["candidate_id"], "image"]) as im:
            img.paste(im.convert("RGB").resize((tile, tile)), (x, y))
        v = " ".join(f"{c}:{n}" for c, n in r["votes"].items() if n)
        draw.text((x + 4, y + tile + 2), f"{r['candidate_id']} true {r['true']} ({r['subtype']}) z={r['z']}", fill="black")
        draw.text((x + 4, y + tile + 18), f"expert {r['expert']} | {v}", fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out)


def timing(subject_set: Path, seed: int) -> dict:
    """``simulate-volunteers`` as typed (--jobs 2): cold (cues measured) and cached; the cue step alone."""
    from hunt_clusters.mock import subject_set_cues

    cache = subject_set / "cues.parquet"
    out = {}
    for name in ("cold", "cached"):
        if name == "cold" and cache.exists():
            cache.unlink()
        t0 = time.perf_counter()
        subprocess.run(["hunt-clusters", "-q", "simulate-volunteers", str(subject_set), "--out",
                        str(subject_set.parent / "bench_observers_export.csv"), "--seed", str(seed), "--jobs", "2"],
                       check=True)
        out[f"simulate_volunteers_{name}_s"] = round(time.perf_counter() - t0, 2)
    cache.unlink()
    t0 = time.perf_counter()
    cues = subject_set_cues(subject_set, jobs=2)
    sec = time.perf_counter() - t0
    out.update(cue_step_jobs2_s=round(sec, 2), subjects=len(cues), ms_per_subject_jobs2=round(1000 * sec / len(cues), 2))
    t0 = time.perf_counter()
    subject_set_cues(subject_set, jobs=2)
    out["cue_step_cached_s"] = round(time.perf_counter() - t0, 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--survey", type=Path, help="folder S of the set-up commands")
    ap.add_argument("--catalogue", type=Path, help="default S/survey/candidates.ecsv")
    ap.add_argument("--subject-set", type=Path, help="default S/subject_set")
    ap.add_argument("--export", type=Path, help="the classification export to judge")
    ap.add_argument("--experts", type=Path, help="candidate_id,expert_class (default: the catalogue's)")
    ap.add_argument("--sheet", type=Path, help="write the disagreement gallery here (PNG)")
    ap.add_argument("--timing", action="store_true", help="time simulate-volunteers and the cue step")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--help-setup", action="store_true")
    a = ap.parse_args()
    if a.help_setup or (a.survey is None and a.catalogue is None):
        print(SETUP)
        return
    catalogue = a.catalogue or a.survey / "survey" / "candidates.ecsv"
    subject_set = a.subject_set or a.survey / "subject_set"
    res: dict = {}
    if a.export is not None:
        res = compare(catalogue, a.export, a.experts)
        if a.sheet is not None:
            sheet(subject_set, res["top_disagreements"], a.sheet)
    if a.timing:
        res["timing"] = timing(subject_set, a.seed)
    text = json.dumps(res, indent=1)
    print(text)
    if a.json is not None:
        a.json.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
