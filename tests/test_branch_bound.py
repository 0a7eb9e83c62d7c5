"""branch_and_bound (certify.branch) and its LP node bounds (certify.window_lp).

* ``dual_bound`` is sound for *any* multipliers: above ``c.v`` at every feasible
  point tried (exact Fractions), whatever ``y`` (negative entries included).
* The bracket contains the exact supremum where the MILP gives it (no pooling),
  and on max-pooled pairs ``upper`` is above the exact error of every vertex;
  ``lower`` is the exact replay of ``witness`` through the pruned network itself.
* A run continues from its checkpoint; another pair's, or an edited, checkpoint is
  refused; bad arguments get one clear error naming them.
"""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings

from slth_check.certify import branch_and_bound, exact_error, milp_worst_case
from slth_check.certify.branch import split_node
from slth_check.certify.exact import exact_effective_forward, rounded_effective_network
from slth_check.certify.window_lp import dual_bound, lp_model, lp_window, node_bound, root_ranges
from slth_check.construction import build_network
from slth_check.fileio.files import npz_bytes
from slth_check.network import ConvLayer, TargetCNN
from slth_check.testing.strategies import cancelling_pairs


def _pair(seed: int, pool: str | None, c: int = 2):
    rng = np.random.default_rng(seed)
    target = TargetCNN([ConvLayer(rng.uniform(-1, 1, (3, 3, 1, c)), rng.uniform(-.5, .5, c),
                                  padding="same", pool=pool),
                        ConvLayer(rng.uniform(-1, 1, (3, 3, c, 2)), rng.uniform(-.5, .5, 2),
                                  padding="same", pool=pool)], final_relu=bool(seed % 2))
    return target, build_network(target, n=[2 * c, 4], rng=seed)


def _frac_dot(a: np.ndarray, b: np.ndarray) -> Fraction:
    return sum((Fraction(float(x)) * Fraction(float(y)) for x, y in zip(a, b)), Fraction(0))


@pytest.mark.parametrize("seed", range(6))
def test_dual_bound_holds_for_any_multipliers(seed):
    rng = np.random.default_rng(seed)
    m, n = 6, 4
    G = rng.normal(size=(m, n))
    v0 = rng.uniform(0, 1, n)
    h = G @ v0 + rng.uniform(0, .5, m)
    lo, hi = np.zeros(n), np.ones(n)
    pts = [v0] + list(rng.uniform(0, 1, (2000, n)))
    feas = [v for v in pts if all(_frac_dot(G[i], v) <= Fraction(float(h[i])) for i in range(m))]
    y_neg = -rng.exponential(size=m)
    # c = G^T y with y < 0: the box term vanishes and y.h alone would be below c.v0
    for c in (rng.normal(size=n), G.T @ y_neg):
        best = max(_frac_dot(c, v) for v in feas)
        for y in (np.zeros(m), rng.exponential(size=m), rng.normal(size=m) * 3, y_neg):
            assert Fraction(dual_bound(c, sp.csr_matrix(G), h, y, lo, hi)) >= best


def _check(target, pruned, D, budget=0.5, search=0.1):
    r = branch_and_bound(target, pruned, D, time_budget=budget, search_seconds=search,
                         replay_every=2.0)
    assert r["lower"] == exact_error(target, pruned, r["witness"], via="pruned")
    assert r["lower"] <= Fraction(r["upper"])
    return r


