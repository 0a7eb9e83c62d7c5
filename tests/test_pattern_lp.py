"""The pattern-LP ascent (certify.pattern_lp) and its use by worst_case and branch_and_bound.

* On a tiny pair (one pooled unit of 9 pixels per network) every activation
  pattern's LP is solved: each optimum's value is the float model's value at the
  optimum's input (the region and its affine pieces are the networks'), and the
  largest is at least every vertex's and every one of 20 000 random inputs' value
  (the patterns cover the box).
* From the best vertex the ascent reaches that enumerated maximum, off the vertices,
  where it is above every vertex; on larger pairs (padding, max pooling on both
  layers) it never returns less than its start, and its value is the model's.
* From a flat start (every vertex at error 0) it crosses the tight rows to the
  maximum; a pattern whose final ReLU cannot be on is an empty region.
* ``worst_case`` and ``branch_and_bound`` find that off-vertex maximum: their lower
  bound (an exact replay) is above the exact error of every vertex.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from slth_check.certify import branch_and_bound, exact_error, worst_case
from slth_check.certify.exact import rounded_effective_network
from slth_check.certify.local import window, window_classes, window_model, window_outputs
from slth_check.certify.pattern_lp import Pattern, pattern_ascent, pattern_lp, pattern_of
from slth_check.construction import build_network
from slth_check.network import ConvLayer, TargetCNN


def _tiny(seed: int):
    """3 x 3 input, a 2 x 2 kernel and 2 x 2 max pooling: one unit of 9 pixels; a 1 x 1
    second layer (ReLU at the end for odd seeds)."""
    rng = np.random.default_rng(seed)
    target = TargetCNN([ConvLayer(rng.uniform(-1, 1, (2, 2, 1, 1)), rng.uniform(-.5, .5, 1),
                                  padding="valid", pool="max"),
                        ConvLayer(rng.uniform(-1, 1, (1, 1, 1, 1)), rng.uniform(-.5, .5, 1),
                                  padding="valid")], final_relu=bool(seed % 2))
    return target, build_network(target, n=[2, 2], rng=seed)


def _value(w, s, x):
    F, G = window_outputs(w, x)
    return s * (F - G)


def _enumerated_max(w, s):
    """The largest LP value over every pattern, each checked against the model."""
    best = -np.inf
    ks = (-1, 0) if w.final_relu else (0,)
    for u0, u1, k in itertools.product(range(5), range(5), ks):
        got = pattern_lp(w, s, Pattern((np.array([u0]), np.array([u1])), k))
        if got is not None:
            assert got[1] == pytest.approx(float(_value(w, s, got[0])[0]), abs=1e-9)
            best = max(best, got[1])
    return best


_VERTICES = np.array(list(itertools.product((0.0, 1.0), repeat=9))).T  # columns


# seeds 4, 8, 21, 33 (their sign s) and 9: the maximum is off the vertices; 10: at one
@pytest.mark.parametrize(("seed", "s"), [(4, 1.0), (9, -1.0), (21, -1.0), (10, -1.0)])
def test_every_pattern_lp_is_exact_and_they_cover_the_box(seed, s):
    w = window(window_model(*_tiny(seed), 3), 0)
    best = _enumerated_max(w, s)
    pts = np.random.default_rng(seed).random((9, 20000))
    assert best >= _value(w, s, pts).max() - 1e-12
    assert best >= _value(w, s, _VERTICES).max() - 1e-12


@pytest.mark.parametrize(("seed", "s"), [(4, 1.0), (9, -1.0), (8, 1.0), (21, -1.0), (33, 1.0)])
def test_ascent_reaches_the_maximum_off_the_vertices(seed, s):
    w = window(window_model(*_tiny(seed), 3), 0)
    vals = _value(w, s, _VERTICES)
    x, v = pattern_ascent(w, s, _VERTICES[:, int(np.argmax(vals))])
    assert v == pytest.approx(_enumerated_max(w, s), abs=1e-9)
    assert v > vals.max() + 1e-4
    assert v == pytest.approx(float(_value(w, s, x)[0]), abs=1e-12)
    assert np.all((x >= 0) & (x <= 1))


@pytest.mark.parametrize("seed", range(3))
def test_ascent_never_loses_on_padded_max_pooled_pairs(seed):
    rng = np.random.default_rng(seed)
    target = TargetCNN([ConvLayer(rng.uniform(-1, 1, (3, 3, 1, 2)), rng.uniform(-.5, .5, 2),
                                  padding="same", pool="max"),
                        ConvLayer(rng.uniform(-1, 1, (3, 3, 2, 2)), rng.uniform(-.5, .5, 2),
                                  padding="same", pool="max")], final_relu=bool(seed % 2))
    model = window_model(target, build_network(target, n=[4, 4], rng=seed), 8)
    gains = []
    for members in list(window_classes(model).values())[:3]:
        w = window(model, members[0])
        for s in (1.0, -1.0):
            x0 = (rng.random(w.inp.size) < 0.5).astype(float)
            start = float(_value(w, s, x0)[0])
            first = pattern_lp(w, s, pattern_of(w, s, x0))
            assert first is not None  # the start lies in its own region
            x, v = pattern_ascent(w, s, x0, seconds=5.0)
            assert v >= max(start, first[1] - 1e-9)
            assert v == pytest.approx(float(_value(w, s, x)[0]), abs=1e-12)
            assert np.all((x >= 0) & (x <= 1))
            gains.append(v - first[1])
    assert max(gains) > 1e-3  # it moves past its first region


def _one_by_one(seed: int, b2: float | None = None):
    """2 x 2 input, 1 x 1 kernels: one unit of 4 pixels, a final ReLU."""
    rng = np.random.default_rng(seed)
    K1, b1 = rng.uniform(-1, 1, (1, 1, 1, 1)), rng.uniform(-.5, .5, 1)
    K2, bias2 = rng.uniform(-1, 1, (1, 1, 1, 1)), rng.uniform(-.5, .5, 1)
    target = TargetCNN([ConvLayer(K1, b1, padding="valid", pool="max"),
                        ConvLayer(K2, bias2 if b2 is None else np.array([b2]),
                                  padding="valid")],
                       final_relu=True)
    return window(window_model(target, build_network(target, n=[2, 2], rng=seed), 2), 0)


def test_ascent_leaves_a_flat_start():
    w = _one_by_one(4)  # s = -1: every vertex has error 0, the maximum is inside
    V = np.array(list(itertools.product((0.0, 1.0), repeat=4))).T
    assert np.all(_value(w, -1.0, V) <= 0)
    best = _enumerated_max(w, -1.0)
    assert best > 0.1
    for x0 in V.T:
        assert pattern_ascent(w, -1.0, x0)[1] == pytest.approx(best, abs=1e-9)


def test_a_region_the_final_relu_cannot_reach_is_empty():
    w = _one_by_one(0, b2=-10.0)  # f's layer 2 below -9: its ReLU is always 0
    for u0, u1 in itertools.product(range(5), range(5)):  # s = +1: f's output the + one
        assert pattern_lp(w, 1.0, Pattern((np.array([u0]), np.array([u1])), 0)) is None
    assert pattern_lp(w, 1.0, pattern_of(w, 1.0, np.zeros(4))) is not None


def _exact_vertex_max(target, pruned):
    V = _VERTICES.T.reshape(-1, 3, 3, 1)
    g = rounded_effective_network(pruned)
    err = np.abs(target.forward(V) - g.forward(V)).reshape(len(V), -1).max(axis=1)
    return max(exact_error(target, pruned, V[i], via="pruned") for i in np.argsort(-err)[:3])


@pytest.mark.parametrize("seed", [4, 21, 33])  # |f - g| largest off the vertices
def test_worst_case_and_branch_and_bound_go_off_the_vertices(seed):
    target, pruned = _tiny(seed)
    top = _exact_vertex_max(target, pruned)
    r = worst_case(target, pruned, 3, time_budget=0.2, top=2, kicks=1)
    assert r["lower"] == exact_error(target, pruned, r["witness"], via="pruned")
    assert r["lower"] > top
    b = branch_and_bound(target, pruned, 3, time_budget=2.0, search_seconds=0.2)
    assert b["lower"] == exact_error(target, pruned, b["witness"], via="pruned")
    assert b["lower"] > top
    assert b["lower"] <= Fraction(b["upper"])
