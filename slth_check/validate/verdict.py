"""The Verdict of every validator, and the loading of a user function named MODULE:ATTR.

* :func:`slth_check.validate.conv2d.core.validate_conv2d` - a user's convolution;
* :func:`slth_check.validate.rss.core.validate_rss` - a user's subset-sum solver;
* :func:`slth_check.validate.pruned.validate_pruned` - a user's pruned network.

Each returns a :class:`Verdict` (``consistent`` / ``discrepancy`` for the
first two, ``holds`` / ``violated`` / ``unknown`` for the pruned network) with
its counterexample; the ``slth-check validate`` command maps it to exit codes
0 (consistent / holds), 1 (discrepancy / violated) and 3 (unknown).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1
"""Version of the ``validate --json`` document (``slth_check/validate_schema.json``)."""


@dataclass
class Verdict:
    verdict: str
    message: str
    counterexample: dict[str, Any] | None = None
    reproducer: str | None = None
    diagnosis: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 consistent/holds, 1 discrepancy/violated, 3 unknown, 4 anything else (a bug)."""
        from slth_check.errors import EXIT_INTERNAL, EXIT_OK, EXIT_UNKNOWN, EXIT_VIOLATED

        return {"consistent": EXIT_OK, "holds": EXIT_OK, "discrepancy": EXIT_VIOLATED,
                "violated": EXIT_VIOLATED, "unknown": EXIT_UNKNOWN}.get(self.verdict,
                                                                       EXIT_INTERNAL)

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "verdict": self.verdict,
                "message": self.message,
                "counterexample": self.counterexample, "reproducer": self.reproducer,
                "diagnosis": self.diagnosis, "config": self.config}


def load_callable(spec: str, what: str = "--impl") -> Callable:
    """Load ``MODULE:ATTR`` (a dotted attribute path is allowed) as a callable: the one
    loader of user code in-process (the plugin's ``--slth-impl``, the Python API).

    The current folder goes on ``sys.path`` first, so a module next to where the
    command runs loads without ``PYTHONPATH``.

    Whatever goes wrong while importing the user's module (ImportError, a
    SyntaxError, any exception raised at import, even ``sys.exit``) is a
    usage error: :class:`~slth_check.errors.UsageError` (a ``ValueError``,
    exit 2) in one line naming ``what``, the spec and the cause.
    """
    from slth_check.errors import UsageError

    if not isinstance(spec, str) or ":" not in spec:
        raise UsageError(f"{what}: expected MODULE:ATTR, got {spec!r}")
    mod, attr = spec.split(":", 1)
    if not mod or not attr:
        raise UsageError(f"{what}: expected MODULE:ATTR, got {spec!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj: Any = importlib.import_module(mod)
    except SyntaxError as exc:
        where = f"{exc.filename}, line {exc.lineno}" if exc.filename else "its source"
        raise UsageError(f"{what}: cannot load {spec!r}: SyntaxError in {where} "
                         f"({exc.msg})") from exc
    except ImportError as exc:
        raise UsageError(f"{what}: cannot load {spec!r} ({_one_line(exc)})") from exc
    except (Exception, SystemExit) as exc:  # the user's module ran and failed
        raise UsageError(f"{what}: cannot load {spec!r}: importing {mod!r} raised "
                         f"{type(exc).__name__}: {_one_line(exc)}") from exc
    try:
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as exc:  # AttributeError, or a property of the user's that raises
        raise UsageError(f"{what}: cannot load {spec!r} ({type(exc).__name__}: "
                         f"{_one_line(exc)})") from exc
    if not callable(obj):
        raise UsageError(f"{what}: {spec!r} is not callable (got {type(obj).__name__})")
    return obj


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
