"""Crafted (target, pruned) pairs for ``slth-check validate pruned``, each with its exact
sup error over ``X in [0, 1]^{D x D x c0}`` known by construction.

Every entry returns ``(target_layers, pruned_layers, sup, why)``: ``sup`` is a Fraction
derived by hand from the construction (``why`` says how), never by the code under
test; the zoo test checks it against an exact replay at the maximiser too.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from slth_check.fileio.networks import save_networks
from slth_check.network import ConvLayer, TargetCNN
from slth_check.pruned import PrunedCNN, PrunedLayer

BIG = 2.0**53


def _ones(shape=(1, 1, 1, 1)):
    return np.ones(shape), np.ones(shape, bool)


def _identity_pruned():
    U, S = _ones()
    V, T = _ones()
    return PrunedLayer(U, V, S, T)


def cancelling_layer(pool=None, bias=False):
    """A pruned 1x1 layer whose effective kernel is 1 + 2^53 - 2^53 = 1 exactly and 0 in
    float64 (with ``bias``: random biases 1, kept)."""
    U = np.ones((1, 1, 1, 3))
    V = np.array([1.0, BIG, -BIG]).reshape(1, 1, 3, 1)
    Ub = Sb = None
    if bias:
        Ub, Sb = np.ones(3), np.ones(3, bool)
    return PrunedLayer(U, V, np.ones(U.shape, bool), np.ones(V.shape, bool), Ub, Sb, pool=pool)


def cancelling_kernel():
    """Effective kernel 1 + 2^53 - 2^53 = 1 exactly (0 in float64) against a target 0;
    a second identity layer.  f - g = -x, sup = 1 at x = 1."""
    p = [cancelling_layer(), _identity_pruned()]
    t = [ConvLayer(np.zeros((1, 1, 1, 1))), ConvLayer(np.ones((1, 1, 1, 1)))]
    return t, p, Fraction(1), "f = 0, g = x on x >= 0"


def cancelling_bias():
    """Effective bias 2^-60 + 2^53 - 2^53 = 2^-60 exactly (0 in float64), target bias 0,
    kernels 0: f - g = -2^-60 for every input."""
    U0 = np.zeros((1, 1, 1, 3))
    V = np.array([1.0, BIG, -BIG]).reshape(1, 1, 3, 1)
    p = [PrunedLayer(U0, V, np.zeros(U0.shape, bool), np.ones(V.shape, bool),
                     np.array([2.0**-60, 1.0, 1.0]), np.ones(3, bool)), _identity_pruned()]
    t = [ConvLayer(np.zeros((1, 1, 1, 1)), bias=np.zeros(1)), ConvLayer(np.ones((1, 1, 1, 1)))]
    return t, p, Fraction(1, 2**60), "constant error: the bias path only"


def deep_offset():
    """3 layers of 2x2 kernels; layer 1 loses 1/2 at offset (1, 1), layers 2 and 3 copy
    offset (1, 1) exactly: f - g = x[p-3, q-3] / 2, first seen at D = 4 (the receptive
    field); sup = 1/2."""
    def e11(v):
        K = np.zeros((2, 2, 1, 1))
        K[1, 1] = v
        return K

    t = [ConvLayer(e11(0.5)), ConvLayer(e11(1.0)), ConvLayer(e11(1.0))]
    U = e11(1.0)
    one = np.ones((1, 1, 1, 1))
    p = [PrunedLayer(U, one, np.zeros(U.shape, bool), one > 0)]
    p += [PrunedLayer(U, one, U > 0, one > 0) for _ in range(2)]
    return t, p, Fraction(1, 2), "linear, non-negative error kernel; max at x = 1"


def negative_U_kept():
    """Not linearisable: U = -1 kept, so g = V relu(-x) = 0 on x >= 0; target 1/4 x:
    sup = 1/4."""
    U, S = -np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1), bool)
    V, T = _ones()
    return [ConvLayer(np.full((1, 1, 1, 1), 0.25))], [PrunedLayer(U, V, S, T)], \
        Fraction(1, 4), "g = 0 on x >= 0"


def deep_cancellation_everywhere():
    """Two 2x2 layers with biases, every effective entry a sum 2^30 + r - 2^30 with
    r = 3/4 of the target entry (kernels) and r = target bias - 1/8 (biases);
    every weight and input non-negative, so the ReLUs are identities and f - g is
    affine and non-decreasing: the sup is at x = 1 (computed exactly by the test)."""
    big = 2.0**30
    K1 = np.array([0.5, 0.25, 0.125, 0.0625]).reshape(2, 2, 1, 1)
    K2 = np.array([0.25, 0.5, 0.0, 0.125]).reshape(2, 2, 1, 1)
    t = [ConvLayer(K1, bias=np.array([0.5])), ConvLayer(K2, bias=np.array([0.25]))]
    p = []
    for K, b in ((K1, 0.5), (K2, 0.25)):
        r = 0.75 * K
        one = np.ones((2, 2, 1, 1))
        Ueff = np.concatenate([one, r, one], axis=3)  # (U under 2^30, r under 1, U under -2^30)
        V = np.array([big, 1.0, -big]).reshape(1, 1, 3, 1)
        Ub = np.array([1.0, b - 0.125, 1.0])
        p.append(PrunedLayer(Ueff, V, np.ones(Ueff.shape, bool), np.ones(V.shape, bool), Ub,
                             np.ones(3, bool)))
    return t, p, None, "non-negative affine error: max at x = 1"


ZOO = {f.__name__: f for f in (cancelling_kernel, cancelling_bias, deep_offset,
                               negative_U_kept, deep_cancellation_everywhere)}


def write(tmp_path, target_layers, pruned_layers):
    """The three .npz files of ``validate pruned`` (the package's one encoding)."""
    paths = [tmp_path / n for n in ("T.npz", "R.npz", "M.npz")]
    save_networks(*paths, TargetCNN(target_layers), PrunedCNN(pruned_layers))
    return [str(p) for p in paths]
