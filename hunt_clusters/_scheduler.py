"""Where the work runs: the ``--scheduler`` switch of render, aggregate, simulate and predict, parsed here.

``--scheduler tcp://host:8786`` connects to a running ``dask.distributed`` scheduler;
``--scheduler local:N`` starts a LocalCluster of N single-threaded worker processes for the command and
stops it afterwards. Without the option nothing changes (the embedded run: ``--jobs`` processes) and
Dask is not imported. Dask is an optional extra: ``pip install 'hunt-clusters[dask]'``.

This module imports nothing heavy at import time (``hunt-clusters --help`` imports it).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._errors import HuntClustersError

log = logging.getLogger(__name__)

#: What the user is told to run when Dask is missing.
DASK_EXTRA = "pip install 'hunt-clusters[dask]'"

_LOCAL = re.compile(r"^local(?::(\d+))?$")
_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc|ws|wss)://\S+$")


class DaskMissingError(HuntClustersError):
    """``--scheduler`` was given but dask.distributed is not installed."""


@dataclass(frozen=True)
class Scheduler:
    """A parsed ``--scheduler`` value.

    Attributes
    ----------
    address : str
        ``tcp://host:port`` of a running scheduler, or ``""`` for a LocalCluster.
    n_workers : int
        Workers of the LocalCluster (0 with an address).
    processes : bool
        LocalCluster workers as processes (the default) or threads of this process (tests).
    """

    address: str = ""
    n_workers: int = 0
    processes: bool = True

    @property
    def is_local(self) -> bool:
        """True for ``local:N`` (a cluster started and stopped by the command)."""
        return not self.address

    def __str__(self) -> str:
        return self.address or f"local:{self.n_workers}"


def parse_scheduler(text: str) -> Scheduler:
    """argparse ``type=`` of ``--scheduler``: ``tcp://host:port`` or ``local:N``.

    Examples
    --------
    >>> parse_scheduler("local:2")
    Scheduler(address='', n_workers=2, processes=True)
    >>> parse_scheduler("tcp://10.0.0.5:8786").address
    'tcp://10.0.0.5:8786'
    >>> parse_scheduler("local:0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 'local:0': expected tcp://HOST:PORT (a running dask scheduler) or local:N (N >= 1 workers)
    """
    value = text.strip()
    m = _LOCAL.match(value)
    if m:
        n = int(m.group(1)) if m.group(1) else 0
        if n >= 1:
            return Scheduler("", n)
    elif _ADDRESS.match(value):
        return Scheduler(value, 0)
    elif re.match(r"^[\w.-]+:\d+$", value):  # host:port, the form dask-scheduler prints without tcp://
        return Scheduler("tcp://" + value, 0)
    raise argparse.ArgumentTypeError(
        f"{text!r}: expected tcp://HOST:PORT (a running dask scheduler) or local:N (N >= 1 workers)"
    )


def add_scheduler_argument(parser: Any, *, jobs: bool = True) -> None:
    """Add ``--scheduler`` (the same wording on every command that scales).

    ``jobs``: the command has ``--jobs`` (the help names it only then).
    """
    here = "here (--jobs)" if jobs else "in this process"
    parser.add_argument(
        "--scheduler", type=parse_scheduler, default=None, metavar="tcp://HOST:PORT|local:N",
        help="run on a Dask cluster: the address of a running dask scheduler, or local:N for N worker "
        "processes started and stopped by this command (needs " + DASK_EXTRA + "; docs/scale.md). "
        f"Without it the work runs {here} and the output is the same",
    )


def require_dask() -> None:
    """Raise `DaskMissingError` (one line naming the extra) unless dask.distributed can be imported."""
    try:
        found = all(importlib.util.find_spec(m) is not None for m in ("dask", "distributed"))
    except (ImportError, ValueError):  # a broken or blocked install
        found = False
    if not found:
        raise DaskMissingError(f"--scheduler needs Dask, which is not installed: {DASK_EXTRA}")


@contextlib.contextmanager
def dask_client(scheduler: Scheduler | str, *, fork: bool = False) -> Iterator[Any]:
    """A ``distributed.Client`` for ``scheduler``; a LocalCluster is started and stopped with it.

    Parameters
    ----------
    scheduler : Scheduler or str
        Parsed or as typed (``"local:2"``, ``"tcp://host:8786"``).
    fork : bool
        On Linux, start the LocalCluster's worker processes by forking this one (Dask's
        ``distributed.worker.multiprocessing-method: fork``) instead of spawning fresh interpreters:
        the workers inherit the modules the command has imported (astropy, SciPy, ours: ~3 s of
        start-up each otherwise), as the ``--jobs`` pool does. Only for commands that have not
        started threads of their own that a fork would copy mid-way (not with TensorFlow loaded).
        A worker Dask restarts after a failure is forked the same way.

    Yields
    ------
    distributed.Client
    """
    if isinstance(scheduler, str):
        scheduler = parse_scheduler(scheduler)
    require_dask()
    import dask
    from distributed import Client, LocalCluster

    start = {"distributed.worker.multiprocessing-method": "fork"} if fork and sys.platform.startswith("linux") else {}
    if scheduler.is_local:
        # one thread per worker: the work is CPU-bound Python/NumPy, as the --jobs processes are
        with dask.config.set(start), LocalCluster(
            n_workers=scheduler.n_workers, threads_per_worker=1, processes=scheduler.processes,
            dashboard_address=":0", silence_logs=logging.ERROR,
        ) as cluster, Client(cluster) as client:
            log.info("dask: LocalCluster of %d worker(s)", scheduler.n_workers)
            yield client
    else:
        try:
            client = Client(scheduler.address, timeout="20s")
        except OSError as exc:
            raise HuntClustersError(f"--scheduler {scheduler.address}: cannot reach the dask scheduler ({exc})") from None
        with client:
            log.info("dask: %s, %d worker(s)", scheduler.address, len(client.scheduler_info().get("workers", {})))
            yield client


def client_for(scheduler: Scheduler | None, *, fork: bool = False) -> contextlib.AbstractContextManager[Any]:
    """`dask_client` of a ``--scheduler`` value, or ``None`` without one (embedded run; Dask not imported).

    ``fork``: see `dask_client` (render, simulate and aggregate fork their local workers).

    Examples
    --------
    >>> with client_for(None) as client:
    ...     print(client)
    None
    """
    if scheduler is None:
        return contextlib.nullcontext(None)
    require_dask()  # one line naming the extra, before any work
    return dask_client(scheduler, fork=fork)


def n_workers(client: Any) -> int:
    """Workers (threads) the client's cluster has now (at least 1)."""
    info = client.scheduler_info(n_workers=-1) if _takes_n_workers(client) else client.scheduler_info()
    return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))


def _takes_n_workers(client: Any) -> bool:
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False


def batches(items: list[Any], workers: int, *, per_worker: int = 4, most: int = 64) -> list[list[Any]]:
    """Split ``items`` into consecutive partitions: about ``per_worker`` per worker, at most ``most`` items each.

    Examples
    --------
    >>> [len(b) for b in batches(list(range(10)), 2)]
    [2, 2, 2, 2, 2]
    """
    if not items:
        return []
    size = max(1, min(most, -(-len(items) // (per_worker * max(1, workers)))))
    return [items[i:i + size] for i in range(0, len(items), size)]


__all__ = [
    "DASK_EXTRA",
    "DaskMissingError",
    "Scheduler",
    "add_scheduler_argument",
    "batches",
    "client_for",
    "dask_client",
    "n_workers",
    "parse_scheduler",
    "require_dask",
]
