"""Mock volunteers: the export must look exactly like a real Zooniverse export, behave like people,
answer from the pictures alone, and be accepted by panoptes_aggregation."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table
from handmade_subjects import mixed_scenes, write_subject_set

from hunt_clusters import CLASSES
from hunt_clusters._errors import InputError
from hunt_clusters.cli import main
from hunt_clusters.mock._volunteers import (
    EARLY_LABELS,
    EXPORT_COLUMNS,
    WORKFLOWS_EXPORT_COLUMNS,
    VolunteerConfig,
    read_subject_set,
    synthetic_subject_set,
    write_export,
    write_workflows_export,
)
from hunt_clusters.workflow import WorkflowDefinition, load_workflow

R_SMALL = 10
HEX20 = re.compile(r"[0-9a-f]{20}")
CREATED = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _jsonb_sorted(keys: list[str]) -> bool:
    k = [(len(x.encode()), x.encode()) for x in keys]
    return k == sorted(k)


def _make_subject_set(folder: Path, n: int = 60, seed: int = 4) -> tuple[Path, Path]:
    """A rendered subject set folder (manifest, tensors, a few PNGs) and an ECSV catalogue with the truth."""
    rng = np.random.default_rng(seed)
    ids = [f"XCLASS-{i:04d}" for i in range(n)]
    write_subject_set(folder, mixed_scenes(n, seed), ids)
    classes = np.array(CLASSES)[np.arange(n) % 5]
    cat = Table(
        {
            "candidate_id": ids,
            "ra": rng.uniform(0, 360, n),
            "dec": rng.uniform(-60, 60, n),
            "true_class": classes,
            "redshift": rng.uniform(0.05, 1.2, n),
        }
    )
    cat_path = folder.parent / f"{folder.name}_candidates.ecsv"
    cat.write(cat_path, format="ascii.ecsv", overwrite=True)
    from PIL import Image

    for cid in ids[:3]:
        Image.new("RGB", (356, 356)).save(folder / f"{cid}.jpg")
    return folder, cat_path


def _first_line(path: Path) -> str:
    with open(path, newline="") as fh:
        return fh.readline()


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("vol")
    folder, cat = _make_subject_set(root / "set")
    cfg = VolunteerConfig(seed=5, retirement=R_SMALL, seen_before_fraction=0.05, repeat_fraction=0.05, expert_fraction=0.2)
    summary = write_export(root / "export.csv", folder, catalogue=cat, config=cfg, workflows_out=root / "workflows.csv")
    return {"root": root, "set": folder, "cat": cat, "cfg": cfg, "summary": summary, "df": _read(root / "export.csv")}


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Paper scale: 1600 subjects x 20 classifications."""
    root = tmp_path_factory.mktemp("paper")
    manifest, cues = synthetic_subject_set(1600, seed=11)
    t = time.perf_counter()
    summary = write_export(root / "export.csv", manifest, cues, config=VolunteerConfig(seed=11))
    seconds = time.perf_counter() - t
    df = _read(root / "export.csv")
    meta = df["metadata"].map(json.loads)
    cand = df["subject_data"].map(lambda s: next(iter(json.loads(s).values()))["#candidate_id"])
    value = df["annotations"].map(lambda s: json.loads(s)[0]["value"])
    wf = load_workflow()
    early = {v: k for k, v in EARLY_LABELS.items()}
    klass = value.map(lambda v: early.get(v) or wf.class_of(v))
    # what an attentive expert makes of each picture (the experts' model without lapses)
    from hunt_clusters.mock._observers import class_probabilities, cue_arrays, experts

    rule = np.array(CLASSES)[class_probabilities(cue_arrays(cues), experts(len(cues), 0.0)).argmax(axis=1)]
    return {
        "df": df,
        "cues": cues.set_index("candidate_id"),
        "summary": summary,
        "seconds": seconds,
        "meta": meta,
        "cand": cand,
        "klass": klass,
        "rule": cand.map(dict(zip(cues["candidate_id"], rule))),
        "seen_before": meta.map(lambda m: m.get("seen_before", False)),
    }


