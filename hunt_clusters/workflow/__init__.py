"""The workflow definition: the question volunteers answer, its answers and their classes."""

from ._definition import (
    DEFAULT_WORKFLOW_PATH,
    Answer,
    WorkflowDefinition,
    load_workflow,
    normalise_label,
)

__all__ = ["DEFAULT_WORKFLOW_PATH", "Answer", "WorkflowDefinition", "load_workflow", "normalise_label"]
