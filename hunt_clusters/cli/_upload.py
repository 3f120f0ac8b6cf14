"""``hunt-clusters upload``: upload a rendered subject set to Zooniverse (resumable, media verified)."""

from __future__ import annotations

import argparse

from ._notbuilt import add_passthrough, not_built

NAME = "upload"
HELP = "upload a rendered subject set to Zooniverse (resumable, media verified)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_passthrough(parser)


def run(args: argparse.Namespace) -> int:
    return not_built(NAME, HELP)