# -- format -------------------------------------------------------------------------------------
def test_columns_and_order_match_the_real_export(small: dict, real_dir: Path) -> None:
    real = _first_line(real_dir / "zooniverse_exports" / "superluminous_supernovae_classifications.csv")
    ours = _first_line(small["root"] / "export.csv")
    assert ours == real
    assert tuple(ours.strip().split(",")) == EXPORT_COLUMNS
    assert small["df"].shape == (small["summary"].n_rows, 14)


def test_columns_are_those_the_reader_expects() -> None:
    from hunt_clusters.classifications import EXPORT_COLUMNS as READER_COLUMNS

    assert EXPORT_COLUMNS == READER_COLUMNS  # two copies (mock must not import a stage): keep them equal


def test_bytes_are_what_the_csv_module_writes(small: dict) -> None:
    text = (small["root"] / "export.csv").read_text()
    rows = list(csv.reader(io.StringIO(text)))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    assert buf.getvalue() == text
    assert all(len(r) == 14 for r in rows)


def test_fields(small: dict) -> None:
    df, cfg = small["df"], small["cfg"]
    assert set(df["workflow_version"]) == {"16.55", "17.60"}
    assert df["created_at"].str.fullmatch(CREATED).all()
    assert set(df["workflow_id"]) == {str(cfg.workflow_id)}
    assert set(df["workflow_name"]) == {"The Hunt for Galaxy Clusters"}
    assert set(df["gold_standard"]) == {"", "true"}
    assert set(df["expert"]) == {"", "expert", "owner"}
    assert df["user_ip"].str.fullmatch(HEX20).all()
    ids = df["classification_id"].astype(np.int64).to_numpy()
    assert (np.diff(ids) > 0).all()
    # rows in time order, ids increase with it
    created = pd.to_datetime(df["created_at"].str[:19])
    assert created.is_monotonic_increasing
    # the earlier version comes first
    late = (df["workflow_version"] == "17.60").to_numpy()
    assert not late[: np.argmax(late)].any() and late[np.argmax(late) :].all()


def test_metadata(small: dict, real_dir: Path) -> None:
    real = pd.read_csv(real_dir / "zooniverse_exports" / "superluminous_supernovae_classifications.csv", dtype=str)
    real_keys = list(json.loads(real["metadata"][0]))
    assert _jsonb_sorted(real_keys)  # the real front end's keys come back in jsonb order
    for m, created in zip(small["df"]["metadata"], small["df"]["created_at"]):
        d = json.loads(m)
        keys = list(d)
        assert _jsonb_sorted(keys)
        assert [k for k in keys if k != "seen_before"] == real_keys
        assert d.get("seen_before", True) is True
        assert list(d["subject_selection_state"]) == list(json.loads(real["metadata"][0])["subject_selection_state"])
        assert d["subject_selection_state"]["already_seen"] is ("seen_before" in d)
        assert ISO_MS.fullmatch(d["started_at"]) and ISO_MS.fullmatch(d["finished_at"])
        assert d["started_at"] < d["finished_at"]
        assert d["finished_at"][:19].replace("T", " ") <= created[:19]
        assert len(d["session"]) == 64


def test_annotations_and_subject_data(small: dict) -> None:
    df = small["df"]
    wf = load_workflow()
    labels = {"16.55": set(EARLY_LABELS.values()), "17.60": set(wf.labels)}
    manifest = pd.read_csv(small["set"] / "manifest.csv", dtype=str)
    by_cand = manifest.set_index("#candidate_id")
    for a, v, sd, sid in zip(df["annotations"], df["workflow_version"], df["subject_data"], df["subject_ids"]):
        ann = json.loads(a)
        assert len(ann) == 1 and list(ann[0]) == ["task", "task_label", "value"]
        assert ann[0]["task"] == "T0" and ann[0]["task_label"] == wf.question
        assert ann[0]["value"] in labels[v]
        data = json.loads(sd)
        assert list(data) == [sid]
        inner = data[sid]
        assert list(inner) == ["retired", "#ra", "#dec", "image", "#candidate_id"]
        row = by_cand.loc[inner["#candidate_id"]]
        assert (inner["#ra"], inner["#dec"], inner["image"]) == (row["#ra"], row["#dec"], row["image"])
        r = inner["retired"]
        assert list(r) == [
            "id", "workflow_id", "classifications_count", "created_at", "updated_at", "retired_at",
            "subject_id", "retirement_reason",
        ]
        assert r["subject_id"] == int(sid) and r["classifications_count"] == R_SMALL


