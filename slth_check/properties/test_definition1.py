"""Definition 1 (convolution): rounding bound, linearity, batching, scipy oracle."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
from hypothesis import given, target
from hypothesis import strategies as st

from slth_check import conv2d_exact, conv2d_mp, gamma, to_fraction
from slth_check.arithmetic import mpf_to_fraction
from slth_check.claims.definition1 import ConvInstance, Definition1, rounding_check
from slth_check.conv import PADDINGS, Padding
from slth_check.testing.assertions import assert_holds
from slth_check.testing.strategies import kernels, shapes, signed_inputs
from slth_check.validate.conv2d.adapters import scipy_conv2d

small_floats = st.floats(-4, 4, allow_nan=False, width=16)  # exact in Fractions, fast


@given(data=st.data())
def test_float_within_proven_rounding_bound(data, conv_impl):
    d, D, c0, c1 = data.draw(shapes(), label="shape")
    K = data.draw(kernels(d, c0, c1), label="K")
    X = data.draw(signed_inputs(D, c0), label="X")
    padding = data.draw(st.sampled_from(conv_impl.paddings), label="padding")
    stride = data.draw(st.sampled_from(conv_impl.strides), label="stride")
    out = Definition1(conv_impl).check(ConvInstance(K, X, padding, stride))
    target(min(out.ratio or 0.0, 1e300), label="error / rounding bound")
    assert_holds(out, context={"padding": padding, "stride": stride})


@given(data=st.data())
def test_linear_in_K_and_X_exactly(data):
    d, D, c0, c1 = data.draw(shapes(), label="shape")
    arr = lambda shape: np.asarray(data.draw(  # noqa: E731
        st.lists(small_floats, min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))),
        dtype=np.float64).reshape(shape)
    K1, K2 = arr((d, d, c0, c1)), arr((d, d, c0, c1))
    X1, X2 = arr((D, D, c0)), arr((D, D, c0))
    a, b = Fraction(data.draw(small_floats)), Fraction(data.draw(small_floats))
    F = to_fraction
    lhs = conv2d_exact(a * F(K1) + b * F(K2), F(X1))
    rhs = a * conv2d_exact(K1, X1) + b * conv2d_exact(K2, X1)
    assert np.array_equal(lhs, rhs), "K -> K*X is not linear"
    lhs = conv2d_exact(F(K1), a * F(X1) + b * F(X2))
    rhs = a * conv2d_exact(K1, X1) + b * conv2d_exact(K1, X2)
    assert np.array_equal(lhs, rhs), "X -> K*X is not linear"


@given(data=st.data())
def test_batch_equals_stack_of_single_inputs(data, conv_impl):
    d, D, c0, c1 = data.draw(shapes(max_c=2), label="shape")
    N = data.draw(st.integers(1, 3), label="N")
    K = data.draw(kernels(d, c0, c1, max_abs=8.0), label="K")
    Xs = [data.draw(signed_inputs(D, c0, max_abs=8.0), label=f"X{i}") for i in range(N)]
    padding = data.draw(st.sampled_from(conv_impl.paddings), label="padding")
    batch = conv2d_exact(K, np.stack(Xs), padding=padding)
    singles = np.stack([conv2d_exact(K, X, padding=padding) for X in Xs])
    assert np.array_equal(batch, singles)
    got = np.asarray(conv_impl(K, np.stack(Xs), padding=padding))
    for i, X in enumerate(Xs):  # each slice of the float batch is within the bound
        out = rounding_check(K, X, got[i], padding=padding)
        assert_holds(out, context={"batch slice": i, "padding": padding})


def scipy_reference(K: np.ndarray, X: np.ndarray, padding: Padding) -> np.ndarray:
    """Definition 1 through scipy.signal.convolve (method='direct'), per channel pair: the
    validator's built-in ``scipy`` implementation, on one image."""
    return scipy_conv2d(padding)(K, X[None])[0]


@given(data=st.data())
def test_agrees_with_scipy_signal_convolve(data):
    """scipy's direct convolution is within the proven bound of our exact twin.

    scipy sums the same m products in another order, so it satisfies the same
    gamma_m bound with respect to the exact value if and only if our indexing
    of Definition 1 and of every padding mode is scipy's.
    """
    d, D, c0, c1 = data.draw(shapes(), label="shape")
    K = data.draw(kernels(d, c0, c1, max_abs=100.0), label="K")
    X = data.draw(signed_inputs(D, c0, max_abs=100.0), label="X")
    padding = data.draw(st.sampled_from(PADDINGS), label="padding")
    ref = scipy_reference(K, X, padding)
    out = rounding_check(K, X, ref, padding=padding)
    assert_holds(out, context={"reference": "scipy.signal.convolve", "padding": padding})


@given(data=st.data())
def test_mpmath_twin_within_its_rounding_bound(data):
    """conv2d_mp at ``dps`` digits is within gamma_m (|K|*|X|), u = 2**-prec, of the exact
    twin, with m = d*d*c0 + d*d (products and the shift-and-add partial sums)."""
    d, D, c0, c1 = data.draw(shapes(max_c=2), label="shape")
    K = data.draw(kernels(d, c0, c1), label="K")
    X = data.draw(signed_inputs(D, c0), label="X")
    dps = data.draw(st.sampled_from([15, 30, 60]), label="dps")
    padding = data.draw(st.sampled_from(PADDINGS), label="padding")
    with mpmath.workdps(dps):
        prec = mpmath.mp.prec
        mp = conv2d_mp(K, X, padding=padding, dps=dps)
    exact = conv2d_exact(K, X, padding=padding)
    absconv = conv2d_exact(np.abs(K), np.abs(X), padding=padding)
    g = gamma(d * d * c0 + d * d, Fraction(1, 2**prec))
    for idx in np.ndindex(exact.shape):
        assert abs(mpf_to_fraction(mp[idx]) - exact[idx]) <= g * absconv[idx], idx
