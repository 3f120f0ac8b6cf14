from __future__ import annotations

import pytest

from hunt_clusters import __version__
from hunt_clusters.cli import build_parser, main

PIPELINE_ORDER = ["simulate", "render", "upload", "aggregate", "train-on-votes", "report", "demo"]


def test_help_lists_stages_in_pipeline_order(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    positions = [out.index(f"    {name}") for name in PIPELINE_ORDER]
    assert positions == sorted(positions)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"hunt-clusters {__version__}"


def test_no_command_prints_help_and_returns_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: hunt-clusters" in capsys.readouterr().out


def test_every_subcommand_has_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():  # type: ignore[union-attr]
        assert p.format_help().startswith("usage: hunt-clusters " + name)
