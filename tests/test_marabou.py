"""slth-check's certified bracket against the Marabou verifier (issue 22, point 3).

For small random pairs (f, g) of every padding mode and pooling kind
(:func:`slth_check.testing.pairs.small_pair`; 100 pairs: each padding mode 20 times,
each pooling kind at least 33 times, every combination at least 6 times), the bracket
``[lo, hi]`` of ``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max`` from
:func:`slth_check.certify.sup_error` must agree with Marabou: "some X has
``||f(X) - g(X)||_max >= 0.99 lo``" is SAT, with a counterexample whose exact error
(Fractions) reaches the threshold and stays <= hi, and ">= 1.01 hi" is UNSAT.  Wrong
brackets (hi = lo / 2, lo = 1.5 hi) are shown to be caught.  Marabou is the optional
``verify`` extra (``pip install 'slth-check[verify]'``); without it these tests skip.
"""

from __future__ import annotations

import sys
from fractions import Fraction

import numpy as np
import pytest

from slth_check.certify import exact_error, sup_error
from slth_check.certify.marabou import REPLAY_TOLERANCE, cross_check, marabou_exceeds
from slth_check.conv import PADDINGS
from slth_check.errors import UsageError
from slth_check.export.marabou import difference_query, require_marabou
from slth_check.testing.pairs import small_pair

POOLS = (None, "max", "avg")
#: Pair i has padding PADDINGS[i % 5] and pooling POOLS[i % 3] (all 15 combinations).
CASES = [(i, PADDINGS[i % len(PADDINGS)], POOLS[i % len(POOLS)]) for i in range(100)]


@pytest.fixture
def marabou():
    return pytest.importorskip("maraboupy", reason="maraboupy is the optional 'verify' extra "
                               "(pip install 'slth-check[verify]')")


def _bracket(seed, padding, pool):
    f, g, D = small_pair(seed, padding, pool)
    cert = sup_error(f, g, D=D, rng=seed)
    return f, g, D, cert.lower, cert.upper


@pytest.mark.parametrize("seed,padding,pool", CASES,
                         ids=[f"{i}-{p}-{q}" for i, p, q in CASES])
def test_bracket_agrees_with_marabou(marabou, seed, padding, pool):
    f, g, D, lo, hi = _bracket(seed, padding, pool)
    if lo == 0:
        pytest.skip("f = g on the whole box (lo = 0): nothing to cross-check")
    out = cross_check(f, g, D, lo, hi, timeout=120)
    assert out.agrees, (out.problems, float(lo), float(hi))
    assert out.below.replayed is not None and lo * Fraction(99, 100) * (1 - Fraction(
        REPLAY_TOLERANCE)) <= out.below.replayed <= hi


def _pair_with_gap(marabou):
    """A pair with a positive lower bound (the first of CASES that has one)."""
    for seed, padding, pool in CASES:
        f, g, D, lo, hi = _bracket(seed, padding, pool)
        if lo > 0:
            return f, g, D, lo, hi
    raise AssertionError("no pair of CASES has a positive lower bound")


def test_too_small_upper_is_caught(marabou):
    f, g, D, lo, hi = _pair_with_gap(marabou)
    out = cross_check(f, g, D, lo / 4, lo / 2)  # hi = lo / 2 lies below an exact error
    assert not out.agrees
    assert out.above.status == "sat", out.problems
    assert any("expected unsat" in p for p in out.problems)


def test_too_large_lower_is_caught(marabou):
    f, g, D, lo, hi = _pair_with_gap(marabou)
    out = cross_check(f, g, D, 3 * hi / 2, 2 * hi)
    assert not out.agrees
    assert out.below.status == "unsat", out.problems
    assert any("expected sat" in p for p in out.problems)


@pytest.mark.parametrize("seed,padding,pool", CASES[:15], ids=[f"{i}-{p}-{q}"
                                                             for i, p, q in CASES[:15]])
def test_encoding_at_a_point(marabou, seed, padding, pool):
    """With the box shrunk to one random X, Marabou's ``max_j |y_j|`` must be the exact
    error of X: SAT just below it, UNSAT just above (the encoding of every step)."""
    core = require_marabou()
    f, g, D = small_pair(seed, padding, pool)
    X = np.random.default_rng(seed).uniform(0, 1, (D, D, f.c0))
    err = float(exact_error(f, g, X))
    answers = []
    for t in (err * (1 - 1e-6) - 1e-9, err * (1 + 1e-4) + 1e-7):
        ipq, ids = difference_query(f, g, D, t)
        for v, x in zip(ids.ravel(), X.ravel()):
            ipq.setLowerBound(int(v), float(x))
            ipq.setUpperBound(int(v), float(x))
        opts = core.Options()
        opts._verbosity = 0
        answers.append(core.solve(ipq, opts, "")[0])
    assert answers == ["sat", "unsat"], (err, answers)


def test_bad_arguments(marabou):
    f, g, D = small_pair(0)
    with pytest.raises(ValueError, match="threshold"):
        difference_query(f, g, D, float("nan"))
    with pytest.raises(ValueError, match="max_pool"):
        difference_query(f, g, D, 0.1, max_pool="avg")
    with pytest.raises(ValueError, match="timeout"):
        marabou_exceeds(f, g, D, 0.1, timeout=0)
    with pytest.raises(ValueError, match="lower <= upper"):
        cross_check(f, g, D, 0.2, 0.1)


def test_missing_maraboupy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "maraboupy", None)  # import maraboupy now fails
    with pytest.raises(UsageError, match=r"slth-check\[verify\]"):
        require_marabou()
