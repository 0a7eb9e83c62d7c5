"""Hypothesis instances for :func:`slth_check.validate.rss.core.validate_rss`.

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

**The grid** (:func:`rss_grid`), checked before any random case: for *every*
``n`` in ``1..max_n``, one instance of each family of :data:`GRID_FAMILIES`,
built by construction (so no class can be missed by chance): tie-free values
in the paper's range, all positive, all negative, all zero, tie-rich small
integers, signed powers of two (a unique optimum far from the second best),
a *near hit* (the target at ``1e-11 * max(1, |s|)`` from a subset sum ``s``:
above the proven rounding tolerance, below a solver's ``1e-9`` "close enough"),
the zero target, and wide values up to ``max_abs``.  The grid is the same on
every run; the random cases on top are drawn from a printed seed.
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


#: The families of :func:`rss_grid`, in the order they are checked for each ``n``.
GRID_FAMILIES = ("paper", "positive", "negative", "zeros", "ties", "powers", "near_hit",
                 "zero_target", "wide")


def _grid_case(family: str, n: int, rng: np.random.Generator,
               max_abs: float) -> tuple[np.ndarray, float]:
    """One instance of ``family`` with ``n`` values (module docs, *the grid*)."""
    import math

    if family in ("paper", "near_hit", "zero_target"):
        v = rng.uniform(-1, 1, n)
    elif family in ("positive", "negative"):
        v = rng.uniform(2.0**-8, 1, n) * (1 if family == "positive" else -1)
    elif family == "zeros":
        v = np.zeros(n)
    elif family == "ties":
        k = int(min(3, max_abs))
        v = rng.integers(-k, k + 1, n).astype(np.float64)
    elif family == "powers":
        v = np.ldexp(1.0, -np.arange(n)) * rng.choice([-1.0, 1.0], n)
    else:  # wide
        v = rng.uniform(-max_abs, max_abs, n)
    v = np.array([_no_tiny(float(x)) for x in v])
    total = float(np.sum(np.abs(v)))
    if family == "zero_target":
        return v, 0.0
    if family == "near_hit":
        s = math.fsum(v[rng.random(n) < 0.5])
        s = s if abs(s) <= max_abs / 2 else 0.0  # the empty subset: |target| <= max_abs
        return v, s + 1e-11 * max(1.0, abs(s))
    if family == "zeros":
        return v, 0.5
    if family == "ties":
        m = int(min(n, max_abs))
        return v, float(rng.integers(-m, m + 1))
    # a target inside the range of the subset sums, off any grid of the values
    lo = float(np.sum(v[v < 0]))
    t = lo + (total * (rng.random() * 0.9 + 0.05) if total > 0 else 0.3)
    return v, float(np.clip(t, -max_abs, max_abs))


def rss_grid(max_n: int = 16, max_abs: float = MAX_ABS_DEFAULT) -> list[tuple[str, int,
                                                                          np.ndarray, float]]:
    """``(family, n, values, target)`` for every ``n`` in ``1..max_n`` and every family of
    :data:`GRID_FAMILIES`, ``n`` ascending (the first failure is one of the smallest).
    Deterministic: the same grid on every run (module docs)."""
    rng = np.random.default_rng(20220425)
    return [(fam, n, *_grid_case(fam, n, rng, max_abs))
            for n in range(1, max_n + 1) for fam in GRID_FAMILIES]


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



__all__ = ["GRID_FAMILIES", "MAX_ABS_DEFAULT", "TINY", "rss_cases", "rss_grid"]
