"""Soundness of the certificate ``sup_error`` (the Theorem 1 machinery) and of the bracket
``worst_case`` on adversarial pairs.

Large-magnitude weights in cancelling pairs make the float64 effective kernels and
biases of Eq. 2 wrong in every digit; the certificate and the bracket must still
enclose the exact error at every input replayed exactly.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slth_check.certify import exact_error, sup_error, worst_case
from slth_check.testing.strategies import cancelling_pairs


@settings(max_examples=30)
@given(pair=cancelling_pairs(), D=st.integers(2, 4), seed=st.integers(0, 2**16))
def test_certificate_brackets_every_exact_replay(pair, D, seed):
    f, g = pair
    D = max(D, max(L.d for L in f.layers) + (1 if f.layers[-1].pool else 0), 2)
    cert = sup_error(f, g, D=D, method="bounds")
    assert cert.upper is not None and cert.lower <= cert.upper
    assert exact_error(f, g, cert.witness) == cert.lower  # the witness replays exactly
    rng = np.random.default_rng(seed)
    c0 = f.c0
    inputs = [np.ones((D, D, c0)), np.zeros((D, D, c0))]
    inputs += [(rng.random((D, D, c0)) < 0.5).astype(float) for _ in range(3)]
    inputs += [rng.random((D, D, c0))]
    for X in inputs:
        assert exact_error(f, g, X) <= cert.upper, (float(exact_error(f, g, X)),
                                                    float(cert.upper), cert.details)
    for key in ("interval_bound", "proof_bound", "entrywise_bound"):  # each one alone
        if key in cert.details:
            for X in inputs:
                assert exact_error(f, g, X) <= Fraction(cert.details[key]), key


@settings(max_examples=15, deadline=None)
@given(pair=cancelling_pairs(min_ell=2, max_ell=2), D=st.integers(2, 3),
       seed=st.integers(0, 2**16))
def test_worst_case_brackets_every_exact_replay(pair, D, seed):
    """``worst_case``'s lower bound is its witness's exact error through the pruned
    network; its upper bound is above the exact error of every vertex (D*D*c0 <= 9
    here: all of them) and of a random interior point."""
    f, g = pair
    r = worst_case(f, g, D, time_budget=0.1, top=2, kicks=1)  # fixed work
    assert exact_error(f, g, r["witness"]) == r["lower"] <= Fraction(r["upper"])
    c0 = f.c0
    n = D * D * c0
    rng = np.random.default_rng(seed)
    inputs = [rng.random((D, D, c0))]
    if n <= 9:
        inputs += [np.array([(v >> i) & 1 for i in range(n)], float).reshape(D, D, c0)
                   for v in range(2**n)]
    for X in inputs:
        assert exact_error(f, g, X) <= Fraction(r["upper"]), (float(exact_error(f, g, X)),
                                                              r["upper"])
