"""The mock X-CLASS survey: X-ray and optical images with known truth, experts and volunteers.

The experts and the volunteers see only the rendered subjects (`_perception`, `_observers`).
"""

from ._config import DEFAULT_CLASS_FRACTIONS, SurveyConfig
from ._crowd import VolunteerCrowd
from ._observers import class_probabilities, expert_labels_from_cues, simulate_experts
from ._perception import CUE_COLUMNS, measure_cues, subject_set_cues
from ._survey import (
    CATALOGUE_NAME,
    CONTRACT_COLUMNS,
    SurveyResult,
    class_mix,
    confusion_matrix,
    format_summary,
    redshift_distribution,
    simulate_survey,
)
from ._truth import draw_truth
from ._volunteers import (
    EARLY_LABELS,
    EXPORT_COLUMNS,
    WORKFLOWS_EXPORT_COLUMNS,
    ExportSummary,
    VolunteerConfig,
    read_subject_set,
    subject_cues,
    synthetic_subject_set,
    write_export,
    write_workflows_export,
)

__all__ = [
    "CATALOGUE_NAME",
    "CONTRACT_COLUMNS",
    "DEFAULT_CLASS_FRACTIONS",
    "EARLY_LABELS",
    "EXPORT_COLUMNS",
    "WORKFLOWS_EXPORT_COLUMNS",
    "ExportSummary",
    "SurveyConfig",
    "SurveyResult",
    "VolunteerConfig",
    "class_mix",
    "confusion_matrix",
    "draw_truth",
    "CUE_COLUMNS",
    "VolunteerCrowd",
    "class_probabilities",
    "expert_labels_from_cues",
    "measure_cues",
    "simulate_experts",
    "subject_set_cues",
    "format_summary",
    "read_subject_set",
    "redshift_distribution",
    "simulate_survey",
    "subject_cues",
    "synthetic_subject_set",
    "write_export",
    "write_workflows_export",
]
