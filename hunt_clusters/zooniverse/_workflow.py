"""Push a workflow definition (``workflows/*.yaml``) to Zooniverse and pull the live one back."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..workflow import WorkflowDefinition, load_workflow
from ._client import Connection, Credentials, ZooniverseConfig, ZooniverseError, connect
from ._upload import create_once, find_project, find_workflow, get_resource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushResult:
    """The outcome of `push_workflow`."""

    workflow_id: str
    created: bool
    version: str


def workflow_attributes(definition: WorkflowDefinition) -> dict[str, Any]:
    """The workflow attributes to send: ``display_name``, ``first_task``, ``tasks``, ``retirement``.

    Panoptes keeps a workflow's text in ``strings`` and refers to it from ``tasks`` by key
    (``T0.question``), but its create and update endpoints do not accept ``strings``: they take
    the text inside ``tasks`` and extract it into ``strings`` themselves. So the keys of
    `WorkflowDefinition.to_panoptes` are replaced here by their text.

    Examples
    --------
    >>> attrs = workflow_attributes(load_workflow())
    >>> attrs["tasks"]["T0"]["answers"][3]["label"]
    'A star or point source'
    """
    p = definition.to_panoptes()
    strings: dict[str, str] = p["strings"]
    tasks = copy.deepcopy(p["tasks"])
    for task in tasks.values():
        for key in ("question", "help"):
            if key in task:
                task[key] = strings.get(task[key], task[key])
        for ans in task.get("answers", []):
            ans["label"] = strings.get(ans["label"], ans["label"])
    return {
        "display_name": p["display_name"],
        "first_task": p["first_task"],
        "tasks": tasks,
        "retirement": p["retirement"],
    }


def _find_by_name(conn: Connection, project_id: str, name: str) -> list[dict[str, Any]]:
    wfs = conn.get_all("/workflows", "workflows", {"project_id": project_id})
    return [w for w in wfs if w.get("display_name") == name and str(w["links"].get("project")) == project_id]


def push_workflow(
    definition: WorkflowDefinition | str | Path,
    *,
    project: str | int,
    workflow: str | int | None = None,
    config: ZooniverseConfig | None = None,
    credentials: Credentials | None = None,
) -> PushResult:
    """Create or update a project's workflow from a definition (question, answers, retirement).

    The workflow updated is, in order: ``workflow``, the definition's ``workflow_id``, the
    project's workflow with the same display name; otherwise a new one is created.

    Parameters
    ----------
    definition : WorkflowDefinition or path
        A loaded definition or a ``workflows/*.yaml`` file.
    project : str or int
        Project id or ``owner/name`` slug.
    workflow : str or int, optional
        The workflow to update.
    config, credentials
        See `upload_subject_set`.

    Examples
    --------
    >>> push_workflow("workflows/hunt_for_galaxy_clusters.yaml", project="alice/hunt",
    ...               config=ZooniverseConfig(endpoint="http://127.0.0.1:8000"))  # doctest: +SKIP
    PushResult(workflow_id='9', created=False, version='2.2')
    """
    defn = definition if isinstance(definition, WorkflowDefinition) else load_workflow(definition)
    attrs = workflow_attributes(defn)
    conn = connect(config or ZooniverseConfig(), credentials)
    proj = find_project(conn, project)
    pid = str(proj["id"])
    wid = workflow if workflow is not None else defn.workflow_id
    target: dict[str, Any] | None = None
    if wid is not None:
        target = find_workflow(conn, wid, proj)
    else:
        same = _find_by_name(conn, pid, defn.display_name)
        if same:
            target = find_workflow(conn, same[0]["id"], proj)
    if target is not None:
        body, _ = conn.request("PUT", f"/workflows/{target['id']}", json={"workflows": attrs}, etag=target["_etag"])
        wf = body["workflows"][0]
        log.info("updated workflow %s (now version %s)", wf["id"], wf.get("version"))
        return PushResult(str(wf["id"]), False, str(wf.get("version", "")))
    payload = {"workflows": {**attrs, "primary_language": "en", "links": {"project": pid}}}
    wf, _ = create_once(
        conn, "/workflows", payload, lambda: next(iter(_find_by_name(conn, pid, defn.display_name)), None)
    )
    log.info("created workflow %s %r in project %s", wf["id"], defn.display_name, pid)
    return PushResult(str(wf["id"]), True, str(wf.get("version", "")))


def pull_workflow(
    workflow: str | int,
    *,
    template: WorkflowDefinition | str | Path | None = None,
    config: ZooniverseConfig | None = None,
    credentials: Credentials | None = None,
) -> WorkflowDefinition:
    """Read a live workflow into a `WorkflowDefinition` (save it with ``.save(path)``).

    Parameters
    ----------
    workflow : str or int
        The workflow id.
    template : WorkflowDefinition or path, optional
        A local definition whose answer classes and answer help are carried over to answers with
        the same label (Zooniverse knows nothing of classes).

    Examples
    --------
    >>> wf = pull_workflow(9, template="workflows/hunt_for_galaxy_clusters.yaml",
    ...                    config=ZooniverseConfig(endpoint="http://127.0.0.1:8000"))  # doctest: +SKIP
    >>> wf.save("workflows/hunt_for_galaxy_clusters.yaml")                              # doctest: +SKIP
    """
    tmpl = template if isinstance(template, WorkflowDefinition) or template is None else load_workflow(template)
    conn = connect(config or ZooniverseConfig(), credentials)
    wid = str(workflow).strip()
    wf = get_resource(conn, "workflows", wid, f"workflow {wid}")
    tasks = wf.get("tasks") or {}
    strings = wf.get("strings") or {}
    source = f"{conn.config.endpoint} workflow {wid}"
    defn = WorkflowDefinition.from_panoptes(
        tasks,
        strings,
        retirement=wf.get("retirement") or {},
        display_name=str(wf.get("display_name", "")),
        task=wf["first_task"] if wf.get("first_task") in tasks else None,
        template=tmpl,
        workflow_id=int(wid),
        source=source,
    )
    unresolved = [a.label for a in defn.answers if a.label.startswith(f"{defn.task}.answers.")]
    if unresolved:
        raise ZooniverseError(f"{source}: the reply has no text for {unresolved[0]!r} (no 'strings')")
    return defn


__all__ = ["PushResult", "pull_workflow", "push_workflow", "workflow_attributes"]
