"""A subset-sum solver's answer: its accepted forms, their interpretation, and the
exact checks of one answer on one instance (used by :mod:`slth_check.validate.rss.core`).

This module runs in the sandbox's worker process too (:func:`normalise_answer`
is the worker's ``convert``), so it imports nothing heavy at the top.

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
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

# the exact solvers and the arithmetic helpers are imported where they are used: the
# worker process imports this module for normalise_answer only

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


def _parse_array(x: np.ndarray) -> tuple[str, tuple] | list:
    """A 1-D array as a subset, or (object dtype) its entries as a list to parse on."""
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
    return list(x.tolist())


def _parse_set(x: set | frozenset) -> tuple[str, tuple]:
    items = list(x)
    if any(_is_bool(i) for i in items):
        raise AnswerError(f"returned a set containing bools {sorted(map(repr, items))}; "
                          "a set holds 0-based integer indices")
    for i in items:
        if not _is_int(i):
            raise AnswerError(f"returned a set containing {i!r} ({_type(i)}): a set "
                              "holds 0-based integer indices")
    return ("indices", tuple(sorted(int(i) for i in items)))


def _check_index(x: Any, pos: int, i: Any) -> None:
    """AnswerError unless ``i``, at position ``pos`` of the sequence ``x``, is an int."""
    if _is_int(i):
        return
    if isinstance(i, (float, np.floating)):
        raise AnswerError(f"index {i!r} at position {pos} is a float, not an integer "
                          "(indices must be ints: np.flatnonzero(mask) gives them)")
    if _is_collection(i) or isinstance(i, (dict, np.ndarray)):
        raise AnswerError(f"returned a nested {_type(x)} (element {pos} is a {_type(i)}); "
                          f"{_EXPECTED}")
    raise AnswerError(f"index {i!r} at position {pos} is a {_type(i)}, not an integer")


def _parse_sequence(x: list | tuple) -> tuple[str, tuple]:
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
        _check_index(x, pos, i)
    return ("indices", tuple(int(i) for i in items))


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
        parsed = _parse_array(x)
        if isinstance(parsed, tuple):
            return parsed
        x = parsed
    if isinstance(x, range):
        return ("indices", tuple(x))
    if isinstance(x, (set, frozenset)):
        return _parse_set(x)
    if not isinstance(x, (list, tuple)):
        raise AnswerError(f"returned an object of type {_type(x)}; {_EXPECTED}")
    return _parse_sequence(x)

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


__all__ = ["Answer", "AnswerError", "interpret", "normalise_answer", "resolve"]
