"""``hunt-clusters demo``: the whole mission on a mock survey, printing each command as it goes."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from .._outputs import output_folder
from ._paths import check_output_dir, positive_int
from ._say import say

NAME = "demo"
HELP = "the whole pipeline on a mock survey with known truth, from simulation to the comparison report"
DESCRIPTION = """\
Run every step on a mock survey with known truth, printing each command before it runs, so you can
repeat any of them by hand on your own data, and end with the comparison report:

   1 simulate             a mock X-CLASS survey: catalogue, X-ray and optical FITS, expert labels
   2 render               the subjects volunteers see (in_zooniverse) + CNN tensors
   3 render               tensors of the expert-only candidates (the CNN trains on them too)
   4 upload --dry-run     what would be sent to Zooniverse (--rehearse: to the local test double)
   5 simulate-volunteers  the classification export mock volunteers would produce
   6 aggregate            votes -> consensus labels, volunteers vs experts
   7 train-on-votes       CNNs trained on the votes and on the experts (--size paper and small:
                          also soft and Dirichlet targets and the truth), tested on the
                          spectroscopic test set
   8 report               DIR/report/report.html: open it in a browser

--size standard (default): the paper's survey (1707 expert / 1600 Zooniverse / 404 overlap /
85+85 spectroscopic test candidates, 2903 in all); the CNN trained on votes and on expert labels
(hard target), 3 runs each: enough candidates to learn and a test set of 170. Measured as typed
(wall clock) on the project's 2-core machine: 5.3 minutes at load average ~2 (simulate 2 min,
renders 0.6, training 2.6), 11.5 minutes with three other jobs on it (docs/cnn.md).
--size paper: the same survey, 10 runs of every model (votes hard, soft, Dirichlet; experts; the
truth on equal and on the same candidates), about an hour on 2 cores. --size small: ~290
candidates, a quick look at every step (9 minutes measured before it trained 35 CNN runs instead of 25); its CNN figures are not meaningful (16
test candidates, ~120 training candidates: chance level), and its report says so.

examples:
  hunt-clusters demo --out demo
  hunt-clusters demo --size paper --out demo_paper --seed 7
