"""Hypothesis instances for :func:`slth_check.validate.rss.validate_rss`.

**Generation** (:func:`rss_cases`).  ``n`` is drawn first in ``1..max_n``
(default 16), so a failure shrinks toward ``n = 1``.  An instance is one of
three kinds, shrinking toward the first: *paper* (values and target in
``[-1, 1]``, as in Lemma 1), *integers* (small integers, or integers up to
``max_abs``: there a float64 solver is exact and every suboptimal answer
is caught), *mixed* (each value from the paper's range, small integers, or
anywhere in ``[-max_abs, max_abs]``; ``max_abs`` defaults to 1e6).  The
target is sometimes the float64 sum of a random subset of the values (an
exact hit is then possible) when that stays within ``max_abs``: every
generated ``|value|`` and ``|target|`` is at most ``max_abs``.  Non-zero
magnitudes below ``2**-64`` are not generated, so no sum of generated
numbers is subnormal (every sum is a multiple of the smallest input ulp, at
least ``2**-116``), and solvers on flush-to-zero hardware compute on the
same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Hypothesis is imported where it is used (this module is imported lazily too)

MAX_ABS_DEFAULT = 1e6
TINY = 2.0**-64  # smaller non-zero magnitudes are not generated (module docs)


def _no_tiny(x: float) -> float:
    return 0.0 if abs(x) < TINY else x


def _unit() -> Any:
    from hypothesis import strategies as st

    return st.floats(-1, 1, allow_nan=False, allow_subnormal=False).map(_no_tiny)


def _wide(max_abs: float) -> Any:
    from hypothesis import strategies as st

    return st.floats(-max_abs, max_abs, allow_nan=False, allow_subnormal=False).map(_no_tiny)


def _ints(max_abs: float) -> Any:
    from hypothesis import strategies as st

    big = int(min(max_abs, 2.0**53))
    small = min(8, big)
    return st.one_of(st.integers(-small, small), st.integers(-big, big)).map(float)


def rss_cases(max_n: int = 16, max_abs: float = MAX_ABS_DEFAULT) -> Any:
    """A Hypothesis strategy of ``(values, target)``: ``n`` in ``1..max_n`` drawn first;
    kinds paper / integers / mixed; the target sometimes a subset sum of the values;
    every ``|value|``, ``|target|`` at most ``max_abs`` (module docs)."""
    from hypothesis import strategies as st

    @st.composite
    def cases(draw: Any) -> tuple[np.ndarray, float]:
        n = draw(st.integers(1, max_n))
        kind = draw(st.sampled_from(("paper", "integers", "mixed")))
        if kind == "paper":
            two = min(2.0, max_abs)
            elem, tgt = _unit(), st.one_of(_unit(), st.floats(-two, two,
                                                              allow_subnormal=False)
                                           .map(_no_tiny))
        elif kind == "integers":
            elem = tgt = _ints(max_abs)
        else:
            elem = st.one_of(_unit(), _ints(max_abs), _wide(max_abs))
            tgt = st.one_of(_unit(), _ints(max_abs), _wide(max_abs))
        values = np.array(draw(st.lists(elem, min_size=n, max_size=n)), dtype=np.float64)
        target = float(draw(tgt))
        if draw(st.booleans()):
            pick = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            hit = float(np.sum(values[np.array(pick, dtype=bool)]))
            if abs(hit) <= max_abs:
                target = hit
        return values, target

    return cases()



__all__ = ["MAX_ABS_DEFAULT", "TINY", "rss_cases"]
