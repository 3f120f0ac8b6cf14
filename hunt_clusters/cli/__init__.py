"""The ``hunt-clusters`` command: one entry point, subcommands in pipeline order.

Each subcommand lives in its own private module (``_simulate.py``, ``_render.py``, ...) exposing
``NAME``, ``HELP``, ``DESCRIPTION``, ``add_arguments(parser)`` and ``run(args) -> int``. The
modules only parse arguments and call library functions of the stages.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from .._errors import HuntClustersError

log = logging.getLogger("hunt_clusters")

#: Subcommand modules in pipeline order (what ``--help`` lists, top to bottom).
COMMANDS: tuple[str, ...] = (
    "_simulate",
    "_render",
    "_upload",
    "_workflow",
    "_export",
    "_simulate_volunteers",
    "_simulate_experts",
    "_aggregate",
    "_train",
    "_predict",
    "_retire",
    "_replay",
    "_report",
    "_demo",
)

_EPILOG = """\
pipeline:
  candidates + X-ray + optical images
    -> render          contour overlays for volunteers + CNN tensors (subject set folder)
    -> upload          the subject set to Zooniverse (resumable, verified)
    -> export          the classification export from Zooniverse
    -> aggregate       votes -> consensus labels, volunteers vs experts
    -> train-on-votes  a CNN trained on the volunteers' labels
    -> predict         score new candidates with a trained CNN
    -> retire          CNN + volunteers: retire early, more eyes by priority, to the experts
    -> replay          what each retirement / active-learning policy would have saved, measured
    -> report          the comparison report
  simulate / simulate-volunteers / demo run all of it on a mock survey with known truth.

Run 'hunt-clusters COMMAND --help' for the options of one step.
"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand, in pipeline order.

    ``only`` (a module of `COMMANDS`, e.g. ``"_aggregate"``) builds the parser with that subcommand
    alone and imports no other subcommand module: what `main` does when the command line names one.
    """
    parser = argparse.ArgumentParser(
        prog="hunt-clusters",
        description=(
            "Confirm X-ray galaxy cluster candidates with Zooniverse volunteers and a CNN, "
            "following Kosiba et al. 2020 (MNRAS 496, 4141)."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hunt-clusters {__version__}")
    _add_verbosity(parser, False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for modname in COMMANDS if only is None else (only,):
        module = importlib.import_module(f"{__name__}.{modname}")
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        _add_verbosity(p, argparse.SUPPRESS)  # also after the command: 'hunt-clusters aggregate x.csv -q'
        p.set_defaults(_run=module.run)
    return parser


def _add_verbosity(parser: argparse.ArgumentParser, default: object) -> None:
    """``-v`` / ``-q``, before the command (``default`` False) and after it (``argparse.SUPPRESS``:
    not given there, the value given before the command stays)."""
    group = parser.add_argument_group("output") if default is argparse.SUPPRESS else parser
    verbosity = group.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="debug logging and full tracebacks on errors"
    )
    verbosity.add_argument(
        "-q", "--quiet", action="store_true", default=default,
        help="only warnings, errors and the path of the result; no progress bars or tables",
    )


def _configure_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s" if not verbose else "%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("hunt_clusters")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _named_command(argv: Sequence[str]) -> str | None:
    """The module of the subcommand ``argv`` names, found without importing the other subcommands.

    The first word after the global options, spelled as a module (``simulate-volunteers`` ->
    ``_simulate_volunteers``) whose ``NAME`` is that word; None (the parser gets every subcommand:
    ``--help``, ``--version``, a misspelt or differently named command) otherwise. Start-up: the
    upload, workflow and export modules load the HTTP stack, which ``aggregate`` has no use for.
    """
    for word in argv:
        if word in ("-v", "--verbose", "-q", "--quiet"):
            continue
        modname = "_" + word.replace("-", "_")
        if word.startswith("-") or modname not in COMMANDS:
            return None
        module = importlib.import_module(f"{__name__}.{modname}")
        return modname if getattr(module, "NAME", None) == word else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status (0 ok, 1 failed, 2 usage, 130 interrupted by Ctrl-C)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=_named_command(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from .. import _interrupt
    from ._say import set_quiet

    _configure_logging(args.verbose, args.quiet and not args.verbose)
    args.progress = not args.quiet
    args.argv = argv  # the command line as given, for the records a command keeps (config.json)
    was_quiet = set_quiet(args.quiet and not args.verbose)
    with _interrupt.installed():
        try:
            return int(args._run(args) or 0)
        except HuntClustersError as exc:
            if _interrupt.interrupted():
                return _interrupted()
            if args.verbose:
                log.exception("error")
            print(f"error: {exc}", file=sys.stderr)
            return getattr(exc, "exit_code", 1)
        except KeyboardInterrupt:
            return _interrupted()
        except OSError as exc:  # the file system (or the network) said no: one line, no traceback
            if _interrupt.interrupted():
                return _interrupted()
            from ._paths import describe_os_error

            if args.verbose:
                log.exception("error")
            print(f"error: {describe_os_error(exc)}", file=sys.stderr)
            return 1
        except BaseException:
            # Ctrl-C that arrived inside native code can surface as another error (TensorFlow's
            # SystemError): it is still the interrupt
            if _interrupt.interrupted():
                return _interrupted()
            raise
        finally:
            set_quiet(was_quiet)


def _interrupted() -> int:
    """Ctrl-C: one line and exit status 130 (128 + SIGINT); a step of the demo passes it up."""
    from .. import _interrupt

    if _interrupt.nested():
        raise KeyboardInterrupt
    print("interrupted", file=sys.stderr)
    return 130


def console_main() -> None:  # pragma: no cover - thin wrapper used by the console script
    """Entry point of the ``hunt-clusters`` console script.

    Once the command has returned, every output file is closed and the exit status known; what is
    left is the interpreter's teardown, which frees pandas, pyarrow and the rest module by module:
    0.15-0.2 s, a sixth of ``aggregate`` on a 100,000-row export. The exit handlers still run
    (logging flushes, multiprocessing joins its children, temporary files go), then the streams are
    flushed and the process ends without the teardown. An exception still exits the normal way, and
    so does a run under a profiler or debugger (cProfile writes its figures after the script returns).
    """
    import atexit
    import os

    code = int(main() or 0)
    if sys.getprofile() is not None or sys.gettrace() is not None:  # a profiler or debugger wants the end
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing more to say
            pass
    os._exit(code)


__all__ = ["COMMANDS", "build_parser", "console_main", "main"]
