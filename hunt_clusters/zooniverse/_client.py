"""Credentials, endpoints and one retrying, secret-safe connection to the Panoptes API.

This is the only module that imports ``panoptes_client`` (lazily, undoing the ``basicConfig`` the
client performs at import so that it does not change the host program's logging).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import requests
import yaml
from requests.adapters import HTTPAdapter

from .._errors import HuntClustersError, InputError

log = logging.getLogger(__name__)

#: The live Zooniverse (panoptes-client's default).
LIVE_ENDPOINT = "https://www.zooniverse.org"
#: The Zooniverse staging server: same API, separate accounts and projects, safe to rehearse on.
STAGING_ENDPOINT = "https://panoptes-staging.zooniverse.org"
#: Where panoptes-cli keeps ``endpoint``, ``username`` and ``password``.
DEFAULT_CONFIG_FILE = Path("~/.panoptes/config.yml")

_PC: ModuleType | None = None
_PC_LOCK = threading.Lock()


class ZooniverseError(HuntClustersError):
    """Zooniverse refused a request or could not be reached; the message says which and why."""


class LoginError(ZooniverseError):
    """Logging in to Zooniverse failed (missing or wrong credentials, or not a Panoptes server)."""


class UncertainError(ZooniverseError):
    """A request that creates something failed in a way that leaves unknown whether it took effect."""


def _panoptes() -> ModuleType:
    """Import panoptes_client once, restoring the root logger it reconfigures at import."""
    global _PC
    with _PC_LOCK:
        if _PC is None:
            root = logging.getLogger()
            handlers, level = list(root.handlers), root.level
            import panoptes_client

            root.handlers[:] = handlers
            root.setLevel(level)
            logging.getLogger("panoptes_client").setLevel(logging.WARNING)
            _PC = panoptes_client
        return _PC


@dataclass(frozen=True, repr=False)
class Credentials:
    """Zooniverse credentials: a user login, or an OAuth client (id + secret).

    The ``repr`` never shows the password or the secret.

    Examples
    --------
    >>> Credentials(username="alice", password="s3cret")
    Credentials(username='alice', password=***, source='given')
    """

    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    source: str = "given"

    def __repr__(self) -> str:
        if self.client_secret:
            return f"Credentials(client_id={self.client_id!r}, client_secret=***, source={self.source!r})"
        pw = "***" if self.password else None
        return f"Credentials(username={self.username!r}, password={pw}, source={self.source!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values that must never be shown."""
        return tuple(s for s in (self.password, self.client_secret) if s)

    @property
    def empty(self) -> bool:
        """True when neither a login nor a client secret is set."""
        return not ((self.username and self.password) or self.client_secret)


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as exc:
        # the exception text may quote the file's lines (and so a password): name the error only
        raise InputError(f"{path}: cannot read the Panoptes config file ({type(exc).__name__})") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a mapping with endpoint, username, password")
    return raw


def load_credentials(
    *, env: dict[str, str] | None = None, config_file: str | Path | None = None
) -> Credentials:
    """Find credentials the ways panoptes-client and panoptes-cli do.

    In order: ``PANOPTES_CLIENT_ID`` + ``PANOPTES_CLIENT_SECRET``; ``PANOPTES_USERNAME`` +
    ``PANOPTES_PASSWORD``; ``username`` + ``password`` in ``~/.panoptes/config.yml``.

    Parameters
    ----------
    env : dict, optional
        Environment to read (default `os.environ`).
    config_file : str or Path, optional
        Default ``~/.panoptes/config.yml``.

    Returns
    -------
    Credentials
        Possibly empty (check `Credentials.empty`).

    Examples
    --------
    >>> load_credentials(env={"PANOPTES_USERNAME": "alice", "PANOPTES_PASSWORD": "pw"}, config_file="/nonexistent")
    Credentials(username='alice', password=***, source='environment')
    """
    env = dict(os.environ if env is None else env)
    if env.get("PANOPTES_CLIENT_SECRET") and env.get("PANOPTES_CLIENT_ID"):
        return Credentials(
            client_id=env["PANOPTES_CLIENT_ID"], client_secret=env["PANOPTES_CLIENT_SECRET"], source="environment"
        )
    if env.get("PANOPTES_USERNAME") and env.get("PANOPTES_PASSWORD"):
        return Credentials(username=env["PANOPTES_USERNAME"], password=env["PANOPTES_PASSWORD"], source="environment")
    path = Path(config_file if config_file is not None else DEFAULT_CONFIG_FILE).expanduser()
    cfg = _read_config_file(path)
    if cfg.get("username") and cfg.get("password"):
        return Credentials(username=str(cfg["username"]), password=str(cfg["password"]), source=str(path))
    return Credentials(source="none")


