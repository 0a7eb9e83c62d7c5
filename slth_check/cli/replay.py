"""``slth-check replay``: re-check one witness in exact arithmetic."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from slth_check.cli.options import add_json_option, write_json
from slth_check.errors import EXIT_OK, EXIT_UNKNOWN, EXIT_VIOLATED


def run(args: argparse.Namespace) -> int:
    from slth_check.replay import replay

    verdict, detail = replay(Path(args.witness))
    print(f"{verdict}: {detail}")
    write_json(args.json, {"witness": str(args.witness), "verdict": verdict, "detail": detail})
    # holds 0, violated 1; unknown and hypotheses_unmet decide nothing about the claim: 3
    return {"holds": EXIT_OK, "violated": EXIT_VIOLATED}.get(verdict, EXIT_UNKNOWN)


def register(sub: Any) -> None:  # argparse's subparsers action (a private type)
    """Add ``replay`` to the ``slth-check`` parser."""
    r = sub.add_parser("replay", help="re-check one witness .npz in exact arithmetic")
    r.add_argument("witness", help="a witness .npz written by slth-check check (its witnesses/ "
                   "folder)")
    add_json_option(r)
    r.set_defaults(func=run)


__all__ = ["register", "run"]
