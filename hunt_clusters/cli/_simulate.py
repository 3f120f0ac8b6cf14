"""``hunt-clusters simulate``: write a mock X-CLASS survey with known truth (catalogue, X-ray and optical FITS, expert labels)."""

from __future__ import annotations

import argparse

from ._notbuilt import add_passthrough, not_built

NAME = "simulate"
HELP = "write a mock X-CLASS survey with known truth (catalogue, X-ray and optical FITS, expert labels)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_passthrough(parser)


def run(args: argparse.Namespace) -> int:
    return not_built(NAME, HELP)
