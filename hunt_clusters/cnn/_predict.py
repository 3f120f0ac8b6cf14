"""Scoring new candidates with a saved run: the ensemble of its models."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ._data import TensorSet, resize
from .._interrupt import check, deferred
from ._train import Forward, p_cluster_of, predict_proba

log = logging.getLogger(__name__)


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """The ``config.json`` of a run folder, checked."""
    d = Path(run_dir)
    cfg = d / "config.json"
    if not cfg.exists():
        from .._outputs import describe_folder

        raise InputError(f"{d}: not a train-on-votes run folder (expected config.json, metrics.json and the "
                         f"models; found {describe_folder(d)})")
    try:
        doc: dict[str, Any] = json.loads(cfg.read_text())
        doc["models"], doc["class_names"], doc["config"]["input_size"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{cfg}: not a train-on-votes config ({exc})") from None
    return doc


def load_ensemble(run_dir: str | Path, model: str | None = None) -> tuple[str, str, list[Any]]:
    """The fitted Keras models of one model of a run: (name, target, models)."""
    import keras

    from . import _losses, _models  # noqa: F401  (registers the custom layers and loss)

    d = Path(run_dir)
    doc = read_run(d)
    names = [m["name"] for m in doc["models"]]
    name = model or names[0]
    if name not in names:
        raise InputError(f"{d}: no model {name!r}; it holds {', '.join(names)}")
    target = next(m["target"] for m in doc["models"] if m["name"] == name)
    files = sorted((d / name).glob("run_*.keras"))
    if not files:
        raise InputError(f"{d / name}: no saved runs (run_NN.keras)")
    return name, target, [keras.models.load_model(f, compile=False) for f in files]


def predict(run_dir: str | Path, tensors: TensorSet, *, model: str | None = None,
            batch_size: int = 512) -> pd.DataFrame:
    """Score candidates with the ensemble of a run's models.

    Parameters
    ----------
    run_dir : path
        A folder written by ``hunt-clusters train-on-votes``.
    tensors : TensorSet
        The candidates (any size: averaged down to the run's input size).
    model : str, optional
        Which model of the run (default: its first, e.g. ``votes-hard``).

    Returns
    -------
    pandas.DataFrame
        ``candidate_id, p_cluster`` (mean over the runs), ``p_cluster_std`` (their spread),
        ``p_<class>`` (mean class probabilities), ``n_runs``, ``model``, and each run's own
        ``p_cluster_run0, p_cluster_run1, ...`` (for BALD, `hunt_clusters.retire.bald`), sorted as
        the tensors.
    """
    doc = read_run(run_dir)
    size = int(doc["config"]["input_size"])
    names = tuple(doc["class_names"])
    if tensors.x.shape[1] < size:
        raise InputError(f"tensors are {tensors.x.shape[1]} pixels across; the run was trained at {size}: "
                         "render them with a --tensor-size of at least that")
    with deferred():  # Ctrl-C inside TensorFlow waits for the next model: no error from native code
        name, target, models = load_ensemble(run_dir, model)
        x = resize(tensors.x, size)
        forward = Forward()  # the runs share one architecture: one traced graph for all of them
        probs = []
        for m in models:
            check()  # Ctrl-C between two models
            probs.append(predict_proba(m, x, target, batch_size, forward=forward))
    probs = np.stack(probs)
    pcl = np.stack([p_cluster_of(p, names) for p in probs])
    out = pd.DataFrame({"candidate_id": tensors.candidate_id, "p_cluster": pcl.mean(axis=0),
                        "p_cluster_std": pcl.std(axis=0)})
    mean = probs.mean(axis=0)
    for k, c in enumerate(names):
        out[f"p_{c}"] = mean[:, k]
    out["n_runs"] = len(models)
    out["model"] = name
    for k in range(len(models)):  # each run's own p_cluster: BALD over the ensemble needs them
        out[f"p_cluster_run{k}"] = pcl[k]
    return out


__all__ = ["load_ensemble", "predict", "read_run"]
