"""Who is trained on and who is held out, and the training targets of each label source."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .. import CLASSES
from .._errors import InputError
from ._config import TrainConfig
from ._data import TensorSet
from ._evaluate import is_cluster

log = logging.getLogger(__name__)

#: Roles of a candidate in a comparison.
ROLES: tuple[str, ...] = ("train", "overlap", "test", "unused")


def read_catalogue(path: str | Path) -> pd.DataFrame:
    """The candidate catalogue as a pandas table (any format `hunt_clusters.sky.read_candidates` reads)."""
    from ..sky import read_candidates

    t = read_candidates(path, validate=False)
    keep = [c for c in t.colnames if t[c].ndim == 1]
    df = t[keep].to_pandas()
    for c in ("expert_class", "spec_class", "true_class"):
        if c in df:
            df[c] = df[c].fillna("").astype(str).str.strip().str.lower()
    df["candidate_id"] = df["candidate_id"].astype(str)
    return df


def read_labels(path: str | Path, method: str | None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """``labels.csv`` of ``aggregate`` -> (all rows, the rows of one consensus method, its name)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: labels table not found")
    try:
        df = pd.read_csv(p, dtype={"candidate_id": str, "label": str, "method": str}, keep_default_na=False,
                         na_values={"n_votes": [""], "p_cluster": [""], "agreement": [""]})
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{p}: cannot read the labels table ({exc})") from None
    missing = [c for c in ("candidate_id", "label") if c not in df]
    if missing:
        raise InputError(f"{p}: needs columns candidate_id and label (hunt-clusters aggregate's labels.csv); "
                         f"missing {', '.join(missing)}")
    if "method" not in df:
        df["method"] = "given"
    methods = list(dict.fromkeys(df["method"]))
    if method is None:
        method = "majority" if "majority" in methods else methods[0] if len(methods) == 1 else None
        if method is None:
            raise InputError(f"{p}: holds the labels of {', '.join(methods)}: choose one with --method")
    if method not in methods:
        raise InputError(f"{p}: no labels of method {method!r}; it holds {', '.join(methods)}")
    one = df[df["method"] == method]
    dup = one["candidate_id"].duplicated()
    if dup.any():
        raise InputError(f"{p}: candidate {one['candidate_id'][dup].iloc[0]!r} has two {method} labels")
    bad = (one["label"] != "") & ~one["label"].isin(CLASSES)
    if bad.any():
        i = int(one.index[bad][0])
        raise InputError(f"{p}: row {i + 1}: label {one['label'][i]!r} is not one of {', '.join(CLASSES)}")
    return df, one.set_index("candidate_id"), method


@dataclasses.dataclass(frozen=True)
class Targets:
    """The training targets of one (label source, target, head) over the training candidates."""

    model: str           # e.g. "votes-hard"
    source: str
    target: str
    rows: np.ndarray     # rows of the TensorSet trained on
    y: np.ndarray        # (n, K): one-hot, fractions or counts
    weight: np.ndarray   # (n,) sample weights (balanced classes for hard targets, 1 otherwise)
    hard: np.ndarray     # (n,) class index, for stratified validation splits


@dataclasses.dataclass(frozen=True)
class Experiment:
    """Candidates with their roles, and the targets of every model of a `TrainConfig`."""

    candidates: pd.DataFrame   # one row per tensor: candidate_id, role, in_overlap, in_test, classes...
    tensors: TensorSet
    labels_all: pd.DataFrame | None
    votes: pd.DataFrame | None  # the rows of one method, indexed by candidate_id
    method: str | None
    class_names: tuple[str, ...]
    targets: tuple[Targets, ...]


def _class_names(head: str) -> tuple[str, ...]:
    return tuple(CLASSES) if head == "five" else ("cluster", "non-cluster")


def _flag(df: pd.DataFrame, col: str) -> np.ndarray | None:
    if col not in df:
        return None
    v = df[col]
    if v.dtype == bool:
        return v.to_numpy()
    return v.astype(str).str.strip().str.lower().isin(("true", "1", "yes")).to_numpy()


