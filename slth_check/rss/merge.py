"""Sorted subset sums by Horowitz-Sahni merging, compiled (the bulk kernel's step 1).

The sorted sums of ``v_0..v_{j-1}`` (*level j*) and the same list plus
``v_j`` (still sorted: ``x -> x + v`` is monotone in floating point) merge
into level j + 1 in linear time, no ``O(N log N)`` sort.  Every sum is formed
as ``((0 + v_0) + ...) + v_j`` in increasing j, the order of
:func:`slth_check.rss.exact.subset_sums`: the same floats, and the sorted
list of floats is the same whatever order equal sums merge in.  Every level
is kept (one buffer, :func:`level`), so that :mod:`slth_check.rss.subsets`
can read back which subset has a given sum; A's last level can be written
directly as the walk's keys ``t - a`` (:func:`sorted_keys`, no pass of its
own).

A merge is a chain of dependent steps (each picks the smaller head), so it
runs as several independent chains at once: from the front and from the
back, and for levels of 64 sums and more also cut at its middle output (the
split found by binary search), A's and B's in lockstep: eight chains (issue
19: the chains, not the instructions, bound the time).  A chain keeps one
index: its output position is shared with the others, and the head of the
list plus ``v_j`` is that position less the index.
"""

from __future__ import annotations

import numpy as np

from slth_check.rss.jit import ONE, U, inlined, jit

#: Levels with at least this many sums per list run eight chains (four per list).
SPLIT_FROM = 64


@inlined
def _put(dst, P, a, key):
    """``dst[P] = a``; or, when ``key`` is a number (not NaN), the key ``key - a`` at the
    mirrored position ``len(dst) - 1 - P`` (keys ascending as the sums descend)."""
    if key != key:
        dst[P] = a
    else:
        dst[U(dst.shape[0]) - ONE - P] = key - a


@inlined
def _front(src, dst, i, P, x, key):
    """Output ``P`` of the merge of ``src`` with ``src + x`` from the front (the smaller
    head; on a tie the sum without x first): heads ``src[i]`` and ``src[P + 1 - i] + x``;
    unsigned indices (no wraparound).  Returns the next ``i``."""
    a = src[i]
    b = src[P + ONE - i] + x
    t = U(b < a)
    _put(dst, P, b if b < a else a, key)
    return i + (ONE - t)


@inlined
def _back(src, dst, i, P, x, key):
    """The same merge from the back (the larger tail; on a tie the sum with x): output
    ``P``, heads ``src[i]`` and ``src[P - i] + x``.  Returns the next ``i``."""
    a = src[i]
    b = src[P - i] + x
    t = U(b >= a)
    _put(dst, P, b if b >= a else a, key)
    return i - (ONE - t)


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
def _one(src, dst, x, n, key):
    """One list's merge in two chains: from its front and from its back."""
    i0, i1 = ONE, U(n)
    P0, P1 = ONE, U(2 * n)
    for _ in range(n):
        i0 = _front(src, dst, i0, P0, x, key)
        i1 = _back(src, dst, i1, P1, x, key)
        P0, P1 = P0 + ONE, P1 - ONE


