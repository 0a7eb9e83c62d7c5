"""Lemma 1 and Lemma 2 on the proof's construction, certified exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, target
from hypothesis import strategies as st

from slth_check.claims.lemma2 import (
    LayerInstance,
    Lemma1,
    Lemma2,
    clopper_pearson,
    negative_controls,
)
from slth_check.replay import replay
from slth_check.report import save_witness
from slth_check.strategies import class_kernels


@given(data=st.data())
def test_lemma1_certified_below_eps_or_allowed_failure(data):
    d = data.draw(st.integers(1, 3), label="d")
    c = data.draw(st.integers(1, 2), label="c")
    K = data.draw(class_kernels(d, c, 1), label="K")
    eps = data.draw(st.sampled_from([0.2, 0.1, 0.05]), label="eps")
    seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
    out = Lemma1().run(LayerInstance(K, eps, seed))
    target(float(out.observed) / eps, label="certified error / eps")
    assert out.verdict in ("holds", "unknown"), out.detail
    assert out.verdict == "holds" or out.extra["failed"]


@given(data=st.data())
def test_lemma2_certified_below_eps_or_allowed_failure(data):
    d = data.draw(st.integers(1, 3), label="d")
    c0 = data.draw(st.integers(1, 2), label="c0")
    c1 = data.draw(st.integers(1, 3), label="c1")
    K = data.draw(class_kernels(d, c0, c1), label="K")
    eps = data.draw(st.sampled_from([0.2, 0.1]), label="eps")
    out = Lemma2().run(LayerInstance(K, eps, data.draw(st.integers(0, 2**31 - 1))))
    assert out.verdict in ("holds", "unknown"), out.detail


def test_failure_rate_at_most_eps_statistically():
    claim = Lemma2()
    outs = [claim.run(i) for i in claim.instances(np.random.default_rng(11), "ci")]
    for eps in {o.extra["eps"] for o in outs}:
        sub = [o for o in outs if o.extra["eps"] == eps]
        k = sum(o.extra["failed"] for o in sub)
        lo, _ = clopper_pearson(k, len(sub))
        assert lo <= eps, f"failure rate {k}/{len(sub)} inconsistent with eps={eps}"


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
        assert out.verdict == "violated" and out.expected, out.detail
        assert np.count_nonzero(out.witness["X"]) >= 1
        path = save_witness(tmp_path, f"w{i}", out)
        verdict, _ = replay(tmp_path / path.split("/", 1)[1])
        assert verdict == "violated"
