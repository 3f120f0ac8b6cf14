"""``hunt-clusters retire``: the CNN and the volunteers together decide which subjects retire."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._paths import check_output_dir, non_negative_int
from ._upload import add_connection_arguments, config_from_args

NAME = "retire"
HELP = "CNN + volunteers: a posterior per subject, then retire / more eyes (priority) / to the experts"
DESCRIPTION = """\
Combine the votes so far (aggregate's output) with the CNN's predictions (predict's output): the
CNN's ensemble mean is each subject's prior, every vote adds the evidence its volunteer's SWAP
skill gives it (skills learned on aggregate's expert-classified subjects, folds.csv), and a decision follows:

  retire-cluster       posterior >= --retire-cluster      (default 0.95, Space Warps' SWAP)
  retire-non-cluster   posterior <= --retire-non-cluster  (default 1e-7, Space Warps' SWAP)
  experts              CNN and volunteers each >= --disagree sure of opposite sides (0.9), or the
                       CNN ensemble's spread >= --max-spread (0.25), or undecided after --max-votes (20)
  more-eyes            the rest, with a priority: 1 = most uncertain posterior, show first

(a decision other than more-eyes needs --min-votes votes, default 3 as Gravity Spy's example rule;
Gravity Spy's own thresholds: --retire-cluster 0.9 --retire-non-cluster 0.1). Writes into --out:

  decisions.csv         one row per subject: candidate_id, subject_id, n_votes, p_cnn, p_cnn_std,
                        log_bayes_volunteers, p_volunteers, p_posterior, decision, reason,
                        information, priority
  caesar_extracts.csv   the scores for Caesar (Workflow.import_caesar_data_extracts)
  caesar_rules.json     Caesar reducers, rules and effects that apply the same thresholds server-side

With --apply --workflow ID the retirements are sent to Zooniverse (panoptes-client's
Workflow.retire_subjects, reason --reason) and, with --expert-set ID, the expert subjects are
linked to that set; --dry-run prints the requests instead. Credentials as for 'hunt-clusters upload'.

examples:
  hunt-clusters retire results/ --predictions predictions.csv --out retire/
  hunt-clusters retire results/ --predictions predictions.csv --out retire/ \\
      --apply --workflow 1234 --expert-set 5678 --dry-run
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("votes", type=Path, metavar="VOTES",
                        help="aggregate's output folder (votes.parquet + folds.csv), or a votes .parquet / .csv")
    parser.add_argument("--predictions", type=Path, metavar="CSV",
                        help="predict's output (candidate_id, p_cluster, p_cluster_std); default: no CNN prior")
    parser.add_argument("--gold", type=Path, metavar="CSV",
                        help="gold labels for SWAP's skills (candidate_id, expert_class[, role]); "
                             "default: every expert-classified subject of the VOTES folder's folds.csv")
    parser.add_argument("--ledger", type=Path, metavar="CSV",
                        help="upload_ledger.csv: subject ids of candidates without votes yet (for Caesar)")
    parser.add_argument("--out", "-o", type=Path, required=True, metavar="DIR", help="output folder (created)")
    th = parser.add_argument_group("thresholds (docs/human-machine.md gives their sources)")
    th.add_argument("--retire-cluster", type=float, default=0.95, metavar="P",
                    help="retire as cluster at posterior >= P (default 0.95, SWAP detection threshold)")
    th.add_argument("--retire-non-cluster", type=float, default=1e-7, metavar="P",
                    help="retire as non-cluster at posterior <= P (default 1e-7, SWAP rejection threshold)")
    th.add_argument("--min-votes", type=non_negative_int, default=3, metavar="N",
                    help="votes needed before any decision but more-eyes (default 3; 0 lets the CNN alone retire)")
    th.add_argument("--max-votes", type=non_negative_int, default=20, metavar="N",
                    help="undecided after N votes: to the experts (default 20, the workflow's count; 0: never)")
    th.add_argument("--disagree", type=float, default=0.9, metavar="P",
                    help="CNN and volunteers each at least P sure of opposite sides: to the experts (default 0.9)")
    th.add_argument("--max-spread", type=float, default=0.25, metavar="S",
                    help="CNN ensemble spread p_cluster_std >= S: to the experts (default 0.25)")
    th.add_argument("--no-cnn-prior", action="store_true",
                    help="SWAP alone: do not use the CNN as prior (its scores still decide 'disagree')")
    th.add_argument("--cnn-floor", type=float, default=1e-3, metavar="P",
                    help="clip the CNN's probability to [P, 1-P] before it becomes a prior (default 1e-3)")
    zoo = parser.add_argument_group("applying the decisions on Zooniverse")
    zoo.add_argument("--apply", action="store_true", help="send the retirements (and expert links) to Zooniverse")
    zoo.add_argument("--workflow", metavar="ID", help="the volunteers' workflow id (with --apply)")
    zoo.add_argument("--expert-set", metavar="ID", help="subject set id for the 'experts' subjects")
    zoo.add_argument("--reason", default="consensus",
                     help="retirement reason sent to Panoptes (default consensus; also other, human, ...)")
    zoo.add_argument("--dry-run", action="store_true", help="with --apply: print the requests, send nothing")
    add_connection_arguments(zoo)


def run(args: argparse.Namespace) -> int:
    from .._errors import InputError
    from ..retire import RetireConfig, attach_ledger, decide, read_gold, read_predictions, read_votes, write_outputs

    if args.apply and not args.workflow:
        print("hunt-clusters retire: --apply needs --workflow ID", file=sys.stderr)
        return 2
    config = RetireConfig(
        retire_cluster=args.retire_cluster, retire_non_cluster=args.retire_non_cluster,
        min_votes=args.min_votes, max_votes=args.max_votes or None, disagree=args.disagree,
        max_spread=args.max_spread, cnn_prior=not args.no_cnn_prior, cnn_floor=args.cnn_floor,
    )
    out = check_output_dir(args.out)
    from .._outputs import check_folder

    check_folder(out, "retire")  # before the inputs are read, not after
    inputs = read_votes(args.votes)
    gold = read_gold(args.gold) if args.gold is not None else inputs.gold
    predictions = read_predictions(args.predictions) if args.predictions is not None else None
    if predictions is None and args.no_cnn_prior:
        raise InputError("--no-cnn-prior without --predictions: give predict's output, or drop --no-cnn-prior")
    decisions = decide(inputs.votes, predictions, gold=gold, config=config)
    if args.ledger is not None:
        decisions = attach_ledger(decisions, args.ledger)
    from .._outputs import output_folder

    # a folder holding anything retire does not write is refused (its files would be mixed in)
    with output_folder(out, "retire"):
        write_outputs(decisions, out, config, expert_set=args.expert_set, reason=args.reason)
    counts = decisions["decision"].value_counts()
    print(f"{len(decisions)} subjects ({0 if gold is None else len(gold)} gold for SWAP's skills): "
          f"{counts.get('retire-cluster', 0)} retire as cluster, {counts.get('retire-non-cluster', 0)} as "
          f"non-cluster, {counts.get('experts', 0)} to the experts, {counts.get('more-eyes', 0)} need more eyes; "
          f"wrote {out / 'decisions.csv'}, caesar_extracts.csv, caesar_rules.json")
    if not args.apply:
        return 0
    from ..zooniverse import apply_retirement

    live = decisions[decisions["subject_id"].notna()]
    retire = live.loc[live["decision"].str.startswith("retire"), "subject_id"].tolist()
    experts = live.loc[live["decision"] == "experts", "subject_id"].tolist() if args.expert_set else []
    res = apply_retirement(workflow=args.workflow, retire=retire, to_experts=experts, expert_set=args.expert_set,
                           reason=args.reason, config=config_from_args(args), dry_run=args.dry_run)
    if res.dry_run:
        print("dry run: nothing was sent. Would do:")
        for line in res.plan:
            print(f"  {line}")
        return 0
    print(f"workflow {args.workflow}: {res.n_retired} subjects retired ({args.reason}), "
          f"{res.n_to_experts} linked to expert set {args.expert_set or '-'}; {res.n_requests} requests "
          f"in {res.elapsed_s:.1f} s")
    return 0
