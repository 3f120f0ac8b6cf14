"""``hunt-clusters export``: download a classification, subject or workflow export from Zooniverse."""

from __future__ import annotations

import argparse

from ._notbuilt import add_passthrough, not_built

NAME = "export"
HELP = "download a classification, subject or workflow export from Zooniverse"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_passthrough(parser)


def run(args: argparse.Namespace) -> int:
    return not_built(NAME, HELP)
