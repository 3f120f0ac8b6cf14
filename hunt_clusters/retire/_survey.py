"""``hunt-clusters replay``: every policy on one survey, with its CNN and its active learning, into a folder."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import CLUSTER_CLASSES
from .._errors import InputError
from ._active import ACTIVE_COLUMNS, ActiveConfig, active_learning, ensemble_p_cluster, train_ensemble
from ._decide import RetireConfig, read_predictions
from ._replay import Policy, crowd_votes, equal_accuracy, replay

log = logging.getLogger(__name__)

#: What `replay_survey` writes into its folder (``docs/human-machine.md``).
REPLAY_FILES: tuple[str, ...] = ("policies.csv", "curves.csv", "labels.csv", "active_learning.csv", "summary.json",
                                 "predictions.csv", "figures/*.png")

#: Gravity Spy's retirement thresholds (0.9 / 0.1), the second setting every SWAP policy is run with.
GRAVITY_SPY = {"retire_cluster": 0.9, "retire_non_cluster": 0.1}


@dataclass(frozen=True)
class ReplayConfig:
    """What `replay_survey` runs.

    Attributes
    ----------
    count : int
        The workflow's retirement count (the baseline ``count-N``; default 20, the Hunt's).
    gold_fraction : float
        Share of the subject set's expert-classified subjects SWAP learns skills from (default 0.5,
        as ``aggregate --gold-fraction``); the others are never gold and are scored.
    crowd_seed : int
        Seed of the mock crowd (``simulate-volunteers --seed``): the same volunteers.
    seed : int
        Seed of the gold draw, the votes' order and every network.
    cnn_confidence : float
        The CNN-alone policy retires what the CNN is at least this sure of (default 0.9, the level
        at which Gravity Spy retires).
    cnn_runs : int
        Networks of the CNN the ``swap-cnn`` and ``cnn`` policies use, when it is trained here.
    active : ActiveConfig or None
        The active-learning replay (None: not run).
    """

    count: int = 20
    gold_fraction: float = 0.5
    crowd_seed: int = 1
    seed: int = 0
    cnn_confidence: float = 0.9
    cnn_runs: int = 3
    active: ActiveConfig | None = field(default_factory=ActiveConfig)

    def __post_init__(self) -> None:
        if self.count < 1:
            raise InputError(f"count {self.count} must be at least 1")
        if not 0 < self.gold_fraction < 1:
            raise InputError(f"gold-fraction {self.gold_fraction} must be strictly between 0 and 1")
        if not 0.5 <= self.cnn_confidence <= 1:
            raise InputError(f"cnn-confidence {self.cnn_confidence} must be between 0.5 and 1")
        if self.cnn_runs < 2:
            raise InputError(f"cnn-runs {self.cnn_runs} must be at least 2 (its spread decides 'experts')")


def _paired(labels: pd.DataFrame, scored: pd.Series, baseline: str, seed: int) -> pd.DataFrame:
    """Each policy against the baseline on the same scored subjects: a 95 % bootstrap interval of its
    accuracy, and of the paired difference, with the exact McNemar p (`cnn.paired_comparison`)."""
    from ..cnn._evaluate import accuracy_interval, paired_comparison

    truth = scored.isin(CLUSTER_CLASSES)
    right = {str(p): (g.set_index("candidate_id")["cluster"].reindex(truth.index) == truth)
             for p, g in labels.groupby("policy", sort=False)}
    base = right[baseline].to_numpy()
    rows = []
    for name, r in right.items():
        lo, hi = accuracy_interval(r.to_numpy(dtype=float), seed=seed)
        c = paired_comparison(r.to_numpy(), base, seed=seed)
        rows.append({"policy": name, "accuracy_lo": lo, "accuracy_hi": hi, "difference_lo": c["difference_ci"][0],
                     "difference_hi": c["difference_ci"][1], "mcnemar_p": c["mcnemar_p"]})
    return pd.DataFrame(rows)


def policies_for(config: ReplayConfig, with_cnn: bool) -> list[Policy]:
    """The policies run side by side: the count baseline, SWAP alone and with the CNN (each with
    Space Warps' and Gravity Spy's thresholds), and the CNN alone."""
    n = config.count
    pols = [Policy(f"count-{n}", "count", n),
            Policy("swap", "swap", n, RetireConfig()),
            Policy("swap-gs", "swap", n, RetireConfig(**GRAVITY_SPY))]
    if with_cnn:
        pols += [Policy("swap-cnn", "swap-cnn", n, RetireConfig()),
                 Policy("swap-cnn-gs", "swap-cnn", n, RetireConfig(**GRAVITY_SPY)),
                 Policy(f"cnn-{config.cnn_confidence:g}", "cnn", n, confidence=config.cnn_confidence),
                 Policy("cnn-all", "cnn", n, confidence=0.5)]
    return pols


def _catalogue(path: str | Path) -> pd.DataFrame:
    """The catalogue (any format ``render`` reads), indexed by ``candidate_id``."""
    from ..cnn._experiment import read_catalogue

    cat = read_catalogue(path)
    return cat.set_index("candidate_id", drop=False)


def _classes(cat: pd.DataFrame, column: str) -> pd.Series:
    if column not in cat.columns:
        return pd.Series(dtype=object)
    v = cat[column].astype(str).str.strip()
    return v[~v.isin(["", "nan", "None", "--"])]


def _tensors(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    from ..cnn._data import load_tensors

    ts = load_tensors([folder])
    return ts.x, np.asarray(ts.candidate_id).astype(str)


class _Lazy:
    """The subject set's tensors, read on first use and once (the CNN and active learning share them)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder, self._xy = folder, None

    def __call__(self) -> tuple[np.ndarray, np.ndarray]:
        if self._xy is None:
            assert self.folder is not None
            self._xy = _tensors(self.folder)
        return self._xy


