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
``MAX_CANDIDATES`` (degenerate instances with many equal sums), a clear
error or the status ``unknown``.
"""

from __future__ import annotations

import time

import numpy as np

from ..arithmetic import gamma
from .exact import DyadicInstance, subset_sums
from .result import RSSResult

MITM_MAX_N = 44
MAX_CANDIDATES = 200_000


def _tau(values: np.ndarray, target: float, h: int) -> float:
    """Sound float bound on the rounding of one pair's float error (doubled)."""
    A, B = np.abs(values[:h]).sum(), np.abs(values[h:]).sum()
    g = lambda m: float(gamma(max(m, 1)))  # noqa: E731
    tau = g(h) * A + g(len(values) - h) * B + g(3) * (abs(target) + A + B)
    return 2.0 * tau * (1 + 1e-10) + 5e-324


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
    # every B-sum within R of a key has a nearest neighbour within R: only those keys remain
    cand = np.flatnonzero(near <= R)
    left = np.searchsorted(sortedB, q[cand] - R, side="left")
    right = np.searchsorted(sortedB, q[cand] + R, side="right")
    counts = right - left
    posB = np.repeat(left - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    value_pairs = sorted(set(zip(np.repeat(q[cand], counts).tolist(),
                                 sortedB[posB].tolist())))
    # back to subset indices: a key q = target - SA[ia] (the same float subtraction)
    keys = target - SA
    pairs_a: list[int] = []
    pairs_b: list[int] = []
    idx_a: dict[float, np.ndarray] = {}
    idx_b: dict[float, np.ndarray] = {}
    for qa, vb in value_pairs:
        ia = idx_a.get(qa)
        if ia is None:
            ia = idx_a[qa] = np.flatnonzero(keys == qa)
        ib = idx_b.get(vb)
        if ib is None:
            ib = idx_b[vb] = np.flatnonzero(SB == vb)
        pairs_a.extend(np.repeat(ia, ib.size).tolist())
        pairs_b.extend(np.tile(ib, ia.size).tolist())
        if len(pairs_a) > MAX_CANDIDATES:
            break
    stats = {"seconds": None, "candidates": len(pairs_a), "float_best": F, "radius": R}
    if len(pairs_a) > MAX_CANDIDATES:
        stats["seconds"] = time.perf_counter() - t0
        return RSSResult.from_mask(values, target, _mask(pairs_a[0], pairs_b[0], h, n),
                                   "unknown", "mitm",
                                   {"reason": f"more than {MAX_CANDIDATES} tied candidates; "
                                              "optimality not verified"}, stats)
    ias, ibs = np.asarray(pairs_a), np.asarray(pairs_b)
    best = _exact_best(values, target, ias, ibs, h)
    mask = _mask(int(ias[best[1]]), int(ibs[best[1]]), h, n)
    stats["seconds"] = time.perf_counter() - t0
    cert = {"proof": "meet-in-the-middle: every pair within the rounding radius of the float "
                     "optimum re-verified exactly", "candidates_verified": int(ias.size),
            "radius": R}
    return RSSResult.from_mask(values, target, mask, "optimal", "mitm", cert, stats)


def _mask(ia: int, ib: int, h: int, n: int) -> np.ndarray:
    bits = np.arange(n)
    return np.where(bits < h, (ia >> bits) & 1, (ib >> np.maximum(bits - h, 0)) & 1).astype(bool)


def _exact_best(values: np.ndarray, target: float, ias: np.ndarray, ibs: np.ndarray,
                h: int) -> tuple[int, int]:
    """(exact integer error, position) of the best candidate pair."""
    dy = DyadicInstance(values, target)
    intsA, intsB = dy.ints[:h], dy.ints[h:]
    cacheA: dict[int, int] = {}
    cacheB: dict[int, int] = {}

    def sub(ints: list[int], idx: int, cache: dict[int, int]) -> int:
        s = cache.get(idx)
        if s is None:
            s = sum(v for i, v in enumerate(ints) if (idx >> i) & 1)
            cache[idx] = s
        return s

    best = None
    for k, (ia, ib) in enumerate(zip(ias.tolist(), ibs.tolist())):
        err = abs(dy.target - sub(intsA, ia, cacheA) - sub(intsB, ib, cacheB))
        if best is None or err < best[0]:
            best = (err, k)
    assert best is not None  # the float-best pair is always a candidate
    return best
