"""The compiled kernel's search for the float optimum and its rounding candidates (issue 19).

The keys ``Q`` (``t - a`` for A's sorted sums, ascending, padded with ``-inf``
and ``+inf``) and B's sorted sums ``sB`` (padded alike) are walked as one
merge: each step measures the float distance ``|q - b|`` (mitm's formula) of
the two heads, a key and a B-sum, then outputs the smaller.  Every *cross
pair* of neighbours in the merged order (a key and a B-sum, nothing between
them) is the two heads at the step that outputs the first of them, except a
B-sum just below a chain's first key: that pair is measured apart.  Every
step has its own pair of positions (one head moves), so the pairs measured
are distinct, and the least distance is mitm's float optimum ``F`` (fl
being monotone, the nearest pair in value is a cross pair of neighbours).

:func:`sweep` keeps, branch-free, the least and the second least distance of
four interleaved chains (four quarters of the keys).  ``R = F + tau2``:

* the second least within ``R``: two measured pairs (distinct pairs of
  positions) are within ``R``: not settled (the scalar solver answers);
* else the one pair within ``R`` is found again (the best chain re-walked),
  and the B-sums within ``R`` of its key and the keys within ``R`` of its
  B-sum are counted outwards.  Any pair within ``R`` spans (in the merged
  order) a measured pair, within ``R`` too; if it is not the pair found, one
  of its ends lies within ``R`` of the found pair's other end, so it is
  counted.  One in all: exactly one pair of positions within ``R``, the
  count :func:`slth_check.rss.batch._sub_batch` settles on, the same pair.
"""

from __future__ import annotations

import numpy as np

from slth_check.rss.jit import ONE, U, inlined, jit

#: Steps of the four chains between checkpoints.
BLOCK = 256


@jit
def work_rows(nA: int, nB: int) -> int:
    """Rows of :func:`sweep`'s scratch for nA keys and nB B-sums: four for the chains'
    results, then one per checkpoint (fewer rows only cost a longer search for the pair)."""
    return 4 + (nA + nB) // (4 * BLOCK) + 2


@inlined
def _pair(Q, sB, i, p):
    """(distance of the two heads ``Q[i]`` and ``sB[p]``, is B's head output next?)."""
    q = Q[i]
    b = sB[p]
    return abs(q - b), b < q


@inlined
def _step(Q, sB, i, p, F, G):
    """One step of one chain: F, G the least and second least distance so far."""
    d, adv = _pair(Q, sB, i, p)
    G = min(G, max(F, d))
    F = min(F, d)
    u = U(adv)
    return i + (ONE - u), p + u, F, G


@jit
def _first(Q, sB, s):
    """(B's head at the start of the chain from key ``s``, the distance of that key to the
    B-sum below it: the one pair of neighbours the chain's steps do not measure)."""
    p = U(np.searchsorted(sB, Q[s]))
    return p, Q[s] - sB[p - ONE]


@jit
def _tail(Q, sB, i, e, p, F, G):
    """One chain from key ``i`` (B's pointer ``p``) to key ``e``: (p, F, G) at the end."""
    while i < e:
        i, p, F, G = _step(Q, sB, i, p, F, G)
    return p, F, G


@jit
def _walk(Q, sB, s, e):
    """One chain over the keys ``Q[s:e]`` alone: (F, G) of its steps, the distance of its
    first key to the B-sum below it."""
    p, d0 = _first(Q, sB, U(s))
    p, F, G = _tail(Q, sB, U(s), U(e), p, np.inf, np.inf)
    return F, G, d0


