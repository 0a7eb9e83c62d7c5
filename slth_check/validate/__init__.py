"""Validators: put another implementation under test against the reference.

* :func:`slth_check.validate.conv2d.validate_conv2d` - a user's convolution;
* :func:`slth_check.validate.rss.validate_rss` - a user's subset-sum solver;
* :func:`slth_check.validate.pruned.validate_pruned` - a user's pruned network.

Each returns a :class:`Verdict` (``consistent`` / ``discrepancy`` for the
first two, ``holds`` / ``violated`` / ``unknown`` for the pruned network) with
its counterexample; the ``slth-check validate`` command maps it to exit codes
0 (consistent / holds), 1 (discrepancy / violated) and 3 (unknown).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
        return {"consistent": 0, "holds": 0, "discrepancy": 1, "violated": 1}.get(self.verdict, 3)

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "message": self.message,
                "counterexample": self.counterexample, "reproducer": self.reproducer,
                "diagnosis": self.diagnosis, "config": self.config}


def load_callable(spec: str, what: str = "--impl") -> Callable:
    """Load ``MODULE:ATTR`` (a dotted attribute path is allowed) as a callable."""
    if not isinstance(spec, str) or ":" not in spec:
        raise ValueError(f"{what}: expected MODULE:ATTR, got {spec!r}")
    mod, attr = spec.split(":", 1)
    try:
        obj: Any = importlib.import_module(mod)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{what}: cannot load {spec!r} ({exc})") from exc
    if not callable(obj):
        raise ValueError(f"{what}: {spec!r} is not callable")
    return obj
