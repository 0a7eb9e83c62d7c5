"""Random subset sum: the exact methods agree; milp and z3 certificates are honest."""

from __future__ import annotations

import bisect
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slth_check.claims.rss import RSSAgreement, RSSInstance
from slth_check.rss import solve
from slth_check.rss.exact import DyadicInstance
from slth_check.testing.assertions import assert_holds

unit = st.floats(-1, 1, allow_nan=False)
# values with many ties and zeros stress the candidate re-verification
tie_prone = st.sampled_from([0.0, 0.5, -0.5, 0.25, 1.0, -1.0, 0.1, 0.2, 0.3])


@st.composite
def rss_instances(draw, max_n: int = 12):
    n = draw(st.integers(1, max_n), label="n")
    elements = draw(st.sampled_from([unit, tie_prone]), label="element kind")
    values = draw(hnp.arrays(np.float64, n, elements=elements), label="values")
    target = draw(st.one_of(unit, tie_prone, st.floats(-20, 20)), label="target")
    return RSSInstance(values, target)


@given(inst=rss_instances(max_n=20))
def test_mitm_equals_bruteforce_exactly(inst):
    m = solve(inst.values, inst.target, method="mitm")
    b = solve(inst.values, inst.target, method="bruteforce")
    assert m.status == "optimal"
    assert m.error == b.error, f"mitm {m.error} != bruteforce {b.error}"


@given(inst=rss_instances(max_n=8))
def test_all_methods_agree_and_certificates(inst):
    out = RSSAgreement().check(inst)
    assert_holds(out, context={"n": inst.values.size})


def _independent_exact_optimum(values: np.ndarray, target: float) -> Fraction:
    """Exact meet in the middle over Python integers only (no floats), for n ~ 30."""
    dy = DyadicInstance(values, target)
    h = len(dy.ints) // 2

    def sums(ints):
        out = [0]
        for v in ints:
            out += [s + v for s in out]
        return out

    A, B = sums(dy.ints[:h]), sorted(sums(dy.ints[h:]))
    best = None
    for a in A:
        want = dy.target - a
        i = bisect.bisect_left(B, want)
        for j in (i - 1, i):
            if 0 <= j < len(B):
                e = abs(want - B[j])
                best = e if best is None or e < best else best
    assert best is not None  # A holds at least the empty subset's sum
    return Fraction(best, dy.den)


@pytest.mark.parametrize("seed", range(3))
def test_mitm_exactly_optimal_at_n30_against_independent_check(seed):
    rng = np.random.default_rng(seed)
    v, t = rng.uniform(-1, 1, 30), float(rng.uniform(-1, 1))
    r = solve(v, t, method="mitm")
    assert r.status == "optimal"
    assert r.error == _independent_exact_optimum(v, t)
