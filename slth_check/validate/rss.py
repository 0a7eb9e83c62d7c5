"""Validation of a user's random-subset-sum solver (the RSS of Lemma 1's proof).

The solver is called as ``f(values, target)``: ``values`` a 1-D float64 NumPy
array of length ``n >= 1``, ``target`` a Python float.  It must return a
subset of ``range(n)`` in one of the forms below; the validator checks, on
generated instances, that the subset is well formed, that a reported sum is
the subset's sum within float64 rounding, and (``claims_optimal``) that the
subset is an exact optimum up to the float64 rounding of the objective.

**Accepted answers** (:func:`normalise_answer`; anything else is a
discrepancy whose message says what was wrong and what was expected):

(a) a *bool mask* of length ``n``: a 1-D NumPy array of dtype ``bool``, or a
    non-empty list / tuple whose entries are all ``bool`` / ``numpy.bool_``;
(b) *0-based integer indices*, distinct, in ``0..n-1``: a list, tuple, set,
    frozenset or ``range`` of ``int`` / NumPy integers (not ``bool``), or a
    1-D NumPy array of an integer dtype.  An empty container (an empty array
    of any dtype included) is the empty subset.  In particular a tuple of two
    integers, ``(0, 2)``, is the *indices* {0, 2}, never (subset, sum); a 0/1
    *integer* array is read as indices (use ``dtype=bool`` for a mask);
(c) an explicit pair ``(subset, reported_sum)``: a ``tuple`` of length 2
    whose first element is itself a list / tuple / set / frozenset / range /
    1-D array (a mask or indices as in (a), (b)) and whose second element is
    a real number: ``int`` (not ``bool``), ``float``, ``Fraction``, a NumPy
    integer or floating scalar, or a 0-d array of those, finite.  So
    ``([0, 2], 0.75)`` and ``((0, 2), 0.75)`` are pairs, ``(0, 2)`` is
    indices, and ``(mask, True)`` is an error (a bool is not a sum).  Only a
    ``tuple`` makes a pair: ``[[0, 2], 0.75]`` is rejected as a nested list;
(d) a dict ``{"subset": S}`` or ``{"subset": S, "sum": s}`` with ``S`` as in
    (a), (b) and ``s`` as in (c).

Rejected, each with its own message: ``None``, a bare number, strings, floats
among indices (even ``2.0``), bools mixed with integers, nested containers or
arrays of more than one dimension, negative indices (no Python negative
indexing), repeated indices, indices ``>= n`` (with a hint when the answer
looks 1-based), a mask of the wrong length, a non-finite or non-numeric
reported sum, any other type.

**Isolation** (:mod:`slth_check.validate.sandbox`).  A ``MODULE:ATTR``
solver runs in a worker process with a per-call ``timeout`` (default 60 s):
a hang, ``sys.exit`` (even ``sys.exit(0)``), ``os._exit``, a crash, an
exception at import (a ``SyntaxError`` included) or an answer that cannot be
interpreted is a *discrepancy* of the implementation, never ``consistent``
and never a crash of slth-check; a module or attribute that does not exist
is a usage error (exit 2).  The answer is interpreted inside the worker, so
the validator only ever receives plain numbers.  The solver gets private
copies; the check uses the validator's own ``values``, and a solver that
modifies its input (e.g. sorts ``values`` in place) gets its own discrepancy
("modified its input values in place").  A Python callable given to
:func:`validate_rss` directly runs in-process (private copies, no timeout).

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

**Tolerances**, re-derived (``u = 2**-53``, ``gamma_k = k u / (1 - k u)``;
Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., §4.2,
eq. (4.4): any floating-point summation of ``k + 1`` numbers ``x_i``, in any
order or tree, is within ``gamma_k sum |x_i|`` of the exact sum; the same
as eq. (3.5) for a dot product with 0/1 weights.  Additions are exact when
they underflow (gradual underflow), so no underflow term is needed):

* reported sum (:func:`sum_tolerance`): the sum of the chosen subset ``S``,
  summed in any order (with or without a leading 0), is within
  ``gamma_|S| sum_S |v| <= T_sum = gamma_n sum_i |v_i|`` of the exact sum.
  The comparison with the exact subset sum (Fractions) is exact.
* optimality (:func:`optimality_slack`): a float64 solver ranks subsets by
  a computed ``e^(S) = fl|t - sum_S v|``, a summation of the ``|S| + 1``
  numbers ``t, -v_i (i in S)``: ``|e^(S) - e(S)| <= gamma_n (|t| + sum |v|)
  =: delta`` for every ``S``.  If it returns ``S`` with ``e^(S) <= e^(S*)``
  for an exact optimum ``S*``, then ``e(S) <= e^(S) + delta <= e^(S*) +
  delta <= e(S*) + 2 delta``.  So ``slack = 2 gamma_n (|t| + sum |v|)``:
  what no float64 solver can be blamed for, and nothing more.  (The former
  ``gamma_{n+1}(...)`` was smaller than this for ``n >= 2`` and could flag a
  correct solver.)  It cannot admit a wrong answer on small integer-valued
  instances: there distinct errors differ by at least 1, and ``slack < 1``
  whenever ``2 gamma_n (n + 1) M < 1`` for ``|v|, |t| <= M``, i.e. for every
  ``M <= 10**12`` at ``n <= 30`` (tested).  The exact optimum comes from
  meet in the middle (:func:`slth_check.rss.solve`, ``method="mitm"``) in
  exact integer arithmetic, and the comparison ``e(S) > opt + slack`` is
  made in Fractions.

A failing instance is shrunk by Hypothesis to a minimal one and printed with
a copy-paste reproducer.
"""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from . import Verdict
from .sandbox import UserCodeFailure, UserFunction

