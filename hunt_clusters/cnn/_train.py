"""Training: repeated runs per model, evaluation against spectroscopy and experts, the run folder."""

from __future__ import annotations

import json
import logging
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import CLASSES, __version__
from .._errors import InputError
from ._config import TrainConfig
from ._data import make_dataset, resize
from ._evaluate import (
    TEST_METRICS,
    accuracy_interval,
    agreement_scores,
    binary_scores,
    choose_threshold,
    is_cluster,
    mean_std,
    paired_comparison,
)
from ._experiment import Experiment, Targets
from ._losses import TARGETS, loss_for, probabilities

log = logging.getLogger(__name__)

#: A retried run's seed is ``seed + run + RETRY_SEED_STEP * attempt``: never another run's seed.
RETRY_SEED_STEP = 1000

#: Catalogue columns copied into the run folder's candidates.csv (for the report), where present.
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "candidate_id", "ra", "dec", "role", "in_overlap", "in_test", "redshift", "count_rate", "net_counts",
    "extent_arcsec",
    "expert_class", "spec_class", "true_class", "vote_label", "image",
)


def versions() -> dict[str, str]:
    """Versions of what a result depends on."""
    import keras

    from ._tf import tf

    return {"hunt_clusters": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "pandas": pd.__version__, "python": platform.python_version(),
            "platform": platform.platform()}


def _epoch_bar(total: int, desc: str, enabled: bool) -> Any:
    import keras
    from tqdm import tqdm

    class EpochBar(keras.callbacks.Callback):
        """One tqdm bar per run, one tick per epoch, the losses in its postfix."""

        def on_train_begin(self, logs: Any = None) -> None:
            self.bar = tqdm(total=total, desc=desc, unit="epoch", leave=False, file=sys.stderr,
                            disable=None if enabled else True)

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs = logs or {}
            self.bar.set_postfix(loss=f"{logs.get('loss', float('nan')):.3f}",
                                 val_loss=f"{logs.get('val_loss', float('nan')):.3f}")
            self.bar.update(1)

        def on_train_end(self, logs: Any = None) -> None:
            self.bar.close()

    return EpochBar()


