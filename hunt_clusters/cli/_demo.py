"""``hunt-clusters demo``: run the whole pipeline on a small mock survey."""

from __future__ import annotations

import argparse

from ._notbuilt import add_passthrough, not_built

NAME = "demo"
HELP = "run the whole pipeline on a small mock survey"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_passthrough(parser)


def run(args: argparse.Namespace) -> int:
    return not_built(NAME, HELP)
