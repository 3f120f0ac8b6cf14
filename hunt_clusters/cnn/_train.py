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
from ._evaluate import TEST_METRICS, agreement_scores, binary_scores, is_cluster, mean_std
from ._experiment import Experiment, Targets
from ._losses import TARGETS, loss_for, probabilities

log = logging.getLogger(__name__)

#: Catalogue columns copied into the run folder's candidates.csv (for the report), where present.
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "candidate_id", "ra", "dec", "role", "in_overlap", "in_test", "redshift", "count_rate", "net_counts",
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
            progress: bool = False) -> tuple[Any, pd.DataFrame, np.ndarray, dict[str, Any]]:
    """Train one model of one run: seed ``config.seed + run``, its own validation split.

    ``x`` are the tensors at the input size (all candidates; ``t.rows`` picks the training ones).
    Returns the fitted model, its history, the validation mask over ``t.rows`` and run facts.
    """
    import keras

    from .._interrupt import check, stop_on_interrupt
    from ._models import make_model

    seed = config.seed + run
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


def _scores(exp: Experiment, p: np.ndarray, p_cl: np.ndarray, trained: np.ndarray) -> dict[str, Any]:
    """Test-set scores against spectroscopy; agreement with the experts on the overlap candidates
    this model did not train on (all of them with the default hold-out)."""
    df = exp.candidates
    rows = exp.tensors.index_of(df["candidate_id"])
    test = df["in_test"].to_numpy()
    ov = df["in_overlap"].to_numpy() & (df.get("expert_class", pd.Series("", index=df.index)) != "").to_numpy()
    ov &= ~trained
    out: dict[str, Any] = {"test": binary_scores(df["spec_class"].to_numpy()[test] == "cluster", p_cl[rows[test]])}
    label = None
    if exp.class_names == tuple(CLASSES):
        label = np.asarray(CLASSES, dtype=object)[p[rows[ov]].argmax(axis=1)]
    out["overlap"] = agreement_scores(df["expert_class"].to_numpy()[ov] if ov.any() else [], p_cl[rows[ov]], label)
    return out


def baselines(exp: Experiment) -> dict[str, Any]:
    """The volunteers' consensus (each method of the labels table) and the experts, scored as the CNN is."""
    df = exp.candidates.set_index("candidate_id")
    test = df.index[df["in_test"]]
    spec = df.loc[test, "spec_class"] == "cluster"
    out: dict[str, Any] = {}
    if exp.labels_all is not None and "p_cluster" in exp.labels_all:
        for method, lab in exp.labels_all.groupby("method", sort=False):
            lab = lab[lab["label"] != ""].set_index("candidate_id")
            t = test.intersection(lab.index)
            entry: dict[str, Any] = {"test": binary_scores(spec[t], lab.loc[t, "p_cluster"].astype(float))}
            if "expert_class" in df:
                ov = df.index[df["in_overlap"] & (df["expert_class"] != "")].intersection(lab.index)
                entry["overlap"] = agreement_scores(df.loc[ov, "expert_class"], lab.loc[ov, "p_cluster"].astype(float),
                                                    lab.loc[ov, "label"])
            out[f"volunteers-{method}"] = entry
    if "expert_class" in df:
        t = test[df.loc[test, "expert_class"] != ""]
        out["experts"] = {"test": binary_scores(spec[t], is_cluster(df.loc[t, "expert_class"]).astype(float))}
    return out


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
        for run in range(config.runs):
            model, h, val, facts = fit_one(x, t, config, run, n_out, progress=progress)
            fit_seconds += facts["seconds"]
            epochs_total += facts["epochs"]
            cand_epochs += facts["epochs"] * facts["n_train"]
            t0 = time.perf_counter()
            p = predict_proba(model, x, t.target, forward=forward)
            facts["predict_seconds"] = round(time.perf_counter() - t0, 3)
            predict_seconds += facts["predict_seconds"]
            model.save(part / t.model / f"run_{run:02d}.keras")
            p_cl = p_cluster_of(p, exp.class_names)
            facts.update(_scores(exp, p, p_cl, trained))
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
        models_m[t.model] = {
            "label_source": t.source, "target": t.target, "output": TARGETS[t.target],
            "method": exp.method if t.source == "votes" else None, "architecture": config.architecture,
            "n_train": int(len(t.rows)), "runs": runs, "test_mean": tm, "test_std": ts,
            "overlap_mean": om, "overlap_std": os_,
            "ensemble": _scores(exp, p_mean, pcl_runs.mean(axis=0), trained),
        }
        ens = pd.DataFrame({"model": t.model, "candidate_id": df["candidate_id"], "split": base_split,
                            "p_cluster": pcl_runs.mean(axis=0)[rows], "p_cluster_std": pcl_runs.std(axis=0)[rows]})
        ens.loc[trained, "split"] = "train"
        for k, name in enumerate(exp.class_names):
            ens[f"p_{name}"] = p_mean[rows, k]
        ens_tables.append(ens)
    ensemble = pd.concat(ens_tables, ignore_index=True)
    n_pred = len(x) * config.runs * len(exp.targets)
    roles = df["role"].value_counts()
    metrics: dict[str, Any] = {
        "holdout": "overlap+spec" if config.holdout == "overlap" else "spec",
        "head": config.head, "class_names": list(exp.class_names),
        "n": {"candidates": int(len(df)), "train": int(roles.get("train", 0)), "overlap": int(df["in_overlap"].sum()),
              "test": int(df["in_test"].sum()),
              "test_clusters": int((df["in_test"] & (df["spec_class"] == "cluster")).sum())},
        "models": models_m,
        "baselines": baselines(exp),
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


__all__ = ["CANDIDATE_COLUMNS", "Forward", "baselines", "fit_one", "p_cluster_of", "predict_proba", "train_comparison",
           "versions"]
