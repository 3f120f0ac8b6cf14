"""What Caesar needs to run the retirement rules server-side: machine extracts and rule definitions."""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from ._decide import RetireConfig

log = logging.getLogger(__name__)

#: The extractor key under which the scores are imported (``import_caesar_data_extracts``).
CAESAR_EXTRACTOR_KEY = "hunt_clusters"


def subject_id_text(subject_ids: pd.Series) -> np.ndarray:
    """Zooniverse subject ids as text (empty where missing): ``str(int(s))`` for a number, ``str(s)`` else.

    A float column (ids beside the NaN of candidates without a subject) loses its ``.0``.
    One list comprehension over the values, not a `pandas.Series.map` of a Python function.

    Examples
    --------
    >>> subject_id_text(pd.Series([11.0, None, 12.0])).tolist()
    ['11', '', '12']
    >>> subject_id_text(pd.Series([11, "12", None], dtype=object)).tolist()
    ['11', '12', '']
    """
    missing = subject_ids.isna().to_numpy()
    out = np.full(len(subject_ids), "", dtype=object)
    values = subject_ids.to_numpy(dtype=object)[~missing].tolist()
    out[~missing] = [str(int(s)) if isinstance(s, (int, float, np.integer, np.floating)) else str(s) for s in values]
    return out


def json_numbers(values: np.ndarray) -> np.ndarray:
    """Each value rounded to 6 significant digits as JSON writes it (``null`` where not finite).

    The same text as ``json.dumps(float(f"{v:.6g}"))`` (Python's shortest ``repr`` of the rounded
    float), made in one pass of string formatting instead of a `json.dumps` per value.

    Examples
    --------
    >>> json_numbers(np.array([0.8888888, 1e-9, np.nan, 1234567.0])).tolist()
    ['0.888889', '1e-09', 'null', '1234570.0']
    """
    v = np.asarray(values, dtype=np.float64)
    out = np.full(len(v), "null", dtype=object)
    finite = np.isfinite(v)
    out[finite] = [repr(float(f"{x:.6g}")) for x in v[finite].tolist()]
    return out


def caesar_extracts(decisions: pd.DataFrame, *, extractor_key: str = CAESAR_EXTRACTOR_KEY) -> pd.DataFrame:
    """The machine-score CSV for ``Workflow.import_caesar_data_extracts`` (panoptes-client >= 1.6).

    One row per subject with a Zooniverse ``subject_id``: ``extractor_key, subject_id, data``,
    ``data`` a JSON object ``{"p_cnn": ..., "p_cnn_std": ..., "p_posterior": ...,
    "n_votes": ..., "decision": ...}`` (nulls where unknown). Caesar stores each row as a machine-data extract of the
    subject; a ``first_extract`` reducer keyed ``extractor_key`` makes its fields lookups for rules
    (``["lookup", "hunt_clusters.p_posterior", 0]``).

    Examples
    --------
    >>> d = pd.DataFrame({"subject_id": [11, None], "p_cnn": [0.8, 0.1], "p_cnn_std": [0.05, 0.0],
    ...                   "p_posterior": [0.888889, 0.1], "n_votes": [2, 0],
    ...                   "decision": ["more-eyes", "more-eyes"]})
    >>> caesar_extracts(d)["data"].tolist()
    ['{"p_cnn": 0.8, "p_cnn_std": 0.05, "p_posterior": 0.888889, "n_votes": 2, "decision": "more-eyes"}']
    """
    has = decisions["subject_id"].notna().to_numpy()
    rows = decisions[has]
    sid = subject_id_text(rows["subject_id"])
    # the JSON objects written field by field: json.dumps per row took ~0.8 s of retire's ~2.5 s at 10^5 subjects
    # (tests/retire/test_fast_outputs.py checks them against json.dumps)
    cnn, std, post = (json_numbers(rows[c].to_numpy(dtype=np.float64)) for c in ("p_cnn", "p_cnn_std", "p_posterior"))
    words = {d: json.dumps(str(d)) for d in pd.unique(rows["decision"])}
    data = [f'{{"p_cnn": {a}, "p_cnn_std": {b}, "p_posterior": {c}, "n_votes": {n}, "decision": {words[d]}}}'
            for a, b, c, n, d in zip(cnn.tolist(), std.tolist(), post.tolist(),
                                     rows["n_votes"].to_numpy(dtype=np.int64).tolist(), rows["decision"].tolist())]
    return pd.DataFrame({"extractor_key": extractor_key, "subject_id": sid, "data": data})


