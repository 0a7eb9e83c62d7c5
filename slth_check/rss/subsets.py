"""Which subset of a half has a given float sum, read back from the merge's levels
(the bulk kernel's step 4; issue 19).

:func:`slth_check.rss.merge.sorted_sums` keeps every level j (the sorted float
sums of the first j values, each formed in the order of
:func:`slth_check.rss.exact.subset_sums`).  A sum ``s`` of level j + 1 is either
a sum of level j (``v_j`` left out) or ``y + v_j`` for a sum ``y`` of level j:
both are found by binary search (``y -> y + v_j`` is monotone), and the walk
goes down one level at a time, about ``2 n log n`` comparisons in all instead
of regenerating the half's ``2**n`` sums.  When ``s`` can be formed in more
than one way at some level, two subsets of the half have the same float sum
(the rest of the sum is formed alike): the answer is -1, never a guess.  A
row the sweep settled has exactly one (a second subset would make a second
pair within the rounding radius), so -1 there would be a bug, and the row
then goes to the scalar solver.
"""

from __future__ import annotations

import numpy as np

from slth_check.rss.jit import jit
from slth_check.rss.merge import level


@jit
def _ways(L, x, t, s):
    """(how many sums y of ``L`` (sorted) give ``t - (y + x) == s`` when ``t`` is a
    number, ``y + x == s`` when ``t`` is NaN: 0, 1 or 2 for two or more; the index of
    the first such y).  Both maps are monotone in y, so such y are consecutive."""
    key = t == t
    lo, hi = 0, L.shape[0]
    while lo < hi:
        i = (lo + hi) // 2
        if (t - (L[i] + x) > s) if key else (L[i] + x < s):
            lo = i + 1
        else:
            hi = i
    n = 0
    for j in range(lo, min(lo + 2, L.shape[0])):
        if ((t - (L[j] + x)) if key else (L[j] + x)) == s:
            n += 1
    return n, lo


@jit
def _down(v, b, j, t, s):
    """(bit j of the one subset of ``v[:j + 1]`` whose sum gives ``s``, the sum of the rest
    in level j), or (-1, 0.0) when none or more than one does."""
    L = level(b, j)[1:-1]
    n0, i0 = _ways(L, 0.0, t, s)
    n1, i1 = _ways(L, v[j], t, s)
    if n0 + n1 != 1:
        return -1, 0.0
    return (1, L[i1]) if n1 else (0, L[i0])


@jit
def subset_of(v, b, s, t):
    """The subset index (bit i <=> ``v[i]``) whose float sum ``a`` (formed in the order of
    :func:`slth_check.rss.exact.subset_sums`) is ``s``; or, when ``t`` is a number, whose
    key ``t - a`` is ``s`` (the keys of :func:`slth_check.rss.merge.sorted_keys`, whose
    last level is not in ``b``).  ``b`` holds the levels of ``v`` below the last
    (:func:`slth_check.rss.merge.sorted_sums`).  -1 when no subset or more than one has
    that sum."""
    mask = 0
    for j in range(v.shape[0] - 1, -1, -1):
        bit, s = _down(v, b, j, t, s)
        if bit < 0:
            return -1
        mask |= bit << j
        t = np.nan
    if v.shape[0] == 0 and ((t - 0.0) if t == t else 0.0) != s:
        return -1  # the empty half: its one sum is 0.0
    return mask


__all__ = ["subset_of"]
