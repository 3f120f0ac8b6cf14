from __future__ import annotations

import os
from pathlib import Path

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


def test_one_command_parser_is_the_full_parsers_subcommand() -> None:
    """main() builds only the subcommand it is given: same options, help and defaults as in the full parser."""
    from hunt_clusters.cli import COMMANDS

    full = next(a for a in build_parser()._actions if a.dest == "command").choices  # type: ignore[union-attr]
    for modname in COMMANDS:
        alone = next(a for a in build_parser(only=modname)._actions if a.dest == "command").choices  # type: ignore[union-attr]
        ((name, p),) = alone.items()
        assert p.format_help() == full[name].format_help()


def test_a_named_command_does_not_import_the_others() -> None:
    """Start-up of 'hunt-clusters aggregate ...': neither the other subcommand modules nor the HTTP stack
    (requests, which the upload/workflow/export modules load through the zooniverse stage)."""
    import subprocess
    import sys

    code = (
        "import contextlib, io, sys\n"
        "from hunt_clusters.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['-q', 'aggregate', '--help'])\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    loaded = set(out.stdout.split())
    from hunt_clusters.cli import COMMANDS

    assert {m for m in COMMANDS if f"hunt_clusters.cli.{m}" in loaded} == {"_aggregate"}
    assert "requests" not in loaded


# -- usage errors and file-system errors: one wording, one line, before the work -----------------
def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, option",
    [
        (["simulate", "--out", "s", "--jobs", "0"], "--jobs"),
        (["render", "cat.ecsv", "--jobs", "0"], "-j/--jobs"),
        (["render", "cat.ecsv", "--per-class", "0"], "--per-class"),
        (["simulate-volunteers", "--rows", "10", "--out", "e.csv", "--jobs", "0"], "--jobs"),
        (["simulate-volunteers", "--rows", "0", "--out", "e.csv"], "--rows"),
        (["upload", "set", "--project", "a/b", "--threads", "0"], "--threads"),
        (["aggregate", "e.csv", "--out", "o", "--block-mb", "0"], "--block-mb"),
    ],
)  # fmt: skip
def test_counts_below_one_are_usage_errors(argv: list[str], option: str, capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(argv, capsys)
    assert f"argument {option}: must be a whole number of at least 1, not '0'" in err


def test_retries_and_timeout_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(["export", "--project", "a/b", "--out", "e.csv", "--retries", "-1"], capsys)
    assert "argument --retries: must be a whole number of at least 0, not '-1'" in err
    err = _usage_error(["export", "--project", "a/b", "--out", "e.csv", "--timeout", "0"], capsys)
    assert "argument --timeout: must be a number above 0, not '0'" in err


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    """A file and a folder where the other is wanted."""
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_folder").mkdir()
    return {"file": tmp_path / "a_file", "folder": tmp_path / "a_folder", "under_file": tmp_path / "a_file" / "x.jpg"}


@pytest.mark.parametrize(
    "argv, message",
    [
        # the inputs do not exist: the outputs are checked before anything is read
        (["render", "{missing}", "--out", "{file}"], "{file}: is a file; --out needs a folder"),
        (["render", "{missing}", "--out", "{folder}", "--contact-sheet", "{folder}"],
         "{folder}: is a folder; --contact-sheet needs a file name"),
        (["render", "{missing}", "--out", "{folder}", "--contact-sheet", "{under_file}"],
         "{file}: is a file, not a folder; --contact-sheet {under_file} cannot be created under it"),
        (["render", "{missing}", "--out", "{folder}", "--kosiba-layout", "{file}"],
         "{file}: is a file; --kosiba-layout needs a folder"),
        (["aggregate", "{missing}", "--out", "{file}"], "{file}: is a file; --out needs a folder"),
        (["simulate", "--small", "--out", "{file}"], "{file}: is a file; --out needs a folder"),
        (["simulate-volunteers", "--rows", "10", "--out", "{folder}"], "{folder}: is a folder; --out needs a file name"),
        (["simulate-volunteers", "--rows", "10", "--out", "{under_file}"],
         "{file}: is a file, not a folder; --out {under_file} cannot be created under it"),
        (["simulate-volunteers", "--rows", "10", "--out", "{missing}", "--workflows-out", "{folder}"],
         "{folder}: is a folder; --workflows-out needs a file name"),
        (["export", "--project", "a/b", "--out", "{folder}", "--endpoint", "http://127.0.0.1:9"],
         "{folder}: is a folder; --out needs a file name"),
        (["workflow", "pull", "{folder}", "--workflow", "1", "--endpoint", "http://127.0.0.1:9"],
         "{folder}: is a folder; FILE needs a file name"),
    ],
)  # fmt: skip
def test_output_path_errors_are_one_line_before_the_work(
    argv: list[str], message: str, places: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = {**{k: str(v) for k, v in places.items()}, "missing": str(tmp_path / "missing.csv")}
    rc = main(["-q", *(a.format(**names) for a in argv)])
    err = capsys.readouterr().err
    assert rc == 1
    assert err == f"error: {message.format(**names)}\n"
    assert not (tmp_path / "missing.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "a_folder"]  # nothing half-written


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a user that permissions apply to")
def test_output_folder_without_permission(places: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    folder = places["folder"]
    folder.chmod(0o500)
    try:
        rc = main(["-q", "simulate-volunteers", "--rows", "10", "--out", str(folder / "e.csv")])
    finally:
        folder.chmod(0o700)
    assert rc == 1
    assert capsys.readouterr().err == f"error: {folder}: permission denied (cannot create --out {folder / 'e.csv'} in it)\n"


@pytest.mark.parametrize(
    "exc, line",
    [
        (PermissionError(13, "Permission denied", "out/labels.csv"), "error: out/labels.csv: Permission denied"),
        (OSError(28, "No space left on device", "out/votes.parquet"), "error: out/votes.parquet: No space left on device"),
        (IsADirectoryError(21, "Is a directory"), "error: Is a directory"),
    ],
)  # fmt: skip
def test_any_os_error_is_one_line_exit_1(exc: OSError, line: str, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from hunt_clusters.cli import _simulate

    def fail(args: object) -> int:
        raise exc

    monkeypatch.setattr(_simulate, "run", fail)
    assert main(["simulate", "--out", "s"]) == 1
    err = capsys.readouterr().err
    assert err == line + "\n" and "Traceback" not in err


def test_cli_reference_in_docs_is_current() -> None:
    """docs/cli.md is generated from the parser; regenerate it with
    ``python -m hunt_clusters.cli._reference > docs/cli.md`` after changing an option."""
    from pathlib import Path

    from hunt_clusters.cli._reference import cli_reference

    doc = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
    assert doc.read_text() == cli_reference()
