"""``hunt-clusters report``: write the HTML comparison report."""

from __future__ import annotations

import argparse

from ._notbuilt import add_passthrough, not_built

NAME = "report"
HELP = "write the HTML comparison report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_passthrough(parser)


def run(args: argparse.Namespace) -> int:
    return not_built(NAME, HELP)
