"""Interval bound propagation in float64 with outward rounding (sound).

Every rounding is covered: Higham's ``gamma_m`` on each convolution and dot
product (eq. 3.5) plus gradual underflow, the centre/radius arithmetic, average
pooling, and the effective kernels and biases of Eq. 2 (``US @ VT``), which are
only known up to their own rounding (:func:`matmul_enclosure`).
"""

from __future__ import annotations

import math
from typing import Any, overload

import numpy as np

from slth_check.arithmetic import ETA as ETA_EXACT
from slth_check.arithmetic import gamma
from slth_check.conv import Padding, conv2d, pool2d
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN, PrunedLayer

#: The smallest positive float64 (the gradual-underflow unit).

ETA = float(ETA_EXACT)  # the smallest positive float64, 2^-1074


@overload
def round_down(x: float) -> float: ...
@overload
def round_down(x: np.ndarray) -> np.ndarray: ...
def round_down(x: float | np.ndarray) -> float | np.ndarray:
    """The next float64 below ``x`` (entrywise): a lower bound of any quantity whose
    round-to-nearest value is ``x``."""
    return np.nextafter(x, -np.inf)


@overload
def round_up(x: float) -> float: ...
@overload
def round_up(x: np.ndarray) -> np.ndarray: ...
def round_up(x: float | np.ndarray) -> float | np.ndarray:
    """The next float64 above ``x`` (entrywise): an upper bound of any quantity whose
    round-to-nearest value is ``x``."""
    return np.nextafter(x, np.inf)


def conv_upper(W: np.ndarray, X: np.ndarray, padding: Padding, stride: int) -> np.ndarray:
    """Sound upper bound of ``W * X`` for entrywise non-negative float W and X.

    The computed sum of non-negative products is within ``gamma_m`` (relative)
    of the exact one plus ``m eta`` for gradual underflow (Higham, eq. 3.5);
    the factor 2 covers the rounding of the bound itself.
    """
    c = conv2d(W, X, padding=padding, stride=stride)
    m = W.shape[0] * W.shape[1] * W.shape[2]
    g = float(gamma(m + 1)) * 2
    return round_up(round_up(c * (1 + g)) + 2 * m * ETA)


