"""``hunt-clusters export``: download a classification, subject or workflow export from Zooniverse."""

from __future__ import annotations

import argparse

from ..zooniverse import EXPORT_TYPES
from ._paths import check_output_file
from ._upload import add_connection_arguments, config_from_args

NAME = "export"
HELP = "download a classification, subject or workflow export from Zooniverse"
DESCRIPTION = """\
Download a Zooniverse data export as CSV: the classifications (input of 'hunt-clusters
aggregate'), the subjects, or the workflows (every version of the question and answers).
Without --generate the latest existing export is downloaded; with it Zooniverse makes a fresh one
first, which can take from a minute to hours: the command waits and says so.

  hunt-clusters export --project alice/hunt --type classifications --generate --out classifications.csv
  hunt-clusters export --project alice/hunt --type workflows --out workflows.csv
  hunt-clusters export --project alice/hunt --workflow 1234 --out classifications-1234.csv

Exports need the project owner's (or a collaborator's) credentials, as for 'hunt-clusters upload'.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, metavar="SLUG_OR_ID", help="project id or owner/name slug")
    parser.add_argument("--type", default="classifications", choices=EXPORT_TYPES, help="export type (classifications)")
    parser.add_argument("--workflow", metavar="ID", help="classifications of this workflow only")
    parser.add_argument("--generate", action="store_true", help="generate a fresh export and wait for it")
    parser.add_argument("--out", required=True, metavar="FILE", help="CSV file to write")
    parser.add_argument(
        "--wait", type=float, default=6 * 3600, metavar="S", help="longest wait for a generated export (6 h)"
    )
    parser.add_argument("--poll", type=float, default=5.0, metavar="S", help=argparse.SUPPRESS)
    add_connection_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..zooniverse import download_export

    check_output_file(args.out)
    out = download_export(
        args.out,
        project=args.project,
        export_type=args.type,
        workflow=args.workflow,
        generate=args.generate,
        config=config_from_args(args),
        timeout=args.wait,
        poll_s=args.poll,
        progress=args.progress,
    )
    print(f"wrote {out}")
    return 0