def replay_survey(
    subject_set: str | Path | None,
    out: str | Path,
    *,
    catalogue: str | Path | None = None,
    expert_set: str | Path | None = None,
    votes: str | Path | None = None,
    predictions: str | Path | None = None,
    config: ReplayConfig = ReplayConfig(),
    progress: bool = False,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Replay every policy on one survey and write the replay folder.

    Parameters
    ----------
    subject_set : path or None
        The volunteers' rendered subject set (manifest, tensors; pictures for the report). None
        with ``votes``: a real survey replayed without its pictures (then no CNN is trained here and
        no active learning runs; ``predictions`` still feed the CNN policies).
    out : path
        The folder to write (`REPLAY_FILES`); the caller checks it (``_outputs``).
    catalogue : path, optional
        The survey's catalogue: ``true_class`` (a mock: the truth), ``expert_class``.
    expert_set : path, optional
        The experts' rendered set: the CNN of the CNN policies is trained on its candidates that are
        not in the subject set (their expert classes), and active learning is tested on them.
    votes : path, optional
        A real survey's recorded votes (aggregate's folder or votes table): replayed in time order,
        scored against the experts. Without it (a mock) the crowd of the subject set draws
        ``count`` votes of every subject.
    predictions : path, optional
        ``predict``'s output for the subject set, instead of training the CNN here (it must not have
        been trained on any label of a subject set candidate).

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    t_start = time.perf_counter()
    seconds: dict[str, float] = {}
    subject_tensors = _Lazy(Path(subject_set) if subject_set is not None else None)
    out = Path(out)
    cat = _catalogue(catalogue) if catalogue is not None else None
    rng = np.random.default_rng(config.seed)
    from ..mock._volunteers import read_subject_set

    if subject_set is None:
        if votes is None:
            raise InputError("a mock replay needs the subject set (its crowd draws the votes)")
        if expert_set is not None:
            raise InputError("--expert-set needs the subject set too: the CNN trained on it scores the subject set")
        images = pd.Series(dtype=object)
    else:
        subject_set = Path(subject_set)
        manifest = read_subject_set(subject_set)
        subject_cids = manifest["#candidate_id"].astype(str)
        images = pd.Series([str((subject_set / str(i)).resolve()) if "image" in manifest.columns else ""
                            for i in manifest.get("image", [""] * len(manifest))], index=subject_cids.to_numpy())
    # -- votes ------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    if votes is None:
        if cat is None or "true_class" not in cat.columns:
            raise InputError("a mock replay needs --catalogue with true_class (simulate's candidates.ecsv); "
                             "for a real survey give its votes with --votes")
        from ..mock import VolunteerConfig, VolunteerCrowd

        mode = "mock"
        say(f"drawing {config.count} votes of each of {len(manifest)} subjects from the mock crowd "
            f"(seed {config.crowd_seed})")
        assert subject_set is not None
        crowd = VolunteerCrowd(subject_set, VolunteerConfig(seed=config.crowd_seed))
        v = crowd_votes(crowd, config.count, np.random.default_rng(config.crowd_seed))
        truth_all = _classes(cat, "true_class")
        experts = _classes(cat, "expert_class")
    else:
        from ._io import read_votes

        mode = "export"
        inputs = read_votes(votes)
        v = inputs.votes
        if v is None or not len(v):
            raise InputError(f"{votes}: no votes to replay")
        if v["class"].isna().all():
            raise InputError(f"{votes}: none of its {len(v)} votes has a class of this project's question (aggregate "
                             "wrote the answers it could not map to unmapped_answers.csv): nothing to replay")
        v = v[v["class"].notna()].copy()
        missing = v["candidate_id"].isna()
        v["candidate_id"] = v["candidate_id"].astype(object)
        v.loc[missing, "candidate_id"] = "subject " + v.loc[missing, "subject_id"].astype(str)
        experts = _classes(cat, "expert_class") if cat is not None else (
            inputs.gold if inputs.gold is not None else pd.Series(dtype=object))
        if not len(experts):
            raise InputError(f"{votes}: a real survey is scored against the experts: give --catalogue with "
                             "expert_class, or aggregate's folder with folds.csv (aggregate --experts)")
        truth_all = experts
    seconds["votes"] = round(time.perf_counter() - t0, 2)
    voted = pd.Index(v["candidate_id"].astype(str).unique())
    # -- gold for SWAP, and the scored subjects (never gold) -----------------------------------------
    pool = experts[experts.index.isin(voted)].sort_index()
    n_gold = int(round(config.gold_fraction * len(pool)))
    gold = pool.iloc[np.sort(rng.choice(len(pool), size=n_gold, replace=False))] if n_gold else None
    gold_ids = set(gold.index) if gold is not None else set()
    scored = truth_all[truth_all.index.isin(voted) & ~truth_all.index.isin(gold_ids)]
    if not len(scored):
        raise InputError("no subject can be scored: none of the voted subjects has a "
                         f"{'true_class' if mode == 'mock' else 'expert class'} outside the gold")
    say(f"{len(voted)} subjects, {len(v)} votes; SWAP learns from {len(gold_ids)} gold subjects; "
        f"scored against the {'truth' if mode == 'mock' else 'experts'} on {len(scored)} others")
    # -- the CNN of the CNN policies ---------------------------------------------------------------
    preds: pd.DataFrame | None = None
    cnn_info: dict[str, Any] = {}
    outside: np.ndarray | None = None
    ex_x = ex_ids = None
    if expert_set is not None:
        ex_x, ex_ids = _tensors(Path(expert_set))
        outside = ~np.isin(ex_ids, voted.to_numpy())
    t0 = time.perf_counter()
    if predictions is not None:
        preds = read_predictions(predictions)
        cnn_info = {"how": f"given: {predictions}", "trained_here": False}
    elif expert_set is not None and len(experts):
        assert ex_x is not None and ex_ids is not None and outside is not None and subject_set is not None
        lab = experts.reindex(ex_ids[outside])
        keep = lab.notna().to_numpy()
        rows = np.flatnonzero(outside)[keep]
        y = lab[keep].isin(CLUSTER_CLASSES).to_numpy()
        say(f"training the CNN of the CNN policies: {config.cnn_runs} networks on the expert classes of "
            f"{len(rows)} expert-set candidates outside the subject set")
        from ..cnn._data import resize

        size = config.active.input_size if config.active is not None else 32
        models = train_ensemble(resize(ex_x[rows], size), y, runs=config.cnn_runs, epochs=40, patience=6,
                                seed=config.seed, input_size=size, progress=progress, desc="cnn prior")
        sx, sids = subject_tensors()
        p = ensemble_p_cluster(models, resize(sx, size))
        preds = pd.DataFrame({"candidate_id": sids, "p_cluster": p.mean(axis=1), "p_cluster_std": p.std(axis=1),
                              **{f"p_cluster_run{k}": p[:, k] for k in range(p.shape[1])}})
        cnn_info = {"how": (f"{config.cnn_runs} networks ({size} px, train-on-votes' custom architecture, at most 40 "
                            f"epochs) trained here on the expert classes of {len(rows)} expert-set candidates "
                            "outside the subject set: no label of a replayed subject shaped it"),
                    "trained_here": True, "n_train": int(len(rows))}
    seconds["cnn"] = round(time.perf_counter() - t0, 2)
    if preds is not None:
        pc = preds.set_index(preds["candidate_id"].astype(str))["p_cluster"]
        both = scored.index.intersection(pc.index)
        tb = scored.loc[both].isin(CLUSTER_CLASSES).to_numpy()
        cnn_info["test_accuracy"] = float(((pc.loc[both] > 0.5).to_numpy() == tb).mean()) if len(both) else None
        cnn_info["n_scored"] = int(len(both))
    # -- retirement policies -----------------------------------------------------------------------
    t0 = time.perf_counter()
    pols = policies_for(config, preds is not None)
    say(f"replaying {len(pols)} retirement policies: {', '.join(p.name for p in pols)}")
    res = replay(v, scored, pols, predictions=preds, gold=gold)
    seconds["policies"] = round(time.perf_counter() - t0, 2)
    baseline = pols[0].name
    table = res.policies.copy()
    spent = float(table.set_index("policy").loc[baseline, "classifications"])
    table.insert(3, "saving", spent / table["classifications"].where(table["classifications"] > 0))
    table = table.merge(_paired(res.labels, scored, baseline, config.seed), on="policy", how="left")
    eq = equal_accuracy(res.curves, res.policies, baseline)
    # -- active learning ----------------------------------------------------------------------------
    al_summary: dict[str, Any] | None = None
    al_curves: pd.DataFrame | None = None
    if config.active is not None:
        if expert_set is None or subject_set is None:
            say("active learning skipped: it trains on the subject set's tensors and is tested on the expert set's "
                "candidates outside it (give both)")
        else:
            assert ex_x is not None and ex_ids is not None and outside is not None
            base_labels = res.labels[res.labels["policy"] == baseline].set_index("candidate_id")["cluster"]
            sx, sids = subject_tensors()
            have = np.isin(sids, base_labels.index.to_numpy())
            test_truth = truth_all.reindex(ex_ids[outside])
            tkeep = test_truth.notna().to_numpy()
            t0 = time.perf_counter()
            say(f"active learning: the CNN retrained in rounds of {list(config.active.schedule)} + all "
                f"{int(have.sum())} labelled candidates, BALD against random; tested on "
                f"{int(tkeep.sum())} expert-set candidates outside the subject set")
            pool_truth = truth_all.reindex(sids[have])
            al = active_learning(sx[have], base_labels.reindex(sids[have]).to_numpy(dtype=bool),
                                 ex_x[outside][tkeep], test_truth[tkeep].isin(CLUSTER_CLASSES).to_numpy(),
                                 config.active, progress=progress,
                                 pool_truth=pool_truth.isin(CLUSTER_CLASSES).to_numpy()
                                 if mode == "mock" and pool_truth.notna().all() else None,
                                 on_round=lambda r: say(f"  {r['strategy']:6s} {r['n_labelled']:5d} labelled: "
                                                        f"test accuracy {r['accuracy']:.3f}"))
            seconds["active_learning"] = round(time.perf_counter() - t0, 2)
            al_curves, al_summary = al.curves, al.summary
            al_summary["labels_from"] = f"the {baseline} consensus of each candidate's votes"
    # -- write --------------------------------------------------------------------------------------
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "policies.csv", index=False, float_format="%.6g")
    res.curves.to_csv(out / "curves.csv", index=False, float_format="%.6g")
    labels = res.labels.copy()
    if preds is not None:
        labels["p_cnn"] = labels["candidate_id"].map(preds.set_index(preds["candidate_id"].astype(str))["p_cluster"])
    else:
        labels["p_cnn"] = np.nan
    is_scored = labels["candidate_id"].isin(scored.index)
    labels["truth"] = np.where(is_scored, labels["candidate_id"].map(scored.isin(CLUSTER_CLASSES)), None)
    labels["scored"] = is_scored
    labels["image"] = labels["candidate_id"].map(images).fillna("")
    labels.to_csv(out / "labels.csv", index=False, float_format="%.6g")
    if preds is not None:   # the predictions the CNN policies used: trained here, or a copy of those given
        target = out / "predictions.csv"
        if not (predictions is not None and target.exists() and target.samefile(predictions)):
            preds.to_csv(target, index=False, float_format="%.6g")
    if al_curves is not None:
        al_curves.to_csv(out / "active_learning.csv", index=False, float_format="%.6g",
                         columns=list(ACTIVE_COLUMNS))
    else:  # an earlier run's curves would be read as this run's
        (out / "active_learning.csv").unlink(missing_ok=True)
    if preds is None:
        (out / "predictions.csv").unlink(missing_ok=True)
    _figures(out, res.curves, table, baseline, al_curves, al_summary)
    seconds["total"] = round(time.perf_counter() - t_start, 2)
    summary: dict[str, Any] = {
        "mode": mode, "baseline": baseline,
        "machine_policy": f"cnn-{config.cnn_confidence:g}" if preds is not None else None,
        "n_subjects": int(len(voted)), "n_votes": int(len(v)), "n_gold": len(gold_ids), "n_scored": int(len(scored)),
        "scored_against": "truth (true_class)" if mode == "mock" else "the experts (expert_class)",
        "equal_accuracy": eq, "cnn": cnn_info or None, "config": asdict(config), "seconds": seconds,
    }
    if al_summary is not None:
        summary["active_learning"] = al_summary
    from ..report._report import _jsonable

    (out / "summary.json").write_text(json.dumps(_jsonable(summary), indent=2) + "\n")
    return summary


