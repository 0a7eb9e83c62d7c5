"""Tests that kill mutants of slth_check.rss.exact and slth_check.rss.mitm (scripts/mutation.py).

Expected values are dyadic numbers worked out by hand (comments), or the exact optimum
found by enumerating every subset in Fractions (an oracle independent of both modules).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from slth_check.rss import solve
from slth_check.rss.exact import (
    DyadicInstance,
    check_instance,
    exact_sum,
    mask_from_index,
    subset_sums,
)
from slth_check.rss.mitm import MITM_MAX_N, gamma_float, solve_mitm


def brute_force_error(values, target) -> Fraction:
    """min over all subsets of |target - sum|, exactly."""
    fv = [Fraction(float(v)) for v in values]
    t = Fraction(float(target))
    return min(abs(t - sum((v for v, k in zip(fv, keep) if k), start=Fraction(0)))
               for keep in itertools.product([False, True], repeat=len(fv)))


def test_dyadic_instance_by_hand():
    # 0.5 = 1/2, 0.25 = 1/4, 0.75 = 3/4: common denominator 4; ints 2, 1; target 3
    dy = DyadicInstance(np.array([0.5, 0.25]), 0.75)
    assert (dy.den, dy.ints, dy.target) == (4, [2, 1], 3)
    assert dy.subset_sum(np.array([True, True])) == 3
    assert dy.subset_sum(np.array([True, False])) == 2
    assert dy.error(np.array([False, True])) == 2   # |3 - 1|
    assert dy.error(np.array([False, False])) == 3
    assert dy.to_fraction(3) == Fraction(3, 4)
    # -0.5 = -1/2, 3.0 = 3/1, target 1.0: denominator 2; ints -1, 6; target 2; error of {-0.5}: 3
    dy = DyadicInstance(np.array([-0.5, 3.0]), 1.0)
    assert (dy.den, dy.ints, dy.target) == (2, [-1, 6], 2)
    assert dy.error(np.array([True, False])) == 3
    assert dy.error(np.array([True, True])) == 3    # |2 - 5|
    # the target has the finest denominator: 0.125 = 1/8
    dy = DyadicInstance(np.array([1.0]), 0.125)
    assert (dy.den, dy.ints, dy.target) == (8, [8], 1)


def test_exact_sum_and_subset_sums_by_hand():
    assert exact_sum(np.array([0.5, 0.25, 1.0]), np.array([True, False, True])) == Fraction(3, 2)
    assert exact_sum(np.array([0.5, 0.25]), np.array([False, False])) == 0
    assert exact_sum(np.array([-0.75, 0.25]), np.array([True, True])) == Fraction(-1, 2)
    # bit i of the index <=> value i: 0, 1, 2, 1+2, 4, 1+4, 2+4, 1+2+4
    assert subset_sums(np.array([1.0, 2.0, 4.0])).tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert subset_sums(np.array([1.0, 10.0])).tolist() == [0, 1, 10, 11]
    assert subset_sums(np.array([])).tolist() == [0]


def test_mask_from_index_by_hand():
    assert mask_from_index(5, 4).tolist() == [True, False, True, False]   # 5 = 0b0101
    assert mask_from_index(6, 3).tolist() == [False, True, True]          # 6 = 0b110
    assert mask_from_index(0, 2).tolist() == [False, False]
    assert mask_from_index(1, 1).dtype == bool


def test_check_instance_accepts_and_converts():
    vals, t = check_instance([1, 2, 3], np.int64(2))
    assert vals.dtype == np.float64 and vals.tolist() == [1.0, 2.0, 3.0]
    assert t == 2.0 and type(t) is float
    vals, t = check_instance(np.array([0.5], dtype=np.float32), 0.25)
    assert vals.dtype == np.float64 and t == 0.25


@pytest.mark.parametrize(("values", "target", "exc", "match"), [
    ("abc", 0.5, TypeError, "values: expected a 1-D float array"),
    (b"ab", 0.5, TypeError, "values: expected a 1-D float array"),
    ([], 0.5, ValueError, "values: expected at least one value"),
    ([0.5], True, TypeError, "target: expected a real number"),
    ([0.5], np.bool_(False), TypeError, "target: expected a real number"),
    ([0.5], "0.5", TypeError, "target: expected a real number"),
    ([0.5], float("inf"), ValueError, "target: expected a finite number"),
    ([0.5], float("nan"), ValueError, "target: expected a finite number"),
])
def test_check_instance_refuses(values, target, exc, match):
    with pytest.raises(exc, match=match):
        check_instance(values, target)


def test_mitm_hand_instances():
    # {0.5, 0.25, 0.125}, target 0.375 = 0.25 + 0.125: error 0, mask (F, T, T)
    r = solve_mitm(np.array([0.5, 0.25, 0.125]), 0.375)
    assert r.status == "optimal" and r.error == 0 and r.mask.tolist() == [False, True, True]
    # {1, 2}, target 10: best is 1 + 2 = 3, error 7 (both halves used)
    r = solve_mitm(np.array([1.0, 2.0]), 10.0)
    assert r.error == 7 and r.mask.tolist() == [True, True]
    # {3}, target 1: empty sum (error 1) beats {3} (error 2)
    r = solve_mitm(np.array([3.0]), 1.0)
    assert r.error == 1 and r.mask.tolist() == [False]
    # {-1, 4, 0.5}, target 3.5: -1 + 4 + 0.5 = 3.5, error 0
    r = solve_mitm(np.array([-1.0, 4.0, 0.5]), 3.5)
    assert r.error == 0 and r.mask.tolist() == [True, True, True]


@pytest.mark.parametrize("seed", range(12))
def test_mitm_is_the_exact_optimum(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 11))
    values = rng.uniform(-1, 1, n)
    if seed % 3 == 0:  # ties: repeated values and zeros
        values[: n // 2] = values[0]
        values[-1] = 0.0
    target = float(rng.uniform(-1, 1))
    r = solve_mitm(values, target)
    assert r.status == "optimal"
    assert r.error == brute_force_error(values, target)
    assert abs(Fraction(target) - exact_sum(values, r.mask)) == r.error


def test_mitm_near_ties_resolved_exactly():
    # 0.1 + 0.2 != 0.3 in float; the exact optimum must be found, whatever the float order
    values = np.array([0.1, 0.2, 0.3, 0.7, 0.05, 0.15])
    for target in (0.3, 0.6, 0.45, 1.0):
        r = solve_mitm(values, target)
        assert r.error == brute_force_error(values, target), target


def test_mitm_size_guard_and_gamma():
    assert MITM_MAX_N == 44
    with pytest.raises(ValueError, match="values: method 'mitm' handles n <= 44"):
        solve_mitm(np.zeros(45), 0.0)
    # gamma_m = m u / (1 - m u), u = 2**-53: gamma_1 ~ 1.11e-16, gamma_0 clamps to gamma_1
    u = 2.0 ** -53
    assert gamma_float(1) == pytest.approx(u / (1 - u), rel=1e-12)
    assert gamma_float(0) == gamma_float(1)
    assert gamma_float(4) == pytest.approx(4 * u / (1 - 4 * u), rel=1e-12)


def documented_radius_slack(values, target) -> Fraction:
    """``2 tau`` of the module docstring, exactly: tau = 2 (gamma_h sum|A| + gamma_{n-h} sum|B|
    + gamma_3 (|t| + sum|A| + sum|B|)), h = n // 2 (gamma_0 taken as gamma_1)."""
    from slth_check.arithmetic import gamma

    n, h = len(values), len(values) // 2
    A = sum((abs(Fraction(float(v))) for v in values[:h]), start=Fraction(0))
    B = sum((abs(Fraction(float(v))) for v in values[h:]), start=Fraction(0))
    tau = 2 * (gamma(max(h, 1)) * A + gamma(max(n - h, 1)) * B
               + gamma(3) * (abs(Fraction(float(target))) + A + B))
    return 2 * tau


