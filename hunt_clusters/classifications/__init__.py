"""A Zooniverse classification export -> a tidy votes table (one row per classification, task and answer)."""

from ._example import export_row, write_example_export, write_export_rows
from ._mapping import AnswerMapper, read_workflows_export
from ._reader import (
    EXPORT_COLUMNS,
    FILTER_REASONS,
    REJECT_REASONS,
    VOTE_COLUMNS,
    ExportVotes,
    ReadOptions,
    ReadSummary,
    read_export,
    read_ledger,
)
from ._versions import VersionRange, parse_version
from ._write import write_votes

__all__ = [
    "EXPORT_COLUMNS",
    "FILTER_REASONS",
    "REJECT_REASONS",
    "VOTE_COLUMNS",
    "AnswerMapper",
    "ExportVotes",
    "ReadOptions",
    "ReadSummary",
    "VersionRange",
    "export_row",
    "parse_version",
    "read_export",
    "read_ledger",
    "read_workflows_export",
    "write_example_export",
    "write_export_rows",
    "write_votes",
]
