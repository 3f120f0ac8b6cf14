"""``hunt-clusters aggregate``: turn a classification export into votes, consensus labels and volunteer-vs-expert metrics."""

from __future__ import annotations

import argparse

from ._notbuilt import add_passthrough, not_built

NAME = "aggregate"
HELP = "turn a classification export into votes, consensus labels and volunteer-vs-expert metrics"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_passthrough(parser)


def run(args: argparse.Namespace) -> int:
    return not_built(NAME, HELP)
