"""Generated cases that depend only on a validator's arguments, not on the host process.

Hypothesis (6.131 and later) mixes into generation the literal constants of
every *local* module imported so far (its "local constants" pool).  A
validator's cases, and so its minimal counterexample, would then depend on
what else the process imported: the same ``validate conv2d`` call gives one
counterexample from the command line and another inside a test session that
collected more modules.  :func:`without_local_constants` switches the pool
off while a validator searches; the global constants (0, -0.0, NaN, ...)
stay.  It touches Hypothesis internals, so when they are not there (an older
or newer Hypothesis) it does nothing: the verdicts stay sound, only this
independence is lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def fresh_seed() -> int:
    """A new seed for a validator's random cases (printed in its verdict, so the run can
    be replayed with ``--seed``): 63 bits from the operating system's entropy."""
    import secrets

    return secrets.randbits(63)


@contextmanager
def without_local_constants() -> Iterator[None]:
    """While active, Hypothesis draws no constants collected from imported modules."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants

        original = providers._get_local_constants
        cache: Any = providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):  # pragma: no cover - another Hypothesis
        yield
        return
    empty = Constants()
    providers._get_local_constants = lambda: empty
    cache.clear()  # cached choices include the local constants of earlier draws
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


def seeded_find(strategy: Any, condition: Any, max_examples: int, seed: int) -> Any:
    """Hypothesis's ``find`` for a validator: random cases from ``seed`` (replayable), no
    database, no deadline, generate then shrink, independent of the host process
    (:func:`without_local_constants`).  Raises ``NoSuchExample`` when nothing fails."""
    import random

    from hypothesis import HealthCheck, Phase, find, settings

    with without_local_constants():
        return find(strategy, condition, random=random.Random(seed),
                    settings=settings(max_examples=max_examples, database=None,
                                      derandomize=False, deadline=None,
                                      phases=[Phase.generate, Phase.shrink],
                                      suppress_health_check=list(HealthCheck)))


__all__ = ["fresh_seed", "seeded_find", "without_local_constants"]
