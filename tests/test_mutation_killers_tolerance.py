"""Tests that kill mutants of slth_check.validate.conv2d.tolerance (scripts/mutation.py).

Expected values are the module docs' formulas evaluated here in Fractions, with Higham's
``gamma_m = m u / (1 - m u)`` written out (``g`` below), and ``|K|*|X|`` summed term by term
on one-channel-per-tap examples small enough to do by hand.
"""

from __future__ import annotations

import sys
from fractions import Fraction

import numpy as np
import pytest

from slth_check.precision import get_precision
from slth_check.validate.conv2d.tolerance import (
    check_image,
    fft_stages,
    normwise_factor,
    tolerance,
    tolerance_float,
    underflow_term,
)

U64, U32 = Fraction(1, 2 ** 53), Fraction(1, 2 ** 24)
LAM64, LAM32 = Fraction(1, 2 ** 1022), Fraction(1, 2 ** 126)


def g(m: int, u: Fraction) -> Fraction:
    """Higham's gamma_m."""
    return m * u / (1 - m * u)


def W_doc(D: int, d: int, c0: int, t: int, u: Fraction) -> Fraction:
    """W = 2 [eps D^2 + (2 eps + (3/2) gamma_2 + gamma_c0) D], eps = t eta / (1 - t eta),
    eta = 10 u (module docs)."""
    teta = t * 10 * u
    eps = teta / (1 - teta)
    return 2 * (eps * D * D + (2 * eps + Fraction(3, 2) * g(2, u) + g(c0, u)) * D)


def test_fft_stages_by_hand():
    # t = ceil(log2(4 (D + d - 1)^2))
    assert fft_stages(1, 1) == 2      # n = 4
    assert fft_stages(2, 3) == 6      # n = 4 * 16 = 64, a power of two: exactly 6
    assert fft_stages(8, 5) == 10     # n = 576, between 512 and 1024
    assert fft_stages(3, 1) == 6      # n = 36, between 32 and 64


@pytest.mark.parametrize(("D", "d", "c0", "name", "u", "t"), [
    (8, 5, 4, "float64", U64, 10), (2, 3, 3, "float32", U32, 6),
    (3, 1, 7, "float16", U32, 6), (1, 1, 1, "bfloat16", U32, 2)])
def test_normwise_factor_is_the_documented_W(D, d, c0, name, u, t):
    # float16 and bfloat16 transforms are assumed to run in float32: u = 2^-24 for all three
    assert normwise_factor(D, d, c0, name) == W_doc(D, d, c0, t, u)


def test_normwise_factor_refuses_a_vacuous_fft_bound():
    # with float32 transforms t eta = 10 t 2^-24 exceeds 1/5 once t > 335544: D = 2^200000
    # gives n = 4 (D + 1)^2 of 400003 bits, t eta ~ 0.238 > 1/5; D = 2^150000 gives
    # t = 300003, t eta ~ 0.179, below 1/5 (and above 1/6): W is still finite
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    if limit:
        sys.set_int_max_str_digits(0)  # the message prints D, 60206 digits
    try:
        with pytest.raises(ValueError, match="precision: the FFT bound is vacuous"):
            normwise_factor(2 ** 200000, 2, 1, "float32")
    finally:
        if limit:
            sys.set_int_max_str_digits(limit)
    t = 300003
    assert fft_stages(2 ** 150000, 2) == t
    assert normwise_factor(2 ** 150000, 2, 1, "float32") == W_doc(2 ** 150000, 2, 1, t, U32)


@pytest.mark.parametrize(("name", "lam", "u", "lam_F"), [
    ("float64", LAM64, U64, LAM64), ("float32", LAM32, U32, LAM32),
    ("float16", Fraction(1, 2 ** 14), Fraction(1, 2 ** 11), LAM32)])
