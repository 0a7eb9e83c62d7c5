"""Testing with slth-check: assertion helpers (:mod:`~slth_check.testing.assertions`),
Hypothesis strategies (:mod:`~slth_check.testing.strategies`), the pytest plugin
(:mod:`~slth_check.testing.plugin`) and the conv2d under test
(:mod:`~slth_check.testing.user_conv`).  The assertion helpers are re-exported lazily:
the plugin, loaded in every pytest session of the environment, imports nothing heavy."""

from __future__ import annotations

from typing import Any

__all__ = ["assert_holds", "assert_not_violated", "assert_verdict", "assert_violated", "describe"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from slth_check.testing import assertions

        return getattr(assertions, name)
    raise AttributeError(f"module 'slth_check.testing' has no attribute {name!r}")
