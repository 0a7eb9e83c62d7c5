"""Sparsest tickets: the fewest samples whose sum is within eps of a target (exact).

Neither the paper nor Pensia et al. report it (Pensia et al.'s "kept" count is the
first feasible solution of a MILP): for each weight ``t`` and samples ``v_1..v_n``,
the least ``k`` such that some subset ``S`` with ``|S| = k`` has
``|t - sum_S v_i| <= eps``, with the subset as a certificate checked in Fractions.

**Method.** Meet in the middle over cardinality: the float64 subset sums of each
half, grouped by size and sorted; for ``k = 0, 1, ...`` and every split
``k = ka + kb``, each sum ``a`` of size ``ka`` is paired with the sums ``b`` of size
``kb`` in the window ``|t - a - b| <= eps + tau``, where ``tau = 2 gamma_(n+2)
(sum |v_i| + |t|)`` bounds the rounding of the computed distance (Higham, eq. 3.5):
every exact solution of size ``k`` is in a window.  Every candidate of the window is
checked exactly until one holds; so ``k`` is the least size when all smaller sizes had
no candidate passing the exact check.  ``status``: ``optimal`` (the least k, its
subset verified exactly), ``infeasible`` (no subset at all within eps: every candidate
refuted exactly), ``unknown`` (more than ``max_candidates`` candidates to refute).
Near the float64 range (``sum |v_i| + |t| + eps > 2^1000``) the search runs on the
inputs scaled by a power of two, so no sum overflows (module code).

**Inputs.** ``values`` a 1-D sequence of at most :data:`MAX_N` finite float64 numbers,
``target`` and ``eps >= 0`` finite numbers equal to float64 numbers (an int, Fraction,
Decimal or string that float() would round is refused: the answer would be about
another number); anything else is a ValueError naming the argument.  :func:`verify`
checks a certificate completely, minimality included.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import combinations
from typing import Any

import numpy as np

from slth_check.arithmetic import gamma
from slth_check.rss.exact import exact_sum

#: Largest n accepted (2 x 2^(n/2) sums per half are kept with their sizes).
MAX_N = 40


@dataclass(frozen=True)
class SparsestResult:
    """``k`` (None unless optimal), the subset ``mask``, its exact ``sum`` and ``error``
    (Fractions), ``status`` and the number of candidates checked exactly."""

    k: int | None
    mask: np.ndarray | None
    sum: Fraction | None
    error: Fraction | None
    status: str
    candidates: int


def _half(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All subset sums of ``v`` (index bit i = v[i] chosen) and their sizes."""
    sums, sizes = np.zeros(1), np.zeros(1, dtype=np.int64)
    for x in v:
        sums = np.concatenate([sums, sums + x])
        sizes = np.concatenate([sizes, sizes + 1])
    return sums, sizes


