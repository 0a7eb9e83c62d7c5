"""Validation of a user's random-subset-sum solver.

The solver is called as ``f(values, target)`` (a float64 array and a float)
and returns a bool mask of length n, or a list of 0-based indices, or a pair
``(subset, reported_sum)``.  Checked on generated instances: the subset is
valid (right length / indices in range, no repeats); a reported sum equals
the subset's sum within float64 rounding (``gamma_n sum|v|``, exactly
compared); with ``claims_optimal``, the subset's error equals the exact
optimum (meet in the middle, verified exactly) up to the float64 rounding of
the objective, ``gamma_{n+1} (|t| + sum|v|)``: a solver working in float64
cannot rank subsets closer than that.  A failing instance is shrunk
by Hypothesis to a minimal one.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from ..arithmetic import gamma
from ..rss import solve
from ..rss.exact import exact_sum
from . import Verdict, load_callable


def interpret(answer: Any, n: int) -> tuple[np.ndarray | None, Any, str | None]:
    """(mask, reported sum or None, problem) from a solver's answer."""
    reported = None
    if isinstance(answer, tuple) and len(answer) == 2:
        answer, reported = answer
    a = np.asarray(answer)
    if a.dtype == bool:
        if a.shape != (n,):
            return None, reported, f"bool mask of shape {a.shape}, should be ({n},)"
        return a, reported, None
    if a.size == 0:
        return np.zeros(n, bool), reported, None
    if a.dtype.kind not in "iu" or a.ndim != 1:
        return None, reported, f"expected a bool mask or 0-based integer indices, got {a!r}"
    if a.min() < 0 or a.max() >= n:
        return None, reported, (f"index out of range 0..{n - 1}: {a.tolist()} "
                                "(1-based indices?)")
    if len(set(a.tolist())) != a.size:
        return None, reported, f"repeated indices {a.tolist()}"
    mask = np.zeros(n, bool)
    mask[a] = True
    return mask, reported, None


def check_answer(fn: Callable, values: np.ndarray, target: float,
                 claims_optimal: bool) -> str | None:
    """The problem with the solver's answer on one instance, or None."""
    try:
        answer = fn(values.copy(), float(target))
    except Exception as exc:  # noqa: BLE001
        return f"raised {type(exc).__name__}: {exc}"
    mask, reported, problem = interpret(answer, values.size)
    if problem:
        return problem
    s = exact_sum(values, mask)
    if reported is not None:
        try:
            rep = Fraction(float(reported))
        except (TypeError, ValueError, OverflowError):
            return f"reported sum {reported!r} is not a finite number"
        tol = gamma(max(values.size, 1)) * sum((abs(Fraction(float(v))) for v in values),
                                               start=Fraction(0))
        if abs(rep - s) > tol:
            return (f"reported sum {float(rep)!r} but the subset sums to {float(s)!r} "
                    f"(difference {float(abs(rep - s)):.3g} > rounding bound {float(tol):.3g})")
    if claims_optimal:
        opt = solve(values, float(target), method="mitm")
        err = abs(Fraction(float(target)) - s)
        # a float64 solver cannot rank subsets closer than the rounding of its objective
        slack = gamma(values.size + 1) * (abs(Fraction(float(target))) + sum(
            (abs(Fraction(float(v))) for v in values), start=Fraction(0)))
        if opt.status == "optimal" and err > opt.error + slack:
            return (f"claimed optimal, but error {float(err):.6g} > exact optimum "
                    f"{float(opt.error):.6g} (subset {np.flatnonzero(opt.mask).tolist()})")
    return None


@st.composite
def rss_cases(draw, max_n: int):
    n = draw(st.integers(1, max_n))
    values = draw(st.lists(st.floats(-1, 1, allow_nan=False, width=32), min_size=n,
                           max_size=n))
    target = draw(st.floats(-2, 2, allow_nan=False, width=32))
    return np.array(values, dtype=np.float64), float(target)


def validate_rss(impl: Callable | str, *, claims_optimal: bool = False, max_n: int = 12,
                 max_examples: int = 200) -> Verdict:
    """Property-test a subset-sum solver; returns a :class:`Verdict`."""
    if not isinstance(max_n, int) or not 1 <= max_n <= 30:
        raise ValueError(f"max_n: expected an integer in 1..30, got {max_n!r}")
    fn = load_callable(impl) if isinstance(impl, str) else impl
    name = impl if isinstance(impl, str) else getattr(fn, "__qualname__", repr(fn))
    config = {"impl": name, "claims_optimal": claims_optimal, "max_n": max_n,
              "max_examples": max_examples}
    try:
        case = find(rss_cases(max_n), lambda c: check_answer(fn, *c, claims_optimal) is not None,
                    settings=settings(max_examples=max_examples, database=None, derandomize=True,
                                      deadline=None, phases=[Phase.generate, Phase.shrink],
                                      suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return Verdict("consistent", f"{name}: {max_examples} instances (n <= {max_n}) passed"
                       + (" including exact optimality" if claims_optimal else ""),
                       config=config)
    values, target = case
    problem = check_answer(fn, values, target, claims_optimal)
    repro = (f"import numpy as np\nvalues = np.array({values.tolist()!r})\n"
             f"target = {target!r}\nprint(impl(values, target))")
    return Verdict("discrepancy", f"{name}: {problem} on values {values.tolist()}, target "
                   f"{target!r}", {"values": values.tolist(), "target": target,
                                   "problem": problem}, repro, [], config)
