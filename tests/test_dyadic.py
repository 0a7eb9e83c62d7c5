"""The exact twins on scaled integers (slth_check.dyadic) equal their Fraction twins."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from slth_check.arithmetic import to_fraction
from slth_check.conv import conv2d_exact, conv2d_generic
from slth_check.dyadic import exact_matmul, from_dyadic, to_dyadic

# finite floats of every magnitude, subnormals and signed zeros included
FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)
AWKWARD = [0.0, -0.0, 5e-324, -2.5e-310, 1e-300, 1.0, -3.5, 1e300, -1.7976931348623157e308]


def _fraction_matmul(A, B):
    return np.matmul(to_fraction(A), to_fraction(B))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (3, 4), elements=FLOATS), arrays(np.float64, (4, 2), elements=FLOATS))
def test_exact_matmul_equals_fractions(A, B):
    out = exact_matmul(A, B)
    assert out.shape == (3, 2)
    assert all(isinstance(v, Fraction) for v in out.ravel())
    assert (out == _fraction_matmul(A, B)).all()


def test_round_trip_of_awkward_floats():
    x = np.array(AWKWARD)
    M, e = to_dyadic(x)
    assert list(from_dyadic(M, e)) == [Fraction(v) for v in AWKWARD]
    M, e = to_dyadic(to_fraction(x))  # the same values given as Fractions
    assert list(from_dyadic(M, e)) == [Fraction(v) for v in AWKWARD]


def test_awkward_matmul_and_cancellation():
    A = np.array([[1e300, 1.0, -1e300, 5e-324], [2.0**-1074, -0.0, 3.0, 2.0**-60]])
    B = np.array([[1.0], [2.0**-53], [1.0], [7.0]])
    out = exact_matmul(A, B)
    assert out[0, 0] == Fraction(2.0**-53) + 7 * Fraction(5e-324)  # 1e300 cancels exactly
    assert (out == _fraction_matmul(A, B)).all()


def test_non_dyadic_entries_fall_back_to_fractions():
    A = np.array([[Fraction(1, 3), Fraction(1, 2)]], dtype=object)
    B = np.array([[Fraction(3)], [0.25]], dtype=object)
    assert to_dyadic(A) is None
    assert to_dyadic(np.array([np.inf])) is None
    assert exact_matmul(A, B)[0, 0] == Fraction(9, 8)


@pytest.mark.parametrize("padding", ["paper", "same", "valid", "full"])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv2d_exact_equals_the_fraction_twin(padding, stride):
    rng = np.random.default_rng(7)
    K = rng.uniform(-1, 1, (3, 3, 2, 2)) * np.array([1.0, 1e-200])  # exponents far apart
    X = rng.uniform(0, 1, (2, 6, 6, 2))
    X[0, 0, 0, 0] = 5e-324
    want = conv2d_generic(to_fraction(K), to_fraction(X), padding, stride, zero=0)
    got = conv2d_exact(K, X, padding=padding, stride=stride)
    assert got.shape == want.shape and (got == want).all()
    third = to_fraction(K)
    third[0, 0, 0, 0] = Fraction(1, 3)  # not dyadic: the Fraction path, the same answer
    assert (conv2d_exact(third, X, padding=padding, stride=stride)
            == conv2d_generic(third, to_fraction(X), padding, stride, zero=0)).all()
