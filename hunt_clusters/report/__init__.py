"""The comparison report: a training run folder -> one self-contained HTML page, its numbers and figures."""

from ._human_machine import ReplayFolder, read_replay_folder
from ._inputs import RunFolder, read_run_folder
from ._metrics import (
    PAPER_REFERENCE,
    binary_comparison,
    calibration,
    cohen_kappa,
    is_cluster,
    roc_curve,
    selection_function,
)
from ._report import write_report

__all__ = [
    "PAPER_REFERENCE",
    "ReplayFolder",
    "RunFolder",
    "binary_comparison",
    "calibration",
    "cohen_kappa",
    "is_cluster",
    "read_replay_folder",
    "read_run_folder",
    "roc_curve",
    "selection_function",
    "write_report",
]
