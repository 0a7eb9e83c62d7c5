"""Sub-commands added by later modules (validators, reproduction)."""

from __future__ import annotations


def add_subcommands(sub) -> None:  # noqa: ANN001 - argparse private type
    """Register further sub-commands on the ``slth-check`` parser."""
    return None
