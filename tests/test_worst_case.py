"""worst_case (certify.bracket) and its per-output windows (certify.local).

* The restricted problem of each output entry computes exactly what the whole
  float network computes at that entry (no pixel, unit or bias of the receptive
  field lost), and the classes of equal problems are those translation
  invariance predicts (the border rows and columns differ), and those of the dense
  windows' digests (``Window.key``), zero taps and a stored -0.0 included.
* A linear bound handed to ``worst_case(linear=...)`` is used, not recomputed.
* Soundness on small networks: ``upper`` is above the exact error of every vertex
  (exhaustive, the best replayed exactly) and above the exactly replayed witness
  of the MILP where the MILP applies (no max pooling); ``lower`` is the exact
  replay of ``witness`` through the pruned network itself; also on pairs whose
  float64 effective kernels are wrong in every digit (``cancelling_pairs``).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_linear_bounds import lost_kernel_pair, two_layer_pairs

from slth_check.certify import exact_error, milp_worst_case, worst_case
from slth_check.certify.exact import rounded_effective_network
from slth_check.certify.local import window, window_classes, window_model, window_outputs
from slth_check.construction import build_network
from slth_check.network import ConvLayer, TargetCNN
from slth_check.testing.strategies import cancelling_pairs


def _float_outputs(target, pruned, X):
    g = rounded_effective_network(pruned)
    return target.forward(X).ravel(), g.forward(X).ravel()


@settings(max_examples=20, deadline=None)
@given(two_layer_pairs(max_c=2, max_D=6), st.integers(0, 2**16))
def test_window_equals_the_whole_network(case, seed):
    target, pruned, D = case
    model = window_model(target, pruned, D)
    rng = np.random.default_rng(seed)
    for X in (rng.random((D, D, target.c0)), (rng.random((D, D, target.c0)) < .5) * 1.0):
        f, g = _float_outputs(target, pruned, X)
        for o in range(f.size):
            w = window(model, o)
            fo, go = window_outputs(w, X.ravel()[w.inp])
            assert np.allclose([fo[0], go[0]], [f[o], g[o]], rtol=1e-9, atol=1e-9), o


def test_classes_follow_translation_invariance():
    """Two 3x3 layers, same padding, no pooling, D = 9: per axis the outputs 0, 1,
    2..6, 7 and 8 see different paddings (radius 2): 5 x 5 classes per channel,
    the 25 interior outputs one class."""
    rng = np.random.default_rng(3)
    target = TargetCNN([ConvLayer(rng.uniform(-1, 1, (3, 3, 1, 2)), rng.uniform(-1, 1, 2),
                                  padding="same"),
                        ConvLayer(rng.uniform(-1, 1, (3, 3, 2, 1)), rng.uniform(-1, 1, 1),
                                  padding="same")], final_relu=True)
    pruned = build_network(target, n=[4, 2], rng=3)
    classes = window_classes(window_model(target, pruned, 9))
    assert len(classes) == 25
    interior = sorted(p * 9 + q for p in range(2, 7) for q in range(2, 7))
    assert interior in [sorted(m) for m in classes.values()]


def _vertex_max(target, pruned, D):
    """The largest exact error over all vertices of [0, 1]^{D x D x c0} (the three best
    by the float model replayed exactly)."""
    n = D * D * target.c0
    V = np.array(list(itertools.product((0.0, 1.0), repeat=n))).reshape(-1, D, D, target.c0)
    g = rounded_effective_network(pruned)
    err = np.abs(target.forward(V) - g.forward(V)).reshape(len(V), -1).max(axis=1)
    return max(exact_error(target, pruned, V[i], via="pruned") for i in np.argsort(-err)[:3])


def _check(target, pruned, D):
    r = worst_case(target, pruned, D, time_budget=0.2, top=2, kicks=1)  # fixed work
    assert r["lower"] == exact_error(target, pruned, r["witness"], via="pruned")
    assert np.all((r["witness"] >= 0) & (r["witness"] <= 1))
    up = Fraction(r["upper"])
    assert r["lower"] <= up
    if D * D * target.c0 <= 10:
        best = _vertex_max(target, pruned, D)
        assert best <= up, (float(best), r["upper"], r["methods"])
    return r


@settings(max_examples=12, deadline=None)
@given(two_layer_pairs(max_c=1, max_D=4))
def test_bracket_holds_every_vertex(case):
    _check(*case)


@settings(max_examples=8, deadline=None)
@given(two_layer_pairs(max_c=1, max_D=3, pools=(None, "avg")))
def test_upper_above_the_milp_optimum(case):
    target, pruned, D = case
    r = _check(target, pruned, D)
    X, _, info = milp_worst_case(target, pruned, D, node_limit=5000)
    if X is None or not info["complete"]:
        pytest.skip("the MILP stopped at its node limit: no optimum to compare with")
    assert exact_error(target, pruned, X, via="pruned") <= Fraction(r["upper"])


@settings(max_examples=10, deadline=None)
@given(cancelling_pairs(min_ell=2, max_ell=2), st.integers(2, 3))
def test_bracket_sound_when_float_kernels_are_wrong(pair, D):
    _check(*pair, D)


@pytest.mark.parametrize("pool", [None, "max", "avg"])
@pytest.mark.parametrize("where", [0, 1])
def test_bracket_covers_a_kernel_lost_to_cancellation(pool, where):
    """The exact worst case is 1 (X = 1); the float64 effective network says 0."""
    target, pruned = lost_kernel_pair(pool, where)
    r = worst_case(target, pruned, 2, time_budget=0.2)
    assert r["upper"] >= 1.0
    assert r["lower"] == exact_error(target, pruned, r["witness"], via="pruned")


def test_local_search_beats_random_vertices():
    """On a small LeNet-like pair the bracket's lower bound is at least the exact error
    of the best of 20 random vertices (the search starts nowhere near them)."""
    rng = np.random.default_rng(0)
    target = TargetCNN([ConvLayer(rng.uniform(-1, 1, (3, 3, 1, 2)), rng.uniform(-.5, .5, 2),
                                  padding="same", pool="max"),
                        ConvLayer(rng.uniform(-1, 1, (3, 3, 2, 2)), rng.uniform(-.5, .5, 2),
                                  padding="same", pool="max")], final_relu=True)
    pruned = build_network(target, n=[4, 4], rng=0)
    r = worst_case(target, pruned, 8, time_budget=2.0, kicks=20)  # fixed work
    Xs = (rng.random((20, 8, 8, 1)) < rng.random((20, 1, 1, 1))) * 1.0
    assert r["lower"] >= max(exact_error(target, pruned, X, via="pruned") for X in Xs)
    assert r["methods"]["lower"].startswith("local search")


@pytest.mark.parametrize("kw, word", [({"time_budget": 0}, "time_budget"),
                                      ({"time_budget": "1"}, "time_budget"),
                                      ({"D": 0}, "D"), ({"top": 0}, "top"),
                                      ({"replays": 1.5}, "replays"),
                                      ({"kicks": -1}, "kicks"), ({"kicks": "5"}, "kicks")])
def test_bad_arguments(kw, word):
    rng = np.random.default_rng(1)
    target = TargetCNN([ConvLayer(rng.uniform(-1, 1, (2, 2, 1, 1))),
                        ConvLayer(rng.uniform(-1, 1, (2, 2, 1, 1)))])
    pruned = build_network(target, n=[2, 2], rng=1)
    args = {"D": 3, **kw}
    D = args.pop("D")
    with pytest.raises(ValueError, match=word):
        worst_case(target, pruned, D, **args)


def test_three_layers_fall_back_to_the_vertex_search():
    rng = np.random.default_rng(2)
    target = TargetCNN([ConvLayer(rng.uniform(-1, 1, (2, 2, 1, 1)), padding="same")
                        for _ in range(3)], final_relu=False)
    pruned = build_network(target, n=[3, 3, 3], rng=2)
    r = worst_case(target, pruned, 3, time_budget=0.5)
    assert r["methods"] == {"lower": "vertex search + exact replay",
                            "upper": "interval propagation"}
    assert r["lower"] == exact_error(target, pruned, r["witness"], via="pruned")
    assert exact_error(target, pruned, np.ones((3, 3, 1)), via="pruned") <= Fraction(r["upper"])


def test_an_exhausted_budget_still_searches_one_class():
    """With no time left the first (class, sign) pair still gets one climb, so the
    bracket always has a witness to replay."""
    from slth_check.certify.bracket import window_candidates

    rng = np.random.default_rng(4)
    target = TargetCNN([ConvLayer(rng.uniform(-1, 1, (2, 2, 1, 1)), padding="same"),
                        ConvLayer(rng.uniform(-1, 1, (2, 2, 1, 1)), padding="same")])
    pruned = build_network(target, n=[2, 2], rng=4)
    cands, info = window_candidates(target, pruned, 4, 0.0, None, 0, 3)
    assert len(cands) == 1 and len(info["searched"]) == 1
    assert cands[0][1].shape == (4, 4, 1)


def test_a_given_linear_bound_is_used_not_recomputed(monkeypatch):
    """worst_case(linear=...) (the reproduction passes upper_bounds' linear bound): the
    same bracket as computing it, and linear_bound is not called again."""
    from slth_check.certify import bracket, upper_bounds

    rng = np.random.default_rng(5)
    target = TargetCNN([ConvLayer(rng.uniform(-.3, .3, (3, 3, 1, 2)), padding="same",
                                  pool="max"),
                        ConvLayer(rng.uniform(-.3, .3, (2, 2, 2, 2)), padding="same",
                                  pool="max")], final_relu=True)
    pruned = build_network(target, n=[6, 6], rng=5)
    D = 8
    ub = upper_bounds(target, pruned, D)
    assert "_linear" in ub  # two layers, linearisable: the relaxation applies
    fresh = worst_case(target, pruned, D, kicks=1, top=2)

    def no_recompute(*a, **k):
        raise AssertionError("linear_bound computed again")

    monkeypatch.setattr(bracket, "linear_bound", no_recompute)
    given_ = worst_case(target, pruned, D, kicks=1, top=2,
                        linear=(ub["linear_bound"], ub["_linear"]))
    assert given_["upper"] == fresh["upper"] and given_["lower"] == fresh["lower"]
    assert given_["methods"] == fresh["methods"]


def _classes_by_key(model):
    out: dict[str, list[int]] = {}
    for o in range(model["g2"].shape[0]):
        out.setdefault(window(model, o).key(), []).append(o)
    return list(out.values())


@settings(max_examples=15, deadline=None)
@given(two_layer_pairs(max_c=2, max_D=6))
def test_classes_are_those_of_the_window_digests(case):
    """window_classes (sparse digests) groups the outputs exactly as Window.key does."""
    target, pruned, D = case
    model = window_model(target, pruned, D)
    assert list(window_classes(model).values()) == _classes_by_key(model)


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_classes_with_zero_taps(zero):
    """Kernels with taps that are exactly zero (of either sign): the same classes as the
    dense digests (an explicit zero stored or not, a signed zero told apart)."""
    rng = np.random.default_rng(11)
    K1, K2 = rng.uniform(-1, 1, (3, 3, 1, 2)), rng.uniform(-1, 1, (2, 2, 2, 1))
    K1[0, :, 0, 0], K2[1, 1, 1, 0] = zero, zero
    target = TargetCNN([ConvLayer(K1, rng.uniform(-1, 1, 2), padding="same"),
                        ConvLayer(K2, rng.uniform(-1, 1, 1), padding="same")],
                       final_relu=True)
    pruned = build_network(target, n=[4, 2], rng=3)
    model = window_model(target, pruned, 7)
    assert list(window_classes(model).values()) == _classes_by_key(model)


def test_a_stored_signed_zero_is_a_zero_as_in_the_dense_windows():
    """One stored zero of layer 1's matrix made -0.0: the dense windows hold +0.0 there
    (toarray adds it to +0.0), so the classes stay those of the dense digests."""
    rng = np.random.default_rng(12)
    K1 = rng.uniform(-1, 1, (3, 3, 1, 1))
    K1[1, 1, 0, 0] = 0.0
    target = TargetCNN([ConvLayer(K1, padding="same"),
                        ConvLayer(rng.uniform(-1, 1, (2, 2, 1, 1)), padding="same")])
    pruned = build_network(target, n=[4, 2], rng=4)
    model = window_model(target, pruned, 8)
    before = len(window_classes(model))
    M = model["M1"][0]
    zeros = np.flatnonzero(M.data.view(np.uint64) == 0)
    assert zeros.size  # the zero tap is stored
    middle = int(np.searchsorted(M.indptr, M.data.size // 2)) - 1  # a row near the centre
    j = zeros[(zeros >= M.indptr[middle]) & (zeros < M.indptr[middle + 1])][0]
    M.data[j] = -0.0
    classes = list(window_classes(model).values())
    assert classes == _classes_by_key(model)
    assert len(classes) == before
