"""The export reader on a hand-made 20-row export: votes per duplicates policy, worked out by hand."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import handmade_export as hm
from hunt_clusters._errors import InputError
from hunt_clusters.classifications import (
    VOTE_COLUMNS,
    AnswerMapper,
    ReadOptions,
    VersionRange,
    export_row,
    read_export,
    read_ledger,
    read_workflows_export,
    write_example_export,
    write_export_rows,
    write_votes,
)
from hunt_clusters.workflow import load_workflow

WF = load_workflow()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hm.write(tmp_path_factory.mktemp("hm") / "export.csv")


def read(path: Path, **kw: object) -> object:
    kw.setdefault("workflow_id", 1)
    return read_export(path, ReadOptions(**kw), workflow=WF)  # type: ignore[arg-type]


def cids(votes: pd.DataFrame) -> list[int]:
    return sorted(votes["classification_id"].tolist())


# -- the three duplicates policies, by hand -----------------------------------------------------
@pytest.mark.parametrize(
    "policy, kept_cids, n_votes, rows_kept, filtered",
    [
        ("all", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 15, 15], 13, 12,
         {"other_workflow": 1, "repeated_classification_id": 1, "task_absent": 1}),
        ("first", [1, 2, 5, 6, 7, 8, 9, 13, 15, 15], 10, 9,
         {"other_workflow": 1, "repeated_classification_id": 1, "duplicate": 4}),
        ("last", [2, 3, 4, 6, 7, 8, 10, 15, 15], 9, 8,
         {"other_workflow": 1, "repeated_classification_id": 1, "duplicate": 4, "task_absent": 1}),
    ],
)  # fmt: skip
def test_duplicates_policy(export: Path, policy: str, kept_cids: list[int], n_votes: int, rows_kept: int,
                           filtered: dict[str, int]) -> None:
    res = read(export, duplicates=policy)
    s = res.summary
    assert cids(res.votes) == kept_cids
    assert (s.rows_in, s.n_votes, s.rows_kept, s.rows_expert) == (20, n_votes, rows_kept, 2)
    assert s.filtered == filtered
    assert s.rejected == {"bad_json_annotations": 1, "no_candidate_id": 1, "bad_workflow_version": 1}
    assert s.balanced
    assert sorted(res.expert_votes["classification_id"]) == [11, 12]


def test_votes_first_policy_values(export: Path) -> None:
    v = read(export).votes.set_index("classification_id")
    assert list(read(export).votes.columns) == list(VOTE_COLUMNS)
    assert v.loc[1, "class"] == "low-z" and v.loc[5, "class"] == "low-z"
    assert v.loc[6, "class"] == "point"  # markdown image + emphasis
    assert v.loc[7, "answer"] == hm.A1 and v.loc[7, "class"] == "hi-z"  # integer index -> label
    assert pd.isna(v.loc[8, "answer"]) and pd.isna(v.loc[8, "class"])  # null answer: one empty vote
    assert v.loc[13, "answer"] == "Unknown answer text" and pd.isna(v.loc[13, "class"])
    assert sorted(v.loc[15, "class"].tolist()) == ["galaxy", "other"]  # one row per chosen answer
    assert v.loc[9, "seen_before"] and not v.loc[1, "seen_before"]
    assert v.loc[1, "candidate_id"] == "XC1" and v.loc[13, "candidate_id"] == "XC3"
    assert v.loc[1, "workflow_version"] == "1.1" and set(v.loc[15, "workflow_version"]) == {"2.3"}
    assert pd.isna(v.loc[5, "user_id"]) and v.loc[1, "user_id"] == 100 + sum(map(ord, "alice"))
    assert str(v.loc[5, "created_at"]) == "2020-03-01 09:00:00+00:00"


def test_dtypes_compact(export: Path) -> None:
    v = read(export).votes
    for c in ("candidate_id", "user", "workflow_version", "task", "answer", "class"):
        assert isinstance(v[c].dtype, pd.CategoricalDtype), c
    assert v["classification_id"].dtype == np.int64 and v["workflow_id"].dtype == np.int32
    assert v["user_id"].dtype == "Int64" and str(v["created_at"].dtype) == "datetime64[ns, UTC]"
    assert v["gold_standard"].dtype == bool and v["expert"].dtype == bool


def test_summary_counts(export: Path) -> None:
    s = read(export).summary
    assert (s.users, s.anonymous_users, s.anonymous_rows, s.subjects, s.seen_before) == (7, 2, 2, 3, 1)
    assert s.versions == {"1.1": 7, "1.2": 1, "2.3": 1}
    assert s.unmapped == [("1.2", "Unknown answer text", 1)]
    text = s.format()
    assert "20 rows in" in text and "duplicates policy: first" in text
    assert "20 rows in = 9 kept + 2 expert + 6 filtered + 3 rejected" in text
    json.dumps(s.to_dict())


def test_rejects_row_numbers(export: Path) -> None:
    rj = read(export).rejects
    assert rj["row"].tolist() == [16, 17, 18]
    assert rj["reason"].tolist() == ["bad_json_annotations", "no_candidate_id", "bad_workflow_version"]
    assert rj["classification_id"].tolist() == ["16", "17", "18"]
    assert "1.x" in rj["detail"].iloc[2]


def test_strict_raises_with_first_rows(export: Path) -> None:
    with pytest.raises(InputError, match=r"3 row\(s\) rejected.*row 16: bad_json_annotations"):
        read(export).raise_if_rejected()


def test_drop_seen_before(export: Path) -> None:
    res = read(export, drop_seen_before=True)
    assert cids(res.votes) == [1, 2, 5, 6, 7, 8, 13, 15, 15]
    assert res.summary.filtered == {"other_workflow": 1, "seen_before": 2, "repeated_classification_id": 1,
                                    "duplicate": 3}
    assert res.summary.balanced


@pytest.mark.parametrize(
    "spec, kept",
    [({"version": "1"}, [1, 2, 5, 6, 7, 8, 9, 13]), ({"version": "1.2"}, [13]),
     ({"min_version": "1.2", "max_version": "2"}, [13, 15, 15]), ({"min_version": "2.3"}, [15, 15])],
)  # fmt: skip
def test_version_filters(export: Path, spec: dict[str, str], kept: list[int]) -> None:
    res = read(export, versions=VersionRange.from_options(**spec))
    assert cids(res.votes) == kept
    assert res.summary.balanced


def test_unknown_version_and_workflow(export: Path) -> None:
    with pytest.raises(InputError, match=r"no classification with workflow version 5.x; the export holds 1.1, 1.2, 2.3"):
        read(export, versions=VersionRange.from_options(version="5"))
    with pytest.raises(InputError, match=r"no classification of workflow 7.*1 \(19 rows\), 2 \(1 rows\).*another project"):
        read(export, workflow_id=7)


def test_all_workflows_without_filter(export: Path) -> None:
    res = read(export, workflow_id=None)
    assert 19 in res.votes["classification_id"].tolist()
    assert res.votes.loc[res.votes["classification_id"] == 19, "workflow_id"].item() == 2


def test_quoted_header_same_result(tmp_path: Path, export: Path) -> None:
    q = hm.write(tmp_path / "quoted.csv", quote_header=True)
    assert q.read_text().startswith('"classification_id","user_name"')
    pd.testing.assert_frame_equal(read(q).votes, read(export).votes)


def test_ledger_join(tmp_path: Path, export: Path) -> None:
    led = tmp_path / "upload_ledger.csv"
    led.write_text("candidate_id,subject_id,subject_set_id,uploaded_at,media_ok\nXC4,104,9,2020-01-01,True\n"
                   "LEDGER1,101,9,2020-01-01,True\n")
    ledger = read_ledger(led)
    assert ledger == {104: "XC4", 101: "LEDGER1"}
    res = read(export, ledger=ledger)
    assert "no_candidate_id" not in res.summary.rejected
    v = res.votes.set_index("classification_id")
    assert v.loc[17, "candidate_id"] == "XC4"
    assert v.loc[1, "candidate_id"] == "LEDGER1"  # the ledger wins
    assert v.loc[7, "candidate_id"] == "XC2"  # not in the ledger: subject_data


def test_no_candidate_join_for_other_projects(export: Path) -> None:
    res = read(export, candidate_key=None)
    assert "no_candidate_id" not in res.summary.rejected
    assert res.votes["candidate_id"].isna().all()


def test_task_none_takes_every_question_task(tmp_path: Path) -> None:
    p = write_export_rows([export_row(1, "a", 5, annotations=[
        {"task": "T0", "task_label": "q", "value": "Yes"},
        {"task": "T1", "value": ["Blue", "Green"]},
        {"task": "T2", "value": [{"x": 1, "y": 2, "tool": 0}]},
    ])], tmp_path / "e.csv")
    res = read_export(p, ReadOptions(task=None, candidate_key=None))
    assert list(zip(res.votes["task"], res.votes["answer"])) == [("T0", "Yes"), ("T1", "Blue"), ("T1", "Green")]
    res = read_export(p, ReadOptions(task="T2", candidate_key=None))
    assert res.summary.rejected == {"not_a_question": 1}


def test_json_fast_path_and_fallback_agree(tmp_path: Path) -> None:
    """Pretty-printed JSON, extra keys, unicode escapes: the json fallback gives the same votes."""
    rows = [
        export_row(1, "a", 5, "A star or point source", candidate_id="C5"),
        export_row(2, "b", 5, "A star or point source", candidate_id="C5"),
        export_row(3, "c", 5, "Something else", candidate_id="C5"),
        export_row(4, "d", 5, "caf\u00e9", candidate_id="C5"),
    ]
    rows[1]["annotations"] = '[ {"value": "A star or point source", "task": "T0"} ]'
    rows[2]["annotations"] = '[{"task":"T9","value":[{"x":1}]},{"task":"T0","task_label":"q \\"x\\"","value":"Something else"}]'
    rows[3]["annotations"] = '[{"task":"T0","task_label":null,"value":"caf\\u00e9"}]'
    rows[1]["subject_data"] = '{"5": {"retired": null, "#candidate_id": "C5"}}'
    rows[2]["subject_data"] = '{"5":{"#candidate_id":"C\\u0035"}}'
    res = read_export(write_export_rows(rows, tmp_path / "e.csv"), ReadOptions(duplicates="all"), workflow=WF)
    assert res.votes["answer"].tolist() == ["A star or point source"] * 2 + ["Something else", "caf\u00e9"]
    assert res.votes["candidate_id"].tolist() == ["C5"] * 4
    assert res.votes["class"].tolist()[:3] == ["point", "point", "other"]


@pytest.mark.parametrize(
    "column, value, reason",
    [("annotations", "not json", "bad_json_annotations"), ("annotations", '{"task":"T0"}', "bad_json_annotations"),
     ("subject_data", '{"5": {"#candidate_id": "C5"', "bad_json_subject_data"),
     ("metadata", '{"seen_before": tru', "bad_json_metadata"), ("classification_id", "x12", "bad_classification_id"),
     ("created_at", "yesterday", "bad_created_at"), ("subject_ids", "5;6", "bad_subject_ids"),
     ("workflow_id", "", "bad_workflow_id"), ("workflow_version", "16.5.1", "bad_workflow_version")],
)  # fmt: skip
def test_bad_rows_rejected(tmp_path: Path, column: str, value: str, reason: str) -> None:
    rows = [export_row(i, "a", 5, "Something else", candidate_id="C5") for i in (1, 2, 3)]
    rows[1][column] = value
    res = read_export(write_export_rows(rows, tmp_path / "e.csv"), ReadOptions(duplicates="all"), workflow=WF)
    assert res.rejects[["row", "reason"]].values.tolist() == [[2, reason]]
    assert res.summary.rows_kept == 2 and res.summary.balanced


def test_missing_columns_and_bad_files(tmp_path: Path) -> None:
    p = tmp_path / "e.csv"
    p.write_text("classification_id,user_name,annotations\n1,a,[]\n")
    with pytest.raises(InputError, match=r"e.csv: missing column\(s\) workflow_id, workflow_version"):
        read_export(p)
    with pytest.raises(InputError, match="export not found"):
        read_export(tmp_path / "nope.csv")
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)  # `aggregate <(zcat export.csv.gz)` gives a pipe: said, not misread as a header
    with pytest.raises(InputError, match=r"fifo.csv: not a regular file \(a pipe or a device\?\); save the export"):
        read_export(fifo)
    ok = write_export_rows([export_row(1, "a", 5, "x", candidate_id="C")], tmp_path / "r.csv")
    with open(ok, "a") as f:
        f.write("2,b,,ip,1,name,1.1,2020-01-01 00:00:00 UTC,,,{},[],{},5,EXTRA\n")
    rj = read_export(ok).rejects  # a row with a field too many is a reject, not the end of the run
    assert rj[["row", "classification_id", "reason"]].values.tolist() == [[2, "2", "wrong_field_count"]]


def test_workflows_export_maps_labels_by_position(tmp_path: Path, export: Path) -> None:
    def row(major: int, minor: int, labels: list[str]) -> str:
        tasks = {"T0": {"type": "single", "question": "T0.question",
                        "answers": [{"label": f"T0.answers.{i}.label"} for i in range(len(labels))]}}
        strings = {f"T0.answers.{i}.label": lab for i, lab in enumerate(labels)}
        q = lambda d: '"' + json.dumps(d).replace('"', '""') + '"'  # noqa: E731
        return f"1,Hunt,{major},{minor},{q(tasks)},{q(strings)}\n"

    wx = tmp_path / "workflows.csv"
    wx.write_text("workflow_id,display_name,version,minor_version,tasks,strings\n"
                  + row(1, 1, list(WF.labels))
                  + row(1, 2, [hm.A0, hm.A1, hm.A2, hm.A3, "Unknown answer text"])
                  + row(2, 3, list(WF.labels)))
    labels = read_workflows_export(wx, "T0")
    assert labels[(1, 1, 2)][4] == "Unknown answer text"
    res = read_export(export, ReadOptions(workflow_id=1), workflow=WF, version_labels=labels)
    v = res.votes.set_index("classification_id")
    assert v.loc[13, "class"] == "other"  # label of version 1.2 at index 4 -> the YAML's answer 4
    assert v.loc[7, "answer"] == hm.A1
    assert res.summary.unmapped == []
    # a version the workflows export does not know is bad input
    small = tmp_path / "w2.csv"
    small.write_text("workflow_id,display_name,version,minor_version,tasks,strings\n" + row(1, 1, list(WF.labels)))
    res = read_export(export, ReadOptions(workflow_id=1), workflow=WF, version_labels=read_workflows_export(small, "T0"))
    assert res.summary.rejected["unknown_workflow_version"] == 2  # rows 13 and 15


def test_answer_mapper_without_mapping() -> None:
    m = AnswerMapper(None)
    assert m.resolve(1, 1, 1, "Yes") == ("Yes", None)
    assert m.resolve(1, 1, 1, 3) == ("3", None)
    assert not m.has_classes


def test_other_project_keeps_answers(real_dir: Path) -> None:
    res = read_export(real_dir / "zooniverse_exports" / "superluminous_supernovae_classifications.csv",
                      ReadOptions(candidate_key=None, duplicates="all"), workflow=WF)
    assert res.summary.rows_kept == 7 and not res.summary.rejected
    assert sorted(res.votes["answer"].astype(str)) == ["No"] * 4 + ["Yes"] * 3
    assert res.votes["class"].isna().all()
    assert res.summary.anonymous_users == 1


def test_write_votes(tmp_path: Path, export: Path) -> None:
    res = read(export)
    files = write_votes(res, tmp_path / "out")
    back = pd.read_parquet(files["votes"])
    assert back["classification_id"].tolist() == res.votes["classification_id"].tolist()
    assert isinstance(back["class"].dtype, pd.CategoricalDtype)
    assert pd.read_csv(files["rejects"])["row"].tolist() == [16, 17, 18]
    assert pd.read_csv(files["unmapped_answers"]).values.tolist() == [["1.2", "Unknown answer text", 1]] or \
        pd.read_csv(files["unmapped_answers"], dtype=str).values.tolist() == [["1.2", "Unknown answer text", "1"]]
    csvf = write_votes(res, tmp_path / "csv", votes_format="csv")
    assert pd.read_csv(csvf["votes"]).shape == (10, 14)


def test_example_export(tmp_path: Path) -> None:
    res = read_export(write_example_export(tmp_path / "e.csv"), workflow=WF)
    assert res.votes["class"].tolist() == ["low-z", "point", "other"]
    assert res.summary.filtered == {"task_absent": 1}


def test_empty_export_and_numeric_candidate(tmp_path: Path) -> None:
    res = read_export(write_export_rows([], tmp_path / "empty.csv"))
    assert res.summary.rows_in == 0 and len(res.votes) == 0 and list(res.votes.columns) == list(VOTE_COLUMNS)
    rows = [export_row(1, "a", 6, "y")]
    rows[0]["subject_data"] = '{"6":{"#candidate_id":42}}'
    res = read_export(write_export_rows(rows, tmp_path / "num.csv"))
    assert res.votes["candidate_id"].tolist() == ["42"]


# -- malformed and truncated exports --------------------------------------------------------------
def _rows(n: int) -> list[dict[str, str]]:
    return [export_row(i, f"user{i}", 31200000 + i, "Something else", candidate_id=f"C{i}") for i in range(1, n + 1)]


def _line(row: dict[str, str]) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.DictWriter(buf, fieldnames=list(row), lineterminator="\n").writerow(row)
    return buf.getvalue()


def test_rows_with_the_wrong_field_count_are_rejects_with_their_row(tmp_path: Path) -> None:
    rows = _rows(7)
    rows[6]["created_at"] = "yesterday"  # row 7: numbered right after the skipped rows
    lines = [_line(r) for r in rows]
    lines[1] = lines[1].rstrip("\n") + ",EXTRA\n"  # row 2: a field too many
    lines[3] = lines[3].split(',"{')[0] + "\n"  # row 4: cut short, fields missing
    path = tmp_path / "e.csv"
    path.write_text(",".join(rows[0]) + "\n" + "".join(lines))
    for block_mb in (1, 8):
        res = read_export(path, ReadOptions(duplicates="all", block_mb=block_mb), workflow=WF)
        rj = res.rejects
        assert rj[["row", "classification_id", "reason"]].values.tolist() == [
            [2, "2", "wrong_field_count"], [4, "4", "wrong_field_count"], [7, "7", "bad_created_at"]]
        assert rj["detail"].iloc[0].startswith("15 fields where the header has 14: 2,user2,")
        assert res.summary.rows_in == 7 and res.summary.rows_kept == 4 and res.summary.balanced
        assert sorted(res.votes["classification_id"]) == [1, 3, 5, 6]
        assert not res.summary.truncated
    with pytest.raises(InputError, match=r"3 row\(s\) rejected with --strict: row 2: wrong_field_count"):
        res.raise_if_rejected()


def test_a_row_whose_subject_is_not_its_subject_data_key_is_rejected(tmp_path: Path) -> None:
    rows = _rows(3)
    rows[1]["subject_ids"] = "31200"  # subject_data says 31200002
    res = read_export(write_export_rows(rows, tmp_path / "e.csv"), ReadOptions(duplicates="all"), workflow=WF)
    assert res.rejects[["row", "reason"]].values.tolist() == [[2, "subject_not_in_subject_data"]]
    assert res.rejects["detail"].iloc[0] == "subject_ids 31200, keys 31200002"
    # a key further on (other spacing, several keys) is found by parsing the JSON
    rows[1]["subject_data"] = '{ "1": {}, "31200": {"#candidate_id": "C2"}}'
    res = read_export(write_export_rows(rows, tmp_path / "e.csv"), ReadOptions(duplicates="all"), workflow=WF)
    assert len(res.rejects) == 0 and 31200 in set(res.votes["subject_id"])


@pytest.mark.parametrize(
    "cut, reason, detail",
    [
        # the case: subject_ids 31200003 cut to 31200 (a phantom subject until now)
        (lambda text: text[:-3], "truncated_row", "subject_not_in_subject_data: subject_ids 31200, keys 31200003"),
        # inside the quoted subject_data: a field short
        (lambda text: text[: text.rindex("#candidate_id")], "truncated_row", "13 fields where the header has 14 (the file ends in this row)"),
        # inside a quoted field that is the last one: an open quote
        (lambda text: text[:-1] + ',"3120', "truncated_row", "15 fields"),
    ],
)  # fmt: skip
def test_a_cut_last_row_is_rejected_and_the_file_called_truncated(tmp_path: Path, cut: Any, reason: str,
                                                                    detail: str) -> None:
    path = write_export_rows(_rows(3), tmp_path / "e.csv")
    path.write_text(cut(path.read_text().rstrip("\n")))
    res = read_export(path, ReadOptions(duplicates="all"), workflow=WF)
    assert res.summary.truncated and "likely truncated" in res.summary.format()
    assert res.rejects[["row", "reason"]].values.tolist() == [[3, reason]]
    assert detail in res.rejects["detail"].iloc[0]
    assert sorted(res.votes["subject_id"]) == [31200001, 31200002] and res.summary.balanced


def test_an_open_quote_at_the_end_rejects_the_last_row(tmp_path: Path) -> None:
    rows = _rows(3)
    rows[2]["subject_ids"] = '"31200003'  # written quoted and cut before the closing quote
    path = write_export_rows(rows, tmp_path / "e.csv")
    text = path.read_text().rstrip("\n")
    path.write_text(text[: text.rindex(",") + 1] + '"31200003')
    res = read_export(path, ReadOptions(duplicates="all"), workflow=WF)
    assert res.rejects[["row", "reason", "detail"]].values.tolist() == [
        [3, "truncated_row", "the file ends inside a quoted field"]]


def test_missing_final_newline_alone_keeps_a_whole_last_row(tmp_path: Path) -> None:
    path = write_export_rows(_rows(3), tmp_path / "e.csv")
    path.write_text(path.read_text().rstrip("\n"))
    res = read_export(path, ReadOptions(duplicates="all"), workflow=WF)
    assert res.summary.truncated and len(res.rejects) == 0 and res.summary.rows_kept == 3


def test_bad_rows_across_blocks_keep_every_row_number(tmp_path: Path) -> None:
    """The threaded read stops at a bad row and the file is read again serially, blocks of 1 MiB."""
    rows = _rows(4000)
    lines = [_line(r) for r in rows]
    for i in (9, 2499, 3998):  # rows 10, 2500, 3999
        lines[i] = lines[i].rstrip("\n") + ",EXTRA\n"
    rows_bad_date = 3200
    lines[rows_bad_date - 1] = lines[rows_bad_date - 1].replace("2020-01-01 00:00:00 UTC", "yesterday")
    path = tmp_path / "e.csv"
    path.write_text(",".join(rows[0]) + "\n" + "".join(lines))
    assert path.stat().st_size > 3 << 19  # two blocks or more
    res = read_export(path, ReadOptions(duplicates="all", block_mb=1), workflow=WF)
    assert res.rejects[["row", "reason"]].values.tolist() == [
        [10, "wrong_field_count"], [2500, "wrong_field_count"], [3200, "bad_created_at"], [3999, "wrong_field_count"]]
    assert res.rejects["classification_id"].tolist() == ["10", "2500", "3200", "3999"]
    assert res.summary.rows_in == 4000 and res.summary.rows_kept == 3996 and res.summary.balanced
