"""Proposition 1: ||K*X||_max <= ||K||_1 ||X||_max, exactly, tightly, and proved."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, target
from hypothesis import strategies as st

from slth_check.claims.proposition1 import Prop1Instance, Proposition1, prove_z3
from slth_check.testing.assertions import assert_holds, assert_verdict
from slth_check.testing.strategies import kernels, shapes, signed_inputs

CLAIM = Proposition1()


@given(data=st.data())
def test_inequality_exact_any_sign(data):
    d, D, c0, c1 = data.draw(shapes(D_at_least_d=False), label="shape")
    K = data.draw(kernels(d, c0, c1), label="K")
    X = data.draw(signed_inputs(D, c0), label="X")
    out = CLAIM.run(Prop1Instance(K, X))
    target(out.ratio or 0.0, label="||K*X||_max / (||K||_1 ||X||_max)")
    assert_holds(out, context={"shape": (d, D, c0, c1)})


@given(data=st.data())
def test_tightness_construction_attains_sharper_bound(data):
    d, D, c0, c1 = data.draw(shapes(), label="shape")
    K = data.draw(kernels(d, c0, c1, max_abs=10.0), label="K")
    out = CLAIM.tightness(K, D)
    assert_holds(out, context={"shape": (d, D, c0, c1)})
    assert out.extra["attains_sharper_bound"], "the constructed input misses the bound"
    per_channel = np.abs(K).sum(axis=(0, 1, 2))
    if per_channel.sum() > 0:  # ratio to the stated bound is max_l ||K_l||_1 / ||K||_1
        assert out.ratio == pytest.approx(per_channel.max() / per_channel.sum(), rel=1e-12)


@pytest.mark.parametrize("d,D", [(2, 3), (3, 3)])
def test_z3_proves_for_all_real_inputs(d, D):
    out = prove_z3(d, D, time_limit=60.0)
    assert_holds(out)
    assert out.method == "z3"


def test_z3_timeout_is_unknown_never_holds():
    out = prove_z3(3, 4, time_limit=1e-6)
    assert_verdict(out, "unknown")
