"""``slth-check prove``: the proof scripts of :mod:`slth_check.proofs`, discharged by Z3.

Registered by :func:`register` (one line in
:func:`slth_check.cli.validate.add_subcommands`).  Prints every obligation
and negative twin of Proposition 1, Lemma 1 (Eq. 1-2, step 4), Lemma 2 (the
reduction to Lemma 1) and Theorem 1 (Eq. 3-5) with its verdict, time and the
Z3 version, then each proof's meta-steps and chain.  Exit codes: 0 every
obligation holds and every twin is refuted; 1 an obligation is violated or a
twin holds (the proof is wrong or vacuous); 3 something is unknown (a
timeout); 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from slth_check.cli.json_stdout import emit_json

if TYPE_CHECKING:
    from slth_check.proofs.core import ObligationResult

#: The statement names (``--statement``) in the paper's order; the keys of
#: ``slth_check.proofs.PROOFS`` (a test checks it).  Static so that registering the
#: command does not build the proofs.
STATEMENTS = ("proposition1", "lemma1", "lemma2", "theorem1")


def _line(r: ObligationResult) -> str:
    mark = "" if r.ok else f"   <-- expected {r.expected}"
    head = f"  {r.kind:<10} {r.obligation:<22} {r.verdict:<8} {r.seconds:7.3f} s  [{r.logic}] "
    out = head + r.text + mark
    if r.countermodel is not None:
        out += f"\n{'':<14}countermodel: {r.countermodel}"
    if r.reason:
        out += f"\n{'':<14}z3: {r.reason}"
    return out


def proved_all_sizes(results: list[ObligationResult], statement: str) -> bool:
    """True when every obligation of ``statement`` holds and every twin is refuted."""
    mine = [r for r in results if r.statement == statement]
    return bool(mine) and all(r.ok for r in mine)


def report(results: list[ObligationResult], names: list[str], timeout_ms: int,
           seconds: float) -> dict[str, Any]:
    """The JSON document of a ``prove`` run."""
    from slth_check.proofs import PROOFS, summary_exit_code, z3_version

    return {
        "z3_version": z3_version(), "timeout_ms": timeout_ms, "seconds": seconds,
        "exit_code": summary_exit_code(results),
        "statements": [dict(PROOFS[n].to_json(), proved_all_sizes=proved_all_sizes(results, n))
                       for n in names],
        "results": [r.to_json() for r in results],
    }


def print_run(results: list[ObligationResult], names: list[str], timeout_ms: int,
              seconds: float, out: TextIO) -> None:
    """Human-readable output: obligations, twins, meta-steps, chains, summary."""
    from slth_check.proofs import PROOFS, z3_version

    print(f"slth-check prove: Z3 {z3_version()}, {timeout_ms / 1000:g} s per Z3 call; "
          "an obligation holds when Z3 finds its negation unsat; a twin (a slightly false "
          "variant) must be refuted by a countermodel", file=out)
    for n in names:
        p = PROOFS[n]
        print("", file=out)
        print(p.describe(), file=out)
        for r in results:
            if r.statement == n:
                print(_line(r), file=out)
        status = "proved (all sizes)" if proved_all_sizes(results, n) else "NOT proved"
        print(f"  => {p.title}: {status}", file=out)
    obl = [r for r in results if r.kind == "obligation"]
    twins = [r for r in results if r.kind == "twin"]
    print(f"\nsummary: {sum(r.verdict == 'holds' for r in obl)}/{len(obl)} obligations hold, "
          f"{sum(r.verdict == 'refuted' for r in twins)}/{len(twins)} twins refuted, "
          f"{sum(r.verdict == 'unknown' for r in results)} unknown, in {seconds:.2f} s "
          f"(Z3 {z3_version()})", file=out)


def _cmd_prove(args: argparse.Namespace) -> int:
    from slth_check.errors import UsageError
    from slth_check.fileio.files import atomic_write, ensure_writable_file
    from slth_check.proofs import run_all, summary_exit_code

    if not args.timeout > 0:
        raise UsageError(f"--timeout: expected a positive number of seconds, got {args.timeout}")
    if args.json and args.json != "-":
        ensure_writable_file(Path(args.json), "--json")  # before the work
    names = [args.statement] if args.statement else list(STATEMENTS)
    timeout_ms = max(1, int(args.timeout * 1000))
    t0 = time.perf_counter()
    results = run_all(args.statement, timeout_ms=timeout_ms)
    seconds = time.perf_counter() - t0
    human = sys.stderr if args.json == "-" else sys.stdout
    print_run(results, names, timeout_ms, seconds, human)
    doc = report(results, names, timeout_ms, seconds)
    if args.json == "-":
        emit_json(doc)
    elif args.json:
        atomic_write(Path(args.json), json.dumps(doc, indent=2))
    return summary_exit_code(results)


def register(sub) -> None:  # argparse's private subparsers type
    """Add the ``prove`` sub-command to the ``slth-check`` parser."""
    p = sub.add_parser("prove", help="machine-checked proofs for all sizes (Z3): every "
                       "obligation must hold and every negative twin be refuted (exit 0; "
                       "1 violated or a twin holds, 3 unknown)")
    p.add_argument("--statement", choices=STATEMENTS,
                   help="one statement (default: all)")
    p.add_argument("--json", metavar="PATH",
                   help="write the results as JSON (- for stdout, the text then on stderr)")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds per Z3 call (default 10); a timeout is unknown, never holds")
    p.set_defaults(func=_cmd_prove)