@jit
def _chains(Q, sB, bounds, out):
    """The four chains interleaved; ``out[c, :3]`` = (F, G) of the steps of chain c over
    keys ``bounds[c]:bounds[c + 1]`` and the distance of its first key to the B-sum
    below.  Every :data:`BLOCK` steps of all four
    (no chain can end sooner: each step moves a key or a B-sum), a checkpoint
    ``out[4 + k]`` = (the four key indices, B pointers, least distances) lets
    :func:`_find` start near the best pair."""
    i0, i1, i2, i3 = U(bounds[0]), U(bounds[1]), U(bounds[2]), U(bounds[3])
    e0, e1, e2, e3 = i1, i2, i3, U(bounds[4])
    p0, out[0, 2] = _first(Q, sB, i0)
    p1, out[1, 2] = _first(Q, sB, i1)
    p2, out[2, 2] = _first(Q, sB, i2)
    p3, out[3, 2] = _first(Q, sB, i3)
    F0 = F1 = F2 = F3 = G0 = G1 = G2 = G3 = np.inf
    k = 4
    while True:
        m = min(min(e0 - i0, e1 - i1), min(e2 - i2, e3 - i3))
        if m == 0:
            break
        for _ in range(min(m, U(BLOCK))):
            i0, p0, F0, G0 = _step(Q, sB, i0, p0, F0, G0)
            i1, p1, F1, G1 = _step(Q, sB, i1, p1, F1, G1)
            i2, p2, F2, G2 = _step(Q, sB, i2, p2, F2, G2)
            i3, p3, F3, G3 = _step(Q, sB, i3, p3, F3, G3)
        if k < out.shape[0]:
            out[k, 0], out[k, 1], out[k, 2], out[k, 3] = i0, i1, i2, i3
            out[k, 4], out[k, 5], out[k, 6], out[k, 7] = p0, p1, p2, p3
            out[k, 8], out[k, 9], out[k, 10], out[k, 11] = F0, F1, F2, F3
            k += 1
    out[0, 3] = k  # checkpoints 4..k-1
    p0, F0, G0 = _tail(Q, sB, i0, e0, p0, F0, G0)
    p1, F1, G1 = _tail(Q, sB, i1, e1, p1, F1, G1)
    p2, F2, G2 = _tail(Q, sB, i2, e2, p2, F2, G2)
    p3, F3, G3 = _tail(Q, sB, i3, e3, p3, F3, G3)
    out[0, 0], out[0, 1] = F0, G0
    out[1, 0], out[1, 1] = F1, G1
    out[2, 0], out[2, 1] = F2, G2
    out[3, 0], out[3, 1] = F3, G3


@jit
def _find(Q, sB, s, e, F, work, c):
    """The pair at distance ``F`` in chain c over keys ``Q[s:e]`` (key, B position): the
    chain's first key with the B-sum below it, or the heads of the step that measured
    it; the walk starts at the chain's last checkpoint still farther than F (the pair
    comes after it)."""
    i = U(s)
    p, d0 = _first(Q, sB, s)
    if d0 == F:
        return i, p - ONE
    k = 4
    while k < work[0, 3] and work[k, 8 + c] > F:
        i, p = U(work[k, c]), U(work[k, 4 + c])
        k += 1
    while i < e:
        d, adv = _pair(Q, sB, i, p)
        if d == F:
            return i, p
        u = U(adv)
        i, p = i + (ONE - u), p + u
    return U(s), p  # not reached: F is the distance of a pair measured in chain c


@jit
def _within(Q, sB, i, p, R):
    """How many pairs within R share the key ``Q[i]`` or the B-sum ``sB[p]`` (the pads stop
    every walk: their distances are infinite)."""
    q, b = Q[i], sB[p]
    count = 1
    j = p - ONE
    while abs(q - sB[j]) <= R:
        count, j = count + 1, j - ONE
    j = p + ONE
    while abs(q - sB[j]) <= R:
        count, j = count + 1, j + ONE
    j = i - ONE
    while abs(Q[j] - b) <= R:
        count, j = count + 1, j - ONE
    j = i + ONE
    while abs(Q[j] - b) <= R:
        count, j = count + 1, j + ONE
    return count


@jit
def sweep(Q, sB, tau2, work):
    """(1 if exactly one pair of positions lies within ``R = F + tau2`` else 2, its key's
    position in ``Q``, its B-sum's position in ``sB``).  ``Q`` (nA + 2) and ``sB`` padded
    as above; ``work`` a float scratch of :func:`work_rows` rows and 12 columns."""
    nA = Q.shape[0] - 2
    bounds = np.empty(5, np.int64)
    for c in range(5):
        bounds[c] = 1 + (c * nA) // 4 if nA >= 64 else (1 if c == 0 else nA + 1)
    if nA >= 64:
        _chains(Q, sB, bounds, work)
    else:
        work[0, 0], work[0, 1], work[0, 2] = _walk(Q, sB, bounds[0], bounds[1])
    F = G = np.inf
    best = 0
    for c in range(4 if nA >= 64 else 1):
        for d in (work[c, 0], work[c, 1], work[c, 2]):
            if d < F:
                F, G, best = d, F, c
            else:
                G = min(G, d)
    R = F + tau2
    if G <= R:
        return 2, 0, 0
    if nA < 64:
        work[0, 3] = 4  # no checkpoints
    i, p = _find(Q, sB, U(bounds[best]), U(bounds[best + 1]), F, work, best)
    return (1 if _within(Q, sB, i, p, R) == 1 else 2), np.int64(i), np.int64(p)


__all__ = ["BLOCK", "sweep", "work_rows"]
