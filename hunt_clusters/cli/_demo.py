"""``hunt-clusters demo``: run the pipeline on a small mock survey, printing each command as it goes."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

NAME = "demo"
HELP = "run the whole pipeline on a small mock survey (simulate, render, simulate-volunteers, aggregate)"
DESCRIPTION = """\
Run every step that exists on a small mock survey with known truth, printing each command before
it runs, so you can repeat any of them by hand on your own data:

  hunt-clusters simulate --small --out DIR/mock_survey
  hunt-clusters render DIR/mock_survey/candidates.ecsv --select in_zooniverse --out DIR/subject_set
  hunt-clusters simulate-volunteers DIR/subject_set --catalogue DIR/mock_survey/candidates.ecsv ...
  hunt-clusters aggregate DIR/classifications.csv --workflows-export DIR/workflows.csv ...

Upload (hunt-clusters upload) is not part of the demo: it needs a Zooniverse project, or the local
test double (see docs/zooniverse.md). train-on-votes and report are not built yet.

example:
  hunt-clusters demo --out demo
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("demo"), metavar="DIR",
                        help="folder for everything the demo writes (default ./demo)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the survey and the volunteers (default 0)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="worker processes for simulate and render (default 2)")
    parser.add_argument("--method", choices=("majority", "dawid-skene", "swap", "all"), default="all",
                        help="consensus method(s) for aggregate (default all)")


def run(args: argparse.Namespace) -> int:
    from . import main

    out: Path = args.out
    survey = out / "mock_survey"
    catalogue = survey / "candidates.ecsv"
    subject_set = out / "subject_set"
    export = out / "classifications.csv"
    workflows = out / "workflows.csv"
    flags = ["--quiet"] if not args.progress else []
    steps = [
        ["simulate", "--small", "--out", str(survey), "--seed", str(args.seed), "--jobs", str(args.jobs)],
        ["render", str(catalogue), "--select", "in_zooniverse", "--out", str(subject_set),
         "--jobs", str(args.jobs), "--contact-sheet", str(out / "contact_sheet.jpg")],
        ["simulate-volunteers", str(subject_set), "--catalogue", str(catalogue), "--out", str(export),
         "--workflows-out", str(workflows), "--seed", str(args.seed + 1)],
        ["aggregate", str(export), "--workflows-export", str(workflows), "--experts", str(catalogue),
         "--method", args.method, "--out", str(out / "aggregate")],
    ]
    for step in steps:
        print(f"\n$ hunt-clusters {shlex.join(step)}", flush=True)
        rc = main([*flags, *step])
        sys.stdout.flush()
        if rc != 0:
            print(f"demo: step '{step[0]}' failed (exit {rc}); stopping", file=sys.stderr)
            return rc
    print(f"\ndemo finished: everything is in {out}/ (labels in {out / 'aggregate' / 'labels.csv'})")
    return 0
