"""Checking and encoding the votes table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hunt_clusters import CLASSES
from hunt_clusters._errors import InputError
from hunt_clusters.consensus import encode_votes, parse_gold


def _votes() -> pd.DataFrame:
    return pd.DataFrame({
        "candidate_id": ["A", "A", "A", "B", "B", "C"],
        "subject_id": [20, 20, 20, 10, 10, 30],
        "user": ["ann", "bob", "boss", "ann", None, "cat"],
        "class": ["low-z", "hi-z", "galaxy", "", "point", None],
        "expert": [False, False, True, False, False, False],
    })


def test_encode_counts_every_ignored_row_by_reason() -> None:
    enc = encode_votes(_votes())
    assert enc.counts == {"rows": 6, "used": 2, "missing_class": 2, "missing_user": 1, "expert": 1,
                          "subjects": 3, "users": 2}
    assert enc.counts["used"] + enc.counts["missing_class"] + enc.counts["missing_user"] + enc.counts["expert"] == 6
    assert list(enc.subjects) == [10, 20, 30]
    assert list(enc.candidate_ids) == ["B", "A", "C"]
    assert list(enc.users) == ["ann", "bob"]
    assert enc.subject.tolist() == [1, 1]
    assert enc.klass.tolist() == [CLASSES.index("low-z"), CLASSES.index("hi-z")]
    assert enc.vote_counts().tolist() == [[0] * 5, [1, 1, 0, 0, 0], [0] * 5]


def test_experts_can_be_counted_as_votes() -> None:
    enc = encode_votes(_votes(), include_experts=True)
    assert enc.counts["used"] == 3 and enc.counts["expert"] == 0
    assert "boss" in enc.users


def test_missing_column_is_named_with_the_source() -> None:
    v = _votes().drop(columns="class")
    v.attrs["source"] = "out/votes.parquet"
    with pytest.raises(InputError, match=r"out/votes.parquet: missing column\(s\) class"):
        encode_votes(v)


def test_unknown_class_names_row_and_value() -> None:
    v = _votes()
    v.loc[4, "class"] = "Cluster"
    with pytest.raises(InputError, match=r"row 4 has class 'Cluster'; valid classes are low-z, hi-z"):
        encode_votes(v)


def test_missing_subject_and_conflicting_candidates_are_errors() -> None:
    v = _votes()
    v["subject_id"] = v["subject_id"].astype(object)
    v.loc[2, "subject_id"] = None
    with pytest.raises(InputError, match="row 2 has no subject_id"):
        encode_votes(v)
    v = _votes()
    v.loc[1, "candidate_id"] = "Z"
    with pytest.raises(InputError, match="subject 20 carries two candidate ids, 'A' and 'Z'"):
        encode_votes(v)


def test_gold_by_candidate_or_subject() -> None:
    enc = encode_votes(_votes())
    assert parse_gold(pd.Series({"A": "galaxy", "Q": "point"}), enc).tolist() == [-1, 2, -1]
    by_subject = pd.Series({30: "other"}).rename_axis("subject_id")
    assert parse_gold(by_subject, enc).tolist() == [-1, -1, 4]
    frame = pd.DataFrame({"candidate_id": ["B", "C"], "expert_class": ["hi-z", np.nan]})
    assert parse_gold(frame, enc).tolist() == [1, -1, -1]
    with pytest.raises(InputError, match="candidate_id 'A' has class 'cluster'"):
        parse_gold(pd.Series({"A": "cluster"}), enc)