"""

#: Survey sizes and training runs of each --size (tiny: for the tests).
SIZES: dict[str, dict[str, list[str]]] = {
    "tiny": {"simulate": ["--small", "--n-expert", "90", "--n-zooniverse", "90", "--n-overlap", "40",
                          "--n-test-clusters", "8", "--n-test-noncluster", "8"],
             "train": ["--runs", "2", "--epochs", "4", "--label-source", "votes,expert", "--head", "binary"]},
    "small": {"simulate": ["--small"],
              "train": ["--runs", "5", "--label-source", "votes,expert,truth", "--target", "hard,soft,dirichlet"]},
    "standard": {"simulate": [], "train": ["--runs", "3", "--label-source", "votes,expert"]},
    "paper": {"simulate": [],
              "train": ["--runs", "10", "--label-source", "votes,expert,truth", "--target", "hard,soft,dirichlet"]},
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("demo"), metavar="DIR",
                        help="folder for everything the demo writes (default ./demo)")
    parser.add_argument("--size", choices=("standard", "small", "paper"), default="standard",
                        help="standard (default: the paper's survey, votes- and expert-trained CNN, 3 runs each; "
                             "5-12 min measured on 2 cores), small (~290 candidates: a quick look, CNN figures not meaningful) "
                             "or paper (the paper's survey, every model, 10 runs)")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the test suite's size
    parser.add_argument("--seed", type=int, default=0, help="random seed of the survey and the volunteers (default 0)")
    parser.add_argument("-j", "--jobs", type=positive_int, default=2,
                        help="worker processes for simulate and render (default 2)")
    parser.add_argument("--method", choices=("majority", "dawid-skene", "swap", "all"), default="all",
                        help="consensus method(s) for aggregate (default all; the CNN trains on majority)")
    parser.add_argument("--rehearse", action="store_true",
                        help="upload to the local Panoptes test double (from a clone) instead of a dry run")


def _steps(args: argparse.Namespace, out: Path) -> list[list[str]]:
    size = SIZES["tiny" if args.tiny else args.size]
    survey = out / "mock_survey"
    catalogue = survey / "candidates.ecsv"
    subject_set, expert_set = out / "subject_set", out / "expert_set"
    export, workflows = out / "classifications.csv", out / "workflows.csv"
    jobs = ["--jobs", str(args.jobs)]
    upload = ["upload", str(subject_set), "--project", "alice/hunt"]
    upload += ["--workflow", "9", "--endpoint", "REHEARSAL"] if args.rehearse else ["--dry-run"]
    return [
        ["simulate", *size["simulate"], "--out", str(survey), "--seed", str(args.seed), *jobs],
        ["render", str(catalogue), "--select", "in_zooniverse", "--out", str(subject_set), *jobs,
         "--contact-sheet", str(out / "contact_sheet.jpg")],
        ["render", str(catalogue), "--select", "in_expert", "--out", str(expert_set), *jobs],
        upload,
        ["simulate-volunteers", str(subject_set), "--out", str(export),
         "--workflows-out", str(workflows), "--seed", str(args.seed + 1), *jobs],
        ["aggregate", str(export), "--workflows-export", str(workflows), "--experts", str(catalogue),
         "--method", args.method, "--out", str(out / "aggregate")],
        ["train-on-votes", str(subject_set), str(expert_set), "--labels", str(out / "aggregate" / "labels.csv"),
         "--catalogue", str(catalogue), *size["train"], "--seed", str(args.seed), "--out", str(out / "cnn"),
         "--force"],
        ["report", str(out / "cnn"), "--out", str(out / "report")],
    ]


def _rehearsal():  # type: ignore[no-untyped-def]
    """The local Panoptes test double of a clone, started on a free port."""
    from .._errors import InputError

    if (Path.cwd() / "tests" / "zooniverse" / "panoptes_double.py").exists() and str(Path.cwd()) not in sys.path:
        sys.path.append(str(Path.cwd()))  # the console script's path does not include the clone
    try:
        from tests.zooniverse.panoptes_double import PanoptesDouble  # type: ignore[import-not-found]
    except ImportError:
        raise InputError("--rehearse needs the Panoptes test double of a clone "
                         "(tests/zooniverse/panoptes_double.py): run the demo from the clone's root") from None
    double = PanoptesDouble(users={"alice": "pw"})
    double.add_project("alice/hunt")
    double.add_workflow("7")
    double.start()
    return double


def run(args: argparse.Namespace) -> int:
    out = check_output_dir(args.out)
    flags = ["--quiet"] if not args.progress else []
    steps = _steps(args, out)
    double = _rehearsal() if args.rehearse else None
    t_all = time.perf_counter()
    try:
        with output_folder(out, "demo"):  # interrupted in a new folder: what the demo wrote goes
            rc = _run_steps(steps, flags, double)
            if rc:
                return rc
    finally:
        if double is not None:
            double.stop()
    if not args.tiny and args.size == "small":
        say("\nnote: at --size small each CNN learns from ~120 candidates and is tested on 16: its figures are "
            "not meaningful (chance level); 'hunt-clusters demo' (--size standard) trains on ~1200 and tests on 170")
    report = (out / "report" / "report.html").resolve()
    say(f"\ndemo finished in {time.perf_counter() - t_all:.0f} s: everything is in {out}/")
    print(f"the report: {report}\n  open it in a browser: file://{report}")
    return 0


def _run_steps(steps: list[list[str]], flags: list[str], double: Any) -> int:
    """Run the steps one by one through the command line; the exit status of the first that fails, or 0."""
    from . import main

    for i, step in enumerate(steps, 1):
        saved: dict[str, str | None] = {}
        if double is not None and step[0] == "upload":
            step[step.index("REHEARSAL")] = double.url
            # the double's user, for this step only (never the user's own credentials)
            saved = {k: os.environ.get(k) for k in ("PANOPTES_USERNAME", "PANOPTES_PASSWORD")}
            os.environ.update(PANOPTES_USERNAME="alice", PANOPTES_PASSWORD="pw")
        say(f"\n[{i}/{len(steps)}] $ hunt-clusters {shlex.join(step)}", flush=True)
        t0 = time.perf_counter()
        try:
            rc = main([*flags, *step])
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        sys.stdout.flush()
        if rc != 0:
            print(f"demo: step {i} '{step[0]}' failed (exit {rc}); stopping", file=sys.stderr)
            return rc
        say(f"[{i}/{len(steps)}] {step[0]} done in {time.perf_counter() - t0:.0f} s", flush=True)
    return 0
