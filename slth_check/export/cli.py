"""``slth-check export``: argparse front end of :mod:`slth_check.export`.

Registered by :func:`register` (one line in
:func:`slth_check.validate_cli.add_subcommands`).
"""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:  # argparse's subparsers action (a private type)
    """Add the ``export`` sub-command to the ``slth-check`` parser (being built)."""
