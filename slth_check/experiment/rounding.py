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
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.arithmetic import ETA, gamma
from slth_check.network import TargetCNN

__all__ = ["figure_error_bounds", "output_error_bound"]


def _up(x: Fraction) -> float:
    """The least float at least ``x`` (up to one ulp above)."""
    f = float(x)
    return f if Fraction(f) >= x else math.nextafter(f, math.inf)


def _layer(K: np.ndarray, bias: np.ndarray | None, pool: str | None, M: list[Fraction],
           E: list[Fraction]) -> tuple[list[Fraction], list[Fraction]]:
    """One layer's (M, E) per output channel from the previous layer's."""
    d, _, c0, c1 = K.shape
    n = d * d * c0
    A = [[sum((Fraction(float(abs(v))) for v in K[:, :, k, o].ravel()), Fraction(0))
          for o in range(c1)] for k in range(c0)]
    Mo, Eo = [], []
    for o in range(c1):
        b = Fraction(0) if bias is None else abs(Fraction(float(bias[o])))
        m = b + sum(A[k][o] * M[k] for k in range(c0))
        e = sum(A[k][o] * E[k] for k in range(c0)) + (n + 1) * ETA + gamma(n + 1) * (
            b + sum(A[k][o] * (M[k] + E[k]) for k in range(c0)))
        if pool == "avg":
            e += gamma(3) * (m + e) + ETA
        Mo.append(m)
        Eo.append(e)
    return Mo, Eo


def output_error_bound(net: TargetCNN, lo: float = 0.0,
                       hi: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per output channel of ``net`` on inputs in the box ``[lo, hi]``: a bound on the size
    of the exact output and a bound on the distance of any float64 evaluation (as in the
    module docstring) from it; both rounded up to floats."""
    M = [max(abs(Fraction(lo)), abs(Fraction(hi)))] * net.c0
    E = [Fraction(0)] * net.c0
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
    the interval of num* / ref*) plus the division's rounding, with a margin for the float
    evaluation of this formula (positive terms only: a few ulps)."""
    u = 2.0**-53
    with np.errstate(divide="ignore", invalid="ignore"):
        b = (e_n * ref + num * e_f) / (ref * (ref - e_f)) + u * num / ref * (1 + u)
    return np.where(ref > e_f, b * (1 + 1e-12), np.inf)
