"""Tests that kill mutants of slth_check.certify.interval (scripts/mutation.py).

Expected values are worked out by hand (comments) with u = 2^-53 and eta = 2^-1074 (the
smallest subnormal): near 1 the float64 spacing is 2u above 1 and u below it, so every
outward step (``round_up``, ``round_down``) moves by one spacing; sums of subnormal
multiples of eta are exact.  gamma_m = m u / (1 - m u) (Higham); float(2 gamma_m) rounds
within a relative 2^-52 of 2 m u.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from slth_check.certify.interval import (
    avg_pool_enclosure,
    conv_upper,
    effective_enclosure,
    interval_bound,
    interval_conv,
    interval_pruned,
    interval_target,
    matmul_enclosure,
    round_down,
    round_up,
)
from slth_check.network import ConvLayer, TargetCNN
from slth_check.pruned import PrunedCNN, PrunedLayer

U = 2.0 ** -53
ETA = 5e-324  # 2^-1074


def gamma(m: int) -> Fraction:
    u = Fraction(1, 2 ** 53)
    return m * u / (1 - m * u)


def one_hot(d=2, c0=3):
    W = np.zeros((d, d, c0, 1))
    W[0, 0, 0, 0] = 1.0
    return W


def test_outward_rounding_steps():
    assert round_up(1.0) == 1 + 2 * U and round_down(1.0) == 1 - U
    assert round_up(0.0) == ETA and round_down(0.0) == -ETA
    assert round_up(np.array([-1.0])).tolist() == [-1 + U]


def test_conv_upper_by_hand():
    # m = 2*2*3 = 12.  W = 0: c = 0, round_up(0) = eta, + 2 m eta = 25 eta, round_up: 26 eta
    out = conv_upper(np.zeros((2, 2, 3, 1)), np.ones((3, 3, 3)), "paper", 1)
    assert out.shape == (3, 3, 1) and (out == 26 * ETA).all()
    # one tap of 1 on X = 1 ("valid", 1 x 1 output): c = 1; 1 + 2 gamma_13 rounds to 1 + 26u;
    # c (1 + g) = 1 + 26u, round_up: 1 + 28u, + 24 eta rounds back, round_up: 1 + 30u
    out = conv_upper(one_hot(), np.ones((2, 2, 3)), "valid", 1)
    assert out.shape == (1, 1, 1) and out[0, 0, 0] == 1 + 30 * U
    # stride: the strided entries of the same bound
    assert conv_upper(np.zeros((2, 2, 3, 1)), np.ones((5, 5, 3)), "paper", 2).shape == (3, 3, 1)


def test_matmul_enclosure_by_hand():
    # n = 3.  A = 0: |A| @ |B| = 0, round_up(0) = eta, + 4 (n + 1) eta = 17 eta, round_up: 18 eta
    P, r = matmul_enclosure(np.zeros((1, 3)), np.zeros((3, 1)))
    assert P.tolist() == [[0.0]] and r.tolist() == [[18 * ETA]]
    # |A| @ |B| = 1: r is 2 gamma_5 (n + 2 = 5) rounded up three times: within 2^-49 relative
    A, B = np.array([[1.0, -2.0, 0.0]]), np.array([[1.0], [0.0], [5.0]])
    P, r = matmul_enclosure(A, B)
    assert P.tolist() == [[1.0]]
    assert 2 * gamma(5) <= Fraction(r[0, 0]) <= 2 * gamma(5) * (1 + Fraction(1, 2 ** 49))
    # a kernel-shaped A (d, d, c0, n) = (1, 1, 1, 3): n is the last axis, still 3
    P, r = matmul_enclosure(A.reshape(1, 1, 1, 3), B)
    assert P.shape == (1, 1, 1, 1)
    assert 2 * gamma(5) <= Fraction(r[0, 0, 0, 0]) <= 2 * gamma(5) * (1 + Fraction(1, 2 ** 49))


def test_avg_pool_enclosure_by_hand():
    # zeros: mag 0, slack = round_up(round_up(0) + 4 eta) = 6 eta; hi = round_up(eta + 6 eta)
    # = 8 eta, lo = round_down(-eta - 6 eta) = -8 eta
    lo, hi = avg_pool_enclosure(np.zeros((2, 2, 1)), np.zeros((2, 2, 1)))
    assert lo.tolist() == [[[-8 * ETA]]] and hi.tolist() == [[[8 * ETA]]]
    # ones: average 1, mag 1, slack = 2 gamma_4 ~ 8u (plus far less than u); hi = round_up(
    # (1 + 2u) + 8u) = 1 + 12u; lo = round_down((1 - u) - 8u) = 1 - 10u
    lo, hi = avg_pool_enclosure(np.ones((2, 2, 1)), np.ones((2, 2, 1)))
    assert lo.tolist() == [[[1 - 10 * U]]] and hi.tolist() == [[[1 + 12 * U]]]
    # the lower bound follows lo, the upper hi: [0, 2] averages to [0, 2]
    lo, hi = avg_pool_enclosure(np.zeros((2, 2, 1)), np.full((2, 2, 1), 2.0))
    assert -1e-14 < lo[0, 0, 0] < 0 and 2 < hi[0, 0, 0] < 2 + 1e-14


def test_interval_conv_by_hand():
    # W = 0, X = 0 (m = 12): mid 0, rad round_up(round_up(0) (1 + 2^-50)) = 2 eta, c = r = a = 0;
    # slack = round_up(eta + eta + 4 m eta) = 51 eta; lo = -52 eta, hi = 52 eta
    Z = np.zeros((3, 3, 3))
    lo, hi = interval_conv(np.zeros((2, 2, 3, 1)), Z, Z)
    assert lo.shape == (3, 3, 1) and (lo == -52 * ETA).all() and (hi == 52 * ETA).all()


@pytest.mark.parametrize("top", [2.0, 6.0])
def test_interval_conv_encloses_and_is_tight(top):
    # one tap of 1 on X in [0, top] ("valid"): the exact range is [0, top]; the enclosure adds
    # the documented slack: rad (1 + 2^-50) (1 + 2 gamma_14) + |mid| 2 gamma_14, each outward
    lo, hi = interval_conv(one_hot(), np.zeros((2, 2, 3)), np.full((2, 2, 3), top),
                           padding="valid")
    rad = mid = Fraction(top) / 2
    slack = rad * (1 + Fraction(1, 2 ** 50)) * (1 + 2 * gamma(14)) + mid * 2 * gamma(14)
    want_hi, want_lo = mid + slack, mid - slack
    assert want_hi <= Fraction(hi[0, 0, 0]) <= want_hi + 8 * Fraction(top) * Fraction(U)
    assert want_lo - 8 * Fraction(top) * Fraction(U) <= Fraction(lo[0, 0, 0]) <= want_lo


def test_interval_conv_one_tap_by_hand():
    # X in [0, 2], one tap of 1 ("valid"), m = 12: mid = 1, rad = round_up(1) = 1 + 2u, times
    # (1 + 2^-50) = 1 + 10u, round_up: 1 + 12u.  g = 2 gamma_14 ~ 28u: r (1 + g) = 1 + 40u,
    # round_up 1 + 42u; a g ~ 28u; sum 1 + 70u, round_up: slack = 1 + 72u.  hi = round_up(1 +
    # slack) = round_up(2 + 72u) = 2 + 76u (spacing 4u above 2); lo = round_down(1 - slack) =
    # round_down(-72u) = -(72u + 2^-99) (72u = 9 2^-50, spacing 2^-99 there)
    lo, hi = interval_conv(one_hot(), np.zeros((2, 2, 3)), np.full((2, 2, 3), 2.0),
                           padding="valid")
    assert hi[0, 0, 0] == 2 + 76 * U and lo[0, 0, 0] == -(72 * U + 2.0 ** -99)


def test_interval_conv_adds_the_kernel_radius():
    # W_rad = 2^-10 on all 12 taps, X in [1, 1]: the box widens by conv_upper(W_rad, 1) ~ 12/1024
    one = np.ones((2, 2, 3))
    lo, hi = interval_conv(one_hot(), one, one, padding="valid",
                           W_rad=np.full((2, 2, 3, 1), 2.0 ** -10))
    w = Fraction(12, 1024)
    assert 1 + w <= Fraction(hi[0, 0, 0]) <= 1 + w * (1 + Fraction(1, 10 ** 12))
    assert 1 - w * (1 + Fraction(1, 10 ** 12)) <= Fraction(lo[0, 0, 0]) <= 1 - w


def close(box, lo, hi, tol=1e-12):
    return abs(float(box[0].min()) - lo) < tol and abs(float(box[1].max()) - hi) < tol


def test_interval_target_bias_relu_and_pools():
    # X in [0, 1]; layer 1: K = 1, bias -1/4: [-1/4, 3/4], ReLU (not the last layer): [0, 3/4];
    # layer 2: K = -1: [-3/4, 0], no ReLU at the end unless final_relu
    f = TargetCNN([ConvLayer(np.ones((1, 1, 1, 1)), bias=np.array([-0.25])),
                   ConvLayer(-np.ones((1, 1, 1, 1)))])
    b1, b2 = interval_target(f, 2)
    assert close(b1, 0.0, 0.75) and close(b2, -0.75, 0.0)
    g = TargetCNN([ConvLayer(np.ones((1, 1, 1, 1)), bias=np.array([-0.25]))])
    assert close(interval_target(g, 2)[0], -0.25, 0.75)
    g = TargetCNN([ConvLayer(np.ones((1, 1, 1, 1)), bias=np.array([-0.25]))], final_relu=True)
    assert close(interval_target(g, 2)[0], 0.0, 0.75)
    # 2 x 2 kernel of ones, "paper", D = 2: entries range over [0,1], [0,2], [0,2], [0,4];
    # 2 x 2 max pooling: [0, 4]; average pooling: [0, (1 + 2 + 2 + 4) / 4] = [0, 9/4]
    for pool, top in (("max", 4.0), ("avg", 2.25)):
        h = TargetCNN([ConvLayer(np.ones((2, 2, 1, 1)), pool=pool)])
        (box,) = interval_target(h, 2)
        assert box[0].shape == (1, 1, 1) and close(box, 0.0, top), pool


def test_interval_bound_uses_the_last_layers():
    # f in [0, 1], g in [1/4, 2]: sup |f - g| <= max(1 - 1/4, 2 - 0) = 2, rounded up: 2 + 4u
    first = (np.zeros(1), np.full(1, 100.0))
    f = [first, first, (np.zeros(1), np.ones(1))]
    g = [first, first, (np.full(1, 0.25), np.full(1, 2.0))]
    assert interval_bound(f, g) == 2 + 4 * U
    # f above g: max(3 - 0, 1 - 2) = 3, rounded up: 3 + 4u
    assert interval_bound([(np.full(1, 2.0), np.full(1, 3.0))], [(np.zeros(1), np.ones(1))]) \
        == 3 + 4 * U
    # both bounds of both boxes count: f in [2, 3], g in [1/2, 1]: 3 - 1/2 = 5/2, rounded up
    # 5/2 + 4u; f in [1/4, 1], g in [0, 2]: 2 - 1/4 = 7/4, rounded up 7/4 + 2u
    assert interval_bound([(np.full(1, 2.0), np.full(1, 3.0))],
                          [(np.full(1, 0.5), np.ones(1))]) == 2.5 + 4 * U
    assert interval_bound([(np.full(1, 0.25), np.ones(1))],
                          [(np.zeros(1), np.full(1, 2.0))]) == 1.75 + 2 * U


def test_effective_enclosure_by_hand():
    # U (1, 1, 1, 3), V (1, 1, 3, 1); kept: U t = 0, 1 and V t = 0, 2: L = V0 U0 = 2 * 3 = 6
    # (t = 1 has V dropped, t = 2 has U dropped); bias Ub = (1, 5, 7) kept at t = 2 only: the
    # effective bias V2 Ub2 = 4 * 7 = 28 (Ub0 is dropped though V0 is kept)
    layer = PrunedLayer(np.array([3.0, 9.0, 8.0]).reshape(1, 1, 1, 3),
                        np.array([2.0, 5.0, 4.0]).reshape(1, 1, 3, 1),
                        np.array([True, True, False]).reshape(1, 1, 1, 3),
                        np.array([True, False, True]).reshape(1, 1, 3, 1),
                        Ub=np.array([1.0, 5.0, 7.0]), Sb=np.array([False, False, True]))
    L, L_rad, b, b_rad = effective_enclosure(layer)
    assert L.shape == (1, 1, 1, 1) and L[0, 0, 0, 0] == 6.0
    assert 0 < L_rad[0, 0, 0, 0] < 1e-13
    assert b is not None and b_rad is not None and b.tolist() == [28.0]
    assert 0 < b_rad[0] < 1e-12
    layer.Ub = layer.Sb = None
    assert effective_enclosure(layer)[2:] == (None, None)


def test_interval_pruned_paths():
    # not linearisable (a kept negative U): g = V relu(U X) per layer.  Layer 1: U = (1, -1),
    # V = (-1, 1): -relu(x) + relu(-x) = -x on [0, 1]: the box of the two ReLU outputs is
    # [0, 1] and [0, 0], so the layer is [-1, 0], then ReLU (not the last layer): [0, 0].
    # Layer 2: U = V = 1: [0, 0].
    ones = np.ones((1, 1, 1, 1))
    first = PrunedLayer(np.array([1.0, -1.0]).reshape(1, 1, 1, 2),
                        np.array([-1.0, 1.0]).reshape(1, 1, 2, 1),
                        np.ones((1, 1, 1, 2), bool), np.ones((1, 1, 2, 1), bool))
    g = PrunedCNN([first, PrunedLayer(ones, ones, ones > 0, ones > 0)])
    b1, b2 = interval_pruned(g, 2, 1)
    assert close(b1, 0.0, 0.0) and close(b2, 0.0, 0.0)
    (only,) = interval_pruned(PrunedCNN([first]), 2, 1)  # the last layer: no ReLU
    assert close(only, -1.0, 0.0)
    # dropped entries count as 0 in the two-layer path too: a third random channel with U = 7
    # or V = 9 dropped by its mask adds nothing (were it 1, it would add [0, 9] or [0, 7])
    for S3, T3 in ((False, True), (True, False)):
        third = PrunedLayer(np.array([1.0, -1.0, 7.0]).reshape(1, 1, 1, 3),
                            np.array([-1.0, 1.0, 9.0]).reshape(1, 1, 3, 1),
                            np.array([True, True, S3]).reshape(1, 1, 1, 3),
                            np.array([True, True, T3]).reshape(1, 1, 3, 1))
        (box,) = interval_pruned(PrunedCNN([third]), 2, 1)
        assert close(box, -1.0, 0.0), (S3, T3)
    # a dropped entry counts as 0: U = (1, -1) with the -1 dropped is linearisable, g = -x
    masked = PrunedLayer(first.U, first.V, np.array([True, False]).reshape(1, 1, 1, 2),
                         np.ones((1, 1, 2, 1), bool))
    (box,) = interval_pruned(PrunedCNN([masked]), 2, 1)
    assert close(box, -1.0, 0.0)
    # linearisable with biases: U = 1, V = 2, Ub = 0.5 kept: 2 (x + 0.5) on [0, 1] = [1, 3]
    lin = PrunedLayer(ones, 2 * ones, ones > 0, ones > 0, Ub=np.array([0.5]),
                      Sb=np.array([True]))
    (box,) = interval_pruned(PrunedCNN([lin]), 2, 1)
    assert close(box, 1.0, 3.0)
    # sound to the last unit: with U = 0 kept, g = 2 (0 x + 0.5) = 1 for every X; the float64
    # effective bias is only known within its radius (about 6u), which the box must keep
    flat = PrunedLayer(0 * ones, 2 * ones, ones > 0, ones > 0, Ub=np.array([0.5]),
                       Sb=np.array([True]))
    (box,) = interval_pruned(PrunedCNN([flat]), 2, 1)
    assert (box[0] <= 1.0).all() and (box[1] >= 1.0).all() and close(box, 1.0, 1.0)
    # a kept negative bias makes it not linearisable: two layers of their own
    nonlin = PrunedLayer(ones, 2 * ones, ones > 0, ones > 0, Ub=np.array([-0.5]),
                         Sb=np.array([True]))
    (box,) = interval_pruned(PrunedCNN([nonlin]), 2, 1)  # 2 relu(x - 0.5) on [0, 1]: [0, 1]
    assert close(box, 0.0, 1.0)
