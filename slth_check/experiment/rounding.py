"""A priori rounding bounds for Figure 4 on images (issue 22 point 1): how far the float64
per-image errors of any of the paths (fused, batched, reference) can be from their exact
values, so that the figure states its own precision and the paths can be compared with a
proven tolerance instead of a guess.

Model (Higham, *Accuracy and Stability of Numerical Algorithms*, 2002, Sec. 3.1): a
pre-activation ``z = b + sum_{t<=n} w_t y_t`` evaluated in float64 in any order, with or
without fused multiply-adds, on computed inputs ``y^`` satisfies
``|fl(z) - (b + sum w_t y^_t)| <= gamma_{n+1} (|b| + sum |w_t| |y^_t|) + (n + 1) eta`` with
``gamma_k = k u / (1 - k u)``, ``u = 2^-53`` and ``eta = 2^-1074`` (underflow); terms that
are skipped because ``y^_t = 0`` change neither side.  ReLU and max pooling are exact and
1-Lipschitz in the max norm; 2 x 2 average pooling adds ``gamma_3`` of its inputs' size plus
``eta``.  Per layer and output channel ``o``, with ``A[k, o] = sum_{a,b} |K[a, b, k, o]|``,
the exact activations satisfy ``|y_o| <= M_o = |b_o| + sum_k A[k, o] M'_k`` (``M'`` the
previous layer's, ``max(|lo|, |hi|)`` for the input box) and the computed ones are within
``E_o = sum_k A[k, o] E'_k + gamma_{n+1} (|b_o| + sum_k A[k, o] (M'_k + E'_k)) + (n+1) eta``
(plus the pooling term).  Everything is evaluated in exact rationals and rounded up.

The model assumes that nothing overflows.  Every computed partial sum of a layer is at most
``S_o = (1 + gamma_{n+1}) (|b_o| + sum_k A[k, o] (M'_k + E'_k)) + (n+1) eta`` in size, and
the sum of four pooled values at most ``4 (1 + gamma_3) (M_o + E_o)``; where either may
reach the largest float the error bound of that channel (and of every channel after it) is
``inf``, and a size bound beyond the largest float is ``inf`` too (an average pooling of
four values near the largest float overflows although their average does not).
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.arithmetic import ETA, gamma
from slth_check.network import TargetCNN

__all__ = ["figure_error_bounds", "output_error_bound"]


#: The largest finite float64.
_FMAX = Fraction(sys.float_info.max)


def _up(x: Fraction | None) -> float:
    """The least float at least ``x`` (up to one ulp above); ``inf`` for ``None`` (an
    overflow is possible) or beyond the largest float."""
    if x is None or x > _FMAX:
        return math.inf
    f = float(x)
    return f if Fraction(f) >= x else math.nextafter(f, math.inf)


def _layer(K: np.ndarray, bias: np.ndarray | None, pool: str | None, M: list[Fraction],
           E: list[Fraction | None]) -> tuple[list[Fraction], list[Fraction | None]]:
    """One layer's (M, E) per output channel from the previous layer's; an ``E`` of
    ``None`` stands for ``inf`` (an overflow is possible: module docs)."""
    d, _, c0, c1 = K.shape
    n = d * d * c0
    A = [[sum((Fraction(float(abs(v))) for v in K[:, :, k, o].ravel()), Fraction(0))
          for o in range(c1)] for k in range(c0)]
    Mo: list[Fraction] = []
    Eo: list[Fraction | None] = []
    for o in range(c1):
        b = Fraction(0) if bias is None else abs(Fraction(float(bias[o])))
        m = b + sum(A[k][o] * M[k] for k in range(c0))
        Mo.append(m)
        if any(x is None for x in E):  # even through a zero weight: inf * 0 is NaN
            Eo.append(None)
            continue
        size = b + sum(A[k][o] * (M[k] + (E[k] or 0)) for k in range(c0))
        e = sum(A[k][o] * (E[k] or 0) for k in range(c0)) + (n + 1) * ETA + gamma(n + 1) * size
        over = (1 + gamma(n + 1)) * size + (n + 1) * ETA >= _FMAX
        if pool == "avg":
            over |= 4 * (1 + gamma(3)) * (m + e) >= _FMAX
            e += gamma(3) * (m + e) + ETA
        Eo.append(None if over else e)
    return Mo, Eo


def output_error_bound(net: TargetCNN, lo: float = 0.0,
                       hi: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per output channel of ``net`` on inputs in the box ``[lo, hi]``: a bound on the size
    of the exact output and a bound on the distance of any float64 evaluation (as in the
    module docstring) from it; both rounded up to floats."""
    M = [max(abs(Fraction(lo)), abs(Fraction(hi)))] * net.c0
    E: list[Fraction | None] = [Fraction(0)] * net.c0
    for layer in net.layers:
        M, E = _layer(np.asarray(layer.K), layer.bias, layer.pool, M, E)
    return np.array([_up(m) for m in M]), np.array([_up(e) for e in E])


