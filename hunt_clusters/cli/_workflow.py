"""``hunt-clusters workflow``: push or pull the workflow definition (question, answers, retirement)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._paths import check_output_file
from ._upload import add_connection_arguments, config_from_args

NAME = "workflow"
HELP = "push or pull the workflow definition (question, answers, retirement)"
DESCRIPTION = """\
The workflow (the question volunteers answer, its answers and when a subject retires) lives in a
YAML file, workflows/hunt_for_galaxy_clusters.yaml. 'push' creates or updates the project's
workflow from it; 'pull' writes the live workflow back into the file format, keeping the answer ->
class mapping of the existing file (Zooniverse knows nothing of classes).

  hunt-clusters workflow push workflows/hunt_for_galaxy_clusters.yaml --project alice/hunt
  hunt-clusters workflow push workflows/hunt_for_galaxy_clusters.yaml --project alice/hunt --workflow 1234
  hunt-clusters workflow pull workflows/hunt_for_galaxy_clusters.yaml --workflow 1234

push updates, in order: --workflow, the file's workflow_id, the project's workflow with the same
display_name; otherwise it creates a workflow and prints its id. Changing the question or the
answers starts a new major workflow version on Zooniverse (classifications keep their version).
Credentials as for 'hunt-clusters upload'.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("push", "pull"), help="push the file to Zooniverse, or pull into it")
    parser.add_argument("file", metavar="FILE", help="the workflow YAML (workflows/*.yaml)")
    parser.add_argument("--project", metavar="SLUG_OR_ID", help="project id or owner/name slug (push)")
    parser.add_argument("--workflow", metavar="ID", help="workflow id (required for pull)")
    parser.add_argument(
        "--template", metavar="YAML", help="pull: take answer classes from this file (default: FILE if it exists)"
    )
    add_connection_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..workflow import load_workflow
    from ..zooniverse import pull_workflow, push_workflow

    if args.action == "push":
        if not args.project:
            print("hunt-clusters workflow push: --project is required", file=sys.stderr)
            return 2
        res = push_workflow(args.file, project=args.project, workflow=args.workflow, config=config_from_args(args))
        verb = "created" if res.created else "updated"
        print(f"{verb} workflow {res.workflow_id} (version {res.version}) from {args.file}")
        if res.created:
            print(f"add 'workflow_id: {res.workflow_id}' to {args.file} or pass --workflow {res.workflow_id} next time")
        return 0
    if not args.workflow:
        print("hunt-clusters workflow pull: --workflow is required", file=sys.stderr)
        return 2
    path = check_output_file(args.file, "FILE")
    template = args.template or (str(path) if path.exists() else None)
    defn = pull_workflow(
        args.workflow, template=load_workflow(template) if template else None, config=config_from_args(args)
    )
    defn.save(path)
    unmapped = [a.label for a in defn.answers if a.klass is None]
    print(f"wrote workflow {args.workflow} ({len(defn.answers)} answers) to {path}")
    if unmapped:
        print(f"answers without a class (edit {path}): {'; '.join(unmapped)}")
    return 0
