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

from .errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    EXIT_VIOLATED,
    UsageError,
)
from .json_stdout import emit_json, json_only_stdout

__all__ = ["UsageError", "build_parser", "main"]

PROG = "slth-check"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message> (see <prog> --help)`` and exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_one_line(message)} "
                              f"(see {self.prog} --help)\n")


def _one_line(text: object) -> str:
    """A message on one line (whitespace runs, newlines included, become one space)."""
    return " ".join(str(text).split())


def _cmd_check(args: argparse.Namespace) -> int:
    from .runner import run_check

    ids = [s for s in args.claims.split(",") if s] if args.claims else None
    report, out = run_check(claim_ids=ids, profile=args.profile, seed=args.seed,
                            out_dir=Path(args.out) if args.out else None,
                            scheduler=args.scheduler, workers=args.workers)
    unexpected = [v for v in report["violations"] if not v["expected"]]
    for c in report["claims"]:  # with --json -, these lines go to stderr (json_stdout)
        v = c["verdicts"]
        print(f"{c['id']:<14} instances {c['instances']:>4}  holds {v['holds']:>4}  "
              f"violated {v['violated']:>3}  unknown {v['unknown']:>3}  "
              f"hypotheses_unmet {v['hypotheses_unmet']:>3}  "
              f"expected violations {c['expected_violations']:>2}")
    print(f"report: {out / 'report.json'} and {out / 'report.md'}")
    print(f"overall: {'violated' if unexpected else 'holds'} ({len(report['claims'])} claims, "
          f"{len(unexpected)} unexpected violations)")
    if args.json == "-":
        emit_json(report)
    elif args.json:
        import json

        from .files import atomic_write

        atomic_write(Path(args.json), json.dumps(report, indent=1) + "\n")
    if getattr(args, "junit", None):
        from .report.junit import write_junit

        write_junit(report, args.junit, out_dir=out)
        print(f"JUnit XML: {args.junit}")
    if getattr(args, "html", None):
        from .report.html import write_html

        write_html(report, out, args.html)
        print(f"HTML report: {args.html}")
    return EXIT_VIOLATED if unexpected else EXIT_OK


def _cmd_replay(args: argparse.Namespace) -> int:
    from .replay import replay

    verdict, detail = replay(Path(args.witness))
    print(f"{verdict}: {detail}")
    # holds 0, violated 1; unknown and hypotheses_unmet decide nothing about the claim: 3
    return {"holds": EXIT_OK, "violated": EXIT_VIOLATED}.get(verdict, EXIT_UNKNOWN)


#: The claim ids of ``slth_check.claims.REGISTRY``, listed without importing the claims
#: (``--help`` stays fast); a test keeps the two equal.
CLAIM_IDS = ("definition1", "proposition1", "rss", "lemma3", "lueker", "lemma1", "lemma2",
             "theorem1", "calibration")

#: Help of the options defined without one, by (sub-command path, destination).
_HELP = {
    ("replay", "witness"): "a witness .npz written by slth-check check (witnesses/ folder)",
    ("approximate", "seed"): "seed of the sample stream (default 0)",
    ("validate conv2d", "layout"): "array layout handed to the implementation: paper "
                                   "(d,d,c0,c1)/(N,D,D,c0) or torch (OIHW/NCHW)",
    ("validate conv2d", "op"): "what the implementation computes: convolution "
                               "(Definition 1) or cross-correlation (PyTorch)",
    ("validate conv2d", "padding"): "padding mode the implementation implements",
    ("validate conv2d", "max_examples"): "generated cases before declaring consistency",
    ("validate conv2d", "json"): "also write the verdict as JSON to PATH (- for stdout)",
    ("validate rss", "max_examples"): "generated instances before declaring consistency",
    ("validate rss", "json"): "also write the verdict as JSON to PATH (- for stdout)",
    ("validate pruned", "target"): "target network .npz: K1..Kl, optional b1..bl",
    ("validate pruned", "random"): "random layers .npz: U1..Ul, V1..Vl, optional Ub1..Ubl",
    ("validate pruned", "masks"): "masks .npz: S1..Sl, T1..Tl, optional Sb1..Sbl",
    ("validate pruned", "eps"): "the error to certify against (default 0.1)",
    ("validate pruned", "json"): "also write the verdict as JSON to PATH (- for stdout)",
    ("reproduce", "what"): "what to reproduce (the paper's experiment)",
    ("reproduce", "seeds"): "fresh sample draws per (dataset, n) (default 3)",
    ("reproduce", "seed"): "seed of the draws (default 0)",
}


