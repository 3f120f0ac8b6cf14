"""``hunt-clusters report``: write the HTML comparison report of a training run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "report"
HELP = "write the HTML comparison report of a train-on-votes run folder"
DESCRIPTION = """\
Read a train-on-votes run folder (docs/formats.md, "Training run folder") and write:

  REPORT_DIR/report.html   one self-contained page (figures embedded, no JavaScript, opens offline)
  REPORT_DIR/metrics.json  every number the page shows
  REPORT_DIR/figures/      the figures as PNG files

The page has five parts: the survey (candidates per class, redshift and X-ray count rate, a gallery
of subjects as volunteers saw them); volunteers vs experts on the overlap (confusion matrices,
accuracy, Cohen's kappa, agreement by number of votes, the subjects they disagree on most); the CNN
(accuracy over runs on the spectroscopic test set beside the volunteers, the experts and the paper's
90%, ROC curves, calibration, training curves); the selection function (completeness and purity
against redshift and count rate); and what was run (command, seeds, timings, versions).

Only metrics.json is required; a section whose inputs are missing says what is missing.

With --replay REPLAY_DIR (the folder of 'hunt-clusters replay') the page gains a section "Human +
machine": a verdict (the best retirement policy's saving of volunteer classifications at the count
baseline's accuracy, its change in completeness, the active-learning saving, each against the goals
and the published anchors), the policies table, accuracy against classifications, active learning
(BALD vs random), and pictures of the subjects the machine policy retired wrongly; its numbers go to
metrics.json under "human_machine".

examples:
  hunt-clusters report runs/votes --out report/
  hunt-clusters report runs/votes --out report/ --replay replay/
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the train-on-votes run folder")
    parser.add_argument("--out", "-o", type=Path, required=True, metavar="REPORT_DIR",
                        help="folder for report.html, metrics.json and figures/ (created; an existing one is "
                             "written into only if it holds nothing but a report)")
    parser.add_argument("--replay", type=Path, metavar="REPLAY_DIR",
                        help="a 'hunt-clusters replay' folder (policies.csv, curves.csv, labels.csv, summary.json, "
                             "optionally active_learning.csv): add the section \"Human + machine\"")


def run(args: argparse.Namespace) -> int:
    from .._outputs import output_folder
    from ..report import read_replay_folder, read_run_folder, write_report

    read_run_folder(args.run_dir)  # a run folder, or one line saying what it is, before --out is touched
    if args.replay is not None:
        read_replay_folder(args.replay)  # the same for the replay folder
    with output_folder(args.out, "report"):  # only a folder holding a report (or nothing) is written into
        path = write_report(args.run_dir, args.out, progress=args.progress, replay=args.replay)
    print(f"wrote {path}")
    return 0
