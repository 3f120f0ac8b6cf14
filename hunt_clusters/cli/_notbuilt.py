"""Shared behaviour of subcommands that a later issue builds."""

from __future__ import annotations

import argparse
import sys


def not_built(name: str, what: str) -> int:
    """Print one plain line saying that ``name`` is not built yet and return exit status 2."""
    print(f"hunt-clusters {name}: not built yet ({what}); see the project's open issues.", file=sys.stderr)
    return 2


def add_passthrough(parser: argparse.ArgumentParser) -> None:
    """Accept any arguments so that the 'not built yet' line is what the user sees."""
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
