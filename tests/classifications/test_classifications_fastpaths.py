"""The reader's vectorised paths give what the per-row Python they replaced gave; no progress bar on small reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hunt_clusters.classifications import ReadOptions, export_row, read_export, write_export_rows
from hunt_clusters.classifications import _reader
from hunt_clusters.workflow import load_workflow

WF = load_workflow()


@pytest.mark.parametrize(
    "cat",
    [
        pd.Categorical(["a", "b", None, "a"], categories=["z", "a", "q", "b"]),
        pd.Categorical([None, None], categories=["x"]),
        pd.Categorical([], categories=["x"]),
        pd.Categorical(["x"], categories=["x"]),
        pd.Categorical(list(range(300))).take(np.arange(0, 300, 3)),
    ],
)
def test_drop_unused_is_remove_unused_categories(cat: pd.Categorical) -> None:
    want, got = cat.remove_unused_categories(), _reader._drop_unused(cat)
    assert list(got.categories) == list(want.categories)
    assert got.categories.dtype == want.categories.dtype
    assert got.codes.dtype == want.codes.dtype and (got.codes == want.codes).all()


@pytest.mark.parametrize(
    "rows",
    [["b", "a", None, "b", "c", "a"], [None, None], ["x"], [3, "a", None, 3]],  # the last: unsortable
)
def test_coded_categoricals_are_those_of_the_rows(rows: list[object]) -> None:
    values = np.empty(len(rows), dtype=object)
    values[:] = rows
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    uniques = np.empty(len(uniq), dtype=object)
    uniques[:] = [None if isinstance(u, float) and u != u else u for u in uniq]
    want, got = pd.Categorical(values), _reader._coded_cats(uniques, codes)
    assert list(got.categories) == list(want.categories)
    assert list(got.codes) == list(want.codes)


def test_candidate_ids_escaped_numeric_or_missing(tmp_path: Path) -> None:
    def row(cid: int, cand: str) -> dict[str, str]:
        r = export_row(cid, f"u{cid}", 100 + cid, "A star or point source")
        r["subject_data"] = '{"%d":{"retired":null,"#candidate_id":%s}}' % (100 + cid, cand)
        return r

    path = write_export_rows([row(1, '"XC1"'), row(2, '"X\\"C2"'), row(3, "17"), row(4, '"XC\\u00e94"'),
                              row(5, '""')], tmp_path / "e.csv")
    res = read_export(path, ReadOptions(duplicates="all"), workflow=WF)
    assert res.votes["candidate_id"].astype(object).tolist() == ["XC1", 'X"C2', "17", "XC\u00e94"]
    assert res.rejects["reason"].tolist() == ["no_candidate_id"] and res.rejects["row"].tolist() == [5]


def test_no_progress_bar_for_a_small_export(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_export_rows([export_row(i, f"u{i}", 100, "A star or point source", candidate_id="XC1")
                              for i in range(1, 4)], tmp_path / "e.csv")
    read_export(path, ReadOptions(), workflow=WF, progress=True)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(_reader, "_BAR_MIN_BYTES", 0)  # as for an export of 256 MiB or more
    read_export(path, ReadOptions(), workflow=WF, progress=True)
    assert "reading e.csv" in capsys.readouterr().err