def prepare_experiment(tensors: TensorSet, config: TrainConfig, *, labels: str | Path | None = None,
                       catalogue: str | Path | pd.DataFrame | None = None,
                       skip_missing: bool = False) -> Experiment:
    """Join tensors, labels and catalogue; assign roles; build every model's targets; check it all.

    Roles: ``test`` (the spectroscopic test set: ``in_test``, else a non-empty ``spec_class``),
    ``overlap`` (classified by both experts and volunteers: ``in_expert & in_zooniverse``, else an
    expert class and a vote label), ``train`` (everything else with a label of some source) and
    ``unused``. With ``holdout="overlap"`` (default) neither test nor overlap candidates are ever
    trained on; with ``holdout="spec"`` the overlap is (the paper's split).

    Raises
    ------
    InputError
        Labels for candidates without tensors (or tensors not in the catalogue) unless
        ``skip_missing``; a label source without its column; a target without vote counts;
        a class missing from a model's training data; no test set.
    """
    if "votes" not in config.label_sources and set(config.targets) - {"hard"}:
        bad = next(t for t in config.targets if t != "hard")
        raise InputError(f"--target {bad} needs vote counts; --label-source {','.join(config.label_sources)} gives "
                         "one class per candidate: use --target hard, or add votes to --label-source")
    if isinstance(catalogue, pd.DataFrame):
        cat = catalogue.copy()
    elif catalogue is not None:
        cat = read_catalogue(catalogue)
    elif tensors.catalogue is not None:
        cat = tensors.catalogue.copy()
    else:
        raise InputError("no catalogue: give --catalogue (a candidate table with expert_class, spec_class...)")
    if tensors.catalogue is not None and catalogue is not None:
        extra = tensors.catalogue.set_index("candidate_id")
        cat = cat.set_index("candidate_id").combine_first(extra).reset_index()
    cat["candidate_id"] = cat["candidate_id"].astype(str)
    for c in ("expert_class", "spec_class", "true_class"):
        if c in cat:
            cat[c] = cat[c].fillna("").astype(str).str.strip().str.lower()
    cat = cat.drop_duplicates("candidate_id").set_index("candidate_id")

    labels_all, votes, method = (None, None, None)
    if labels is not None:
        labels_all, votes, method = read_labels(labels, config.method)
    elif "votes" in config.label_sources:
        raise InputError("--label-source votes needs the labels table of 'hunt-clusters aggregate' (--labels)")

    ids = pd.Index(tensors.candidate_id)
    not_in_cat = ids.difference(cat.index)
    if len(not_in_cat) and not skip_missing:
        raise InputError(f"{len(not_in_cat)} tensor(s) are of candidates not in the catalogue, e.g. "
                         f"{not_in_cat[0]!r} (from {', '.join(tensors.sources)}): give the catalogue they were "
                         "rendered from, or --skip-missing to ignore them")
    if votes is not None:
        voted = votes.index[votes["label"] != ""]
        no_tensor = voted.difference(ids)
        if len(no_tensor) and not skip_missing:
            raise InputError(f"{len(no_tensor)} labelled candidate(s) have no tensor, e.g. {no_tensor[0]!r}: "
                             f"render them (tensors from {', '.join(tensors.sources)}), or --skip-missing")
    keep = ids.isin(cat.index)
    rows_all = np.flatnonzero(keep)
    df = cat.reindex(pd.Index(ids[keep], name="candidate_id")).reset_index()
    df["row"] = rows_all

    expert = df["expert_class"].to_numpy(dtype=str) if "expert_class" in df else np.full(len(df), "")
    vote_label = (votes["label"].reindex(df["candidate_id"]).fillna("").to_numpy(dtype=str)
                  if votes is not None else np.full(len(df), ""))
    df["vote_label"] = vote_label
    in_test = _flag(df, "in_test")
    if in_test is None:
        in_test = (df["spec_class"] != "").to_numpy() if "spec_class" in df else np.zeros(len(df), bool)
    in_exp, in_zoo = _flag(df, "in_expert"), _flag(df, "in_zooniverse")
    if in_exp is not None and in_zoo is not None:
        in_overlap = in_exp & in_zoo
    else:
        in_overlap = (expert != "") & (vote_label != "")
    if "spec_class" not in df:
        df["spec_class"] = ""
    spec = df["spec_class"].to_numpy(dtype=str)
    if not in_test.any():
        raise InputError("no spectroscopic test set: the catalogue has no in_test flags and no spec_class values "
                         "(a Kosiba2020 layout needs its test.csv)")
    if (in_test & (spec == "")).any():
        n = int((in_test & (spec == "")).sum())
        raise InputError(f"{n} test candidate(s) have no spec_class (cluster / non-cluster), e.g. "
                         f"{df['candidate_id'][np.flatnonzero(in_test & (spec == ''))[0]]!r}")
    held = in_test | (in_overlap if config.holdout == "overlap" else False)
    role = np.where(in_test, "test", np.where(in_overlap, "overlap", "unused")).astype(object)
    df["in_test"], df["in_overlap"] = in_test, in_overlap

    if votes is not None and labels is not None:
        shaped = _shaped_by_held_out(votes, Path(labels), set(df["candidate_id"][held]))
        if shaped:
            log.info("%d vote labels come from a fit whose gold holds a held-out candidate: not trained on",
                     len(shaped))
            votes = votes.copy()
            votes.loc[votes.index.isin(shaped), "label"] = ""
    names = _class_names(config.head)
    targets = []
    trained_any = np.zeros(len(df), dtype=bool)
    for source, target in config.models:
        targets.append(_targets(df, votes, source, target, config, names, ~held))
    targets = _equal_sizes(targets, config)
    if "truth" in config.label_sources:  # label quality apart from the number of candidates
        by_source = {t.source: t for t in targets if t.target == "hard"}
        for source in ("votes", "expert"):
            if source in by_source and "truth" in by_source:
                only = np.isin(df["row"].to_numpy(), by_source[source].rows)
                t = _targets(df, votes, "truth", "hard", config, names, only)
                targets.append(dataclasses.replace(t, model=f"truth-hard-{source}-set"))
    for t in targets:
        trained_any[np.isin(df["row"].to_numpy(), t.rows)] = True
    role = np.where(trained_any, "train", role)
    df["role"] = role
    df = df.drop(columns="row")
    leaked = set(df["candidate_id"][held]) & set(tensors.candidate_id[np.concatenate([t.rows for t in targets])])
    if leaked:  # cannot happen by construction; checked because the comparison is worthless if it does
        raise RuntimeError(f"held-out candidates reached training: {sorted(leaked)[:5]}")
    log.info("candidates: %s", ", ".join(f"{k} {v}" for k, v in df["role"].value_counts().items()))
    return Experiment(df, tensors, labels_all, votes, method, names, tuple(targets))