def _figures(out: Path, curves: pd.DataFrame, policies: pd.DataFrame, baseline: str,
             al_curves: pd.DataFrame | None, al_summary: dict[str, Any] | None) -> None:
    """``figures/curves.png`` and ``figures/active_learning.png``: the report's own figures of them."""
    from ..report import _figures as F

    base = policies.set_index("policy").loc[baseline]
    series = {str(p): g.sort_values("classifications", kind="stable")[["classifications", "accuracy"]].to_numpy(float)
              for p, g in curves.groupby("policy", sort=False)}
    F.save_png(F.replay_curves(series, float(base["accuracy"]), baseline), out / "figures" / "curves.png")
    if al_curves is not None:
        al_series = {str(s): g.sort_values("n_labelled")[["n_labelled", "accuracy", "accuracy_lo", "accuracy_hi"]]
                     .to_numpy(float) for s, g in al_curves.groupby("strategy", sort=True)}
        target = al_summary.get("target_accuracy") if al_summary else None
        F.save_png(F.active_learning_figure(al_series, target), out / "figures" / "active_learning.png")
    else:
        (out / "figures" / "active_learning.png").unlink(missing_ok=True)


__all__ = ["GRAVITY_SPY", "REPLAY_FILES", "ReplayConfig", "policies_for", "replay_survey"]
