"""The CNN and the volunteers together: posteriors, retirement decisions, priorities, Caesar rules, replays."""

from ._caesar import CAESAR_EXTRACTOR_KEY, caesar_definitions, caesar_extracts
from ._decide import (
    DECISION_COLUMNS,
    DECISIONS,
    PRIORITY_SCORES,
    RetireConfig,
    bald,
    binary_entropy,
    cnn_priority,
    decide,
    read_predictions,
    run_columns,
)
from ._replay import POLICY_COLUMNS, POLICY_KINDS, Policy, ReplayResult, crowd_votes, equal_accuracy, replay
from ._active import ACTIVE_COLUMNS, STRATEGIES, ActiveConfig, ActiveResult, active_learning, labels_needed
from ._survey import REPLAY_FILES, ReplayConfig, policies_for, replay_survey
from ._io import OUTPUT_FILES, RetireInputs, attach_ledger, read_gold, read_votes, write_outputs

__all__ = [
    "ACTIVE_COLUMNS",
    "STRATEGIES",
    "ActiveConfig",
    "ActiveResult",
    "active_learning",
    "labels_needed",
    "REPLAY_FILES",
    "ReplayConfig",
    "policies_for",
    "replay_survey",
    "POLICY_COLUMNS",
    "POLICY_KINDS",
    "Policy",
    "ReplayResult",
    "crowd_votes",
    "replay",
    "OUTPUT_FILES",
    "PRIORITY_SCORES",
    "RetireInputs",
    "attach_ledger",
    "read_gold",
    "read_votes",
    "run_columns",
    "write_outputs",
    "CAESAR_EXTRACTOR_KEY",
    "DECISIONS",
    "DECISION_COLUMNS",
    "RetireConfig",
    "bald",
    "binary_entropy",
    "caesar_definitions",
    "caesar_extracts",
    "cnn_priority",
    "decide",
    "equal_accuracy",
    "read_predictions",
]
