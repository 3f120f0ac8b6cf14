"""A Zooniverse classification export -> a tidy votes table (one row per classification, task and answer).

The public names are loaded on first use (PEP 562): ``hunt-clusters aggregate`` starts reading the
export (`prefetch_export`, pyarrow only) before pandas is imported.
"""

from __future__ import annotations

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = sorted(_EXPORTS)
