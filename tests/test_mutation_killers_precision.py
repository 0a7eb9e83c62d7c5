"""Tests that kill mutants of slth_check.precision (scripts/mutation.py).

The expected parameters are the IEEE 754 (binary64, binary32, binary16) and bfloat16
format facts, written out by hand: with ``p`` significand bits (the hidden one included)
and ``emin`` the exponent of the smallest normal, ``u = 2^-p``, ``lam = 2^emin`` and
``fmax = (2 - 2^(1-p)) 2^(-emin+1)``.  The transforms of float16 and bfloat16 are assumed to
run in float32 (module docs of slth_check.validate.conv2d.tolerance).
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest

from slth_check.precision import PRECISIONS, get_precision

# name: (p, emin, dtype handed to the user, Hypothesis width)
FORMATS = {
    "float64": (53, -1022, np.float64, 64),
    "float32": (24, -126, np.float32, 32),
    "float16": (11, -14, np.float16, 16),
    "bfloat16": (8, -126, np.float32, 32),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_precision_parameters_are_the_ieee_ones(name):
    p_bits, emin, dtype, width = FORMATS[name]
    p = get_precision(name)
    assert p.name == name
    assert p.u == Fraction(1, 2 ** p_bits)
    assert p.lam == Fraction(1, 2 ** -emin)
    assert p.emin == emin
    assert Fraction(p.fmax) == (2 - Fraction(1, 2 ** (p_bits - 1))) * 2 ** (-emin + 1)
    assert p.dtype is dtype
    assert p.width == width
    fft_u, fft_lam = ((Fraction(1, 2 ** 53), Fraction(1, 2 ** 1022)) if name == "float64"
                      else (Fraction(1, 2 ** 24), Fraction(1, 2 ** 126)))
    assert (p.fft_u, p.fft_lam) == (fft_u, fft_lam)


@pytest.mark.parametrize("name", ["float64", "float32", "float16"])
def test_precision_agrees_with_numpy_finfo(name):
    # an independent second source for the formats numpy implements: eps = 2u, tiny = lam
    p, fi = get_precision(name), np.finfo(FORMATS[name][2])
    assert 2 * p.u == Fraction(float(fi.eps))
    assert p.lam == Fraction(float(fi.tiny))
    assert p.fmax == float(fi.max) and p.emin == fi.minexp


def test_get_precision_refuses_unknown_names_and_precisions_are_frozen():
    assert set(PRECISIONS) == set(FORMATS)
    assert get_precision("float32") is PRECISIONS["float32"]
    with pytest.raises(ValueError, match="precision: expected one of"):
        get_precision("float8")
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_precision("float64").u = Fraction(1, 4)
