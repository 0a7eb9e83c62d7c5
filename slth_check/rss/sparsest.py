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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
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


def _check_args(values: Any, target: Any, eps: Any) -> tuple[np.ndarray, float, float]:
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size > MAX_N or not np.all(np.isfinite(v)):
        raise ValueError(f"values: expected at most {MAX_N} finite numbers, got {v.size}")
    t, e = float(target), float(eps)
    if not math.isfinite(t):
        raise ValueError(f"target: expected a finite number, got {target!r}")
    if not (math.isfinite(e) and e >= 0):
        raise ValueError(f"eps: expected a finite number >= 0, got {eps!r}")
    return v, t, e


def sparsest(values: Any, target: Any, eps: Any, *,
             max_candidates: int = 1_000_000) -> SparsestResult:
    """The fewest of ``values`` whose sum is within ``eps`` of ``target`` (module docs)."""
    v, t, e = _check_args(values, target, eps)
    n, h = v.size, v.size // 2
    tau_exact = 2 * gamma(n + 2) * (sum((abs(Fraction(float(x))) for x in v), Fraction(0))
                                    + abs(Fraction(t)))
    radius = float(Fraction(e) + tau_exact) * (1 + 2**-50)  # rounded up, past tau's own
    A, sA = _half(v[:h])
    B, sB = _half(v[h:])
    T, E = Fraction(t), Fraction(e)
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


def verify(values: Any, target: Any, eps: Any, result: SparsestResult) -> bool:
    """Does ``result``'s subset have ``k`` elements and an exact error within ``eps``?
    (The certificate of the subset; the minimality rests on the exhaustive search.)"""
    if result.status != "optimal" or result.mask is None or result.k is None:
        return False
    v = np.asarray(values, dtype=np.float64).ravel()
    s = exact_sum(v, result.mask)
    return int(result.mask.sum()) == result.k and s == result.sum \
        and abs(Fraction(float(target)) - s) <= Fraction(float(eps))


__all__ = ["MAX_N", "SparsestResult", "sparsest", "verify"]
