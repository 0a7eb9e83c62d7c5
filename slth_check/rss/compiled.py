"""The bulk mitm float search compiled with numba (optional extra ``fast``; issue 10).

The same search as :func:`slth_check.rss.batch._sub_batch`, with its
``searchsorted`` calls and array passes replaced by compiled loops over the
same floats (NumPy builds the subset sums and sorts them, SIMD-fast):

* the sorted keys ``q = t - SA`` meet B's sorted sums in one two-pointer
  sweep: each key's nearest distance and the float optimum ``F``; then the
  keys within ``R = F + 2 tau`` (usually one) count the pairs whose float
  error ``|q - b|`` is at most ``R`` (stopping at two);
* the subset indices of the single pair are found by equality in the
  unsorted sums (a row whose float sum belongs to two subsets is not settled).

numba does not reassociate or contract floating-point operations without
``fastmath``, so every comparison is the one NumPy makes.

A row is settled when that count is one (the unique exact optimum, by
mitm's rounding argument); :func:`slth_check.rss.batch.solve_batch` then
computes its exact error and sends every other row to the scalar solver.
Without numba, :mod:`slth_check.rss.batch` does the same in NumPy, with the
same answers.
"""

from __future__ import annotations

import numpy as np

try:  # pragma: no cover - depends on the environment
    import numba

    AVAILABLE = True
except ImportError:  # pragma: no cover
    AVAILABLE = False


def _jit(f):
    """Compile ``f`` with numba (cached on disk when a cache folder is writable)."""
    if not AVAILABLE:  # pragma: no cover - the kernel is never called without numba
        return f
    try:
        return numba.njit(cache=True, boundscheck=False)(f)
    except RuntimeError:  # pragma: no cover - no writable cache location
        return numba.njit(boundscheck=False)(f)


@_jit
def sums_rows(V, lo, hi):
    """``(K, 2**(hi-lo))`` subset sums of columns ``lo..hi-1`` of each row, in the order
    of additions of :func:`slth_check.rss.exact.subset_sums` (the same floats)."""
    K = V.shape[0]
    out = np.empty((K, 1 << (hi - lo)))
    for r in range(K):
        out[r, 0] = 0.0
        size = 1
        for j in range(lo, hi):
            v = V[r, j]
            for i in range(size):
                out[r, size + i] = out[r, i] + v
            size *= 2
    return out


@_jit
def sweep_rows(qs, sB, tau2):
    """A two-pointer sweep of sorted keys ``qs`` (K, nA) against sorted sums ``sB`` (K, nB).

    Per row: each key's distance to its two neighbours (as mitm computes it)
    and ``F``, their minimum; then, for the keys within ``R = F + tau2`` only,
    the pairs with ``|q - b| <= R`` counted up to two.  Returns (settled =
    exactly one pair, its key, its B-sum).
    """
    K, nA = qs.shape
    nB = sB.shape[1]
    settled = np.zeros(K, np.bool_)
    qv = np.zeros(K)
    bv = np.zeros(K)
    dist = np.empty(nA)
    place = np.empty(nA, np.int64)
    for r in range(K):
        F = np.inf
        p = 0
        for a in range(nA):
            q = qs[r, a]
            while p < nB and sB[r, p] < q:
                p += 1
            lo = sB[r, p - 1] if p > 0 else sB[r, 0]
            hi = sB[r, p] if p < nB else sB[r, nB - 1]
            d = min(abs(q - lo), abs(q - hi))
            dist[a] = d
            place[a] = p
            if d < F:
                F = d
        R = F + tau2[r]
        count = 0
        for a in range(nA):
            if dist[a] > R:  # no B-sum within R of this key: its nearest is farther
                continue
            q = qs[r, a]
            p = place[a]
            j = p - 1
            while count <= 1 and j >= 0 and abs(q - sB[r, j]) <= R:
                count += 1
                qv[r] = q
                bv[r] = sB[r, j]
                j -= 1
            j = p
            while count <= 1 and j < nB and abs(q - sB[r, j]) <= R:
                count += 1
                qv[r] = q
                bv[r] = sB[r, j]
                j += 1
            if count > 1:
                break
        settled[r] = count == 1
    return settled, qv, bv


@_jit
def find_rows(q, SB, qv, bv, settled):
    """The subset indices holding the float values ``qv`` (in q) and ``bv`` (in SB).

    A row stays settled only if each value belongs to exactly one subset.
    """
    K = q.shape[0]
    ok = settled.copy()
    ia = np.zeros(K, np.int64)
    ib = np.zeros(K, np.int64)
    for r in range(K):
        if not ok[r]:
            continue
        c = 0
        for a in range(q.shape[1]):
            if q[r, a] == qv[r]:
                c += 1
                ia[r] = a
        d = 0
        for b in range(SB.shape[1]):
            if SB[r, b] == bv[r]:
                d += 1
                ib[r] = b
        ok[r] = c == 1 and d == 1
    return ok, ia, ib


__all__ = ["AVAILABLE", "find_rows", "sums_rows", "sweep_rows"]
