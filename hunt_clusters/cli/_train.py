"""``hunt-clusters train-on-votes``: train the CNN on the volunteers' labels and compare it with the experts."""

from __future__ import annotations

import argparse

from ._notbuilt import add_passthrough, not_built

NAME = "train-on-votes"
HELP = "train the CNN on the volunteers' labels and compare it with the experts"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_passthrough(parser)


def run(args: argparse.Namespace) -> int:
    return not_built(NAME, HELP)