def test_underflow_term_is_the_documented_Z(name, lam, u, lam_F):
    m, D, d, k1, xmax = 12, 4, 2, Fraction(3, 2), Fraction(5, 4)
    n, t = 4 * 5 ** 2, 7  # n = 100, t = ceil(log2 100) = 7
    want = 2 * (m + 1) * lam * (1 + g(m, u)) + 64 * n * (t + 1) * lam_F * (1 + k1) * (1 + xmax)
    assert underflow_term(m, D, d, k1, xmax, name) == want


def small_case():
    # d = 2, c0 = 1, c1 = 2, D = 2: K[..., 0] = [[1, -2], [0.5, 0]], K[..., 1] = [[0, 0], [0, 4]]
    K = np.zeros((2, 2, 1, 2))
    K[:, :, 0, 0] = [[1.0, -2.0], [0.5, 0.0]]
    K[1, 1, 0, 1] = 4.0
    X = np.array([[[1.0], [-3.0]], [[0.25], [2.0]]])
    # A = |K| * |X| (padding "paper": F[p, q] = sum |K[a, b]| |X[p - a, q - b]|, p, q < 2)
    # channel 0: A[0,0] = 1*1; A[0,1] = 1*3 + 2*1 = 5; A[1,0] = 1*0.25 + 0.5*1 = 0.75;
    #            A[1,1] = 1*2 + 2*0.25 + 0.5*3 + 0*1 = 4
    # channel 1: only K[1,1] = 4: A[1,1] = 4 * |X[0,0]| = 4, the rest 0
    A = {0: [[1, 5], [Fraction(3, 4), 4]], 1: [[0, 0], [0, 4]]}
    k1 = {0: Fraction(7, 2), 1: Fraction(4)}  # ||K_l||_1
    return K, X, A, k1, Fraction(3)           # ||X||_max = 3


@pytest.mark.parametrize("name", ["float64", "float32"])
def test_tolerance_is_the_documented_T(name):
    K, X, A, k1, xmax = small_case()
    p = get_precision(name)
    m, D, d = 4, 2, 2
    t = 6  # n = 4 * 3^2 = 36, between 32 and 64
    W = W_doc(D, d, 1, t, p.fft_u)
    rtol = Fraction(1, 1000)
    T = tolerance(K, X, precision=name, rtol=rtol)
    assert T.shape == (2, 2, 2)
    for i in range(2):
        for j in range(2):
            for l in (0, 1):
                Z = 2 * (m + 1) * p.lam * (1 + g(m, p.u)) \
                    + 64 * 36 * (t + 1) * p.fft_lam * (1 + k1[l]) * (1 + xmax)
                want = (g(m, p.u) + rtol) * A[l][i][j] + W * k1[l] * xmax + Z
                assert T[i, j, l] == want, (i, j, l)
    # the float64 version: within a relative 1e-12 of T, and A as a float array
    T_f, A_f = tolerance_float(K, X, "paper", p, 1e-3)
    assert A_f.tolist() == [[[1.0, 0.0], [5.0, 0.0]], [[0.75, 0.0], [4.0, 4.0]]]
    for idx in np.ndindex(T.shape):
        assert abs(Fraction(float(T_f[idx])) - T[idx]) <= T[idx] * Fraction(1, 10 ** 12)


def test_tolerance_with_stride_and_padding_keeps_each_entrys_bound():
    K, X, A, k1, xmax = small_case()
    full = tolerance(K, X, padding="full")  # 3 x 3; "paper" is its top-left 2 x 2
    assert full.shape == (3, 3, 2)
    strided = tolerance(K, X, padding="full", stride=2)
    assert strided.shape == (2, 2, 2)
    assert (strided == full[::2, ::2]).all()
    T_f, A_f = tolerance_float(K, X, "full", get_precision("float64"), 0.0, 2)
    assert T_f.shape == (2, 2, 2) and A_f.shape == (2, 2, 2)


