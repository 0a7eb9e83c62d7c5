"""Exact sums of products of floats on scaled integers (the fast path of the exact twins).

Every binary64 number is a dyadic rational ``m 2^e`` (``m`` an integer), and so are
their sums and products.  An array of dyadic rationals is held as one object array of
Python integers ``M`` and one exponent ``e`` (``value = M 2^e`` entrywise, ``e`` the
smallest exponent of the array): a product of two such arrays is the product of the
integers at exponent ``e_A + e_B``, a sum of terms at one exponent the integer sum.
No ``gcd`` is taken until the result is turned back into :class:`fractions.Fraction`
once per output entry, where :class:`fractions.Fraction` arithmetic takes one per
operation.  The values are the same rationals, so every result equals its
:class:`fractions.Fraction` twin exactly (tests compare them).

Used by :func:`slth_check.conv.conv2d_exact` and by the exact effective kernels
(Eq. 2 of Lemma 1, :meth:`slth_check.pruned.PrunedLayer.effective_kernel`).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np


def to_dyadic(a: Any) -> tuple[np.ndarray, int] | None:
    """``(M, e)`` with ``a == M 2^e`` exactly (``M`` an object array of ints), or None
    when an entry is not a dyadic rational (a Fraction whose denominator is not a power
    of two) or not finite."""
    arr = np.asarray(a)
    if arr.dtype != object:
        x = arr.astype(np.float64)
        if not np.all(np.isfinite(x)):
            return None
        m, ex = np.frexp(x)  # x = m 2^ex, 0.5 <= |m| < 1 or m = 0
        mant = (m * 2.0**53).astype(np.int64)  # exact: 53 bits
        ex = ex.astype(np.int64) - 53
        e = int(ex[mant != 0].min()) if np.any(mant != 0) else 0
        M = np.left_shift(mant.astype(object), np.where(mant != 0, ex - e, 0).astype(object))
        return np.asarray(M, dtype=object).reshape(arr.shape), e
    nums, exps = [], []
    for v in arr.ravel():
        if isinstance(v, float):
            if not np.isfinite(v):
                return None
            v = Fraction(v)
        elif not isinstance(v, (int, Fraction, np.integer)):
            return None
        q = Fraction(v)
        den = q.denominator
        if den & (den - 1):
            return None
        nums.append(q.numerator)
        exps.append(1 - den.bit_length())
    e = min(exps, default=0)
    M = np.empty(len(nums), dtype=object)
    M[:] = [n << (x - e) for n, x in zip(nums, exps)]
    return M.reshape(arr.shape), e


def from_dyadic(M: np.ndarray, e: int) -> np.ndarray:
    """The object array of Fractions ``M 2^e`` (normalised, as Fraction arithmetic gives)."""
    M = np.asarray(M, dtype=object)
    out = np.empty(M.shape, dtype=object)
    if e >= 0:
        out.ravel()[:] = [Fraction(int(m) << e) for m in M.ravel()]
    else:
        den = 1 << -e
        out.ravel()[:] = [Fraction(int(m), den) for m in M.ravel()]
    return out


def exact_bilinear(op: Callable[[np.ndarray, np.ndarray], np.ndarray], A: Any,
                   B: Any) -> np.ndarray | None:
    """``op(A, B)`` in exact arithmetic for a bilinear ``op`` built of products and sums
    (matmul, a convolution), as an object array of Fractions; None when an operand is not
    dyadic (the caller then uses Fractions)."""
    a, b = to_dyadic(A), to_dyadic(B)
    if a is None or b is None:
        return None
    return from_dyadic(op(a[0], b[0]), a[1] + b[1])


def exact_matmul(A: Any, B: Any) -> np.ndarray:
    """``A @ B`` exactly (object array of Fractions), on scaled integers when both are
    dyadic (floats always are), else in Fractions."""
    out = exact_bilinear(np.matmul, A, B)
    if out is not None:
        return out
    from slth_check.arithmetic import to_fraction

    return np.matmul(to_fraction(A), to_fraction(B))


__all__ = ["exact_bilinear", "exact_matmul", "from_dyadic", "to_dyadic"]
