"""Exact twins and floating-point error bounds.

Every float function a claim relies on has an exact twin.  This module holds
the shared pieces: exact conversion of float arrays to :class:`fractions.Fraction`
object arrays, mpmath object arrays at a chosen precision, and the constants of
Higham's rounding-error analysis ("Accuracy and Stability of Numerical
Algorithms", 2nd ed., section 3.1).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

#: Unit roundoff of IEEE binary64 (round to nearest): u = 2**-53.
UNIT_ROUNDOFF = Fraction(1, 2**53)
#: Smallest positive subnormal binary64 number, 2**-1074.  Bounds the absolute
#: error of one multiplication that underflows (Higham, eq. 2.8).
ETA = Fraction(1, 2**1074)


def gamma(m: int, u: Fraction = UNIT_ROUNDOFF) -> Fraction:
    """Higham's ``gamma_m = m u / (1 - m u)`` as an exact Fraction.

    A dot product of length ``m`` computed in floating point in any order
    satisfies ``|fl(x.y) - x.y| <= gamma_m |x|.|y|`` when no underflow occurs
    (Higham, eq. 3.5).  Requires ``m u < 1``.
    """
    if not isinstance(m, (int, np.integer)) or m < 0:
        raise ValueError(f"m: expected a non-negative integer, got {m!r}")
    mu = int(m) * u
    if mu >= 1:
        raise ValueError(f"m: gamma_m is undefined for m*u >= 1 (m={m})")
    return mu / (1 - mu)


def dot_error_bound(m: int, abs_dot: Fraction) -> Fraction:
    """Sound bound on ``|fl(x.y) - x.y|`` for a float64 dot product of length m.

    ``abs_dot`` is the exact value of ``|x|.|y|``.  The bound is
    ``gamma_m * abs_dot + m * ETA``: the second term covers gradual underflow
    in the ``m`` products (additions that underflow are exact).
    """
    return gamma(m) * abs_dot + int(m) * ETA


_to_fraction = np.frompyfunc(lambda v: Fraction(float(v)), 1, 1)


def to_fraction(a: Any) -> np.ndarray:
    """Convert a float array exactly into an object array of Fractions.

    Every binary64 number is a dyadic rational, so the conversion is exact.
    Object arrays whose entries are already Fractions or ints pass through.
    """
    arr = np.asarray(a)
    if arr.dtype == object:
        return np.vectorize(Fraction, otypes=[object])(arr) if arr.size else arr.copy()
    if not np.all(np.isfinite(arr)):
        raise ValueError("to_fraction: expected finite values, got NaN or Inf")
    out = _to_fraction(arr.astype(np.float64))
    return np.asarray(out, dtype=object).reshape(arr.shape)


def to_mpf(a: Any, dps: int = 50) -> np.ndarray:
    """Convert an array into an object array of ``mpmath.mpf`` at ``dps`` digits.

    binary64 inputs are converted exactly whenever ``dps >= 17`` (mpf stores
    the 53-bit mantissa exactly at any precision of at least 53 bits).
    """
    arr = np.asarray(a)
    with mpmath.workdps(dps):
        conv = np.frompyfunc(lambda v: mpmath.mpf(v.numerator) / v.denominator
                             if isinstance(v, Fraction) else mpmath.mpf(v), 1, 1)
        out = conv(arr)
    return np.asarray(out, dtype=object).reshape(arr.shape)


def fraction_abs(a: np.ndarray) -> np.ndarray:
    """Entrywise absolute value of an object array (Fractions or mpf)."""
    return np.asarray(np.frompyfunc(abs, 1, 1)(a), dtype=object).reshape(np.shape(a))


def raw_to_fraction(raw: tuple) -> Fraction:
    sign, man, exp, _ = raw
    if not man and exp:  # inf or nan: zero mantissa with a special exponent
        raise ValueError("expected a finite binary float, got inf or nan")
    value = Fraction(int(man)) * Fraction(2) ** exp
    return -value if sign else value


def interval_to_fractions(x: Any) -> tuple[Fraction, Fraction]:
    """The exact rational endpoints of an ``mpmath.iv`` interval (no rounding)."""
    lo, hi = x._mpi_
    return raw_to_fraction(lo), raw_to_fraction(hi)


def mpf_to_fraction(x: Any) -> Fraction:
    """The exact rational value of an ``mpmath.mpf`` (a binary float of any precision)."""
    # read the mpf as it is: mpmath.mpf(x) would round it to the current precision
    return raw_to_fraction((x if isinstance(x, mpmath.mpf) else mpmath.mpf(x))._mpf_)
