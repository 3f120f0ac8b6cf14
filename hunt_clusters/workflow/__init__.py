"""The workflow definition: the question volunteers answer, its answers and their classes."""

from ._definition import (
    DEFAULT_WORKFLOW_PATH,
    Answer,
    WorkflowDefinition,
    load_workflow,
    normalise_label,
)
from ._version import parse_version

__all__ = ["DEFAULT_WORKFLOW_PATH", "Answer", "WorkflowDefinition", "load_workflow", "normalise_label", "parse_version"]
