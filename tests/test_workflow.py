from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from hunt_clusters import CLASSES
from hunt_clusters._errors import InputError
from hunt_clusters.workflow import WorkflowDefinition, load_workflow, normalise_label

ROOT = Path(__file__).resolve().parent.parent


def test_default_workflow_is_the_repository_file() -> None:
    wf = load_workflow()
    assert wf == load_workflow(ROOT / "workflows" / "hunt_for_galaxy_clusters.yaml")
    assert wf.task == "T0"
    assert set(wf.classes) == set(CLASSES)
    assert wf.retirement_count == 20


def test_panoptes_round_trip_keeps_everything() -> None:
    wf = load_workflow()
    p = wf.to_panoptes()
    assert p["tasks"]["T0"]["answers"][3] == {"label": "T0.answers.3.label"}
    assert p["strings"]["T0.answers.3.label"] == "A star or point source"
    assert p["retirement"] == {"criteria": "classification_count", "options": {"count": 20}}
    back = WorkflowDefinition.from_panoptes(
        json.dumps(p["tasks"]), json.dumps(p["strings"]), retirement=p["retirement"],
        display_name=wf.display_name, template=wf,
    )
    assert back == wf


def test_yaml_round_trip(tmp_path: Path) -> None:
    wf = load_workflow()
    wf.save(tmp_path / "wf.yaml")
    assert load_workflow(tmp_path / "wf.yaml") == wf


def test_reads_a_real_workflows_export(real_dir: Path) -> None:
    with open(real_dir / "zooniverse_exports" / "superluminous_supernovae_workflows.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    row = next(r for r in rows if (r["version"], r["minor_version"]) == ("16", "55"))
    wf = WorkflowDefinition.from_panoptes(
        row["tasks"], row["strings"], retirement=row["retirement"], display_name=row["display_name"],
        task="T1", classes={"Yes": "low-z", "No": "other"},
    )
    assert wf.labels == ("Yes", "No")
    assert wf.question == "Is the cross-hair in the image close to a faint, fuzzy galaxy?"
    assert wf.retirement_count == 10
    assert wf.class_of("No") == "other" and wf.class_of(0) == "low-z" and wf.class_of("Maybe") is None


def test_markdown_labels_map_to_classes() -> None:
    wf = load_workflow()
    assert wf.class_of("![icon](https://example.org/a.png) **A single bright galaxy**") == "galaxy"
    assert normalise_label("  Something   ELSE ") == "something else"


def test_bad_class_names_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("question: Q\nanswers:\n  - label: A\n    class: quasar\n")
    with pytest.raises(InputError, match=r"bad\.yaml.*'quasar'.*low-z"):
        load_workflow(f)


@pytest.mark.parametrize("module", ["_definition", "_version"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    mod = importlib.import_module(f"hunt_clusters.workflow.{module}")
    result = doctest.testmod(mod)
    assert result.attempted > 0 and result.failed == 0