@pytest.mark.parametrize("seed", range(4))
def test_mitm_radius_is_the_documented_one(seed):
    # the re-verification radius R = F + 2 tau: never below the documented bound (soundness),
    # and not more than a relative 1e-9 above it (the float evaluation's own margin).  Values
    # are multiples of 1/64 and the target a subset sum, so every float sum is exact, F = 0
    # and R = 2 tau carries no rounding of F.
    rng = np.random.default_rng(100 + seed)
    values = rng.integers(-64, 65, 3 + seed) / 64
    target = float(values[0] + values[-1])
    r = solve_mitm(values, target)
    assert r.stats["float_best"] == 0.0 and r.error == 0
    slack = Fraction(r.stats["radius"])
    want = documented_radius_slack(values, target)
    assert want <= slack <= want * (1 + Fraction(1, 10 ** 9))
    assert r.certificate["radius"] == r.stats["radius"]


def test_mitm_all_zero_instance_is_optimal():
    # every sum is 0: F = 0 and tau = 0, the radius must still admit the exact ties (R >= 0)
    r = solve_mitm(np.zeros(4), 0.0)
    assert r.status == "optimal" and r.error == 0


def test_mitm_stats_by_hand():
    # {1, 2}, target 10: h = 1, A-sums {0, 1}, B-sums {0, 2}; keys 10 - a = {10, 9}; the float
    # best is |9 - 2| = 7; only the pair (9, 2) lies within the radius: one candidate, one exact
    # evaluation on each side
    r = solve_mitm(np.array([1.0, 2.0]), 10.0)
    assert r.stats["float_best"] == 7.0
    assert r.stats["candidates"] == 1 and r.certificate["pairs_verified"] == 1
    assert r.stats["exact_evaluations"] == 2