def test_subject_ids_numbered_like_zooniverse(small: dict) -> None:
    m = read_subject_set(small["set"])
    assert m["subject_id"].tolist() == list(range(31_200_000, 31_200_000 + 60))
    assert set(small["df"]["subject_ids"].astype(int)) == set(m["subject_id"])


def test_upload_ledger_gives_subject_ids(tmp_path: Path) -> None:
    folder, cat = _make_subject_set(tmp_path / "set", n=10)
    ids = [f"XCLASS-{i:04d}" for i in range(10)]
    pd.DataFrame(
        {"candidate_id": ids[:8], "subject_id": [900 + 7 * i for i in range(8)], "subject_set_id": 5,
         "uploaded_at": "2019-01-01T00:00:00Z", "media_ok": True}
    ).to_csv(folder / "upload_ledger.csv", index=False)
    s = write_export(tmp_path / "e.csv", folder, catalogue=cat, config=VolunteerConfig(retirement=3))
    df = _read(tmp_path / "e.csv")
    assert set(df["subject_ids"].astype(int)) == {900 + 7 * i for i in range(8)}
    assert s.n_subjects == 8


# -- behaviour ------------------------------------------------------------------------------------
def test_every_subject_retires_after_n_counted(small: dict) -> None:
    df = small["df"]
    sb = df["metadata"].map(lambda m: json.loads(m).get("seen_before", False))
    counted = df[~sb & (df["gold_standard"] != "true")]
    per = counted.groupby("subject_ids").size()
    assert len(per) == 60 and (per == R_SMALL).all()
    assert sb.sum() > 0 and (df["gold_standard"] == "true").sum() > 0
    # retired_at is the time of the last counted classification
    last = pd.to_datetime(counted.groupby("subject_ids")["created_at"].max().str[:19])
    ret = df.groupby("subject_ids")["subject_data"].first().map(
        lambda s: next(iter(json.loads(s).values()))["retired"]["retired_at"]
    )
    ret = pd.to_datetime(ret.str[:19])
    assert (abs((ret - last[ret.index]).dt.total_seconds()) <= 2).all()


def test_n_classifications_truncates_like_a_mid_project_export(tmp_path: Path) -> None:
    s = write_export(tmp_path / "e.csv", n_classifications=3000, config=VolunteerConfig(seed=2, retirement=20))
    df = _read(tmp_path / "e.csv")
    assert len(df) == s.n_rows == 3000
    retired = df["subject_data"].map(lambda x: next(iter(json.loads(x).values()))["retired"] is not None)
    assert retired.any() and not retired.all()
    assert s.n_retired < s.n_subjects


def test_anonymous_volunteers(paper: dict) -> None:
    df = paper["df"]
    users = df.drop_duplicates("user_name")
    anon = users["user_name"].str.startswith("not-logged-in-")
    assert 0.45 <= anon.mean() <= 0.65
    a = df[df["user_name"].str.startswith("not-logged-in-")]
    assert (a["user_name"] == "not-logged-in-" + a["user_ip"]).all()
    assert (a["user_id"] == "").all()
    logged = df[~df["user_name"].str.startswith("not-logged-in-")]
    assert logged["user_id"].str.fullmatch(r"\d+").all()
    assert logged.groupby("user_name")["user_id"].nunique().eq(1).all()


