"""``hunt-clusters simulate-volunteers``: write a mock Zooniverse classification export for a subject set."""

from __future__ import annotations

import argparse

from ._notbuilt import add_passthrough, not_built

NAME = "simulate-volunteers"
HELP = "write a mock Zooniverse classification export for a subject set"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_passthrough(parser)


def run(args: argparse.Namespace) -> int:
    return not_built(NAME, HELP)