def test_mitm_too_many_ties_is_unknown_not_optimal():
    # 36 zeros: each half has 2**18 = 262144 subsets with the float sum 0, above the budget of
    # 200000 exact evaluations: status unknown (a mask is still given, its error exact)
    r = solve_mitm(np.zeros(36), 0.25)
    assert r.status == "unknown" and "optimality not verified" in r.certificate["reason"]
    assert r.error == Fraction(1, 4) and r.mask.size == 36


def test_mitm_one_side_over_budget_is_unknown():
    # first half: 18 zeros (2**18 tied subsets, over the budget); second half distinct
    values = np.concatenate([np.zeros(18), np.arange(1, 19) / 64])
    r = solve_mitm(values, 0.5)
    assert r.status == "unknown"
    # the fallback is the float-best pair: 0.5 = 32/64 = (14 + 18)/64 is a subset sum of the
    # second half, so the float best F is 0 and the returned mask hits it exactly
    assert r.stats["float_best"] == 0.0 and r.error == 0


def test_mitm_stats_carry_the_seconds_and_the_documented_keys(monkeypatch):
    # no clock reading here (tests never judge durations): a fake perf_counter that advances
    # by 1/4 per call; "seconds" is the end reading minus the start reading, 1/4
    import itertools
    import time

    ticks = itertools.count(1000.0, 0.25)
    monkeypatch.setattr(time, "perf_counter", lambda: next(ticks))
    r = solve_mitm(np.array([0.5, 0.25, 0.125]), 0.3)
    assert set(r.stats) == {"seconds", "candidates", "exact_evaluations", "float_best", "radius"}
    assert r.stats["seconds"] == 0.25


