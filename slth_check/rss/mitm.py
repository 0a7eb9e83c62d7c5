"""Meet in the middle (Horowitz-Sahni) for the exact optimum of random subset sum.

1. Split the values in halves A (h = n // 2) and B; enumerate the float64
   subset sums of each (``2**h`` and ``2**(n-h)``), sort B's.
2. For every sum a of A, binary-search ``target - a`` among B's sums; the
   smallest float error ``F`` over the two neighbours is found.
3. Rounding: each float subset sum is within ``tau_A = gamma_h sum|A|`` (resp.
   ``tau_B``) of its exact value and the error evaluation adds at most
   ``gamma_2 (|t| + sum|values|)``; with ``tau`` the total (doubled for
   safety), every pair whose *exact* error is at most the exact error of the
   float-best pair has float error at most ``F + 2 tau``.  All such pairs are
   collected by range searches and re-verified in exact integer arithmetic;
   the exact minimum among them is the exact optimum.

Memory guard: ``n <= MITM_MAX_N`` (44: two arrays of ``2**22`` float64, about
100 MB with the sort).  Past it, or when the tie set exceeds
``MAX_CANDIDATES`` exact evaluations or ``MAX_PAIRS`` pairs of values within
the radius (subsets with equal float sums are grouped by exact value first,
so only pathological instances get there), a clear error or the status
``unknown``.
"""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np

from slth_check.arithmetic import gamma
from slth_check.rss.exact import DyadicInstance, subset_sums
from slth_check.rss.result import RSSResult

MITM_MAX_N = 44
MAX_CANDIDATES = 200_000
#: Most (key, B-sum) value pairs within the radius collected for exact verification.
MAX_PAIRS = 1_000_000


@lru_cache(maxsize=256)
def gamma_float(m: int) -> float:
    """gamma_m as a float (cached: gamma is computed in exact rationals)."""
    return float(gamma(max(m, 1)))


def _tau(values: np.ndarray, target: float, h: int) -> float:
    """Sound float bound on the rounding of one pair's float error (doubled)."""
    A, B = np.abs(values[:h]).sum(), np.abs(values[h:]).sum()
    tau = (gamma_float(h) * A + gamma_float(len(values) - h) * B
           + gamma_float(3) * (abs(target) + A + B))
    return 2.0 * tau * (1 + 1e-10) + 5e-324