def _equal_sizes(targets: list[Targets], config: TrainConfig) -> list[Targets]:
    """With ``config.sizes == "equal"``: each model's candidates subsampled to the smallest model's
    number, stratified by class (each class keeps its share, at least one), drawn with ``config.seed``."""
    if config.sizes != "equal" or len(targets) < 2:
        return targets
    n = min(len(t.rows) for t in targets)
    out = []
    for t in targets:
        if len(t.rows) == n:
            out.append(t)
            continue
        rng = np.random.default_rng(config.seed)
        classes, counts = np.unique(t.hard, return_counts=True)
        share = np.maximum(1, np.floor(counts * n / len(t.hard)).astype(int))
        for i in np.argsort(-(counts * n / len(t.hard) - share))[: max(0, n - int(share.sum()))]:
            share[i] += 1  # largest remainders first
        while share.sum() > n:
            share[np.argmax(share)] -= 1
        keep = np.sort(np.concatenate([rng.choice(np.flatnonzero(t.hard == c), size=k, replace=False)
                                       for c, k in zip(classes, share)]))
        weight = _weights(t.hard[keep], t.y.shape[1], config) if t.target == "hard" else t.weight[keep]
        out.append(dataclasses.replace(t, rows=t.rows[keep], y=t.y[keep], weight=weight, hard=t.hard[keep]))
    log.info("every model trains on %d candidates (--sizes equal)", n)
    return out


def _weights(hard: np.ndarray, k: int, config: TrainConfig) -> np.ndarray:
    """Sample weights of the hard target: sklearn's "balanced" class weights, or ones."""
    if config.class_weight == "none":
        return np.ones(len(hard), dtype=np.float32)
    counts = np.bincount(hard, minlength=k).astype(np.float64)
    return (len(hard) / (k * counts[hard])).astype(np.float32)


