"""``hunt-clusters render``: draw X-ray contours over optical images for volunteers and write CNN tensors."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
from dataclasses import fields
from pathlib import Path

from .._scheduler import add_scheduler_argument, client_for
from ._paths import check_output_dir, check_output_file, positive_int

NAME = "render"
HELP = "draw X-ray contours over optical images for volunteers and write CNN tensors"
DESCRIPTION = """\
Make a subject set: for each candidate, the optical image (stretched) with the X-ray emission drawn
as contours over it, the picture a volunteer judges on Zooniverse; plus the CNN tensors.

The input is either a spec file from subject_sets/ (which catalogue, which candidates, which render
options: reproducible) or a candidate catalogue (docs/formats.md). The output folder holds
<candidate_id>.jpg (.png with --format png; at most 1 MiB each), manifest.csv (for 'hunt-clusters
upload' or 'panoptes subject-set upload-subjects'), tensors.npz (x: float32 (N, S, S, 2) [optical, X-ray]) and
render_failures.csv. Candidates that cannot be drawn (outside the images, no X-ray counts, no WCS)
are listed at the end; the others are still rendered; the exit status is 1 if any failed.
Re-running redraws only what is out of date (use --force to redraw everything).

examples:
  hunt-clusters simulate --small --out mock_survey
  hunt-clusters render subject_sets/zooniverse.yaml --jobs 2
  hunt-clusters render mock_survey/candidates.ecsv --out subject_sets/test --select in_expert \\
      --format jpeg --fov 8 --contact-sheet docs/img/contact_sheet.png
  hunt-clusters render subject_sets/expert_overlap.yaml --kosiba-layout kosiba/ --kosiba-class expert

See docs/render.md for the options and how contours and levels are computed.
"""

log = logging.getLogger(__name__)

# CLI flag -> RenderConfig field, with the type and help.
_OPTIONS: tuple[tuple[str, str, type, str], ...] = (
    ("--fov", "fov_arcmin", float, "field of view, arcmin (default 6)"),
    ("--size", "size", int, "image side in pixels (default 512)"),
    ("--format", "format", str, "jpeg or png (default jpeg: 2.6x fewer bytes, same lines)"),
    ("--jpeg-quality", "jpeg_quality", int, "starting JPEG quality (default 90)"),
    ("--interval", "interval", str, "optical limits: sky (sky at one grey, bright end at the "
     "percentile), percentile or zscale (default sky)"),
    ("--sky-grey", "sky_grey", float, "grey level of the sky for --interval sky, 0-1 (default 0.15)"),
    ("--percentile", "percentile", float, "percentile interval (default 99.5)"),
    ("--stretch", "stretch", str, "optical stretch: asinh, log, sqrt, linear (default asinh)"),
    ("--smooth", "smooth_arcsec", float, "X-ray Gaussian smoothing sigma, arcsec (default 8)"),
    ("--levels", "n_levels", int, "number of contour levels (default 6)"),
    ("--min-sigma", "min_sigma", float, "lowest contour, in noise sigmas above background (default 3)"),
    ("--peak-radius", "peak_radius_arcmin", float, "top level from the X-ray peak within this radius "
     "of the candidate, arcmin; 0 = whole field (default 1)"),
    ("--colors", "colors", str, "contour colours, outer to inner, e.g. '#00ff66,#ffee00'"),
    ("--line-width", "line_width", float, "contour width in output pixels (default 2)"),
    ("--scale-bar", "scale_bar_arcmin", float, "scale bar length in arcmin, 0 = none (default 1)"),
    ("--tensor-size", "tensor_size", int, "CNN tensor side in pixels (default 128)"),
    ("--tensor-fov", "tensor_fov_arcmin", float, "CNN tensor field, arcmin (default 6)"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="a spec file (subject_sets/*.yaml) or a candidate catalogue")
    parser.add_argument("--out", type=Path, help="subject set folder (default: from the spec, or "
                        "subject_sets/<catalogue name>)")
    parser.add_argument("--select", help="'all' or boolean columns joined by '&', e.g. 'in_zooniverse'")
    parser.add_argument("--candidates", nargs="+", metavar="ID", help="only these candidate ids")
    default_jobs = min(os.cpu_count() or 1, 4)
    parser.add_argument("-j", "--jobs", type=positive_int, default=default_jobs,
                        help=f"worker processes (default {default_jobs}: the CPUs here, at most 4); the "
                        "output is byte for byte the same with any number")
    add_scheduler_argument(parser)
    parser.add_argument("--force", action="store_true",
                        help="redraw subjects that are up to date (in a folder holding only what render wrote)")
    parser.add_argument("--no-tensors", action="store_true", help="do not write tensors.npz")
    parser.add_argument("--require-contours", action="store_true",
                        help="a subject without any X-ray contour is a failure, not drawn (by default it "
                        "is drawn, reported and marked '#contour_levels' 0 in the manifest)")
    look = parser.add_argument_group("drawing options (override the spec file's render: block)")
    for flag, dest, typ, text in _OPTIONS:
        look.add_argument(flag, dest=f"opt_{dest}", type=typ, default=None, help=text)
    look.add_argument("--no-compass", dest="opt_compass", action="store_const", const=False,
                      default=None, help="no north/east arrows")
    look.add_argument("--no-antialias", dest="opt_antialias", action="store_const", const=False,
                      default=None, help="draw contours without anti-aliasing (faster)")
    kos = parser.add_argument_group("Kosiba et al. (2020) dataset layout")
    kos.add_argument("--kosiba-layout", type=Path, metavar="DIR",
                     help="also write <id>.png 356x356x3 [empty, optical, X-ray] + train.csv/test.csv")
    kos.add_argument("--kosiba-class", choices=("expert", "true"), default=None,
                     help="class column of the CSVs: expert_class or true_class (default expert)")
    kos.add_argument("--kosiba-split", metavar="COLUMN|FRACTION", default=None,
                     help="boolean test column (default in_test when present) or a test fraction")
    sheet = parser.add_argument_group("looking at it")
    sheet.add_argument("--contact-sheet", type=Path, metavar="FILE",
                       help="also write a grid of subjects captioned with their (true or expert) class")
    sheet.add_argument("--per-class", type=positive_int, default=5, help="subjects per class on the sheet (default 5)")


def run(args: argparse.Namespace) -> int:
    from ..subjects import (
        RenderConfig,
        class_captions,
        contact_sheet,
        load_spec,
        render_subject_set,
        select_candidates,
    )
    from .._outputs import output_folder
    from ..sky import read_candidates

    overrides = {f.name: getattr(args, f"opt_{f.name}", None) for f in fields(RenderConfig)}
    source = Path(args.source)
    if source.suffix.lower() in (".yaml", ".yml"):
        spec = load_spec(source)
        catalogue, out = spec.catalogue, args.out or spec.out
        config = RenderConfig.from_mapping(overrides, base=spec.config, source="command line")
        select = args.select if args.select is not None else spec.select
        candidates = args.candidates if args.candidates is not None else spec.candidates
        tensors = spec.tensors and not args.no_tensors
        kosiba = args.kosiba_layout or spec.kosiba_layout
        kclass = args.kosiba_class or spec.kosiba_class
        ksplit = args.kosiba_split if args.kosiba_split is not None else spec.kosiba_split
        sheet = args.contact_sheet or spec.contact_sheet
    else:
        catalogue = source
        out = args.out or Path("subject_sets") / source.stem
        config = RenderConfig.from_mapping(overrides, source="command line")
        select, candidates, tensors = args.select, args.candidates, not args.no_tensors
        kosiba, kclass, ksplit, sheet = (args.kosiba_layout, args.kosiba_class or "expert",
                                         args.kosiba_split, args.contact_sheet)
    # where it all goes, checked before anything is read or drawn
    check_output_dir(out, "--out")
    if kosiba is not None:
        check_output_dir(kosiba, "--kosiba-layout")
    if sheet is not None:
        check_output_file(sheet, "--contact-sheet")
    # a folder holding anything render does not write is refused: --force redraws only what render wrote
    with contextlib.ExitStack() as stack:
        stack.enter_context(output_folder(out, "render"))
        if kosiba is not None:
            stack.enter_context(output_folder(kosiba, "kosiba-layout", option="--kosiba-layout"))
        with client_for(args.scheduler, fork=True) as client:
            summary = render_subject_set(
                catalogue, out, config=config, select=select, candidates=candidates, jobs=args.jobs,
                force=args.force, tensors=tensors, kosiba_dir=kosiba, kosiba_class=kclass,
                kosiba_split=ksplit, progress=args.progress, require_contours=args.require_contours,
                client=client,
            )
        if sheet is not None:
            table = select_candidates(read_candidates(catalogue, validate=False), select, candidates)
            contact_sheet(out, class_captions(table), sheet, per_class=args.per_class)
    text = summary.summary()
    if summary.ok:
        (log.warning if summary.has_warnings else log.info)(text)
    else:
        log.error(text)
        log.error("failures also written to %s", Path(out) / "render_failures.csv")
    return 0 if summary.ok else 1
