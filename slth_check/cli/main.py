"""The ``slth-check`` command.

Exit codes (:mod:`slth_check.errors`): 0 holds / consistent; 1 a violation or
discrepancy was found; 2 usage or input error (one line on stderr naming the
argument, no traceback); 3 unknown; 4 internal error (one line; the global
option ``--debug`` prints the traceback); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from slth_check.cli import (
    approximate,
    check,
    data,
    export,
    prove,
    replay,
    reproduce,
    validate,
)
from slth_check.cli.json_stdout import json_only_stdout
from slth_check.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
)

__all__ = ["UsageError", "build_parser", "main"]

PROG = "slth-check"

#: Every subcommand, in the order of ``--help``: each module has ``register(sub)``.
SUBCOMMANDS = (check, replay, validate, reproduce, data, approximate, prove, export)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message> (see <prog> --help)`` and exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_one_line(message)} "
                              f"(see {self.prog} --help)\n")


def _one_line(text: object) -> str:
    """A message on one line (whitespace runs, newlines included, become one space)."""
    return " ".join(str(text).split())


#: Help of the options defined without one, by (sub-command path, destination).
def build_parser() -> argparse.ArgumentParser:
    """The ``slth-check`` parser; every sub-parser reports errors in one line (exit 2)."""
    p = _Parser(prog=PROG, description=(
        "Executable, checkable claims of 'Proving the Strong Lottery Ticket Hypothesis "
        "for Convolutional Neural Networks' (ICLR 2022). Exit codes: 0 holds/consistent, "
        "1 violated/discrepancy, 2 usage or input error, 3 unknown, 4 internal error, "
        "130 interrupted."))
    p.add_argument("--debug", action="store_true",
                   help="print the traceback of an error (internal or input)")
    from slth_check import __version__

    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                   help="print the version of slth-check and exit")
    sub = p.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.register(sub)
    return p


def _preflight(args: argparse.Namespace) -> None:
    """Checks made before any computation: the output files can be written.

    ``check --out`` and ``reproduce --out`` folders are probed by the commands
    themselves (before their work); here ``validate --json FILE``.
    """
    json_path = getattr(args, "json", None)
    if args.command in ("validate", "check") and json_path and json_path != "-":
        from slth_check.fileio.files import ensure_writable_file

        ensure_writable_file(Path(json_path), "--json")


def _release_workers() -> None:
    """After Ctrl-C, stop the shared RSS worker processes at once.

    Otherwise the exit would wait for the chunks they are running (the pools
    are shut down with ``wait=True`` at interpreter exit): minutes, not the
    one line and exit 130 that Ctrl-C promises.  Only pools that were created
    are touched; nothing is imported.
    """
    executors = sys.modules.get("slth_check.rss.executors")
    if executors is not None:
        executors.kill_process_pools()


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``slth-check`` with ``argv`` and return its exit code (never raises)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error already printed (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    debug = bool(getattr(args, "debug", False))
    try:
        _preflight(args)
        with json_only_stdout(getattr(args, "json", None) == "-"):
            return int(args.func(args))
    except KeyboardInterrupt:
        _release_workers()
        _say("interrupted")
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # never a silent exit 0 from code under test calling sys.exit
        if debug:
            traceback.print_exc()
        _say(f"internal error: SystemExit({exc.code!r}) escaped the command (did code under "
             "test call sys.exit?)")
        return EXIT_INTERNAL
    except (ValueError, TypeError, OSError) as exc:  # UsageError, InputError, no such file
        if debug:
            traceback.print_exc()
        _say(f"error: {_one_line(exc) or type(exc).__name__}")
        return EXIT_USAGE
    except Exception as exc:  # a bug of slth-check: never exit 1, which means "violated"
        if debug:
            traceback.print_exc()
            _say(f"internal error: {type(exc).__name__}: {_one_line(exc)}")
        else:
            _say(f"internal error: {type(exc).__name__}: {_one_line(exc)} "
                 "(run with --debug for the traceback)")
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
