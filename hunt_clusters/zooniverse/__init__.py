"""Talk to Zooniverse: log in, upload subject sets (resumable, verified), push workflows, pull exports."""

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
from ._ledger import LEDGER_COLUMNS, LEDGER_NAME, Ledger, LedgerEntry
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
)
from ._workflow import PushResult, pull_workflow, push_workflow, workflow_attributes

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "EXPORT_TYPES",
    "LEDGER_COLUMNS",
    "LEDGER_NAME",
    "LINK_BATCH",
    "LIVE_ENDPOINT",
    "MAX_MEDIA_BYTES",
    "REQUIRED_COLUMNS",
    "STAGING_ENDPOINT",
    "Connection",
    "Credentials",
    "Ledger",
    "LedgerEntry",
    "LoginError",
    "PushResult",
    "SubjectRecord",
    "UncertainError",
    "UploadResult",
    "ZooniverseConfig",
    "ZooniverseError",
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
    "workflow_attributes",
]