@pytest.mark.parametrize("seed", [0, 1, 2, 5])
def test_bracket_contains_the_milp_optimum(seed):
    """With no search and a short budget the lower end stays below the optimum, so the
    upper end is the open nodes' bounds and must still hold it."""
    target, pruned = _pair(seed, None)
    r = _check(target, pruned, 3, budget=0.05, search=0.0)
    X, _, info = milp_worst_case(target, pruned, 3, node_limit=5000)
    if X is None or not info["complete"]:
        pytest.skip("the MILP stopped at its node limit: no optimum to compare with")
    assert exact_error(target, pruned, X, via="pruned") <= Fraction(r["upper"])


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_upper_above_every_vertex_with_max_pooling(seed):
    target, pruned = _pair(seed, "max", c=1)
    D = 4
    r = _check(target, pruned, D)
    V = np.array(list(itertools.product((0.0, 1.0), repeat=D * D))).reshape(-1, D, D, 1)
    g = rounded_effective_network(pruned)
    err = np.abs(target.forward(V) - g.forward(V)).reshape(len(V), -1).max(axis=1)
    best = max(exact_error(target, pruned, V[i], via="pruned") for i in np.argsort(-err)[:3])
    assert best <= Fraction(r["upper"])


def test_run_continues_from_its_checkpoint(tmp_path):
    target, pruned = _pair(1, "max")
    ck = tmp_path / "bnb.npz"
    first = branch_and_bound(target, pruned, 4, time_budget=0.6, checkpoint=ck,
                             search_seconds=0.1, replay_every=1.0)
    assert ck.exists()
    second = branch_and_bound(target, pruned, 4, time_budget=0.6, checkpoint=ck,
                              search_seconds=0.1, replay_every=1.0)
    # the checkpoint's counts are carried on (never fewer than the first run's)
    assert second["nodes"] >= first["nodes"] and second["total_seconds"] >= first["seconds"]
    assert second["lower"] >= first["lower"]  # the witness was replayed, not trusted
    other, pruned2 = _pair(2, "max")
    with pytest.raises(ValueError, match="checkpoint"):
        branch_and_bound(other, pruned2, 4, time_budget=1.0, checkpoint=ck)
    with np.load(ck, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta["seconds"] += 1.0  # an edited number, the old seal kept
    arrays["meta"] = np.array(json.dumps(meta))
    ck.write_bytes(npz_bytes(arrays))
    with pytest.raises(ValueError, match="checkpoint"):
        branch_and_bound(target, pruned, 4, time_budget=1.0, checkpoint=ck)


def test_a_checkpoint_needs_the_key_it_was_written_under(tmp_path, monkeypatch):
    """A checkpoint is refused under another user's key (the HMAC in its meta), resumed
    under its own; a key file of the wrong size is refused naming it."""
    target, pruned = _pair(1, "max")
    ck = tmp_path / "bnb.npz"
    monkeypatch.setenv("SLTH_CHECK_CHECKPOINT_KEY", str(tmp_path / "mine.key"))
    branch_and_bound(target, pruned, 4, time_budget=0.2, checkpoint=ck, search_seconds=0.05)
    key = (tmp_path / "mine.key").read_bytes()
    assert len(key) == 32 and (tmp_path / "mine.key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("SLTH_CHECK_CHECKPOINT_KEY", str(tmp_path / "theirs.key"))
    with pytest.raises(ValueError, match="checkpoint key"):
        branch_and_bound(target, pruned, 4, time_budget=0.2, checkpoint=ck)
    monkeypatch.setenv("SLTH_CHECK_CHECKPOINT_KEY", str(tmp_path / "mine.key"))
    again = branch_and_bound(target, pruned, 4, time_budget=0.2, checkpoint=ck,
                             search_seconds=0.05)
    assert again["total_seconds"] > again["seconds"]  # it resumed
    monkeypatch.delenv("SLTH_CHECK_CHECKPOINT_KEY")  # the default: in the user cache
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="checkpoint key"):  # a fresh key is not mine
        branch_and_bound(target, pruned, 4, time_budget=0.2, checkpoint=ck)
    assert len((tmp_path / "cache" / "slth-check" / "checkpoint.key").read_bytes()) == 32
    (tmp_path / "short.key").write_bytes(b"x" * 31)
    monkeypatch.setenv("SLTH_CHECK_CHECKPOINT_KEY", str(tmp_path / "short.key"))
    with pytest.raises(ValueError, match="short.key"):
        branch_and_bound(target, pruned, 4, time_budget=0.2, checkpoint=ck)


@pytest.mark.parametrize("kw, word", [({"time_budget": 0}, "time_budget"),
                                      ({"time_budget": "1"}, "time_budget")])
def test_bad_arguments_are_named(kw, word):
    target, pruned = _pair(0, None)
    with pytest.raises(ValueError, match=word):
        branch_and_bound(target, pruned, 3, **kw)


def test_average_pooling_is_refused():
    rng = np.random.default_rng(0)
    target = TargetCNN([ConvLayer(rng.uniform(-1, 1, (3, 3, 1, 1)), pool="avg"),
                        ConvLayer(rng.uniform(-1, 1, (3, 3, 1, 1)))])
    pruned = build_network(target, n=[2, 2], rng=0)
    with pytest.raises(ValueError, match="target"):
        branch_and_bound(target, pruned, 4, time_budget=1.0)


def _exact_output_pair(rng: np.random.Generator, seed: int):
    """Max pooling on layer 1 only, no final ReLU: output o of f - g is ``e2_o`` itself."""
    target = TargetCNN([ConvLayer(rng.uniform(-1, 1, (3, 3, 1, 2)), rng.uniform(-.5, .5, 2),
                                  padding="same", pool="max"),
                        ConvLayer(rng.uniform(-1, 1, (3, 3, 2, 1)), rng.uniform(-.5, .5, 1),
                                  padding="same")], final_relu=False)
    return target, build_network(target, n=[4, 2], rng=seed)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_node_bound_above_every_point_of_its_region(seed):
    """No final ReLU and no last pooling: output o is ``e2_o = f_o - g_o``, exact.  A
    node fixing the pooling choices that X itself makes (clear margins only) holds
    X, so its bound of ``s e2_o`` is at least the exact ``s (f_o - g_o)(X)``."""
    rng = np.random.default_rng(seed)
    target, pruned = _exact_output_pair(rng, seed)
    D = 6
    model = lp_model(target, pruned, D)
    for t in range(4):
        X = rng.uniform(0, 1, (D, D, 1)) if t else (rng.random((D, D, 1)) < .5) * 1.0
        diff = target.forward_exact(X) - exact_effective_forward(pruned, X)
        for o in rng.choice(diff.size, 3, replace=False):
            w = lp_window(model, int(o))
            x = X.ravel()[w.inp]
            fix = np.full((2, w.opt.shape[0]), -1, np.int8)
            for net, (M, b) in enumerate(((w.Kf, w.bf), (w.Lf, w.bg))):
                a = M @ x + b
                vals = np.where(w.opt >= 0, a[np.where(w.opt >= 0, w.opt, 0)], 0.0)
                top = np.sort(vals, axis=1)
                keep = rng.random(len(vals)) < (.7 if t < 2 else 1.0)
                clear = (top[:, -1] - top[:, -2] > 1e-6) & keep
                fix[net, clear] = np.argmax(vals, axis=1)[clear]
            for s in (1.0, -1.0):
                b, _ = node_bound(w, root_ranges(w), fix, s, 0)
                assert Fraction(b) >= s * diff.ravel()[o], (o, s, b)


def test_a_bad_witness_is_named():
    target, pruned = _pair(0, None)
    with pytest.raises(ValueError, match="witness"):
        branch_and_bound(target, pruned, 3, time_budget=1.0, witness=np.full((3, 3, 1), 2.0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_children_cover_the_parent(seed):
    """Every point of the parent's box lies in a child (the option it makes at the
    split unit is one of the children's) whose bound is at least its exact error."""
    rng = np.random.default_rng(seed)
    target, pruned = _exact_output_pair(rng, seed)
    D = 6
    model = lp_model(target, pruned, D)
    o = int(rng.integers(model["grp2"].shape[0]))
    w = lp_window(model, o)
    r = root_ranges(w)
    for s in (1.0, -1.0):
        fix = np.full((2, w.opt.shape[0]), -1, np.int8)
        _, v = node_bound(w, r, fix, s, 0)
        kids = split_node(w, r, fix, v, s, 0)
        assert kids
        net, i = (int(a[0]) for a in np.nonzero(kids[0][1] != fix))
        for t in range(40):
            X = rng.uniform(0, 1, (D, D, 1)) if t % 2 else (rng.random((D, D, 1)) < .5) * 1.0
            M, b = (w.Kf, w.bf) if net == 0 else (w.Lf, w.bg)
            a = M @ X.ravel()[w.inp] + b
            vals = np.where(w.opt[i] >= 0, a[np.where(w.opt[i] >= 0, w.opt[i], 0)], 0.0)
            if np.sort(vals)[-1] - np.sort(vals)[-2] < 1e-6:
                continue  # a near tie: the point lies on the children's common border
            mine = [k for k in kids if k[1][net, i] == int(np.argmax(vals))]
            assert mine, (s, t)
            e = target.forward_exact(X) - exact_effective_forward(pruned, X)
            assert Fraction(mine[0][0]) >= s * e.ravel()[o]


@settings(max_examples=10, deadline=None)
@given(cancelling_pairs(min_ell=2, max_ell=2))
def test_bracket_sound_when_float_kernels_are_wrong(pair):
    """g's float64 effective kernels lose what the exact ones keep: every vertex's exact
    error stays below ``upper`` (the radii of Eq. 2's products carried through)."""
    target, pruned = pair
    assume(target.layers[1].pool != "avg")
    D = 2
    r = _check(target, pruned, D, budget=0.2)
    V = np.array(list(itertools.product((0.0, 1.0), repeat=D * D * target.c0)))
    best = max(exact_error(target, pruned, X.reshape(D, D, target.c0), via="effective")
               for X in V)
    assert best <= Fraction(r["upper"])


@settings(max_examples=15, deadline=None)
@given(cancelling_pairs(min_ell=2, max_ell=2))
def test_root_lp_bounds_every_vertex_when_float_kernels_are_wrong(pair):
    """Per output: the largest root LP bound over its window's neurons and both signs is
    at least the exact ``|f_o - g_o|`` of every vertex (no search to hide behind)."""
    target, pruned = pair
    assume(target.layers[1].pool != "avg")
    D = 2
    model = lp_model(target, pruned, D)
    V = np.array(list(itertools.product((0.0, 1.0), repeat=D * D * target.c0)))
    errs = [np.abs(target.forward_exact(X.reshape(D, D, -1))
                   - exact_effective_forward(pruned, X.reshape(D, D, -1))).ravel() for X in V]
    for o in range(model["grp2"].shape[0]):
        w = lp_window(model, o)
        fix = np.full((2, w.opt.shape[0]), -1, np.int8)
        ub = max(node_bound(w, root_ranges(w), fix, s, j)[0]
                 for s in (1.0, -1.0) for j in range(w.K2.shape[0]))
        assert max(e[o] for e in errs) <= Fraction(ub), o


def test_dual_bound_with_overflowing_multipliers_is_infinite_not_an_error():
    G = sp.csr_matrix(np.array([[1.0, -1.0], [-1.0, 1.0]]))
    b = dual_bound(np.ones(2), G, np.ones(2), np.array([1e308, 1e308]), np.zeros(2), np.ones(2))
    assert b == np.inf


def test_a_budget_spent_before_any_node_still_returns_a_replayed_witness():
    """No node is bounded (the budget is gone after the set-up): ``lower`` is still the
    exact error of a returned input, never a placeholder without one."""
    target, pruned = _pair(1, None)
    r = branch_and_bound(target, pruned, 3, time_budget=1e-9)
    assert r["nodes"] == 0 and r["witness"].shape == (3, 3, 1)
    assert r["lower"] == exact_error(target, pruned, r["witness"], via="pruned") >= 0
    assert r["lower"] <= Fraction(r["upper"]) and not r["proved"]
