"""``hunt-clusters simulate-volunteers``: write a mock Zooniverse classification export for a subject set."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._paths import check_output_file, positive_int
from ._say import say

NAME = "simulate-volunteers"
HELP = "write a mock Zooniverse classification export for a subject set"
DESCRIPTION = """\
Pretend that Zooniverse volunteers classified a subject set, and write the classification
export exactly as Zooniverse would (the 14-column CSV), plus, with --workflows-out, the matching
workflows export. The volunteers see only the rendered subjects: cues measured on the subject
set's tensors.npz (X-ray source, its significance and extent, optical objects inside the
contours, a big galaxy or a dot at the centre), cached in cues.parquet beside the manifest. No
catalogue column reaches them; --catalogue, when given, is read for its candidate ids only.

Each volunteer perceives the cues with noise that grows as the cue's S/N and the volunteer's
skill fall, has personal criteria and biases, lapses now and then, and applies the field guide's
rule. Most classify a handful of subjects and a few classify thousands, about half are not logged
in, some classify a subject twice, every subject retires after --retirement counted
classifications, and the answer wording changes between workflow versions 16.55 and 17.60. The
model and its numbers: docs/mock-volunteers.md.

Subject ids come from the set's upload_ledger.csv when there is one, otherwise they are
numbered from --first-subject-id in manifest order.

examples:
  hunt-clusters simulate --out mock
  hunt-clusters render mock/candidates.ecsv --out subject_sets/mock
  hunt-clusters simulate-volunteers subject_sets/mock --out mock/classifications.csv \\
      --workflows-out mock/workflows.csv --seed 1 --jobs 2
  hunt-clusters aggregate mock/classifications.csv --workflows-export mock/workflows.csv --out mock/votes

  # a large export of made-up subjects, for benchmarks (no subject set needed)
  hunt-clusters simulate-volunteers --rows 100000 --out bench/export_1e5.csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "subject_set",
        nargs="?",
        metavar="SUBJECT_SET_DIR",
        help="subject set folder with manifest.csv (and upload_ledger.csv); omit with --rows for made-up subjects",
    )
    parser.add_argument(
        "--catalogue", metavar="FILE", help="optional: check that every subject is in this catalogue (ids only)"
    )
    parser.add_argument("--out", required=True, metavar="CSV", help="where to write the classification export")
    parser.add_argument("--workflows-out", metavar="CSV", help="also write the matching workflows export here")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same file (default 0)")
    parser.add_argument(
        "--retirement", type=positive_int, metavar="N", help="classifications before a subject retires (default: the workflow's, 20)"
    )
    parser.add_argument(
        "--n-volunteers", type=positive_int, metavar="N", help="size of the volunteer population (default: classifications / 25)"
    )
    parser.add_argument("--workflow", metavar="YAML", help="workflow definition (default: The Hunt for Galaxy Clusters)")
    parser.add_argument("--workflow-id", type=int, default=11235, help="workflow id written in the export (default 11235)")
    parser.add_argument(
        "--first-subject-id", type=int, default=31_200_000, help="first subject id when there is no upload ledger"
    )
    parser.add_argument(
        "--rows",
        type=positive_int,
        metavar="N",
        help="stop after N classifications (an export taken mid-project); without SUBJECT_SET_DIR, "
        "made-up subjects are created to reach N",
    )
    parser.add_argument(
        "--jobs", type=positive_int, default=1, metavar="N",
        help="processes measuring the subjects' cues (first run) and formatting the rows of big exports (default 1)"
    )
    parser.add_argument(
        "--metadata",
        choices=("full", "minimal"),
        default="full",
        help="'minimal' writes fewer metadata keys (smaller files for huge benchmark exports)",
    )


def run(args: argparse.Namespace) -> int:
    from ..mock._volunteers import VolunteerConfig, write_export
    from .._errors import InputError

    if args.subject_set is None and args.rows is None:
        raise InputError("give a SUBJECT_SET_DIR, or --rows N for made-up subjects")
    check_output_file(args.out)
    if args.workflows_out:
        check_output_file(args.workflows_out, "--workflows-out")
    config = VolunteerConfig(
        seed=args.seed,
        retirement=args.retirement,
        n_volunteers=args.n_volunteers,
        workflow_id=args.workflow_id,
        first_subject_id=args.first_subject_id,
        metadata=args.metadata,
    )
    summary = write_export(
        Path(args.out),
        args.subject_set,
        catalogue=args.catalogue,
        config=config,
        workflow=args.workflow,
        workflows_out=args.workflows_out,
        n_classifications=args.rows,
        jobs=args.jobs,
        progress=args.progress,
    )
    versions = ", ".join(f"{v}: {n}" for v, n in summary.rows_per_version.items())
    say(
        f"{summary.path}: {summary.n_rows} classifications of {summary.n_subjects} subjects "
        f"({summary.n_retired} retired) by {summary.n_volunteers} volunteers ({summary.n_anonymous} not logged in); "
        f"{summary.n_repeats} repeats, {summary.n_seen_before} seen_before, {summary.n_expert} expert "
        f"({summary.n_gold} gold); versions {versions}; {summary.seconds:.1f} s"
    )
    print(f"wrote {summary.path}" + (f" and {summary.workflows_path} (workflows export)"
                                     if summary.workflows_path is not None else ""))
    return 0
