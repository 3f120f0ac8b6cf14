"""Render on a Dask cluster: the candidates in partitions, each worker runs the per-candidate job of the embedded run."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._scheduler import batches, n_workers

log = logging.getLogger(__name__)


def _run_batch(jobs: list[Any]) -> list[tuple[Any, np.ndarray | None]]:
    """One partition on a worker: the same `_run_job` the embedded run calls, in order."""
    from ._subject_set import _run_job

    return [_run_job(j) for j in jobs]


def _abs(path: str) -> str:
    return os.path.abspath(path) if path and "://" not in path else path


def imap_dask(client: Any, jobs: list[Any]) -> Iterator[tuple[Any, np.ndarray | None]]:
    """Results of ``jobs`` computed on the cluster of ``client``, yielded in the order of ``jobs``.

    Each job writes its subject file atomically (a ``.part`` file renamed), so a partition that Dask
    runs again (a worker lost mid-way) rewrites the same bytes and the folder holds each subject once.
    The driver gathers partitions in order, so the manifest and tensors are those of the embedded run.
    """
    if not jobs:
        return
    # a worker's working folder is not the driver's: every path absolute
    jobs = [dataclasses.replace(j, xray=_abs(j.xray), optical=_abs(j.optical), out_file=_abs(j.out_file),
                                kosiba_file=_abs(j.kosiba_file)) for j in jobs]
    parts = batches(jobs, n_workers(client), most=16)
    log.info("dask: %d candidates in %d partitions", len(jobs), len(parts))
    # pure=False: a fresh task per call (files may have changed since a previous render)
    futures = client.map(_run_batch, parts, pure=False, retries=2)
    try:
        for fut in futures:
            yield from fut.result()
            fut.release()
    finally:
        for fut in futures:
            fut.cancel()


__all__ = ["imap_dask"]
