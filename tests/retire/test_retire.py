"""retire: posteriors and decisions by hand (SWAP skills from gold, the CNN as prior), priorities, Caesar."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hunt_clusters._errors import InputError
from hunt_clusters.cli import main
from hunt_clusters.retire import (
    DECISION_COLUMNS,
    RetireConfig,
    bald,
    caesar_definitions,
    caesar_extracts,
    cnn_priority,
    decide,
    read_predictions,
)

# Gold: A (low-z, a cluster), B (galaxy, not). ann, cat and dan are right on both:
# P_L = P_D = (0.5 * 2 + 1) / (2 + 1) = 2/3, so their "cluster" vote multiplies the odds by
# (2/3) / (1 - 2/3) = 2 and their "not" vote by (1/3) / (2/3) = 1/2. bob calls A a point source
# and B a galaxy: P_L = 1/3, P_D = 2/3, and both his votes multiply the odds by exactly 1.
# SWAP's prior: (1 + 1 gold cluster) / (2 + 2 gold) = 0.5.
_V = [
    ("A", "ann", "low-z"), ("A", "cat", "low-z"), ("A", "dan", "low-z"), ("A", "bob", "point"),
    ("B", "ann", "galaxy"), ("B", "cat", "galaxy"), ("B", "dan", "galaxy"), ("B", "bob", "galaxy"),
    ("C", "ann", "hi-z"), ("C", "cat", "low-z"), ("C", "dan", "hi-z"),          # x8
    ("D", "ann", "galaxy"), ("D", "cat", "point"), ("D", "dan", "other"),       # x1/8
    ("E", "ann", "hi-z"), ("E", "cat", "hi-z"), ("E", "dan", "low-z"),          # x8, CNN says no
    ("F", "ann", "hi-z"), ("F", "cat", "point"), ("F", "dan", "hi-z"),          # x2, wide ensemble
    ("G", "ann", "hi-z"), ("G", "cat", "point"),                                # x1, two votes only
    ("J", "ann", "hi-z"), ("J", "cat", "point"), ("J", "dan", "hi-z"), ("J", "bob", "point"),  # x2
    ("K", "ann", "low-z"),                                                      # x2, no CNN score
]
_CNN = {  # candidate: (p_cluster, p_cluster_std)
    "A": (0.9, 0.02), "B": (0.1, 0.02), "C": (0.8, 0.05), "D": (0.2, 0.05), "E": (0.01, 0.01),
    "F": (0.5, 0.3), "G": (0.6, 0.1), "H": (0.5, 0.1), "J": (0.5, 0.01),
}
_CFG = RetireConfig(retire_non_cluster=0.05, min_votes=3, max_votes=4, disagree=0.85, max_spread=0.25)


def _votes() -> pd.DataFrame:
    cids = [c for c, _, _ in _V]
    sid = {c: 100 + i for i, c in enumerate(dict.fromkeys(cids))}
    return pd.DataFrame({"subject_id": [sid[c] for c in cids], "candidate_id": cids,
                         "user": [u for _, u, _ in _V], "class": [k for _, _, k in _V]})


def _cnn() -> pd.DataFrame:
    return pd.DataFrame({"candidate_id": list(_CNN), "p_cluster": [p for p, _ in _CNN.values()],
                         "p_cluster_std": [s for _, s in _CNN.values()]})


_GOLD = pd.Series({"A": "low-z", "B": "galaxy"})


def _decisions(**kw: object) -> pd.DataFrame:
    return decide(_votes(), _cnn(), gold=_GOLD, config=RetireConfig(**{**_CFG.__dict__, **kw})).set_index("candidate_id")


def test_posteriors_by_hand() -> None:
    d = _decisions()
    assert list(d.reset_index().columns) == list(DECISION_COLUMNS)
    expected = {  # posterior odds = CNN odds x volunteers' Bayes factor
        "A": 72 / 73, "B": 1 / 73, "C": 32 / 33, "D": 1 / 33, "E": 8 / 107, "F": 2 / 3, "G": 0.6, "H": 0.5,
        "J": 2 / 3, "K": 2 / 3,
    }
    assert d["p_posterior"].to_dict() == pytest.approx(expected, rel=1e-12)
    assert d.loc["C", "log_bayes_volunteers"] == pytest.approx(3 * math.log(2), rel=1e-12)
    assert d.loc["J", "log_bayes_volunteers"] == pytest.approx(math.log(2), rel=1e-12)  # bob adds nothing
    assert d.loc["C", "p_volunteers"] == pytest.approx(8 / 9, rel=1e-12)               # SWAP prior 0.5
    assert np.isnan(d.loc["H", "p_volunteers"]) and d.loc["H", "n_votes"] == 0
    assert d["n_votes"].to_dict() == {"A": 4, "B": 4, "C": 3, "D": 3, "E": 3, "F": 3, "G": 2, "H": 0, "J": 4,
                                      "K": 1}


def test_decisions_and_priorities_by_hand() -> None:
    d = _decisions()
    assert d["decision"].to_dict() == {
        "A": "retire-cluster", "B": "retire-non-cluster", "C": "retire-cluster", "D": "retire-non-cluster",
        "E": "experts", "F": "experts", "G": "more-eyes", "H": "more-eyes", "J": "experts", "K": "more-eyes"}
    assert d.loc[["E", "F", "J"], "reason"].tolist() == ["disagree", "spread", "undecided"]
    # more eyes: the most uncertain posterior first (entropy 1 bit at 0.5, 0.971 at 0.6, 0.918 at 2/3)
    assert d.loc[["H", "G", "K"], "priority"].tolist() == [1, 2, 3]
    assert d.loc["G", "information"] == pytest.approx(-(0.6 * math.log2(0.6) + 0.4 * math.log2(0.4)))
    assert d["priority"].isna().sum() == 7


def test_swap_alone_and_thresholds() -> None:
    alone = _decisions(cnn_prior=False)
    assert alone.loc["C", "p_posterior"] == pytest.approx(8 / 9)   # SWAP's prior 0.5 instead of the CNN's 0.8
    assert alone.loc["C", "decision"] == "more-eyes"
    assert alone.loc["E", "decision"] == "experts"                 # disagreement still seen
    strict = _decisions(retire_non_cluster=1e-7)                   # SWAP's rejection threshold
    assert strict.loc["B", "decision"] == "experts" and strict.loc["D", "decision"] == "more-eyes"
    cnn_only = decide(None, _cnn(), config=RetireConfig(min_votes=0, retire_cluster=0.9, retire_non_cluster=0.1))
    assert cnn_only.set_index("candidate_id")["decision"].to_dict() == {
        "A": "retire-cluster", "B": "retire-non-cluster", "C": "more-eyes", "D": "more-eyes",
        "E": "retire-non-cluster", "F": "experts", "G": "more-eyes", "H": "more-eyes", "J": "more-eyes"}


def test_cnn_floor_caps_the_prior() -> None:
    cnn = _cnn()
    cnn.loc[cnn["candidate_id"] == "E", "p_cluster"] = 0.0
    d = decide(_votes(), cnn, gold=_GOLD, config=_CFG).set_index("candidate_id")
    assert d.loc["E", "p_posterior"] == pytest.approx(8e-3 / (8e-3 + 0.999))   # odds 0.001/0.999 x 8


@pytest.mark.parametrize("kw, word", [({"retire_cluster": 1.0}, "retire-cluster"),
                                      ({"retire_non_cluster": 0.96}, "below"),
                                      ({"disagree": 0.5}, "disagree"), ({"max_votes": 2}, "max-votes"),
                                      ({"cnn_floor": 0.5}, "cnn-floor")])
def test_config_rejects_bad_thresholds(kw: dict[str, float], word: str) -> None:
    with pytest.raises(InputError, match=word):
        RetireConfig(**kw)  # type: ignore[arg-type]


def test_bald_and_priority_scores() -> None:
    runs = np.array([[0.0, 1.0], [0.5, 0.5], [0.2, 0.8], [0.9, 0.9]])
    h02 = -(0.2 * math.log2(0.2) + 0.8 * math.log2(0.8))
    assert bald(runs) == pytest.approx([1.0, 0.0, 1.0 - h02, 0.0])
    t = pd.DataFrame({"candidate_id": list("WXYZ"), "p_cluster": runs.mean(axis=1),
                      "p_cluster_std": runs.std(axis=1), "p_cluster_run0": runs[:, 0], "p_cluster_run1": runs[:, 1]})
    assert cnn_priority(t, "bald")["priority"].tolist() == [1, 3, 2, 4]
    assert cnn_priority(t, "spread")["priority"].tolist() == [1, 3, 2, 4]
    assert cnn_priority(t, "entropy")["priority"].tolist() == [1, 2, 3, 4]    # ties: table order
    with pytest.raises(InputError, match="per-run"):
        cnn_priority(t.drop(columns=["p_cluster_run1"]), "bald")


def test_caesar_files() -> None:
    d = decide(_votes(), _cnn(), gold=_GOLD, config=_CFG)
    ext = caesar_extracts(d)
    assert len(ext) == 9 and "H" not in set(d.loc[d["subject_id"].isin(ext["subject_id"].astype(int)), "candidate_id"])
    row = ext[ext["subject_id"] == "102"].iloc[0]                      # C
    assert json.loads(row["data"]) == {"p_cnn": 0.8, "p_cnn_std": 0.05, "p_posterior": pytest.approx(32 / 33, rel=1e-5),
                                       "n_votes": 3, "decision": "retire-cluster"}
    defs = caesar_definitions(_CFG, expert_set=55)
    conds = [json.loads(r["condition_string"]) for r in defs["rules"]]
    assert conds[1] == ["and", ["lte", ["lookup", "hunt_clusters.p_posterior", 1], ["const", 0.05]],
                        ["gte", ["lookup", "count.classifications", 0], ["const", 3]]]
    assert defs["rules"][2]["effects"] == [{"action": "add_subject_to_set", "config": {"subject_set_id": "55"}}]
    assert [r["reducer_type"] for r in defs["reducers"]] == ["first_extract", "count"]


def _write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "agg"
    folder.mkdir()
    _votes().to_parquet(folder / "votes.parquet")
    pd.DataFrame({"candidate_id": ["A", "B", "C"], "expert_class": ["low-z", "galaxy", "hi-z"],
                  "role": ["gold", "gold", "held-out"]}).to_csv(folder / "gold.csv", index=False)
    pred = tmp_path / "predictions.csv"
    _cnn().to_csv(pred, index=False)
    return folder, pred


def test_cli_writes_decisions_and_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, pred = _write_inputs(tmp_path)
    out = tmp_path / "out"
    rc = main(["retire", str(folder), "--predictions", str(pred), "--out", str(out), "--retire-non-cluster", "0.05",
               "--max-votes", "4", "--disagree", "0.85", "--apply", "--workflow", "9", "--dry-run"])
    text = capsys.readouterr().out
    assert rc == 0
    d = pd.read_csv(out / "decisions.csv", dtype={"candidate_id": str}).set_index("candidate_id")
    assert d["decision"].to_dict() == _decisions()["decision"].to_dict()   # gold.csv's held-out C is not gold
    assert d.loc["H", "subject_id"] != d.loc["H", "subject_id"]              # no subject yet: empty
    assert '"subject_ids": [100, 101, 102, 103], "retirement_reason": "consensus"' in text
    assert (out / "caesar_extracts.csv").exists() and (out / "caesar_rules.json").exists()


def test_cli_bad_prediction_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, pred = _write_inputs(tmp_path)
    t = _cnn()
    t.loc[2, "p_cluster"] = 1.5
    t.to_csv(pred, index=False)
    rc = main(["retire", str(folder), "--predictions", str(pred), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1
    assert err[0] == f"error: {pred}, row 4 (C): p_cluster 1.5 is not a number between 0 and 1"


def test_cli_refuses_a_folder_of_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, pred = _write_inputs(tmp_path)
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    rc = main(["retire", str(folder), "--predictions", str(pred), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and err.count("\n") == 0 and "notes.txt" in err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    # its own earlier result is replaced
    assert main(["-q", "retire", str(folder), "--out", str(tmp_path / "o2")]) == 0
    assert main(["-q", "retire", str(folder), "--out", str(tmp_path / "o2")]) == 0


def test_cli_apply_needs_workflow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, pred = _write_inputs(tmp_path)
    assert main(["retire", str(folder), "--out", str(tmp_path / "o"), "--apply"]) == 2
    assert "--workflow" in capsys.readouterr().err


def test_read_predictions_rejects_duplicates(tmp_path: Path) -> None:
    p = tmp_path / "p.csv"
    p.write_text("candidate_id,p_cluster\nA,0.5\nA,0.6\n")
    with pytest.raises(InputError, match=r"row 3: candidate 'A' appears twice"):
        read_predictions(p)


def test_doctests() -> None:
    """The Examples sections of the retire modules run and give what they show."""
    import doctest

    from hunt_clusters.retire import _caesar, _decide
    from hunt_clusters.zooniverse import _retire

    for mod in (_decide, _caesar, _retire):
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, mod.__name__


def test_an_aggregate_folder_gives_its_folds_as_gold(tmp_path: Path) -> None:
    """aggregate --experts writes folds.csv (cross-fitting), not gold.csv: every row of it is gold here."""
    from hunt_clusters.retire._io import read_votes

    folder = tmp_path / "agg"
    folder.mkdir()
    _votes().to_parquet(folder / "votes.parquet")
    pd.DataFrame({"candidate_id": ["A", "C"], "expert_class": ["low-z", "hi-z"], "fold": [0, 1]}).to_csv(
        folder / "folds.csv", index=False)
    gold = read_votes(folder).gold
    assert gold is not None and gold.to_dict() == {"A": "low-z", "C": "hi-z"}