def _by_size(sums: np.ndarray, sizes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The indices of the subsets of size ``k``, sorted by their sum, and those sums."""
    idx = np.flatnonzero(sizes == k)
    order = np.argsort(sums[idx], kind="stable")
    return idx[order], sums[idx[order]]


def _mask(ia: int, ib: int, h: int, n: int) -> np.ndarray:
    return np.array([(ia >> i) & 1 if i < h else (ib >> (i - h)) & 1 for i in range(n)],
                    dtype=bool)


def _exact(x: Any, name: str) -> Fraction:
    """``x`` as the Fraction of a finite float64 it equals exactly; ValueError naming
    ``name`` for anything else (a value that float() would round, NaN, inf, a list...)."""
    if isinstance(x, (bool, np.bool_)) or (isinstance(x, np.ndarray) and x.ndim != 0):
        raise ValueError(f"{name}: expected a finite float64 number, got {x!r}")
    try:
        f = float(x)
        exact = Fraction(x) if isinstance(x, (numbers.Rational, Decimal, str)) \
            else Fraction(f)
    except (TypeError, ValueError, OverflowError, ArithmeticError):
        raise ValueError(f"{name}: expected a finite float64 number, got {x!r}") from None
    if not math.isfinite(f):
        raise ValueError(f"{name}: expected a finite number, got {x!r}")
    if Fraction(f) != exact:
        raise ValueError(f"{name}: {x!r} is not a float64 number (it would be rounded to "
                         f"{f!r}, and the answer would be about another {name})")
    return exact


def _check_args(values: Any, target: Any, eps: Any) -> tuple[np.ndarray, float, float]:
    try:
        raw = np.asarray(values)
        v = np.asarray(raw, dtype=np.float64) if raw.dtype.kind in "biuf" else None
    except (TypeError, ValueError):
        v = None
    if v is None or v.ndim != 1:
        raise ValueError(f"values: expected a 1-D sequence of float64 numbers, got {values!r}")
    if v.size > MAX_N or not np.all(np.isfinite(v)):
        raise ValueError(f"values: expected at most {MAX_N} finite numbers, got {v.size}")
    if raw.dtype.kind in "iu" and any(Fraction(float(a)) != int(b) for a, b in zip(v, raw)):
        raise ValueError("values: integers that are not float64 numbers (they would be "
                         "rounded)")
    t, e = _exact(target, "target"), _exact(eps, "eps")
    if e < 0:
        raise ValueError(f"eps: expected a finite number >= 0, got {eps!r}")
    return v, float(t), float(e)


def sparsest(values: Any, target: Any, eps: Any, *,
             max_candidates: int = 1_000_000) -> SparsestResult:
    """The fewest of ``values`` whose sum is within ``eps`` of ``target`` (module docs)."""
    v, t, e = _check_args(values, target, eps)
    n, h = v.size, v.size // 2
    T, E = Fraction(t), Fraction(e)
    # The float search runs on w = v 2^-shift (t and eps alike), shift >= 0 the least making
    # sum |v| + |t| + eps <= 2^1000: no sum, window end or radius can overflow (at
    # 1e308 a half's sums did: inf, and its solutions were never candidates).  Scaling
    # by 2^-shift is exact but for values pushed into the subnormals, each off by at most
    # 2^-1075: (n + 1) 2^-1074 more in tau covers them.  The exact checks use v, T, E.
    big = sum((abs(Fraction(float(x))) for x in v), Fraction(0)) + abs(T) + E
    shift = max(0, big.numerator.bit_length() - big.denominator.bit_length() + 1 - 1000)
    w, ts = np.ldexp(v, -shift), math.ldexp(t, -shift)
    tau_exact = 2 * gamma(n + 2) * (sum((abs(Fraction(float(x))) for x in w), Fraction(0))
                                    + abs(Fraction(ts)))
    if shift:
        tau_exact += Fraction(n + 1, 2**1074)
    radius = float(E / 2**shift + tau_exact) * (1 + 2**-50)  # rounded up, past tau's own
    A, sA = _half(w[:h])
    B, sB = _half(w[h:])
    t = ts
    checked = 0
    for k in range(n + 1):
        for ka in range(max(0, k - (n - h)), min(k, h) + 1):
            ia, a = _by_size(A, sA, ka)
            ib, b = _by_size(B, sB, k - ka)
            lo = np.searchsorted(b, t - a - radius, side="left")
            hi = np.searchsorted(b, t - a + radius, side="right")
            for i in np.flatnonzero(hi > lo):
                for j in range(lo[i], hi[i]):
                    checked += 1
                    if checked > max_candidates:
                        return SparsestResult(None, None, None, None, "unknown", checked)
                    mask = _mask(int(ia[i]), int(ib[j]), h, n)
                    s = exact_sum(v, mask)
                    if abs(T - s) <= E:
                        return SparsestResult(k, mask, s, abs(T - s), "optimal", checked)
    return SparsestResult(None, None, None, None, "infeasible", checked)


#: Largest number of smaller subsets :func:`verify` enumerates itself (beyond: the search).
MAX_ENUMERATED = 2**16


def _fewer_within(v: np.ndarray, t: float, e: float, k: int) -> bool | None:
    """Is some subset of fewer than ``k`` samples within ``e`` of ``t`` (exact, in integers
    of 2^-1074)?  None when there are more than :data:`MAX_ENUMERATED` such subsets."""
    n = v.size
    if sum(math.comb(n, j) for j in range(k)) > MAX_ENUMERATED:
        return None
    q = 2**1074
    V = [int(Fraction(float(x)) * q) for x in v]
    T, E = int(Fraction(t) * q), int(Fraction(e) * q)
    return any(abs(T - sum(c)) <= E for j in range(k) for c in combinations(V, j))


def verify(values: Any, target: Any, eps: Any, result: SparsestResult) -> bool:
    """Is ``result`` a true certificate: status ``optimal``, a boolean ``mask`` of one
    entry per value with ``k`` entries set, its exact ``sum`` and ``error`` as recorded,
    the error within ``eps``, and no subset of fewer than ``k`` values within ``eps``
    (enumerated here in integers when there are at most :data:`MAX_ENUMERATED` of
    them, else by a new exhaustive search)?  False for anything else, never an
    exception for a malformed certificate."""
    try:
        v, t, e = _check_args(values, target, eps)
    except ValueError:
        return False
    m = getattr(result, "mask", None)
    if getattr(result, "status", None) != "optimal" or not isinstance(m, np.ndarray) \
            or m.dtype != np.bool_ or m.shape != v.shape:
        return False
    k = int(m.sum())
    if isinstance(result.k, bool) or not isinstance(result.k, (int, np.integer)) \
            or result.k != k:
        return False
    s = exact_sum(v, m)
    T, E = Fraction(t), Fraction(e)
    if s != result.sum or abs(T - s) != result.error or abs(T - s) > E:
        return False
    fewer = _fewer_within(v, t, e, k)
    if fewer is None:
        again = sparsest(v, t, e)
        return again.status == "optimal" and again.k == k
    return not fewer


__all__ = ["MAX_ENUMERATED", "MAX_N", "SparsestResult", "sparsest", "verify"]
