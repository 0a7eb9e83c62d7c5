"""Exact arithmetic for subset sums: float64 values as integers over a power of two.

Every binary64 number is ``m / 2**k``; a common denominator ``2**k`` turns a
set of floats (and a target) into Python integers, whose sums are exact.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.tensors import as_float_array


def check_instance(values: Any, target: Any) -> tuple[np.ndarray, float]:
    """Validate an RSS instance: finite float values (1-D, non-empty), a finite target."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"values: expected a 1-D float array, got {type(values).__name__}")
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.dtype.kind in "iu":
        arr = arr.astype(np.float64)
    vals = as_float_array(arr, "values", ndim=1)
    if vals.size == 0:
        raise ValueError("values: expected at least one value, got an empty array")
    if isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, float, np.integer,
                                                                        np.floating)):
        raise TypeError(f"target: expected a real number, got {type(target).__name__}")
    t = float(target)
    if not np.isfinite(t):
        raise ValueError(f"target: expected a finite number, got {target!r}")
    return vals, t


class DyadicInstance:
    """Values and target as integers over the common denominator ``2**k``."""

    def __init__(self, values: np.ndarray, target: float) -> None:
        ratios = [float(v).as_integer_ratio() for v in values] + [float(target).as_integer_ratio()]
        den = max(q for _, q in ratios)
        self.den = den
        self.ints = [p * (den // q) for p, q in ratios[:-1]]
        p, q = ratios[-1]
        self.target = p * (den // q)

    def subset_sum(self, mask: np.ndarray) -> int:
        return sum(v for v, keep in zip(self.ints, mask) if keep)

    def error(self, mask: np.ndarray) -> int:
        return abs(self.target - self.subset_sum(mask))

    def to_fraction(self, x: int) -> Fraction:
        return Fraction(x, self.den)


def exact_sum(values: np.ndarray, mask: np.ndarray) -> Fraction:
    """Exact sum of the chosen values (a Fraction)."""
    return sum((Fraction(float(v)) for v, m in zip(values, mask) if m), start=Fraction(0))


def rounded_error(target: float, chosen: np.ndarray) -> float:
    """``|target - sum(chosen)|`` exactly, rounded once to float64: ``math.fsum``
    (correctly rounded), or exact rationals where its intermediate sums overflow;
    ``inf`` beyond float64."""
    try:
        e = abs(math.fsum([target] + (-chosen).tolist()))
    except OverflowError:
        e = math.nan
    if math.isfinite(e):
        return e
    try:
        return float(abs(Fraction(target) - sum(map(Fraction, chosen.tolist()), Fraction(0))))
    except OverflowError:
        return math.inf


def subset_sums(values: np.ndarray) -> np.ndarray:
    """All ``2**n`` float64 subset sums; index bit i set <=> values[i] included."""
    sums = np.zeros(1)
    for v in values:
        sums = np.concatenate([sums, sums + v])
    return sums


def mask_from_index(index: int, n: int) -> np.ndarray:
    """Bool mask of length n from a subset index (bit i <=> element i)."""
    return np.array([(index >> i) & 1 for i in range(n)], dtype=bool)
