"""``hunt-clusters replay``: how much volunteer time would the CNN + SWAP have saved, measured before trusting it."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._paths import check_output_dir, positive_int

NAME = "replay"
HELP = "replay retirement and active-learning policies on a survey: classifications spent against accuracy"
DESCRIPTION = """\
Replay a survey's classifications under several retirement policies, side by side, and measure what
each spends and what it gets right, before a team trusts one with its project:

  count-N        the workflow's classification_count retirement (the baseline: N votes, majority)
  swap, swap-gs  SWAP alone (skills from gold subjects), Space Warps' thresholds 0.95 / 1e-7, and
                 Gravity Spy's 0.9 / 0.1
  swap-cnn(-gs)  SWAP with the CNN's ensemble mean as each subject's prior (Beck et al. 2018)
  cnn-0.9        the CNN alone retires what it is >= 0.9 sure of; the rest get N votes
  cnn-all        the CNN alone labels every subject (no volunteer at all)

and active learning: the CNN retrained in rounds on the labels gathered so far, the next candidates
chosen by BALD over its ensemble (Walmsley et al. 2020) or at random.

A mock survey (default): the mock crowd of the subject set draws N votes of every subject, in rounds,
and everything is scored against the truth. A real survey (--votes): the recorded votes are replayed
in time order (a policy can only stop earlier) and scored against the experts. Half of the voted
expert-classified subjects teach SWAP the volunteers' skills (--gold-fraction); they are never scored.
The CNN of the CNN policies is trained here on the expert classes of the expert set's candidates
outside the subject set (or give --predictions, from a CNN that never saw a subject set label), and
active learning is tested on those same outside candidates.

Writes into --out:
  policies.csv         policy, kind, classifications, saving, accuracy, completeness, purity,
                       to_experts, n_subjects
  curves.csv           accuracy after every step (one more vote for each open subject)
  labels.csv           every policy's final label of every subject, with the truth and its picture
  active_learning.csv  test accuracy after every round, BALD and random, with 95 % intervals
  summary.json         the savings at equal accuracy, the CNN, the timings
  predictions.csv      the CNN's predictions the CNN policies used
  figures/             curves.png (accuracy against classifications), active_learning.png
Read it with 'hunt-clusters report RUN --replay DIR'.

Time (paper-sized mock, 2 cores): see docs/human-machine.md; --no-active-learning takes about a
minute.

examples:
  hunt-clusters replay demo/ --out replay/                # a demo folder: its subject set, catalogue, expert set
  hunt-clusters replay demo/subject_set --catalogue demo/mock_survey/candidates.ecsv \\
      --expert-set demo/expert_set --out replay/
  hunt-clusters replay subjects/ --votes results/ --predictions predictions.csv --out replay/   # a real export
  hunt-clusters replay results/ --votes results/ --out replay/   # recorded votes alone (no pictures)
