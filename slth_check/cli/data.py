"""``slth-check data fetch | path | verify``: the authors' files on demand."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    from slth_check.fileio import datasets as data
    if args.action == "path":
        folder = Path(args.artifacts or os.environ.get("SLTH_CHECK_ARTIFACTS") or
                      data.cache_dir())
        complete = all((folder / name).is_file() for name in data.REGISTRY)
        print(f"{folder}" + ("" if complete else "  (incomplete: slth-check data fetch)"))
        return 0
    if args.action == "fetch":
        folder = data.fetch(args.artifacts)
    else:
        folder = data.artifacts_dir(args.artifacts, download=False)
    print(f"{len(data.REGISTRY)} files in {folder}, each matching its SHA-256")
    return 0


def register(sub: Any) -> None:  # argparse's subparsers action (a private type)
    """Add ``data`` to the ``slth-check`` parser."""
    dp = sub.add_parser("data", help="the authors' files: fetch, path, verify")
    dp.add_argument("action", choices=["fetch", "path", "verify"],
                    help="fetch: download the missing files (checked by SHA-256); path: "
                    "print the folder used; verify: check every file's SHA-256")
    dp.add_argument("--artifacts", help="an offline folder to use instead of the cache")
    dp.set_defaults(func=run)


__all__ = ["register", "run"]
