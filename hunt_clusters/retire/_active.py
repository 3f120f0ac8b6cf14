"""Active learning replayed: the CNN retrained in rounds on the labels gathered so far, the next
candidates chosen by BALD over its ensemble (Walmsley et al. 2020) or at random (the baseline).

Each round trains an ensemble of ``runs`` networks (`hunt_clusters.cnn.fit_one`, a cluster /
non-cluster head, balanced class weights, early stopping on a validation split of the labelled
candidates only) on the candidates labelled so far, scores the held-out test candidates with the
ensemble mean (threshold 0.5, against their truth), and asks for the next labels: the unlabelled
candidates with the highest BALD over the ensemble's runs (``bald``), or a random draw
(``random``). The first round's candidates are one random draw shared by both strategies, the last
round labels the whole pool (shared as well), and the runs of a round use the same seeds under both
strategies, so the two curves differ only in which candidates were chosen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ._decide import bald

log = logging.getLogger(__name__)

#: Selection strategies `active_learning` knows.
STRATEGIES: tuple[str, ...] = ("bald", "random")

#: Columns of ``active_learning.csv``.
ACTIVE_COLUMNS: tuple[str, ...] = ("strategy", "round", "n_labelled", "classifications", "accuracy", "accuracy_lo",
                                   "accuracy_hi", "roc_auc", "n_test", "label_accuracy", "cluster_share", "seconds")


@dataclass(frozen=True)
class ActiveConfig:
    """How `active_learning` retrains and chooses.

    Attributes
    ----------
    schedule : tuple of int
        Labelled candidates after each round, increasing; the whole pool is added as the last
        round (default 100, 200, 400, 800: doubling, so that a saving of 40 % falls between two
        rounds of both curves).
    runs : int
        Networks per round (BALD needs at least 2; default 3).
    epochs, patience : int
        Epoch cap and early-stopping patience of each fit (default 20 and 4: fewer than
        ``train-on-votes``' 40 and 6, so that a replay of 2 x 5 rounds fits a 2-core machine).
        Early stopping ends most fits before the cap: on 100 labels (a validation split of 15)
        the networks of the first round often stop while answering one class for everything.
    input_size : int
        Side in pixels the tensors are averaged down to (default 32, train-on-votes' default).
    tolerance : float
        A strategy "reaches" the accuracy of training on the whole pool at the first round whose
        test accuracy is at least that accuracy minus ``tolerance`` (default 0.01: one point,
        fixed before any measurement).
    votes_per_label : int
        Volunteer classifications a labelled candidate costs (the workflow's retirement count, 20).
    seed : int
        Seeds the first draw, the random strategy and the networks (run ``r`` of every round:
        ``seed + r``).
    """

    schedule: tuple[int, ...] = (100, 200, 400, 800)
    runs: int = 3
    epochs: int = 20
    patience: int = 4
    input_size: int = 32
    tolerance: float = 0.01
    votes_per_label: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.schedule or any(b <= a for a, b in zip(self.schedule, self.schedule[1:])) or self.schedule[0] < 10:
            raise InputError(f"active-learning schedule {list(self.schedule)} must increase and start at 10 or more")
        if self.runs < 2:
            raise InputError(f"active-learning runs {self.runs} must be at least 2 (BALD is over the ensemble's runs)")
        if self.epochs < 1 or self.patience < 1:
            raise InputError("active-learning epochs and patience must be at least 1")
        if not 0 <= self.tolerance < 0.5:
            raise InputError(f"active-learning tolerance {self.tolerance} must be in [0, 0.5)")


@dataclass(frozen=True)
class ActiveResult:
    """The curves (`ACTIVE_COLUMNS`) and a summary (target accuracy, labels each strategy needed)."""

    curves: pd.DataFrame
    summary: dict[str, Any]


def train_ensemble(x: np.ndarray, cluster: np.ndarray, *, runs: int, epochs: int, patience: int, seed: int,
                   input_size: int = 32, progress: bool = False, desc: str = "cnn") -> list[Any]:
    """Train ``runs`` cluster / non-cluster networks on tensors ``x`` (already at the input size).

    The networks are `hunt_clusters.cnn`'s own (``custom`` architecture, balanced class weights,
    early stopping on a stratified 15 % validation split of these candidates): run ``r`` uses
    seed ``seed + r``.
    """
    from ..cnn._config import TrainConfig
    from ..cnn._experiment import Targets, _weights
    from ..cnn._train import fit_one

    cluster = np.asarray(cluster, dtype=bool)
    if cluster.all() or not cluster.any():
        raise InputError(f"{desc}: the {len(cluster)} labelled candidates are all one class; a classifier needs both")
    hard = np.where(cluster, 0, 1).astype(np.int64)
    cfg = TrainConfig(label_sources=("votes",), head="binary", runs=runs, epochs=epochs, patience=patience,
                      input_size=input_size, seed=seed)
    t = Targets(desc, "votes", "hard", np.arange(len(x)), np.eye(2, dtype=np.float32)[hard], _weights(hard, 2, cfg),
                hard)
    return [fit_one(x, t, cfg, run, 2, progress=progress)[0] for run in range(runs)]


def ensemble_p_cluster(models: list[Any], x: np.ndarray, forward: Any = None) -> np.ndarray:
    """``(n, runs)`` cluster probabilities of each network for tensors ``x``."""
    from ..cnn._train import Forward, predict_proba

    fwd = forward or Forward()
    return np.stack([predict_proba(m, x, "hard", forward=fwd)[:, 0] for m in models], axis=1)


def labels_needed(curves: pd.DataFrame, target: float, tolerance: float,
                  metric: str = "accuracy") -> dict[str, int | None]:
    """Per strategy, the labelled candidates of the first round whose ``metric`` is at least ``target - tolerance``.

    Examples
    --------
    >>> c = pd.DataFrame({"strategy": ["bald"] * 3 + ["random"] * 3, "n_labelled": [10, 20, 40] * 2,
    ...                   "accuracy": [0.6, 0.79, 0.8, 0.6, 0.7, 0.8]})
    >>> labels_needed(c, 0.8, 0.01)
    {'bald': 20, 'random': 40}
    """
    out: dict[str, int | None] = {}
    for s, c in curves.groupby("strategy", sort=False):
        ok = c[c[metric] >= target - tolerance - 1e-12].sort_values("n_labelled")
        out[str(s)] = int(ok["n_labelled"].iloc[0]) if len(ok) else None
    return out


def active_learning(pool_x: np.ndarray, pool_cluster: np.ndarray, test_x: np.ndarray, test_cluster: np.ndarray,
                    config: ActiveConfig = ActiveConfig(), *, pool_truth: np.ndarray | None = None,
                    strategies: tuple[str, ...] = STRATEGIES,
                    progress: bool = False, on_round: Callable[[dict[str, Any]], None] | None = None) -> ActiveResult:
    """Replay active learning on a labelled pool: BALD-chosen against randomly chosen labels.

    Parameters
    ----------
    pool_x, pool_cluster : numpy.ndarray
        Tensors ``(N, S, S, 2)`` of the candidates volunteers could be asked about, and the label
        they would give each (cluster or not: e.g. the count consensus of its votes).
    test_x, test_cluster : numpy.ndarray
        Held-out candidates (never in the pool) and their truth: each round is scored on them.
    config : ActiveConfig
    pool_truth : numpy.ndarray, optional
        The pool's true cluster / non-cluster (a mock): for the diagnostic ``label_accuracy``, the
        share of the labelled candidates whose label is right (the labels themselves are the pool's).
    strategies : tuple of str
        Among `STRATEGIES`.

    Returns
    -------
    ActiveResult
        ``curves``: one row per (strategy, round); ``summary``: the accuracy of training on the
        whole pool (``final_accuracy``), the target (it minus ``tolerance``), the labels each
        strategy needed to reach it, and ``saving_fraction = 1 - bald / random``.
    """
    from ..cnn._data import resize
    from ..cnn._evaluate import accuracy_interval, binary_scores
    from ..cnn._train import Forward

    bad = [s for s in strategies if s not in STRATEGIES]
    if bad:
        raise InputError(f"active-learning strategy {bad[0]!r} unknown; valid: {', '.join(STRATEGIES)}")
    n_pool = len(pool_x)
    if len(pool_cluster) != n_pool or len(test_cluster) != len(test_x):
        raise InputError("active learning: tensors and labels differ in length")
    sizes = [n for n in config.schedule if n < n_pool] + [n_pool]
    px = resize(np.asarray(pool_x, dtype=np.float32), config.input_size)
    tx = resize(np.asarray(test_x, dtype=np.float32), config.input_size)
    pc, tc = np.asarray(pool_cluster, dtype=bool), np.asarray(test_cluster, dtype=bool)
    pt = None if pool_truth is None else np.asarray(pool_truth, dtype=bool)
    if pt is not None and len(pt) != n_pool:
        raise InputError("active learning: pool_truth differs in length from the pool")
    fwd = Forward()
    rng = np.random.default_rng(config.seed)
    first = np.sort(rng.choice(n_pool, size=sizes[0], replace=False))
    rows: list[dict[str, Any]] = []
    shared: dict[int, dict[str, Any]] = {}   # rounds both strategies share: the first draw and the whole pool

    def run_round(strategy: str, r: int, labelled: np.ndarray) -> np.ndarray:
        key = 0 if r == 0 else (-1 if len(labelled) == n_pool else None)
        t0 = time.perf_counter()
        if key is not None and key in shared:
            res = shared[key]
        else:
            models = train_ensemble(px[labelled], pc[labelled], runs=config.runs, epochs=config.epochs,
                                    patience=config.patience, seed=config.seed, input_size=config.input_size,
                                    progress=progress, desc=f"{strategy} round {r + 1}/{len(sizes)}")
            p_test = ensemble_p_cluster(models, tx, fwd)
            rest = np.setdiff1d(np.arange(n_pool), labelled)
            p_rest = ensemble_p_cluster(models, px[rest], fwd) if len(rest) else np.zeros((0, config.runs))
            p_mean = p_test.mean(axis=1)
            scores = binary_scores(tc, p_mean)                 # accuracy at 0.5 and the ROC AUC
            lo, hi = accuracy_interval((p_mean >= 0.5) == tc, seed=config.seed)
            res = {"accuracy": scores["accuracy"], "accuracy_lo": lo, "accuracy_hi": hi,
                   "roc_auc": scores["roc_auc"], "rest": rest, "p_rest": p_rest}
            if key is not None:
                shared[key] = res
        row = {"strategy": strategy, "round": r + 1, "n_labelled": int(len(labelled)),
               "classifications": int(len(labelled)) * config.votes_per_label,
               "accuracy": res["accuracy"], "accuracy_lo": res["accuracy_lo"], "accuracy_hi": res["accuracy_hi"],
               "roc_auc": res["roc_auc"], "n_test": int(len(tc)),
               "label_accuracy": None if pt is None else float((pc[labelled] == pt[labelled]).mean()),
               "cluster_share": float(pc[labelled].mean()), "seconds": round(time.perf_counter() - t0, 2)}
        rows.append(row)
        log.debug("active learning %s round %d: %d labelled, test accuracy %.3f", strategy, r + 1, len(labelled),
                 res["accuracy"])
        if on_round is not None:
            on_round(row)
        if r + 1 == len(sizes):
            return labelled
        rest, p_rest = res["rest"], res["p_rest"]
        k = sizes[r + 1] - len(labelled)
        if strategy == "bald":
            order = np.argsort(-bald(p_rest), kind="stable")[:k]
        else:
            order = np.sort(np.random.default_rng([config.seed, r + 1]).choice(len(rest), size=k, replace=False))
        return np.sort(np.concatenate([labelled, rest[order]]))

    for strategy in strategies:
        labelled = first
        for r in range(len(sizes)):
            labelled = run_round(strategy, r, labelled)
    curves = pd.DataFrame(rows, columns=list(ACTIVE_COLUMNS))
    final = float(curves.loc[curves["n_labelled"] == n_pool, "accuracy"].iloc[0])
    target = final - config.tolerance
    needed = labels_needed(curves, final, config.tolerance)
    b, r_ = needed.get("bald"), needed.get("random")
    # the same with the ROC AUC, which no threshold moves (BALD's picks can shift the calibration)
    final_auc = curves.loc[curves["n_labelled"] == n_pool, "roc_auc"].iloc[0]
    auc_needed = labels_needed(curves, float(final_auc), config.tolerance, "roc_auc") if pd.notna(final_auc) else {}
    ba, ra = auc_needed.get("bald"), auc_needed.get("random")
    per_round = curves.pivot(index="n_labelled", columns="strategy", values="accuracy")
    summary = {
        "pool": n_pool, "n_test": int(len(tc)), "schedule": sizes, "runs_per_round": config.runs,
        "final_accuracy": final, "tolerance": config.tolerance, "target_accuracy": target,
        "labels_needed": needed, "saving_fraction": (1 - b / r_) if b is not None and r_ else None,
        "final_roc_auc": None if pd.isna(final_auc) else float(final_auc), "labels_needed_auc": auc_needed,
        "saving_fraction_auc": (1 - ba / ra) if ba is not None and ra else None,
        "bald_minus_random": ({str(int(n)): float(r["bald"] - r["random"]) for n, r in per_round.iterrows()}
                              if {"bald", "random"} <= set(per_round.columns) else {}),
        "retrained_per_round": (f"{config.runs} networks ({config.input_size} px, at most {config.epochs} epochs, "
                                f"early stopping with patience {config.patience}) trained from scratch on the "
                                "candidates labelled so far"),
    }
    return ActiveResult(curves, summary)


__all__ = ["ACTIVE_COLUMNS", "STRATEGIES", "ActiveConfig", "ActiveResult", "active_learning", "ensemble_p_cluster",
           "labels_needed", "train_ensemble"]