def _value_pairs(q: np.ndarray, near: np.ndarray, R: float, sortedB: np.ndarray
                 ) -> list[tuple[float, float]]:
    """Every (key, B-sum) pair of values within ``R`` of each other (empty beyond
    :data:`MAX_PAIRS`).  Every B-sum within R of a key has a nearest neighbour within R:
    only those keys remain.  The pairs are taken by value (distinct keys x distinct
    B-sums): tied sums (zeros, repeated values) would otherwise multiply into a cross
    product of positions."""
    qv = np.unique(q[near <= R])
    distinctB = np.unique(sortedB)
    left = np.searchsorted(distinctB, qv - R, side="left")
    right = np.searchsorted(distinctB, qv + R, side="right")
    counts = right - left
    if int(counts.sum()) > MAX_PAIRS:
        return []
    posB = np.repeat(left - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    return list(zip(np.repeat(qv, counts).tolist(), distinctB[posB].tolist()))


def solve_mitm(values: np.ndarray, target: float) -> RSSResult:
    """The exactly optimal subset (status optimal), or status unknown on huge ties."""
    n = values.size
    if n > MITM_MAX_N:
        raise ValueError(f"values: method 'mitm' handles n <= {MITM_MAX_N} (memory), got n={n}; "
                         "use method='milp' for larger n")
    t0 = time.perf_counter()
    h = n // 2
    SA = subset_sums(values[:h])
    SB = subset_sums(values[h:])
    sortedB = np.sort(SB)
    q = np.sort(target - SA)  # ascending keys make the binary searches cache-friendly
    pos = np.searchsorted(sortedB, q)
    lo = sortedB[np.maximum(pos - 1, 0)]
    hi = sortedB[np.minimum(pos, sortedB.size - 1)]
    near = np.minimum(np.abs(q - lo), np.abs(q - hi))
    F = float(near.min())
    R = F + 2 * _tau(values, target, h)
    value_pairs = _value_pairs(q, near, R, sortedB)
    # Exact verification.  Subsets sharing one float sum (zeros, repeated values) are
    # grouped by their *exact* sums, so ties cost one evaluation per distinct exact value.
    dy = DyadicInstance(values, target)
    keys = target - SA  # the same float subtraction as q, so equality maps back
    exact_a = _ExactSide(dy.ints[:h], lambda v: np.flatnonzero(keys == v))
    exact_b = _ExactSide(dy.ints[h:], lambda v: np.flatnonzero(SB == v))
    best: tuple[int, int, int] | None = None
    for qa, vb in value_pairs:
        A_sums, B_sums = exact_a.distinct(qa), exact_b.distinct(vb)
        if A_sums is None or B_sums is None:
            break
        for sa, ia in A_sums.items():
            for sb, ib in B_sums.items():
                err = abs(dy.target - sa - sb)
                if best is None or err < best[0]:
                    best = (err, ia, ib)
    evaluated = exact_a.evaluated + exact_b.evaluated
    stats = {"seconds": time.perf_counter() - t0, "candidates": len(value_pairs),
             "exact_evaluations": evaluated, "float_best": F, "radius": R}
    if exact_a.overflow or exact_b.overflow or best is None:
        qa = q[int(np.argmin(near))]
        ia = int(np.flatnonzero(keys == qa)[0])
        ib = int(np.argmin(np.abs(qa - SB)))
        return RSSResult.from_mask(values, target, _mask(ia, ib, h, n), "unknown", "mitm",
                                   {"reason": f"more than {MAX_CANDIDATES} tied subsets or "
                                              f"{MAX_PAIRS} pairs to verify exactly; "
                                              "optimality not verified"}, stats)
    mask = _mask(best[1], best[2], h, n)
    cert = {"proof": "meet-in-the-middle: every pair of subset sums within the rounding "
                     "radius of the float optimum re-verified exactly",
            "pairs_verified": len(value_pairs), "radius": R}
    return RSSResult.from_mask(values, target, mask, "optimal", "mitm", cert, stats)


class _ExactSide:
    """Exact integer subset sums of one half, grouped by float value, with a budget."""

    def __init__(self, ints: list[int], indices_of) -> None:
        self.ints = ints
        self.indices_of = indices_of
        self.cache: dict[float, dict[int, int]] = {}
        self.evaluated = 0
        self.overflow = False

    def distinct(self, value: float) -> dict[int, int] | None:
        """{exact sum: one subset index} for the subsets whose float sum is ``value``."""
        got = self.cache.get(value)
        if got is not None:
            return got
        idx = self.indices_of(value)
        self.evaluated += idx.size
        if self.evaluated > MAX_CANDIDATES:
            self.overflow = True
            return None
        out: dict[int, int] = {}
        if idx.size == 1:  # the usual case: no tie, plain Python integers
            ix = int(idx[0])
            out[sum(v for i, v in enumerate(self.ints) if (ix >> i) & 1)] = ix
        else:
            sums = np.zeros(idx.size, dtype=object)
            sums[:] = 0
            for i, v in enumerate(self.ints):
                if v:
                    sums = sums + ((idx >> i) & 1).astype(object) * v
            for s_, ix in zip(sums.tolist(), idx.tolist()):
                out.setdefault(s_, ix)
        self.cache[value] = out
        return out


def _mask(ia: int, ib: int, h: int, n: int) -> np.ndarray:
    bits = np.arange(n)
    return np.where(bits < h, (ia >> bits) & 1, (ib >> np.maximum(bits - h, 0)) & 1).astype(bool)
