"""Validators: put another implementation under test against the reference.

The package's public names, re-exported from their modules (the implementation of
the entry points is in :mod:`slth_check.validate.verdict`)."""

from slth_check.validate.verdict import (
    SCHEMA_VERSION,
    Verdict,
    load_callable,
)

__all__ = [
    "SCHEMA_VERSION",
    "Verdict",
    "load_callable",
]
