"""Run panoptes_aggregation (the Zooniverse reference) on an export and return per-subject answer counts.

The test double of nothing: this calls the real package's own CLI functions
(`panoptes_aggregation.scripts.extract_csv` and `reduce_csv`, what `panoptes_aggregation extract` and
`panoptes_aggregation reduce` run) on a temporary folder.

Note: in panoptes_aggregation 5.3.1 the reducer's duplicate filter (`-F first|last`) is ignored by
`reduce_csv` (it never passes `filter` on), so every classification counts: compare with our
`duplicates="all"`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from slugify import slugify

Counts = dict[int, dict[str, int]]


def panoptes_counts(export: Path, workflow_id: int, version: Any, task: str | tuple[str, ...], tmp: Path) -> Any:
    """Per-subject answer counts (slugified answer -> votes) from panoptes_aggregation extract + reduce.

    ``version`` is what its config holds: ``"16"`` (all 16.x), ``"16.55"`` or ``{"min": ..., "max": ...}``.
    With a tuple of tasks (one run for all), returns ``{task: counts}``.
    """
    tasks = (task,) if isinstance(task, str) else tuple(task)
    from panoptes_aggregation.scripts import extract_csv, reduce_csv

    tmp.mkdir(parents=True, exist_ok=True)
    ext_cfg = tmp / "Extractor_config.yaml"
    ext_cfg.write_text(
        yaml.safe_dump(
            {
                "workflow_id": workflow_id,
                "workflow_version": version,
                "extractor_config": {"question_extractor": [{"task": t} for t in tasks]},
            }
        )
    )
    red_cfg = tmp / "Reducer_config.yaml"
    red_cfg.write_text(yaml.safe_dump({"reducer_config": {"question_reducer": {}}}))
    (extracted,) = extract_csv(str(export), str(ext_cfg), output_dir=str(tmp), hide_progressbar=True)
    reduced = reduce_csv(extracted, str(red_cfg), filter="first", output_dir=str(tmp), hide_progressbar=True)
    df = pd.read_csv(reduced)
    out: dict[str, Counts] = {t: {} for t in tasks}
    for _, r in df.iterrows():
        if r["task"] not in out:
            continue
        d = {
            k[len("data.") :]: int(v)
            for k, v in r.items()
            if k.startswith("data.") and k != "data.aggregation_version" and not (isinstance(v, float) and math.isnan(v))
        }
        if d:
            out[r["task"]][int(r["subject_id"])] = d
    return out[task] if isinstance(task, str) else out


def our_counts(votes: pd.DataFrame, task: str) -> Counts:
    """The same counts from our votes table (null answers count as ``"None"``, like the extractor)."""
    out: Counts = {}
    v = votes[votes["task"] == task]
    for sid, ans in zip(v["subject_id"], v["answer"].astype(object)):
        key = "None" if ans is None or (isinstance(ans, float) and math.isnan(ans)) else slugify(str(ans), separator="-")
        d = out.setdefault(int(sid), {})
        d[key] = d.get(key, 0) + 1
    return out
