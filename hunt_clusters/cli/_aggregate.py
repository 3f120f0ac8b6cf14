"""``hunt-clusters aggregate``: turn a classification export into votes, consensus labels and volunteer-vs-expert metrics."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import InputError
from .._scheduler import add_scheduler_argument, client_for
from ._paths import check_output_dir, positive_int
from ._say import say

if TYPE_CHECKING:  # pandas is imported where it is used: 'hunt-clusters --help' must not load it
    import pandas as pd

NAME = "aggregate"
HELP = "turn a classification export into votes, consensus labels and volunteer-vs-expert metrics"
DESCRIPTION = """\
Read a Zooniverse classification export (Project > Data Exports > "Request new classification
export"), keep one workflow, a range of its versions and one question task, and write:

  DIR/votes.parquet         one row per classification, task and chosen answer (volunteers only)
  DIR/expert_votes.parquet  gold-standard and expert-flagged classifications, kept apart
  DIR/rejects.csv           every bad row: its 1-based data row in the export, the reason, the value
  DIR/unmapped_answers.csv  answers whose label maps to no class of the workflow definition
  DIR/labels.csv            one consensus label per subject (per --method), with its fold and the
                            size of the gold standard of the fit that gave it (--folds)
  DIR/folds.csv             the cross-fitting folds of the expert-classified subjects (--experts)
  DIR/volunteers.csv        classifications and estimated skill per volunteer (per --method)
  DIR/metrics.json          where every export row went, and volunteers vs experts (--experts)

and print a summary: rows in = kept + expert + filtered (by policy) + rejected (bad input).

Answers are mapped to classes through the workflow definition (--workflow-file, default The
Hunt for Galaxy Clusters): labels are compared without markdown, emphasis or case, so
"![icon](url) **A star** or point source" is "A star or point source". If the labels changed
between versions, give the workflows export (--workflows-export): a label the definition does not
know is matched by its position among the answers of its own version. An export of another
project still gives its votes table (answers as given, class empty): use --candidate-key none.

Versions are MAJOR.MINOR, two integers: --version 16 keeps every 16.x, --version 16.55 only 16.55.

example:
  hunt-clusters aggregate hunt-for-galaxy-clusters-classifications.csv --out results/ \\
      --workflow 12345 --version 3 --experts candidates.ecsv --method all
"""

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", type=Path, help="the classification export CSV")
    parser.add_argument("--out", "-o", type=Path, required=True, metavar="DIR", help="output folder (created)")
    sel = parser.add_argument_group("what to keep")
    sel.add_argument("--workflow", type=int, metavar="ID", help="keep this workflow id (default: every workflow)")
    sel.add_argument("--version", metavar="V", help="keep versions V.x (V = MAJOR) or exactly V (MAJOR.MINOR)")
    sel.add_argument("--min-version", metavar="V", help="lowest version kept (MAJOR or MAJOR.MINOR, inclusive)")
    sel.add_argument("--max-version", metavar="V", help="highest version kept (MAJOR or MAJOR.MINOR, inclusive)")
    sel.add_argument("--task", metavar="KEY", help="the question task (default: the workflow definition's, T0)")
    mp = parser.add_argument_group("answers and subjects")
    mp.add_argument("--workflow-file", type=Path, metavar="YAML",
                    help="workflow definition with the answer -> class mapping (default: the packaged one)")
    mp.add_argument("--no-classes", action="store_true", help="keep answers as given, with no class mapping")
    mp.add_argument("--workflows-export", type=Path, metavar="CSV",
                    help="Zooniverse workflows export: the answer labels of every version")
    mp.add_argument("--candidate-key", default="#candidate_id", metavar="KEY",
                    help="subject metadata key of the candidate id (default '#candidate_id'; 'none': no join)")
    mp.add_argument("--ledger", type=Path, metavar="CSV",
                    help="upload ledger (candidate_id, subject_id, ...) to join subjects to candidates")
    pol = parser.add_argument_group("policies")
    pol.add_argument("--duplicates", choices=("first", "last", "all"), default="first",
                     help="a volunteer who classified a subject twice: keep the first, the last or all (default first)")
    pol.add_argument("--drop-seen-before", action="store_true",
                     help="drop classifications whose metadata says seen_before (default: keep and flag)")
    pol.add_argument("--strict", action="store_true", help="fail (exit 1) if any row is rejected")
    out = parser.add_argument_group("consensus and output")
    out.add_argument("--method", choices=("majority", "dawid-skene", "swap", "all"), default="majority",
                     help="consensus method (default majority)")
    out.add_argument("--experts", type=Path, metavar="TABLE",
                     help="candidates table with candidate_id and expert_class (ECSV, CSV, FITS) to compare with")
    out.add_argument("--folds", type=int, default=5, metavar="K",
                     help="with --experts: cross-fitting of the methods of --gold-methods. The expert-classified "
                          "subjects are split into K folds; each fold's labels come from a fit whose gold "
                          "standard is the other folds, so no subject's label is shaped by its own expert "
                          "class and every one of them is compared with the experts. Subjects without an "
                          "expert class (the CNN's training candidates) are labelled by a fit with no gold at "
                          "all. Default 5; 0: no gold for any method")
    out.add_argument("--gold-methods", default="swap", metavar="LIST",
                     help="comma-separated methods that learn from the gold subjects (default 'swap'; "
                          "e.g. 'swap,dawid-skene')")
    out.add_argument("--seed", type=int, default=0, help="random seed of the folds (default 0)")
    out.add_argument("--votes-format", choices=("parquet", "csv"), default="parquet", help="format of the votes files")
    out.add_argument("--block-mb", type=positive_int, default=8, metavar="MB",
                     help="MiB of the export parsed at a time (default 8; memory stays bounded)")
    scale = parser.add_argument_group("scale (docs/scale.md)")
    scale.add_argument("--partitions", type=positive_int, metavar="N",
                       help="split the export by subject into N partitions read one at a time: memory bounded by "
                       "a partition, whatever the export's size (same votes, counts and rejects; default: one pass "
                       "in memory, or one partition per 128 MiB with --scheduler)")
    add_scheduler_argument(scale, jobs=False)  # aggregate has no --jobs


def _read_experts(path: Path) -> pd.Series:
    """``candidate_id -> expert_class`` from a candidates table (ECSV / FITS / VOTable via astropy, CSV)."""
    import pandas as pd

    if not path.exists():
        raise InputError(f"{path}: experts table not found")
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        from astropy.table import Table

        try:
            df = Table.read(path).to_pandas()
        except Exception as exc:  # astropy raises many kinds
            raise InputError(f"{path}: cannot read the experts table ({exc})") from None
    cols = {c.lower(): c for c in df.columns}
    if "candidate_id" not in cols or "expert_class" not in cols:
        raise InputError(f"{path}: needs candidate_id and expert_class columns; has {', '.join(map(str, df.columns))}")
    s = pd.Series(df[cols["expert_class"]].astype(object).to_numpy(),
                  index=pd.Index(df[cols["candidate_id"]].astype(str).to_numpy(), name="candidate_id"))
    return s[s.notna() & (s.astype(str).str.strip() != "")].astype(str)


#: Settings of the libraries ``aggregate`` loads, made before they load; a value already in the
#: environment is kept. ``MIMALLOC_ALLOW_THP=0``: pyarrow's allocator (mimalloc) asks for transparent
#: huge pages, and on a machine whose memory is fragmented (by a large file just written: the
#: export, downloaded) the kernel stalls each 2 MiB fault to compact memory; mimalloc then disables
#: them for the process (numpy's huge-page advice included). ``OPENBLAS_NUM_THREADS=1``: numpy's
#: OpenBLAS starts a thread per core at import that spins ~50 ms of CPU waiting for work this command
#: never gives it, on the core the export's reader thread needs. Measured on the 100,000-row
#: benchmark export just copied (docs/aggregate.md): 1.08 s -> 0.63 s median, system CPU 0.59 -> 0.19 s.
PROCESS_SETTINGS = {"MIMALLOC_ALLOW_THP": "0", "OPENBLAS_NUM_THREADS": "1"}


def apply_process_settings() -> None:
    """Put `PROCESS_SETTINGS` in the environment where it has no value yet; call it before pyarrow and
    numpy load (no effect once they are loaded)."""
    for name, value in PROCESS_SETTINGS.items():
        os.environ.setdefault(name, value)


def run(args: argparse.Namespace) -> int:
    apply_process_settings()
    from .._outputs import output_folder
    from ..workflow import load_workflow

    check_output_dir(args.out, "--out")  # before the export is read, not after
    workflow = None if args.no_classes else load_workflow(args.workflow_file)
    task = args.task or (workflow.task if workflow is not None else "T0")
    key = None if args.candidate_key.strip().lower() in ("", "none") else args.candidate_key
    # a folder holding anything aggregate does not write is refused (its files would be mixed in)
    with output_folder(args.out, "aggregate"):
        if args.partitions is not None or args.scheduler is not None:
            return _run(args, workflow, task, key, None)
        # the embedded read: pyarrow starts parsing the export (and running its regular expressions) in
        # a background thread now, while pandas and the rest are imported: a third of the command's time
        # on a 100,000-row export
        from ..classifications._blocks import prefetch_export

        with prefetch_export(args.export, args.block_mb, task, key) as prefetch:
            return _run(args, workflow, task, key, prefetch)


def _no_vote_hint(result: Any, key: str | None) -> str:
    """One line for a run that kept no vote: the most common reason, and what to do about it."""
    s = result.summary
    reasons = s.rejected if sum(s.rejected.values()) else s.filtered
    if not reasons:
        return f"{s.path}: no vote kept (the export has no classification row)"
    reason, n = max(reasons.items(), key=lambda kv: kv[1])
    kind = "rejected" if sum(s.rejected.values()) else "filtered out"
    key_hint = (f"no {key} in subject_data: pass --candidate-key none for exports of other projects "
                "(or --ledger with the upload ledger)")
    if reason == "no_candidate_id":
        why = key_hint
    else:
        from ..classifications import FILTER_REASONS, REJECT_REASONS

        why = f"{reason}: {REJECT_REASONS.get(reason) or FILTER_REASONS.get(reason, reason)}"
        if s.rejected.get("no_candidate_id"):
            why += f"; {s.rejected['no_candidate_id']} more for {key_hint}"
    return f"{s.path}: no vote kept; {n} of {s.rows_in} rows {kind} for {why}"


def _run(args: argparse.Namespace, workflow: Any, task: str, key: str | None, prefetch: Any) -> int:
    from ..classifications import (
        ReadOptions,
        VersionRange,
        read_export,
        read_ledger,
        read_workflows_export,
        write_votes,
    )

    versions = VersionRange.from_options(args.version, args.min_version, args.max_version)
    options = ReadOptions(
        workflow_id=args.workflow if args.workflow is not None else (workflow.workflow_id if workflow else None),
        versions=versions,
        task=task,
        candidate_key=key,
        ledger=read_ledger(args.ledger) if args.ledger else None,
        duplicates=args.duplicates,
        drop_seen_before=args.drop_seen_before,
        block_mb=args.block_mb,
    )
    labels_by_version = read_workflows_export(args.workflows_export, task) if args.workflows_export else None
    writing = None
    if args.partitions is None and args.scheduler is None:
        result: Any = read_export(args.export, options, workflow=workflow, version_labels=labels_by_version,
                                  progress=args.progress, prefetch=prefetch)
        # the votes files are written in a thread while the consensus runs (pyarrow's Parquet writer
        # releases the GIL); the command waits for them before it reports, or fails, below
        from concurrent.futures import ThreadPoolExecutor

        args.out.mkdir(parents=True, exist_ok=True)  # the consensus writes beside the votes
        pool = ThreadPoolExecutor(1, thread_name_prefix="hunt-clusters-votes")
        writing = pool.submit(write_votes, result, args.out, votes_format=args.votes_format)
        pool.shutdown(wait=False)
        votes = result.votes
    else:
        from ..classifications._stream import stream_export

        with client_for(args.scheduler, fork=True) as client:
            result = stream_export(args.export, args.out, options, workflow=workflow, version_labels=labels_by_version,
                                   n_parts=args.partitions, client=client, votes_format=args.votes_format)
        votes = result  # read back from votes.parquet by _consensus: partition by partition for majority
    written: list[str] = []  # the files this run wrote, for the last line
    try:
        say(result.summary.format())
        if len(result.rejects):
            first = result.rejects.head(5)
            for r in first.itertuples():
                say(f"  rejected row {r.row}: {r.reason} ({r.detail})")
            say(f"  all {len(result.rejects)} rejected rows: {args.out / 'rejects.csv'}")
        if args.strict:
            result.raise_if_rejected()
        if not result.summary.n_votes and not result.summary.rows_expert:
            raise InputError(_no_vote_hint(result, key))  # a run that keeps no vote failed (its rejects.csv stays)

        metrics: dict[str, Any] = {"export": result.summary.to_dict(), "methods": {}}
        experts = _read_experts(args.experts) if args.experts else None
        if result.summary.n_with_class:
            written += _consensus(args, votes, experts, metrics)
        else:
            say("  no class mapping: labels, volunteers and expert comparison not computed")
        (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str))
        written.append("metrics.json")
    finally:
        files = writing.result() if writing is not None else result.files  # its error (disk full, ...) if it failed
    written += [Path(f).name for f in files.values()]
    print(f"wrote {args.out}/: {', '.join(sorted(written))}")
    return 0


#: The columns of the votes table the consensus methods read.
_CONSENSUS_COLUMNS = ["subject_id", "candidate_id", "user", "class", "created_at", "expert"]


def _consensus(args: argparse.Namespace, votes: Any, experts: pd.Series | None,
               metrics: dict[str, Any]) -> list[str]:
    """Fit the --method(s) on ``votes``: a DataFrame (the embedded read) or a `StreamedExport`
    (``--partitions`` / ``--scheduler``), whose votes are read back from ``votes.parquet``: one
    partition at a time for majority alone (memory flat in the export's size), the consensus
    columns of the whole table for the methods that iterate over every vote. Returns the names of
    the files written."""
    import pandas as pd

    from ..consensus import METHODS, CrossFit, compare_with_experts, cross_fit, format_comparison, make_estimator

    methods = tuple(METHODS) if args.method == "all" else (args.method,)
    source = str(args.out / f"votes.{args.votes_format}")
    fitted: dict[str, Any] = {}
    if not isinstance(votes, pd.DataFrame) and methods == ("majority",):
        # partition by partition: memory holds one partition's votes, not every vote
        est = make_estimator("majority").fit_partitions(
            _with_source(part, source) for part in votes.iter_votes(_CONSENSUS_COLUMNS))
        fitted["majority"] = est
    else:
        if not isinstance(votes, pd.DataFrame):
            votes = votes.load_votes(_CONSENSUS_COLUMNS)
        votes = _with_source(votes, source)
    gold_methods = {m.strip() for m in args.gold_methods.split(",") if m.strip()}
    unknown = gold_methods - set(METHODS)
    if unknown:
        raise InputError(f"--gold-methods: unknown method(s) {', '.join(sorted(unknown))}; "
                         f"valid: {', '.join(METHODS)}")
    if args.folds < 0 or args.folds == 1:
        raise InputError(f"--folds {args.folds}: use 2 or more folds (0 for no gold)")
    labels, volunteers = [], []
    for name in methods:
        folds = args.folds if experts is not None and name in gold_methods and name != "majority" else 0
        if name in fitted:
            est = fitted[name]
            fit = CrossFit(_with_fold_columns(est.labels_), est.volunteers_, {**est.counts_, "gold": 0, "fits": 1},
                           pd.DataFrame(columns=["candidate_id", "expert_class", "fold"]))
        else:
            est = make_estimator(name)
            fit = cross_fit(est, votes, experts, n_folds=folds, seed=args.seed)
        lab = fit.labels
        labels.append(lab)
        vol = fit.volunteers.copy()
        vol.insert(0, "method", est.method)
        volunteers.append(vol)
        entry: dict[str, Any] = {"counts": {k: v for k, v in fit.counts.items() if k not in ("gold", "fits")}}
        if len(lab):
            entry["mean_agreement"] = float(lab["agreement"].mean()) if lab["agreement"].notna().any() else None
        say(f"{est.method}: {int(lab['label'].notna().sum())} subjects labelled"
              + (f", mean agreement {entry['mean_agreement']:.3f}" if entry.get("mean_agreement") is not None else ""))
        entry["gold"] = int(fit.counts["gold"])
        entry["folds"] = folds if fit.counts["fits"] > 1 else 0
        if fit.counts["fits"] > 1:
            say(f"  cross-fitted: {len(fit.folds)} expert-classified subjects in {folds} folds, each labelled by a "
                  f"fit with the other folds as gold ({fit.counts['gold']} at most); the others by a fit with no gold")
            if "cross_fit" not in metrics:  # the same folds for every method: they depend on ids and seed only
                fit.folds.to_csv(args.out / "folds.csv", index=False)
                metrics["cross_fit"] = {"folds": folds, "seed": args.seed, "n_subjects": int(len(fit.folds)),
                                        "methods": sorted(gold_methods & set(methods) - {"majority"})}
        if experts is not None:
            cmp = compare_with_experts(lab, experts)
            entry["experts"] = cmp
            say(format_comparison(cmp))
        metrics["methods"][est.method] = entry
    pd.concat(labels, ignore_index=True).to_csv(args.out / "labels.csv", index=False)
    pd.concat(volunteers, ignore_index=True).to_csv(args.out / "volunteers.csv", index=False)
    return ["labels.csv", "volunteers.csv"] + (["folds.csv"] if "cross_fit" in metrics else [])


def _with_fold_columns(labels: pd.DataFrame) -> pd.DataFrame:
    """A labels table of a fit without gold, with cross_fit's ``fold`` (-1) and ``n_gold`` (0) columns."""
    return labels.assign(fold=-1, n_gold=0)


def _with_source(votes: pd.DataFrame, source: str) -> pd.DataFrame:
    """``votes`` named ``source`` in error messages (a shallow copy)."""
    votes = votes.copy(deep=False)
    votes.attrs["source"] = source
    return votes
