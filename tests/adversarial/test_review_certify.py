"""Adversarial review (advcert) of the certified worst case (:mod:`slth_check.certify`):
the LP dual bound (:func:`~slth_check.certify.window_lp.dual_bound`), the branch and
bound's checkpoints (:mod:`~slth_check.certify.branch_state`) and the bracket's
bounds.  Each test is an input on which a bound was once wrong (an ``upper`` below an
exact value, or a ``lower`` that is not the exact error of an input of the box) or the
code failed badly; the truths are computed in Fractions, never by the code under test.
"""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

from slth_check.certify import branch_and_bound, exact_error
from slth_check.certify.window_lp import dual_bound
from slth_check.fileio.files import sealed_npz_bytes
from slth_check.network import ConvLayer, TargetCNN
from slth_check.pruned import PrunedCNN, PrunedLayer

# ------------------------------------------------------------------ dual_bound


def test_dual_bound_on_a_sparse_matrix_with_duplicate_entries():
    """scipy's COO (and non-canonical CSR) matrices mean the *sum* of duplicate entries.
    ``csr_matrix`` sums them in float64: 1 + 1000 (-5e-17) becomes 1.0, while the
    exact coefficient is 1 - 5e-14.  On ``(1 - 5e-14) v <= 1, v in [0, 2]`` the
    maximum of ``v`` is ``1 / (1 - 5e-14) > 1 + 4e-14``; the bound of the rounded
    row (about ``1 + 2e-15``) was below it.  A sound answer: a bound above the exact
    maximum, or a refusal naming ``G``."""
    k = 1000
    G = sp.coo_matrix((np.r_[1.0, np.full(k, -5e-17)], (np.zeros(k + 1, int),
                                                         np.zeros(k + 1, int))), shape=(1, 1))
    exact_max = 1 / (Fraction(1) + k * Fraction(-5e-17))
    try:
        b = dual_bound(np.ones(1), G, np.ones(1), np.ones(1), np.zeros(1), np.full(1, 2.0))
    except ValueError as exc:
        assert "G" in str(exc)
        return
    assert Fraction(b) >= exact_max


# ------------------------------------------------------------------ checkpoints


def _emulating_layer(K, b, pool, rng):
    """A linearisable pruned layer whose effective kernel is ``K`` (and bias ``b``) with
    about a tenth of random noise: one hidden channel per kernel entry."""
    d, _, c0, c1 = K.shape
    n = d * d * c0 + 1
    U, V = np.zeros((d, d, c0, n)), np.zeros((1, 1, n, c1))
    for t, (i, j, c) in enumerate(itertools.product(range(d), range(d), range(c0))):
        U[i, j, c, t], V[0, 0, t] = 1.0, K[i, j, c]
    Ub, V[0, 0, n - 1] = np.eye(n)[n - 1], b
    V = V * (1 + rng.uniform(-.3, .3, V.shape))
    return PrunedLayer(U, V, np.ones(U.shape, bool), np.ones(V.shape, bool), Ub,
                       np.ones(n, bool), padding="same", pool=pool)


def _pair():
    rng = np.random.default_rng(3)
    K1, b1 = rng.uniform(-1, 1, (3, 3, 1, 1)), rng.uniform(-.5, .5, 1)
    K2, b2 = rng.uniform(-1, 1, (3, 3, 1, 1)), rng.uniform(-.5, .5, 1)
    target = TargetCNN([ConvLayer(K1, b1, padding="same", pool="max"),
                        ConvLayer(K2, b2, padding="same")])
    pruned = PrunedCNN([_emulating_layer(K1, b1, "max", rng), _emulating_layer(K2, b2, None, rng)])
    return target, pruned


def _reseal(path, edit):
    """Load a checkpoint's arrays, edit them, and seal them again (the seal is a plain
    SHA-256 of the arrays: anyone can recompute it)."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "sha256"}
    edit(arrays)
    path.write_bytes(sealed_npz_bytes(arrays))


def _best_vertex(target, pruned, D):
    """The largest exact error over the 0/1 inputs (D x D x 1) and one of them: a lower
    bound of the true supremum computed without the code under test's bounds."""
    V = [np.array(b, float).reshape(D, D, 1) for b in itertools.product((0, 1), repeat=D * D)]
    f = target.forward(np.stack(V))
    g = pruned.forward(np.stack(V))
    err = np.abs(f - g).reshape(len(V), -1).max(axis=1)
    best = max((exact_error(target, pruned, V[i], via="pruned"), i) for i in
               np.argsort(-err)[:4])
    return best[0], V[best[1]]


