"""Aggregate in partitions (bounded memory) and on a Dask cluster: the embedded run's votes, counts and rejects."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hunt_clusters.classifications import (
    ReadOptions,
    VersionRange,
    export_row,
    read_export,
    write_example_export,
    write_export_rows,
)
from hunt_clusters.classifications._stream import split_export, stream_export
from hunt_clusters.cli import main
from hunt_clusters.workflow import load_workflow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "classifications"))
import handmade_export  # noqa: E402

WF = load_workflow()
ROOT = Path(__file__).resolve().parents[2]


def _norm(df: pd.DataFrame) -> pd.DataFrame:
    """Values as text, rows sorted: the partitioned votes come grouped by partition."""
    out = pd.DataFrame({c: df[c].astype(object).where(df[c].notna(), None).astype(str) for c in df.columns})
    return out.sort_values(list(out.columns), ignore_index=True)


def assert_same(path: Path, opts: ReadOptions, tmp: Path, *, workflow: Any = WF, client: Any = None,
                n_parts: int = 3) -> None:
    emb = read_export(path, opts, workflow=workflow)
    st = stream_export(path, tmp / "out", opts, workflow=workflow, n_parts=n_parts, client=client)
    a, b = dict(emb.summary.__dict__), dict(st.summary.__dict__)
    a["unmapped"], b["unmapped"] = sorted(a["unmapped"]), sorted(b["unmapped"])
    assert a == b
    assert _norm(st.load_votes()).equals(_norm(emb.votes))
    assert _norm(pd.read_parquet(st.files["expert_votes"])).equals(_norm(emb.expert_votes))
    pd.testing.assert_frame_equal(st.rejects.astype(str), emb.rejects.astype(str))
    assert not (tmp / "out" / ".partitions").exists()


def _rows(n: int) -> list[dict[str, str]]:
    return [export_row(i, f"user{i % 3}", 31200000 + i % 4, "Something else", candidate_id=f"C{i % 4}",
                       created_at=f"2020-01-01 00:{i:02d}:00 UTC") for i in range(1, n + 1)]


def _line(row: dict[str, str]) -> str:
    buf = io.StringIO()
    csv.DictWriter(buf, fieldnames=list(row), lineterminator="\n").writerow(row)
    return buf.getvalue()


def _malformed(tmp: Path) -> Path:
    """Wrong field counts, a bad date, exact repeats, a quoted field with newlines."""
    rows = _rows(12)
    rows[6]["created_at"] = "yesterday"
    rows[8]["metadata"] = '{"note": "two\nlines, and \\"quotes\\""}'
    lines = [_line(r) for r in rows]
    lines[1] = lines[1].rstrip("\n") + ",EXTRA\n"
    lines[3] = lines[3].split(',"{')[0] + "\n"
    lines += [lines[5], lines[9]]  # exact repeats
    path = tmp / "malformed.csv"
    path.write_text(",".join(rows[0]) + "\n" + "".join(lines))
    return path


@pytest.mark.parametrize("duplicates", ["first", "last", "all"])
@pytest.mark.parametrize("n_parts", [1, 4])
def test_partitions_give_the_embedded_answer(tmp_path: Path, duplicates: str, n_parts: int) -> None:
    for path in (write_example_export(tmp_path / "example.csv"), handmade_export.write(tmp_path / "hand.csv"),
                 handmade_export.write(tmp_path / "handq.csv", quote_header=True), _malformed(tmp_path)):
        assert_same(path, ReadOptions(duplicates=duplicates), tmp_path / path.stem, n_parts=n_parts)


@pytest.mark.parametrize("opts", [
    dict(versions=VersionRange.from_options(version="1")),
    dict(versions=VersionRange.from_options(min_version="1.2", max_version="2")),
    dict(versions=VersionRange.from_options(version="1.2"), duplicates="last", drop_seen_before=True),
])  # fmt: skip
def test_version_filters(tmp_path: Path, opts: dict[str, Any]) -> None:
    path = handmade_export.write(tmp_path / "hand.csv")
    assert_same(path, ReadOptions(**opts), tmp_path, n_parts=5)


def test_a_workflow_or_version_the_export_lacks_is_the_same_error(tmp_path: Path) -> None:
    from hunt_clusters._errors import InputError

    path = handmade_export.write(tmp_path / "hand.csv")
    for opts in (ReadOptions(workflow_id=999), ReadOptions(versions=VersionRange.from_options(version="99"))):
        with pytest.raises(InputError):
            read_export(path, opts, workflow=WF)
        with pytest.raises(InputError, match="no classification"):
            stream_export(path, tmp_path / "o", opts, workflow=WF, n_parts=3)


@pytest.mark.parametrize("cut", [lambda t: t[:-3], lambda t: t[: t.rindex("#candidate_id")],
                                 lambda t: t[:-1] + ',"3120'])
def test_a_truncated_file(tmp_path: Path, cut: Any) -> None:
    path = write_export_rows(_rows(9), tmp_path / "e.csv")
    path.write_text(cut(path.read_text().rstrip("\n")))
    assert_same(path, ReadOptions(duplicates="all"), tmp_path, n_parts=3)


def test_real_exports(tmp_path: Path, real_dir: Path) -> None:
    for path in sorted((real_dir / "zooniverse_exports").glob("*classifications.csv")):
        assert_same(path, ReadOptions(task=None, candidate_key=None, duplicates="first"), tmp_path / path.stem,
                    workflow=None, n_parts=4)


def test_split_keeps_every_record_once_and_subjects_whole(tmp_path: Path) -> None:
    path = _malformed(tmp_path)
    split = split_export(path, tmp_path / "parts", 3)
    rows = np.concatenate([np.fromfile(r, np.int64) for r in split.rows])
    assert sorted(rows.tolist()) == list(range(1, split.n_records + 1)) and split.n_records == 14
    seen: dict[str, int] = {}
    for i, p in enumerate(split.parts):
        with open(p, newline="") as fh:
            for rec in csv.DictReader(fh):
                assert seen.setdefault(rec["subject_ids"], i) == i


def test_on_a_dask_cluster(tmp_path: Path, threads_client: Any) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_aggregate import generate_export

    path = generate_export(tmp_path / "gen.csv", 3000, seed=3)
    assert_same(path, ReadOptions(workflow_id=4242, duplicates="first"), tmp_path, workflow=WF, client=threads_client,
                n_parts=4)
    assert_same(_malformed(tmp_path), ReadOptions(duplicates="last"), tmp_path / "m", client=threads_client, n_parts=3)


def test_the_command_on_local_2_writes_the_embedded_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--scheduler local:2`` (two worker processes) and ``--partitions 3``: every output file the same."""
    path = handmade_export.write(tmp_path / "hand.csv")
    outs = {}
    for name, extra in (("emb", []), ("parts", ["--partitions", "3"]), ("dask", ["--scheduler", "local:2"])):
        assert main(["-q", "aggregate", str(path), "--method", "all", "--duplicates", "last",
                     "--out", str(tmp_path / name), *extra]) == 0
        outs[name] = capsys.readouterr().out.replace(str(tmp_path / name), "OUT")
    assert outs["emb"] == outs["parts"] == outs["dask"]
    for f in ("labels.csv", "volunteers.csv", "rejects.csv", "unmapped_answers.csv", "metrics.json"):
        ref = (tmp_path / "emb" / f).read_bytes()
        assert (tmp_path / "parts" / f).read_bytes() == ref and (tmp_path / "dask" / f).read_bytes() == ref, f
    assert _norm(pd.read_parquet(tmp_path / "dask" / "votes.parquet")).equals(
        _norm(pd.read_parquet(tmp_path / "emb" / "votes.parquet")))


