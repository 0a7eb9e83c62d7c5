"""The bulk mitm compiled with numba (optional extra ``fast``; issue 10).

:func:`solve_rows` does a whole row in one compiled pass, on the same floats
as :func:`slth_check.rss.batch._sub_batch` and :func:`slth_check.rss.batch._finish`:

1. **Sorted subset sums by merging** (Horowitz-Sahni,
   :func:`slth_check.rss.merge.sorted_keys`): each level merges the sorted
   sums with the same plus the next value, in linear time, on the same floats
   as :func:`slth_check.rss.exact.subset_sums`, in eight independent chains;
   A's last level is written directly as the keys ``q = t - a`` (ascending:
   A's sums descending).
2. **A branch-free merged walk** (:func:`slth_check.rss.sweep.sweep`) of the
   keys and B's sorted sums (both padded with ``-inf`` and ``+inf``, which
   stand for mitm's clamping at the ends), in four interleaved chains: every
   pair of neighbours in the merged order is measured (mitm's formula),
   giving the float optimum ``F`` and the second least distance.
3. **Candidates**: the pairs of positions within ``R = F + tau2`` (``tau2 =
   2 tau``, :func:`slth_check.rss.mitm._tau`) are counted (the second least
   distance, then outwards from the nearest pair).  Exactly one: by mitm's
   rounding argument it is the unique exact optimum (any pair as good exactly,
   and any other subset with the same float sum, would be a second pair
   within ``R``).
4. **Indices** of that pair: the one subset of each half whose float sum is
   the pair's, read back from the merge's levels by binary search
   (:func:`slth_check.rss.subsets.subset_of`; a row where it is not one is
   left to the scalar solver).
5. **The exact error**: :func:`fsum`, CPython's ``math.fsum`` algorithm
   (Shewchuk's partials and its half-even fix-up) over ``[t, -v_i for the
   chosen i]`` in that order, i.e. the very float ``math.fsum`` returns for
   :func:`slth_check.rss.batch._finish`'s list: the exact error rounded once.

numba does not reassociate or contract floating-point operations without
``fastmath``, so every float compared is the one NumPy computes; rows not
settled are solved by the scalar solver.  Measured costs: docs/results.md.
"""

from __future__ import annotations

import numpy as np

from slth_check.rss.jit import AVAILABLE
from slth_check.rss.jit import jit as _jit
from slth_check.rss.merge import level, levels_size, sorted_keys
from slth_check.rss.subsets import subset_of
from slth_check.rss.sweep import sweep, work_rows


@_jit
def fsum(x, n):
    """``math.fsum(x[:n])`` (CPython's algorithm, finite inputs without overflow)."""
    p = np.empty(n + 1)
    m = 0
    for k in range(n):
        xk = x[k]
        i = 0
        for j in range(m):
            y = p[j]
            if abs(xk) < abs(y):
                xk, y = y, xk
            hi = xk + y
            lo = y - (hi - xk)
            if lo != 0.0:
                p[i] = lo
                i += 1
            xk = hi
        m = i
        if xk != 0.0:
            p[m] = xk
            m += 1
    hi = 0.0
    lo = 0.0
    if m > 0:
        m -= 1
        hi = p[m]
        while m > 0:
            xk = hi
            m -= 1
            y = p[m]
            hi = xk + y
            lo = y - (hi - xk)
            if lo != 0.0:
                break
        if m > 0 and ((lo < 0.0 and p[m - 1] < 0.0) or (lo > 0.0 and p[m - 1] > 0.0)):
            y = lo * 2.0
            xk = hi + y
            if y == xk - hi:
                hi = xk
    return hi


def buffers(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The scratch of :func:`solve_rows` for rows of n values: A's and B's levels, the
    keys, the sweep's work rows.  Nothing in it is read before the kernel writes it, so
    it can be reused from call to call (fresh memory costs a page fault per 4 KiB)."""
    h = n // 2
    nA, nB = 1 << h, 1 << (n - h)
    return (np.empty(levels_size(h)), np.empty(levels_size(n - h)), np.empty(nA + 2),
            np.empty((work_rows(nA, nB), 12)))


@_jit
def solve_rows(V, T, tau2, masks, errors, bA, bB, Q, scratch):
    """The whole kernel for every row of ``V`` (K, n) against ``T`` (K,), ``tau2`` the rows'
    rounding radii (2 x :func:`slth_check.rss.mitm._tau`), with the scratch of
    :func:`buffers` ``(n)``.  A settled row gets its mask in ``masks`` and its exact error
    in ``errors``; returns the settled flags."""
    K, n = V.shape
    h = n // 2
    nA, nB = 1 << h, 1 << (n - h)
    if (bA.shape[0] != levels_size(h) or bB.shape[0] != levels_size(n - h)
            or Q.shape[0] != nA + 2 or scratch.shape[0] < 5 or scratch.shape[1] != 12):
        raise ValueError("solve_rows: scratch not of buffers(n) for these rows")  # no bounds checks
    settled = np.zeros(K, np.bool_)
    terms = np.empty(n + 1)
    for r in range(K):
        sorted_keys(V[r, :h], V[r, h:], bA, bB, Q, T[r])
        sB = level(bB, n - h)
        sB[0], sB[nB + 1] = -np.inf, np.inf
        Q[0], Q[nA + 1] = -np.inf, np.inf
        count, ka, kb = sweep(Q, sB, tau2[r], scratch)
        if count != 1:
            continue
        xa = subset_of(V[r, :h], bA, Q[ka], T[r])
        xb = subset_of(V[r, h:], bB, sB[kb], np.nan)
        if xa < 0 or xb < 0:  # pragma: no cover - not on a settled row (module docstring)
            continue
        settled[r] = True
        terms[0] = T[r]
        k = 1
        for i in range(n):
            bit = (xa >> i) & 1 if i < h else (xb >> (i - h)) & 1
            masks[r, i] = bit == 1
            if bit == 1:
                terms[k] = -V[r, i]
                k += 1
        errors[r] = abs(fsum(terms, k))
    return settled


__all__ = ["AVAILABLE", "buffers", "fsum", "solve_rows"]