def test_activity_is_heavy_tailed(paper: dict) -> None:
    counts = paper["df"].loc[paper["df"]["expert"] == "", "user_name"].value_counts()
    top = counts.iloc[: len(counts) // 10].sum() / counts.sum()
    assert 0.7 <= top <= 0.9
    assert counts.median() <= 6
    assert counts.max() >= 1000


def test_repeats_and_seen_before(paper: dict) -> None:
    df = paper["df"]
    dup = df.duplicated(["user_name", "subject_ids"])
    assert 0.01 <= dup.mean() <= 0.08
    sb = paper["seen_before"]
    assert 0.01 <= sb.mean() <= 0.04
    # every seen_before row follows a classification of the same subject by the same volunteer
    first = df.reset_index().groupby(["user_name", "subject_ids"])["index"].min()
    key = list(zip(df.loc[sb, "user_name"], df.loc[sb, "subject_ids"]))
    assert (first.loc[key].to_numpy() < np.flatnonzero(sb)).all()


def test_two_versions_with_different_wording(paper: dict) -> None:
    df = paper["df"]
    values = df["annotations"].map(lambda s: json.loads(s)[0]["value"])
    by_version = values.groupby(df["workflow_version"]).agg(set)
    assert by_version["16.55"] == set(EARLY_LABELS.values())
    assert by_version["17.60"] == set(load_workflow().labels)
    assert paper["klass"].notna().all()


def test_majority_vote_follows_the_pictures_but_not_perfectly(paper: dict) -> None:
    keep = ~paper["seen_before"] & (paper["df"]["expert"] == "")
    votes = pd.DataFrame({"cand": paper["cand"], "klass": paper["klass"]})[keep]
    mv = votes.groupby("cand")["klass"].agg(lambda s: s.value_counts().index[0])
    rule = paper["rule"].groupby(paper["cand"]).first()
    acc = (mv == rule[mv.index]).mean()
    row_acc = (paper["klass"] == paper["rule"])[keep].mean()
    assert 0.5 < row_acc < acc < 0.99


def test_faint_pictures_divide_the_crowd(paper: dict) -> None:
    keep = ~paper["seen_before"] & (paper["df"]["expert"] == "")
    votes = pd.DataFrame({"cand": paper["cand"], "klass": paper["klass"]})[keep]
    top_share = votes.groupby("cand")["klass"].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    snr = paper["cues"]["x_peak_snr"].reindex(top_share.index)
    assert top_share[snr < 10].mean() < top_share[snr > 50].mean() - 0.05


def test_experts(paper: dict) -> None:
    df = paper["df"]
    exp = df[df["expert"] != ""]
    assert len(exp) > 0
    assert set(exp["user_name"]) <= {"hunt_for_clusters_team", "xclass_expert"}
    assert (exp["user_id"] != "").all()
    assert (df.loc[df["gold_standard"] == "true", "expert"] != "").all()
    right = paper["klass"] == paper["rule"]
    assert right[df["expert"] != ""].mean() > right[df["expert"] == ""].mean()


def test_paper_scale_is_fast(paper: dict) -> None:
    assert paper["summary"].n_rows > 1600 * 20
    assert paper["seconds"] < 10


# -- truth stays out -----------------------------------------------------------------------------
def test_no_truth_in_the_export(small: dict) -> None:
    text = (small["root"] / "export.csv").read_text()
    assert "true_class" not in text and "redshift" not in text and "extent" not in text
    df = small["df"]
    for sd, m, a in zip(df["subject_data"], df["metadata"], df["annotations"]):
        inner = next(iter(json.loads(sd).values()))
        assert set(inner) == {"retired", "#ra", "#dec", "image", "#candidate_id"}
        for blob in (sd, m, a):
            assert not any(f'"{c}"' in blob for c in CLASSES)


def test_tiny_subject_set(tmp_path: Path) -> None:
    m, c = synthetic_subject_set(3, seed=1)
    s = write_export(tmp_path / "e.csv", m, c, config=VolunteerConfig(retirement=20))
    df = _read(tmp_path / "e.csv")
    assert s.n_retired == 3 and s.n_volunteers >= 20
    sb = df["metadata"].str.contains('"seen_before":true')
    assert df[~sb & (df["gold_standard"] != "true")].groupby("subject_ids").size().tolist() == [20, 20, 20]


def test_truth_column_in_manifest_is_refused(tmp_path: Path) -> None:
    folder, cat = _make_subject_set(tmp_path / "set", n=5)
    m = pd.read_csv(folder / "manifest.csv")
    m["#true_class"] = "low-z"
    m.to_csv(folder / "manifest.csv", index=False)
    with pytest.raises(InputError, match="#true_class"):
        write_export(tmp_path / "e.csv", folder, catalogue=cat)


# -- determinism ----------------------------------------------------------------------------------
def test_same_seed_same_bytes(tmp_path: Path) -> None:
    m, c = synthetic_subject_set(50, seed=1)
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        write_export(tmp_path / f"{name}.csv", m, c, config=VolunteerConfig(seed=seed, retirement=5))
    a, b, c2 = ((tmp_path / f"{n}.csv").read_bytes() for n in "abc")
    assert a == b
    assert a != c2
    # chunking and worker processes do not change a byte
    write_export(tmp_path / "d.csv", m, c, config=VolunteerConfig(seed=7, retirement=5), chunk_rows=37, jobs=2)
    assert (tmp_path / "d.csv").read_bytes() == a


# -- panoptes_aggregation accepts it --------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_panoptes_aggregation_extracts_our_rows(small: dict, tmp_path: Path) -> None:
    from panoptes_aggregation.extractors import question_extractor
    from panoptes_aggregation.extractors.utilities import annotation_by_task
    from panoptes_aggregation.scripts.config_workflow_panoptes import config_workflow
    from panoptes_aggregation.scripts.extract_panoptes_csv import extract_csv

    row = small["df"].iloc[0]
    classification = {"annotations": json.loads(row["annotations"]), "metadata": json.loads(row["metadata"])}
    out = question_extractor(annotation_by_task(classification), task="T0")
    out.pop("aggregation_version", None)
    value = json.loads(row["annotations"])[0]["value"]
    from slugify import slugify

    assert out == {slugify(value, separator="-"): 1}

    config_workflow(str(small["root"] / "workflows.csv"), small["cfg"].workflow_id, version="17.60", output_dir=str(tmp_path))
    cfg = tmp_path / f"Extractor_config_workflow_{small['cfg'].workflow_id}_V17.60.yaml"
    files = extract_csv(str(small["root"] / "export.csv"), str(cfg), output_dir=str(tmp_path), hide_progressbar=True)
    ext = pd.read_csv(files[0])
    ours = small["df"][small["df"]["workflow_version"] == "17.60"]
    assert len(ext) == len(ours)
    assert ext.groupby("subject_id").size().to_dict() == ours.groupby(ours["subject_ids"].astype(int)).size().to_dict()
    slugs = {c[len("data."):] for c in ext.columns if c.startswith("data.") and c != "data.aggregation_version"}
    assert slugs <= {slugify(lbl, separator="-") for lbl in load_workflow().labels}


# -- workflows export -------------------------------------------------------------------------------
def test_workflows_export(small: dict, real_dir: Path) -> None:
    real = _first_line(real_dir / "zooniverse_exports" / "superluminous_supernovae_workflows.csv")
    path = small["root"] / "workflows.csv"
    assert _first_line(path) == real
    w = _read(path)
    assert tuple(w.columns) == WORKFLOWS_EXPORT_COLUMNS
    assert list(zip(w["version"], w["minor_version"])) == [("16", "55"), ("17", "60")]
    yaml_wf = load_workflow()
    for (_, row), labels in zip(w.iterrows(), (list(EARLY_LABELS.values()), list(yaml_wf.labels))):
        d = WorkflowDefinition.from_panoptes(row["tasks"], row["strings"], retirement=row["retirement"], template=yaml_wf)
        assert list(d.labels) == labels
        assert d.retirement_count == R_SMALL
        assert d.question == yaml_wf.question
        assert _jsonb_sorted(list(json.loads(row["strings"])))
    assert w["classifications_count"].astype(int).tolist() == [len(small["df"])] * 2


def test_write_workflows_export_default(tmp_path: Path) -> None:
    p = write_workflows_export(tmp_path / "w.csv")
    w = _read(p)
    assert json.loads(w["retirement"][1]) == {"options": {"count": 20}, "criteria": "classification_count"}


# -- bad input ----------------------------------------------------------------------------------
def test_candidate_missing_from_catalogue(tmp_path: Path) -> None:
    folder, cat = _make_subject_set(tmp_path / "set", n=5)
    t = Table.read(cat)
    t.remove_row(2)
    t.write(cat, overwrite=True, format="ascii.ecsv")
    with pytest.raises(InputError, match=r"manifest row 4: #candidate_id 'XCLASS-0002' is not in the catalogue"):
        write_export(tmp_path / "e.csv", folder, catalogue=cat)


def test_catalogue_without_truth_is_enough(tmp_path: Path) -> None:
    folder, cat = _make_subject_set(tmp_path / "set", n=5)
    t = Table.read(cat)
    t.keep_columns(["candidate_id"])
    t.write(cat, overwrite=True, format="ascii.ecsv")
    s = write_export(tmp_path / "e.csv", folder, catalogue=cat, config=VolunteerConfig(retirement=3))
    assert s.n_retired == 5


def test_subject_without_cues(tmp_path: Path) -> None:
    m, c = synthetic_subject_set(4, seed=1)
    with pytest.raises(InputError, match=r"manifest row 5: #candidate_id 'XC0000003' has no cues"):
        write_export(tmp_path / "e.csv", m, c.iloc[:3])


def test_bad_config() -> None:
    with pytest.raises(InputError, match="anonymous_fraction"):
        VolunteerConfig(anonymous_fraction=1.5)
    with pytest.raises(InputError, match="two integers"):
        VolunteerConfig(versions=("16.5.1", "17.60"))
    with pytest.raises(InputError, match="later"):
        VolunteerConfig(versions=("17.60", "16.55"))


# -- CLI ------------------------------------------------------------------------------------------
def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, cat = _make_subject_set(tmp_path / "set", n=20)
    out = tmp_path / "export.csv"
    rc = main(["simulate-volunteers", str(folder), "--out", str(out),
               "--retirement", "4", "--seed", "3", "--workflows-out", str(tmp_path / "wf.csv"), "--workflow-id", "77"])
    assert rc == 0
    df = _read(out)
    assert set(df["workflow_id"]) == {"77"}
    assert "20 subjects (20 retired)" in capsys.readouterr().out
    assert (tmp_path / "wf.csv").is_file()
    # the cue cache lands in the subject set, which render may write again: render owns it
    from hunt_clusters._outputs import LAYOUTS
    assert (folder / "cues.parquet").is_file()
    assert all(LAYOUTS["render"].owns(p.name) for p in folder.iterdir()), sorted(p.name for p in folder.iterdir())
    assert main(["-q", "simulate-volunteers", str(folder), "--catalogue", str(cat), "--out", str(out),
                 "--retirement", "4", "--seed", "3", "--workflow-id", "77"]) == 0
    assert _read(out).equals(df)  # the catalogue is only checked, never read for answers
    assert main(["-q", "simulate-volunteers", "--out", str(out)]) == 1
    assert "give a SUBJECT_SET_DIR" in capsys.readouterr().err
    assert main(["-q", "simulate-volunteers", "--rows", "500", "--out", str(out)]) == 0
    assert len(_read(out)) == 500


def test_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import doctest
    import importlib

    monkeypatch.chdir(tmp_path)
    module = importlib.import_module("hunt_clusters.mock._volunteers")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 5
