"""A Zooniverse classification export -> a tidy votes table (one row per classification, task and answer).

The public names are loaded on first use (PEP 562): ``hunt-clusters aggregate`` starts reading the
export (`prefetch_export`, pyarrow only) before pandas is imported.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "export_row": "_example", "write_example_export": "_example", "write_export_rows": "_example",
    "AnswerMapper": "_mapping", "read_workflows_export": "_mapping",
    "EXPORT_COLUMNS": "_blocks", "Prefetch": "_blocks", "prefetch_export": "_blocks",
    "FILTER_REASONS": "_reader", "REJECT_REASONS": "_reader", "VOTE_COLUMNS": "_reader",
    "ExportVotes": "_reader", "ReadOptions": "_reader", "ReadSummary": "_reader", "read_export": "_reader",
    "read_ledger": "_reader",
    "VersionRange": "_versions", "parse_version": "_versions",
    "write_votes": "_write",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


__all__ = sorted(_EXPORTS)