def test_tolerance_float_is_infinite_but_defined_when_a_norm_overflows():
    # ||K_0||_1 = 1.5e308 + 1.5e308 overflows to inf in float64: T is inf there (a float
    # screen that cannot decide), and no exact underflow term is formed from an infinity
    K, X = np.full((1, 1, 2, 1), 1.5e308), np.ones((1, 1, 2))
    T_f, _ = tolerance_float(K, X, "paper", get_precision("float64"), 0.0)
    assert T_f.shape == (1, 1, 1) and np.isinf(T_f).all()


def test_check_image_verdicts_and_details():
    K, X, A, k1, xmax = small_case()
    # exact output: channel 0 [[1, -5], [0.75, 0]] (1*2 + (-2)*0.25 + 0.5*(-3) = 0), channel 1
    # [[0, 0], [0, 4]]
    exact = np.zeros((2, 2, 2))
    exact[:, :, 0] = [[1.0, -5.0], [0.75, 0.0]]
    exact[1, 1, 1] = 4.0
    res = check_image(K, X, exact)
    assert res.ok is True and res.index is None
    res = check_image(K, X, exact[:1])
    assert res.ok is False and "output shape (1, 2, 2), should be (2, 2, 2)" in res.detail
    bad = exact.copy()
    bad[0, 1, 1] = np.nan
    res = check_image(K, X, bad)
    assert res.ok is False and "NaN or Inf" in res.detail
    # two wrong entries: (0, 1, 0) off by 1e-6 and (1, 1, 1) off by 1e-3; the worst (largest
    # error / tolerance) is reported: 1e-3 / T[1,1,1] against 1e-6 / T[0,1,0]
    bad = exact.copy()
    bad[0, 1, 0] += 1e-6
    bad[1, 1, 1] += 1e-3
    res = check_image(K, X, bad)  # the float screen decides it, approximate error
    assert res.ok is False and res.index == (1, 1, 1) and res.error is None
    assert "entry (i, j, l) = (1, 1, 1)" in res.detail and "should be about" in res.detail
    res = check_image(K, X, bad, exact=True)  # decided in Fractions: exact error and bound
    T = tolerance(K, X)
    assert res.ok is False and res.index == (1, 1, 1)
    assert res.error == Fraction(4 + 1e-3) - 4 and res.bound == T[1, 1, 1]
    assert "exact 4.0" in res.detail
    # only the small one: still outside its tolerance, and it is the one reported
    bad[1, 1, 1] = 4.0
    res = check_image(K, X, bad, exact=True)
    assert res.ok is False and res.index == (0, 1, 0)
    assert res.error == Fraction(-5 + 1e-6) + 5 and res.bound == T[0, 1, 0]


def test_check_image_float_screen_keeps_its_decision_documented():
    # an error between T and 2T beyond the screen's margin is a violation found by the float
    # screen (no exact values reported); within T, but not clearly inside, it is decided in
    # Fractions and accepted
    K, X, *_ = small_case()
    T = tolerance(K, X)
    exact = np.zeros((2, 2, 2))
    exact[:, :, 0] = [[1.0, -5.0], [0.75, 0.0]]
    exact[1, 1, 1] = 4.0
    got = exact.copy()
    got[0, 0, 1] = float(T[0, 0, 1] * Fraction(3, 2))  # the exact value there is 0
    res = check_image(K, X, got)
    assert res.ok is False and res.index == (0, 0, 1) and res.error is None
    got[0, 0, 1] = float(T[0, 0, 1] * Fraction(999999, 1000000))
    assert Fraction(got[0, 0, 1]) <= T[0, 0, 1]
    assert check_image(K, X, got).ok
    assert check_image(K, X, got, exact=True).ok


def test_check_image_rtol_and_precision_reach_the_bound():
    K, X, *_ = small_case()
    exact = np.zeros((2, 2, 2))
    exact[:, :, 0] = [[1.0, -5.0], [0.75, 0.0]]
    exact[1, 1, 1] = 4.0
    got = exact.copy()
    got[1, 1, 1] = 4.0 + 1e-6  # relative 2.5e-7: outside float64's T, inside float32's
    assert not check_image(K, X, got).ok
    assert check_image(K, X, got, precision="float32").ok
    assert check_image(K, X, got, rtol=1e-6).ok  # rtol A = 4e-6 on top
    assert not check_image(K, X, got, rtol=1e-8).ok


