"""``hunt-clusters render``: draw X-ray contours over optical images for volunteers and write CNN tensors."""

from __future__ import annotations

import argparse

from ._notbuilt import add_passthrough, not_built

NAME = "render"
HELP = "draw X-ray contours over optical images for volunteers and write CNN tensors"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_passthrough(parser)


def run(args: argparse.Namespace) -> int:
    return not_built(NAME, HELP)
