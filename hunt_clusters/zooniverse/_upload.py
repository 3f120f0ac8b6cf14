"""Upload a subject-set folder: resumable (ledger + server check), media verified, concurrent."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

import requests
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from .._errors import InputError
from ._client import (
    Connection,
    Credentials,
    UncertainError,
    ZooniverseConfig,
    ZooniverseError,
    connect,
)
from ._ledger import LEDGER_NAME, Ledger, LedgerEntry, LedgerLock
from ._manifest import SubjectRecord, read_subject_set

log = logging.getLogger(__name__)

#: Subjects per request on the links endpoint (the size panoptes-client batches with).
LINK_BATCH = 100
#: Page size of the subject listing used to recognise subjects already in the set.
LIST_PAGE_SIZE = 100


@dataclass(frozen=True)
class UploadResult:
    """What an upload did.

    Attributes
    ----------
    project_id, subject_set_id : str or None
        ``None`` in a dry run where the set does not exist yet.
    n_subjects : int
        Rows in the manifest.
    n_created : int
        Subjects created by this run.
    n_present : int
        Subjects found already in the set (from the ledger or by their ``#candidate_id``).
    n_media_repaired : int
        Subjects found in the set whose media was missing and is now uploaded.
    failures : tuple of (candidate_id, reason)
        Subjects not on Zooniverse with their media after this run.
    n_requests : int
        HTTP requests sent (API, auth and media).
    elapsed_s : float
        Wall-clock seconds.
    dry_run : bool
        Nothing was sent.
    plan : tuple of str
        What a dry run would do, one line each.
    """

    project_id: str | None
    subject_set_id: str | None
    n_subjects: int
    n_created: int = 0
    n_present: int = 0
    n_media_repaired: int = 0
    failures: tuple[tuple[str, str], ...] = ()
    n_requests: int = 0
    elapsed_s: float = 0.0
    dry_run: bool = False
    plan: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every subject is on Zooniverse with its media."""
        return not self.failures


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def find_project(conn: Connection, project: str | int) -> dict[str, Any]:
    """The project resource for a numeric id or an ``owner/name`` slug.

    Raises
    ------
    InputError
        When no such project is visible on the endpoint.
    """
    key = str(project).strip()
    if key.isdigit():
        proj = get_resource(conn, "projects", key, f"project {key}", " (or not visible to this account)")
        proj.pop("_etag", None)
        return proj
    if "/" not in key:
        raise InputError(f"--project {key!r}: give the numeric id or the slug owner/name from the project's URL")
    body, _ = conn.request("GET", "/projects", params={"slug": key})
    items = (body or {}).get("projects") or []
    if not items:
        raise InputError(f"project {key!r} not found on {conn.config.endpoint} (or not visible to this account)")
    return dict(items[0])


def get_resource(conn: Connection, slug: str, rid: str, what: str, hint: str = "") -> dict[str, Any]:
    """``GET /api/<slug>/<rid>``: the resource, or `InputError` naming ``what`` when there is none."""
    try:
        body, etag = conn.request("GET", f"/{slug}/{rid}")
    except ZooniverseError as exc:
        if "HTTP 404" in str(exc):
            raise InputError(f"{what} not found on {conn.config.endpoint}{hint}") from None
        raise
    items = (body or {}).get(slug) or []
    if not items:
        raise InputError(f"{what} not found on {conn.config.endpoint}{hint}")
    return {**items[0], "_etag": etag}


def _check_owner(resource: dict[str, Any], what: str, project: dict[str, Any], advice: str = "") -> None:
    owner = str((resource.get("links") or {}).get("project"))
    if owner != str(project["id"]):
        raise InputError(
            f"{what} belongs to project {owner}, not to project {project['id']} ({project.get('slug')}){advice}"
        )


def find_workflow(conn: Connection, workflow: str | int, project: dict[str, Any]) -> dict[str, Any]:
    """The workflow resource, checked to belong to ``project``."""
    wid = str(workflow).strip()
    if not wid.isdigit():
        raise InputError(f"--workflow {wid!r}: give the workflow's numeric id")
    wf = get_resource(conn, "workflows", wid, f"workflow {wid}")
    _check_owner(wf, f"workflow {wid}", project)
    return wf


def _find_sets_by_name(conn: Connection, project_id: str, name: str) -> list[dict[str, Any]]:
    sets = conn.get_all("/subject_sets", "subject_sets", {"project_id": project_id, "display_name": name})
    return [s for s in sets if s.get("display_name") == name and str(s["links"].get("project")) == project_id]


def find_subject_set(conn: Connection, subject_set: str | int, project: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The subject set with this id or display name in ``project``; created when named and missing.

    Returns
    -------
    (resource, created) : tuple
    """
    pid = str(project["id"])
    key = str(subject_set).strip()
    if key.isdigit():
        sset = get_resource(conn, "subject_sets", key, f"subject set {key}")
        sset.pop("_etag", None)
        _check_owner(sset, f"subject set {key}", project, "; give a set of this project or a new name")
        return sset, False
    found = _find_sets_by_name(conn, pid, key)
    if found:
        if len(found) > 1:
            log.warning("%d subject sets are named %r in project %s; using %s", len(found), key, pid, found[0]["id"])
        return dict(found[0]), False
    body_json = {"subject_sets": {"display_name": key, "metadata": {}, "links": {"project": pid}}}
    sset, _ = create_once(
        conn, "/subject_sets", body_json, lambda: next(iter(_find_sets_by_name(conn, pid, key)), None)
    )
    log.info("created subject set %s %r in project %s", sset["id"], key, pid)
    return dict(sset), True


def create_once(
    conn: Connection, path: str, payload: dict[str, Any], find: Callable[[], dict[str, Any] | None]
) -> tuple[dict[str, Any], bool]:
    """``POST`` a create that is never repeated blindly: after a lost reply, ``find()`` looks first.

    A 5xx or a dropped connection leaves unknown whether the object was created
    (`UncertainError`); ``find`` returns it when it was, and only otherwise is the create sent again
    (up to ``conn.config.retries`` more times, with backoff).

    Returns
    -------
    (resource, replied) : tuple
        The created resource (the first of the reply's ``<slug>`` list, the slug being ``path``'s
        last part), and False when it was found by ``find`` instead of read from a reply.

    Examples
    --------
    >>> wf, replied = create_once(conn, "/workflows", {"workflows": attrs},
    ...                           lambda: None)  # doctest: +SKIP
    """
    cfg = conn.config
    slug = path.rstrip("/").rsplit("/", 1)[-1]
    for attempt in range(cfg.retries + 1):
        try:
            body, _ = conn.request("POST", path, json=payload, safe=False)
        except UncertainError as exc:
            found = find()
            if found is not None:
                log.info("POST /api%s: created %s despite %s", path, found.get("id"), exc)
                return found, False
            if attempt >= cfg.retries:
                raise ZooniverseError(str(exc)) from None
            time.sleep(cfg.wait(attempt))
            continue
        return body[slug][0], True
    raise AssertionError("unreachable")  # pragma: no cover


def link_subjects(conn: Connection, subject_set_id: str, subject_ids: list[str], *, batch: int = LINK_BATCH) -> int:
    """Link subjects to a set through the links endpoint, ``batch`` ids per request.

    Unlike ``SubjectSet.add`` this sends no per-subject GET. Returns the number of requests.
    """
    n = 0
    for i in range(0, len(subject_ids), batch):
        chunk = [str(s) for s in subject_ids[i : i + batch]]
        conn.request("POST", f"/subject_sets/{subject_set_id}/links/subjects", json={"subjects": chunk})
        n += 1
    return n


def link_workflow(conn: Connection, workflow: dict[str, Any], subject_set_id: str) -> bool:
    """Link a subject set to a workflow unless it already is; True when a link was made."""
    linked = [str(s) for s in (workflow.get("links") or {}).get("subject_sets", [])]
    if str(subject_set_id) in linked:
        return False
    conn.request("POST", f"/workflows/{workflow['id']}/links/subject_sets", json={"subject_sets": [str(subject_set_id)]})
    log.info("linked subject set %s to workflow %s", subject_set_id, workflow["id"])
    return True


class _Uploader:
    """The per-run state shared by the worker threads."""

    def __init__(
        self, conn: Connection, project_id: str, set_id: str, ledger: Ledger, existing: dict[str, dict[str, Any]]
    ) -> None:
        self.conn = conn
        self.project_id = project_id
        self.set_id = set_id
        self.ledger = ledger
        self.existing = existing
        self.lock = threading.Lock()
        self.n_created = 0
        self.n_repaired = 0

    # -- server lookups ------------------------------------------------------------------------
    def lookup(self, candidate_id: str) -> dict[str, Any] | None:
        """List the set again and return the subject with this ``#candidate_id``, if any."""
        subjects = self.conn.get_all(
            "/subjects", "subjects", {"subject_set_id": self.set_id, "page_size": LIST_PAGE_SIZE}
        )
        found = index_by_candidate(subjects)
        with self.lock:
            for cid, s in found.items():
                self.existing.setdefault(cid, s)
        return found.get(candidate_id)

    def media_present(self, subject: dict[str, Any], rec: SubjectRecord) -> bool:
        """Whether the subject's first location serves a file of the right size."""
        locs = subject.get("locations") or []
        if not locs:
            return False
        try:
            status, length = self.conn.head_media(next(iter(locs[0].values())))
        except requests.RequestException:
            return False
        return 200 <= status < 300 and (length is None or length == rec.size)

    def fresh_upload_url(self, subject_id: str, rec: SubjectRecord) -> str:
        """Ask for new signed upload URLs by re-sending the subject's locations."""
        _, etag = self.conn.request("GET", f"/subjects/{subject_id}")
        body, _ = self.conn.request(
            "PUT", f"/subjects/{subject_id}", json={"subjects": {"locations": [rec.mime]}}, etag=etag
        )
        return str(next(iter(body["subjects"][0]["locations"][0].values())))

    # -- steps -----------------------------------------------------------------------------------
    def create(self, rec: SubjectRecord) -> tuple[dict[str, Any], bool]:
        """Create the subject in the set; returns (subject, upload URL is a PUT URL)."""
        payload = {
            "subjects": {
                "locations": [rec.mime],
                "metadata": dict(rec.metadata),
                "links": {"project": self.project_id, "subject_sets": [self.set_id]},
            }
        }
        # the create may succeed with its reply lost: the set is listed before creating again
        subject, replied = create_once(self.conn, "/subjects", payload, lambda: self.lookup(rec.candidate_id))
        with self.lock:
            self.n_created += 1
        return subject, replied

    def put_media(self, url: str, rec: SubjectRecord) -> tuple[bool, str]:
        """PUT the image through the signed URL, retrying; (ok, reason)."""
        data = rec.read_image()
        cfg = self.conn.config
        reason = ""
        for attempt in range(cfg.retries + 1):
            retry_after = None
            try:
                status, retry_after = self.conn.put_media(url, data, rec.mime)
            except requests.RequestException as exc:
                reason = f"media upload: connection failed ({type(exc).__name__})"
            else:
                if 200 <= status < 300:
                    return True, ""
                reason = f"media upload: HTTP {status}"
                if status in (401, 403):  # the signed URL is refused (expired?): no point repeating it
                    return False, reason
            if attempt < cfg.retries:
                time.sleep(cfg.wait(attempt, retry_after))
        return False, f"{reason} after {cfg.retries + 1} attempts"

    def process(self, rec: SubjectRecord) -> tuple[str, bool, str]:
        """Make sure one subject is in the set with its media; record it in the ledger."""
        with self.conn.client:  # the client is thread-local: bind it in this worker
            try:
                with self.lock:
                    subject = self.existing.get(rec.candidate_id)
                put_url: str | None = None
                repaired = False
                if subject is None:
                    subject, is_put = self.create(rec)
                    if is_put:
                        put_url = str(next(iter(subject["locations"][0].values())))
                if put_url is None:
                    if self.media_present(subject, rec):
                        ok, reason = True, ""
                    else:
                        repaired = True
                        put_url = self.fresh_upload_url(str(subject["id"]), rec)
                if put_url is not None:
                    ok, reason = self.put_media(put_url, rec)
                    if not ok:
                        log.debug("%s: %s; asking for a fresh upload URL", rec.candidate_id, reason)
                        ok, reason = self.put_media(self.fresh_upload_url(str(subject["id"]), rec), rec)
                if ok and repaired:
                    with self.lock:
                        self.n_repaired += 1
            except (ZooniverseError, OSError) as exc:
                return rec.candidate_id, False, self.conn.redact(exc)
            except (KeyError, IndexError, TypeError, AttributeError) as exc:
                return rec.candidate_id, False, f"unexpected reply from Zooniverse ({type(exc).__name__}: {exc})"
            self.ledger.record(LedgerEntry(rec.candidate_id, str(subject["id"]), self.set_id, _now(), ok))
            return rec.candidate_id, ok, reason


def with_priority(records: list[SubjectRecord], priority: Mapping[str, int]) -> list[SubjectRecord]:
    """The records with ``#priority`` metadata from ``priority`` (lacking candidates: largest rank + 1).

    Examples
    --------
    >>> from types import MappingProxyType
    >>> recs = [SubjectRecord(c, 2, Path("x.png"), "image/png", 1, MappingProxyType({"#candidate_id": c}))
    ...         for c in ("A", "B")]
    >>> [r.metadata["#priority"] for r in with_priority(recs, {"B": 1, "Z": 2})]
    ['3', '1']
    """
    last = max((int(v) for v in priority.values()), default=0) + 1
    missing = [r.candidate_id for r in records if r.candidate_id not in priority]
    if missing:
        log.warning("%d candidates have no priority (e.g. %s): they get #priority %d, served last",
                    len(missing), missing[0], last)
    if records and "#priority" in records[0].metadata:
        log.warning("the manifest's #priority column is replaced by the given priorities")
    return [replace(r, metadata=MappingProxyType({**r.metadata, "#priority": str(int(priority.get(r.candidate_id, last)))}))
            for r in records]


def index_by_candidate(subjects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Map ``#candidate_id`` metadata to subjects (the lowest id wins when one appears twice)."""
    out: dict[str, dict[str, Any]] = {}
    for s in sorted(subjects, key=lambda s: int(s["id"]) if str(s["id"]).isdigit() else 0):
        cid = (s.get("metadata") or {}).get("#candidate_id")
        if cid is None:
            continue
        if cid in out:
            log.warning("candidate %s appears in subjects %s and %s of the set", cid, out[cid]["id"], s["id"])
            continue
        out[str(cid)] = s
    return out


def upload_subject_set(
    folder: str | Path,
    *,
    project: str | int,
    subject_set: str | int | None = None,
    workflow: str | int | None = None,
    config: ZooniverseConfig | None = None,
    credentials: Credentials | None = None,
    threads: int = 8,
    dry_run: bool = False,
    progress: bool = True,
    priority: Mapping[str, int] | None = None,
) -> UploadResult:
    """Upload a rendered subject set to a Zooniverse project, resumably and with verified media.

    Every subject is created already linked to the set (``links.subject_sets`` on the create, so
    no separate link request and no per-subject GET), its image is PUT through the signed URL the
    create returns and the PUT's status is checked (panoptes-client would drop a failed upload
    silently). The ledger ``upload_ledger.csv`` beside the manifest is rewritten atomically after
    every subject. Before creating anything the set's subjects are listed and recognised by their
    ``#candidate_id``, so a re-run after an interruption, a lost ledger or a lost reply never
    creates a duplicate; subjects found without media get fresh upload URLs and are re-uploaded.

    Parameters
    ----------
    folder : str or Path
        A subject-set folder with ``manifest.csv`` (see `read_subject_set`).
    project : str or int
        Project id or ``owner/name`` slug.
    subject_set : str or int, optional
        Subject set id, or a display name (created when no set of the project has it).
        Default: the folder's name.
    workflow : str or int, optional
        Workflow id to link the set to.
    config : ZooniverseConfig, optional
        Endpoint, timeouts and retries (default: the live Zooniverse).
    credentials : Credentials, optional
        Default `load_credentials()` (environment or ``~/.panoptes/config.yml``).
    threads : int
        Concurrent workers (each binds the client with ``with client:``).
    dry_run : bool
        Check the manifest and images and describe what would be sent; send nothing
        (not even a login).
    progress : bool
        Show a tqdm progress bar.
    priority : Mapping[str, int], optional
        ``candidate_id -> rank`` sent as the hidden ``#priority`` metadata of the subjects this run
        creates (e.g. from `hunt_clusters.retire.cnn_priority`); a workflow with prioritised
        selection serves the lowest first. Candidates it lacks get the largest rank + 1.
        Subjects already in the set keep their metadata (see ``docs/human-machine.md`` for
        updating and re-linking them).

    Returns
    -------
    UploadResult

    Raises
    ------
    InputError
        Bad manifest or image, unknown project, a set or workflow of another project.
    UploadLockedError
        Another upload of the same folder is running (the ledger's lock, ``upload_ledger.lock``,
        is held; a lock left by a killed process is free again).
    LoginError, ZooniverseError
        Login failed, or the server refused a request after the retries.

    Examples
    --------
    >>> from hunt_clusters.zooniverse import ZooniverseConfig, upload_subject_set
    >>> res = upload_subject_set("subject_sets/demo", project="alice/hunt",
    ...                          config=ZooniverseConfig(endpoint="http://127.0.0.1:8000"))  # doctest: +SKIP
    >>> res.ok, res.n_created                                                             # doctest: +SKIP
    (True, 20)
    """
    t0 = time.perf_counter()
    records = read_subject_set(folder)
    if priority is not None:
        records = with_priority(records, priority)
    folder_path = Path(folder)
    manifest_dir = folder_path if folder_path.is_dir() else folder_path.parent
    ledger_path = manifest_dir / LEDGER_NAME
    set_key = str(subject_set) if subject_set is not None else manifest_dir.resolve().name
    if threads < 1:
        raise InputError(f"threads {threads} must be at least 1")
    cfg = config or ZooniverseConfig()

    if not dry_run:
        # one upload of a folder at a time: two runs would each create what the other has not
        # listed yet, and each rewrite the ledger from its own memory
        with LedgerLock(ledger_path):
            return _upload(records, Ledger(ledger_path), project, set_key, workflow, cfg, credentials,
                           threads, progress, t0)
    # a dry run reads the ledger only: no lock
    ledger = Ledger(ledger_path)
    done = {e.candidate_id for e in ledger.entries.values() if e.media_ok}
    todo = [r for r in records if r.candidate_id not in done]
    size = sum(r.size for r in todo)
    plan = [
        f"endpoint {cfg.endpoint}, project {project}",
        f"subject set {set_key!r} (reused if the project has it, created otherwise)",
        f"{len(records)} subjects in the manifest, {len(records) - len(todo)} already uploaded "
        f"according to {ledger.path.name}; {len(todo)} to upload ({size / 1e6:.2f} MB of images)",
    ]
    if workflow is not None:
        plan.append(f"link the subject set to workflow {workflow}")
    for r in todo[:5]:
        hidden = {k: v for k, v in r.metadata.items() if k.startswith("#")}
        plan.append(f"  {r.image.name} ({r.mime}, {r.size} bytes) metadata {hidden}")
    if len(todo) > 5:
        plan.append(f"  ... and {len(todo) - 5} more")
    return UploadResult(None, None, len(records), dry_run=True, plan=tuple(plan), elapsed_s=time.perf_counter() - t0)


def _upload(
    records: list[SubjectRecord],
    ledger: Ledger,
    project: str | int,
    set_key: str,
    workflow: str | int | None,
    cfg: ZooniverseConfig,
    credentials: Credentials | None,
    threads: int,
    progress: bool,
    t0: float,
) -> UploadResult:
    """The upload proper, run while this process holds the ledger's lock."""
    conn = connect(cfg, credentials, pool=threads + 4)
    proj = find_project(conn, project)
    pid = str(proj["id"])
    wf = find_workflow(conn, workflow, proj) if workflow is not None else None
    sset, created = find_subject_set(conn, set_key, proj)
    sid = str(sset["id"])
    other = {e.subject_set_id for e in ledger.entries.values()} - {sid}
    if other:
        log.warning("%s lists subjects of subject set(s) %s; this run uploads to set %s", ledger.path, sorted(other), sid)

    existing: dict[str, dict[str, Any]] = {}
    if not created:
        subjects = conn.get_all("/subjects", "subjects", {"subject_set_id": sid, "page_size": LIST_PAGE_SIZE})
        existing = index_by_candidate(subjects)
    todo: list[SubjectRecord] = []
    n_present = 0
    relink: list[tuple[SubjectRecord, str]] = []
    for rec in records:
        entry = ledger.entries.get(rec.candidate_id)
        on_server = existing.get(rec.candidate_id)
        if on_server is not None and entry is not None and entry.media_ok and entry.subject_id == str(on_server["id"]):
            n_present += 1
            continue
        if on_server is None and entry is not None and entry.subject_set_id == sid and entry.media_ok:
            relink.append((rec, entry.subject_id))  # in the ledger, but no longer in the set
            continue
        if on_server is not None:
            n_present += 1
        todo.append(rec)
    for i in range(0, len(relink), LINK_BATCH):
        chunk = relink[i : i + LINK_BATCH]
        try:
            link_subjects(conn, sid, [s for _, s in chunk])
            n_present += len(chunk)
            log.warning("linked %d subjects of the ledger back to set %s", len(chunk), sid)
        except ZooniverseError as exc:
            log.warning("could not link ledger subjects back to set %s (%s); creating them again", sid, exc)
            todo.extend(rec for rec, _ in chunk)
    n_check = sum(r.candidate_id in existing for r in todo)
    if n_present and records and "#priority" in records[0].metadata:
        log.warning("%d subjects were already in set %s: their #priority is unchanged (update their metadata and "
                    "link them again, docs/human-machine.md)", n_present, sid)
    log.info(
        "project %s, subject set %s %r: %d subjects, %d already there (%d of them to check for their image), "
        "%d to create",
        pid, sid, sset.get("display_name"), len(records), n_present, n_check, len(todo) - n_check,
    )

    up = _Uploader(conn, pid, sid, ledger, existing)
    failures: list[tuple[str, str]] = []
    bar = tqdm(total=len(todo), unit="subject", desc="upload", disable=not progress or not todo, dynamic_ncols=True)
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="upload")
    try:
        with logging_redirect_tqdm(loggers=[logging.getLogger("hunt_clusters")]):
            futures = [pool.submit(up.process, rec) for rec in todo]
            for fut in as_completed(futures):
                cid, ok, reason = fut.result()
                if not ok:
                    failures.append((cid, reason))
                    log.debug("%s failed: %s", cid, reason)
                bar.update(1)
                bar.set_postfix(created=up.n_created, failed=len(failures), refresh=False)
    except BaseException:
        # Ctrl-C or an unexpected error: let running subjects finish (each lands in the ledger),
        # drop the queued ones
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        bar.close()
    if wf is not None:
        link_workflow(conn, wf, sid)
    order = {r.candidate_id: i for i, r in enumerate(records)}
    failures.sort(key=lambda f: order.get(f[0], 0))
    return UploadResult(
        project_id=pid,
        subject_set_id=sid,
        n_subjects=len(records),
        n_created=up.n_created,
        n_present=n_present,
        n_media_repaired=up.n_repaired,
        failures=tuple(failures),
        n_requests=conn.n_requests,
        elapsed_s=time.perf_counter() - t0,
    )


__all__ = [
    "LINK_BATCH",
    "UploadResult",
    "find_project",
    "find_subject_set",
    "find_workflow",
    "index_by_candidate",
    "link_subjects",
    "link_workflow",
    "upload_subject_set",
    "with_priority",
]
