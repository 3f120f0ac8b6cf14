"""Talk to Zooniverse: log in, upload subject sets (resumable, verified), push workflows, pull exports, retire.

The submodules are imported on first use (PEP 562 ``__getattr__``): the command line imports this
package to build its parser, and ``hunt-clusters --help`` must not load the HTTP stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._client import (
        DEFAULT_CONFIG_FILE,
        LIVE_ENDPOINT,
        STAGING_ENDPOINT,
        Connection,
        Credentials,
        LoginError,
        UncertainError,
        ZooniverseConfig,
        ZooniverseError,
        connect,
        load_credentials,
        resolve_endpoint,
    )
    from ._export import EXPORT_TYPES, download_export
    from ._ledger import LEDGER_COLUMNS, LEDGER_NAME, LOCK_NAME, Ledger, LedgerEntry, LedgerLock, UploadLockedError
    from ._manifest import MAX_MEDIA_BYTES, REQUIRED_COLUMNS, SubjectRecord, read_subject_set
    from ._upload import (
        LINK_BATCH,
        UploadResult,
        find_project,
        find_subject_set,
        find_workflow,
        index_by_candidate,
        link_subjects,
        link_workflow,
        upload_subject_set,
        with_priority,
    )
    from ._retire import RETIRE_BATCH, RETIREMENT_REASONS, RetireResult, apply_retirement
    from ._workflow import PushResult, pull_workflow, push_workflow, workflow_attributes

#: Public name -> the private module that defines it.
_WHERE: dict[str, str] = {
    **dict.fromkeys(("DEFAULT_CONFIG_FILE", "LIVE_ENDPOINT", "STAGING_ENDPOINT", "Connection", "Credentials",
                     "LoginError", "UncertainError", "ZooniverseConfig", "ZooniverseError", "connect",
                     "load_credentials", "resolve_endpoint"), "_client"),
    **dict.fromkeys(("EXPORT_TYPES", "download_export"), "_export"),
    **dict.fromkeys(("LEDGER_COLUMNS", "LEDGER_NAME", "LOCK_NAME", "Ledger", "LedgerEntry", "LedgerLock",
                     "UploadLockedError"), "_ledger"),
    **dict.fromkeys(("MAX_MEDIA_BYTES", "REQUIRED_COLUMNS", "SubjectRecord", "read_subject_set"), "_manifest"),
    **dict.fromkeys(("LINK_BATCH", "UploadResult", "find_project", "find_subject_set", "find_workflow",
                     "index_by_candidate", "link_subjects", "link_workflow", "upload_subject_set",
                     "with_priority"), "_upload"),
    **dict.fromkeys(("RETIRE_BATCH", "RETIREMENT_REASONS", "RetireResult", "apply_retirement"), "_retire"),
    **dict.fromkeys(("PushResult", "pull_workflow", "push_workflow", "workflow_attributes"), "_workflow"),
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


__all__ = [
    "DEFAULT_CONFIG_FILE",
    "EXPORT_TYPES",
    "LEDGER_COLUMNS",
    "LEDGER_NAME",
    "LINK_BATCH",
    "LIVE_ENDPOINT",
    "LOCK_NAME",
    "MAX_MEDIA_BYTES",
    "REQUIRED_COLUMNS",
    "STAGING_ENDPOINT",
    "Connection",
    "Credentials",
    "Ledger",
    "LedgerEntry",
    "LedgerLock",
    "LoginError",
    "PushResult",
    "RETIREMENT_REASONS",
    "RETIRE_BATCH",
    "RetireResult",
    "SubjectRecord",
    "UncertainError",
    "UploadLockedError",
    "UploadResult",
    "ZooniverseConfig",
    "ZooniverseError",
    "apply_retirement",
    "connect",
    "download_export",
    "find_project",
    "find_subject_set",
    "find_workflow",
    "index_by_candidate",
    "link_subjects",
    "link_workflow",
    "load_credentials",
    "pull_workflow",
    "push_workflow",
    "read_subject_set",
    "resolve_endpoint",
    "upload_subject_set",
    "with_priority",
    "workflow_attributes",
]
