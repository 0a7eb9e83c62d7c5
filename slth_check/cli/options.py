"""Options shared by several subcommands, defined in one place."""

from __future__ import annotations

import argparse


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


__all__ = ["add_json_option", "add_scheduler_options"]
