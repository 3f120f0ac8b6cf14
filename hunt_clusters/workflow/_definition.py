"""Load ``workflows/*.yaml`` into a frozen dataclass and convert to and from Panoptes JSON."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import CLASSES
from .._errors import InputError

#: The workflow shipped with the package (a copy of ``workflows/hunt_for_galaxy_clusters.yaml``).
DEFAULT_WORKFLOW_PATH = Path(__file__).resolve().parent.parent / "data" / "hunt_for_galaxy_clusters.yaml"

_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"[*_`]+")


def normalise_label(label: object) -> str:
    """Reduce an answer label to the text that identifies it.

    Markdown image links (``![alt](url)``) and emphasis marks are removed, whitespace collapsed
    and case folded, so that ``"![icon](https://…) **Smooth**"`` and ``"smooth"`` compare equal.

    Examples
    --------
    >>> normalise_label("![img](https://x/y.png) A *star* or point source ")
    'a star or point source'
    """
    text = _MD_IMAGE.sub(" ", str(label))
    text = _MD_EMPHASIS.sub("", text)
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Answer:
    """One answer of the question: the text volunteers see and the class it stands for."""

    label: str
    klass: str | None
    help: str = ""


@dataclass(frozen=True)
class WorkflowDefinition:
    """A single-question Zooniverse workflow with an answer -> class mapping.

    Attributes
    ----------
    display_name : str
        The workflow's name on Zooniverse.
    task : str
        The task key (``"T0"``).
    question, help : str
        The question and its help text (markdown allowed).
    answers : tuple of Answer
        In the order volunteers see them; answer ``i`` is ``T0.answers.i.label``.
    task_type : str
        ``"single"`` or ``"multiple"``.
    retirement_count : int or None
        Classifications after which a subject retires; ``None`` means never retire.
    workflow_id : int or None
        The Zooniverse id, when known.
    source : str
        Where the definition came from (a path or ``"panoptes"``), used in error messages.
    """

    display_name: str
    task: str
    question: str
    answers: tuple[Answer, ...]
    help: str = ""
    task_type: str = "single"
    retirement_count: int | None = 15
    workflow_id: int | None = None
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.task_type not in ("single", "multiple"):
            raise InputError(f"{self.source}: task type {self.task_type!r} is not 'single' or 'multiple'")
        if not self.answers:
            raise InputError(f"{self.source}: the workflow has no answers")
        seen: set[str] = set()
        for a in self.answers:
            if a.klass is not None and a.klass not in CLASSES:
                raise InputError(
                    f"{self.source}: answer {a.label!r} has class {a.klass!r}; valid classes are {', '.join(CLASSES)}"
                )
            key = normalise_label(a.label)
            if key in seen:
                raise InputError(f"{self.source}: answer label {a.label!r} appears twice")
            seen.add(key)

    # -- mapping -----------------------------------------------------------------------------
    @property
    def labels(self) -> tuple[str, ...]:
        """Answer labels in order."""
        return tuple(a.label for a in self.answers)

    @property
    def classes(self) -> tuple[str, ...]:
        """Classes of the answers in order (``None`` where an answer has none)."""
        return tuple(a.klass for a in self.answers)  # type: ignore[misc]

    def label_to_class(self) -> dict[str, str | None]:
        """Map normalised answer labels (see `normalise_label`) to classes."""
        return {normalise_label(a.label): a.klass for a in self.answers}

    def class_of(self, answer: object) -> str | None:
        """Class of an exported answer: label text (markdown allowed) or integer index.

        Returns ``None`` when the answer maps to nothing.
        """
        if isinstance(answer, bool):
            return None
        if isinstance(answer, int):
            return self.answers[answer].klass if 0 <= answer < len(self.answers) else None
        return self.label_to_class().get(normalise_label(answer))

    # -- YAML ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The YAML form (as written by `load_workflow`'s inverse, `save`)."""
        return {
            "display_name": self.display_name,
            "task": self.task,
            "type": self.task_type,
            "question": self.question,
            "help": self.help,
            "retirement": (
                {"criteria": "never_retire"}
                if self.retirement_count is None
                else {"criteria": "classification_count", "count": self.retirement_count}
            ),
            "answers": [{"label": a.label, "class": a.klass, "help": a.help} for a in self.answers],
            **({"workflow_id": self.workflow_id} if self.workflow_id is not None else {}),
        }

    def save(self, path: str | Path) -> None:
        """Write the definition as YAML (the format of ``workflows/*.yaml``)."""
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100))

    # -- Panoptes ------------------------------------------------------------------------------
    def to_panoptes(self) -> dict[str, Any]:
        """The Panoptes workflow attributes: ``tasks``, ``strings``, ``first_task``, ``retirement``.

        Text lives in ``strings`` under ``T0.question``, ``T0.help`` and ``T0.answers.N.label``, and
        ``tasks`` refers to those keys, as in a real Zooniverse workflows export.
        """
        t = self.task
        strings = {f"{t}.question": self.question, f"{t}.help": self.help}
        answers = []
        for i, a in enumerate(self.answers):
            strings[f"{t}.answers.{i}.label"] = a.label
            answers.append({"label": f"{t}.answers.{i}.label"})
        task = {
            "type": self.task_type,
            "question": f"{t}.question",
            "help": f"{t}.help",
            "required": True,
            "answers": answers,
        }
        retirement: dict[str, Any] = (
            {"criteria": "never_retire", "options": {}}
            if self.retirement_count is None
            else {"criteria": "classification_count", "options": {"count": self.retirement_count}}
        )
        return {
            "display_name": self.display_name,
            "first_task": t,
            "tasks": {t: task},
            "strings": strings,
            "retirement": retirement,
        }

    @classmethod
    def from_panoptes(
        cls,
        tasks: dict[str, Any] | str,
        strings: dict[str, Any] | str | None = None,
        *,
        retirement: dict[str, Any] | str | None = None,
        display_name: str = "",
        task: str | None = None,
        classes: dict[str, str | None] | None = None,
        template: WorkflowDefinition | None = None,
        workflow_id: int | None = None,
        source: str = "panoptes",
    ) -> WorkflowDefinition:
        """Build a definition from Panoptes ``tasks`` (+ ``strings``), e.g. a workflows-export row.

        Parameters
        ----------
        tasks, strings, retirement : dict or JSON str
            As in the workflow resource or the workflows export. Pre-translation workflows with
            literal text in ``tasks`` work too.
        task : str, optional
            Which question task to take; default the first ``single``/``multiple`` task.
        classes : dict, optional
            Answer label -> class. Labels are compared after `normalise_label`. Answers not in it
            get class ``None``.
        template : WorkflowDefinition, optional
            An existing definition whose answer classes and answer help are carried over to
            answers with the same (normalised) label; ``classes`` wins where both give one.
        """
        tasks_d = json.loads(tasks) if isinstance(tasks, str) else dict(tasks)
        strings_d = (json.loads(strings) if isinstance(strings, str) else dict(strings)) if strings else {}
        retire_d = (json.loads(retirement) if isinstance(retirement, str) else retirement) or {}
        if task is None:
            task = next(
                (k for k, v in tasks_d.items() if isinstance(v, dict) and v.get("type") in ("single", "multiple")),
                None,
            )
            if task is None:
                raise InputError(f"{source}: no single- or multiple-answer question task in {sorted(tasks_d)}")
        if task not in tasks_d:
            raise InputError(f"{source}: task {task!r} not in the workflow; it has {sorted(tasks_d)}")
        t = tasks_d[task]

        def text(key: object) -> str:
            return str(strings_d.get(key, key)) if key is not None else ""

        mapping: dict[str, str | None] = template.label_to_class() if template else {}
        mapping.update({normalise_label(k): v for k, v in (classes or {}).items()})
        helps = {normalise_label(a.label): a.help for a in template.answers} if template else {}
        answers = []
        for a in t.get("answers", []):
            key = normalise_label(text(a.get("label")))
            answers.append(Answer(label=text(a.get("label")), klass=mapping.get(key), help=helps.get(key, "")))
        count: int | None
        if retire_d.get("criteria") == "never_retire":
            count = None
        else:
            count = int((retire_d.get("options") or {}).get("count", 15))
        return cls(
            display_name=display_name,
            task=task,
            question=text(t.get("question", "")),
            help=text(t.get("help", "")),
            answers=tuple(answers),
            task_type=t.get("type", "single"),
            retirement_count=count,
            workflow_id=workflow_id,
            source=source,
        )


