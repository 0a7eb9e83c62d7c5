"""``--json -``: nothing but the JSON document on standard output.

While a command with ``--json -`` runs, everything else that would reach
standard output goes to standard error instead: Python ``print`` calls, and
(when stdout is a real file descriptor) writes of native code to fd 1, such
as the lines HiGHS prints even with its output switched off, and the output
of worker processes started meanwhile (they inherit the redirected fd).
The JSON document is written with :func:`emit_json` to the real stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

_REAL: list[TextIO] = []  # the real stdout while a guard is active (innermost last)


def _fd(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):  # e.g. pytest's capture object
        return None


@contextlib.contextmanager
def json_only_stdout(active: bool = True) -> Iterator[None]:
    """Within the block, stdout writes go to stderr; :func:`emit_json` reaches the real
    stdout (module docs).  Does nothing unless ``active``."""
    if not active:
        yield
        return
    sys.stdout.flush()
    real, fd, err_fd = sys.stdout, _fd(sys.stdout), _fd(sys.stderr)
    saved = None
    if fd is not None and err_fd is not None:
        saved = os.dup(fd)
        os.dup2(err_fd, fd)
        real = os.fdopen(os.dup(saved), "w", encoding="utf-8")
    _REAL.append(real)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _REAL.pop()
        real.flush()
        if saved is not None and fd is not None:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            real.close()


def emit_json(doc: Any) -> None:
    """Write ``doc`` as indented JSON (and a newline) to the real standard output."""
    out = _REAL[-1] if _REAL else sys.stdout
    out.write(json.dumps(doc, indent=2) + "\n")
    out.flush()


__all__ = ["emit_json", "json_only_stdout"]
