"""``hunt-clusters workflow``: push or pull the workflow definition (question, answers, retirement)."""

from __future__ import annotations

import argparse

from ._notbuilt import add_passthrough, not_built

NAME = "workflow"
HELP = "push or pull the workflow definition (question, answers, retirement)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_passthrough(parser)


def run(args: argparse.Namespace) -> int:
    return not_built(NAME, HELP)
