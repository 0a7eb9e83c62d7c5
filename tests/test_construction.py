"""Constructions and certification: shapes, errors, and agreement of the methods."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from slth_check.certify import exact_error, layer_sup_error, sup_error
from slth_check.construction import (
    PrunedCNN,
    PrunedLayer,
    block_mask,
    build_kernel,
    build_layer,
    build_network,
    required_n,
)
from slth_check.network import ConvLayer, TargetCNN


def cls(rng, shape):
    K = rng.uniform(-1, 1, shape)
    return K / (np.abs(K).sum() * (1 + 2**-40))


def test_build_kernel_prunes_negative_U_and_approximates():
    rng = np.random.default_rng(0)
    K = cls(rng, (2, 2, 1, 1))
    U, V = rng.uniform(-1, 1, (2, 2, 1, 24)), rng.uniform(-1, 1, (1, 1, 24, 1))
    S, res = build_kernel(K, U, V)
    assert not S[U <= 0].any()
    L = (np.where(S, U, 0) @ V[0, 0])[..., 0]
    for idx, r in res.items():  # the RSS error is exactly the entry's approximation error
        assert abs(Fraction(K[idx + (0,)]) - r.achieved) == r.error
        assert L[idx] == pytest.approx(float(r.achieved), abs=1e-12)


def test_block_mask_and_remainder():
    T = block_mask(7, 3)
    assert T.shape == (1, 1, 7, 3)
    assert T[0, 0, :, 0].tolist() == [1, 1, 0, 0, 0, 0, 0]
    assert not T[0, 0, 6].any()  # n mod c1 = 1 sample pruned
    with pytest.raises(ValueError, match="n: expected n >= c1 = 3"):
        block_mask(2, 3)


def test_build_errors():
    rng = np.random.default_rng(0)
    K = cls(rng, (2, 2, 1, 2))
    with pytest.raises(ValueError, match=r"V: expected shape \(1, 1, 4, 2\)"):
        build_layer(K, rng.uniform(-1, 1, (2, 2, 1, 4)), rng.uniform(-1, 1, (1, 1, 5, 2)))
    with pytest.raises(ValueError, match=r"K: expected shape \(3, 3, 1, 2\)"):
        build_layer(K, rng.uniform(-1, 1, (3, 3, 1, 4)), rng.uniform(-1, 1, (1, 1, 4, 2)))
    with pytest.raises(ValueError, match="n: expected n >= c1 = 2"):
        build_layer(K, rng.uniform(-1, 1, (2, 2, 1, 1)), rng.uniform(-1, 1, (1, 1, 1, 2)))
    U, V = rng.uniform(-1, 1, (2, 2, 1, 4)), rng.uniform(-1, 1, (1, 1, 4, 2))
    with pytest.raises(ValueError, match=r"S: expected shape \(2, 2, 1, 4\)"):
        PrunedLayer(U, V, np.ones((2, 2, 1, 3), bool), np.ones((1, 1, 4, 2), bool))
    with pytest.raises(ValueError, match="S: expected a binary mask"):
        PrunedLayer(U, V, np.full((2, 2, 1, 4), 0.5), np.ones((1, 1, 4, 2), bool))
    with pytest.raises(ValueError, match="n: give n, or C and eps"):
        build_network(TargetCNN.from_kernels([K]))
    with pytest.raises(ValueError, match="eps: expected 0 < eps < 1"):
        required_n(2.0, 2, 1, 1, 1, 1.5)
    with pytest.raises(TypeError, match="target: expected a TargetCNN"):
        build_network(K, n=4)


def test_pruned_forward_float_matches_exact_with_generalisations():
    rng = np.random.default_rng(1)
    t = TargetCNN([ConvLayer(cls(rng, (3, 3, 1, 2)), bias=rng.uniform(-0.2, 0.2, 2),
                             padding="same", pool="max"),
                   ConvLayer(cls(rng, (2, 2, 2, 2)), bias=rng.uniform(-0.2, 0.2, 2),
                             stride=2, pool="avg")], final_relu=True)
    p = build_network(t, n=[40, 40], rng=2)
    X = rng.uniform(0, 1, (8, 8, 1))
    np.testing.assert_allclose(p.forward(X), p.forward_exact(X).astype(float), atol=1e-12)
    assert np.abs(t.forward(X) - p.forward(X)).max() < 1e-3  # biases, stride, pooling emulated
    rows = p.size_table()
    assert rows[0]["random"] == 3 * 3 * 1 * 40 + 40 * 2 + 40


def test_one_layer_closed_form_equals_milp_exactly():
    rng = np.random.default_rng(3)
    t = TargetCNN.from_kernels([cls(rng, (2, 2, 2, 2))])
    p = build_network(t, n=[12], rng=4)
    cf = sup_error(t, p, D=3, method="closed-form")
    assert cf.exact and cf.lower == cf.upper
    assert exact_error(t, p, cf.witness) == cf.lower  # witness replays exactly
    mi = sup_error(t, p, D=3, method="milp")
    assert mi.lower == cf.lower  # the MILP's vertex witness replays to the same exact value


@pytest.mark.parametrize("seed", range(2))
def test_two_layers_milp_between_bounds_and_replays(seed):
    rng = np.random.default_rng(seed)
    t = TargetCNN.from_kernels([cls(rng, (2, 2, 1, 2)), cls(rng, (2, 2, 2, 1))])
    p = build_network(t, n=[8, 4], rng=seed)
    bounds = sup_error(t, p, D=3, method="bounds")
    mi = sup_error(t, p, D=3, method="milp")
    if not mi.details["milp"]["complete"]:  # the (deterministic) node limit ran out
        pytest.skip(f"MILP stopped at its node limit ({mi.details['milp']}): unknown")
    assert bounds.lower <= mi.lower <= bounds.upper
    assert mi.details["milp_value"] <= float(bounds.upper) * (1 + 1e-9)
    assert mi.details["milp_value"] == pytest.approx(float(mi.lower), rel=1e-6, abs=1e-12)
    assert exact_error(t, p, mi.witness) == mi.lower


def test_layer_sup_error_by_hand():
    K = np.array([0.5, -0.25, 0.0, 0.125]).reshape(2, 2, 1, 1)
    L = np.zeros_like(K)
    val, idx, X = layer_sup_error(K, L, 2)
    assert val == Fraction(5, 8)  # positive part 0.5 + 0.125 at the full window
    assert idx == (1, 1, 0)


def test_mask_keeping_negative_U_is_not_linearisable():
    rng = np.random.default_rng(5)
    t = TargetCNN.from_kernels([cls(rng, (2, 2, 1, 1))])
    p = build_network(t, n=[16], rng=5)
    S = np.ones_like(p.layers[0].S)
    bad = PrunedCNN([PrunedLayer(p.layers[0].U, p.layers[0].V, S, p.layers[0].T)])
    assert not bad.linearisable()
    cert = sup_error(t, bad, D=2)
    assert cert.method == "bounds" and cert.lower <= cert.upper
    with pytest.raises(ValueError, match="closed-form"):
        sup_error(t, bad, D=2, method="closed-form")


@pytest.mark.parametrize("shapes,D", [
    (((3, 3, 1, 2), (2, 2, 2, 1)), 4),
    (((3, 3, 2, 2), (3, 3, 2, 2)), 4),
    (((3, 3, 1, 3), (3, 3, 3, 1)), 4),  # D = 5: 21 196 nodes, a minute
])
def test_milp_between_bounds_at_the_issue_sizes(shapes, D):
    """l = 2, d <= 3, c <= 3, D <= 4: MILP witness replays exactly, between the bounds."""
    rng = np.random.default_rng(0)
    f = TargetCNN.from_kernels([cls(rng, s) for s in shapes])
    g = build_network(f, n=[2 * shapes[0][3], 2 * shapes[1][3]], rng=1)
    bounds = sup_error(f, g, D=D, method="bounds")
    mi = sup_error(f, g, D=D, method="milp")  # node limit: load-independent
    if not mi.details["milp"]["complete"]:  # the (deterministic) node limit ran out
        pytest.skip(f"MILP stopped at its node limit ({mi.details['milp']}): unknown")
    assert exact_error(f, g, mi.witness) == mi.lower
    assert bounds.lower <= mi.lower <= bounds.upper
    assert mi.details["milp_value"] <= float(bounds.upper)
    for name in ("interval_bound", "proof_bound", "entrywise_bound"):  # each one sound
        assert mi.details["milp_value"] <= bounds.details[name] * (1 + 1e-9), name


def test_entrywise_bound_sound_with_bias_stride_and_pooling():
    from slth_check.certify import entrywise_bound, search_lower

    rng = np.random.default_rng(7)
    f = TargetCNN([ConvLayer(cls(rng, (3, 3, 1, 2)), bias=rng.uniform(-0.3, 0.3, 2),
                             padding="same", pool="max"),
                   ConvLayer(cls(rng, (2, 2, 2, 2)), bias=rng.uniform(-0.3, 0.3, 2),
                             stride=2, pool="avg")], final_relu=True)
    g = build_network(f, n=[6, 6], rng=3)
    X = search_lower(f, g, 8, rng=0)
    assert exact_error(f, g, X) <= Fraction(entrywise_bound(f, g, 8))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_layer_sup_error_does_not_depend_on_D_beyond_d(d):
    """Used by the Lemma 2 claim: with paper padding the sup is the same for all D >= d."""
    rng = np.random.default_rng(d)
    K, L = rng.uniform(-1, 1, (d, d, 2, 2)), rng.uniform(-1, 1, (d, d, 2, 2))
    values = {D: layer_sup_error(K, L, D)[0] for D in range(d, d + 4)}
    assert len(set(values.values())) == 1
    if d > 1:  # smaller inputs only see partial windows
        assert layer_sup_error(K, L, d - 1)[0] <= values[d]


def _entry_by_entry(layer, K, bias=None):
    """The masks S (and Sb) of the former construction: one rss.solve per entry, the first
    MAX_RSS_SAMPLES positive samples when there are more."""
    from slth_check.construction import MAX_RSS_SAMPLES
    from slth_check.rss import solve

    U, V, Ub = layer.U, layer.V, layer.Ub
    d, _, c0, n = U.shape
    c1 = V.shape[3]
    n1 = n // c1
    S, Sb = np.zeros(U.shape, bool), np.zeros(n, bool)

    def pick(target, vals, pos):
        vals, pos = vals[:MAX_RSS_SAMPLES], pos[:MAX_RSS_SAMPLES]
        return pos[solve(vals, float(target)).mask] if vals.size else pos[:0]

    for l in range(c1):
        cols = np.arange(l * n1, (l + 1) * n1)
        for idx in np.ndindex(d, d, c0):
            pos = cols[U[idx][cols] > 0]
            S[idx + (pick(K[idx + (l,)], V[0, 0, pos, l] * U[idx][pos], pos),)] = True
        if bias is not None:
            pos = cols[Ub[cols] > 0]
            Sb[pick(bias[l], V[0, 0, pos, l] * Ub[pos], pos)] = True
    return S, Sb


def test_bulk_construction_equals_entry_by_entry_solves():
    """build_network solves through solve_many (grouped by size): the masks of one
    rss.solve per entry, sizes above MAX_RSS_SAMPLES (truncated) and empty ones included."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(4)
    t = TargetCNN([ConvLayer(cls(rng, (2, 2, 1, 3)), bias=rng.uniform(-0.2, 0.2, 3)),
                   ConvLayer(cls(rng, (1, 1, 3, 2)))])
    pruned = build_network(t, n=[3 * 80, 2 * 9], rng=5)  # ~40 positive samples (> 30)
    sizes = {r.mask.size for L in pruned.layers for r in L.rss.values()}
    assert max(sizes) > 30 and len(sizes) > 3, sizes  # several groups, truncation exercised
    for L, T in zip(pruned.layers, t.layers):
        S, Sb = _entry_by_entry(L, T.K, T.bias)
        assert np.array_equal(L.S, S)
        if T.bias is not None:
            assert np.array_equal(L.Sb, Sb)
        for key, r in L.rss.items():  # exact, from the mask
            assert r.error == abs(Fraction(float(T.bias[key[1]] if key[0] == "bias"
                                                 else T.K[key])) - r.achieved)
    with ThreadPoolExecutor(2) as pool:
        again = build_network(t, n=[3 * 80, 2 * 9], rng=5, executor=pool)
    for a, b in zip(pruned.layers, again.layers):
        assert np.array_equal(a.S, b.S) and np.array_equal(a.Sb, b.Sb) if a.Sb is not None \
            else np.array_equal(a.S, b.S)
