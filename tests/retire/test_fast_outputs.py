"""retire's output files, written in one formatting pass, equal the straightforward per-row writers byte for byte."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hunt_clusters.retire import RetireConfig, caesar_extracts, decide
from hunt_clusters.retire._caesar import json_numbers, subject_id_text
from hunt_clusters.retire._io import decisions_csv


# -- the reference: the per-cell writers retire used before (pandas' float_format, json.dumps per row) --------
def _ref_decisions_csv(decisions: pd.DataFrame) -> str:
    dec = decisions.copy()
    dec["subject_id"] = dec["subject_id"].map(
        lambda s: "" if pd.isna(s) else str(int(s)) if isinstance(s, float) else str(s))
    return dec.to_csv(index=False, float_format="%.6g")


def _ref_num(v: float) -> float | None:
    return None if not np.isfinite(v) else float(f"{v:.6g}")


def _ref_caesar(decisions: pd.DataFrame) -> pd.DataFrame:
    rows = decisions[decisions["subject_id"].notna()]
    sid = rows["subject_id"].map(lambda s: str(int(s)) if isinstance(s, (int, float, np.integer, np.floating))
                                 else str(s))
    data = [json.dumps({"p_cnn": _ref_num(a), "p_cnn_std": _ref_num(b), "p_posterior": _ref_num(c),
                        "n_votes": int(n), "decision": str(d)})
            for a, b, c, n, d in zip(rows["p_cnn"].to_numpy(dtype=np.float64),
                                     rows["p_cnn_std"].to_numpy(dtype=np.float64),
                                     rows["p_posterior"].to_numpy(dtype=np.float64), rows["n_votes"].to_numpy(),
                                     rows["decision"])]
    return pd.DataFrame({"extractor_key": "hunt_clusters", "subject_id": sid.to_numpy(), "data": data})


def _random_decisions(seed: int) -> pd.DataFrame:
    """decide() on a random crowd: candidates without votes (subject_id NaN), votes without a CNN score."""
    rng = np.random.default_rng(seed)
    n_sub, n_vote = 300, 2000
    classes = np.array(["low-z", "hi-z", "galaxy", "point", "other"], dtype=object)
    subj = rng.integers(0, n_sub, n_vote)
    votes = pd.DataFrame({"subject_id": 5_000_000 + subj, "candidate_id": [f"C{i:04d}" for i in subj],
                          "user": [f"u{i}" for i in rng.integers(0, 40, n_vote)],
                          "class": classes[rng.integers(0, 5, n_vote)]})
    gold = pd.Series(classes[rng.integers(0, 5, 60)], index=[f"C{i:04d}" for i in rng.choice(n_sub, 60, replace=False)])
    scored = rng.choice(n_sub + 100, 250, replace=False)               # 100 candidates only the CNN has seen
    p = rng.random(len(scored)) ** 3
    p[:5] = [0.0, 1.0, 0.5, 1e-12, 1 - 1e-12]
    pred = pd.DataFrame({"candidate_id": [f"C{i:04d}" for i in scored], "p_cluster": p,
                         "p_cluster_std": rng.random(len(scored)) * 0.4})
    return decide(votes, pred, gold=gold, config=RetireConfig(min_votes=2, retire_non_cluster=0.05))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_decide_output_equals_the_reference(seed: int) -> None:
    d = _random_decisions(seed)
    assert d["subject_id"].isna().any() and d["p_cnn"].isna().any()          # both kinds of gap are exercised
    assert decisions_csv(d) == _ref_decisions_csv(d)
    pd.testing.assert_frame_equal(caesar_extracts(d), _ref_caesar(d))


def test_extreme_values_and_id_types_equal_the_reference() -> None:
    v = [0.0, -0.0, 1e-300, 5e-324, 1e-7, 1e-5, 1e-4, 0.1, 1 / 3, 0.5, 0.9999995, 123456.0, 123456.5, 999999.5,
         1234567.0, 1e16, 1.5e300, -2.5e-8, np.inf, -np.inf, np.nan]
    n = len(v)
    ids = [11.0 + i for i in range(n)]
    d = pd.DataFrame({"candidate_id": [f"X,{i}" for i in range(n)], "subject_id": ids, "n_votes": np.arange(n),
                      "p_cnn": v, "p_cnn_std": v[::-1], "log_bayes_volunteers": np.array(v) * -7,
                      "p_volunteers": v, "p_posterior": v[3:] + v[:3], "decision": ["more-eyes", "experts", 'a"b'] * 7,
                      "reason": "x", "information": v,
                      "priority": pd.array([1, None] * 10 + [3], dtype="Int64")})
    assert decisions_csv(d) == _ref_decisions_csv(d)
    pd.testing.assert_frame_equal(caesar_extracts(d), _ref_caesar(d))
    mixed = d.assign(subject_id=pd.Series([7, "8", None, np.int64(9), 10.0] + [11] * (n - 5), dtype=object))
    assert decisions_csv(mixed) == _ref_decisions_csv(mixed)
    pd.testing.assert_frame_equal(caesar_extracts(mixed), _ref_caesar(mixed))


def test_no_votes_and_no_rows_equal_the_reference() -> None:
    pred = pd.DataFrame({"candidate_id": ["A", "B"], "p_cluster": [0.2, 0.97], "p_cluster_std": [0.01, 0.3]})
    for d in (decide(None, pred), decide(None, pred).iloc[:0]):
        assert decisions_csv(d) == _ref_decisions_csv(d)
        fast, ref = caesar_extracts(d), _ref_caesar(d)
        assert len(fast) == 0 and list(fast.columns) == list(ref.columns)


def test_helpers_by_hand() -> None:
    assert json_numbers(np.array([0.8888888, 1e-9, np.nan, np.inf, 1234567.0, 2.0])).tolist() == [
        "0.888889", "1e-09", "null", "null", "1234570.0", "2.0"]
    assert subject_id_text(pd.Series([11.0, None, 12.0])).tolist() == ["11", "", "12"]
    assert subject_id_text(pd.Series([31200381, 5])).tolist() == ["31200381", "5"]


def test_io_doctests() -> None:
    """The Examples of retire's reading and writing module run and give what they show."""
    import doctest

    from hunt_clusters.retire import _io

    result = doctest.testmod(_io)
    assert result.attempted > 0 and result.failed == 0
