"""Theorem 1 on the construction of Appendix B, with a sound certified bound."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slth_check.certify import exact_error, sup_error
from slth_check.claims.theorem1 import NetworkInstance, Theorem1, norm_control, random_class_network
from slth_check.construction import build_network
from slth_check.network import TargetCNN
from slth_check.testing.assertions import assert_holds, assert_violated
from slth_check.testing.strategies import class_kernels


@pytest.mark.parametrize("ell,seed", [(2, 0), (3, 1)])
def test_certified_error_below_eps_and_proof_inequalities(ell, seed):
    rng = np.random.default_rng(seed)
    inst = NetworkInstance(random_class_network(rng, ell), 0.2, seed, D=4)
    claim = Theorem1()
    out = claim.run(inst)
    assert_holds(out, relation="<", context={"ell": ell, "seed": seed})
    assert out.observed < out.bound
    checks = claim.proof_checks(inst)
    assert len(checks) == 3 * ell + 3
    for c in checks:
        assert_holds(c, context={"ell": ell, "seed": seed})


def test_outside_class_F_is_hypotheses_unmet():
    rng = np.random.default_rng(0)
    net = random_class_network(rng, 2)
    big = type(net).from_kernels([L.K * 10 for L in net.layers])
    assert Theorem1().run(NetworkInstance(big, 0.2, 0)).verdict == "hypotheses_unmet"
    assert Theorem1().run(NetworkInstance(net, 1.5, 0)).verdict == "hypotheses_unmet"


def test_norm_control_finds_a_break():
    out = norm_control(np.random.default_rng(0))
    assert_violated(out, relation="<")
    assert out.expected


@settings(max_examples=6)  # each example solves a MILP: a few seconds
@given(data=st.data())
def test_milp_worst_case_between_the_sound_bounds(data):
    """Random targets of class F (l = 2, d <= 3, c <= 2, D <= 4) with few samples, so that
    the error is far from zero: the MILP's witness replays exactly, and its worst case
    lies between the search's exact lower bound and the sound upper bound."""
    d1 = data.draw(st.integers(1, 3), label="d1")
    d2 = data.draw(st.integers(1, 2), label="d2")
    c = [data.draw(st.integers(1, 2), label=f"c{i}") for i in range(3)]
    D = data.draw(st.integers(max(d1, d2), 4), label="D")
    K1 = data.draw(class_kernels(d1, c[0], c[1]), label="K1")
    K2 = data.draw(class_kernels(d2, c[1], c[2]), label="K2")
    f = TargetCNN.from_kernels([K1, K2])
    seed = data.draw(st.integers(0, 99), label="seed")
    g = build_network(f, n=[2 * c[1], 2 * c[2]], rng=seed)
    bounds = sup_error(f, g, D=D, method="bounds")
    mi = sup_error(f, g, D=D, method="milp")  # a node limit, not a clock: load-independent
    assert exact_error(f, g, mi.witness) == mi.lower  # replayed exactly
    assert bounds.lower <= mi.lower <= bounds.upper
    if mi.details["milp"]["complete"]:  # HiGHS works to a 1e-7 feasibility tolerance
        tol = 1e-6 * (1 + float(bounds.upper))
        assert float(bounds.lower) <= mi.details["milp_value"] + tol
        assert mi.details["milp_value"] <= float(bounds.upper) + tol
