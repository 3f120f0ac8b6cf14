"""Cross-check with the reference tool: panoptes_aggregation's question extractor + reducer.

For every real export (question tasks only: survey and drawing tasks are outside our scope), a mock
export and the hand-made export, the per-subject answer counts of panoptes_aggregation (its
``extract`` + ``reduce`` CLI functions on the same file, workflow, versions and task) equal ours
with ``duplicates="all"`` (its reducer's own duplicate filter is ignored by its CLI in 5.3.1),
volunteer and expert votes together (panoptes_aggregation does not set experts apart).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import handmade_export as hm
from hunt_clusters.classifications import ReadOptions, VersionRange, read_export, read_workflows_export, write_export_rows
from hunt_clusters.workflow import load_workflow
from panoptes_reference import our_counts, panoptes_counts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

# (file, workflow id, panoptes version spec, task, what it exercises)
REAL_CASES = [
    ("superluminous_supernovae_classifications.csv", 10, "16", ("T0",), "major version, anonymous user"),
    ("superluminous_supernovae_classifications.csv", 10, "16.55", ("T1",), "exact version, task only after T0=Yes"),
    ("kenya_wildlife_watch_classifications.csv[:800]", 2030, {"min": "27.0", "max": "307.999"}, ("T1", "T5"),
     "multiple answers, single answers with nulls, many versions"),
    ("kenya_wildlife_watch_classifications.csv", 2030, {"min": "27.0", "max": "34.999"}, ("T0",), "version range"),
    ("fossil_finder_classifications.csv", 371, "160", ("T5",), "null answer beside drawing tasks"),
    ("fossil_finder_classifications.csv", 1962, "31", ("T5",), "second workflow of the file"),
    ("galaxy_zoo_decals_classifications.csv", 6122, {"min": "28.0", "max": "55.999"}, ("T0",), "markdown labels, 6 versions"),
    ("mixed_projects_classifications.csv", 4759, "109", ("T2",), "multiple answers, an empty one"),
    ("mixed_projects_classifications.csv", 4870, "45", ("T1",), "single answer beside survey tasks"),
]  # fmt: skip


def _range(spec: Any) -> VersionRange:
    if isinstance(spec, dict):
        return VersionRange.from_options(min_version=spec["min"], max_version=spec["max"])
    return VersionRange.from_options(version=spec)


def _both(res: Any) -> pd.DataFrame:
    return pd.concat([res.votes, res.expert_votes], ignore_index=True)


@pytest.mark.parametrize("name, wid, spec, tasks, what", REAL_CASES, ids=[f"{c[0][:12]}-{c[1]}-{'+'.join(c[3])}" for c in REAL_CASES])
def test_real_exports_match_panoptes(real_dir: Path, tmp_path: Path, name: str, wid: int, spec: Any,
                                     tasks: tuple[str, ...], what: str) -> None:
    export = real_dir / "zooniverse_exports" / name.split("[")[0]
    if "[:" in name:  # the first rows only, byte for byte (panoptes_aggregation's reducer is slow)
        n = int(name.split("[:")[1].rstrip("]"))
        lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
        export = tmp_path / export.name
        export.write_text("".join(lines[: n + 1]), encoding="utf-8")
    refs = panoptes_counts(export, wid, spec, tasks, tmp_path)
    for task in tasks:
        res = read_export(export, ReadOptions(workflow_id=wid, versions=_range(spec), task=task, candidate_key=None,
                                              duplicates="all"))
        assert res.summary.balanced and not res.summary.rejected
        assert refs[task], f"the reference found no {task} votes: the case tests nothing"
        assert our_counts(_both(res), task) == refs[task], task


def test_real_workflows_export(real_dir: Path, tmp_path: Path) -> None:
    """The superluminous workflows export: every version's T0 labels, and the export's versions are known."""
    labels = read_workflows_export(real_dir / "zooniverse_exports" / "superluminous_supernovae_workflows.csv", "T0")
    assert labels[(10, 16, 55)] == ("Yes", "No") and len(labels) == 6
    res = read_export(real_dir / "zooniverse_exports" / "superluminous_supernovae_classifications.csv",
                      ReadOptions(candidate_key=None, duplicates="all"), version_labels=labels)
    assert res.summary.rows_kept == 7 and not res.summary.rejected
    ref = panoptes_counts(real_dir / "zooniverse_exports" / "superluminous_supernovae_classifications.csv", 10,
                          "16.55", "T0", tmp_path)
    assert our_counts(res.votes, "T0") == ref


def test_handmade_export_matches_panoptes(tmp_path: Path) -> None:
    rows = [r for i, r in enumerate(hm.rows(), start=1) if i not in (16, 18)]  # panoptes crashes on those
    export = write_export_rows(rows, tmp_path / "e.csv")
    ref = panoptes_counts(export, 1, {"min": "1.1", "max": "2.3"}, "T0", tmp_path / "p")
    # answers as given (the integer answer stays "1", as panoptes_aggregation counts it)
    res = read_export(export, ReadOptions(workflow_id=1, candidate_key=None, duplicates="all"))
    assert our_counts(_both(res), "T0") == ref
    assert sum(sum(d.values()) for d in ref.values()) == 13 + 1 + 2  # by hand: 13 votes, row 17's, 2 experts


def test_mock_export_matches_panoptes(tmp_path: Path) -> None:
    mock_write, VolunteerConfig, synthetic_subject_set = hm.mock_writer()
    manifest, catalogue = synthetic_subject_set(60, seed=2)
    summary = mock_write(tmp_path / "mock.csv", manifest, catalogue, config=VolunteerConfig(seed=2, retirement=10),
                         workflows_out=tmp_path / "workflows.csv")
    wid = int(pd.read_csv(tmp_path / "mock.csv", usecols=["workflow_id"]).iloc[0, 0])
    versions = sorted(summary.rows_per_version, key=lambda v: tuple(map(int, v.split("."))))
    ref = panoptes_counts(tmp_path / "mock.csv", wid, {"min": versions[0], "max": versions[-1]}, "T0", tmp_path / "p")
    res = read_export(tmp_path / "mock.csv", ReadOptions(workflow_id=wid, duplicates="all"), workflow=load_workflow(),
                      version_labels=read_workflows_export(tmp_path / "workflows.csv", "T0"))
    assert sum(sum(d.values()) for d in ref.values()) > 0, "the reference found no votes: the case tests nothing"
    assert our_counts(_both(res), "T0") == ref
    s = res.summary
    assert s.rows_in == summary.n_rows and s.balanced and not s.rejected
    assert s.unmapped == []  # both versions' wordings map to classes through the workflows export
    assert res.votes["class"].notna().all()
    assert len(res.expert_votes) > 0 and not res.votes["expert"].any()