@pytest.mark.parametrize("method", ["majority", "dawid-skene"])
def test_consensus_over_partitions_writes_the_embedded_files(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             method: str) -> None:
    """Majority alone is fitted partition by partition (`MajorityVote.fit_partitions`: memory flat in the
    export's size); other methods on the consensus columns read back. Either way: the embedded files."""
    from astropy.table import Table

    mock_write, VolunteerConfig, synthetic_subject_set = handmade_export.mock_writer()
    from hunt_clusters.mock import expert_labels_from_cues

    manifest, catalogue = synthetic_subject_set(120, seed=5)
    mock_write(tmp_path / "mock.csv", manifest, catalogue, config=VolunteerConfig(seed=5, retirement=6),
               workflows_out=tmp_path / "workflows.csv")  # 6 votes a subject: ties for the tie-break
    Table({"candidate_id": catalogue["candidate_id"].astype(str).to_numpy(),
           "expert_class": expert_labels_from_cues(catalogue, seed=5, lapse=0.05)}).write(tmp_path / "experts.ecsv")
    outs = {}
    for name, extra in (("emb", []), ("parts", ["--partitions", "7"])):
        assert main(["-q", "aggregate", str(tmp_path / "mock.csv"), "--out", str(tmp_path / name), "--method", method,
                     "--workflows-export", str(tmp_path / "workflows.csv"), "--experts",
                     str(tmp_path / "experts.ecsv"), "--gold-methods", "swap,dawid-skene", *extra]) == 0
        outs[name] = capsys.readouterr().out.replace(str(tmp_path / name), "OUT")
    assert outs["emb"] == outs["parts"]
    assert (tmp_path / "emb" / "folds.csv").exists() == (method != "majority")  # no cross-fit for majority
    for f in ("labels.csv", "volunteers.csv", "metrics.json") + (("folds.csv",) if method != "majority" else ()):
        assert (tmp_path / "parts" / f).read_bytes() == (tmp_path / "emb" / f).read_bytes(), f
    labels = pd.read_csv(tmp_path / "emb" / "labels.csv")
    assert len(labels) == 120 and labels["subject_id"].is_monotonic_increasing
    if method == "majority":
        fr = labels.filter(like="frac_").to_numpy()
        top = np.sort(fr, axis=1)
        assert (np.isclose(top[:, -1], top[:, -2])).any()  # a tie was broken, the same way in both


