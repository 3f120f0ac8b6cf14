"""A local Panoptes (Zooniverse API) test double that the real, unpatched panoptes-client talks to.

It answers the endpoints listed in ``../shared/docs/zooniverse-platform.md`` section 1.6 with the
same JSON shapes, headers and status codes: session login (CSRF token, cookie), OAuth tokens
(password, client-credentials and refresh grants), projects, subject sets, subjects (with signed
upload URLs for the media PUTs), set member subjects, link endpoints, workflows (GET / PUT / POST,
with the server-side extraction of task text into ``strings``) and data exports (describe /
generate / download) and retirement (``POST /workflows/{id}/retired_subjects``, recorded in
``double.state.retired``). It keeps everything it was sent (``double.requests``) so that tests can count
subjects, links and media, and it injects faults on demand (`PanoptesDouble.inject`): an error
status on chosen requests (5xx, 429 with ``Retry-After``), a connection dropped before or after the
request was processed, a hanging reply, wrong credentials, tokens that expire or are revoked.

The module imports nothing from ``hunt_clusters``. Run it by hand for a rehearsal::

    python -m tests.zooniverse.panoptes_double --port 8000
    # user alice / password pw, project alice/hunt (id 7), workflow 9
    hunt-clusters upload subject_sets/demo --project alice/hunt --endpoint http://127.0.0.1:8000

Optional ``--latency 0.05`` adds 50 ms to every reply.
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Fault", "PanoptesDouble", "Recorded", "main"]

API = "/api"
#: ``SubjectWorkflowStatus.retirement_reasons`` of the Panoptes server.
RETIREMENT_REASONS = ("classification_count", "flagged", "nothing_here", "consensus", "other", "human")


@dataclass
class Recorded:
    """One request the double received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    user: str | None = None

    @property
    def json(self) -> Any:
        """The body parsed as JSON (``None`` when it is not JSON)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Fault:
    """A fault injected on requests whose method and path match.

    ``kind`` is ``"status"`` (reply ``status`` with a Panoptes error body, and ``Retry-After``
    when ``retry_after`` is set), ``"drop"`` (close the connection without processing the request),
    ``"drop_after"`` (process the request, then close the connection without a reply) or
    ``"hang"`` (wait ``hang_s`` seconds, then close the connection). The fault skips the first
    ``skip`` matching requests and then fires ``times`` times (``None``: for ever).
    """

    method: str
    path: str
    kind: str = "status"
    status: int = 503
    times: int | None = 1
    skip: int = 0
    retry_after: float | None = None
    hang_s: float = 30.0
    fired: int = 0
    seen: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and re.search(self.path, path) is not None


class _Error(Exception):
    def __init__(self, status: int, message: str, *, key: str = "errors") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.key = key


@dataclass
class _State:
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    subject_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    subjects: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)  # set id -> subject ids
    workflows: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, bytes] = field(default_factory=dict)  # "<subject>/<index>" -> bytes
    media_types: dict[str, str] = field(default_factory=dict)
    exports: dict[str, dict[str, Any]] = field(default_factory=dict)  # "<slug>/<id>/<type>" -> state
    export_files: dict[str, bytes] = field(default_factory=dict)
    retired: dict[str, dict[str, str]] = field(default_factory=dict)  # workflow id -> subject id -> reason
    next_id: int = 1000


class PanoptesDouble:
    """A threaded HTTP server on 127.0.0.1 that behaves like the Panoptes API.

    Parameters
    ----------
    users : dict, optional
        Login -> password accepted by ``POST /users/sign_in`` (default ``{"alice": "pw"}``).
    clients : dict, optional
        OAuth client id -> secret accepted by the client-credentials grant.
    latency : float
        Seconds added to every reply (media PUTs included).
    page_size : int
        Default page size of listings (the real API uses 20).
    expires_in : int
        ``expires_in`` advertised with each token.
    token_ttl : float, optional
        Seconds after which the double itself stops accepting a token (``None``: ``expires_in``).
    export_polls : int
        How many ``describe`` calls an export stays in state ``"creating"`` after a generate.

    Examples
    --------
    >>> with PanoptesDouble() as double:                       # doctest: +SKIP
    ...     Panoptes.connect(username="alice", password="pw", endpoint=double.url)
    """

    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        clients: dict[str, str] | None = None,
        latency: float = 0.0,
        page_size: int = 20,
        expires_in: int = 7200,
        token_ttl: float | None = None,
        export_polls: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.users = dict(users if users is not None else {"alice": "pw"})
        self.clients = dict(clients or {})
        self.latency = latency
        self.page_size = page_size
        self.expires_in = expires_in
        self.token_ttl = token_ttl
        self.export_polls = export_polls
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.state = _State()
        self.lock = threading.RLock()
        self._stopping = threading.Event()
        self._csrf: set[str] = set()
        self._sessions: dict[str, str | None] = {}  # cookie -> logged-in login
        self._tokens: dict[str, tuple[str, float]] = {}  # access token -> (owner, valid until)
        self._refresh: dict[str, str] = {}  # refresh token -> owner
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The endpoint to give panoptes-client (``http://127.0.0.1:PORT``, no trailing slash)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> PanoptesDouble:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="panoptes-double", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release hanging replies and close the socket."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> PanoptesDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- set-up ----------------------------------------------------------------------------
    def _new_id(self) -> str:
        with self.lock:
            self.state.next_id += 1
            return str(self.state.next_id)

    def add_project(self, slug: str = "alice/hunt", *, project_id: str = "7", display_name: str = "Hunt") -> str:
        """Create a project and return its id."""
        with self.lock:
            self.state.projects[project_id] = {
                "id": project_id,
                "slug": slug,
                "display_name": display_name,
                "links": {"workflows": [], "subject_sets": []},
            }
        return project_id

    def add_workflow(self, project_id: str = "7", *, workflow_id: str = "9", display_name: str = "Hunt") -> str:
        """Create an empty workflow in a project and return its id."""
        with self.lock:
            self.state.workflows[workflow_id] = self._workflow_raw(workflow_id, project_id, display_name)
            self.state.projects[project_id]["links"]["workflows"].append(workflow_id)
        return workflow_id

    def add_subject_set(self, project_id: str = "7", display_name: str = "set") -> str:
        """Create a subject set and return its id."""
        with self.lock:
            sid = self._new_id()
            self.state.subject_sets[sid] = {
                "id": sid,
                "display_name": display_name,
                "metadata": {},
                "set_member_subjects_count": 0,
                "links": {"project": project_id, "workflows": []},
            }
            self.state.members[sid] = []
            self.state.projects[project_id]["links"]["subject_sets"].append(sid)
        return sid

    def set_export(self, resource: str, resource_id: str, export_type: str, content: bytes | str) -> None:
        """Make a ready export of ``export_type`` for ``resource`` (``projects``/``workflows``)."""
        data = content.encode() if isinstance(content, str) else content
        key = f"{resource}/{resource_id}/{export_type}"
        with self.lock:
            self.state.export_files[key] = data
            self.state.exports[key] = {"state": "ready", "polls_left": 0, "id": self._new_id()}

    def inject(self, method: str, path: str, **kwargs: Any) -> Fault:
        """Add a `Fault` on requests matching ``method`` (or ``"*"``) and the regex ``path``."""
        fault = Fault(method=method, path=path, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def revoke_tokens(self) -> None:
        """Invalidate every access token issued so far (a token that expired early)."""
        with self.lock:
            self._tokens.clear()

    def reset_requests(self) -> None:
        """Forget the recorded requests."""
        with self.lock:
            self.requests.clear()

    # -- queries for tests -------------------------------------------------------------------
    def requests_to(self, method: str, pattern: str) -> list[Recorded]:
        """Recorded requests with this method whose path matches the regex."""
        with self.lock:
            return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    def subjects_in(self, subject_set_id: str) -> list[dict[str, Any]]:
        """The subjects linked to a set, in link order."""
        with self.lock:
            return [self.state.subjects[s] for s in self.state.members.get(str(subject_set_id), [])]

    def media_of(self, subject_id: str) -> list[bytes | None]:
        """The uploaded bytes of each location of a subject (``None`` where nothing arrived)."""
        with self.lock:
            subj = self.state.subjects[str(subject_id)]
            return [self.state.media.get(f"{subject_id}/{i}") for i in range(len(subj["locations"]))]

    # -- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _workflow_raw(workflow_id: str, project_id: str, display_name: str) -> dict[str, Any]:
        return {
            "id": workflow_id,
            "display_name": display_name,
            "tasks": {},
            "strings": {},
            "first_task": "",
            "configuration": {},
            "retirement": {},
            "primary_language": "en",
            "active": False,
            "version": "1.1",
            "links": {"project": project_id, "subject_sets": []},
        }

    def _subject_view(self, subj: dict[str, Any], *, put: bool) -> dict[str, Any]:
        out = copy.deepcopy(subj)
        locs = []
        for i, mime in enumerate(subj["locations"]):
            ext = mime.split("/")[-1].replace("jpeg", "jpg").replace("svg+xml", "svg")
            if put:
                sig = subj["_sig"]
                locs.append({mime: f"{self.url}/upload/{subj['id']}/{i}.{ext}?sig={sig}"})
            else:
                locs.append({mime: f"{self.url}/media/{subj['id']}/{i}.{ext}"})
        out["locations"] = locs
        out.pop("_sig", None)
        return out


def _extract_strings(tasks: dict[str, Any], strings: dict[str, str]) -> dict[str, Any]:
    """Replace literal task text by ``strings`` keys, as Panoptes does on workflow create/update."""
    tasks = copy.deepcopy(tasks)
    for tkey, task in tasks.items():
        if not isinstance(task, dict):
            continue
        for field_name in ("question", "help", "instruction"):
            if field_name in task and task[field_name] is not None:
                key = f"{tkey}.{field_name}"
                if task[field_name] != key:
                    strings[key] = task[field_name]
                task[field_name] = key
        for i, ans in enumerate(task.get("answers", [])):
            key = f"{tkey}.answers.{i}.label"
            if ans.get("label") != key:
                strings[key] = ans.get("label", "")
            ans["label"] = key
    return tasks


def _make_handler(double: PanoptesDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "PanoptesDouble/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
            pass

        # -- plumbing ----------------------------------------------------------------------
        def _reply(
            self,
            status: int,
            body: Any = None,
            *,
            headers: dict[str, str] | None = None,
            raw: bytes | None = None,
            content_type: str = "application/vnd.api+json; charset=utf-8",
        ) -> None:
            if double.latency:
                time.sleep(double.latency)
            data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
            self.send_response(status)
            if data:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            # headers and body in one write: two small writes meet delayed ACKs (40 ms stalls)
            self._headers_buffer.append(b"\r\n")
            if self.command != "HEAD":
                self._headers_buffer.append(data)
            self.flush_headers()

        def _drop(self) -> None:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def do_HEAD(self) -> None:
            self._dispatch("HEAD")

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            rec = Recorded(method, path, query, headers, body)
            fault = None
            with double.lock:
                double.requests.append(rec)
                for f in double.faults:
                    if f.matches(method, path) and (f.times is None or f.fired < f.times):
                        f.seen += 1
                        if f.seen > f.skip:
                            f.fired += 1
                            fault = f
                            break
            if fault is not None:
                if fault.kind == "drop":
                    return self._drop()
                if fault.kind == "hang":
                    double._stopping.wait(fault.hang_s)
                    return self._drop()
                if fault.kind == "status":
                    hdrs = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                    return self._reply(
                        fault.status,
                        {"errors": [{"message": f"injected fault: HTTP {fault.status}"}]},
                        headers=hdrs,
                    )
            try:
                status, out, hdrs, raw, ctype = self._route(method, path, query, headers, body, rec)
            except _Error as err:
                status, out, hdrs, raw, ctype = (
                    err.status,
                    {err.key: [{"message": err.message}] if err.key == "errors" else err.message},
                    {},
                    None,
                    "application/json",
                )
            if fault is not None and fault.kind == "drop_after":
                return self._drop()
            self._reply(status, out, headers=hdrs, raw=raw, content_type=ctype or "application/vnd.api+json")

        # -- auth -----------------------------------------------------------------------------
        def _cookie(self, headers: dict[str, str]) -> str | None:
            m = re.search(r"_panoptes_session=([A-Za-z0-9_-]+)", headers.get("cookie", ""))
            return m.group(1) if m else None

        def _api_user(self, headers: dict[str, str]) -> str | None:
            auth = headers.get("authorization", "")
            if not auth:
                return None
            token = auth.removeprefix("Bearer ").strip()
            with double.lock:
                owner = double._tokens.get(token)
            if owner is None or owner[1] < time.monotonic():
                raise _Error(401, "You must be logged in to access this resource.")
            return owner[0]

        def _issue_token(self, owner: str) -> dict[str, Any]:
            token = secrets.token_hex(16)
            refresh = secrets.token_hex(16)
            ttl = double.token_ttl if double.token_ttl is not None else double.expires_in
            with double.lock:
                double._tokens[token] = (owner, time.monotonic() + ttl)
                double._refresh[refresh] = owner
            return {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": double.expires_in,
                "refresh_token": refresh,
                "scope": "public user project",
                "created_at": int(time.time()),
            }

        def _auth_routes(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
            if path == "/users/sign_in" and method == "GET":
                csrf = secrets.token_hex(8)
                cookie = self._cookie(headers) or secrets.token_hex(8)
                with double.lock:
                    double._csrf.add(csrf)
                    double._sessions.setdefault(cookie, None)
                return (
                    200,
                    {"login": "/users/sign_in"},
                    {"X-CSRF-Token": csrf, "Set-Cookie": f"_panoptes_session={cookie}; path=/; HttpOnly"},
                    None,
                    "application/json",
                )
            if path == "/users/sign_in" and method == "POST":
                data = json.loads(body or b"{}")
                user = data.get("user") or {}
                login, password = user.get("login"), user.get("password")
                cookie = self._cookie(headers)
                with double.lock:
                    csrf_ok = data.get("authenticity_token") in double._csrf
                if not csrf_ok or cookie is None:
                    raise _Error(422, "Invalid authenticity token", key="error")
                if login not in double.users or double.users[login] != password:
                    raise _Error(401, "Invalid login or password.", key="error")
                with double.lock:
                    double._sessions[cookie] = login
                return 200, {"users": [{"id": "42", "login": login, "display_name": login}]}, {}, None, "application/json"
            if path == "/oauth/token" and method == "POST":
                form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
                grant = form.get("grant_type")
                if grant == "password":
                    with double.lock:
                        owner = double._sessions.get(self._cookie(headers) or "")
                    if not owner:
                        raise _Error(401, "invalid_grant", key="error")
                elif grant == "client_credentials":
                    cid, secret = form.get("client_id"), form.get("client_secret")
                    if cid not in double.clients or double.clients[cid] != secret:
                        raise _Error(401, "invalid_client", key="error")
                    owner = f"client:{cid}"
                elif grant == "refresh_token":
                    with double.lock:
                        owner = double._refresh.pop(form.get("refresh_token", ""), None)
                    if owner is None:
                        raise _Error(401, "invalid_grant", key="error")
                else:
                    raise _Error(400, "unsupported_grant_type", key="error")
                return 200, self._issue_token(owner), {}, None, "application/json"
            return None

        # -- routing --------------------------------------------------------------------------
        def _route(
            self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes, rec: Recorded
        ) -> tuple[int, Any, dict[str, str], bytes | None, str | None]:
            auth = self._auth_routes(method, path, headers, body)
            if auth is not None:
                return auth
            m = re.fullmatch(r"/upload/(\d+)/(\d+)\.\w+", path)
            if m and method == "PUT":
                return self._upload(m.group(1), int(m.group(2)), query, headers, body)
            m = re.fullmatch(r"/media/(\d+)/(\d+)\.\w+", path)
            if m and method in ("GET", "HEAD"):
                key = f"{m.group(1)}/{m.group(2)}"
                with double.lock:
                    data = double.state.media.get(key)
                    mime = double.state.media_types.get(key, "application/octet-stream")
                if data is None:
                    return 404, None, {}, b"BlobNotFound", "text/plain"
                return 200, None, {}, data, mime
            m = re.fullmatch(r"/exports/(.+)\.csv", path)
            if m and method == "GET":
                with double.lock:
                    data = double.state.export_files.get(m.group(1))
                if data is None:
                    return 404, None, {}, b"not found", "text/plain"
                return 200, None, {}, data, "text/csv"
            if not path.startswith(API + "/"):
                return 404, None, {}, b"<html>not found</html>", "text/html"
            if "application/vnd.api+json" not in headers.get("accept", ""):
                raise _Error(404, "Not Found")
            if method in ("POST", "PUT") and "application/json" not in headers.get("content-type", ""):
                raise _Error(415, "Unsupported Media Type")
            rec.user = self._api_user(headers)
            if method != "GET" and rec.user is None:
                raise _Error(401, "You must be logged in to access this resource.")
            data = json.loads(body) if body else {}
            return self._api(method, path[len(API):], query, headers, data, rec.user)

        def _upload(
            self, sid: str, index: int, query: dict[str, str], headers: dict[str, str], body: bytes
        ) -> tuple[int, Any, dict[str, str], bytes | None, str | None]:
            with double.lock:
                subj = double.state.subjects.get(sid)
                if subj is None or query.get("sig") != subj["_sig"] or index >= len(subj["locations"]):
                    return 403, None, {}, b"<Error><Code>AuthenticationFailed</Code></Error>", "application/xml"
                if headers.get("x-ms-blob-type") != "BlockBlob":
                    return 400, None, {}, b"<Error><Code>MissingRequiredHeader</Code></Error>", "application/xml"
                double.state.media[f"{sid}/{index}"] = body
                double.state.media_types[f"{sid}/{index}"] = headers.get("content-type", "")
            return 201, None, {}, b"", None

        def _page(self, slug: str, items: list[dict[str, Any]], query: dict[str, str], base: str) -> Any:
            size = int(query.get("page_size") or double.page_size)
            page = int(query.get("page") or 1)
            count = len(items)
            page_count = max(1, -(-count // size))
            chunk = items[(page - 1) * size : page * size]
            nxt = None
            if page < page_count:
                q = {k: v for k, v in query.items() if k not in ("page",)}
                q["page"] = str(page + 1)
                nxt = f"{base}?" + "&".join(f"{k}={v}" for k, v in sorted(q.items()))
            meta = {"page": page, "page_size": size, "count": count, "page_count": page_count, "next_href": nxt}
            return {slug: chunk, "meta": {slug: meta}, "links": {}}

        def _api(
            self, method: str, path: str, query: dict[str, str], headers: dict[str, str], data: Any, user: str | None
        ) -> tuple[int, Any, dict[str, str], bytes | None, str | None]:
            st = double.state
            J = "application/vnd.api+json"
            with double.lock:
                # projects
                if path == "/projects" and method == "GET":
                    items = list(st.projects.values())
                    if "slug" in query:
                        items = [p for p in items if p["slug"] == query["slug"]]
                    if "id" in query:
                        items = [p for p in items if p["id"] == query["id"]]
                    return 200, self._page("projects", items, query, "/projects"), {}, None, J
                m = re.fullmatch(r"/projects/(\d+)", path)
                if m and method == "GET":
                    if m.group(1) not in st.projects:
                        raise _Error(404, f"Could not find project with id='{m.group(1)}'")
                    return 200, self._page("projects", [st.projects[m.group(1)]], {}, "/projects"), {}, None, J
                # exports
                m = re.fullmatch(r"/(projects|workflows|subject_sets)/(\d+)/(\w+)_export", path)
                if m:
                    return self._export(method, m.group(1), m.group(2), m.group(3))
                # subject sets
                if path == "/subject_sets" and method == "POST":
                    body = data.get("subject_sets") or {}
                    pid = str((body.get("links") or {}).get("project", ""))
                    if pid not in st.projects:
                        raise _Error(422, f"project {pid!r} not found")
                    sid = double.add_subject_set(pid, body.get("display_name", ""))
                    st.subject_sets[sid]["metadata"] = body.get("metadata") or {}
                    return 201, {"subject_sets": [self._set_view(sid)]}, {"ETag": f'"ss{sid}"'}, None, J
                if path == "/subject_sets" and method == "GET":
                    items = [self._set_view(s) for s in st.subject_sets]
                    if "project_id" in query:
                        items = [s for s in items if s["links"]["project"] == query["project_id"]]
                    if "display_name" in query:
                        items = [s for s in items if s["display_name"] == query["display_name"]]
                    return 200, self._page("subject_sets", items, query, "/subject_sets"), {}, None, J
                m = re.fullmatch(r"/subject_sets/(\d+)", path)
                if m and method == "GET":
                    if m.group(1) not in st.subject_sets:
                        raise _Error(404, f"Could not find subject_set with id='{m.group(1)}'")
                    return 200, self._page("subject_sets", [self._set_view(m.group(1))], {}, "/s"), {}, None, J
                m = re.fullmatch(r"/subject_sets/(\d+)/links/subjects", path)
                if m and method == "POST":
                    sid = m.group(1)
                    if sid not in st.subject_sets:
                        raise _Error(404, f"Could not find subject_set with id='{sid}'")
                    ids = [str(x) for x in data.get("subjects", [])]
                    proj = st.subject_sets[sid]["links"]["project"]
                    for x in ids:
                        if x not in st.subjects or st.subjects[x]["links"]["project"] != proj:
                            raise _Error(422, f"subject {x} is not in project {proj}")
                    for x in ids:
                        if x not in st.members[sid]:
                            st.members[sid].append(x)
                            st.subjects[x]["links"]["subject_sets"].append(sid)
                    return 200, {"subject_sets": [self._set_view(sid)]}, {}, None, J
                # subjects
                if path == "/subjects" and method == "POST":
                    return self._create_subject(data.get("subjects") or {}, J)
                if path == "/subjects" and method == "GET":
                    if "subject_set_id" in query:
                        ids = list(st.members.get(query["subject_set_id"], []))
                    else:
                        ids = list(st.subjects)
                    if query.get("sort") == "id":
                        ids.sort(key=int)
                    items = [double._subject_view(st.subjects[i], put=False) for i in ids]
                    return 200, self._page("subjects", items, query, "/subjects"), {}, None, J
                m = re.fullmatch(r"/subjects/(\d+)", path)
                if m and m.group(1) in st.subjects:
                    subj = st.subjects[m.group(1)]
                    if method == "GET":
                        view = double._subject_view(subj, put=False)
                        return 200, {"subjects": [view]}, {"ETag": f'"s{subj["id"]}v{subj["_v"]}"'}, None, J
                    if method == "PUT":
                        if headers.get("if-match") != f'"s{subj["id"]}v{subj["_v"]}"':
                            raise _Error(412 if headers.get("if-match") else 428, "If-Match precondition failed")
                        body = data.get("subjects") or {}
                        if "locations" in body:
                            subj["locations"] = [self._mime(x) for x in body["locations"]]
                            subj["_sig"] = secrets.token_hex(6)
                            for k in [k for k in st.media if k.startswith(subj["id"] + "/")]:
                                del st.media[k]
                        if "metadata" in body:
                            subj["metadata"] = body["metadata"]
                        subj["_v"] += 1
                        view = double._subject_view(subj, put=True)
                        return 200, {"subjects": [view]}, {"ETag": f'"s{subj["id"]}v{subj["_v"]}"'}, None, J
                if m:
                    raise _Error(404, f"Could not find subject with id='{m.group(1)}'")
                if path == "/set_member_subjects" and method == "GET":
                    out = []
                    for sid, ids in st.members.items():
                        if query.get("subject_set_id", sid) != sid:
                            continue
                        for x in ids:
                            if query.get("subject_id", x) == x:
                                out.append({"id": f"{sid}-{x}", "links": {"subject": x, "subject_set": sid}})
                    return 200, self._page("set_member_subjects", out, query, "/set_member_subjects"), {}, None, J
                # workflows
                return self._workflows(method, path, query, headers, data, J)

        def _mime(self, loc: Any) -> str:
            if isinstance(loc, str) and "/" in loc:
                return loc
            raise _Error(422, f"location {loc!r} is not a MIME type")

        def _create_subject(self, body: dict[str, Any], J: str) -> Any:
            st = double.state
            links = body.get("links") or {}
            pid = str(links.get("project", ""))
            if pid not in st.projects:
                raise _Error(422, f"project {pid!r} not found")
            locs = [self._mime(x) for x in body.get("locations") or []]
            if not locs:
                raise _Error(422, "locations: at least one location is required")
            sets = [str(x) for x in links.get("subject_sets") or []]
            for s in sets:
                if s not in st.subject_sets or st.subject_sets[s]["links"]["project"] != pid:
                    raise _Error(422, f"subject set {s} is not in project {pid}")
            sid = double._new_id()
            subj = {
                "id": sid,
                "metadata": body.get("metadata") or {},
                "locations": locs,
                "links": {"project": pid, "subject_sets": sets},
                "_sig": secrets.token_hex(6),
                "_v": 1,
            }
            st.subjects[sid] = subj
            for s in sets:
                st.members[s].append(sid)
            view = double._subject_view(subj, put=True)
            return 201, {"subjects": [view]}, {"ETag": f'"s{sid}v1"'}, None, J

        def _set_view(self, sid: str) -> dict[str, Any]:
            st = double.state
            out = copy.deepcopy(st.subject_sets[sid])
            out["set_member_subjects_count"] = len(st.members[sid])
            out["links"]["workflows"] = [w for w, wf in st.workflows.items() if sid in wf["links"]["subject_sets"]]
            return out

        def _workflows(
            self, method: str, path: str, query: dict[str, str], headers: dict[str, str], data: Any, J: str
        ) -> Any:
            st = double.state
            if path == "/workflows" and method == "GET":
                items = list(st.workflows.values())
                if "project_id" in query:
                    items = [w for w in items if w["links"]["project"] == query["project_id"]]
                return 200, self._page("workflows", copy.deepcopy(items), query, "/workflows"), {}, None, J
            if path == "/workflows" and method == "POST":
                body = data.get("workflows") or {}
                allowed = {"display_name", "primary_language", "tasks", "first_task", "retirement", "links",
                           "active", "configuration", "mobile_friendly", "grouped", "pairwise", "prioritized"}
                extra = set(body) - allowed
                if extra:
                    raise _Error(422, f"found unpermitted parameters: {sorted(extra)}")
                for req in ("primary_language", "display_name", "links"):
                    if req not in body:
                        raise _Error(422, f"{req} is required")
                pid = str(body["links"].get("project", ""))
                if pid not in st.projects:
                    raise _Error(422, f"project {pid!r} not found")
                wid = double._new_id()
                wf = PanoptesDouble._workflow_raw(wid, pid, body["display_name"])
                self._apply_workflow(wf, body)
                st.workflows[wid] = wf
                st.projects[pid]["links"]["workflows"].append(wid)
                return 201, {"workflows": [copy.deepcopy(wf)]}, {"ETag": f'"w{wid}v{wf["version"]}"'}, None, J
            m = re.fullmatch(r"/workflows/(\d+)", path)
            if m:
                wid = m.group(1)
                if wid not in st.workflows:
                    raise _Error(404, f"Could not find workflow with id='{wid}'")
                wf = st.workflows[wid]
                etag = f'"w{wid}v{wf["version"]}"'
                if method == "GET":
                    return 200, self._page("workflows", [copy.deepcopy(wf)], {}, "/w"), {"ETag": etag}, None, J
                if method == "PUT":
                    if not headers.get("if-match"):
                        raise _Error(428, "If-Match header required")
                    if headers.get("if-match") != etag:
                        raise _Error(412, "If-Match precondition failed")
                    body = data.get("workflows") or {}
                    allowed = {"display_name", "tasks", "first_task", "retirement", "active", "configuration",
                               "mobile_friendly", "grouped", "pairwise", "prioritized", "links"}
                    extra = set(body) - allowed
                    if extra:
                        raise _Error(422, f"found unpermitted parameters: {sorted(extra)}")
                    self._apply_workflow(wf, body)
                    etag = f'"w{wid}v{wf["version"]}"'
                    return 200, {"workflows": [copy.deepcopy(wf)]}, {"ETag": etag}, None, J
            m = re.fullmatch(r"/workflows/(\d+)/retired_subjects", path)
            if m and method == "POST":
                # Workflows::RetireSubjects: subject_id and/or subject_ids (integers), retirement_reason
                # one of SubjectWorkflowStatus.retirement_reasons ("blank" is rewritten to nothing_here);
                # the retirement itself runs in a background worker: 204 No Content
                wid = m.group(1)
                if wid not in st.workflows:
                    raise _Error(404, f"Could not find workflow with id='{wid}'")
                reason = data.get("retirement_reason")
                if reason == "blank":
                    reason = "nothing_here"
                if reason is not None and reason not in RETIREMENT_REASONS:
                    raise _Error(422, "Retirement reason is not included in the list")
                raw = list(data.get("subject_ids") or [])
                if data.get("subject_id") is not None:
                    raw.append(data["subject_id"])
                ids: list[str] = []
                for x in raw:
                    if isinstance(x, bool) or not str(x).isdigit():
                        raise _Error(422, f"Subject ids is invalid: {x!r} is not an integer")
                    ids.append(str(int(x)))
                done = st.retired.setdefault(wid, {})
                for sid in ids:
                    done.setdefault(sid, reason or "other")
                return 204, None, {}, None, J
            m = re.fullmatch(r"/workflows/(\d+)/links/subject_sets", path)
            if m and method == "POST":
                wid = m.group(1)
                if wid not in st.workflows:
                    raise _Error(404, f"Could not find workflow with id='{wid}'")
                wf = st.workflows[wid]
                for s in [str(x) for x in data.get("subject_sets", [])]:
                    if s not in st.subject_sets or st.subject_sets[s]["links"]["project"] != wf["links"]["project"]:
                        raise _Error(422, f"subject set {s} is not in the workflow's project")
                    if s not in wf["links"]["subject_sets"]:
                        wf["links"]["subject_sets"].append(s)
                return 200, {"workflows": [copy.deepcopy(wf)]}, {}, None, J
            raise _Error(404, f"no route for {method} {path}")

        def _apply_workflow(self, wf: dict[str, Any], body: dict[str, Any]) -> None:
            major, minor = (int(x) for x in wf["version"].split("."))
            old_strings = dict(wf["strings"])
            for key in ("display_name", "first_task", "retirement", "active", "configuration"):
                if key in body:
                    wf[key] = body[key]
            if "tasks" in body:
                new_tasks = _extract_strings(body["tasks"], wf["strings"])
                if new_tasks != wf["tasks"]:
                    major += 1
                wf["tasks"] = new_tasks
            if wf["strings"] != old_strings:
                minor += 1
            wf["version"] = f"{major}.{minor}"

        def _export(self, method: str, resource: str, rid: str, etype: str) -> Any:
            st = double.state
            table = {"projects": st.projects, "workflows": st.workflows, "subject_sets": st.subject_sets}[resource]
            if rid not in table:
                raise _Error(404, f"Could not find {resource} with id='{rid}'")
            key = f"{resource}/{rid}/{etype}"
            if method == "POST":
                if key not in st.export_files:
                    st.export_files[key] = self._default_export(resource, rid, etype)
                st.exports[key] = {"state": "creating", "polls_left": double.export_polls, "id": double._new_id()}
                return 201, {"media": [self._export_media(key)]}, {}, None, "application/vnd.api+json"
            if method == "GET":
                if key not in st.exports:
                    return 200, {"media": [], "meta": {"media": {}}}, {}, None, "application/vnd.api+json"
                exp = st.exports[key]
                if exp["polls_left"] > 0:
                    exp["polls_left"] -= 1
                else:
                    exp["state"] = "ready"
                media = self._export_media(key)
                return 200, {"media": [media]}, {}, None, "application/vnd.api+json"
            raise _Error(404, "no route")

        def _export_media(self, key: str) -> dict[str, Any]:
            exp = double.state.exports[key]
            return {
                "id": exp["id"],
                "content_type": "text/csv",
                "src": f"{double.url}/exports/{key}.csv",
                "metadata": {"state": exp["state"]},
            }

        def _default_export(self, resource: str, rid: str, etype: str) -> bytes:
            st = double.state
            buf = io.StringIO()
            w = csv.writer(buf)
            if etype == "subjects":
                w.writerow(["subject_id", "project_id", "workflow_id", "subject_set_id", "metadata", "locations",
                            "classifications_count", "retired_at", "retirement_reason", "created_at", "updated_at"])
                for s in st.subjects.values():
                    locs = {str(i): v for i, loc in enumerate(double._subject_view(s, put=False)["locations"])
                            for v in loc.values()}
                    for ss in s["links"]["subject_sets"] or [""]:
                        w.writerow([s["id"], s["links"]["project"], "", ss, json.dumps(s["metadata"]),
                                    json.dumps(locs), 0, "", "", "", ""])
            elif etype == "workflows":
                w.writerow(["workflow_id", "display_name", "version", "minor_version", "active",
                            "classifications_count", "pairwise", "grouped", "prioritized", "primary_language",
                            "first_task", "tutorial_subject_id", "retired_set_member_subjects_count", "tasks",
                            "retirement", "aggregation", "strings"])
                for wf in st.workflows.values():
                    major, minor = wf["version"].split(".")
                    w.writerow([wf["id"], wf["display_name"], major, minor, wf["active"], 0, False, False, False,
                                "en", wf["first_task"], "", 0, json.dumps(wf["tasks"]),
                                json.dumps(wf["retirement"]), "{}", json.dumps(wf["strings"])])
            else:
                w.writerow(["classification_id", "user_name", "user_id", "user_ip", "workflow_id", "workflow_name",
                            "workflow_version", "created_at", "gold_standard", "expert", "metadata", "annotations",
                            "subject_data", "subject_ids"])
            return buf.getvalue().encode()

    return Handler


def _iter_lines(double: PanoptesDouble) -> Iterator[str]:  # pragma: no cover - manual use
    yield f"Panoptes test double at {double.url}"
    yield f"  users: {', '.join(double.users)} (password of alice: {double.users.get('alice', '?')})"
    for p in double.state.projects.values():
        yield f"  project {p['id']} {p['slug']}, workflows {p['links']['workflows']}"
    yield "Ctrl-C to stop; every request is printed below."


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - manual use
    """Run the double in the foreground for a rehearsal (``--help`` for options)."""
    parser = argparse.ArgumentParser(prog="python -m tests.zooniverse.panoptes_double", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    parser.add_argument("--user", default="alice", help="login accepted (default alice)")
    parser.add_argument("--password", default="pw", help="its password (default pw)")
    parser.add_argument("--project", default="alice/hunt", help="slug of the project (id 7) created at start")
    args = parser.parse_args(argv)
    double = PanoptesDouble(users={args.user: args.password}, latency=args.latency, port=args.port)
    double.add_project(args.project)
    double.add_workflow("7")
    double.start()
    for line in _iter_lines(double):
        print(line, flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.5)
            with double.lock:
                new = double.requests[seen:]
                seen = len(double.requests)
            for r in new:
                print(f"{r.method:6s} {r.path}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        double.stop()
        n = len({s for ids in double.state.members.values() for s in ids})
        print(f"stopped; {len(double.state.subjects)} subjects created, {n} in subject sets")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