def resolve_endpoint(
    endpoint: str | None = None, *, env: dict[str, str] | None = None, config_file: str | Path | None = None
) -> str:
    """The API endpoint: ``endpoint``, else ``$PANOPTES_ENDPOINT``, else the config file, else the live site.

    Examples
    --------
    >>> resolve_endpoint("http://127.0.0.1:8000/")
    'http://127.0.0.1:8000'
    >>> resolve_endpoint(env={}, config_file="/nonexistent")
    'https://www.zooniverse.org'
    """
    env = dict(os.environ if env is None else env)
    if not endpoint:
        endpoint = env.get("PANOPTES_ENDPOINT")
    if not endpoint:
        path = Path(config_file if config_file is not None else DEFAULT_CONFIG_FILE).expanduser()
        endpoint = _read_config_file(path).get("endpoint")
    endpoint = str(endpoint or LIVE_ENDPOINT).rstrip("/")
    if not endpoint.startswith(("http://", "https://")):
        raise InputError(f"endpoint {endpoint!r} is not an http(s) URL (e.g. {STAGING_ENDPOINT})")
    return endpoint


@dataclass(frozen=True)
class ZooniverseConfig:
    """Where to connect and how patiently.

    Attributes
    ----------
    endpoint : str
        The Panoptes endpoint without ``/api`` (see `resolve_endpoint`).
    timeout : float
        Seconds before one HTTP request is abandoned (panoptes-client has no timeout at all).
    retries : int
        Further attempts after a 5xx, a 429 or a dropped connection.
    backoff : float
        First wait in seconds; doubled after every attempt, with jitter, up to ``max_backoff``.
    max_backoff : float
        Longest wait between attempts, and the cap on a server's ``Retry-After``.
    admin : bool
        Send ``admin=true`` (Zooniverse administrators only).
    """

    endpoint: str = LIVE_ENDPOINT
    timeout: float = 60.0
    retries: int = 6
    backoff: float = 0.5
    max_backoff: float = 30.0
    admin: bool = False

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``Retry-After`` wins when given)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff)
        base = min(self.backoff * 2**attempt, self.max_backoff)
        return base * (0.75 + 0.5 * random.random())


