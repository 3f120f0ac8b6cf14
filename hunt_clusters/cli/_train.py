"""``hunt-clusters train-on-votes``: train the CNN on the volunteers' labels and compare it with the experts."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from ._paths import check_output_dir, positive_float, positive_int
from ._say import say

NAME = "train-on-votes"
HELP = "train the CNN on the volunteers' labels and compare it with the experts and spectroscopy"
DESCRIPTION = """\
The experiment of Kosiba et al. (2020), repeatable: train a CNN on what volunteers said, and on what
experts said, with the same architecture, and test both on the spectroscopically confirmed clusters
and non-clusters; compare both with the experts on the candidates both classified.

Inputs: the CNN tensors of 'hunt-clusters render' (a subject set folder with tensors.npz; give
several folders to add candidates that volunteers did not see, e.g. the expert-only ones), the
labels table of 'hunt-clusters aggregate' (labels.csv) and the candidate catalogue (expert_class,
spec_class, in_test...). The published Kosiba2020 layout (<image_id>.png + train.csv/test.csv) is
read too: its CSV classes are the expert labels and test.csv the test set.

Hold-out (--holdout): by default the candidates classified by both experts and volunteers (the
overlap, 404 in the paper) and the spectroscopic test set are never trained on, so that the CNN
can be compared fairly with the experts on the overlap and with spectroscopy on the test set;
'--holdout spec' trains on everything but the test set (the paper's split). The overlap includes
the test set: every count printed says so.

Training labels never carry an expert label of a held-out candidate: aggregate cross-fits the
skill-aware methods (--folds), and a vote label is trained on only if the consensus fit that gave
it had no held-out candidate in its gold. With the default hold-out that means the training labels
come from the fit with no gold at all (the overlap is the whole of the gold); with '--holdout spec'
the overlap's labels, whose fits had test candidates as gold, are not trained on either.

Targets (--target, for vote labels): hard (the consensus class, cross-entropy, balanced class
weights), soft (the vote fractions as target distribution), dirichlet (Dirichlet-multinomial
likelihood of the vote counts, as Zoobot trains on Galaxy Zoo). Expert and truth labels are one
class per candidate: they are trained with the hard target. p_cluster = p(low-z) + p(hi-z).

Each model is trained --runs times (different seeds and validation splits); the run folder holds
the models, predictions.csv, ensemble.csv, history.csv, metrics.json (mean and spread over the
runs of accuracy, precision, recall, F1, ROC AUC, Brier score), config.json and candidates.csv,
ready for 'hunt-clusters report' and 'hunt-clusters predict'.

examples:
  hunt-clusters train-on-votes demo/subject_set demo/expert_set --labels demo/aggregate/labels.csv \\
      --catalogue demo/mock_survey/candidates.ecsv --out demo/cnn
  hunt-clusters train-on-votes survey/subject_set --labels results/labels.csv --catalogue survey/candidates.ecsv \\
      --label-source votes,expert,truth --target hard,soft,dirichlet --runs 10 --out comparison
  hunt-clusters train-on-votes Kosiba2020/ --label-source expert --holdout spec --out kosiba_run
"""


def _choices(valid: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def parse(text: str) -> tuple[str, ...]:
        items = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
        bad = [t for t in items if t not in valid]
        if not items or bad:
            raise argparse.ArgumentTypeError(
                f"{', '.join(bad) or repr(text)}: choose one or more of {', '.join(valid)}, comma-separated")
        return items
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..cnn._config import ARCHITECTURES, CLASS_WEIGHTS, HEADS, HOLDOUTS, LABEL_SOURCES, SIZES, TARGETS

    d = _defaults()
    parser.add_argument("tensors", nargs="+", type=Path, metavar="TENSORS",
                        help="render folder(s) with tensors.npz, .npz file(s), or a Kosiba2020 layout folder")
    parser.add_argument("--labels", type=Path, metavar="CSV", help="labels.csv of 'hunt-clusters aggregate'")
    parser.add_argument("--catalogue", type=Path, metavar="TABLE",
                        help="candidate catalogue (ECSV, CSV, FITS) with expert_class, spec_class, in_test...")
    parser.add_argument("--out", "-o", type=Path, required=True, metavar="DIR", help="run folder (created)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing run folder (only one that train-on-votes wrote: a folder "
                             "holding any other file is refused and left as it is)")
    parser.add_argument("--skip-missing", action="store_true",
                        help="ignore labelled candidates without tensors and tensors not in the catalogue "
                             "(default: a clear error)")
    what = parser.add_argument_group("what is trained")
    what.add_argument("--label-source", type=_choices(LABEL_SOURCES), default=d.label_sources, metavar="LIST",
                      help=f"comma-separated, among {', '.join(LABEL_SOURCES)} (default "
                           f"{','.join(d.label_sources)}; truth only with a mock catalogue)")
    what.add_argument("--target", type=_choices(tuple(TARGETS)), default=d.targets, metavar="LIST",
                      help=f"comma-separated, among {', '.join(TARGETS)}, for vote labels (default hard)")
    what.add_argument("--method", metavar="NAME",
                      help="consensus method whose labels are used when labels.csv holds several "
                           "(default majority)")
    what.add_argument("--holdout", choices=HOLDOUTS, default=d.holdout,
                      help="overlap: never train on the overlap with the experts nor the test set (default); "
                           "spec: only the spectroscopic test set is held out (the paper's split)")
    what.add_argument("--head", choices=HEADS, default=d.head,
                      help="five classes (p_cluster = p(low-z) + p(hi-z); default) or binary cluster/non-cluster")
    what.add_argument("--sizes", choices=SIZES, default=d.sizes,
                      help="equal (default): every model trains on the same number of candidates, each "
                           "subsampled (stratified, with --seed) to the smallest; all: each on every candidate "
                           "its labels cover. With truth among --label-source, truth-hard-votes-set and "
                           "truth-hard-expert-set train on the true classes of exactly the votes' and the "
                           "experts' candidates: label quality and number of candidates apart")
    how = parser.add_argument_group("how it is trained")
    how.add_argument("--runs", type=positive_int, default=d.runs, help=f"repeated runs per model (default {d.runs})")
    how.add_argument("--epochs", type=positive_int, default=d.epochs,
                     help=f"most epochs per run; early stopping on the validation loss (default {d.epochs})")
    how.add_argument("--patience", type=positive_int, default=d.patience,
                     help=f"epochs without a better validation loss before stopping (default {d.patience})")
    how.add_argument("--architecture", choices=ARCHITECTURES, default=d.architecture,
                     help="custom CNN in the spirit of the paper's (default) or a small residual network")
    how.add_argument("--input-size", type=positive_int, default=d.input_size, metavar="PIXELS",
                     help=f"tensors are averaged down to this side (default {d.input_size}: measured, "
                          "see docs/cnn.md)")
    how.add_argument("--batch-size", type=positive_int, default=d.batch_size, help=f"(default {d.batch_size})")
    how.add_argument("--learning-rate", type=positive_float, default=d.learning_rate,
                     help=f"Adam step (default {d.learning_rate})")
    how.add_argument("--val-fraction", type=positive_float, default=d.val_fraction,
                     help=f"fraction of the training candidates kept for validation (default {d.val_fraction})")
    how.add_argument("--class-weight", choices=CLASS_WEIGHTS, default=d.class_weight,
                     help="class weights of the hard target (default balanced). The cluster threshold is "
                          "chosen on each run's validation split either way (both it and 0.5 are reported)")
    how.add_argument("--retries", type=int, default=d.retries, metavar="N",
                     help=f"retrain a collapsed run (one class for the whole validation split, or never "
                          f"better than its first epoch) with a fresh seed at most N times (default {d.retries}); "
                          "collapsed runs are counted in metrics.json and the report")
    how.add_argument("--seed", type=int, default=d.seed, help="run r uses seed + r (default 0)")


def _defaults():  # type: ignore[no-untyped-def]
    from ..cnn._config import TrainConfig

    return TrainConfig()


def run(args: argparse.Namespace) -> int:
    from .._errors import InputError

    from .._outputs import check_folder

    out = check_output_dir(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise InputError(f"{out}: already exists and is not empty; choose another --out or pass --force")
    # --force replaces only a run folder that train-on-votes wrote (and its unfinished .part)
    check_folder(out, "train-on-votes", replace=True)
    check_folder(out.with_name(out.name + ".part"), "train-on-votes")
    for p in args.tensors:
        if not p.exists():
            raise InputError(f"{p}: no such file or folder (TENSORS)")
    for opt, p in (("--labels", args.labels), ("--catalogue", args.catalogue)):
        if p is not None and not p.is_file():
            raise InputError(f"{p}: {'is a folder' if p.is_dir() else 'not found'} ({opt} needs a file)")
    try:
        from ..cnn._config import TrainConfig

        config = TrainConfig(
            label_sources=args.label_source, targets=args.target, method=args.method, head=args.head,
            architecture=args.architecture, holdout=args.holdout, runs=args.runs, epochs=args.epochs,
            batch_size=args.batch_size, learning_rate=args.learning_rate, patience=args.patience,
            val_fraction=args.val_fraction, input_size=args.input_size, seed=args.seed, sizes=args.sizes,
            class_weight=args.class_weight, retries=args.retries)
    except ValueError as exc:
        raise InputError(str(exc).replace("TrainConfig.", "--").replace("_", "-")) from None

    from ..cnn import load_tensors, prepare_experiment, train_comparison

    tensors = load_tensors(args.tensors, progress=args.progress)
    if tensors.x.shape[1] < config.input_size:
        raise InputError(f"--input-size {config.input_size}: the tensors are only {tensors.x.shape[1]} pixels across")
    exp = prepare_experiment(tensors, config, labels=args.labels, catalogue=args.catalogue,
                             skip_missing=args.skip_missing)
    from ..cnn._train import counts

    n = counts(exp.candidates)
    say(f"{len(tensors)} candidates: {n['train']} to train on, {n['overlap']} in the overlap with the experts "
          f"({n['overlap_test']} of them in the test set), {n['test']} in the spectroscopic test set "
          f"(held out: {'overlap + test' if config.holdout == 'overlap' else 'test'})")
    for t in exp.targets:
        say(f"  {t.model}: {len(t.rows)} training candidates")
    inputs = {"tensors": [str(p.resolve()) for p in args.tensors],
              "labels": str(args.labels.resolve()) if args.labels else None,
              "catalogue": str(args.catalogue.resolve()) if args.catalogue else None}
    command = "hunt-clusters " + shlex.join(args.argv)
    # an existing empty folder is taken as it is; a non-empty one only with --force (checked above)
    metrics = train_comparison(exp, config, out, progress=args.progress, command=command, inputs=inputs,
                               overwrite=args.force or out.exists())
    say(format_table(metrics))
    say(f"next: hunt-clusters report {out} --out {out.parent / 'report'}")
    print(f"wrote {out}/ (metrics.json, predictions.csv, ensemble.csv, history.csv, models)")
    return 0


def format_table(metrics: dict) -> str:  # type: ignore[type-arg]
    """The headline table: accuracy on the spectroscopic test set (mean +- std over runs, the 95 %
    bootstrap interval over test candidates with the runs, the ensemble's) and agreement with the
    experts on the overlap, per model and baseline; then the paired comparisons."""
    n = metrics["n"]
    lines = [f"spectroscopic test set: {n['test']} candidates ({n['test_clusters']} clusters); "
             f"overlap with the experts: {n['overlap']} (test set included: {n.get('overlap_test', '?')})",
             f"  {'':<26} {'test accuracy':>18} {'95% interval':>14} {'ensemble':>7} {'ROC AUC':>8} "
             f"{'vs experts (overlap)':>21}"]

    def pct(v: float | None) -> str:
        return "   -  " if v is None else f"{100 * v:5.1f}%"

    def ci(v: list | None) -> str:  # type: ignore[type-arg]
        return "" if not v or v[0] is None else f"[{100 * v[0]:.0f}, {100 * v[1]:.0f}]"

    for name, m in metrics["models"].items():
        tm, ts, om = m["test_mean"], m["test_std"], m["overlap_mean"]
        auc = "-" if tm["roc_auc"] is None else f"{tm['roc_auc']:.3f}"
        runs = len(m["runs"])
        bad = (m.get("collapsed") or {}).get("kept_collapsed", 0)
        lines.append(f"  CNN {name:<22} {pct(tm['accuracy'])} +- {100 * (ts['accuracy'] or 0):4.1f} "
                     f"{ci(m.get('test_accuracy_ci')):>14} {pct(m['ensemble']['test']['accuracy'])} {auc:>8} "
                     f"{pct(om['accuracy']):>21}   ({runs} run{'s' * (runs > 1)}, {m['n_train']} trained on"
                     + (f", {bad} collapsed" if bad else "") + ")")
    for name, b in metrics["baselines"].items():
        auc = "-" if b["test"].get("roc_auc") is None else f"{b['test']['roc_auc']:.3f}"
        ov = b.get("overlap", {}).get("accuracy")
        lines.append(f"  {name:<26} {pct(b['test']['accuracy'])}         {ci(b['test'].get('accuracy_ci')):>14} "
                     f"{'':>7} {auc:>8} {pct(ov):>21}")
    for c in metrics.get("comparisons", []):
        lo, hi = c["difference_ci"]
        if c["difference"] is None:
            continue
        lines.append(f"  {c['a']} - {c['b']}: {100 * c['difference']:+.1f} points [{100 * lo:+.1f}, {100 * hi:+.1f}], "
                     f"McNemar p = {c['mcnemar_p']:.3g} ({c['n']} test candidates)")
    return "\n".join(lines)
