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


#: Modules that cost tenths of a second to seconds to import; 'hunt-clusters --help' needs none.
HEAVY_MODULES = ("pandas", "numpy", "scipy", "sklearn", "pyarrow", "astropy", "matplotlib", "tensorflow", "keras",
                 "panoptes_client", "panoptes_aggregation")


@pytest.mark.parametrize("argv", [["--help"], ["aggregate", "--help"], ["render", "--help"]])
def test_help_imports_no_heavy_module(argv: list[str]) -> None:
    """Start-up: every subcommand module is imported to build the parser, so none of them may import a
    heavy library at module level (a fresh interpreter, so what other tests imported does not count)."""
    import subprocess
    import sys

    code = (
        "import contextlib, io, sys\n"
        "from hunt_clusters.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        f"    main({argv!r})\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY_MODULES!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]", f"'hunt-clusters {' '.join(argv)}' imported {out.stdout.strip()}"


def test_lazy_zooniverse_package_exports_every_name() -> None:
    """hunt_clusters.zooniverse imports its submodules on first use; every public name still resolves."""
    import hunt_clusters.zooniverse as zoo

    assert set(zoo.__all__) == set(zoo._WHERE)
    for name in zoo.__all__:
        assert getattr(zoo, name) is not None
    with pytest.raises(AttributeError, match="no_such_name"):
        zoo.no_such_name  # noqa: B018
