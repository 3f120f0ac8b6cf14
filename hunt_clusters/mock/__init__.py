"""The mock X-CLASS survey: X-ray and optical images with known truth, experts and volunteers."""

from ._config import DEFAULT_CLASS_FRACTIONS, SurveyConfig
from ._experts import expert_labels, expert_rule
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
    subject_difficulty,
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
    "expert_labels",
    "expert_rule",
    "format_summary",
    "read_subject_set",
    "redshift_distribution",
    "simulate_survey",
    "subject_difficulty",
    "synthetic_subject_set",
    "write_export",
    "write_workflows_export",
]
