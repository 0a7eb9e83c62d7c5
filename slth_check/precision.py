"""Floating-point formats (one home): unit roundoff, range, the dtype handed to user code.

Used by the conv2d validator's tolerance model, its case generation and diagnosis, and
by the export of rounding bounds (:mod:`slth_check.export.rounding`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np


@dataclass(frozen=True)
class Precision:
    """A floating-point format: unit roundoff ``u``, smallest normal ``lam``,
    largest finite ``fmax``, the dtype handed to the user, the Hypothesis
    float width, and ``u``/``lam`` of the arithmetic assumed for transforms."""

    name: str
    u: Fraction
    lam: Fraction
    emin: int
    fmax: float
    dtype: type
    width: int
    fft_u: Fraction
    fft_lam: Fraction


_F64 = (Fraction(1, 2**53), Fraction(1, 2**1022))
_F32 = (Fraction(1, 2**24), Fraction(1, 2**126))
PRECISIONS: dict[str, Precision] = {
    "float64": Precision("float64", *_F64, -1022, float(np.finfo(np.float64).max),
                         np.float64, 64, *_F64),
    "float32": Precision("float32", *_F32, -126, float(np.finfo(np.float32).max),
                         np.float32, 32, *_F32),
    "float16": Precision("float16", Fraction(1, 2**11), Fraction(1, 2**14), -14, 65504.0,
                         np.float16, 16, *_F32),
    "bfloat16": Precision("bfloat16", Fraction(1, 2**8), Fraction(1, 2**126), -126,
                          float.fromhex("0x1.fep127"), np.float32, 32, *_F32),
}


def get_precision(name: str) -> Precision:
    """The :class:`Precision` called ``name`` (ValueError naming the choices)."""
    if name not in PRECISIONS:
        raise ValueError(f"precision: expected one of {tuple(PRECISIONS)}, got {name!r}")
    return PRECISIONS[name]


__all__ = ["PRECISIONS", "Precision", "get_precision"]