def test_a_resealed_checkpoint_witness_outside_the_box_is_refused(tmp_path):
    """The witness of a checkpoint is replayed exactly, but it was never checked to lie
    in ``[0, 1]^{D x D x c0}``: a witness scaled by 1000 (sealed again) gave a ``lower``
    (and so an ``upper``) far above the true supremum over the box."""
    target, pruned = _pair()
    D = 3
    ck = tmp_path / "bnb.npz"
    fresh = branch_and_bound(target, pruned, D, time_budget=1e-9, checkpoint=ck)
    _, X = _best_vertex(target, pruned, D)
    assert exact_error(target, pruned, 1000 * X, via="pruned") > Fraction(fresh["upper"])

    def outside(a):
        a["witness"] = 1000 * X

    _reseal(ck, outside)
    try:
        r = branch_and_bound(target, pruned, D, time_budget=1e-9, checkpoint=ck)
    except ValueError as exc:
        assert "checkpoint" in str(exc)
        return
    assert r["lower"] <= Fraction(fresh["upper"]), "lower above a sound upper bound"


@pytest.mark.parametrize("how", ["lowered", "dropped"])
def test_a_resealed_checkpoint_with_lowered_or_dropped_nodes(tmp_path, how):
    """A first run stopped before any node (witness X = 0), its checkpoint's open nodes
    then lowered to -1 (or removed) and sealed again: the resumed run claimed a proof
    with ``upper`` = the error at X = 0, below the exact error of a 0/1 input.  Now the
    checkpoint's HMAC under the user's key (branch_state.checkpoint_key) does not verify
    and it is refused."""
    target, pruned = _pair()
    D = 3
    ck = tmp_path / "bnb.npz"
    branch_and_bound(target, pruned, D, time_budget=1e-9, checkpoint=ck)

    def edit(a):
        if how == "lowered":
            a["bound"] = np.full_like(a["bound"], -1.0)
        else:
            for k in ("bound", "v"):
                a[k] = np.zeros(0)
            for k in ("item", "fix_len", "v_len"):
                a[k] = np.zeros(0, np.int64)
            a["fix"] = np.zeros(0, np.int8)
        meta = json.loads(str(a["meta"]))
        a["meta"] = np.array(json.dumps(meta))

    _reseal(ck, edit)
    truth_below, _ = _best_vertex(target, pruned, D)
    try:
        r = branch_and_bound(target, pruned, D, time_budget=1e-9, checkpoint=ck)
    except ValueError as exc:
        assert "checkpoint" in str(exc)
        return
    assert truth_below <= Fraction(r["upper"]), (float(truth_below), r["upper"], r["proved"])


# ------------------------------------------------------------------ huge weights


def _huge_pair(scale=1e155):
    rng = np.random.default_rng(0)
    K1, b1 = rng.uniform(-1, 1, (3, 3, 1, 1)) * scale, rng.uniform(-1, 1, 1) * scale
    K2 = rng.uniform(-1, 1, (3, 3, 1, 1)) * scale
    target = TargetCNN([ConvLayer(K1, b1, padding="same", pool="max"),
                        ConvLayer(K2, np.zeros(1), padding="same")])
    pruned = PrunedCNN([_emulating_layer(K1, b1, "max", rng),
                        _emulating_layer(K2, np.zeros(1), None, rng)])
    return target, pruned


@pytest.mark.parametrize("entry", ["upper_bounds", "worst_case", "branch_and_bound"])
def test_weights_near_the_float_range_are_one_clear_error_not_a_crash(entry):
    """Weights of 1e155 (the products overflow): the enclosures held inf - inf = NaN.
    Not a false bound, but every entry point died with ``cannot convert NaN (or
    Infinity) to integer ratio``; now ``check_pair`` refuses the pair first, naming the
    network whose activations may leave the range the bounds need."""
    from slth_check.certify import upper_bounds, worst_case

    target, pruned = _huge_pair()
    D = 4
    with pytest.raises(ValueError, match="^target: its activations .* may reach"):
        if entry == "upper_bounds":
            upper_bounds(target, pruned, D)
        elif entry == "worst_case":
            worst_case(target, pruned, D, time_budget=1.0, kicks=1)
        else:
            branch_and_bound(target, pruned, D, time_budget=1e-9)
    small, pruned_small = _huge_pair(1e40)  # large but inside the range: answered
    up = upper_bounds(small, pruned_small, D)["upper"]
    X = np.ones((D, D, 1))
    assert exact_error(small, pruned_small, X, via="pruned") <= Fraction(up)
