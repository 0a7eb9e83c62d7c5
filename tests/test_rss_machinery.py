"""RSS machinery: results, statuses, bulk solving, errors."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from slth_check.rss import MITM_MAX_N, solve, solve_many
from slth_check.rss.z3_solver import decide_z3


def test_result_is_recomputed_exactly():
    v = np.array([0.1, 0.2, 0.7])
    r = solve(v, 0.3, method="bruteforce")
    assert r.achieved == sum(Fraction(x) for x, m in zip(v, r.mask) if m)
    assert r.error == abs(Fraction(0.3) - r.achieved)


def test_by_hand_optimum():
    r = solve([0.5, 0.25, -0.125], 0.625)
    assert r.error == 0 and r.mask.tolist() == [True, True, True]  # the only exact subset
    r = solve([1.0], 0.25)
    assert r.error == Fraction(1, 4) and not r.mask[0]


def test_milp_optimal_only_when_verified():
    rng = np.random.default_rng(0)
    for _ in range(5):
        v, t = rng.uniform(-1, 1, 14), float(rng.uniform(-1, 1))
        exact = solve(v, t, method="mitm").error
        m = solve(v, t, method="milp", time_limit=10)
        assert m.error >= exact
        assert (m.status == "optimal") == (m.error == exact)


def test_milp_feasibility_mode():
    v = np.array([0.5, 0.25, 0.125])
    assert solve(v, 0.375, method="milp", eps=0.0).status == "feasible"
    r = solve(v, 5.0, method="milp", eps=0.1)
    assert r.status == "infeasible"  # exact optimum 4.125 > 0.1, proved by mitm


def test_z3_decision():
    v = np.array([0.5, 0.25])
    assert decide_z3(v, 0.8, Fraction(1, 19)).status == "feasible"  # error 0.05 + float(0.8) - 0.8
    assert decide_z3(v, 0.8, Fraction(1, 100)).status == "infeasible"


def test_solve_many_matches_solve():
    rng = np.random.default_rng(1)
    V, T = rng.uniform(-1, 1, (12, 10)), rng.uniform(-1, 1, 12)
    for workers in (1, 2):
        b = solve_many(V, T, workers=workers)
        assert b.masks.shape == (12, 10) and b.errors.dtype == np.float64
        assert b.all_optimal
        for i in range(12):
            assert b.errors[i] == float(solve(V[i], T[i]).error)


@pytest.mark.parametrize("values,target,exc,pattern", [
    ([np.nan, 0.1], 0.0, ValueError, r"values: expected finite"),
    ([np.inf], 0.0, ValueError, r"values: expected finite"),
    ([0.1], np.nan, ValueError, r"target: expected a finite"),
    ([0.1], np.inf, ValueError, r"target: expected a finite"),
    ([], 0.0, ValueError, r"values: expected at least one value"),
    (["a", "b"], 0.0, TypeError, r"values: expected a floating-point"),
    ("abc", 0.0, TypeError, r"values: expected a 1-D float array"),
    ([0.1], "x", TypeError, r"target: expected a real number"),
    ([[0.1]], 0.0, ValueError, r"values: expected 1 dimensions"),
])
def test_solve_errors(values, target, exc, pattern):
    with pytest.raises(exc, match=pattern):
        solve(values, target)


def test_mitm_limit_and_bad_method():
    with pytest.raises(ValueError, match=f"values: method 'mitm' handles n <= {MITM_MAX_N}"):
        solve(np.full(MITM_MAX_N + 1, 0.5), 0.1, method="mitm")
    with pytest.raises(ValueError, match="values: method 'bruteforce' handles n <= 20"):
        solve(np.full(21, 0.5), 0.1, method="bruteforce")
    with pytest.raises(ValueError, match="method: expected one of"):
        solve([0.5], 0.1, method="magic")
    with pytest.raises(ValueError, match="eps: expected a finite non-negative"):
        solve([0.5], 0.1, eps=-1.0)


def test_solve_many_errors():
    with pytest.raises(ValueError, match="targets: expected 2 targets"):
        solve_many(np.zeros((2, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="values: expected 2 dimensions"):
        solve_many(np.zeros(3), np.zeros(3))


def test_lemma3_interval_proof_and_its_failure_past_one_half():
    from slth_check.claims.lemma3 import interval_proof

    assert interval_proof()[0]  # (log 2)/2 on [-1/2, 1/2]: proved
    assert not interval_proof(half_width=0.6)[0]  # false past 1/2: not proved


def test_audit_constants_exact():
    from slth_check.claims.lueker import gap_interval, lemma1_audit
    from slth_check.distributions import PARTIAL_MEANS, sample

    assert gap_interval("lemma1", 32) == (-1, 1)
    entries = {e.item: e for e in lemma1_audit()}
    assert all(e.status in ("confirmed", "discrepancy", "illegible") for e in entries.values())
    # the exact partial means agree with a large sample (evidence for the closed forms)
    rng = np.random.default_rng(0)
    for kind, (mu_m, mu_p) in PARTIAL_MEANS.items():
        x = sample(kind, rng, 400_000)
        assert np.mean(np.where(x <= 0, x, 0)) == pytest.approx(float(mu_m), abs=3e-3)
        assert np.mean(np.where(x > 0, x, 0)) == pytest.approx(float(mu_p), abs=3e-3)


def test_subset_sum_gap_by_hand():
    from slth_check.claims.lueker import subset_sum_gap

    # sums {0, 0.5}: on [0, 1] the worst z is 1 (distance 0.5), so eta = 0.25
    assert subset_sum_gap(np.array([0.5]), 0.0, 1.0)[0] == 0.25
    # sums {0, 0.25, 0.5, 0.75}: on [0, 0.75] the worst z is a midpoint, distance 0.125
    gap, grid = subset_sum_gap(np.array([0.25, 0.5]), 0.0, 0.75, grid=4)
    assert gap == 0.0625 and grid <= gap
    with pytest.raises(ValueError, match="a, b: expected a <= b"):
        subset_sum_gap(np.array([0.5]), 1.0, 0.0)


@pytest.mark.parametrize("n", [21, 30])
def test_solve_many_known_optimum_by_construction(n):
    """Values 2**-1..2**-n (shuffled, signs mixed): every target k 2**-n + 2**-(n+10) is
    nearest to exactly one subset, known in advance, at distance exactly 2**-(n+10)."""
    rng = np.random.default_rng(n)
    m = 6
    V = np.empty((m, n))
    T = np.empty(m)
    want = np.zeros((m, n), dtype=bool)
    for i in range(m):
        signs = rng.choice([-1.0, 1.0], n)
        perm = rng.permutation(n)
        V[i] = (signs * 2.0 ** -np.arange(1, n + 1))[perm]
        want[i] = rng.random(n) < 0.5
        T[i] = float(sum(Fraction(float(x)) for x in V[i][want[i]])) + 2.0 ** -(n + 10)
    for workers in (1, 2):
        b = solve_many(V, T, workers=workers, progress=False)
        assert b.all_optimal
        assert np.array_equal(b.masks, want)
        assert np.all(b.errors == 2.0 ** -(n + 10))
