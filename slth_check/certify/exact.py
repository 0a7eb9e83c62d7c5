"""Exact replay of ``||f(X) - g(X)||_max`` (Fractions), and the float model the
searches run on.

Every lower bound of :func:`slth_check.certify.sup_error` is a value computed here.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from slth_check.conv import conv2d_exact
from slth_check.network import ConvLayer, LayeredCNN, TargetCNN
from slth_check.pruned import PrunedCNN, PrunedLayer


def exact_error(target: TargetCNN, pruned: PrunedCNN, X: np.ndarray, *,
                via: str = "pruned") -> Fraction:
    """``||f(X) - g(X)||_max`` in exact arithmetic.

    ``via="effective"`` evaluates g through its effective kernels, equal to g
    on ``X >= 0`` when the pruned network is linearisable (Eq. 1-2); it is
    much faster for wide pruned layers and refused otherwise.
    """
    f = target.forward_exact(X)
    if via == "effective":
        if not pruned.linearisable() or np.any(np.asarray(X, dtype=float) < 0):
            raise ValueError("via: 'effective' needs a linearisable network and X >= 0")
        g = exact_effective_forward(pruned, X)
    else:
        g = pruned.forward_exact(X)
    return max((abs(v) for v in (f - g).ravel()), default=Fraction(0))


class _ExactEffective(LayeredCNN):
    """The pruned network through its exact effective kernels (Eq. 2), exact only."""

    def __init__(self, pruned: PrunedCNN) -> None:
        self.layers = pruned.layers
        self.final_relu = pruned.final_relu
        self._L = [(L.effective_kernel(exact=True), L.effective_bias(exact=True))
                   for L in pruned.layers]

    def _pre(self, i: int, X: np.ndarray, exact: bool) -> np.ndarray:
        L, b = self._L[i]
        P = self.layers[i]
        Z = conv2d_exact(L, X, padding=P.padding, stride=P.stride)
        return Z if b is None else Z + b


def rounded_effective_network(pruned: PrunedCNN) -> TargetCNN:
    """The effective network (Eq. 2) with kernels and biases summed exactly, then rounded
    to the nearest float64: the float model used to *search* for bad inputs (every
    candidate is replayed exactly).  Unlike ``pruned.effective_network()`` it does not
    lose cancelling summands (trained-size weights make that real)."""
    def rnd(a: np.ndarray) -> np.ndarray:
        return np.vectorize(float, otypes=[float])(a)

    def layer(L: PrunedLayer) -> ConvLayer:
        b = L.effective_bias(exact=True)
        return ConvLayer(rnd(L.effective_kernel(exact=True)), bias=None if b is None else rnd(b),
                         padding=L.padding, stride=L.stride, pool=L.pool)

    return TargetCNN([layer(L) for L in pruned.layers], final_relu=pruned.final_relu)


def exact_effective_forward(pruned: PrunedCNN, X: np.ndarray) -> np.ndarray:
    """Exact forward pass through the exact effective kernels (see :func:`exact_error`)."""
    return _ExactEffective(pruned).forward_exact(X)
