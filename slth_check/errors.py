"""Exit codes and the small exception hierarchy of ``slth-check``.

Every command maps its outcome to one exit code:

====  ==========================================================
 0    holds / consistent
 1    violated / discrepancy (a finding, backed by a witness)
 2    usage or input error (one line on stderr, no traceback)
 3    unknown (neither certified nor refuted)
 4    internal error (one line; ``--debug`` prints the traceback)
130   interrupted (Ctrl-C)
====  ==========================================================

Library code raises ``ValueError`` / ``TypeError`` (or the subclasses below)
for bad arguments and files, naming the argument and what was expected; the
command turns them into exit 2.  Anything else escaping a command is a bug of
slth-check itself and becomes exit 4, never exit 1: a crash must not read as
a finding.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_VIOLATED = 1
EXIT_USAGE = 2
EXIT_UNKNOWN = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


class SlthCheckError(Exception):
    """Base class of the errors that slth-check raises on purpose."""


class UsageError(SlthCheckError, ValueError):
    """A command-line argument that is missing or makes no sense (exit 2)."""


class InputError(SlthCheckError, ValueError):
    """A file or argument that is not what it claims to be (exit 2).

    Raised before anything is allocated from the file's own claims: an empty,
    truncated or corrupt archive, a header whose shape does not match the data
    it carries, a dtype that is not numeric, a size above the limit, a witness
    missing an array, an output folder that cannot be written.
    """


class InternalError(SlthCheckError, RuntimeError):
    """slth-check contradicted itself (e.g. a certificate with lower > upper): exit 4."""


def require_extra(module: str, *, what: str, needs: str, install: str) -> Any:
    """The optional package ``module``, imported when first needed, or a
    :class:`UsageError` (exit 2) saying that ``what`` needs ``needs`` and how to install it
    (every optional integration's one message)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise UsageError(f"{what}: needs {needs}, which is not installed; install it with "
                         f"{install}") from exc