def test_float_screen_covers_the_reference_rounding_of_all_m_products():
    # d = 1, c0 = 8, c1 = 1 (m = 8): K = 1, X = (1, 2^-53 x 7).  Each 2^-53 added to 1 rounds
    # away: the float64 reference is 1, the exact value 1 + 7u (u = 2^-53).  An answer 1 - (T -
    # 2u) lies within T - 2u of the reference but T + 5u from the exact value: a violation.
    # The screen's margin E_r = 1.01 gamma_m A must use m = d d c0 = 8 (about 8u), not c1 or d.
    K = np.ones((1, 1, 8, 1))
    X = np.array([[[1.0] + [2.0 ** -53] * 7]])
    T = tolerance(K, X)[0, 0, 0]
    got = float(1 - (T - 2 * U64))
    assert Fraction(1) + 7 * U64 - Fraction(got) > T  # by construction
    assert not check_image(K, X, np.array([[[got]]])).ok
    assert check_image(K, X, np.array([[[1.0]]])).ok  # the reference itself is within T


def test_float_screen_margin_decides_which_path_reports_a_violation():
    # m = 100 (K = X = ones over 100 channels, A = 100): gamma_100 A is about 10^4 u of
    # T ~ 4.3e4 u.  An error of 1.3 T exceeds T by more than 1.01 gamma_m A: the float screen
    # reports it (error None); were E_r twice as large, the exact path would (error set).
    K, X = np.ones((1, 1, 100, 1)), np.ones((1, 1, 100))
    T = tolerance(K, X)[0, 0, 0]
    assert Fraction(1, 5) < g(100, U64) * 100 / T < Fraction(3, 10)
    got = float(100 + Fraction(13, 10) * T)
    res = check_image(K, X, np.array([[[got]]]))
    assert res.ok is False and res.error is None and res.index == (0, 0, 0)


def test_answers_just_beyond_a_tolerance_of_an_exact_zero():
    # K = 1 (1 x 1), X = [[0, 1.03125], [0, 0]]: the output is X itself; at (0, 0) the exact
    # value is 0 and A = 0, so T = W ||K||_1 ||X||_max + Z there and the screen's own margin
    # E_r is a few subnormals.  For this X the float64 T_f lies above the exact T (chosen so):
    # the answer T_f is beyond the tolerance, however close, and must be rejected.
    K = np.ones((1, 1, 1, 1))
    X = np.array([[[0.0], [1.03125]], [[0.0], [0.0]]])
    T = tolerance(K, X)[0, 0, 0]
    T_f = tolerance_float(K, X, "paper", get_precision("float64"), 0.0)[0][0, 0, 0]
    assert Fraction(T_f) > T
    got = X.copy()
    got[0, 0, 0] = T_f
    assert not check_image(K, X, got).ok
    # 1e-9 relative beyond T_f: outside the float screen's "clearly beyond" (which needs
    # (1 - 1e-9) |got - r| - E_r > (1 + 1e-9) T_f), so decided in Fractions: exact values
    got[0, 0, 0] = float(T_f) * (1 + 1e-9)
    res = check_image(K, X, got)
    assert res.ok is False and res.index == (0, 0, 0)
    assert res.error == Fraction(got[0, 0, 0]) and res.bound == T


def test_the_worst_entry_is_the_largest_error_over_tolerance():
    # two channels of very different scale (d = 1, D = 1): K = (2^-30, 1), X = 1, so T is
    # about 2^-30 times smaller on channel 0.  Channel 0 is off by 100 T_0, channel 1 by 10 T_1:
    # the worst is channel 0 (ratio 100), though its error is far smaller
    K = np.array([2.0 ** -30, 1.0]).reshape(1, 1, 1, 2)
    X = np.ones((1, 1, 1))
    T = tolerance(K, X)[0, 0]
    got = np.array([[[float(2.0 ** -30 + 100 * T[0]), float(1 + 10 * T[1])]]])
    res = check_image(K, X, got, exact=True)
    assert res.ok is False and res.index == (0, 0, 0)
    assert abs(res.error / res.bound - 100) < 1e-6


