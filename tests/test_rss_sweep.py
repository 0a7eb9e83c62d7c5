"""Issue 19: the compiled merged-walk sweep (:func:`slth_check.rss.sweep.sweep`) against
a brute-force count of every (key, B-sum) pair within ``R = F + tau2``, and the split
merge (:func:`slth_check.rss.merge.sorted_sums`) where its chains start on the pads."""

from __future__ import annotations

import numpy as np
import pytest

from slth_check.rss import compiled

pytestmark = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba is not installed")


def _padded(x: np.ndarray) -> np.ndarray:
    return np.concatenate([[-np.inf], np.sort(x), [np.inf]])


def _oracle(Q: np.ndarray, sB: np.ndarray, tau2: float) -> tuple[int, int, int]:
    """(1, key position, B position) if exactly one pair of positions is within R of the
    float optimum F (mitm's |q - b|), else (2, 0, 0): every pair measured."""
    d = np.abs(Q[1:-1, None] - sB[None, 1:-1])
    hits = np.argwhere(d <= d.min() + tau2)
    if len(hits) != 1:
        return 2, 0, 0
    return 1, int(hits[0][0]) + 1, int(hits[0][1]) + 1


def _cases():
    rng = np.random.default_rng(19)
    for nA, nB in ((1, 1), (1, 5), (3, 2), (63, 64), (64, 64), (64, 3), (65, 130), (256, 256),
                   (300, 7)):
        for kind in range(4):
            if kind == 0:  # continuous: one pair nearest
                q, b, tau2 = rng.uniform(-1, 1, nA), rng.uniform(-1, 1, nB), 1e-15
            elif kind == 1:  # a grid: exact ties of the distance, many pairs at F
                q, b, tau2 = rng.integers(-20, 21, nA) / 8, rng.integers(-20, 21, nB) / 8, 0.0
            elif kind == 2:  # near ties within the radius
                q = rng.integers(-50, 51, nA) / 16 + rng.uniform(0, 1e-9, nA)
                b, tau2 = rng.integers(-50, 51, nB) / 16, 2e-9
            else:  # keys beyond B's range on both sides, a wide radius
                q = np.concatenate([rng.uniform(-9, -5, nA // 2), rng.uniform(5, 9, nA - nA // 2)])
                b, tau2 = rng.uniform(-1, 1, nB), float(rng.choice([0.0, 1e-3, 0.5]))
            yield _padded(q), _padded(b), tau2


def test_sweep_counts_every_pair_within_the_radius():
    from slth_check.rss.sweep import sweep

    seen = {1: 0, 2: 0}
    for Q, sB, tau2 in _cases():
        got = sweep(Q, sB, tau2, np.empty((8, 12)))
        want = _oracle(Q, sB, tau2)
        assert (got[0], got[1:] if got[0] == 1 else (0, 0)) == (want[0], want[1:]), \
            (len(Q) - 2, len(sB) - 2, tau2, got, want)
        seen[want[0]] += 1
    assert seen[1] > 10 and seen[2] > 10  # both outcomes exercised


def test_sweep_sees_a_second_pair_behind_the_nearest():
    """Two keys within R of one B-sum, the farther not next to it in the merged order
    (the second is only found by counting outwards from the pair found)."""
    from slth_check.rss.sweep import sweep

    b = np.linspace(-1, 1, 100)
    for j in (0, 37, 70, 99):
        q = np.concatenate([np.linspace(-3, 3, 97) + 1e-3, [b[j] - 2e-12, b[j] - 1e-12]])
        Q, sB = _padded(q), _padded(b)
        assert sweep(Q, sB, 0.0, np.empty((8, 12)))[0] == 1  # R = F: only the nearest
        assert sweep(Q, sB, 1.5e-12, np.empty((8, 12)))[0] == 2, j
        sB2 = _padded(np.concatenate([b, [b[j] + 1.2e-12]]))  # a second B-sum, the other side
        assert sweep(_padded(q[-1:]), sB2, 1.5e-12, np.empty((8, 12)))[0] == 2, j


def test_sweep_two_pairs_far_apart_at_the_radius():
    """Two pairs sharing nothing, the second exactly at R (the radius is closed)."""
    from slth_check.rss.sweep import sweep

    for nA in (2, 80):
        q = np.concatenate([[0.0, 10.0], np.linspace(20, 30, nA - 2)])
        Q, sB = _padded(q), _padded(np.array([1.0, 11.25]))
        assert sweep(Q, sB, 0.25, np.empty((8, 12)))[0] == 2, nA
        assert sweep(Q, sB, 0.125, np.empty((8, 12)))[:3] == (1, 1, 1), nA


@pytest.mark.parametrize("big", [10.0, -10.0, 0.0])
def test_sorted_sums_when_a_split_merge_starts_at_an_end(big):
    """Levels of 64 sums and more are merged in eight chains cut at the middle output; a
    value beyond the spread of the sums before it puts that cut at an end of a list (the
    chains then start on the pads).  Buffers start as NaN: any read of an unset entry
    shows."""
    from slth_check.rss.exact import subset_sums
    from slth_check.rss.merge import level, levels_size, sorted_keys, sorted_sums

    rng = np.random.default_rng(int(big) + 20)
    for la, lb in ((8, 8), (7, 8), (9, 9)):
        v = rng.uniform(-1e-3, 1e-3, la + lb)
        v[6], v[la + 6] = big, -big  # level 6 (64 sums) of each half
        bA, bB = np.full(levels_size(la), np.nan), np.full(levels_size(lb), np.nan)
        sorted_sums(v[:la], v[la:], bA, bB)
        assert level(bA, la)[1:-1].tobytes() == np.sort(subset_sums(v[:la])).tobytes(), (la, lb)
        assert level(bB, lb)[1:-1].tobytes() == np.sort(subset_sums(v[la:])).tobytes(), (la, lb)
        Q = np.full(2**la + 2, np.nan)  # A's last level as keys, in the same chains
        sorted_keys(v[:la], v[la:], bA, bB, Q, 0.375)
        want = 0.375 - np.sort(subset_sums(v[:la]))[::-1]
        assert Q[1:-1].tobytes() == want.tobytes(), (la, lb)


def _oracle_large(Q: np.ndarray, sB: np.ndarray, tau2: float) -> tuple[int, int, int]:
    """:func:`_oracle` for long lists: each key's two neighbours in B (mitm's formula), then
    every B-sum within R of the keys whose nearest one is, counted outwards."""
    q, b = Q[1:-1], sB[1:-1]
    pos = np.searchsorted(b, q)
    lo, hi = b[np.maximum(pos - 1, 0)], b[np.minimum(pos, len(b) - 1)]
    near = np.minimum(np.abs(q - lo), np.abs(q - hi))
    R = near.min() + tau2
    hits = []
    for i in np.flatnonzero(near <= R):
        for j in range(max(pos[i] - 40, 0), min(pos[i] + 40, len(b))):
            if abs(q[i] - b[j]) <= R:
                hits.append((int(i) + 1, j + 1))
    return (1, *hits[0]) if len(hits) == 1 else (2, 0, 0)


def test_sweep_finds_the_pair_after_its_checkpoints():
    """Chains long enough for many checkpoints (BLOCK steps apart): the best pair is found
    again from the last checkpoint before it, wherever it lies."""
    from slth_check.rss.sweep import BLOCK, sweep, work_rows

    rng = np.random.default_rng(21)
    nA = nB = 16 * BLOCK
    found = 0
    for _ in range(12):
        Q, sB = _padded(rng.uniform(-1, 1, nA)), _padded(rng.uniform(-1, 1, nB))
        for rows in (work_rows(nA, nB), 5):  # all checkpoints, or room for one only
            got = sweep(Q, sB, 1e-15, np.empty((rows, 12)))
            assert tuple(int(x) for x in got) == _oracle_large(Q, sB, 1e-15)
            found += got[0] == 1
    assert found >= 12