def _fill_help(parser: argparse.ArgumentParser, path: str = "") -> None:
    """Give every option a help text (and show its default), recursively."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                _fill_help(sub, f"{path} {name}".strip())
        elif not action.help and action.dest != "help":
            action.help = _HELP.get((path, action.dest), "see the README")


def build_parser() -> argparse.ArgumentParser:
    """The ``slth-check`` parser; every sub-parser reports errors in one line (exit 2)."""
    p = _Parser(prog=PROG, description=(
        "Executable, checkable claims of 'Proving the Strong Lottery Ticket Hypothesis "
        "for Convolutional Neural Networks' (ICLR 2022). Exit codes: 0 holds/consistent, "
        "1 violated/discrepancy, 2 usage or input error, 3 unknown, 4 internal error, "
        "130 interrupted."))
    p.add_argument("--debug", action="store_true",
                   help="print the traceback of an error (internal or input)")
    from . import __version__

    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                   help="print the version of slth-check and exit")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="run the claims and write a report under reports/")
    c.add_argument("--claims", help="comma-separated claim ids, among: "
                   + ", ".join(CLAIM_IDS) + " (default: all)")
    c.add_argument("--profile", default="ci", choices=["ci", "dev", "thorough"],
                   help="how many instances: ci (the default, about 10 s), dev, thorough "
                   "(minutes)")
    c.add_argument("--seed", type=int, default=0,
                   help="seed of every random draw (same seed, same report; default 0)")
    c.add_argument("--out", help="output folder (default reports/<run-id>/); checked "
                   "writable before the run")
    c.add_argument("--json", metavar="PATH", help="also write the report as JSON to PATH "
                   "(- for stdout: then nothing else goes there)")
    c.add_argument("--junit", metavar="PATH", help="also write JUnit XML for CI: claims as "
                   "test suites, instances as test cases, violations as failures")
    c.add_argument("--html", metavar="PATH", help="also write one self-contained HTML file "
                   "(figures embedded, verdicts defined, replay commands)")
    from .approximate_cli import add_scheduler_options

    add_scheduler_options(c)  # where the bulk work of Lemmas 1-2 and the calibration runs
    c.set_defaults(func=_cmd_check)
    r = sub.add_parser("replay", help="re-check one witness .npz in exact arithmetic")
    r.add_argument("witness")
    r.set_defaults(func=_cmd_replay)
    from . import validate_cli  # registers `validate` and `reproduce` when present

    validate_cli.add_subcommands(sub)
    _fill_help(p)
    return p


def _preflight(args: argparse.Namespace) -> None:
    """Checks made before any computation: the output files can be written.

    ``check --out`` and ``reproduce --out`` folders are probed by the commands
    themselves (before their work); here ``validate --json FILE``.
    """
    json_path = getattr(args, "json", None)
    if args.command in ("validate", "check") and json_path and json_path != "-":
        from .files import ensure_writable_file

        ensure_writable_file(Path(json_path), "--json")


def _release_workers() -> None:
    """After Ctrl-C, stop the shared RSS worker processes at once.

    Otherwise the exit would wait for the chunks they are running (the pools
    are shut down with ``wait=True`` at interpreter exit): minutes, not the
    one line and exit 130 that Ctrl-C promises.  Only pools that were created
    are touched; nothing is imported.
    """
    executors = sys.modules.get("slth_check.rss.executors")
    if executors is None:
        return
    for pool in list(getattr(executors, "_pools", {}).values()):
        procs = list((getattr(pool, "_processes", None) or {}).values())
        executors.discard_process_pool(pool)  # forget it, cancel what is queued
        for proc in procs:  # SIGKILL: a forked worker may have inherited a SIGTERM handler
            proc.kill()


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
