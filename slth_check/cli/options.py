"""Options shared by several subcommands, defined in one place."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_scheduler_options(p: argparse.ArgumentParser) -> None:
    """``--scheduler`` and ``--workers``, shared by the bulk commands (issue 10)."""
    p.add_argument("--scheduler", default="processes",
                   help="processes (default: a local process pool), synchronous (inline), "
                        "dask (a Dask LocalCluster of --workers processes) or the address "
                        "tcp://HOST:PORT of a running Dask scheduler; Dask is the extra "
                        "'slth-check[dask]'")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: the CPUs available)")


def add_json_option(p: argparse.ArgumentParser, what: str = "the verdict") -> None:
    """``--json PATH``: also write ``what`` as JSON (``-``: stdout, and nothing else there)."""
    p.add_argument("--json", metavar="PATH", help=f"also write {what} as JSON to PATH (- for "
                   "stdout: then nothing else goes there)")


def write_json(path: str | None, doc: object) -> None:
    """``--json``: ``doc`` to the real stdout (``-``, alone there) or atomically to a file."""
    if not path:
        return
    if path == "-":
        from slth_check.cli.json_stdout import emit_json

        emit_json(doc)
    else:
        import json

        from slth_check.fileio.files import atomic_write

        atomic_write(Path(path), json.dumps(doc, indent=1, default=str) + "\n")


__all__ = ["add_json_option", "add_scheduler_options", "write_json"]
