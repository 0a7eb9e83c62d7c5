"""The sample counts n of Lemma 1, Lemma 2 and Theorem 1, checked against values computed by hand.

Formulas (STATEMENTS.md; log is the natural logarithm):

* Lemma 1:   ``n >= C log(d^2 c / eps)``
* Lemma 2:   ``n >= C c1 log(d^2 c0 c1 / eps)``
* Theorem 1: ``n_i >= C c_i log(d_i^2 c_{i-1} c_i ell / min(eps, delta))``

:func:`slth_check.construction.required_n` returns the smallest integer meeting
the bound, and never fewer than ``c1`` samples (Lemma 2 splits the n samples
into c1 blocks of ``n // c1``).  The expected values below are the ceilings of
the hand arithmetic in the comments, not outputs of the code under test; each
case is chosen so that its bound has a fractional part far from 0 and from 1,
so ``floor``, ``round``, ``+1`` and half-value variants all give other numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from slth_check.construction import block_mask, build_network, required_n
from slth_check.network import TargetCNN


@pytest.mark.parametrize(("args", "expected"), [
    # Lemma 1 (c0 = c, c1 = 1, ell = 1, delta = eps):
    # C=1, d=10, c=1, eps=1/2: ln(100*1/0.5) = ln 200 = 5.2983 -> ceil 6
    ((1.0, 10, 1, 1, 1, 0.5), 6),
    # C=10, d=1, c=1, eps=1/2: 10 ln 2 = 10 * 0.693147 = 6.9315 -> ceil 7
    ((10.0, 1, 1, 1, 1, 0.5), 7),
    # C=3, d=3, c=1, eps=1/2: 3 ln 18 = 3 * 2.890372 = 8.6711 -> ceil 9
    ((3.0, 3, 1, 1, 1, 0.5), 9),
    # C=2, d=2, c=5, eps=0.1: 2 ln(4*5/0.1) = 2 ln 200 = 2 * 5.298317 = 10.5966 -> ceil 11
    ((2.0, 2, 5, 1, 1, 0.1), 11),
])
def test_lemma1_n_by_hand(args, expected):
    assert required_n(*args) == expected


@pytest.mark.parametrize(("args", "expected"), [
    # Lemma 2: C=2, d=3, c0=2, c1=4, eps=0.1:
    # 2*4*ln(9*2*4/0.1) = 8 ln 720 = 8 * 6.579251 = 52.6340 -> ceil 53
    ((2.0, 3, 2, 4, 1, 0.1), 53),
    # C=1, d=1, c0=1, c1=2, eps=0.4: 1*2*ln(1*1*2/0.4) = 2 ln 5 = 2 * 1.609438 = 3.2189 -> ceil 4
    ((1.0, 1, 1, 2, 1, 0.4), 4),
    # C=5, d=2, c0=3, c1=2, eps=0.25: 5*2*ln(4*3*2/0.25) = 10 ln 96
    #   = 10 * 4.564348 = 45.6435 -> ceil 46
    ((5.0, 2, 3, 2, 1, 0.25), 46),
])
def test_lemma2_n_by_hand(args, expected):
    assert required_n(*args) == expected


@pytest.mark.parametrize(("args", "expected"), [
    # Theorem 1, delta < eps (min picks delta): C=2, d=3, c0=2, c1=4, ell=3, eps=0.1, delta=0.01:
    # 2*4*ln(9*2*4*3/0.01) = 8 ln 21600 = 8 * 9.980449 = 79.8436 -> ceil 80
    ((2.0, 3, 2, 4, 3, 0.1, 0.01), 80),
    # Theorem 1, delta > eps (min picks eps): C=2, d=3, c0=2, c1=4, ell=3, eps=0.01, delta=0.1:
    # the same 8 ln 21600 = 79.8436 -> ceil 80
    ((2.0, 3, 2, 4, 3, 0.01, 0.1), 80),
    # ell only: C=1, d=1, c0=1, c1=1, ell=7, eps=0.5: ln(7/0.5) = ln 14 = 2.639057 -> ceil 3
    ((1.0, 1, 1, 1, 7, 0.5, 0.5), 3),
    # C=3, d=2, c0=2, c1=3, ell=2, eps=0.3, delta=0.2:
    # 3*3*ln(4*2*3*2/0.2) = 9 ln 240 = 9 * 5.480639 = 49.3258 -> ceil 50
    ((3.0, 2, 2, 3, 2, 0.3, 0.2), 50),
])
def test_theorem1_n_by_hand(args, expected):
    assert required_n(*args) == expected


def test_n_is_never_below_c1():
    # C=0.5, d=1, c0=1, c1=3, eps=0.9: 0.5*3*ln(3/0.9) = 1.5 * 1.203973 = 1.8060 -> ceil 2,
    # but three output channels need three blocks of n // 3 >= 1 samples: n = 3
    assert required_n(0.5, 1, 1, 3, 1, 0.9) == 3
    # one above the formula's value stays the formula's: C=1, d=1, c0=1, c1=2, eps=0.4 -> 4 > 2
    assert required_n(1.0, 1, 1, 2, 1, 0.4) == 4


def test_n_grows_with_every_factor():
    """Monotonicity, a property of the formula: more of d, c0, c1, ell, C or less of eps, delta
    never lowers n (checked on a case with a large margin)."""
    base = (2.0, 3, 2, 4, 3, 0.1, 0.05)
    n0 = required_n(*base)
    for i, bigger in [(0, 4.0), (1, 5), (2, 6), (3, 8), (4, 30), (5, 0.001), (6, 0.001)]:
        args = list(base)
        args[i] = bigger
        assert required_n(*args) > n0, (i, bigger)


def test_build_network_uses_the_formula_per_layer():
    # Two layers (ell = 2): kernels (d, d, c0, c1) = (3, 3, 1, 2) and (2, 2, 2, 1); C=1, eps=0.5.
    # layer 1: 1*2*ln(9*1*2*2/0.5) = 2 ln 72 = 2 * 4.276666 = 8.5533 -> ceil 9
    # layer 2: 1*1*ln(4*2*1*2/0.5) = ln 32 = 3.465736 -> ceil 4
    K1 = [[[[0.1, -0.1]] for _ in range(3)] for _ in range(3)]
    K2 = [[[[0.1], [0.1]] for _ in range(2)] for _ in range(2)]
    net = build_network(TargetCNN.from_kernels([K1, K2]), C=1.0, eps=0.5, rng=0)
    assert [layer.U.shape[3] for layer in net.layers] == [9, 4]


@pytest.mark.parametrize(("args", "match"), [
    ((0.0, 3, 1, 1, 1, 0.5), "C: expected a positive constant"),
    ((-1.0, 3, 1, 1, 1, 0.5), "C: expected a positive constant"),
    ((1.0, 3, 1, 1, 1, 0.0), "eps: expected 0 < eps < 1"),
    ((1.0, 3, 1, 1, 1, 1.0), "eps: expected 0 < eps < 1"),
    ((1.0, 3, 1, 1, 1, 0.5, 0.0), "delta: expected 0 < delta < 1"),
    ((1.0, 3, 1, 1, 1, 0.5, -0.5), "delta: expected 0 < delta < 1"),
    ((1.0, 3, 1, 1, 1, 0.5, 1.0), "delta: expected 0 < delta < 1"),
    ((1.0, 3, 1, 1, 1, 0.5, 2.0), "delta: expected 0 < delta < 1"),
])
def test_out_of_range_parameters_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        required_n(*args)


def test_hand_values_are_ceilings_of_the_formula():
    """The constants in the comments above, recomputed with math.log (a check of the comments)."""
    assert math.ceil(8 * math.log(720)) == 53
    assert math.ceil(8 * math.log(21600)) == 80
    assert math.ceil(9 * math.log(240)) == 50


@pytest.mark.parametrize(("n", "c1", "blocks"), [
    # n' = n // c1 samples per output channel; the last n mod c1 samples belong to no block
    (2, 2, [[0], [1]]),           # n = c1: one sample each
    (3, 1, [[0, 1, 2]]),          # Lemma 1: one block of all n
    (5, 2, [[0, 1], [2, 3]]),     # n' = 2, sample 4 pruned
    (7, 3, [[0, 1], [2, 3], [4, 5]]),
])
def test_block_mask_by_hand(n, c1, blocks):
    T = block_mask(n, c1)
    assert T.shape == (1, 1, n, c1) and T.dtype == bool
    assert [np.flatnonzero(T[0, 0, :, l]).tolist() for l in range(c1)] == blocks


@pytest.mark.parametrize(("n", "c1"), [(1, 2), (3, 0), (3, -1), (0, 0)])
def test_block_mask_refuses_too_few_samples(n, c1):
    with pytest.raises(ValueError, match="n: expected n >= c1"):
        block_mask(n, c1)
