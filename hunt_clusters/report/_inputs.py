"""Read a training run folder (``docs/formats.md``, "Training run folder") into one record."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import InputError

log = logging.getLogger(__name__)

#: Columns read as text whatever they hold (ids and class names; "nan" must stay a string id).
_TEXT_COLUMNS = ("candidate_id", "role", "split", "model", "expert_class", "spec_class", "true_class",
                 "vote_label", "label", "method", "image")


@dataclass(frozen=True)
class RunFolder:
    """The files of one ``train-on-votes`` run folder; ``None`` where an optional file is absent.

    Attributes
    ----------
    path : pathlib.Path
        The run folder.
    metrics : dict
        ``metrics.json`` (the only file every run folder must have).
    config, aggregate_metrics : dict or None
        ``config.json`` and ``aggregate_metrics.json``.
    candidates, labels, predictions, ensemble, history : pandas.DataFrame or None
        ``candidates.csv``, ``labels.csv``, ``predictions.csv``, ``ensemble.csv``, ``history.csv``.
    missing : tuple of str
        The optional files that are absent, by name.
    """

    path: Path
    metrics: dict[str, Any]
    config: dict[str, Any] | None = None
    aggregate_metrics: dict[str, Any] | None = None
    candidates: pd.DataFrame | None = None
    labels: pd.DataFrame | None = None
    predictions: pd.DataFrame | None = None
    ensemble: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    missing: tuple[str, ...] = field(default_factory=tuple)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def _read_csv(path: Path, required: tuple[str, ...], text: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV file with ``required`` columns; ids, class names and the ``text`` columns read as text."""
    try:
        head = pd.read_csv(path, nrows=0)
        dtype = {c: str for c in head.columns if c in _TEXT_COLUMNS or c in text}
        df = pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: cannot read as CSV ({exc})") from None
    absent = [c for c in required if c not in df.columns]
    if absent:
        raise InputError(f"{path}: missing column(s) {', '.join(absent)}; has {', '.join(map(str, df.columns))}")
    return df


#: Optional CSV files of a run folder and the columns each must have when present.
_CSV_FILES: dict[str, tuple[str, ...]] = {
    "candidates": ("candidate_id",),
    "labels": ("candidate_id", "label"),
    "predictions": ("model", "run", "candidate_id", "split", "p_cluster"),
    "ensemble": ("model", "candidate_id", "split", "p_cluster"),
    "history": ("model", "run", "epoch"),
}


def read_run_folder(run_dir: str | Path) -> RunFolder:
    """Read a ``train-on-votes`` run folder.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        The folder; it must hold ``metrics.json``. Every other file is optional.

    Returns
    -------
    RunFolder

    Raises
    ------
    InputError
        ``run_dir`` is not a run folder (no ``metrics.json``), or a file in it cannot be read or
        lacks a required column (the message names the file and the column).
    """
    path = Path(run_dir)
    metrics = _read_json(path / "metrics.json") if (path / "metrics.json").is_file() else None
    if not isinstance(metrics, dict) or not isinstance(metrics.get("models"), dict):
        # the check of 'predict': say what was expected and what the folder is
        from .._outputs import describe_folder

        raise InputError(f"{run_dir}: not a train-on-votes run folder (expected metrics.json with the models' "
                         f"scores, config.json, predictions.csv; found {describe_folder(path)})")
    missing: list[str] = []
    found: dict[str, Any] = {}
    for name in ("config", "aggregate_metrics"):
        p = path / f"{name}.json"
        if p.is_file():
            found[name] = _read_json(p)
        else:
            missing.append(p.name)
    for name, required in _CSV_FILES.items():
        p = path / f"{name}.csv"
        if p.is_file():
            found[name] = _read_csv(p, required)
        else:
            missing.append(p.name)
    if missing:
        log.info("%s: no %s", path, ", ".join(missing))
    return RunFolder(path=path, metrics=metrics, missing=tuple(missing), **found)


__all__ = ["RunFolder", "read_run_folder"]
