"""The CLI reference (docs/cli.md), generated from the argument parser so that it cannot drift."""

from __future__ import annotations

import argparse
import os


def cli_reference() -> str:
    """Markdown: ``hunt-clusters --help`` and every command's ``--help``, in pipeline order.

    ``python -m hunt_clusters.cli._reference > docs/cli.md`` writes the file; a test checks that the
    file in the repository is what this returns.
    """
    from . import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal; the file must not depend on it
    try:
        parser = build_parser()
        parts = ["# Command-line reference", "",
                 "Generated from the parser (`python -m hunt_clusters.cli._reference > docs/cli.md`); "
                 "`hunt-clusters COMMAND --help` prints the same.", "",
                 "## hunt-clusters", "", "```text", parser.format_help().rstrip(), "```", ""]
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        for name, p in sub.choices.items():
            parts += [f"## hunt-clusters {name}", "", "```text", p.format_help().rstrip(), "```", ""]
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    print(cli_reference(), end="")