def figure_error_bounds(f: TargetCNN, gs: dict[int, TargetCNN], ref: np.ndarray,
                        num: dict[int, np.ndarray], lo: float = 0.0,
                        hi: float = 1.0) -> dict[int, dict[str, Any]]:
    """Per n: bounds on ``|computed - exact|`` of the per-image maximum absolute error
    (``"absolute"``, a priori), of each image's relative error ``num / ref`` (``"relative"``,
    an array: a posteriori from the computed ``ref`` and ``num``; inf where ``ref`` is not
    above its own error bound) and of ``max num / max ref`` (``"authors"``)."""
    Mf, Ef = output_error_bound(f, lo, hi)
    e_f = float(Ef.max())
    out = {}
    for n, g in gs.items():
        Mg, Eg = output_error_bound(g, lo, hi)
        u = 2.0**-53
        # |fl(F^ - G^) - (F^ - G^)| <= u |F^ - G^| <= u (Mf + Ef + Mg + Eg)
        e_n = float((Ef + Eg).max() + u * (Mf + Ef + Mg + Eg).max()) * (1 + 1e-12)
        out[n] = {"absolute": e_n, "relative": _relative(num[n], ref, e_n, e_f),
                  "authors": float(_relative(np.array([num[n].max()]),
                                             np.array([ref.max()]), e_n, e_f)[0])}
    return out


def _relative(num: np.ndarray, ref: np.ndarray, e_n: float, e_f: float) -> np.ndarray:
    """A bound on ``|fl(num / ref) - num* / ref*|`` with ``|num - num*| <= e_n`` and
    ``|ref - ref*| <= e_f``: ``(e_n ref + num e_f) / (ref (ref - e_f))`` (the larger side of
    the interval of num* / ref*) plus the division's rounding ``u num / ref``.

    Evaluated as ``(e_n + (num / ref) e_f) / (ref - e_f) + 2u (num / ref)``, which neither
    under- nor overflows for mere scale (``ref (ref - e_f)`` does: below about 1e-154 it
    underflows, giving a bound far too small or NaN, and above about 1e154 it overflows,
    giving a bound without its first term); all terms are positive and ``ref - e_f`` is
    exact or within ``u`` (Sterbenz), so where every intermediate is zero-free and normal
    a relative margin covers the float evaluation; elsewhere (and for an overflowed
    intermediate whose result is not ``inf``) the bound is evaluated in exact rationals and
    rounded up, the division's rounding then with its underflow term ``eta / 2``."""
    u, tiny = 2.0**-53, sys.float_info.min
    num, ref = np.asarray(num, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    ok = ref > e_f
    with np.errstate(all="ignore"):
        r = num / ref
        t = r * e_f
        s = e_n + t
        b1 = s / (ref - e_f)
        c = r * (2 * u)
        b = (b1 + c) * (1 + 1e-12)
    normal = (s >= tiny) & (b1 >= tiny) & ((num == 0) | ((r >= tiny) & (t >= tiny)
                                                         & (c >= tiny)))
    safe = ~ok | (b == np.inf) | (normal & np.isfinite(b))
    for i in zip(*np.nonzero(~safe)):
        N, R, En, Ef = (Fraction(float(v)) for v in (num[i], ref[i], e_n, e_f))
        exact = (En * R + N * Ef) / (R * (R - Ef)) + 2 * Fraction(u) * N / R + ETA
        b[i] = _up(exact)
    return np.where(ok, b, np.inf)