def test_mitm_float_best_uses_the_right_neighbour():
    # {1, 2}, target 2.75: h = 1, B-sums {0, 2}; the key 2.75 - 1 = 1.75 falls between 0 and 2
    # (its right neighbour, the last B-sum, is the nearest): float best |1.75 - 2| = 0.25
    r = solve_mitm(np.array([1.0, 2.0]), 2.75)
    assert r.stats["float_best"] == 0.25 and r.error == Fraction(1, 4)


def test_mitm_budget_exhausted_after_a_verified_pair_is_unknown():
    # first half (h = 18): 0.5 and 17 zeros, so each of its two sums {0, 0.5} is shared by
    # 2**17 = 131072 subsets; second half 2**-1 .. 2**-18 (all sums distinct).  Target 0.75:
    # keys 0.75 and 0.25 are both exact B-sums; the first key costs 131072 exact evaluations,
    # the second brings the total to 262144 > 200000: the budget is exhausted after one
    # verified pair, and the answer must be unknown even though a pair of error 0 was seen
    values = np.concatenate([[0.5], np.zeros(17), 2.0 ** -np.arange(1, 19)])
    r = solve_mitm(values, 0.75)
    assert r.status == "unknown"


U52 = 2.0 ** -52


def test_mitm_tied_group_sums_start_at_zero():
    # A = {0, 0}: its four subsets share each float sum, so A goes through the tie branch.
    # B = {1, 1 + 3u} (u = 2^-52), target 1 + 2u: B-subset {1} leaves 2u, {1 + 3u} leaves -u.
    # The exact optimum is error u (mask: B's second value); a tied group whose exact sums
    # started at one unit instead of 0 would judge {1} (then |2u - u| = u) better than
    # {1 + 3u} (|-u - u| = 2u) and return the error 2u.
    r = solve(np.array([0.0, 0.0, 1.0, 1.0 + 3 * U52]), 1.0 + 2 * U52, method="mitm")
    assert r.status == "optimal"
    assert r.error == Fraction(1, 2 ** 52)
    assert r.mask[2:].tolist() == [False, True]


def test_mitm_float_tie_with_distinct_exact_sums():
    # A = {1, 2^-53}: the subsets {1} and {1, 2^-53} have the same float sum (1 + 2^-53 rounds
    # to 1, ties to even) but different exact sums; the group holds both.  B = {2^-53, 4},
    # target 1 + 2^-52 = 1 + 2^-53 + 2^-53 exactly: the optimum is error 0 with A = {1, 2^-53},
    # B = {2^-53}; evaluating only one subset of the float group would find error 2^-53 at best.
    e = 2.0 ** -53
    r = solve(np.array([1.0, e, e, 4.0]), 1.0 + 2 * e, method="mitm")
    assert r.status == "optimal"
    assert r.error == 0 and r.mask.tolist() == [True, True, True, False]


def test_mitm_budget_exactly_reached_is_still_verified():
    # The budget counts each half's exact evaluations apart.  A = 2 zeros, ten 1s and 16, 32,
    # ..., 512: every integer a = j + 16 Q (j = 0..10, Q = 0..63) is the sum of 4 C(10, j)
    # A-subsets.  B = 8 zeros and 1, 2, ..., 512: every integer 0..1023 is the sum of 2^8 = 256
    # B-subsets.  Target 774: the pairs at float distance 0 are (a, 774 - a) for every A-sum
    # a <= 774 (the radius, about 1e-11, admits no other): Q = 0..47 with any j (48 * 11 keys,
    # 48 * 4 * 2^10 = 196608 evaluations) and Q = 48 with j = 0..6 (7 keys, 4 * (1 + 10 + 45 +
    # 120 + 210 + 252 + 210) = 3392).  A's evaluations: 200000, exactly the budget
    # MAX_CANDIDATES, so still verified: status optimal.  B's: 535 keys * 256 = 136960.
    values = np.concatenate([np.zeros(2), np.ones(10), 2.0 ** np.arange(4, 10),
                             np.zeros(8), 2.0 ** np.arange(10)])
    r = solve(values, 774.0, method="mitm")
    assert r.stats["exact_evaluations"] == 196608 + 3392 + 535 * 256
    assert r.status == "optimal" and r.error == 0


