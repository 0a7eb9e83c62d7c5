"""The ``slth-check`` command.

Exit codes: 0 consistent / holds; 1 a discrepancy or violation was found;
2 usage or input error (a one-line message, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


class UsageError(Exception):
    """A user error reported in one line with exit code 2."""


def _cmd_check(args: argparse.Namespace) -> int:
    from .report import run_check

    ids = [s for s in args.claims.split(",") if s] if args.claims else None
    report, out = run_check(claim_ids=ids, profile=args.profile, seed=args.seed,
                            out_dir=Path(args.out) if args.out else None)
    unexpected = [v for v in report["violations"] if not v["expected"]]
    for c in report["claims"]:
        v = c["verdicts"]
        print(f"{c['id']:<14} instances {c['instances']:>4}  holds {v['holds']:>4}  "
              f"violated {v['violated']:>3}  unknown {v['unknown']:>3}  "
              f"hypotheses_unmet {v['hypotheses_unmet']:>3}  "
              f"expected violations {c['expected_violations']:>2}")
    print(f"report: {out / 'report.json'} and {out / 'report.md'}")
    return 1 if unexpected else 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from .replay import replay

    verdict, detail = replay(Path(args.witness))
    print(f"{verdict}: {detail}")
    return 1 if verdict == "violated" else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="slth-check", description=(
        "Executable, checkable claims of 'Proving the Strong Lottery Ticket Hypothesis "
        "for Convolutional Neural Networks' (ICLR 2022)."))
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="run the claims and write a report under reports/")
    c.add_argument("--claims", help="comma-separated claim ids (default: all)")
    c.add_argument("--profile", default="ci", choices=["ci", "dev", "thorough"])
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", help="output folder (default reports/<run-id>/)")
    c.set_defaults(func=_cmd_check)
    r = sub.add_parser("replay", help="re-check one witness .npz in exact arithmetic")
    r.add_argument("witness")
    r.set_defaults(func=_cmd_replay)
    from . import validate_cli  # registers `validate` and `reproduce` when present

    validate_cli.add_subcommands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (UsageError, ValueError, TypeError, FileNotFoundError, OSError) as exc:
        print(f"slth-check: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
