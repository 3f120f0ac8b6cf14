"""Map exported answers (label text, integer index or null) to answer labels and classes."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import InputError
from ..workflow import WorkflowDefinition, normalise_label
from ._versions import parse_version

log = logging.getLogger(__name__)

#: ``(workflow_id, major, minor) -> answer labels of the task at that version, in order``
VersionLabels = dict[tuple[int, int, int], tuple[str, ...]]


def read_workflows_export(path: str | Path, task: str) -> VersionLabels:
    """Read a Zooniverse workflows export: the answer labels of ``task`` at every workflow version.

    Parameters
    ----------
    path : str or Path
        The workflows export CSV (one row per ``version, minor_version``; columns read by name).
    task : str
        The task key, e.g. ``"T0"``.

    Returns
    -------
    dict
        ``(workflow_id, major, minor) -> tuple of labels`` (empty where the version has no such task
        or the task is not a single/multiple-answer question).

    Raises
    ------
    InputError
        Missing columns or JSON that does not parse, naming the file and row.

    Examples
    --------
    >>> import io
    >>> csv = ('workflow_id,version,minor_version,tasks,strings\\n'
    ...        '10,16,55,"{""T0"": {""type"": ""single"", ""answers"": [{""label"": ""T0.answers.0.label""}]}}",'
    ...        '"{""T0.answers.0.label"": ""Yes""}"\\n')
    >>> read_workflows_export(io.StringIO(csv), "T0")
    {(10, 16, 55): ('Yes',)}
    """
    name = getattr(path, "name", str(path))
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"{name}: workflows export not found") from None
    missing = [c for c in ("workflow_id", "version", "minor_version", "tasks", "strings") if c not in df.columns]
    if missing:
        raise InputError(
            f"{name}: not a workflows export, missing column(s) {', '.join(missing)}; expected "
            "workflow_id, version, minor_version, tasks, strings (Zooniverse 'Request new workflow export')"
        )
    out: VersionLabels = {}
    for i, r in enumerate(df.itertuples(index=False), start=1):
        where = f"{name} row {i}"
        try:
            wid = int(r.workflow_id)
            major, minor = int(r.version), int(r.minor_version)
        except ValueError:
            raise InputError(
                f"{where}: workflow_id {r.workflow_id!r}, version {r.version!r}, minor_version "
                f"{r.minor_version!r} must be integers"
            ) from None
        try:
            tasks = json.loads(r.tasks) if r.tasks else {}
            strings = json.loads(r.strings) if r.strings else {}
        except ValueError as exc:
            raise InputError(f"{where}: tasks or strings JSON does not parse ({exc})") from None
        t = tasks.get(task) if isinstance(tasks, dict) else None
        labels: tuple[str, ...] = ()
        if isinstance(t, dict) and t.get("type", "single") in ("single", "multiple", "shortcut"):
            key = "answers" if "answers" in t else "options"
            labels = tuple(
                str(strings.get(a.get("label"), a.get("label"))) for a in (t.get(key) or []) if isinstance(a, dict)
            )
        out[(wid, major, minor)] = labels
    return out


class AnswerMapper:
    """Turn exported answers into ``(answer label, class)`` pairs.

    An answer is label text (markdown allowed), an integer index, or ``None``. Labels are matched
    to the workflow definition after `~hunt_clusters.workflow.normalise_label`; when a workflows
    export gives the labels each version showed, a label that the definition does not know is
    matched by its position in that version's answers (the class of the definition's answer at
    the same index, only where that version has as many answers as the definition), and integer
    indices become that version's label text.

    Parameters
    ----------
    workflow : WorkflowDefinition, optional
        The answer -> class mapping; ``None`` keeps answers as given with no class.
    version_labels : dict, optional
        From `read_workflows_export`.

    Examples
    --------
    >>> from hunt_clusters.workflow import load_workflow
    >>> m = AnswerMapper(load_workflow())
    >>> m.resolve(1, 1, 1, "![x](https://a/b.png) A **star** or point source")
    ('![x](https://a/b.png) A **star** or point source', 'point')
    >>> m.resolve(1, 1, 1, 0)
    ('Galaxy cluster with visible galaxies', 'low-z')
    >>> m.resolve(1, 1, 1, None)
    (None, None)
    """

    def __init__(self, workflow: WorkflowDefinition | None = None, version_labels: VersionLabels | None = None):
        self.workflow = workflow
        self.version_labels = version_labels
        self._by_label = workflow.label_to_class() if workflow is not None else {}
        self._cache: dict[tuple[int, int, int, Any], tuple[str | None, str | None]] = {}

    @property
    def has_classes(self) -> bool:
        """Whether any answer can map to a class."""
        return any(v is not None for v in self._by_label.values())

    def knows_version(self, workflow_id: int, major: int, minor: int) -> bool:
        """False when a workflows export was given and it lacks this version."""
        return self.version_labels is None or (workflow_id, major, minor) in self.version_labels

    def resolve(self, workflow_id: int, major: int, minor: int, value: Any) -> tuple[str | None, str | None]:
        """The answer label and class of one exported answer (``None`` where unknown)."""
        key = (workflow_id, major, minor, value)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._resolve(workflow_id, major, minor, value)
        return hit

    def _class_at(self, index: int, labels: tuple[str, ...]) -> str | None:
        """The definition's class at ``index``, when that version has as many answers as the definition."""
        wf = self.workflow
        if wf is None or len(labels) != len(wf.answers) or not 0 <= index < len(wf.answers):
            return None
        return wf.answers[index].klass

    def _resolve(self, workflow_id: int, major: int, minor: int, value: Any) -> tuple[str | None, str | None]:
        if value is None:
            return None, None
        labels = self.version_labels.get((workflow_id, major, minor)) if self.version_labels is not None else None
        if isinstance(value, bool):
            return str(value), None
        if isinstance(value, int):
            if labels is not None:
                if 0 <= value < len(labels):
                    text = labels[value]
                    return text, self._by_label.get(normalise_label(text), self._class_at(value, labels))
                return str(value), None
            wf = self.workflow
            if wf is not None and 0 <= value < len(wf.answers):
                return wf.answers[value].label, wf.answers[value].klass
            return str(value), None
        text = str(value)
        norm = normalise_label(text)
        klass = self._by_label.get(norm)
        if klass is None and labels:
            for i, lab in enumerate(labels):
                if normalise_label(lab) == norm:
                    klass = self._class_at(i, labels)
                    break
        return text, klass