def test_mitm_fallback_with_an_untied_float_best_key():
    # A = 2^-1 .. 2^-18 (every A-sum distinct), B = 18 zeros (2^18 = 262144 tied subsets, over
    # the budget of 200000).  Target 0.75 = 2^-1 + 2^-2: the only key at distance 0 from B's
    # sum 0 is 0.75 - 0.75, which belongs to one A-subset only.  Status unknown, and the
    # fallback mask is that subset: error 0, A's first two values kept.
    values = np.concatenate([2.0 ** -np.arange(1, 19), np.zeros(18)])
    r = solve(values, 0.75, method="mitm")
    assert r.status == "unknown" and "optimality not verified" in r.certificate["reason"]
    assert r.error == 0 and r.mask[:18].tolist() == [True, True] + [False] * 16


def test_mitm_too_many_pairs_in_the_radius_is_unknown():
    # A = 2^-32, 2^-31, 2^-30, 2^-29 and 14 zeros (sums k 2^-32, k = 0..15); B = 2^-40 ..
    # 2^-57 (2^18 distinct sums in [0, 2^-39]); target 2^20.  Every key 2^20 - k 2^-32 is
    # about 2^20 from every B-sum; the radius adds 4 gamma_3 2^20 ~ 1.4e-9 (about six steps of
    # 2^-32) to the float best, so the keys k = 10..15 each see all 2^18 B-sums: more than
    # 1.5e6 pairs, over MAX_PAIRS = 10^6.  Status unknown; the fallback is a float-best pair
    # (A's four values; in float every B-sum is equally far from 2^20), its error exact: the
    # optimum 2^20 - 15 2^-32 - tail (tail = sum of B) plus at most the tail.
    values = np.concatenate([2.0 ** np.arange(-32, -28), np.zeros(14), 2.0 ** -np.arange(40, 58)])
    r = solve(values, 2.0 ** 20, method="mitm")
    assert r.status == "unknown" and "pairs to verify exactly" in r.certificate["reason"]
    assert r.stats["candidates"] == 0
    tail = sum(Fraction(2) ** -i for i in range(40, 58))
    kept = sum((Fraction(float(v)) for v in values[r.mask]), start=Fraction(0))
    assert r.error == 2 ** 20 - kept
    assert 2 ** 20 - Fraction(15, 2 ** 32) - tail <= r.error <= 2 ** 20 - Fraction(15, 2 ** 32)
    assert r.mask[:4].all() and not r.mask[4:18].any()


def test_mitm_float_best_uses_the_left_neighbour():
    # A = {1}, B = {4}, target 1.5: keys 1.5 - 0 = 1.5 and 1.5 - 1 = 0.5 both fall between the
    # B-sums 0 and 4; their left neighbour 0 is the nearer: float best |0.5 - 0| = 0.5, the
    # exact optimum {1} (error 0.5)
    r = solve(np.array([1.0, 4.0]), 1.5, method="mitm")
    assert r.stats["float_best"] == 0.5
    assert r.error == Fraction(1, 2) and r.mask.tolist() == [True, False]


def test_rounded_error_is_the_exact_error_rounded_once_even_past_fsums_overflow():
    """``rss.exact.rounded_error``: fsum's value where it works; exact rationals where its
    intermediate sums overflow (a finite error still reported); inf beyond float64."""
    from slth_check.rss.exact import rounded_error

    v = np.array([0.1, 0.2, 0.3])
    assert rounded_error(0.7, v) == float(abs(Fraction(0.7) - sum(map(Fraction, v))))
    assert rounded_error(1.5e308, np.array([-1.5e308, 1.5e308])) == 1.5e308
    assert rounded_error(1.7e308, np.array([-1.7e308])) == math.inf
