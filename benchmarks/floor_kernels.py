"""The two floors of ``benchmarks/floor.py`` (issue 19): the fastest loops written that only
build the two sorted half-sum lists (by merging, no sort) and scan them for the float
optimum F of every instance (no optimality proof, no mask, no exact error).

* :func:`old_floor` - the floor as first measured (0.5.x): four merge chains (each list
  from its front and its back, A's and B's in lockstep, signed indices), then a plain
  compiled two-pointer scan per key.  Kept verbatim here so that it stays a fixed
  baseline whatever the package's kernel becomes.
* :func:`new_floor` - the package's merge (:func:`slth_check.rss.merge.sorted_keys`:
  eight chains, one index each, A's last level written as the keys ``t - a``), then a
  branch-free merged walk of the keys and B's sums in four interleaved chains (run in
  stretches without end tests) that measures the two heads at each step and keeps
  only the least distance.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=1)
def _old():
    import numba

    @numba.njit(boundscheck=False, inline="always")
    def front(src, dst, i, k, x, o):
        a, b = src[i], src[k] + x
        t = b < a
        dst[o] = b if t else a
        return i + (1 - t), k + t

    @numba.njit(boundscheck=False, inline="always")
    def back(src, dst, i, k, x, o):
        a, b = src[i], src[k] + x
        t = b >= a
        dst[o] = b if t else a
        return i - (1 - t), k - t

    @numba.njit(boundscheck=False)
    def sums(vA, vB, bA, bB):
        bA[0, 1] = bB[0, 1] = 0.0
        sa = sb = 0
        for j in range(max(vA.shape[0], vB.shape[0])):
            na = (1 << j) if j < vA.shape[0] else 0
            nb = (1 << j) if j < vB.shape[0] else 0
            xa, xb = (vA[j] if na else 0.0), (vB[j] if nb else 0.0)
            srcA, dstA, srcB, dstB = bA[sa], bA[1 - sa], bB[sb], bB[1 - sb]
            i0, k0, i1, k1, j0, l0, j1, l1 = 1, 1, na, na, 1, 1, nb, nb
            for o in range(1, min(na, nb) + 1):
                i0, k0 = front(srcA, dstA, i0, k0, xa, o)
                i1, k1 = back(srcA, dstA, i1, k1, xa, 2 * na + 1 - o)
                j0, l0 = front(srcB, dstB, j0, l0, xb, o)
                j1, l1 = back(srcB, dstB, j1, l1, xb, 2 * nb + 1 - o)
            for o in range(min(na, nb) + 1, na + 1):
                i0, k0 = front(srcA, dstA, i0, k0, xa, o)
                i1, k1 = back(srcA, dstA, i1, k1, xa, 2 * na + 1 - o)
            for o in range(min(na, nb) + 1, nb + 1):
                j0, l0 = front(srcB, dstB, j0, l0, xb, o)
                j1, l1 = back(srcB, dstB, j1, l1, xb, 2 * nb + 1 - o)
            sa, sb = ((1 - sa) if na else sa), ((1 - sb) if nb else sb)
        return sa, sb

    @numba.njit(boundscheck=False)
    def floor(V, T):
        m, n = V.shape
        h = n // 2
        bA, bB = np.empty((2, 2**h + 2)), np.empty((2, 2 ** (n - h) + 2))
        out = np.empty(m)
        for r in range(m):
            sa, sb = sums(V[r, :h], V[r, h:], bA, bB)
            sA, sB = bA[sa, 1:-1], bB[sb, 1:-1]
            F, p, nB = np.inf, 0, sB.shape[0]
            for a in range(sA.shape[0] - 1, -1, -1):
                q = T[r] - sA[a]
                while p < nB and sB[p] < q:
                    p += 1
                F = min(F, min(abs(q - sB[max(p - 1, 0)]), abs(q - sB[min(p, nB - 1)])))
            out[r] = F
        return out

    return floor


@functools.lru_cache(maxsize=1)
def _new():
    import numba

    from slth_check.rss.merge import level, levels_size, sorted_keys

    one = np.uint64(1)

    @numba.njit(boundscheck=False, inline="always")
    def step(Q, sB, i, p, F):
        q, b = Q[i], sB[p]
        u = np.uint64(b < q)
        return i + (one - u), p + u, min(F, abs(q - b))

    @numba.njit(boundscheck=False)
    def tail(Q, sB, i, e, p, F):
        while i < e:
            i, p, F = step(Q, sB, i, p, F)
        return p, F

    @numba.njit(boundscheck=False)
    def walk(Q, sB):
        nA = Q.shape[0] - 2
        s = [np.uint64(1 + (c * nA) // 4) for c in range(5)]
        i0, i1, i2, i3, e3 = s[0], s[1], s[2], s[3], s[4]
        p0, p1 = np.uint64(np.searchsorted(sB, Q[i0])), np.uint64(np.searchsorted(sB, Q[i1]))
        p2, p3 = np.uint64(np.searchsorted(sB, Q[i2])), np.uint64(np.searchsorted(sB, Q[i3]))
        F0 = F1 = F2 = F3 = np.inf  # below: each chain's first key and the B-sum below it
        F = min(min(Q[i0] - sB[p0 - one], Q[i1] - sB[p1 - one]),
                min(Q[i2] - sB[p2 - one], Q[i3] - sB[p3 - one]))
        while True:  # m steps of all four chains: none can end sooner (no end tests)
            m = min(min(s[1] - i0, s[2] - i1), min(s[3] - i2, e3 - i3))
            if m == 0:
                break
            for _ in range(m):
                i0, p0, F0 = step(Q, sB, i0, p0, F0)
                i1, p1, F1 = step(Q, sB, i1, p1, F1)
                i2, p2, F2 = step(Q, sB, i2, p2, F2)
                i3, p3, F3 = step(Q, sB, i3, p3, F3)
        p0, F0 = tail(Q, sB, i0, s[1], p0, F0)
        p1, F1 = tail(Q, sB, i1, s[2], p1, F1)
        p2, F2 = tail(Q, sB, i2, s[3], p2, F2)
        p3, F3 = tail(Q, sB, i3, e3, p3, F3)
        return min(F, min(min(F0, F1), min(F2, F3)))

    @numba.njit(boundscheck=False)
    def floor(V, T):
        m, n = V.shape
        h = n // 2
        nA, nB = 1 << h, 1 << (n - h)
        bA, bB = np.empty(levels_size(h)), np.empty(levels_size(n - h))
        Q = np.empty(nA + 2)
        out = np.empty(m)
        for r in range(m):
            sorted_keys(V[r, :h], V[r, h:], bA, bB, Q, T[r])
            sB = level(bB, n - h)
            sB[0], sB[nB + 1], Q[0], Q[nA + 1] = -np.inf, np.inf, -np.inf, np.inf
            out[r] = walk(Q, sB)
        return out

    return floor


def old_floor(V: np.ndarray, T: np.ndarray) -> np.ndarray:
    """F of every row by the floor as first measured (see the module)."""
    return _old()(np.ascontiguousarray(V), np.ascontiguousarray(T))


def new_floor(V: np.ndarray, T: np.ndarray) -> np.ndarray:
    """F of every row by the new floor (see the module)."""
    return _new()(np.ascontiguousarray(V), np.ascontiguousarray(T))