def caesar_definitions(
    config: RetireConfig,
    *,
    extractor_key: str = CAESAR_EXTRACTOR_KEY,
    expert_set: str | int | None = None,
    reason: str = "consensus",
) -> dict[str, Any]:
    """The reducers, rules and effects that run `decide`'s rules in Caesar, as panoptes-client calls take them.

    ``reducers`` are ``(reducer_type, key, attributes)`` for ``Workflow.add_caesar_reducer``; each
    rule has the ``condition_string`` (Caesar's prefix JSON) and ``rule_type`` for
    ``Workflow.add_caesar_rule``, and its ``effects`` the ``action`` and ``config`` for
    ``Workflow.add_caesar_rule_effect``. Caesar sees the posterior imported with the extracts
    (`caesar_extracts`) and counts the classifications itself (a ``count`` reducer; the workflow
    needs an extractor, e.g. a question extractor, for it to count). The expert rules of `decide`
    need the CNN and volunteer sides apart, so Caesar moves the subjects whose imported
    ``decision`` is ``experts`` to ``expert_set``; without ``expert_set`` no expert rule is
    written.

    Examples
    --------
    >>> d = caesar_definitions(RetireConfig())
    >>> d["rules"][0]["condition_string"]
    '["and", ["gte", ["lookup", "hunt_clusters.p_posterior", 0], ["const", 0.95]], \
["gte", ["lookup", "count.classifications", 0], ["const", 3]]]'
    """
    key = extractor_key
    enough = ["gte", ["lookup", "count.classifications", 0], ["const", config.min_votes]]
    rules: list[dict[str, Any]] = [
        {"name": "retire-cluster", "rule_type": "subject",
         "condition_string": json.dumps(["and", ["gte", ["lookup", f"{key}.p_posterior", 0],
                                                 ["const", config.retire_cluster]], enough]),
         "effects": [{"action": "retire_subject", "config": {"reason": reason}}]},
        {"name": "retire-non-cluster", "rule_type": "subject",
         "condition_string": json.dumps(["and", ["lte", ["lookup", f"{key}.p_posterior", 1],
                                                 ["const", config.retire_non_cluster]], enough]),
         "effects": [{"action": "retire_subject", "config": {"reason": reason}}]},
    ]
    if expert_set is not None:
        rules.append({
            "name": "experts", "rule_type": "subject",
            "condition_string": json.dumps(["eq", ["lookup", f"{key}.decision", ""], ["const", "experts"]]),
            "effects": [{"action": "add_subject_to_set", "config": {"subject_set_id": str(expert_set)}}]})
    return {
        "about": "Caesar set-up for hunt-clusters retire: see docs/human-machine.md",
        "thresholds": {"retire_cluster": config.retire_cluster, "retire_non_cluster": config.retire_non_cluster,
                       "min_votes": config.min_votes, "max_votes": config.max_votes},
        "extracts_csv": {"extractor_key": key, "columns": ["extractor_key", "subject_id", "data"]},
        "reducers": [
            {"reducer_type": "first_extract", "key": key,
             "attributes": {"filters": {"extractor_keys": [key]}}},
            {"reducer_type": "count", "key": "count", "attributes": {}},
        ],
        "rules": rules,
    }


__all__ = ["CAESAR_EXTRACTOR_KEY", "caesar_definitions", "caesar_extracts", "json_numbers", "subject_id_text"]
