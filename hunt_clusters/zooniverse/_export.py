"""Download a Zooniverse data export (classifications, subjects, workflows), generating it on request."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from tqdm import tqdm

from .._errors import InputError
from ._client import Credentials, ZooniverseConfig, ZooniverseError, _panoptes, connect
from ._upload import find_project, find_workflow

log = logging.getLogger(__name__)

#: Export types this toolkit reads.
EXPORT_TYPES = ("classifications", "subjects", "workflows")


def _state(description: Any) -> tuple[str | None, str | None]:
    media = (description or {}).get("media") or []
    if not media:
        return None, None
    m = media[0]
    return str((m.get("metadata") or {}).get("state", "")), m.get("src")


def download_export(
    out: str | Path,
    *,
    project: str | int,
    export_type: str = "classifications",
    workflow: str | int | None = None,
    generate: bool = False,
    config: ZooniverseConfig | None = None,
    credentials: Credentials | None = None,
    timeout: float = 6 * 3600,
    poll_s: float = 5.0,
    progress: bool = True,
) -> Path:
    """Download a project's (or a workflow's) export to ``out``, through panoptes-client's export API.

    Parameters
    ----------
    out : str or Path
        The CSV file to write (atomically: temp file + rename).
    project : str or int
        Project id or ``owner/name`` slug.
    export_type : str
        One of `EXPORT_TYPES`.
    workflow : str or int, optional
        For ``classifications`` only: the export of one workflow.
    generate : bool
        Ask Zooniverse for a fresh export and wait until it is ready (can take hours for big
        projects); otherwise download the latest one.
    timeout : float
        Seconds to wait for a generated export.
    poll_s : float
        Seconds between two looks at the export's state.
    progress : bool
        Log a waiting message at each look and show a download progress bar.

    Returns
    -------
    Path
        ``out``.

    Examples
    --------
    >>> download_export("classifications.csv", project="alice/hunt", generate=True,
    ...                 config=ZooniverseConfig(endpoint="http://127.0.0.1:8000"))  # doctest: +SKIP
    PosixPath('classifications.csv')
    """
    if export_type not in EXPORT_TYPES:
        raise InputError(f"export type {export_type!r}: valid types are {', '.join(EXPORT_TYPES)}")
    if workflow is not None and export_type != "classifications":
        raise InputError(f"--workflow applies to classifications exports only, not to {export_type}")
    out = Path(out)
    if not out.parent.is_dir():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    conn = connect(config or ZooniverseConfig(), credentials)
    pc = _panoptes()
    proj = find_project(conn, project)
    wf = find_workflow(conn, workflow, proj) if workflow is not None else None
    if wf is not None:
        what = f"{export_type} export of workflow {wf['id']}"
    else:
        what = f"{export_type} export of project {proj['id']} ({proj.get('slug')})"
    t0 = time.monotonic()
    with conn.client:  # panoptes-client objects find their client through this thread's binding
        try:
            # built from the raw resources: an object built from a bare id would GET itself again
            target: Any = pc.Workflow(wf) if wf is not None else pc.Project(proj)
            if generate:
                log.info("asking Zooniverse to generate the %s", what)
                target.generate_export(export_type)
            while True:
                state, src = _state(target.describe_export(export_type))
                if state is None:
                    raise InputError(f"no {what} exists yet; run again with --generate to create one")
                if state in ("ready", "finished") or not generate:
                    break
                waited = time.monotonic() - t0
                if waited > timeout:
                    raise ZooniverseError(f"the {what} was not ready after {waited:.0f} s (state {state!r})")
                if progress:
                    log.info("waiting for Zooniverse to generate the %s (state %s, %.0f s)", what, state, waited)
                time.sleep(poll_s)
        except pc.panoptes.PanoptesAPIException as exc:
            raise ZooniverseError(conn.redact(f"{what}: {exc}")) from None
        except requests.RequestException as exc:
            raise ZooniverseError(f"{what}: {type(exc).__name__} talking to {conn.config.endpoint}") from None
    if not src:
        raise ZooniverseError(f"the {what} has no download URL")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        # the descriptor is wrapped first, so that it is closed whatever fails below
        with os.fdopen(fd, "wb") as fh, requests.get(src, stream=True, timeout=conn.config.timeout) as resp:
            if resp.status_code != 200:
                raise ZooniverseError(f"downloading the {what}: HTTP {resp.status_code}")
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=out.name, disable=not progress) as bar:
                for chunk in resp.iter_content(1 << 16):
                    fh.write(chunk)
                    bar.update(len(chunk))
        os.replace(tmp, out)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, requests.RequestException):
            raise ZooniverseError(f"downloading the {what}: {type(exc).__name__}") from None
        raise
    log.info("wrote %s (%d bytes)", out, out.stat().st_size)
    return out


__all__ = ["EXPORT_TYPES", "download_export"]
