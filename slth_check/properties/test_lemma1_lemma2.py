"""Lemma 1 and Lemma 2 on the proof's construction, certified exactly."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, target
from hypothesis import strategies as st

from slth_check.arithmetic import to_fraction
from slth_check.claims.controls import negative_controls
from slth_check.claims.layer import build_instance
from slth_check.claims.lemma1 import Lemma1
from slth_check.claims.lemma2 import LayerInstance, Lemma2, failure_summary
from slth_check.fileio.witnesses import save_witness
from slth_check.replay import replay
from slth_check.testing.assertions import assert_not_violated, assert_violated
from slth_check.testing.strategies import class_kernels


def assert_construction_and_certificate(claim, K, eps, seed):
    """The deterministic steps of Lemma 1/2's proof on one draw, each able to fail:

    * ``S <= [U > 0]`` (Eq. 1 needs the kept U non-negative);
    * every effective entry (Eq. 2) is the RSS ``achieved`` value of its entry, up to
      the rounding of the float64 products ``V_t U_t`` the solver was given (at most
      ``2^-53 |V_t U_t|`` each, exactly compared);
    * the certified error equals the closed form ``max_l max(sum E+_l, sum E-_l)`` of
      ``E = K - L`` (a full window, X in {0, 1}), computed here independently;
    * per-entry errors ``|E|`` below ``eps / (d^2 c0)`` imply a certified error below eps;
    * the verdict is ``holds`` exactly when that error is below eps.
    """
    out = claim.run(LayerInstance(K, eps, seed))
    assert_not_violated(out, relation="<")  # a failed draw is allowed (probability eps)
    d, _, c0, c1 = K.shape
    layer = build_instance(K, out.extra["n"], seed)
    assert not layer.S[layer.U <= 0].any(), "a non-positive entry of U was kept"
    L = layer.effective_kernel(exact=True)
    U, V, T = to_fraction(layer.U), to_fraction(layer.V[0, 0]), layer.T[0, 0]
    for idx, r in layer.rss.items():
        if idx[0] == "bias":
            continue
        kept = [t for t in range(layer.n) if layer.S[idx[:3] + (t,)] and T[t, idx[3]]]
        slack = sum((abs(U[idx[:3] + (t,)] * V[t, idx[3]]) for t in kept),
                    start=Fraction(0)) / 2**53
        assert abs(L[idx] - r.achieved) <= slack, \
            f"entry {idx}: effective {float(L[idx])} is not the RSS sum {float(r.achieved)}"
    E = to_fraction(K) - L
    closed = max(max(sum((v for v in E[..., l].ravel() if v > 0), start=Fraction(0)),
                     sum((-v for v in E[..., l].ravel() if v < 0), start=Fraction(0)))
                 for l in range(c1))
    assert out.observed == closed, f"certified {out.observed} != closed form {closed}"
    share = Fraction(eps) / (d * d * c0)
    if all(abs(v) < share for v in E.ravel()):
        assert out.observed < Fraction(eps)
    assert (out.verdict == "holds") == (closed < Fraction(eps)), out.detail
    return out


@given(data=st.data())
def test_lemma1_construction_and_exact_certificate(data):
    d = data.draw(st.integers(1, 3), label="d")
    c = data.draw(st.integers(1, 2), label="c")
    K = data.draw(class_kernels(d, c, 1), label="K")
    eps = data.draw(st.sampled_from([0.2, 0.1, 0.05]), label="eps")
    seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
    out = assert_construction_and_certificate(Lemma1(), K, eps, seed)
    target(float(out.observed) / eps, label="certified error / eps")


@given(data=st.data())
def test_lemma2_construction_and_exact_certificate(data):
    d = data.draw(st.integers(1, 3), label="d")
    c0 = data.draw(st.integers(1, 2), label="c0")
    c1 = data.draw(st.integers(1, 3), label="c1")
    K = data.draw(class_kernels(d, c0, c1), label="K")
    eps = data.draw(st.sampled_from([0.2, 0.1]), label="eps")
    seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
    out = assert_construction_and_certificate(Lemma2(), K, eps, seed)
    target(float(out.observed) / eps, label="certified error / eps")


def test_failure_rate_at_most_eps_statistically():
    claim = Lemma2()
    outs = [claim.run(i) for i in claim.instances(np.random.default_rng(11), "ci")]
    for eps, row in failure_summary(outs).items():
        assert row["verdict"] == "consistent", f"failure rate {row} inconsistent with eps={eps}"


def test_outside_the_class_is_hypotheses_unmet():
    K = np.full((2, 2, 1, 1), 0.5)  # ||K||_1 = 2
    assert Lemma2().run(LayerInstance(K, 0.1, 0)).verdict == "hypotheses_unmet"
    K = np.zeros((1, 1, 1, 1))
    K[0, 0, 0, 0] = 1.5
    assert Lemma1().run(LayerInstance(K, 0.1, 0)).verdict == "hypotheses_unmet"


def test_negative_controls_break_and_replay(tmp_path):
    outs = list(negative_controls("lemma2", np.random.default_rng(0)))
    assert len(outs) == 3
    for i, out in enumerate(outs):
        assert_violated(out, relation="<")
        assert out.expected
        assert np.count_nonzero(out.witness["X"]) >= 1
        path = save_witness(tmp_path, f"w{i}", out)
        verdict, detail = replay(tmp_path / path.split("/", 1)[1])
        # a hypothesis was dropped on purpose: the replay says so, with the exact error
        assert verdict == "hypotheses_unmet" and "exact error at X" in detail, detail
