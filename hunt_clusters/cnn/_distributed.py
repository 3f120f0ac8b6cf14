"""Predict on a Dask cluster: the tensors in partitions, each worker scores its own with the run's ensemble."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._scheduler import n_workers
from ._data import TensorSet

log = logging.getLogger(__name__)


def _predict_part(run_dir: str, x: np.ndarray, ids: np.ndarray, model: str | None, batch_size: int) -> pd.DataFrame:
    from ._predict import predict

    return predict(run_dir, TensorSet(x=x, candidate_id=ids, sources=()), model=model, batch_size=batch_size)


def predict_distributed(client: Any, run_dir: str | Path, tensors: TensorSet, *, model: str | None = None,
                        batch_size: int = 512, rows_per_part: int | None = None) -> pd.DataFrame:
    """`~hunt_clusters.cnn.predict` on the workers of ``client``: the same table, rows in the tensors' order.

    Each partition is scored by `predict` on a worker (which loads the run's models: ``run_dir``
    must be reachable from the workers under the same path); partitions are gathered in order.
    """
    n = len(tensors)
    if rows_per_part is None:
        rows_per_part = max(batch_size, -(-n // (2 * n_workers(client))))
    parts = []
    for start in range(0, max(n, 1), rows_per_part):
        sl = slice(start, start + rows_per_part)
        parts.append(client.submit(_predict_part, str(Path(run_dir).resolve()), tensors.x[sl], tensors.candidate_id[sl], model,
                                   batch_size, pure=False, retries=2))
    log.info("dask: %d candidates in %d partitions", n, len(parts))
    out = pd.concat([f.result() for f in parts], ignore_index=True)
    return out


__all__ = ["predict_distributed"]
