"""``hunt-clusters simulate``: write a mock X-CLASS survey with known truth (catalogue, X-ray and optical FITS, expert labels)."""

from __future__ import annotations

import argparse
import dataclasses
import os

from .._scheduler import add_scheduler_argument, client_for
from ._paths import check_output_dir, positive_int

NAME = "simulate"
HELP = "write a mock X-CLASS survey with known truth (catalogue, X-ray and optical FITS, expert labels)"
DESCRIPTION = """\
Write a mock X-CLASS survey whose truth is known, in exactly the files a real survey gives the
rest of the pipeline (see docs/formats.md and docs/mock-survey.md):

  DIR/candidates.ecsv          one row per candidate: position, XAmin-like extent / EXT_LIKE /
                               count rate, redshift, expert_class, spec_class, true_class, samples
  DIR/xray/<id>.fits.gz        XMM EPIC-like 0.5-2 keV counts (2.5"/pixel, TAN WCS) with EXPOSURE
                               and BACKGROUND extensions
  DIR/optical/<id>.fits.gz     DSS2-red-like 16-bit image (1"/pixel, TAN WCS)

Candidates are clusters (low-z, hi-z), nearby galaxies, bright point sources and artefacts, with
the sizes of Kosiba et al. (2020): 1707 classified by experts, 1600 for Zooniverse, 404 in both,
a spectroscopic test set of 85 clusters + 85 non-clusters inside the overlap. The experts'
labels (expert_class) come from the rendered pictures alone, as 'hunt-clusters simulate-experts'
gives them for the rendered expert set (docs/mock-volunteers.md). The same --seed
always writes the same survey, whatever --jobs. Prints the class mix, the redshift distribution
and the experts' confusion matrix.

examples:
  hunt-clusters simulate --small --out mock_survey            # ~290 candidates, seconds
  hunt-clusters simulate --out survey --seed 7 --jobs 2       # paper-sized, a few minutes
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write the survey into")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="master random seed (default 0)")
    parser.add_argument(
        "--small", action="store_true", help="a tenth of the paper's sizes (~290 candidates), for tests and demos"
    )
    sizes = parser.add_argument_group("sample sizes (defaults: the paper's, or a tenth with --small)")
    sizes.add_argument("--n-expert", type=int, metavar="N", help="candidates classified by experts (1707)")
    sizes.add_argument("--n-zooniverse", type=int, metavar="N", help="candidates shown on Zooniverse (1600)")
    sizes.add_argument("--n-overlap", type=int, metavar="N", help="candidates in both samples (404)")
    sizes.add_argument("--n-test-clusters", type=int, metavar="N", help="spectroscopic clusters in the test set (85)")
    sizes.add_argument(
        "--n-test-noncluster", type=int, metavar="N", help="spectroscopic non-clusters in the test set (85)"
    )
    default_jobs = min(os.cpu_count() or 1, 4)
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=default_jobs,
        metavar="N",
        help=f"worker processes for the images (default {default_jobs}: the CPUs here, at most 4); "
        "results do not depend on it",
    )
    add_scheduler_argument(parser)


def run(args: argparse.Namespace) -> int:
    from .._outputs import output_folder
    from ..mock import SurveyConfig, format_summary, simulate_survey
    from ._say import say

    check_output_dir(args.out)
    config = SurveyConfig.small(seed=args.seed) if args.small else SurveyConfig(seed=args.seed)
    changes = {
        name: getattr(args, name)
        for name in ("n_expert", "n_zooniverse", "n_overlap", "n_test_clusters", "n_test_noncluster")
        if getattr(args, name) is not None
    }
    if changes:
        config = dataclasses.replace(config, **changes)
    with output_folder(args.out, "simulate"), client_for(args.scheduler, fork=True) as client:
        result = simulate_survey(args.out, config, jobs=args.jobs, progress=args.progress, client=client)
    say(format_summary(result.catalogue))
    say()
    print(f"wrote {result.catalogue_path} and {len(result.catalogue)} X-ray + optical FITS pairs")
    return 0