# Hypothesis, the exact solvers and the arithmetic helpers are imported where they
# are used: the worker process imports this module for normalise_answer and
# _solver_factory only, and starts faster without them.

__all__ = ["Answer", "AnswerError", "check_result", "interpret", "normalise_answer",
           "optimality_slack", "resolve", "rss_cases", "sum_tolerance", "validate_rss"]

MAX_N = 30
"""Largest ``max_n`` accepted (the exact optimum is meet in the middle)."""
MAX_ABS_DEFAULT = 1e6
MAX_ABS_LIMIT = 1e300  # n * max_abs stays finite in float64 for n <= MAX_N
TINY = 2.0**-64  # smaller non-zero magnitudes are not generated (module docs)

_EXPECTED = ("expected a bool mask of length n, 0-based integer indices (list, tuple, set, "
             "range or integer array), a pair (subset, reported_sum) or "
             "{'subset': ..., 'sum': ...}")


class AnswerError(ValueError):
    """A solver's answer that none of the accepted forms covers (module docs)."""


@dataclass(frozen=True)
class Answer:
    """A solver's answer reduced to plain Python data.

    ``kind`` is ``"mask"`` (``items`` are bools) or ``"indices"`` (``items``
    are ints, in the solver's order); ``reported`` is the reported sum as an
    exact Fraction, or None when the solver reported none.
    """

    kind: str
    items: tuple
    reported: Fraction | None = None


def _is_bool(x: Any) -> bool:
    return isinstance(x, (bool, np.bool_))


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not _is_bool(x)


def _is_collection(x: Any) -> bool:
    """Could ``x`` be a subset (the first element of a pair)?"""
    return isinstance(x, (list, tuple, set, frozenset, range)) or (
        isinstance(x, np.ndarray) and x.ndim == 1)


