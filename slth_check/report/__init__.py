"""Aggregate outcomes into a report (JSON schema_version 1 and Markdown).

The package's public names, re-exported from their modules (the implementation of
the entry points is in :mod:`slth_check.report.document`)."""

from slth_check.report.document import (
    SCHEMA_VERSION,
    ClaimRecord,
    build_report,
    json_default,
    package_versions,
    report_document,
    save_witness,
    stable_hash,
    to_markdown,
    unattached_figures,
    utc_now,
    write_report,
)

__all__ = [
    "ClaimRecord",
    "SCHEMA_VERSION",
    "build_report",
    "json_default",
    "package_versions",
    "report_document",
    "save_witness",
    "stable_hash",
    "to_markdown",
    "unattached_figures",
    "utc_now",
    "write_report",
]