def matmul_enclosure(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(A @ B, r)`` in float64 with ``|A @ B - exact| <= r`` entrywise (sound).

    Any summation order (BLAS blocking, FMA) satisfies
    ``|fl(a.b) - a.b| <= gamma_n |a|.|b| + n eta`` for a dot product of length
    n with gradual underflow (Higham, eq. 3.5, plus one ``eta`` per product).
    ``|A| @ |B|`` is itself computed with a relative error below ``gamma_n`` and
    the factor 2 and the outward steps cover it.  Used for the effective kernels
    and biases of Eq. 2, where trained weights (``||K||_1`` up to 1.5e4 in the
    paper) make cancellation real: the float64 product alone is no bound.
    """
    P = A @ B
    n = A.shape[-1]
    g = float(gamma(n + 2)) * 2
    r = round_up(round_up((np.abs(A) @ np.abs(B)) * round_up(g)) + 4 * (n + 1) * ETA)
    return P, r


def avg_pool_enclosure(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sound enclosure of 2x2 average pooling of any array between ``lo`` and ``hi``.

    Average pooling is monotone; its float64 value (a sum of 4, then ``/ 4``) is
    within ``gamma_3`` of the exact sum of magnitudes over 4, plus ``eta`` for a
    subnormal quotient.
    """
    mag = pool2d(np.maximum(np.abs(lo), np.abs(hi)), "avg")
    slack = round_up(round_up(mag * float(gamma(4)) * 2) + 4 * ETA)
    return (round_down(round_down(pool2d(lo, "avg")) - slack),
            round_up(round_up(pool2d(hi, "avg")) + slack))


def interval_conv(W: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, padding: Padding = "paper",
                  stride: int = 1, W_rad: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Sound enclosure of ``W' * X`` for ``lo <= X <= hi`` and ``|W' - W| <= W_rad``.

    Centre/radius form; every rounding (Higham's ``gamma_m`` per output, the
    underflow term, the centre and radius themselves) is covered by outward
    widening, so the true ``W' * X`` lies in ``[lo', hi']`` for every X in the
    box and every kernel within ``W_rad`` of ``W`` (``W_rad`` covers a kernel
    that is only known up to its own rounding, as the effective kernels are).
    """
    mid = lo / 2 + hi / 2
    rad = round_up(np.maximum(hi - mid, mid - lo))
    rad = round_up(rad * (1 + 2**-50))
    aW = np.abs(W)
    c = conv2d(W, mid, padding=padding, stride=stride)
    r = conv2d(aW, rad, padding=padding, stride=stride)
    a = conv2d(aW, np.abs(mid), padding=padding, stride=stride)
    m = W.shape[0] * W.shape[1] * W.shape[2]
    g = float(gamma(m + 2)) * 2
    slack = round_up(round_up(r * (1 + g)) + round_up(a * g) + 4 * m * ETA)
    if W_rad is not None:
        mag = np.maximum(np.abs(lo), np.abs(hi))
        slack = round_up(slack + conv_upper(W_rad, mag, padding, stride))
    return round_down(c - slack), round_up(c + slack)


def _interval_post(lo, hi, bias, relu_on, pool, bias_rad=None):
    if bias is not None:
        lo, hi = round_down(lo + bias), round_up(hi + bias)
        if bias_rad is not None:
            lo, hi = round_down(lo - bias_rad), round_up(hi + bias_rad)
    if relu_on:
        lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
    if pool == "max":
        lo, hi = pool2d(lo, "max"), pool2d(hi, "max")
    elif pool == "avg":
        lo, hi = avg_pool_enclosure(lo, hi)
    return lo, hi


def interval_target(target: TargetCNN, D: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Interval bounds of every layer output of f on X in [0, 1]^{D x D x c0}."""
    lo, hi = np.zeros((D, D, target.c0)), np.ones((D, D, target.c0))
    out = []
    for i, L in enumerate(target.layers):
        lo, hi = interval_conv(L.K, lo, hi, padding=L.padding, stride=L.stride)
        lo, hi = _interval_post(lo, hi, L.bias, i < target.ell - 1 or target.final_relu, L.pool)
        out.append((lo, hi))
    return out


def effective_enclosure(layer: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None,
                                              np.ndarray | None]:
    """Float64 effective kernel and bias of a pruned layer (Eq. 2) with sound radii.

    Returns ``(L, L_rad, b, b_rad)``: the exact ``sum_t V T U S`` lies within
    ``L_rad`` of ``L`` entrywise (:func:`matmul_enclosure`), likewise the bias.
    """
    US = np.where(layer.S, layer.U, 0.0)
    VT = np.where(layer.T, layer.V, 0.0)[0, 0]
    L, L_rad = matmul_enclosure(US, VT)
    b = b_rad = None
    if layer.Ub is not None:
        b, b_rad = matmul_enclosure(np.where(layer.Sb, layer.Ub, 0.0)[None], VT)
        b, b_rad = b[0], b_rad[0]
    return L, L_rad, b, b_rad


def interval_pruned(pruned: PrunedCNN, D: int, c0: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Interval bounds of every emulated layer output of g on X in [0, 1].

    For a linearisable network the effective network is propagated (equal to
    g on X >= 0 by Eq. 1-2, and much tighter than the two random layers), with
    the rounding of its float64 kernels and biases covered by their radii
    (:func:`effective_enclosure`).
    """
    lo, hi = np.zeros((D, D, c0)), np.ones((D, D, c0))
    out = []
    lin = pruned.linearisable()
    for i, L in enumerate(pruned.layers):
        last_relu = i < pruned.ell - 1 or pruned.final_relu
        if lin:
            W, W_rad, b, b_rad = effective_enclosure(L)
            lo, hi = interval_conv(W, lo, hi, padding=L.padding, stride=L.stride, W_rad=W_rad)
            lo, hi = _interval_post(lo, hi, b, last_relu, L.pool, b_rad)
        else:
            US = np.where(L.S, L.U, 0.0)
            VT = np.where(L.T, L.V, 0.0)
            lo, hi = interval_conv(US, lo, hi, padding=L.padding, stride=L.stride)
            ub = L.kept_bias()
            lo, hi = _interval_post(lo, hi, ub, True, None)
            lo, hi = interval_conv(VT, lo, hi)
            lo, hi = _interval_post(lo, hi, None, last_relu, L.pool)
        out.append((lo, hi))
    return out


def interval_bound(boxes_f: list, boxes_g: list) -> float:
    """Sound upper bound of ``||f - g||_max`` from the last layers' enclosures."""
    (flo, fhi), (glo, ghi) = boxes_f[-1], boxes_g[-1]
    return float(np.max(np.maximum(round_up(fhi - glo), round_up(ghi - flo))))


#: The largest activation size the certified bounds accept (2^600: enclosures, their
#: products with weights and their differences stay far inside float64's range).
SIZE_LIMIT = 2.0**600


def size_bound(net: TargetCNN | PrunedCNN) -> float:
    """An upper bound (up to a factor ``1 + 1e-9``: it only screens) of every activation
    on inputs in ``[0, 1]``: per layer ``max_o |b_o| + sum |K[.., o]| M`` (padding and
    pooling only lower it); for a pruned layer through ``U`` (masked) then ``V``.  Inf
    when it overflows."""
    M = 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        for L in net.layers:
            if isinstance(L, PrunedLayer):
                U = np.abs(np.where(L.S, L.U, 0.0)).sum(axis=(0, 1, 2))
                ub = 0.0 if L.Ub is None or L.Sb is None else np.abs(np.where(L.Sb, L.Ub, 0.0))
                V = np.abs(np.where(L.T, L.V, 0.0))[0, 0]
                M = float(np.max((U * M + ub) @ V, initial=0.0))
            else:
                b = 0.0 if L.bias is None else np.abs(L.bias)
                M = float(np.max(np.abs(L.K).sum(axis=(0, 1, 2)) * M + b, initial=0.0))
            M *= 1 + 1e-9
            if not np.isfinite(M):
                return math.inf
    return M