def load_workflow(path: str | Path | None = None) -> WorkflowDefinition:
    """Load a workflow definition from YAML (default: The Hunt for Galaxy Clusters).

    Parameters
    ----------
    path : str or Path, optional
        A ``workflows/*.yaml`` file. Default `DEFAULT_WORKFLOW_PATH`.

    Raises
    ------
    InputError
        Naming the file and what is missing or invalid.

    Examples
    --------
    >>> wf = load_workflow()
    >>> wf.class_of("A star or point source")
    'point'
    """
    p = Path(path) if path is not None else DEFAULT_WORKFLOW_PATH
    try:
        # libyaml's safe loader where PyYAML was built with it (a few ms at every command's start)
        raw = yaml.load(p.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise InputError(f"{p}: workflow file not found") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{p}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise InputError(f"{p}: expected a mapping with display_name, question and answers")
    for key in ("question", "answers"):
        if key not in raw:
            raise InputError(f"{p}: missing key {key!r}")
    answers = []
    for i, a in enumerate(raw["answers"]):
        if not isinstance(a, dict) or "label" not in a:
            raise InputError(f"{p}: answer {i} needs a 'label' (and a 'class')")
        answers.append(Answer(label=str(a["label"]), klass=a.get("class"), help=str(a.get("help") or "")))
    retire = raw.get("retirement") or {}
    count = None if retire.get("criteria") == "never_retire" else int(retire.get("count", 15))
    return WorkflowDefinition(
        display_name=str(raw.get("display_name", p.stem)),
        task=str(raw.get("task", "T0")),
        question=str(raw["question"]),
        help=str(raw.get("help") or ""),
        answers=tuple(answers),
        task_type=str(raw.get("type", "single")),
        retirement_count=count,
        workflow_id=raw.get("workflow_id"),
        source=str(p),
    )
