"""Sorted subset sums by Horowitz-Sahni merging, compiled (the bulk kernel's step 1).

The sorted sums of ``v_0..v_{j-1}`` and the same list plus ``v_j`` (still
sorted: ``x -> x + v`` is monotone in floating point) merge into the sorted
sums of ``v_0..v_j`` in linear time, no ``O(N log N)`` sort.  Every sum is
formed as ``((0 + v_0) + ...) + v_j`` in increasing j, the order of
:func:`slth_check.rss.exact.subset_sums`: the same floats, and the sorted
list of floats is the same whatever order equal sums merge in.

A merge is a chain of dependent steps (each picks the smaller head), so it
runs as several independent chains at once: from the front and from the
back, and for levels of 64 sums and more also cut at its middle output (the
split found by binary search), A's and B's in lockstep: eight chains (issue
19: the chains, not the instructions, bound the time).
"""

from __future__ import annotations

import numpy as np

from slth_check.rss.jit import ONE, U, inlined, jit

#: Levels with at least this many sums per list run eight chains (four per list).
SPLIT_FROM = 64


@inlined
def _front(src, dst, i, k, x):
    """One output of the merge of ``src`` with ``src + x`` from the front (the smaller head;
    on a tie the sum without x first) at ``dst[i + k - 1]``; unsigned indices (no wraparound)."""
    a = src[i]
    b = src[k] + x
    t = U(b < a)
    dst[i + k - ONE] = b if b < a else a
    return i + (ONE - t), k + t


@inlined
def _back(src, dst, i, k, x):
    """The same merge from the back (the larger tail; on a tie the sum with x), at dst[i + k]."""
    a = src[i]
    b = src[k] + x
    t = U(b >= a)
    dst[i + k] = b if b >= a else a
    return i - (ONE - t), k - t


@jit
def _split(src, x, n):
    """How many of the n smallest outputs of the merge of ``src[1:n + 1]`` with the same plus
    ``x`` (ties: the sum without x first) come from ``src``: the least i whose next sum
    without x comes after the (n - i)-th with x."""
    lo, hi = 0, n
    while lo < hi:
        i = (lo + hi) // 2
        if src[i + 1] <= src[n - i] + x:
            lo = i + 1
        else:
            hi = i
    return lo


@jit
def _one(src, dst, x, n):
    """One list's merge in two chains: from its front and from its back."""
    i0 = k0 = ONE
    i1 = k1 = U(n)
    for _ in range(n):
        i0, k0 = _front(src, dst, i0, k0, x)
        i1, k1 = _back(src, dst, i1, k1, x)


@jit
def _one_split(src, dst, x, n):
    """One list's merge (n even) in four chains: also cut at its middle output.  The
    source is padded (``-inf`` before, ``+inf`` after) for chains that start at an end."""
    src[0], src[n + 1] = -np.inf, np.inf
    m = _split(src, x, n)
    i0 = k0 = ONE
    i1, k1, i2, k2, i3 = U(m), U(n - m), U(m + 1), U(n - m + 1), U(n)
    k3 = i3
    for _ in range(n // 2):
        i0, k0 = _front(src, dst, i0, k0, x)
        i1, k1 = _back(src, dst, i1, k1, x)
        i2, k2 = _front(src, dst, i2, k2, x)
        i3, k3 = _back(src, dst, i3, k3, x)


@jit
def _both_split(srcA, dstA, xa, srcB, dstB, xb, n):
    """Both lists' merges (n sums each, n even) in lockstep: eight chains."""
    srcA[0], srcA[n + 1], srcB[0], srcB[n + 1] = -np.inf, np.inf, -np.inf, np.inf
    ma, mb = _split(srcA, xa, n), _split(srcB, xb, n)
    i0 = k0 = j0 = l0 = ONE
    i1, k1, i2, k2, i3 = U(ma), U(n - ma), U(ma + 1), U(n - ma + 1), U(n)
    j1, l1, j2, l2, j3 = U(mb), U(n - mb), U(mb + 1), U(n - mb + 1), U(n)
    k3, l3 = i3, j3
    for _ in range(n // 2):
        i0, k0 = _front(srcA, dstA, i0, k0, xa)
        i1, k1 = _back(srcA, dstA, i1, k1, xa)
        i2, k2 = _front(srcA, dstA, i2, k2, xa)
        i3, k3 = _back(srcA, dstA, i3, k3, xa)
        j0, l0 = _front(srcB, dstB, j0, l0, xb)
        j1, l1 = _back(srcB, dstB, j1, l1, xb)
        j2, l2 = _front(srcB, dstB, j2, l2, xb)
        j3, l3 = _back(srcB, dstB, j3, l3, xb)


@jit
def sorted_sums(vA, vB, bA, bB):
    """The subset sums of ``vA`` and of ``vB``, sorted (see the module).  ``bA`` (2,
    2**len(vA) + 2) and ``bB`` alike hold the lists at ``[1:-1]``; returns the rows holding
    the results (the caller pads them)."""
    bA[0, 1] = 0.0
    bB[0, 1] = 0.0
    sa = sb = 0
    for j in range(max(vA.shape[0], vB.shape[0])):
        na = (1 << j) if j < vA.shape[0] else 0
        nb = (1 << j) if j < vB.shape[0] else 0
        xa = vA[j] if na else 0.0
        xb = vB[j] if nb else 0.0
        if na == nb and na >= SPLIT_FROM:
            _both_split(bA[sa], bA[1 - sa], xa, bB[sb], bB[1 - sb], xb, na)
        else:  # a small level, or one list alone (n odd: B's last level)
            for src, dst, x, k in ((bA[sa], bA[1 - sa], xa, na), (bB[sb], bB[1 - sb], xb, nb)):
                if k >= SPLIT_FROM:
                    _one_split(src, dst, x, k)
                elif k:
                    _one(src, dst, x, k)
        sa = (1 - sa) if na else sa
        sb = (1 - sb) if nb else sb
    return sa, sb


__all__ = ["SPLIT_FROM", "sorted_sums"]
