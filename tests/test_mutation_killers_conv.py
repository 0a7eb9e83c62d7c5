"""Tests that kill mutants of slth_check.conv (scripts/mutation.py).

Expected values come from Definition 1 written out as a plain loop over its sum in
Fractions (``definition_1`` below, 0-based: ``F[p, q, l] = sum K[a, b, k, l] X[p - a, q - b,
k]``, cropped as the module docs list), from crops and sizes worked out by hand, and from
the size-guard formulas of the docs evaluated by hand on one shape.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest

import slth_check.tensors as tensors
from slth_check.conv import (
    MAX_DPS,
    conv2d,
    conv2d_exact,
    conv2d_mp,
    crop_window,
    l1,
    l1_exact,
    max_norm,
    max_norm_exact,
    output_size,
    pool2d,
    relu,
)

# (start, length) in the full convolution of size D + d - 1, by hand for D = 5, d = 4
CROPS_5_4 = {"paper": (0, 5), "same": (1, 5), "same_upper": (2, 5), "valid": (3, 2),
             "full": (0, 8)}


def definition_1(K, X, start, length, stride):
    """Definition 1 summed term by term in Fractions, cropped and strided (X 3-D)."""
    d, c0, c1, D = K.shape[0], K.shape[2], K.shape[3], X.shape[0]
    rows = range(start, start + length, stride)
    out = np.empty((len(rows), len(rows), c1), dtype=object)
    for i, p in enumerate(rows):
        for j, q in enumerate(rows):
            for l in range(c1):
                out[i, j, l] = sum((Fraction(float(K[a, b, k, l]))
                                    * Fraction(float(X[p - a, q - b, k]))
                                    for a in range(d) for b in range(d) for k in range(c0)
                                    if 0 <= p - a < D and 0 <= q - b < D), start=Fraction(0))
    return out


def test_crop_window_and_output_size_by_hand():
    for padding, crop in CROPS_5_4.items():
        assert crop_window(padding, 5, 4) == crop, padding
    assert crop_window("same", 5, 3) == (1, 5) and crop_window("same_upper", 5, 3) == (1, 5)
    assert crop_window("valid", 4, 4) == (3, 1)
    # output size (length - 1) // stride + 1
    assert output_size(5, 4) == 5 and output_size(5, 4, "full") == 8
    assert output_size(5, 4, "full", 3) == 3 and output_size(5, 4, "valid", 2) == 1
    assert output_size(6, 1, "paper", 2) == 3 and output_size(7, 2, "paper", np.int64(2)) == 4
    with pytest.raises(ValueError, match="padding='valid' needs"):
        crop_window("valid", 3, 4)
    with pytest.raises(ValueError, match="padding: expected one of"):
        crop_window("circular", 5, 4)


@pytest.mark.parametrize("stride", [True, 0, -1, 1.0, "2"])
def test_stride_must_be_a_positive_integer(stride):
    with pytest.raises(ValueError, match="stride: expected a positive integer"):
        output_size(5, 2, "paper", stride)
    with pytest.raises(ValueError, match="stride: expected a positive integer"):
        conv2d(np.ones((2, 2, 1, 1)), np.ones((5, 5, 1)), stride=stride)


CASES = [(d, padding, stride) for d in (1, 2, 3, 4)
         for padding in ("paper", "same", "same_upper", "valid", "full") for stride in (1, 2, 3)]


@pytest.mark.parametrize(("d", "padding", "stride"), CASES)
def test_the_three_convolutions_are_definition_1(d, padding, stride):
    # small integers: every float64 product and sum is exact, so all three must agree exactly
    rng = np.random.default_rng(d * 100 + stride)
    D, c0, c1 = 6, 2, 3
    K = rng.integers(-3, 4, (d, d, c0, c1)).astype(float)
    X = rng.integers(-3, 4, (D, D, c0)).astype(float)
    start, length = {"paper": (0, D), "same": ((d - 1) // 2, D), "same_upper": (d // 2, D),
                     "valid": (d - 1, D - d + 1), "full": (0, D + d - 1)}[padding]
    want = definition_1(K, X, start, length, stride)
    got = conv2d(K, X, padding=padding, stride=stride)
    assert got.shape == want.shape and got.dtype == np.float64
    assert [Fraction(float(v)) for v in got.ravel()] == list(want.ravel())
    ex = conv2d_exact(K, X, padding=padding, stride=stride)
    assert ex.shape == want.shape and list(ex.ravel()) == list(want.ravel())
    mp = conv2d_mp(K, X, padding=padding, stride=stride, dps=30)
    assert mp.shape == want.shape
    assert [Fraction(float(v)) for v in mp.ravel()] == list(want.ravel())
    # a batch of two images: each image's own convolution, in order
    Xb = np.stack([X, -2 * X])
    for f in (conv2d, conv2d_exact):
        gb = f(K, Xb, padding=padding, stride=stride)
        assert gb.shape == (2, *want.shape)
        assert list(np.asarray(gb[1], dtype=object).ravel()) == [-2 * v for v in want.ravel()]


def test_exact_twin_accepts_fractions_and_keeps_them_exact():
    K = np.array([[[[Fraction(1, 3)]]]], dtype=object)
    X = np.array([[[Fraction(1, 7)], [Fraction(2, 7)]], [[Fraction(0)], [Fraction(-1, 5)]]],
                 dtype=object)
    out = conv2d_exact(K, X)
    assert out.tolist() == [[[Fraction(1, 21)], [Fraction(2, 21)]],
                            [[Fraction(0)], [Fraction(-1, 15)]]]
    # the mpmath twin takes the same object arrays (converted at its working precision)
    mp = conv2d_mp(K, X, dps=40)
    with mpmath.workdps(40):
        assert all(abs(v - mpmath.mpf(w.numerator) / w.denominator) < mpmath.mpf(10) ** -35
                   for v, w in zip(mp.ravel(), out.ravel()))


def test_conv2d_mp_works_at_the_requested_digits():
    # 1 + 2^-168 needs 169 bits: mpmath's 50 digits (the default) are 169 bits, 49 digits are
    # 166 bits, where the sum rounds to 1 (mpmath.libmp.dps_to_prec)
    K, X = np.ones((1, 1, 2, 1)), np.array([[[1.0, 2.0 ** -168]]])
    assert conv2d_mp(K, X)[0, 0, 0] - 1 == mpmath.mpf(2) ** -168
    assert conv2d_mp(K, X, dps=49)[0, 0, 0] == 1
    # and not more: 1 + 2^-170 needs 171 bits, more than 50 digits' 169 (51 digits are 173)
    X = np.array([[[1.0, 2.0 ** -170]]])
    assert conv2d_mp(K, X)[0, 0, 0] == 1
    assert conv2d_mp(K, X, dps=51)[0, 0, 0] - 1 == mpmath.mpf(2) ** -170
    assert conv2d_mp(np.full((1, 1, 1, 1), 0.5), np.full((1, 1, 1), 0.25), dps=1)[0, 0, 0] \
        == mpmath.mpf(0.125)
    assert MAX_DPS == 100_000
    conv2d_mp(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1)), dps=MAX_DPS)  # the limit itself is allowed


@pytest.mark.parametrize("dps", [0, -3, True, 1.5, MAX_DPS + 1])
def test_conv2d_mp_refuses_bad_dps(dps):
    with pytest.raises(ValueError, match=r"dps: expected an integer number of decimal digits"):
        conv2d_mp(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1)), dps=dps)


def test_size_guards_are_the_documented_counts(monkeypatch):
    # N = 2, D = 5, c0 = 3, d = 2, c1 = 4, padding "paper", stride 2: P = (5 - 1) // 2 + 1 = 3.
    # float guard, 8 bytes per entry of: padded input N (D + 2(d-1))^2 c0 = 2*49*3 = 294, windows
    # N P^2 c0 d^2 = 2*9*3*4 = 216, output N P^2 c1 = 2*9*4 = 72; 582 entries, 4656 bytes.
    # exact guard (entries): K d^2 c0 c1 = 48, X N D^2 c0 = 150, padded 294, output and one
    # slice 2 N P^2 c1 = 144; 636 entries.
    K, X = np.ones((2, 2, 3, 4)), np.ones((2, 5, 5, 3))
    monkeypatch.setattr(tensors, "MAX_FLOAT_BYTES", 4656)
    assert conv2d(K, X, stride=2).shape == (2, 3, 3, 4)
    monkeypatch.setattr(tensors, "MAX_FLOAT_BYTES", 4655)
    with pytest.raises(ValueError, match="X: this conv2d would allocate"):
        conv2d(K, X, stride=2)
    monkeypatch.setattr(tensors, "MAX_EXACT_ENTRIES", 636)
    assert conv2d_exact(K, X, stride=2).shape == (2, 3, 3, 4)
    assert conv2d_mp(K, X, stride=2, dps=15).shape == (2, 3, 3, 4)
    monkeypatch.setattr(tensors, "MAX_EXACT_ENTRIES", 635)
    with pytest.raises(ValueError, match="X: this conv2d_exact would hold 636 exact entries"):
        conv2d_exact(K, X, stride=2)
    with pytest.raises(ValueError, match="X: this conv2d_mp would hold 636 exact entries"):
        conv2d_mp(K, X, stride=2, dps=15)
    # stride 3: P = (5 - 1) // 3 + 1 = 2 (an integer count): 8 * (294 + 2*4*3*4 + 2*4*4) = 3376
    # stride 5: P = (5 - 1) // 5 + 1 = 1 (not 5 // 5 + 1): 8 * (294 + 2*3*4 + 2*4) = 2608
    for stride, limit, P in ((3, 3376, 2), (5, 2608, 1)):
        monkeypatch.setattr(tensors, "MAX_FLOAT_BYTES", limit)
        assert conv2d(K, X, stride=stride).shape == (2, P, P, 4)
        monkeypatch.setattr(tensors, "MAX_FLOAT_BYTES", limit - 1)
        with pytest.raises(ValueError, match="X: this conv2d would allocate"):
            conv2d(K, X, stride=stride)
    # one image (3-D X) counts N = 1: 8 * (49*3 + 9*3*4 + 9*4) = 8 * 291 = 2328 bytes
    monkeypatch.setattr(tensors, "MAX_FLOAT_BYTES", 2328)
    assert conv2d(K, X[0], stride=2).shape == (3, 3, 4)
    monkeypatch.setattr(tensors, "MAX_FLOAT_BYTES", 2327)
    with pytest.raises(ValueError, match="N=1, D=5, c0=3, d=2, c1=4"):
        conv2d(K, X[0], stride=2)


def test_elementwise_helpers_by_hand():
    assert relu(np.array([-1.5, 0.0, 2.0])).tolist() == [0.0, 0.0, 2.0]
    r = relu(np.array([Fraction(-1, 3), Fraction(0), Fraction(2, 3)], dtype=object))
    assert r.dtype == object and r.tolist() == [0, 0, Fraction(2, 3)] and r.shape == (3,)
    assert l1(np.array([[0.5, -0.25], [-1.0, 0.0]])) == 1.75
    assert l1_exact(np.array([0.5, -0.25])) == Fraction(3, 4)
    assert l1_exact(np.array([], dtype=float)) == 0
    assert max_norm(np.array([0.5, -2.0, 1.0])) == 2.0 and max_norm(np.zeros(0)) == 0.0
    assert max_norm_exact(np.array([0.5, -2.0, 1.0])) == 2 and max_norm_exact(np.zeros(0)) == 0


def test_pooling_by_hand():
    X = np.arange(25, dtype=float).reshape(5, 5, 1)  # floor mode: the last row and column drop
    assert pool2d(X)[..., 0].tolist() == [[6.0, 8.0], [16.0, 18.0]]
    # averages of [[0, 1], [5, 6]] = 3, [[2, 3], [7, 8]] = 5, ...
    assert pool2d(X, "avg")[..., 0].tolist() == [[3.0, 5.0], [13.0, 15.0]]
    assert pool2d(X, "max", 3)[..., 0].tolist() == [[12.0]]
    assert pool2d(X, "avg", 3)[..., 0].tolist() == [[6.0]]  # (0+1+2+5+6+7+10+11+12) / 9
    Xo = np.array([[[Fraction(1, 3)], [Fraction(1)]], [[Fraction(0)], [Fraction(2)]]],
                  dtype=object)
    assert pool2d(Xo, "avg")[0, 0, 0] == Fraction(5, 6)  # (1/3 + 1 + 0 + 2) / 4
    assert pool2d(Xo[None], "max").shape == (1, 1, 1, 1)
    assert pool2d(np.stack([X, X + 1]), "avg")[1, ..., 0].tolist() == [[4.0, 6.0], [14.0, 16.0]]
    two = np.arange(8, dtype=float).reshape(2, 2, 2)  # two channels
    assert pool2d(two, "max")[0, 0].tolist() == [6.0, 7.0]
    with pytest.raises(ValueError, match="kind: expected 'max' or 'avg'"):
        pool2d(X, "min")
    with pytest.raises(ValueError, match="X: expected 3 or 4 dimensions"):
        pool2d(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="X: expected 3 or 4 dimensions"):
        pool2d(np.zeros((1, 1, 4, 4, 1)))
    with pytest.raises(ValueError, match="X: pooling of size 2 needs D >= 2"):
        pool2d(np.zeros((1, 1, 1)))