class _TimeoutAdapter(HTTPAdapter):
    """An adapter that gives every request a default timeout."""

    def __init__(self, timeout: float, pool: int) -> None:
        super().__init__(pool_connections=4, pool_maxsize=pool)
        self._timeout = timeout

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass
class Connection:
    """A logged-in panoptes-client plus retries, timeouts and secret redaction.

    Create one with `connect`. ``client`` is the ``panoptes_client.Panoptes`` object; worker
    threads must enter ``with connection.client:`` (the client is thread-local). Counters of the
    requests sent are kept in ``n_requests``.
    """

    client: Any
    config: ZooniverseConfig
    credentials: Credentials
    n_requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _token_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _media: threading.local = field(default_factory=threading.local, repr=False)

    # -- secrets ---------------------------------------------------------------------------
    def redact(self, text: object) -> str:
        """``text`` with passwords, client secrets and tokens replaced by ``***``."""
        out = str(text)
        tokens = (getattr(self.client, "bearer_token", None), getattr(self.client, "refresh_token", None))
        for s in (*self.credentials.secrets, *tokens):
            if s:
                out = out.replace(str(s), "***")
        return out

    def _count(self) -> None:
        with self._lock:
            self.n_requests += 1

    # -- API requests ------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        etag: str | None = None,
        safe: bool = True,
    ) -> tuple[Any, str | None]:
        """Send one API request (path below ``/api``) and return ``(json_body, etag)``.

        5xx replies, 429 (honouring ``Retry-After``) and dropped connections are retried with
        backoff; a 401 triggers one fresh login. With ``safe=False`` (a create), a 5xx or a dropped
        connection raises `UncertainError` instead, so that the caller can check whether the
        object was created before trying again; 429 is always retried.
        """
        attempt = 0
        relogged = False
        while True:
            token_used = getattr(self.client, "bearer_token", None)
            self._count()
            try:
                resp = self._send(method, path, params, json, etag)
            except (requests.ConnectionError, requests.Timeout) as exc:
                reason = f"connection failed ({type(exc).__name__})"
                if not safe:
                    raise UncertainError(f"{method} /api{path}: {reason}") from None
                retry_after = None
            except KeyError:
                raise LoginError(f"{self.config.endpoint}: the token request was refused") from None
            else:
                status = resp.status_code
                if status == 401 and not relogged:
                    relogged = True
                    self.relogin(token_used)
                    continue
                if status == 429:
                    reason, retry_after = "HTTP 429 (rate limited)", _retry_after(resp)
                elif status >= 500:
                    reason, retry_after = f"HTTP {status}", _retry_after(resp)
                    if not safe:
                        raise UncertainError(f"{method} /api{path}: {reason}")
                else:
                    return self._parse(method, path, resp)
            if attempt >= self.config.retries:
                raise ZooniverseError(f"{method} /api{path} on {self.config.endpoint}: {reason} after {attempt + 1} attempts")
            wait = self.config.wait(attempt, retry_after)
            log.debug("%s /api%s: %s; retrying in %.2f s", method, path, reason, wait)
            time.sleep(wait)
            attempt += 1

    def _send(
        self, method: str, path: str, params: dict[str, Any] | None, json: Any, etag: str | None
    ) -> requests.Response:
        """One request through the client's session, with the headers panoptes-client would send.

        ``Panoptes.http_request`` is not used because it turns every 5xx into an exception that
        hides the status and the ``Retry-After`` header.
        """
        c = self.client
        headers = dict(c._http_headers["default"])
        headers.update(c._http_headers.get(method, {}))
        with self._token_lock:  # one refresh at a time: a refresh token is single-use
            token = c.get_bearer_token()
        if c.logged_in and token:
            headers["Authorization"] = f"Bearer {token}"
        if etag:
            headers["If-Match"] = etag
        query = dict(params or {})
        if self.config.admin:
            query["admin"] = True
        url = path if path.startswith(("http://", "https://")) else f"{c.endpoint}/api{path}"
        return c.session.request(method, url, params=query, headers=headers, json=json)

    def _parse(self, method: str, path: str, resp: requests.Response) -> tuple[Any, str | None]:
        status = resp.status_code
        body: Any = None
        if status != 204 and resp.content:
            try:
                body = resp.json()
            except ValueError:
                ctype = resp.headers.get("Content-Type", "?")
                raise ZooniverseError(
                    f"{method} /api{path}: {self.config.endpoint} replied HTTP {status} with {ctype}, not JSON; "
                    "is it a Panoptes server?"
                ) from None
        if isinstance(body, dict) and ("errors" in body or "error" in body):
            errs = body.get("errors")
            if isinstance(errs, list):
                msg = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errs)
            else:
                msg = str(errs if errs is not None else body.get("error"))
            raise ZooniverseError(self.redact(f"{method} /api{path}: HTTP {status}: {msg}"))
        if status >= 400:
            raise ZooniverseError(f"{method} /api{path}: HTTP {status}")
        return body, resp.headers.get("ETag")

    def relogin(self, token_used: str | None = None) -> None:
        """Fetch a new token (logging in again with a password), unless another thread just did."""
        c = self.client
        with self._lock, self._token_lock:
            if token_used is not None and getattr(c, "bearer_token", None) != token_used:
                return
            log.info("Zooniverse refused the access token; logging in again")
            c.bearer_token = None
            c.refresh_token = None
            try:
                if self.credentials.username:
                    c.logged_in = False
                    c.session.cookies.clear()
                    self.n_requests += 2
                    c.login()
                self.n_requests += 1
                c.get_bearer_token()
            except Exception as exc:  # noqa: BLE001 - any failure here is a login failure
                raise LoginError(self.redact(f"logging in again to {self.config.endpoint} failed: {_describe(exc)}")) from None

    def get_all(self, path: str, slug: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """All pages of a listing (``GET /api/<path>``), following ``meta.<slug>.next_href``."""
        out: list[dict[str, Any]] = []
        query: dict[str, Any] | None = dict(params or {})
        while True:
            body, _ = self.request("GET", path, params=query)
            body = body or {}
            out.extend(body.get(slug, []))
            nxt = ((body.get("meta") or {}).get(slug) or {}).get("next_href")
            if not nxt:
                return out
            path, query = str(nxt), None

    # -- media -------------------------------------------------------------------------------
    def _media_session(self) -> requests.Session:
        """This thread's session for media URLs (no Zooniverse auth header), kept open for reuse."""
        sess = getattr(self._media, "session", None)
        if sess is None:
            sess = requests.Session()
            sess.mount("http://", _TimeoutAdapter(self.config.timeout, 4))
            sess.mount("https://", _TimeoutAdapter(self.config.timeout, 4))
            self._media.session = sess
        return sess

    def put_media(self, url: str, data: bytes, mime: str) -> tuple[int, float | None]:
        """PUT bytes to a signed upload URL (no Zooniverse auth header); (HTTP status, Retry-After).

        Raises ``requests.RequestException`` on connection failures and timeouts.
        """
        sess = self._media_session()
        self._count()
        resp = sess.put(url, data=data, headers={"Content-Type": mime, "x-ms-blob-type": "BlockBlob"})
        resp.close()
        return resp.status_code, _retry_after(resp)

    def head_media(self, url: str) -> tuple[int, int | None]:
        """HEAD a media URL, following redirects; (HTTP status, Content-Length or None).

        Raises ``requests.RequestException`` on connection failures and timeouts.
        """
        sess = self._media_session()
        self._count()
        resp = sess.head(url, allow_redirects=True)
        resp.close()
        length = resp.headers.get("Content-Length")
        return resp.status_code, int(length) if length is not None else None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, KeyError):
        return f"the reply lacks {exc}"
    if isinstance(exc, ValueError):
        return "the reply was not JSON"
    return str(exc) or type(exc).__name__