def test_majority_fit_partitions_needs_subjects_whole() -> None:
    from hunt_clusters.consensus import MajorityVote

    votes = pd.DataFrame({"subject_id": [1, 1, 2, 2], "user": ["a", "b", "a", "c"],
                          "class": ["low-z", "point", "point", "point"],
                          "created_at": pd.to_datetime(["2020-01-02", "2020-01-01", "2020-01-01", "2020-01-03"])})
    whole = MajorityVote().fit(votes)
    split = MajorityVote().fit_partitions([votes.iloc[2:], votes.iloc[:0], votes.iloc[:2]])
    pd.testing.assert_frame_equal(split.labels_, whole.labels_)
    pd.testing.assert_frame_equal(split.volunteers_, whole.volunteers_)
    assert split.counts_ == whole.counts_ == {"rows": 4, "used": 4, "missing_class": 0, "missing_user": 0,
                                               "expert": 0, "subjects": 2, "users": 3}
    # subject 1 tied 1-1: the earlier first vote (point, 2020-01-01) wins; a: 1 agree of 2, c: 1 of 1
    assert split.labels_["label"].tolist() == ["point", "point"]
    assert split.volunteers_[["user", "n_classifications", "n_agree"]].values.tolist() == [
        ["a", 2, 1], ["b", 1, 1], ["c", 1, 1]]
    with pytest.raises(ValueError, match="subject 1 has votes in two parts"):
        MajorityVote().fit_partitions([votes.iloc[:1], votes.iloc[1:]])


def test_majority_fit_partitions_equals_fit_on_random_votes() -> None:
    """Every attribute, on 5000 random votes (missing classes, ties, volunteers in many parts), 7 parts."""
    from hunt_clusters.consensus import MajorityVote

    rng = np.random.default_rng(1)
    n = 5000
    votes = pd.DataFrame({
        "subject_id": rng.integers(0, 700, n), "user": [f"u{i}" for i in rng.integers(0, 300, n)],
        "class": rng.choice(np.array(["low-z", "hi-z", "galaxy", "point", "other", None], dtype=object), n),
        "created_at": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s")})
    votes["candidate_id"] = "XC" + votes["subject_id"].astype(str)
    whole = MajorityVote().fit(votes)
    split = MajorityVote().fit_partitions(votes[votes["subject_id"] % 7 == k] for k in range(7))
    for attr in ("labels_", "probas_", "skills_", "volunteers_"):
        pd.testing.assert_frame_equal(getattr(split, attr), getattr(whole, attr))
    assert split.counts_ == whole.counts_ and whole.counts_["missing_class"] > 0
