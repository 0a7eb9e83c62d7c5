"""Hypothesis cases for :func:`slth_check.validate.conv2d.core.validate_conv2d`.

**Generation.**  Hypothesis draws ``d <= max_d`` (5), ``d <= D <= max_D`` (8),
``c0, c1 <= max_channels`` (4), ``N <= max_batch`` (3), in that order, so a
failure shrinks toward (1, 1, 1, 1); entries mix small integers, unit-scale
floats, large values up to ``max_abs`` (1e6; float16: the largest power of two
for which no product or sum can overflow) and tiny values down to
``2**(emin/2)`` of the precision, all zero or *normal* numbers representable
in the precision (no subnormal inputs, so denormals-are-zero hardware
computes on the same values).  For ``bfloat16`` the arrays are float32
holding bfloat16-representable values (NumPy has no bfloat16).

**The grid** of small configurations checked before the random cases is
:mod:`slth_check.validate.conv2d.grid`.

**Bounds** (:func:`check_limits`): the options of a run are checked before any
case is drawn (ValueError naming the option): no case too slow to check
exactly (:data:`MAX_WORK`), no vacuous rounding bound, no overflow, and a
stride that leaves some case more than one output per axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from slth_check.precision import Precision, get_precision
from slth_check.validate.conv2d.tolerance import normwise_factor


def _round_bfloat16(a: Any) -> np.ndarray:
    """Round float32 values to the nearest bfloat16 (ties to even), as float32."""
    b = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r: np.ndarray = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return r.astype(np.uint32).view(np.float32)


def to_precision(a: np.ndarray, p: Precision) -> np.ndarray:
    """``a`` rounded to the precision's dtype (bfloat16: float32 arrays of bfloat16 values)."""
    out: np.ndarray = np.asarray(a, dtype=np.float64).astype(p.dtype)
    return _round_bfloat16(out) if p.name == "bfloat16" else out


def default_max_abs(precision: str = "float64", max_d: int = 5,
                    max_channels: int = 4) -> float:
    """1e6, or the largest power of two ``A`` with ``4 m A^2 <= fmax`` (no overflow)."""
    p = get_precision(precision)
    m = max_d * max_d * max_channels
    cap = math.sqrt(p.fmax / (4 * m))
    return 1e6 if cap >= 1e6 else float(2 ** math.floor(math.log2(cap)))


