"""``hunt-clusters upload``: upload a rendered subject set to Zooniverse (resumable, media verified)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..zooniverse import STAGING_ENDPOINT
from ._paths import check_output_dir, non_negative_int, positive_float, positive_int

if TYPE_CHECKING:
    from ..zooniverse import ZooniverseConfig

NAME = "upload"
HELP = "upload a rendered subject set to Zooniverse (resumable, media verified)"
DESCRIPTION = f"""\
Upload a subject-set folder (manifest.csv + images, as written by 'hunt-clusters render') to a
Zooniverse project. Every subject carries the manifest's columns as metadata (hidden ones keep
their '#'), is linked to the subject set, and has its image uploaded and checked.

Safe to interrupt and run again: upload_ledger.csv beside the manifest records every subject as
soon as it is done, and subjects already in the set are recognised by their #candidate_id, so a
re-run uploads only what is missing and never creates a duplicate.

Credentials come from PANOPTES_USERNAME / PANOPTES_PASSWORD (or PANOPTES_CLIENT_ID /
PANOPTES_CLIENT_SECRET) or ~/.panoptes/config.yml; they are never printed or written.

Rehearse first:
  hunt-clusters upload subject_sets/demo --project alice/hunt --dry-run
  hunt-clusters upload subject_sets/demo --project alice/hunt --endpoint {STAGING_ENDPOINT}
then:
  hunt-clusters upload subject_sets/demo --project alice/hunt --subject-set "XMM batch 1" --workflow 1234

Prioritised selection: --priority-from predictions.csv gives each new subject a hidden #priority
(1 = shown first) from the CNN: BALD over its ensemble (--priority-by). Zooniverse serves by
#priority only on workflows it has switched to prioritised selection, and reads #priority when a
subject is linked to a set: see docs/human-machine.md for both.

exit status: 0 every subject is on Zooniverse with its image; 1 some failed (listed; run again);
2 usage error.
"""


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """--endpoint, --timeout and --retries, shared by upload, workflow and export."""
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help=f"Panoptes endpoint (default $PANOPTES_ENDPOINT, the config file, else the live Zooniverse); "
        f"staging: {STAGING_ENDPOINT}",
    )
    parser.add_argument("--timeout", type=positive_float, default=60.0, metavar="S", help="seconds per HTTP request (60)")
    parser.add_argument(
        "--retries", type=non_negative_int, default=6, metavar="N", help="retries after 5xx, 429 or a dropped connection (6)"
    )


def config_from_args(args: argparse.Namespace) -> ZooniverseConfig:
    """The connection settings given on the command line."""
    from ..zooniverse import ZooniverseConfig, resolve_endpoint

    return ZooniverseConfig(endpoint=resolve_endpoint(args.endpoint), timeout=args.timeout, retries=args.retries)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="SUBJECT_SET_DIR", help="folder with manifest.csv and the images")
    parser.add_argument("--project", required=True, metavar="SLUG_OR_ID", help="project id or owner/name slug")
    parser.add_argument(
        "--subject-set",
        metavar="NAME_OR_ID",
        help="subject set id, or a name (created when the project has no set of that name); default: the folder name",
    )
    parser.add_argument("--workflow", metavar="ID", help="link the subject set to this workflow")
    parser.add_argument("--threads", type=positive_int, default=8, metavar="N", help="concurrent uploads (8)")
    parser.add_argument(
        "--dry-run", action="store_true", help="check the manifest and images, show what would be sent, send nothing"
    )
    parser.add_argument(
        "--priority-from", type=Path, metavar="CSV",
        help="predict's output: set each new subject's #priority from the CNN, most informative first (1); "
        "takes effect where the workflow uses prioritised selection (docs/human-machine.md)",
    )
    parser.add_argument(
        "--priority-by", choices=("bald", "spread", "entropy"), default="bald",
        help="with --priority-from: BALD over the ensemble's runs (default), the runs' spread p_cluster_std, "
        "or the entropy of the mean p_cluster",
    )
    add_connection_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..zooniverse import upload_subject_set

    if not args.dry_run and Path(args.folder).is_dir():  # the ledger and its lock are written there
        check_output_dir(args.folder, "SUBJECT_SET_DIR")
    config = config_from_args(args)  # reads only the command line, environment and config file
    priority = None
    if args.priority_from is not None:
        from ..retire import cnn_priority, read_predictions

        ranks = cnn_priority(read_predictions(args.priority_from), args.priority_by)
        priority = dict(zip(ranks["candidate_id"], ranks["priority"].astype(int)))
    res = upload_subject_set(
        args.folder,
        project=args.project,
        subject_set=args.subject_set,
        workflow=args.workflow,
        config=config,
        threads=args.threads,
        dry_run=args.dry_run,
        progress=args.progress,
        priority=priority,
    )
    if res.dry_run:
        print("dry run: nothing was sent. Would do:")
        for line in res.plan:
            print(f"  {line}")
        return 0
    rate = res.n_created / res.elapsed_s if res.elapsed_s > 0 else 0.0
    print(
        f"subject set {res.subject_set_id} (project {res.project_id}): {res.n_subjects} subjects, "
        f"{res.n_created} created, {res.n_present} already there, {res.n_media_repaired} images re-uploaded, "
        f"{len(res.failures)} failed; {res.n_requests} requests in {res.elapsed_s:.1f} s ({rate:.1f} subjects/s)"
    )
    if res.failures:
        print(f"{len(res.failures)} subjects are not on Zooniverse with their image:", file=sys.stderr)
        for cid, reason in res.failures:
            print(f"  {cid}: {reason}", file=sys.stderr)
        print("run the same command again to retry them", file=sys.stderr)
        return 1
    return 0
