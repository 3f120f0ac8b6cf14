"""The Caesar definitions ``retire`` writes use only the reducer, rule and effect types panoptes-client accepts."""

from __future__ import annotations

import json

import pytest
from panoptes_client.caesar import Caesar

from hunt_clusters.retire import RetireConfig, caesar_definitions


def test_caesar_types_are_the_clients() -> None:
    defs = caesar_definitions(RetireConfig(), expert_set=77)
    caesar = Caesar()        # validation only: nothing is sent
    for r in defs["reducers"]:
        caesar.validate_reducer_type(r["reducer_type"])
    assert {r["reducer_type"] for r in defs["reducers"]} == {"first_extract", "count"}
    actions = []
    for rule in defs["rules"]:
        caesar.validate_rule_type(rule["rule_type"])
        for e in rule["effects"]:
            caesar.validate_action(rule["rule_type"], e["action"])
            actions.append(e["action"])
        # Caesar's condition language: prefix JSON lists; a count reducer's lookup is "<key>.classifications"
        cond = json.loads(rule["condition_string"])
        assert isinstance(cond, list) and cond[0] in ("and", "eq", "gte", "lte")
    assert actions.count("retire_subject") == 2 and actions.count("add_subject_to_set") == 1
    assert "count.classifications" in defs["rules"][0]["condition_string"]
    with pytest.raises(ValueError):
        caesar.validate_reducer_type("first-extract")   # the check can fail