"""


def _schedule(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give increasing counts separated by commas, e.g. 100,200,400,800")
    if not values or any(b <= a for a, b in zip(values, values[1:])) or values[0] < 10:
        raise argparse.ArgumentTypeError(f"{text!r}: the counts must increase and start at 10 or more")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("survey", type=Path, metavar="SUBJECT_SET",
                        help="the volunteers' rendered subject set, or a demo folder (then --catalogue and "
                             "--expert-set are its own), or with --votes that same votes folder (no pictures)")
    parser.add_argument("--out", "-o", type=Path, required=True, metavar="DIR", help="output folder (created)")
    parser.add_argument("--catalogue", type=Path, metavar="ECSV",
                        help="the survey's catalogue: true_class (a mock's truth) and expert_class")
    parser.add_argument("--expert-set", type=Path, metavar="DIR",
                        help="the experts' rendered set: trains the CNN of the CNN policies and tests active "
                             "learning (its candidates outside the subject set)")
    parser.add_argument("--votes", type=Path, metavar="PATH",
                        help="a real survey: aggregate's folder (or votes table) to replay in time order; "
                             "default: a mock crowd draws the votes")
    parser.add_argument("--predictions", type=Path, metavar="CSV",
                        help="predict's output for the subject set, from a CNN trained on none of its labels "
                             "(default: train one here from the expert set)")
    parser.add_argument("--count", type=positive_int, default=20, metavar="N",
                        help="the workflow's retirement count, the baseline (default 20)")
    parser.add_argument("--gold-fraction", type=float, default=0.5, metavar="F",
                        help="share of voted expert-classified subjects SWAP learns from, never scored (0.5)")
    parser.add_argument("--cnn-confidence", type=float, default=0.9, metavar="P",
                        help="the CNN-alone policy retires what the CNN is >= P sure of (default 0.9)")
    parser.add_argument("--cnn-runs", type=positive_int, default=3, metavar="N",
                        help="networks of the CNN trained here (default 3)")
    parser.add_argument("--crowd-seed", type=int, default=1, metavar="S",
                        help="mock crowd: simulate-volunteers' --seed (the demo's: its --seed + 1; default 1)")
    parser.add_argument("--seed", type=int, default=0, help="gold draw, random selection and networks (default 0)")
    al = parser.add_argument_group("active learning")
    al.add_argument("--no-active-learning", action="store_true", help="skip it (the slow part)")
    al.add_argument("--al-schedule", type=_schedule, default=(100, 200, 400, 800), metavar="N,N,...",
                    help="labelled candidates after each round; all of them is the last (default 100,200,400,800)")
    al.add_argument("--al-runs", type=positive_int, default=3, metavar="N",
                    help="networks retrained per round, BALD over them (default 3)")
    al.add_argument("--al-epochs", type=positive_int, default=20, metavar="N",
                    help="epoch cap of each network, early stopping with patience 4 (default 20)")


def run(args: argparse.Namespace) -> int:
    from .._errors import InputError
    from .._outputs import check_folder, output_folder
    from ..retire import ActiveConfig, ReplayConfig, replay_survey
    from ._say import say

    survey: Path = args.survey
    subject_set, catalogue, expert_set = survey, args.catalogue, args.expert_set
    if (survey / "mock_survey" / "candidates.ecsv").is_file():       # a demo folder
        subject_set = survey / "subject_set"
        catalogue = catalogue or survey / "mock_survey" / "candidates.ecsv"
        if expert_set is None and (survey / "expert_set").is_dir():
            expert_set = survey / "expert_set"
    if not (subject_set / "manifest.csv").is_file():
        from .._outputs import describe_folder

        if args.votes is not None and survey.resolve() == args.votes.resolve():
            subject_set = None          # a real survey's votes alone: no pictures, no CNN trained here
        else:
            raise InputError(f"{survey}: expected a rendered subject set (manifest.csv) or a demo folder; "
                             f"found {describe_folder(survey)} (a real survey without its subject set: give "
                             "the votes folder twice, 'replay VOTES --votes VOTES')")
    try:
        config = ReplayConfig(
            count=args.count, gold_fraction=args.gold_fraction, crowd_seed=args.crowd_seed, seed=args.seed,
            cnn_confidence=args.cnn_confidence, cnn_runs=args.cnn_runs,
            active=None if args.no_active_learning else ActiveConfig(
                schedule=args.al_schedule, runs=args.al_runs, epochs=args.al_epochs, seed=args.seed,
                votes_per_label=args.count))
    except ValueError as exc:
        raise InputError(str(exc)) from None
    out = check_output_dir(args.out)
    check_folder(out, "replay")  # before the inputs are read, not after
    with output_folder(out, "replay"):
        summary = replay_survey(subject_set, out, catalogue=catalogue, expert_set=expert_set, votes=args.votes,
                                predictions=args.predictions, config=config, progress=not args.quiet, say=say)
    import pandas as pd

    table = pd.read_csv(out / "policies.csv")
    say("")
    say(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    eq = summary["equal_accuracy"]
    base = summary["baseline"]
    say(f"\nthe {base} consensus's accuracy is first reached with:")
    for name, e in eq.items():
        n = e["classifications"]
        say(f"  {name:14s} " + ("never" if n is None else f"{n} classifications"
                                + (f" ({e['saving']:.1f}x fewer)" if e["saving"] else "")))
    al = summary.get("active_learning")
    if al:
        need = al["labels_needed"]
        frac = al.get("saving_fraction")
        verdict = ("" if frac is None else f": {frac:.0%} fewer with BALD" if frac >= 0
                   else f": BALD needed {need['bald'] / need['random']:.1f}x as many")
        say(f"active learning: test accuracy within {al['tolerance'] * 100:.0f} point of training on all "
            f"{al['pool']} ({al['final_accuracy']:.3f}) with {need.get('bald') or 'never'} labels chosen by BALD, "
            f"{need.get('random') or 'never'} at random{verdict}")
    say(f"({summary['seconds']['total']:.0f} s)")
    print(out)
    return 0