def test_equal_worst_entries_report_the_first_on_both_paths():
    # two identical output channels (K = 1 twice), both answers 10 T too large: the two ratios
    # error / tolerance are exactly equal.  The float screen (exact=False) and the exact
    # decision (exact=True) report the same entry, the first in (i, j, l) order
    K, X = np.ones((1, 1, 1, 2)), np.ones((1, 1, 1))
    T = tolerance(K, X)[0, 0]
    assert T[0] == T[1]
    got = np.full((1, 1, 2), float(1 + 10 * T[0]))
    assert check_image(K, X, got).index == (0, 0, 0)
    assert check_image(K, X, got, exact=True).index == (0, 0, 0)


def test_float_screen_rule_at_its_boundary_near_underflow():
    # The documented float-path rule: a violation "without further ado" when
    # (1 - 1e-9) |got - r| - E_r > (1 + 1e-9) T_f, E_r = 1.01 gamma_m A_f + 2 m 2^-1074, in
    # float64.  m = 2000 (c0 = 2000, d = 1) tiny kernel taps and X = 0: r = A = 0, so E_r =
    # 4000 eta, and T = 2 (m + 1) lam (1 + gamma_m) + 64 * 4 * 3 lam (1 + ||K||_1) ~ 4770 lam
    # lies where the float64 spacing s is 4096 eta: E_r is one spacing, rounded.  The answer
    # got with fl(got (1 - 1e-9)) = D + s, D = fl((1 + 1e-9) T_f), meets the rule with equality:
    # not "beyond", so it is decided in Fractions (exact error reported); a rule with ">=", or
    # an E_r without its 2 m eta (or with half of it, or its sign flipped), reports it from
    # the float path (no exact error).
    m, eta = 2000, 5e-324
    K, X, D, s, got = near_underflow_case(m)
    assert s == 4096 * eta and 2 * m * eta == 4000 * eta
    assert got * (1 - 1e-9) - 2 * m * eta == D  # the rule holds with equality
    res = check_image(K, X, np.array([[[got]]]))
    assert res.ok is False and res.index == (0, 0, 0)
    assert res.error == Fraction(got) and res.bound == tolerance(K, X)[0, 0, 0]
    # m = 200: T ~ 1170 lam, s = 1024 eta, E_r = 400 eta rounds away (under s / 2): the
    # answer one spacing further, (1 - 1e-9) |got| = D + s, is beyond (D + s > D): reported by
    # the float path, with no exact error (an E_r of 3 m eta = 600 eta would round to D)
    K, X, D, s, got = near_underflow_case(200)
    assert s == 1024 * eta and got * (1 - 1e-9) - 400 * eta == D + s
    res = check_image(K, X, np.array([[[got]]]))
    assert res.ok is False and res.index == (0, 0, 0) and res.error is None


def near_underflow_case(m: int):
    """K of m tiny taps, X = 0, D = fl((1 + 1e-9) T_f), its spacing s, and the answer got with
    fl(got (1 - 1e-9)) = D + s."""
    K, X = np.full((1, 1, m, 1), 2.0 ** -600), np.zeros((1, 1, m))
    T_f = float(tolerance_float(K, X, "paper", get_precision("float64"), 0.0)[0][0, 0, 0])
    D = T_f * (1 + 1e-9)
    s = float(np.spacing(D))
    got = (D + s) / (1 - 1e-9)
    for _ in range(8):  # the float whose scaled value is D + s
        if got * (1 - 1e-9) == D + s:
            break
        got = float(np.nextafter(got, -np.inf if got * (1 - 1e-9) > D + s else np.inf))
    return K, X, D, s, got