def connect(
    config: ZooniverseConfig | None = None, credentials: Credentials | None = None, *, pool: int = 16
) -> Connection:
    """Log in to Zooniverse (or the staging server, or a test double) and return a `Connection`.

    Parameters
    ----------
    config : ZooniverseConfig, optional
        The endpoint and retry settings (default: the live Zooniverse).
    credentials : Credentials, optional
        Default `load_credentials()`.
    pool : int
        HTTP connections kept open (at least the number of worker threads).

    Raises
    ------
    LoginError
        No credentials, wrong credentials, or an endpoint that is not a Panoptes server; the
        message never contains the password or secret.

    Examples
    --------
    >>> conn = connect(ZooniverseConfig(endpoint="http://127.0.0.1:8000"))  # doctest: +SKIP
    """
    config = config or ZooniverseConfig()
    creds = credentials if credentials is not None else load_credentials()
    ep = config.endpoint
    if creds.empty:
        raise LoginError(
            f"no Zooniverse credentials for {ep}: set PANOPTES_USERNAME and PANOPTES_PASSWORD (or "
            "PANOPTES_CLIENT_ID and PANOPTES_CLIENT_SECRET), or write them in ~/.panoptes/config.yml"
        )
    pc = _panoptes()
    # username='' keeps the client from reading the environment and logging in before the
    # timeout adapter is mounted; the login happens below.
    kwargs: dict[str, Any] = {"endpoint": ep, "username": "", "password": "", "admin": config.admin}
    if creds.client_secret:
        kwargs.update(client_id=creds.client_id, client_secret=creds.client_secret)
    client = pc.Panoptes(**kwargs)
    client.client_secret = creds.client_secret
    adapter = _TimeoutAdapter(config.timeout, pool)
    client.session.mount("http://", adapter)
    client.session.mount("https://", adapter)
    conn = Connection(client=client, config=config, credentials=creds)
    who = creds.username or f"client {creds.client_id}"
    try:
        if creds.username:
            client.username, client.password = creds.username, creds.password
            conn.n_requests += 2
            client.login()
        conn.n_requests += 1
        client.get_bearer_token()
    except KeyError as exc:
        if "csrf" in str(exc).lower():
            raise LoginError(
                f"{ep} does not look like a Panoptes server: GET {ep}/users/sign_in gave no X-CSRF-Token header"
            ) from None
        raise LoginError(f"login to {ep} as {who} failed: the token request was refused (wrong client id or secret?)") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise LoginError(f"cannot reach {ep}: {_describe(exc)}") from None
    except ValueError:
        raise LoginError(
            f"login to {ep} as {who} failed: the reply was not JSON; is {ep} a Panoptes server?"
        ) from None
    except pc.panoptes.PanoptesAPIException as exc:
        raise LoginError(conn.redact(f"login to {ep} as {who} failed: {exc}")) from None
    log.debug("logged in to %s as %s", ep, who)
    return conn


__all__ = [
    "DEFAULT_CONFIG_FILE",
    "LIVE_ENDPOINT",
    "STAGING_ENDPOINT",
    "Connection",
    "Credentials",
    "LoginError",
    "UncertainError",
    "ZooniverseConfig",
    "ZooniverseError",
    "connect",
    "load_credentials",
    "resolve_endpoint",
]