def _shaped_by_held_out(votes: pd.DataFrame, labels: Path, held: set[str]) -> set[str]:
    """Candidates whose vote label comes from a consensus fit with a held-out candidate in its gold.

    ``aggregate`` cross-fits (``labels.csv`` columns ``fold`` and ``n_gold``, the folds in ``folds.csv``
    beside it): the label of a subject of fold ``f`` comes from a fit whose gold is every
    expert-classified subject outside fold ``f``; a subject without an expert class (fold -1) from a
    fit with no gold. A training label must not carry what the experts said of a candidate the CNN
    is then scored on.
    """
    if "n_gold" not in votes:
        return set()
    n_gold = pd.to_numeric(votes["n_gold"], errors="coerce").fillna(0)
    from_gold = votes.index[(n_gold > 0).to_numpy() & (votes["label"] != "").to_numpy()]
    if not len(from_gold):
        return set()
    folds_path = labels.with_name("folds.csv")
    if not folds_path.exists():
        raise InputError(f"{labels}: labels from consensus fits with gold (n_gold > 0) but no {folds_path.name} "
                         "beside it to tell which candidates were gold; keep aggregate's folder together")
    folds = pd.read_csv(folds_path, dtype={"candidate_id": str})
    held_folds = set(folds.loc[folds["candidate_id"].isin(held), "fold"])
    fold_of = pd.to_numeric(votes.loc[from_gold, "fold"], errors="coerce").fillna(-1).astype(int)
    # the fit of fold f had as gold every fold but f: clean only if no held-out candidate is outside f
    clean = fold_of.map(lambda f: held_folds <= {f})
    return set(fold_of.index[~clean.to_numpy()])


def _targets(df: pd.DataFrame, votes: pd.DataFrame | None, source: str, target: str, config: TrainConfig,
             names: tuple[str, ...], trainable: np.ndarray) -> Targets:
    model = f"{source}-{target}"
    k = len(names)
    if source == "votes":
        assert votes is not None
        v = votes.reindex(df["candidate_id"])
        cls = v["label"].fillna("").to_numpy(dtype=str)
        frac_cols = [f"frac_{c}" for c in CLASSES]
        if target != "hard":
            missing = [c for c in ["n_votes", *frac_cols] if c not in votes]
            if missing:
                raise InputError(f"--target {target} needs the vote counts (n_votes and frac_<class> columns of "
                                 f"aggregate's labels.csv); the labels lack {', '.join(missing)}")
        frac = v[frac_cols].to_numpy(dtype=np.float64) if target != "hard" else None
        n_votes = v["n_votes"].to_numpy(dtype=np.float64) if target != "hard" else None
    else:
        col = "expert_class" if source == "expert" else "true_class"
        if col not in df or not (df[col] != "").any():
            hint = " (only a mock catalogue has it)" if source == "truth" else ""
            raise InputError(f"--label-source {source} needs a {col} column in the catalogue{hint}")
        if target != "hard":
            raise InputError(f"--target {target} needs vote counts; --label-source {source} gives one class per "
                             "candidate: use --target hard")
        cls = df[col].to_numpy(dtype=str)
        frac = n_votes = None
    ok = trainable & (cls != "")
    if target != "hard":
        ok &= np.nan_to_num(n_votes, nan=0.0) > 0
    idx = np.flatnonzero(ok)
    cls = cls[idx]
    if config.head == "five":
        hard = np.array([CLASSES.index(c) for c in cls], dtype=np.int64)
    else:
        hard = np.where(is_cluster(cls), 0, 1).astype(np.int64)
    if target == "hard":
        y = np.eye(k, dtype=np.float32)[hard]
    else:
        f = frac[idx]
        if config.head == "binary":
            f = np.column_stack([f[:, 0] + f[:, 1], f[:, 2:].sum(axis=1)])
        f = f / f.sum(axis=1, keepdims=True)
        y = (f if target == "soft" else np.round(f * n_votes[idx, None])).astype(np.float32)
    present = y.sum(axis=0) > 0
    if len(idx) == 0:
        raise InputError(f"{model}: no candidate to train on (every labelled candidate is held out or unlabelled)")
    if not present.all():
        absent = [names[i] for i in np.flatnonzero(~present)]
        raise InputError(f"{model}: class(es) {', '.join(absent)} missing from the training data "
                         f"({len(idx)} candidates): the model could never predict them; use --head binary "
                         "or more labels")
    weight = _weights(hard, k, config) if target == "hard" else np.ones(len(idx), dtype=np.float32)
    return Targets(model, source, target, df["row"].to_numpy()[idx], y, weight, hard)


__all__ = ["ROLES", "Experiment", "Targets", "prepare_experiment", "read_catalogue", "read_labels"]