def _tiny(p: Precision) -> float:
    """Smallest generated magnitude, ``2**(emin/2)``: products of two stay normal."""
    return math.ldexp(1.0, -((-p.emin) // 2))


def _elements(p: Precision, max_abs: float) -> st.SearchStrategy[float]:
    """One entry: a small integer, a unit-scale float, a large float up to ``max_abs``
    or a tiny one; zero or normal, representable in the precision."""
    kw: dict[str, Any] = dict(allow_nan=False, allow_infinity=False, allow_subnormal=False,
                              width=p.width)
    a = float(max_abs)
    small = min(2.0, a)
    parts = [st.integers(-min(4, int(a)), min(4, int(a))).map(float),
             st.floats(-small, small, **kw),
             st.floats(-a, a, **kw),
             st.builds(lambda s, v: s * v, st.sampled_from([-1.0, 1.0]),
                       st.floats(_tiny(p), max(2.0**-10, 8 * _tiny(p)), **kw))]
    el = st.one_of(*parts)
    if p.name == "bfloat16":
        el = el.map(lambda v: float(_round_bfloat16(v)))
    return el


#: Background kinds of a generated array (0, the shrink target, is "none").
BACKGROUNDS = ("none", "integers", "unit", "wide", "mixed")


def _background(kind: int, seed: int, size: int, p: Precision, max_abs: float) -> np.ndarray:
    """Dense pseudo-random entries of one kind (see :data:`BACKGROUNDS`)."""
    rng = np.random.default_rng(seed)
    ints = rng.integers(-min(4, int(max_abs)), min(4, int(max_abs)) + 1, size).astype(float)
    unit = rng.uniform(-min(2.0, max_abs), min(2.0, max_abs), size)
    lo, hi = math.log2(_tiny(p)), math.log2(max_abs)
    wide = rng.choice([-1.0, 1.0], size) * np.exp2(rng.uniform(lo, hi, size))
    wide = np.clip(wide, -max_abs, max_abs)
    out: np.ndarray
    if kind == 0:
        out = np.zeros(size)
    elif kind == 1:
        out = ints
    elif kind == 2:
        out = unit
    elif kind == 3:
        out = wide
    else:
        pick = rng.integers(0, 3, size)
        out = np.choose(pick, [ints, unit, wide])
        out[rng.random(size) < 0.2] = 0.0
    return to_precision(out, p)


@st.composite
def _array(draw: Any, shape: tuple[int, ...], p: Precision, max_abs: float) -> np.ndarray:
    """A dense pseudo-random background (kind and seed drawn) overwritten by up to
    8 explicit entries: few draws, and shrinks to "no background, few small entries"."""
    size = int(np.prod(shape))
    kind = draw(st.integers(0, len(BACKGROUNDS) - 1))
    seed = draw(st.integers(0, 2**32 - 1)) if kind else 0
    a = _background(kind, seed, size, p, max_abs)
    for i, v in draw(st.lists(st.tuples(st.integers(0, size - 1), _elements(p, max_abs)),
                              max_size=8)):
        a[i] = v
    return a.reshape(shape)


def _check_int(name: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"{name}: expected an integer in [{lo}, {hi}], got {v!r}")
    return int(v)


#: Largest d^2 (D + d - 1)^2 c0 c1 N allowed (about 5 s per exact check).
MAX_WORK = 5_000_000


@dataclass
class Limits:
    """The checked bounds of the generated cases."""

    max_examples: int
    max_d: int
    max_D: int
    max_channels: int
    max_batch: int
    max_abs: float
    stride: int = 1

    def shapes(self) -> dict[str, Any]:
        """The keyword arguments of :func:`conv_cases`."""
        return dict(max_d=self.max_d, max_D=self.max_D, max_channels=self.max_channels,
                    max_batch=self.max_batch, max_abs=self.max_abs, stride=self.stride)


def check_limits(padding: str, p: Precision, rtol: Any, max_examples: Any, max_d: Any,
                 max_D: Any, max_channels: Any, max_batch: Any, max_abs: Any,
                 stride: Any = 1) -> Limits:
    """The bounds of a run checked (ValueError naming the argument), ``max_abs``
    defaulted: no case too slow to check exactly, no vacuous rounding bound, no
    overflow, and a stride that some case can tell apart (:func:`check_stride`)."""
    precision = p.name
    if rtol is not None and not (isinstance(rtol, (int, float)) and rtol >= 0
                                 and np.isfinite(rtol)):
        raise ValueError(f"rtol: expected a finite non-negative number, got {rtol!r}")
    max_examples = _check_int("max_examples", max_examples, 1, 10**6)
    max_d = _check_int("max_d", max_d, 1, 32)
    max_D = _check_int("max_D", max_D, 1, 256)
    max_channels = _check_int("max_channels", max_channels, 1, 64)
    max_batch = _check_int("max_batch", max_batch, 1, 64)
    if padding == "valid" and max_D < max_d:
        raise ValueError(f"max_D: padding 'valid' needs D >= d; got max_D={max_D} < "
                         f"max_d={max_d}")
    work = max_d**2 * (max(max_D, max_d) + max_d - 1) ** 2 * max_channels**2 * max_batch
    if work > MAX_WORK:
        raise ValueError(f"max_d/max_D/max_channels/max_batch: cases of up to d^2 (D+d-1)^2 "
                         f"c0 c1 N = {work} multiply-adds are too slow to check exactly "
                         f"(at most {MAX_WORK})")
    m_max = max_d * max_d * max_channels
    if m_max * p.u > Fraction(1, 2):
        raise ValueError(f"max_d/max_channels: kernels of d*d*c0 = {m_max} terms make the "
                         f"{precision} rounding bound vacuous (m u > 1/2); lower them")
    normwise_factor(max(max_D, max_d), max_d, max_channels, precision)  # not vacuous
    cap = default_max_abs(precision, max_d, max_channels)
    if max_abs is None:
        max_abs = cap
    elif isinstance(max_abs, bool) or not isinstance(max_abs, (int, float)) \
            or not (1 <= max_abs <= cap):
        raise ValueError(f"max_abs: expected a number in [1, {cap:g}] ({precision}: larger "
                         f"values could overflow with d*d*c0 = {m_max}), got {max_abs!r}")
    stride = check_stride(stride, padding, max_d, max_D)
    return Limits(max_examples, max_d, max_D, max_channels, max_batch, max_abs, stride)


def check_stride(stride: Any, padding: str = "paper", max_d: int = 5, max_D: int = 8) -> int:
    """``stride`` as an int in ``[1, 32]``, small enough that the largest generated case
    has two outputs per axis (else no case could tell a stride from another): ValueError
    naming it otherwise."""
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) \
            or not 1 <= stride <= 32:
        raise ValueError(f"stride: expected an integer in [1, 32], got {stride!r}")
    length = max_D + max_d - 1 if padding == "full" else max_D  # the longest crop
    if stride > 1 and length < stride + 1:
        raise ValueError(f"stride: {stride} leaves one output per axis in every case up to "
                         f"max_D={max_D} ({padding} padding); raise max_D to at least "
                         f"{stride + 1 - (length - max_D)}")
    return int(stride)


@st.composite
def conv_cases(draw: Any, padding: str = "paper", *, precision: str = "float64",
               max_d: int = 5, max_D: int = 8, max_channels: int = 4, max_batch: int = 3,
               max_abs: float | None = None, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Kernels ``K`` (d, d, c0, c1) and inputs ``X`` (N, D, D, c0) in the precision's
    dtype.  ``d`` is drawn first, then ``D`` (``D >= d`` for ``valid`` padding), ``c0``,
    ``c1``, ``N``, so failures shrink toward (1, 1, 1, 1).
    Each array is a dense background of one kind
    (small integers, unit floats, a log-uniform spread from ``2**(emin/2)`` to
    ``max_abs``, or a mix with zeros) overwritten by a few explicit entries
    (module docs); shrinking removes the background and simplifies the entries.
    A ``stride`` (:func:`check_stride`) does not change the arrays: the same ``(K, X)``
    are convolved at that stride; it is checked against ``max_D`` here."""
    check_stride(stride, padding, max_d, max_D)
    p = get_precision(precision)
    if max_abs is None:
        max_abs = default_max_abs(precision, max_d, max_channels)
    d = draw(st.integers(1, max_d))
    D = draw(st.integers(d if padding == "valid" else 1, max(d, max_D)))
    c0 = draw(st.integers(1, max_channels))
    c1 = draw(st.integers(1, max_channels))
    N = draw(st.integers(1, max_batch))
    K = draw(_array((d, d, c0, c1), p, max_abs))
    X = draw(_array((N, D, D, c0), p, max_abs))
    return K, X


__all__ = ["BACKGROUNDS", "MAX_WORK", "Limits", "check_limits", "check_stride", "conv_cases",
           "default_max_abs", "to_precision"]