def _is_real(x: Any) -> bool:
    """A real number usable as a reported sum (not a bool)."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return x.dtype.kind in "iuf"
    return isinstance(x, numbers.Real) and not _is_bool(x)


def _reported(x: Any) -> Fraction:
    """The reported sum as an exact Fraction (AnswerError if not finite)."""
    if isinstance(x, np.ndarray):
        x = x[()]
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    if isinstance(x, Fraction):
        return x
    try:
        if hasattr(x, "as_integer_ratio"):
            p, q = x.as_integer_ratio()
            return Fraction(p, q)
        return Fraction(float(x))
    except (OverflowError, ValueError):
        raise AnswerError(f"reported sum {x!r} is not a finite number") from None


def _type(x: Any) -> str:
    return type(x).__name__


def _parse_subset(x: Any) -> tuple[str, tuple]:
    """``("mask", bools)`` or ``("indices", ints)`` from a subset (rules (a), (b))."""
    if x is None:
        raise AnswerError(f"returned None; {_EXPECTED}")
    if isinstance(x, (str, bytes)):
        raise AnswerError(f"returned a {_type(x)} {x[:40]!r}; {_EXPECTED}")
    if _is_bool(x) or isinstance(x, numbers.Number):
        raise AnswerError(f"returned a single number {x!r}; {_EXPECTED} (the subset {{3}} "
                          "is [3])")
    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            if x.size == 0:
                return ("indices", ())
            raise AnswerError(f"returned a {x.ndim}-D array of shape {x.shape}; {_EXPECTED} "
                              "(1-D)")
        if x.size == 0:
            return ("indices", ())
        if x.dtype == bool:
            return ("mask", tuple(bool(b) for b in x))
        if x.dtype.kind in "iu":
            return ("indices", tuple(int(i) for i in x))
        if x.dtype.kind == "f":
            raise AnswerError(f"returned a float array {x[:10].tolist()} as indices: indices "
                              "must be integers (np.flatnonzero(mask) gives them)")
        if x.dtype.kind != "O":
            raise AnswerError(f"returned an array of dtype {x.dtype}; {_EXPECTED}")
        x = x.tolist()
    if isinstance(x, range):
        return ("indices", tuple(x))
    if isinstance(x, (set, frozenset)):
        items = list(x)
        if any(_is_bool(i) for i in items):
            raise AnswerError(f"returned a set containing bools {sorted(map(repr, items))}; "
                              "a set holds 0-based integer indices")
        for i in items:
            if not _is_int(i):
                raise AnswerError(f"returned a set containing {i!r} ({_type(i)}): a set "
                                  "holds 0-based integer indices")
        return ("indices", tuple(sorted(int(i) for i in items)))
    if not isinstance(x, (list, tuple)):
        raise AnswerError(f"returned an object of type {_type(x)}; {_EXPECTED}")
    items = list(x)
    if not items:
        return ("indices", ())
    bools = [_is_bool(i) for i in items]
    if all(bools):
        return ("mask", tuple(bool(b) for b in items))
    if any(bools):
        raise AnswerError(f"returned a {_type(x)} that mixes bools and integers "
                          f"{[i for i in items[:10]]!r}: give a bool mask or integer indices")
    for pos, i in enumerate(items):
        if _is_int(i):
            continue
        if isinstance(i, (float, np.floating)):
            raise AnswerError(f"index {i!r} at position {pos} is a float, not an integer "
                              "(indices must be ints: np.flatnonzero(mask) gives them)")
        if _is_collection(i) or isinstance(i, (dict, np.ndarray)):
            raise AnswerError(f"returned a nested {_type(x)} (element {pos} is a {_type(i)}); "
                              f"{_EXPECTED}")
        raise AnswerError(f"index {i!r} at position {pos} is a {_type(i)}, not an integer")
    return ("indices", tuple(int(i) for i in items))


def normalise_answer(answer: Any) -> Answer:
    """Reduce a solver's answer to an :class:`Answer` (rules (a)-(d), module docs).

    Raises :class:`AnswerError` (a ValueError) naming what was wrong and what
    was expected.  Does not know ``n``: :func:`resolve` checks lengths and
    ranges.  This runs in the worker process (the sandbox's ``convert``).
    """
    if isinstance(answer, Answer):
        return answer
    reported = None
    subset = answer
    if isinstance(answer, dict):
        keys = set(answer)
        if "subset" not in keys or not keys <= {"subset", "sum"}:
            raise AnswerError(f"returned a dict with keys {sorted(map(str, keys))}; expected "
                              "{'subset': ...} or {'subset': ..., 'sum': ...}")
        subset = answer["subset"]
        if "sum" in keys:
            if not _is_real(answer["sum"]):
                raise AnswerError(f"the reported sum answer['sum'] = {answer['sum']!r} "
                                  f"({_type(answer['sum'])}) is not a real number")
            reported = _reported(answer["sum"])
    elif isinstance(answer, tuple) and len(answer) == 2 and _is_collection(answer[0]):
        subset, second = answer
        if not _is_real(second):
            raise AnswerError(f"returned a pair (subset, {second!r}): the second element of "
                              f"(subset, reported_sum) must be a real number, not "
                              f"{_type(second)}")
        reported = _reported(second)
    if isinstance(subset, dict):
        raise AnswerError(f"returned a nested dict; {_EXPECTED}")
    kind, items = _parse_subset(subset)
    return Answer(kind, items, reported)


def resolve(answer: Answer, n: int) -> tuple[np.ndarray | None, str | None]:
    """``(mask, None)`` for a valid subset of ``range(n)``, else ``(None, problem)``."""
    if answer.kind == "mask":
        if len(answer.items) != n:
            return None, (f"returned a bool mask of length {len(answer.items)}, should be "
                          f"{n} (one entry per value)")
        return np.array(answer.items, dtype=bool), None
    idx = list(answer.items)
    if not idx:
        return np.zeros(n, dtype=bool), None
    neg = [i for i in idx if i < 0]
    if neg:
        return None, (f"negative index {neg[0]} in {idx[:20]}: indices are 0-based in "
                      f"0..{n - 1} (no negative indexing)")
    if max(idx) >= n:
        hint = " (1-based indices?)" if min(idx) >= 1 and max(idx) == n else ""
        return None, f"index {max(idx)} out of range 0..{n - 1} in {idx[:20]}{hint}"
    if len(set(idx)) != len(idx):
        seen: set[int] = set()
        dup = next(i for i in idx if i in seen or seen.add(i))  # type: ignore[func-returns-value]
        hint = (" (0/1 integers are read as indices: return a bool mask, dtype=bool)"
                if set(idx) <= {0, 1} and len(idx) == n else "")
        return None, f"index {dup} repeated in {idx[:20]}: indices must be distinct{hint}"
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    return mask, None


def interpret(answer: Any, n: int) -> tuple[np.ndarray | None, Fraction | None, str | None]:
    """``(mask, reported sum or None, problem or None)`` from a solver's raw answer."""
    try:
        a = normalise_answer(answer)
    except AnswerError as exc:
        return None, None, str(exc)
    mask, problem = resolve(a, n)
    return mask, a.reported, problem


def _abs_sum(values: np.ndarray) -> Fraction:
    return sum((abs(Fraction(float(v))) for v in values), start=Fraction(0))


def sum_tolerance(values: np.ndarray) -> Fraction:
    """``T_sum = gamma_n sum |v_i|``: the largest error of a float64 subset sum (module docs)."""
    from ..arithmetic import gamma

    return gamma(max(int(np.asarray(values).size), 1)) * _abs_sum(values)


def optimality_slack(values: np.ndarray, target: float) -> Fraction:
    """``2 gamma_n (|t| + sum |v_i|)``: the error gap no float64 solver can be blamed for."""
    from ..arithmetic import gamma

    n = max(int(np.asarray(values).size), 1)
    return 2 * gamma(n) * (abs(Fraction(float(target))) + _abs_sum(values))


def check_result(values: np.ndarray, target: float, answer: Answer,
                 claims_optimal: bool) -> str | None:
    """The problem with a normalised answer on one instance, or None (exact comparisons)."""
    from ..rss.exact import exact_sum

    mask, problem = resolve(answer, values.size)
    if problem:
        return problem
    assert mask is not None
    s = exact_sum(values, mask)
    if answer.reported is not None:
        tol = sum_tolerance(values)
        diff = abs(answer.reported - s)
        if diff > tol:
            return (f"reported sum {float(answer.reported)!r} but the subset "
                    f"{np.flatnonzero(mask).tolist()} sums to {float(s)!r} (difference "
                    f"{float(diff):.3g} > float64 rounding bound {float(tol):.3g})")
    if claims_optimal:
        from ..rss import solve

        opt = solve(values, float(target), method="mitm")
        if opt.status != "optimal":  # pragma: no cover - mitm is exact for n <= 44
            raise RuntimeError(f"internal: mitm returned status {opt.status!r}")
        err = abs(Fraction(float(target)) - s)
        slack = optimality_slack(values, target)
        if err > opt.error + slack:
            return (f"claimed optimal, but the subset {np.flatnonzero(mask).tolist()} has "
                    f"error {float(err):.17g} > exact optimum {float(opt.error):.17g} "
                    f"(subset {np.flatnonzero(opt.mask).tolist()}; float64 slack "
                    f"{float(slack):.3g})")
    return None


# -- the solver in its worker ----------------------------------------------------------
class ImportFailed(Exception):
    """The user's module raised a ValueError at import (kept apart from usage errors)."""


def _load_solver(spec: str) -> Callable:
    """Import ``MODULE:ATTR``: ValueError only for usage errors (not found, not callable)."""
    if not isinstance(spec, str) or ":" not in spec or spec.startswith(":") \
            or spec.endswith(":"):
        raise ValueError(f"--impl: expected MODULE:ATTR, got {spec!r}")
    mod, attr = spec.split(":", 1)
    try:
        obj: Any = importlib.import_module(mod)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (mod == exc.name or mod.startswith(exc.name + ".")):
            raise ValueError(f"--impl: cannot load {spec!r} (no module named {exc.name!r}; "
                             "is the current folder or PYTHONPATH right?)") from exc
        raise
    except ValueError as exc:  # the user's code raised it: not a usage error
        raise ImportFailed(f"{type(exc).__name__}: {exc}") from exc
    try:
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError as exc:
        raise ValueError(f"--impl: cannot load {spec!r} (AttributeError: {exc})") from exc
    if not callable(obj):
        raise ValueError(f"--impl: {spec!r} is not callable (got {_type(obj)})")
    return obj


class _Solver:
    """Calls the user's ``f(values, target)`` with ``target`` as a Python float
    (the sandbox hands every argument over as an array)."""

    def __init__(self, fn: Callable) -> None:
        self.fn = fn

    def __call__(self, values: np.ndarray, target: np.ndarray) -> Any:
        return self.fn(values, float(target))


def _solver_factory(spec: str) -> _Solver:
    """Run in the worker: load the user's solver (see :class:`_Solver`)."""
    return _Solver(_load_solver(spec))


# -- generation ------------------------------------------------------------------------
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


# -- the validator -----------------------------------------------------------------------
@dataclass
class _Problem:
    detail: str
    fatal: bool = False
    answer: Answer | None = None


def _check_int(name: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"{name}: expected an integer in {lo}..{hi}, got {v!r}")
    return int(v)


def validate_rss(impl: Callable | str, *, claims_optimal: bool = False, max_n: int = 16,
                 max_examples: int = 200, max_abs: float | None = None,
                 timeout: float = 60.0) -> Verdict:
    """Property-test a subset-sum solver ``f(values, target)`` (module docs).

    ``impl`` is ``"MODULE:ATTR"`` (run in a sandboxed worker with ``timeout``
    seconds per call) or a Python callable (run in-process).  ``max_n``
    (1..30) and ``max_abs`` (1..1e300, default 1e6) bound the generated
    instances.  Returns a :class:`~slth_check.validate.Verdict`:
    ``consistent``, or ``discrepancy`` with a minimal instance and a
    reproducer.  Raises ValueError for bad arguments or a solver that cannot
    be found.
    """
    max_n = _check_int("max_n", max_n, 1, MAX_N)
    max_examples = _check_int("max_examples", max_examples, 1, 10**6)
    if max_abs is None:
        max_abs = MAX_ABS_DEFAULT
    elif isinstance(max_abs, bool) or not isinstance(max_abs, (int, float)) \
            or not 1 <= max_abs <= MAX_ABS_LIMIT:
        raise ValueError(f"max_abs: expected a number in [1, {MAX_ABS_LIMIT:g}] (the largest "
                         f"|value| and |target| generated), got {max_abs!r}")
    max_abs = float(max_abs)
    if not isinstance(claims_optimal, bool):
        raise ValueError(f"claims_optimal: expected True or False, got {claims_optimal!r}")
    if isinstance(impl, str):
        name = impl
        fn = UserFunction("slth_check.validate.rss:_solver_factory", timeout,
                          factory_args=(impl,), convert=normalise_answer,
                          arg_names=("values", "target"))
    elif callable(impl):
        name = getattr(impl, "__qualname__", repr(impl))
        fn = UserFunction(_Solver(impl), timeout, convert=normalise_answer,
                          arg_names=("values", "target"))
    else:
        raise ValueError(f"impl: expected MODULE:ATTR or a callable, got {impl!r}")
    config = {"impl": name, "claims_optimal": claims_optimal, "max_n": max_n,
              "max_abs": max_abs, "max_examples": max_examples, "timeout": timeout,
              "sandbox": "in-process" if fn.in_process else "worker process",
              "sum_tolerance": "gamma_n sum|v|",
              "optimality_slack": "2 gamma_n (|t| + sum|v|)" if claims_optimal else None}
    with fn:
        return _run(fn, name, impl, config, claims_optimal, max_n, max_abs, max_examples)


def _key(case: tuple[np.ndarray, float]) -> tuple:
    values, target = case
    return (values.tobytes(), float(target).hex())


def _run(fn: UserFunction, name: str, impl: Any, config: dict, claims_optimal: bool,
         max_n: int, max_abs: float, max_examples: int) -> Verdict:
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample

    from ..rss import solve

    try:
        fn.start()
    except UserCodeFailure as exc:
        return Verdict("discrepancy", f"{name}: the implementation {exc}", None, None,
                       ["the implementation could not be imported"], config)

    def evaluate(case: tuple[np.ndarray, float]) -> _Problem | None:
        values, target = case
        try:
            answer = fn.call(values, np.float64(target), during="when called")
        except UserCodeFailure as exc:
            return _Problem(f"the implementation {exc}", fatal=exc.fatal)
        problem = check_result(values, target, answer, claims_optimal)
        return None if problem is None else _Problem(problem, answer=answer)

    problems: dict[tuple, tuple[tuple[np.ndarray, float], _Problem]] = {}
    fatal: list[tuple] = []

    def mismatch(case: tuple[np.ndarray, float]) -> bool:
        key = _key(case)
        if fatal:  # no shrinking after a hang/exit/crash: each try could cost the timeout
            return key == fatal[0]
        prob = evaluate(case)
        if prob is None:
            return False
        problems[key] = (case, prob)
        if prob.fatal:
            fatal.append(key)
        return True

    try:
        case = find(rss_cases(max_n, max_abs), mismatch,
                    settings=settings(max_examples=max_examples, database=None,
                                      derandomize=True, deadline=None,
                                      phases=[Phase.generate, Phase.shrink],
                                      suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return Verdict("consistent", f"{name}: {max_examples} instances (n <= {max_n}, "
                       f"|values|, |target| <= {max_abs:g}) passed"
                       + (" including exact optimality" if claims_optimal else ""),
                       config=config)
    except Exception:  # noqa: BLE001 - e.g. Flaky: a non-deterministic solver
        if not problems:
            raise
        case = min((c for c, _ in problems.values()), key=lambda c: c[0].size)
    key = _key(case)
    prob = problems[key][1] if key in problems else evaluate(case)
    if prob is None:  # pragma: no cover - flaky user code passing on replay
        prob = _Problem("the solver is not deterministic: it failed this instance once")
    values, target = case
    diagnosis: list[str] = []
    if "in place" in prob.detail:
        diagnosis.append("the solver modifies its input in place; the validator checks "
                         "against its own copy")
    counter: dict[str, Any] = {"values": values.tolist(), "target": target,
                               "problem": prob.detail}
    if prob.answer is not None:
        counter["answer"] = {"kind": prob.answer.kind, "items": list(prob.answer.items),
                             "reported_sum": None if prob.answer.reported is None
                             else float(prob.answer.reported)}
    if claims_optimal and not prob.fatal:
        opt = solve(values, float(target), method="mitm")
        counter["optimum"] = {"subset": np.flatnonzero(opt.mask).tolist(),
                              "error": float(opt.error)}
    if isinstance(impl, str):
        mod, attr = impl.split(":", 1)
        head = f"import importlib\nimpl = importlib.import_module({mod!r}).{attr}\n"
    else:
        head = "# impl = your solver\n"
    repro = (f"{head}import numpy as np\nvalues = np.array({values.tolist()!r})\n"
             f"target = {target!r}\nprint(impl(values, target))")
    return Verdict("discrepancy", f"{name}: {prob.detail} on values {values.tolist()}, "
                   f"target {target!r}", counter, repro, diagnosis, config)