def _val_split(hard: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of a stratified validation sample: ``fraction`` of each class (at least one of a
    class with two or more members)."""
    val = np.zeros(len(hard), dtype=bool)
    for c in np.unique(hard):
        members = np.flatnonzero(hard == c)
        n = int(round(fraction * len(members)))
        if len(members) >= 2:
            n = min(max(n, 1), len(members) - 1)
        val[rng.choice(members, size=n, replace=False)] = True
    return val


def p_cluster_of(p: np.ndarray, class_names: tuple[str, ...]) -> np.ndarray:
    """Cluster probability from class probabilities: p(low-z) + p(hi-z), or p(cluster)."""
    if class_names[0] == "cluster":
        return p[:, 0]
    return p[:, class_names.index("low-z")] + p[:, class_names.index("hi-z")]


def fit_one(x: np.ndarray, t: Targets, config: TrainConfig, run: int, n_outputs: int, *,
            progress: bool = False, attempt: int = 0) -> tuple[Any, pd.DataFrame, np.ndarray, dict[str, Any]]:
    """Train one model of one run: seed ``config.seed + run`` (``+ 1000 * attempt`` for a retry of a
    collapsed run), its own validation split.

    ``x`` are the tensors at the input size (all candidates; ``t.rows`` picks the training ones).
    Returns the fitted model, its history, the validation mask over ``t.rows`` and run facts.
    """
    import keras

    from .._interrupt import check, stop_on_interrupt
    from ._models import make_model

    seed = config.seed + run + RETRY_SEED_STEP * attempt
    rng = np.random.default_rng(seed)
    val = _val_split(t.hard, config.val_fraction, rng)
    keras.utils.set_random_seed(seed)
    model = make_model(x.shape[1:], n_outputs, architecture=config.architecture, output=TARGETS[t.target],
                       filters=config.filters, dropout=config.dropout, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=loss_for(t.target),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    tr, va = t.rows[~val], t.rows[val]
    train_ds = make_dataset(x[tr], t.y[~val], t.weight[~val], batch_size=config.batch_size, shuffle=True, seed=seed)
    val_ds = make_dataset(x[va], t.y[val], t.weight[val], batch_size=256, shuffle=False, seed=seed)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True)
    bar = _epoch_bar(config.epochs, f"{t.model} run {run + 1}/{config.runs}", progress)
    t0 = time.perf_counter()
    hist = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, callbacks=[stop, bar, stop_on_interrupt()],
                     verbose=0, shuffle=False)  # tf.data reshuffles each epoch
    check()  # Ctrl-C during fit: stopped at a batch end, raised here
    seconds = time.perf_counter() - t0
    h = pd.DataFrame(hist.history)
    h.insert(0, "epoch", np.arange(1, len(h) + 1))
    epochs = len(h)
    facts = {"run": run, "seed": seed, "epochs": epochs, "best_epoch": int(h["val_loss"].idxmin()) + 1,
             "seconds": round(seconds, 3), "n_train": int(len(tr)), "n_val": int(len(va))}
    return model, h, val, facts


class Forward:
    """The forward pass of fitted models, traced once per architecture and input shape.

    ``Model.predict``, or a ``tf.function`` per model, traces a new graph for every model: the runs
    of a training or the ensemble of ``predict`` trace one each, and from the fifth TensorFlow warns
    about "triggered tf.function retracing". Here the first model of an architecture is cloned once
    and its graph traced once (for any batch length); every model of that architecture lends its
    weights to the clone (``set_weights``) and runs through the same graph.
    """

    def __init__(self) -> None:
        self._graphs: dict[str, tuple[Any, Any]] = {}

    @staticmethod
    def _key(model: Any, shape: tuple[int, ...]) -> str:
        """What makes two models run through the same graph: layer kinds, activations, shapes (not
        names or seeds, which differ from model to model)."""
        layers = [(type(layer).__name__, getattr(getattr(layer, "activation", None), "__name__", None),
                   str(getattr(layer, "output", None) is not None and layer.output.shape)) for layer in model.layers]
        return json.dumps([list(shape), layers, [list(w.shape) for w in model.weights]], default=str)

    def __call__(self, model: Any, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """The model's raw outputs for ``x``, ``batch_size`` candidates at a time."""
        import keras

        from ._tf import tf

        key = self._key(model, x.shape[1:])
        if key not in self._graphs:
            clone = keras.models.clone_model(model)
            graph = tf.function(clone.__call__, input_signature=[tf.TensorSpec((None, *x.shape[1:]), tf.float32)])
            self._graphs[key] = (clone, graph)
        clone, graph = self._graphs[key]
        clone.set_weights(model.get_weights())
        return np.concatenate([graph(x[i:i + batch_size]).numpy() for i in range(0, len(x), batch_size)])


def predict_proba(model: Any, x: np.ndarray, target: str, batch_size: int = 512, *,
                  forward: Forward | None = None) -> np.ndarray:
    """Class probabilities of a fitted model for tensors ``x`` (already at its input size).

    ``forward``: the `Forward` shared by the models of a run or an ensemble, so that their graph
    is traced once (a new one otherwise: fine for one model).
    """
    out = (forward or Forward())(model, x, batch_size)
    return probabilities(out, target)


def _val_truth(t: Targets, class_names: tuple[str, ...]) -> np.ndarray:
    """Cluster or not, by the training labels (the consensus class for soft / Dirichlet targets)."""
    return t.hard == 0 if class_names[0] == "cluster" else np.isin(t.hard, [0, 1])


def collapsed(call_val: np.ndarray, history: pd.DataFrame) -> str | None:
    """Why a run collapsed: ``"one class"`` (the same cluster call for the whole validation split),
    ``"never improved"`` (no epoch with a lower validation loss than the first), or None.

    Examples
    --------
    >>> h = pd.DataFrame({"val_loss": [1.0, 0.8, 0.9]})
    >>> collapsed(np.array([True, False]), h), collapsed(np.array([True, True]), h)
    (None, 'one class')
    >>> collapsed(np.array([True, False]), pd.DataFrame({"val_loss": [1.0, 1.1, 1.2]}))
    'never improved'
    """
    if len(call_val) and (call_val.all() or not call_val.any()):
        return "one class"
    if len(history) > 1 and int(history["val_loss"].idxmin()) == 0:
        return "never improved"
    return None


def _scores(exp: Experiment, p: np.ndarray, p_cl: np.ndarray, trained: np.ndarray, threshold: float = 0.5,
            fraction: bool = False) -> dict[str, Any]:
    """Test-set scores against spectroscopy at the validation-chosen ``threshold`` (``test``) and at
    0.5 (``test_at_0.5``); agreement with the experts on the overlap candidates this model did not
    train on (all of them with the default hold-out). ``fraction``: the output is an expected vote
    fraction (soft / Dirichlet targets), not P(cluster): no Brier score."""
    df = exp.candidates
    rows = exp.tensors.index_of(df["candidate_id"])
    test = df["in_test"].to_numpy()
    ov = df["in_overlap"].to_numpy() & (df.get("expert_class", pd.Series("", index=df.index)) != "").to_numpy()
    ov &= ~trained
    spec = df["spec_class"].to_numpy()[test] == "cluster"
    out: dict[str, Any] = {"threshold": threshold, "test": binary_scores(spec, p_cl[rows[test]], threshold),
                           "test_at_0.5": binary_scores(spec, p_cl[rows[test]])}
    if fraction:
        out["test"]["brier"] = out["test_at_0.5"]["brier"] = None
    label = None
    if exp.class_names == tuple(CLASSES):
        label = np.asarray(CLASSES, dtype=object)[p[rows[ov]].argmax(axis=1)]
    out["overlap"] = agreement_scores(df["expert_class"].to_numpy()[ov] if ov.any() else [], p_cl[rows[ov]], label)
    return out


def _test_correct(exp: Experiment, p_cl: np.ndarray, threshold: float) -> pd.Series:
    """Per test candidate: is the cluster call (``p_cluster >= threshold``) the spectroscopic class?"""
    df = exp.candidates
    test = df["in_test"].to_numpy()
    rows = exp.tensors.index_of(df["candidate_id"][test])
    return pd.Series((p_cl[rows] >= threshold) == (df["spec_class"].to_numpy()[test] == "cluster"),
                     index=df["candidate_id"][test].to_numpy())


def baselines(exp: Experiment) -> dict[str, Any]:
    """The volunteers' consensus (each method of the labels table) and the experts, scored as the CNN is.

    The volunteers are compared with the experts on every candidate with both an expert class and a
    volunteer label (the overlap, test set included), as ``aggregate`` compares them
    (`hunt_clusters.consensus.compare_with_experts`, threshold 0.5 on p_cluster): one figure everywhere.
    """
    return _baselines(exp)[0]


def _baselines(exp: Experiment) -> tuple[dict[str, Any], dict[str, pd.Series]]:
    df = exp.candidates.set_index("candidate_id")
    test = df.index[df["in_test"]]
    spec = df.loc[test, "spec_class"] == "cluster"
    out: dict[str, Any] = {}
    correct: dict[str, pd.Series] = {}
    if exp.labels_all is not None and "p_cluster" in exp.labels_all:
        for method, lab in exp.labels_all.groupby("method", sort=False):
            lab = lab[lab["label"] != ""].set_index("candidate_id")
            t = test.intersection(lab.index)
            p = lab.loc[t, "p_cluster"].astype(float)
            entry: dict[str, Any] = {"test": binary_scores(spec[t], p)}
            correct[f"volunteers-{method}"] = pd.Series(((p >= 0.5) == spec[t]).to_numpy(), index=t)
            if "expert_class" in df:
                ov = df.index[df["expert_class"] != ""].intersection(lab.index)
                entry["overlap"] = agreement_scores(df.loc[ov, "expert_class"], lab.loc[ov, "p_cluster"].astype(float),
                                                    lab.loc[ov, "label"])
            out[f"volunteers-{method}"] = entry
    if "expert_class" in df:
        t = test[df.loc[test, "expert_class"] != ""]
        call = is_cluster(df.loc[t, "expert_class"])
        out["experts"] = {"test": binary_scores(spec[t], call.astype(float))}
        correct["experts"] = pd.Series(call == spec[t].to_numpy(), index=t)
    for name, c in correct.items():
        lo, hi = accuracy_interval(c.to_numpy(dtype=float))
        out[name]["test"]["accuracy_ci"] = [lo, hi]
    return out, correct


def comparisons(correct: dict[str, pd.Series], *, seed: int = 0) -> list[dict[str, Any]]:
    """The paired comparisons of the mission on the test candidates both classifiers scored:
    votes-hard vs expert-hard, and each vs the volunteers' consensus and vs the experts."""
    pairs = [("votes-hard", "expert-hard")]
    others = [n for n in correct if n.startswith("volunteers-")] + (["experts"] if "experts" in correct else [])
    for cnn in ("votes-hard", "expert-hard"):
        pairs += [(cnn, o) for o in others]
    out = []
    for a, b in pairs:
        if a not in correct or b not in correct:
            continue
        common = correct[a].index.intersection(correct[b].index)
        r = paired_comparison(correct[a][common].to_numpy(), correct[b][common].to_numpy(), seed=seed)
        out.append({"a": a, "b": b, **r})
    return out


def counts(df: pd.DataFrame) -> dict[str, Any]:
    """Candidates by role, counted one way everywhere: the overlap (classified by experts and
    volunteers) INCLUDES the spectroscopic test candidates it holds (``overlap_test``)."""
    roles = df["role"].value_counts()
    return {"candidates": int(len(df)), "train": int(roles.get("train", 0)), "overlap": int(df["in_overlap"].sum()),
            "overlap_test": int((df["in_overlap"] & df["in_test"]).sum()), "overlap_includes_test": True,
            "test": int(df["in_test"].sum()),
            "test_clusters": int((df["in_test"] & (df["spec_class"] == "cluster")).sum())}


def _image_paths(sources: tuple[str, ...]) -> dict[str, str]:
    """candidate_id -> subject picture, from the manifest.csv of each render folder among the sources."""
    out: dict[str, str] = {}
    for s in sources:
        p = Path(s)
        folder = p if p.is_dir() else p.parent
        man = folder / "manifest.csv"
        if not man.exists():
            continue
        m = pd.read_csv(man, dtype=str, keep_default_na=False)
        if "image" in m and "#candidate_id" in m:
            for cid, img in zip(m["#candidate_id"], m["image"]):
                out.setdefault(cid, str((folder / img).resolve()))
    return out


def train_comparison(exp: Experiment, config: TrainConfig, out_dir: str | Path, *, progress: bool = False,
                     command: str | None = None, inputs: dict[str, Any] | None = None,
                     overwrite: bool = False) -> dict[str, Any]:
    """Train every model of ``config`` ``config.runs`` times, score it, and write the run folder.

    The folder (``docs/formats.md``, "Training run folder") is written as ``<out_dir>.part`` and
    renamed when everything is in it: an interrupted run leaves no half-written run folder. With
    ``overwrite``, an existing ``out_dir`` is replaced only if train-on-votes wrote it and it holds
    nothing else (`hunt_clusters._outputs`).

    Returns
    -------
    dict
        The content of ``metrics.json``.
    """
    from .._interrupt import deferred
    from .._outputs import check_folder, remove_written, replace_folder

    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise InputError(f"{out}: already exists; choose another --out or pass --force to replace it")
    # only a folder that train-on-votes wrote is ever replaced; any other file in it is never removed
    check_folder(out, "train-on-votes", replace=True)
    part = check_folder(out.with_name(out.name + ".part"), "train-on-votes")
    remove_written(part, "train-on-votes")
    part.mkdir(parents=True)
    try:
        with deferred():  # Ctrl-C stops at the end of a batch, not inside TensorFlow
            metrics = _train_all(exp, config, part, progress=progress, command=command, inputs=inputs or {})
    except BaseException:
        remove_written(part, "train-on-votes")
        raise
    replace_folder(part, out, "train-on-votes")
    return metrics


def _train_all(exp: Experiment, config: TrainConfig, part: Path, *, progress: bool, command: str | None,
               inputs: dict[str, Any]) -> dict[str, Any]:
    t_start = time.perf_counter()
    x = resize(exp.tensors.x, config.input_size)
    n_out = len(exp.class_names)
    df = exp.candidates
    rows = exp.tensors.index_of(df["candidate_id"])
    preds, hists, ens_tables, models_m = [], [], [], {}
    correct_ens: dict[str, pd.Series] = {}
    fit_seconds = predict_seconds = 0.0
    forward = Forward()  # one traced graph per architecture for every run's predictions
    epochs_total = cand_epochs = 0
    for t in exp.targets:
        (part / t.model).mkdir()
        runs, probs = [], []
        # what each candidate is to this model: trained on (train / val), held out, or unused
        pos = pd.Index(rows).get_indexer(t.rows)
        trained = np.zeros(len(df), dtype=bool)
        trained[pos] = True
        base_split = df["role"].where(df["role"] != "train", "unused").to_numpy(dtype=object)
        fraction = t.target != "hard"
        thresholds, correct_runs = [], []
        n_collapsed = n_retried = 0
        for run in range(config.runs):
            for attempt in range(config.retries + 1):
                model, h, val, facts = fit_one(x, t, config, run, n_out, progress=progress, attempt=attempt)
                fit_seconds += facts["seconds"]
                epochs_total += facts["epochs"]
                cand_epochs += facts["epochs"] * facts["n_train"]
                t0 = time.perf_counter()
                p = predict_proba(model, x, t.target, forward=forward)
                facts["predict_seconds"] = round(time.perf_counter() - t0, 3)
                predict_seconds += facts["predict_seconds"]
                p_cl = p_cluster_of(p, exp.class_names)
                val_truth = _val_truth(t, exp.class_names)[val]
                why = collapsed(p_cl[t.rows[val]] >= 0.5, h)
                facts["collapsed"] = why
                facts["attempt"] = attempt
                if why is None:
                    break
                n_collapsed += 1
                log.warning("%s run %d/%d collapsed (%s)%s", t.model, run + 1, config.runs, why,
                            "; retried with a fresh seed" if attempt < config.retries else "; kept, flagged")
                n_retried += attempt < config.retries
            threshold = choose_threshold(val_truth, p_cl[t.rows[val]])
            thresholds.append(threshold)
            model.save(part / t.model / f"run_{run:02d}.keras")
            facts.update(_scores(exp, p, p_cl, trained, threshold, fraction))
            correct_runs.append(_test_correct(exp, p_cl, threshold))
            runs.append(facts)
            probs.append(p)
            split = base_split.copy()
            split[pos[~val]], split[pos[val]] = "train", "val"
            pr = pd.DataFrame({"model": t.model, "run": run, "candidate_id": df["candidate_id"], "split": split,
                               "p_cluster": p_cl[rows]})
            for k, name in enumerate(exp.class_names):
                pr[f"p_{name}"] = p[rows, k]
            preds.append(pr)
            h.insert(0, "run", run)
            h.insert(0, "model", t.model)
            hists.append(h)
            log.info("%s run %d/%d: %d epochs, %.1f s, test accuracy %.3f", t.model, run + 1, config.runs,
                     facts["epochs"], facts["seconds"], facts["test"]["accuracy"])
        stack = np.stack(probs)
        p_mean = stack.mean(axis=0)
        pcl_runs = np.stack([p_cluster_of(s, exp.class_names) for s in stack])
        test_rows = [r["test"] for r in runs]
        ov_rows = [r["overlap"] for r in runs]
        tm, ts = mean_std(test_rows, TEST_METRICS)
        om, os_ = mean_std(ov_rows, ("accuracy", "kappa", "accuracy_5class", "kappa_5class"))
        ens_threshold = float(np.mean(thresholds))
        ens_scores = _scores(exp, p_mean, pcl_runs.mean(axis=0), trained, ens_threshold, fraction)
        ens_correct = _test_correct(exp, pcl_runs.mean(axis=0), ens_threshold)
        ens_scores["test"]["accuracy_ci"] = list(accuracy_interval(ens_correct.to_numpy(dtype=float), seed=config.seed))
        correct_ens[t.model] = ens_correct
        runs_correct = np.stack([c.to_numpy(dtype=float) for c in correct_runs])
        n_final = sum(r["collapsed"] is not None for r in runs)
        models_m[t.model] = {
            "label_source": t.source, "target": t.target, "output": TARGETS[t.target],
            "output_means": "expected vote fraction for a cluster class" if fraction else "P(cluster)",
            "method": exp.method if t.source == "votes" else None, "architecture": config.architecture,
            "n_train": int(len(t.rows)), "runs": runs, "test_mean": tm, "test_std": ts,
            "test_accuracy_ci": list(accuracy_interval(runs_correct, seed=config.seed)),
            "thresholds": thresholds,
            "collapsed": {"runs_collapsed": n_collapsed, "retried": n_retried, "kept_collapsed": n_final,
                          "retries_allowed": config.retries},
            "overlap_mean": om, "overlap_std": os_,
            "ensemble": ens_scores,
        }
        ens = pd.DataFrame({"model": t.model, "candidate_id": df["candidate_id"], "split": base_split,
                            "p_cluster": pcl_runs.mean(axis=0)[rows], "p_cluster_std": pcl_runs.std(axis=0)[rows]})
        ens.loc[trained, "split"] = "train"
        for k, name in enumerate(exp.class_names):
            ens[f"p_{name}"] = p_mean[rows, k]
        ens_tables.append(ens)
    ensemble = pd.concat(ens_tables, ignore_index=True)
    n_pred = len(x) * config.runs * len(exp.targets)
    base, base_correct = _baselines(exp)
    metrics: dict[str, Any] = {
        "holdout": "overlap+spec" if config.holdout == "overlap" else "spec",
        "head": config.head, "class_names": list(exp.class_names),
        "n": counts(df),
        "models": models_m,
        "baselines": base,
        "comparisons": comparisons({**correct_ens, **base_correct}, seed=config.seed),
        "collapsed_runs": {m: v["collapsed"] for m, v in models_m.items()},
        "timing": {"total_seconds": round(time.perf_counter() - t_start, 2), "fit_seconds": round(fit_seconds, 2),
                   "epochs": epochs_total,
                   "seconds_per_epoch": round(fit_seconds / max(epochs_total, 1), 4),
                   "train_candidates_per_second": round(cand_epochs / max(fit_seconds, 1e-9), 1),
                   "predict_candidates_per_second": round(n_pred / max(predict_seconds, 1e-9), 1),
                   "input_size": config.input_size, "tensor_size": int(exp.tensors.x.shape[1])},
        "versions": versions(),
    }
    _write_folder(part, exp, config, metrics, preds, hists, ensemble, command, inputs)
    return metrics


def _write_folder(part: Path, exp: Experiment, config: TrainConfig, metrics: dict[str, Any],
                  preds: list[pd.DataFrame], hists: list[pd.DataFrame], ensemble: pd.DataFrame,
                  command: str | None, inputs: dict[str, Any]) -> None:
    pd.concat(preds, ignore_index=True).to_csv(part / "predictions.csv", index=False, float_format="%.6g")
    ensemble.to_csv(part / "ensemble.csv", index=False, float_format="%.6g")
    pd.concat(hists, ignore_index=True).to_csv(part / "history.csv", index=False, float_format="%.6g")
    cands = exp.candidates.copy()
    images = _image_paths(exp.tensors.sources)
    cands["image"] = cands["candidate_id"].map(images).fillna("")
    cands[[c for c in CANDIDATE_COLUMNS if c in cands]].to_csv(part / "candidates.csv", index=False)
    if exp.labels_all is not None:
        exp.labels_all.to_csv(part / "labels.csv", index=False)
        agg = Path(inputs.get("labels", "")).with_name("metrics.json") if inputs.get("labels") else None
        if agg is not None and agg.exists():
            shutil.copyfile(agg, part / "aggregate_metrics.json")
    config_doc = {
        "config": config.as_dict(), "class_names": list(exp.class_names), "method": exp.method,
        "models": [{"name": t.model, "label_source": t.source, "target": t.target, "output": TARGETS[t.target]}
                   for t in exp.targets],
        "seeds": [config.seed + r for r in range(config.runs)], "inputs": inputs, "command": command,
        "versions": metrics["versions"], "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (part / "config.json").write_text(json.dumps(config_doc, indent=2))
    (part / "metrics.json").write_text(json.dumps(metrics, indent=2))


__all__ = ["CANDIDATE_COLUMNS", "RETRY_SEED_STEP", "Forward", "baselines", "collapsed", "comparisons", "counts",
           "fit_one", "p_cluster_of", "predict_proba", "train_comparison",
           "versions"]
