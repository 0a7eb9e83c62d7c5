"""Theorem 1 on the construction of Appendix B, with a sound certified bound."""

from __future__ import annotations

import numpy as np
import pytest

from slth_check.claims.theorem1 import NetworkInstance, Theorem1, norm_control, random_class_network


@pytest.mark.parametrize("ell,seed", [(2, 0), (3, 1)])
def test_certified_error_below_eps_and_proof_inequalities(ell, seed):
    rng = np.random.default_rng(seed)
    inst = NetworkInstance(random_class_network(rng, ell), 0.2, seed, D=4)
    claim = Theorem1()
    out = claim.run(inst)
    assert out.verdict == "holds", out.detail
    assert out.observed < out.bound
    checks = claim.proof_checks(inst)
    assert len(checks) == 3 * ell + 3
    bad = [c.detail for c in checks if c.verdict != "holds"]
    assert not bad, bad


def test_outside_class_F_is_hypotheses_unmet():
    rng = np.random.default_rng(0)
    net = random_class_network(rng, 2)
    big = type(net).from_kernels([L.K * 10 for L in net.layers])
    assert Theorem1().run(NetworkInstance(big, 0.2, 0)).verdict == "hypotheses_unmet"
    assert Theorem1().run(NetworkInstance(net, 1.5, 0)).verdict == "hypotheses_unmet"


def test_norm_control_finds_a_break():
    out = norm_control(np.random.default_rng(0))
    assert out.verdict == "violated" and out.expected, out.detail
