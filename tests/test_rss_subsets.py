"""Issue 19: which subset of a half has a given float sum, read back from the merge's
levels (:func:`slth_check.rss.subsets.subset_of`), against the sums of every subset
formed in :func:`slth_check.rss.exact.subset_sums`'s order."""

from __future__ import annotations

import numpy as np
import pytest

from slth_check.rss import compiled
from slth_check.rss.exact import subset_sums

pytestmark = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba is not installed")


def _levels(v: np.ndarray, t: float | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """v's levels (with t: its last as keys ``t - a``), and the keys."""
    from slth_check.rss.merge import levels_size, sorted_keys, sorted_sums

    b, other = np.full(levels_size(len(v)), np.nan), np.full(levels_size(0), np.nan)
    if t is None:
        sorted_sums(v, v[:0], b, other)
        return b, None
    Q = np.full(2 ** len(v) + 2, np.nan)
    sorted_keys(v, v[:0], b, other, Q, t)
    return b, Q


def _unique_sums(v: np.ndarray) -> dict[float, int]:
    """{float sum: subset index} over the sums that exactly one subset has."""
    sums = subset_sums(v)
    vals, counts = np.unique(sums, return_counts=True)
    once = set(vals[counts == 1].tolist())
    return {float(s): i for i, s in enumerate(sums) if float(s) in once}


def _cases():
    rng = np.random.default_rng(23)
    for k in (0, 1, 2, 5, 7, 10):
        yield rng.uniform(-1, 1, k)
        yield rng.choice([0.0, 0.25, -0.25, 0.5, 1.0], k)  # many subsets share a sum
        yield rng.integers(-9, 10, k) / 10  # decimal fractions: rounding in the sums


def test_subset_of_reads_back_the_one_subset_with_that_sum():
    from slth_check.rss.subsets import subset_of

    seen_unique = seen_shared = 0
    for v in _cases():
        b, _ = _levels(v)
        sums = subset_sums(v)
        unique = _unique_sums(v)
        for i, s in enumerate(sums):
            got = subset_of(v, b, float(s), np.nan)
            if float(s) in unique:
                assert got == i, (v, i, s, got)
                seen_unique += 1
            else:  # two subsets or more have this float sum: never a guess
                assert got == -1, (v, i, s, got)
                seen_shared += 1
        for s in (0.123456789, 1e9):  # sums no subset has
            if s not in unique and not np.any(sums == s):
                assert subset_of(v, b, s, np.nan) == -1
    assert seen_unique > 100 and seen_shared > 100


def test_subset_of_a_key_reads_back_the_subset_behind_it():
    """The keys ``t - a`` of the last level (not kept in the buffer): the subset whose
    sum gives that key, -1 where two sums give the same key or two subsets one sum."""
    from slth_check.rss.subsets import subset_of

    rng = np.random.default_rng(24)
    seen = {True: 0, False: 0}
    for v in _cases():
        t = float(rng.uniform(-2, 2))
        b, Q = _levels(v, t)
        keys = t - subset_sums(v)
        assert np.array_equal(np.sort(Q[1:-1]), np.sort(keys))
        for i, q in enumerate(keys):
            single = np.count_nonzero(keys == q) == 1
            assert subset_of(v, b, float(q), t) == (i if single else -1), (v, t, i)
            seen[single] += 1
    assert seen[True] > 100 and seen[False] > 100


def test_a_key_that_two_different_sums_round_to_is_not_guessed():
    """``t - a1 == t - a2`` in floats with ``a1 != a2``: two subsets give that key."""
    from slth_check.rss.subsets import subset_of

    v = np.array([2.0**-60, 1.0])
    t = 1.0
    b, Q = _levels(v, t)
    assert t - 0.0 == t - 2.0**-60  # the two sums 0 and 2**-60 give one key
    assert subset_of(v, b, 1.0, t) == -1
    assert 2.0**-60 + 1.0 == 1.0  # {v1} and {v0, v1}: one sum, so one key
    assert subset_of(v, b, t - 1.0, t) == -1
