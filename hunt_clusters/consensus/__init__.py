"""Votes -> consensus labels (majority, Dawid-Skene, SWAP) and volunteers-vs-experts metrics."""

from ._base import TIE_BREAKS, ConsensusEstimator, label_columns
from ._crossfit import DEFAULT_FOLDS, CrossFit, assign_folds, cross_fit
from ._dawid_skene import DawidSkene
from ._experts import (
    BINARY_CLASSES,
    DEFAULT_VOTE_BINS,
    cohen_kappa,
    compare_with_experts,
    expert_classes_from_votes,
    format_comparison,
)
from ._majority import MajorityVote
from ._registry import METHODS, make_estimator
from ._swap import SWAP, agent_information
from ._votes import REQUIRED_COLUMNS, EncodedVotes, as_expert_series, encode_votes, parse_gold

__all__ = [
    "BINARY_CLASSES",
    "DEFAULT_FOLDS",
    "CrossFit",
    "DEFAULT_VOTE_BINS",
    "METHODS",
    "REQUIRED_COLUMNS",
    "SWAP",
    "TIE_BREAKS",
    "ConsensusEstimator",
    "DawidSkene",
    "EncodedVotes",
    "MajorityVote",
    "agent_information",
    "assign_folds",
    "as_expert_series",
    "cohen_kappa",
    "compare_with_experts",
    "cross_fit",
    "encode_votes",
    "expert_classes_from_votes",
    "format_comparison",
    "label_columns",
    "make_estimator",
    "parse_gold",
]
