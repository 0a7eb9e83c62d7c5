"""The linear relaxation bound and the gradient search (certify.linear, certify.search).

Soundness on small networks: the new upper bound is never below an exactly replayed
error (the MILP's witness where the MILP applies, the vertex search's and the
relaxation's own maximising vertices otherwise), including pairs whose float64
effective kernels are wrong (``cancelling_pairs``); the new lower bound is the exact
replay of its witness through the pruned network itself.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slth_check.certify import exact_error, sup_error, upper_bounds
from slth_check.certify.linear import linear_bound
from slth_check.certify.search import gradient_lower, linear_targets
from slth_check.construction import build_network
from slth_check.network import ConvLayer, TargetCNN
from slth_check.pruned import PrunedCNN, PrunedLayer
from slth_check.testing.strategies import cancelling_pairs


@st.composite
def two_layer_pairs(draw, *, max_c: int = 2, max_D: int = 5,
                    pools: tuple = (None, "max", "avg")):
    """A random two-layer target (d <= 3, c <= 2, D <= 5, optional biases and 2x2
    max or average pooling, same or paper padding) and a pruned network built for it."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    d1, d2 = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    c0, c1, c2 = (draw(st.integers(1, max_c)) for _ in range(3))
    bias = draw(st.booleans())
    pool1 = draw(st.sampled_from(pools))
    pool2 = draw(st.sampled_from(pools))
    pad = draw(st.sampled_from(["same", "paper"]))
    D = draw(st.integers(4 if pool1 and pool2 else 2, max(max_D, 4 if pool1 and pool2 else 2)))
    layers = [ConvLayer(rng.uniform(-1, 1, (d1, d1, c0, c1)),
                        rng.uniform(-1, 1, c1) if bias else None, padding=pad, pool=pool1),
              ConvLayer(rng.uniform(-1, 1, (d2, d2, c1, c2)),
                        rng.uniform(-1, 1, c2) if bias else None, padding=pad, pool=pool2)]
    target = TargetCNN(layers, final_relu=draw(st.booleans()))
    n = draw(st.integers(2, 6))
    pruned = build_network(target, n=[n * c1, n * c2], rng=seed)
    return target, pruned, D


def _replayed_max(target, pruned, D, Xs):
    return max(exact_error(target, pruned, X, via="pruned") for X in Xs)


def _check_upper(target, pruned, D):
    bound, info = linear_bound(target, pruned, D)
    cert = sup_error(target, pruned, D=D, method="bounds")  # vertex search, replayed
    best = max(cert.lower, _replayed_max(target, pruned, D, info["vertices"][:2]))
    assert Fraction(bound) >= best, (
        f"linear bound {bound!r} < exactly replayed error {float(best)!r} "
        f"(milp complete: {cert.details.get('milp', {}).get('complete')})")
    ub = upper_bounds(target, pruned, D)
    assert ub["upper"] <= min(ub["interval_bound"], ub["linear_bound"])


@settings(max_examples=25, deadline=None)
@given(two_layer_pairs())
def test_linear_bound_above_exact_worst_case(case):
    _check_upper(*case)


@settings(max_examples=10, deadline=None)
@given(two_layer_pairs(max_c=1, max_D=3, pools=(None, "avg")))
def test_linear_bound_above_milp_optimum(case):
    """Where the exact MILP applies (no max pooling) and completes, its witness (the
    worst case, replayed exactly) is below the linear bound."""
    target, pruned, D = case
    bound, _ = linear_bound(target, pruned, D)
    cert = sup_error(target, pruned, D=D, method="milp", milp_node_limit=5000)
    assert Fraction(bound) >= cert.lower, (
        f"linear bound {bound!r} < MILP witness {float(cert.lower)!r} "
        f"(complete: {cert.details['milp']['complete']})")


@settings(max_examples=25, deadline=None)
@given(cancelling_pairs(min_ell=2, max_ell=2), st.integers(2, 4))
def test_linear_bound_sound_when_float_kernels_are_wrong(pair, D):
    target, pruned = pair
    if any(L.pool for L in target.layers) and D < 2:
        return
    _check_upper(target, pruned, D)


@settings(max_examples=15, deadline=None)
@given(st.one_of(two_layer_pairs(),
                 st.tuples(cancelling_pairs(min_ell=2, max_ell=2), st.integers(2, 4))
                 .map(lambda t: (*t[0], t[1]))))
def test_gradient_lower_is_an_exact_replay(case):
    target, pruned, D = case
    bound, info = linear_bound(target, pruned, D)
    value, X, _ = gradient_lower(target, pruned, D, rng=0, restarts=1, steps=5,
                                 flip_rounds=5, starts=info["vertices"][:2],
                                 outputs=linear_targets(target, info, 2))
    assert np.all((X >= 0) & (X <= 1))
    assert value == exact_error(target, pruned, X, via="pruned")
    assert value <= Fraction(bound)


BIG = 2.0**53


def lost_kernel_pair(pool, where):
    """Layer ``where``'s effective kernel is exactly 1 (1 + 2^53 - 2^53) but 0 in
    float64, the target's is 0: the worst case is 1 (at X = 1), a bound built on the
    float64 kernels alone would say ~0."""
    ones = (np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)))
    cancel = (np.ones((1, 1, 1, 3)), np.array([1.0, BIG, -BIG]).reshape(1, 1, 3, 1))
    layers, t_layers = [], []
    for i in range(2):
        U, V = cancel if i == where else ones
        layers.append(PrunedLayer(U, V, np.ones(U.shape, bool), np.ones(V.shape, bool),
                                  pool=pool if i == 1 else None))
        t_layers.append(ConvLayer(np.zeros((1, 1, 1, 1)) if i == where else np.ones((1, 1, 1, 1)),
                                  pool=pool if i == 1 else None))
    return TargetCNN(t_layers), PrunedCNN(layers)


@pytest.mark.parametrize("pool", [None, "max", "avg"])
@pytest.mark.parametrize("where", [0, 1])
def test_linear_bound_covers_a_kernel_lost_to_cancellation(pool, where):
    target, pruned = lost_kernel_pair(pool, where)
    assert pruned.effective_network().forward(np.ones((2, 2, 1))).max() == 0.0
    bound, _ = linear_bound(target, pruned, 2)
    assert exact_error(target, pruned, np.ones((2, 2, 1))) == 1
    assert bound >= 1.0