@jit
def _one_split(src, dst, x, n, key):
    """One list's merge (n even) in four chains: also cut at its middle output.  The
    source is padded (``-inf`` before, ``+inf`` after) for chains that start at an end."""
    src[0], src[n + 1] = -np.inf, np.inf
    m = _split(src, x, n)
    i0, i1, i2, i3 = ONE, U(m), U(m + 1), U(n)
    s, N = U(0), U(n)
    for _ in range(n // 2):
        i0 = _front(src, dst, i0, ONE + s, x, key)
        i1 = _back(src, dst, i1, N - s, x, key)
        i2 = _front(src, dst, i2, N + ONE + s, x, key)
        i3 = _back(src, dst, i3, N + N - s, x, key)
        s += ONE


@jit
def _both_split(srcA, dstA, xa, srcB, dstB, xb, n, keyA):
    """Both lists' merges (n sums each, n even) in lockstep: eight chains, at step s the
    outputs ``1 + s``, ``n - s``, ``n + 1 + s`` and ``2n - s`` of each list."""
    srcA[0], srcA[n + 1], srcB[0], srcB[n + 1] = -np.inf, np.inf, -np.inf, np.inf
    ma, mb = _split(srcA, xa, n), _split(srcB, xb, n)
    i0, i1, i2, i3 = ONE, U(ma), U(ma + 1), U(n)
    j0, j1, j2, j3 = ONE, U(mb), U(mb + 1), U(n)
    s, N = U(0), U(n)
    for _ in range(n // 2):
        i0 = _front(srcA, dstA, i0, ONE + s, xa, keyA)
        i1 = _back(srcA, dstA, i1, N - s, xa, keyA)
        i2 = _front(srcA, dstA, i2, N + ONE + s, xa, keyA)
        i3 = _back(srcA, dstA, i3, N + N - s, xa, keyA)
        j0 = _front(srcB, dstB, j0, ONE + s, xb, np.nan)
        j1 = _back(srcB, dstB, j1, N - s, xb, np.nan)
        j2 = _front(srcB, dstB, j2, N + ONE + s, xb, np.nan)
        j3 = _back(srcB, dstB, j3, N + N - s, xb, np.nan)
        s += ONE


@jit
def _merge(src, dst, x, n, key):
    """One list's level of n sums merged alone."""
    if n >= SPLIT_FROM:
        _one_split(src, dst, x, n, key)
    else:
        _one(src, dst, x, n, key)


@jit
def offset(j):
    """Where level j (its 2**j sums with a pad at each end) starts in a buffer of
    :func:`sorted_sums`: after levels 0..j-1."""
    return (1 << j) - 1 + 2 * j


@jit
def levels_size(k):
    """The length of a buffer holding levels 0..k of :func:`sorted_sums`."""
    return offset(k + 1)


@jit
def level(b, j):
    """Level j of buffer ``b``: its 2**j sorted sums at ``[1:-1]``, the pads at 0 and -1."""
    o = offset(j)
    return b[o:o + (1 << j) + 2]


@jit
def _levels(vA, vB, bA, bB, lastA, key):
    """Levels 1.. of both lists; A's last into ``lastA`` (as keys unless ``key`` is NaN)."""
    kA, kB = vA.shape[0], vB.shape[0]
    bA[offset(0) + 1] = 0.0
    bB[offset(0) + 1] = 0.0
    if kA == 0:
        _put(lastA, ONE, 0.0, key)
    for j in range(max(kA, kB)):
        na = (1 << j) if j < kA else 0
        nb = (1 << j) if j < kB else 0
        xa = vA[j] if na else 0.0
        xb = vB[j] if nb else 0.0
        dA = lastA if j + 1 == kA else level(bA, j + 1)
        keyA = key if j + 1 == kA else np.nan
        if na == nb and na >= SPLIT_FROM:
            _both_split(level(bA, j), dA, xa, level(bB, j), level(bB, j + 1), xb, na, keyA)
        else:  # a small level, or one list alone (n odd: B's last level)
            if na:
                _merge(level(bA, j), dA, xa, na, keyA)
            if nb:
                _merge(level(bB, j), level(bB, j + 1), xb, nb, np.nan)


@jit
def sorted_sums(vA, vB, bA, bB):
    """The subset sums of ``vA`` and of ``vB``, sorted, every level kept: level j (the
    sorted sums of the first j values) is :func:`level` ``(bA, j)``; ``bA`` and ``bB`` are
    :func:`levels_size` ``(len(vA))`` and ``(len(vB))`` long.  The caller pads the last
    levels (the merges overwrite the pads of the levels they read)."""
    _levels(vA, vB, bA, bB, level(bA, vA.shape[0]), np.nan)


@jit
def sorted_keys(vA, vB, bA, bB, Q, t):
    """:func:`sorted_sums`, but A's last level is written as the keys ``Q[i] = t - a``
    (ascending: A's sums descending) at ``Q[1:-1]`` (``Q`` is ``2**len(vA) + 2`` long),
    not into ``bA``; the levels below it are kept in ``bA``."""
    _levels(vA, vB, bA, bB, Q, t)


__all__ = ["SPLIT_FROM", "level", "levels_size", "offset", "sorted_keys", "sorted_sums"]
