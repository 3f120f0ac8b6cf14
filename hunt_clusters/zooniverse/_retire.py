"""Apply retirement decisions on Zooniverse: ``Workflow.retire_subjects`` and an expert subject set."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import requests

from .._errors import InputError
from ._client import Credentials, ZooniverseConfig, ZooniverseError, connect
from ._upload import LINK_BATCH, get_resource, link_subjects

log = logging.getLogger(__name__)

#: Retirement reasons Panoptes accepts (``SubjectWorkflowStatus.retirement_reasons``).
RETIREMENT_REASONS: tuple[str, ...] = ("classification_count", "flagged", "nothing_here", "consensus", "other", "human")
#: Subjects per ``retired_subjects`` request (panoptes-client's ``@batchable`` default).
RETIRE_BATCH = 100


@dataclass(frozen=True)
class RetireResult:
    """What `apply_retirement` did (or, in a dry run, would do).

    Attributes
    ----------
    n_retired : int
        Subjects sent to ``retired_subjects``.
    n_to_experts : int
        Subjects linked to the expert subject set.
    n_requests : int
        HTTP requests sent (0 in a dry run).
    elapsed_s : float
    dry_run : bool
    plan : tuple of str
        The requests, one line each (a dry run's output).
    """

    n_retired: int
    n_to_experts: int
    n_requests: int = 0
    elapsed_s: float = 0.0
    dry_run: bool = False
    plan: tuple[str, ...] = ()


def _ids(values: Sequence[object], what: str) -> list[int]:
    out: list[int] = []
    for v in values:
        s = str(v).strip()
        if s.endswith(".0"):
            s = s[:-2]
        if not s.isdigit():
            raise InputError(f"{what}: subject_id {v!r} is not a Zooniverse subject id (a positive integer)")
        out.append(int(s))
    return out


def apply_retirement(
    *,
    workflow: str | int,
    retire: Sequence[object] = (),
    to_experts: Sequence[object] = (),
    expert_set: str | int | None = None,
    reason: str = "consensus",
    config: ZooniverseConfig | None = None,
    credentials: Credentials | None = None,
    dry_run: bool = False,
    batch: int = RETIRE_BATCH,
) -> RetireResult:
    """Retire subjects of a workflow and link the "to the experts" ones to an expert subject set.

    Retirement goes through panoptes-client's ``Workflow(id).retire_subjects(ids, reason=...)``,
    which sends ``POST /api/workflows/{id}/retired_subjects`` with ``{"subject_ids": [...],
    "retirement_reason": reason}`` in batches of 100; Panoptes retires them in a background
    worker. Retiring a subject twice is harmless, so an interrupted run is simply run again.
    The expert subjects are linked with ``POST /api/subject_sets/{id}/links/subjects`` (batches
    of 100, no per-subject GET); they stay live in the volunteers' workflow.

    Parameters
    ----------
    workflow : str or int
        The volunteers' workflow id.
    retire : sequence
        Subject ids to retire.
    to_experts : sequence
        Subject ids for the expert set (needs ``expert_set``).
    expert_set : str or int, optional
        The expert subject set's id.
    reason : str
        One of `RETIREMENT_REASONS` (default ``consensus``).
    config, credentials
        See `hunt_clusters.zooniverse.upload_subject_set`.
    dry_run : bool
        Describe the requests; send nothing (no login).

    Returns
    -------
    RetireResult

    Examples
    --------
    >>> apply_retirement(workflow=9, retire=[1001, 1002], dry_run=True).plan[0]
    'POST /api/workflows/9/retired_subjects {"subject_ids": [1001, 1002], "retirement_reason": "consensus"}'
    """
    t0 = time.perf_counter()
    if reason not in RETIREMENT_REASONS:
        raise InputError(f"retirement reason {reason!r} unknown; Panoptes accepts {', '.join(RETIREMENT_REASONS)}")
    wid = str(workflow).strip()
    if not wid.isdigit():
        raise InputError(f"--workflow {wid!r}: give the workflow's numeric id")
    ids = _ids(retire, "retire")
    experts = _ids(to_experts, "to the experts")
    if experts and expert_set is None:
        raise InputError(f"{len(experts)} subjects go to the experts: give the expert subject set (--expert-set ID)")
    if expert_set is not None and not str(expert_set).strip().isdigit():
        raise InputError(f"--expert-set {expert_set!r}: give the subject set's numeric id")
    batches = [ids[i:i + batch] for i in range(0, len(ids), batch)]
    plan = [f"POST /api/workflows/{wid}/retired_subjects "
            + json.dumps({"subject_ids": b, "retirement_reason": reason}) for b in batches]
    if experts:
        plan += [f"POST /api/subject_sets/{expert_set}/links/subjects "
                 + json.dumps({"subjects": [str(s) for s in experts[i:i + LINK_BATCH]]})
                 for i in range(0, len(experts), LINK_BATCH)]
    if dry_run:
        return RetireResult(len(ids), len(experts), dry_run=True, plan=tuple(plan),
                            elapsed_s=time.perf_counter() - t0)
    conn = connect(config or ZooniverseConfig(), credentials)
    raw = get_resource(conn, "workflows", wid, f"workflow {wid}")
    etag = raw.pop("_etag", None)
    if experts:
        get_resource(conn, "subject_sets", str(expert_set).strip(), f"subject set {expert_set}")
    from ._client import _panoptes

    pc = _panoptes()
    done = 0
    with conn.client:  # panoptes-client's calls use the thread's current client
        wf = pc.Workflow(raw, etag)  # from the GET above: Workflow(id) would GET it again
        for b in batches:
            try:
                conn.n_requests += 1
                wf.retire_subjects(b, reason=reason)
            except (pc.panoptes.PanoptesAPIException, requests.RequestException) as exc:
                if isinstance(exc, requests.RequestException):
                    exc = type(exc).__name__  # type: ignore[assignment]
                raise ZooniverseError(conn.redact(
                    f"POST /api/workflows/{wid}/retired_subjects: {exc} ({done} of {len(ids)} subjects retired "
                    "before; run again to retry the rest)")) from None
            done += len(b)
            log.info("retired %d of %d subjects in workflow %s", done, len(ids), wid)
    if experts:
        link_subjects(conn, str(expert_set).strip(), [str(s) for s in experts])
    return RetireResult(len(ids), len(experts), n_requests=conn.n_requests, elapsed_s=time.perf_counter() - t0,
                        plan=tuple(plan))


__all__ = ["RETIREMENT_REASONS", "RETIRE_BATCH", "RetireResult", "apply_retirement"]
