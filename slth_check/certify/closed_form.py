"""The closed form of one layer's sup error (Eq. 1-2): exact, with a 0/1 witness.

For ``X >= 0`` and a linearisable pruned layer the error map is
``(K - L) * X + (b - b~)``, linear, so per output position the sup over
``[0, M]`` is ``max(M sum E+ + db, M sum E- - db)`` over the window the padding
leaves, with ``E = K - L``; computed in rational arithmetic.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from slth_check.arithmetic import to_fraction
from slth_check.conv import Padding, conv2d_exact, crop_window
from slth_check.network import ConvLayer
from slth_check.pruned import PrunedLayer


def error_parts(K: np.ndarray, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact positive and negative parts ``(E+, E-)`` of ``E = K - L`` (object arrays)."""
    E = to_fraction(K) - to_fraction(L)
    pos = np.asarray(np.frompyfunc(lambda v: v if v > 0 else Fraction(0), 1, 1)(E), dtype=object)
    neg = np.asarray(np.frompyfunc(lambda v: -v if v < 0 else Fraction(0), 1, 1)(E), dtype=object)
    return pos, neg


def bias_gap(K: ConvLayer, P: PrunedLayer) -> np.ndarray | None:
    """Exact ``b - b~`` of a target layer and its emulation (None without biases)."""
    return None if K.bias is None else to_fraction(K.bias) - P.effective_bias(exact=True)


def layer_sup_error(K: np.ndarray, L: np.ndarray, D: int, *, M: Fraction = Fraction(1),
                    db: np.ndarray | None = None, padding: Padding = "paper",
                    stride: int = 1) -> tuple[Fraction, tuple[int, ...], np.ndarray]:
    """Exact ``sup_{X in [0,M]} ||(K - L) * X + db||_max`` and its witness.

    ``K`` float, ``L`` exact (object) or float; returns (value, output index,
    witness X of shape (D, D, c0) with entries in {0, M}).
    """
    E = to_fraction(K) - to_fraction(L)
    pos, neg = error_parts(K, L)
    c0 = K.shape[2]
    ones = np.full((D, D, c0), Fraction(M), dtype=object)
    up = conv2d_exact(pos, ones, padding=padding, stride=stride)
    down = conv2d_exact(neg, ones, padding=padding, stride=stride)
    if db is not None:
        dbf = to_fraction(db)
        up, down = up + dbf, down - dbf
    best: Fraction = Fraction(-1)
    idx: tuple[int, ...] | None = None
    sign = 1
    for i in np.ndindex(up.shape):
        u, w = up.item(i), down.item(i)  # exact (Fraction) entries
        if u > best:
            best, idx, sign = u, i, 1
        if w > best:
            best, idx, sign = w, i, -1
    if idx is None:
        raise ValueError(f"D: the output of this layer is empty (D={D}, kernel {K.shape})")
    # witness: M where E has the chosen sign inside the window of output idx
    d = K.shape[0]
    start, _ = crop_window(padding, D, d)
    P, Q, l = start + idx[0] * stride, start + idx[1] * stride, idx[2]
    X = np.zeros((D, D, c0))
    for a in range(d):
        for b in range(d):
            r, s = P - a, Q - b
            if 0 <= r < D and 0 <= s < D:
                for k in range(c0):
                    if (E[a, b, k, l] > 0) if sign > 0 else (E[a, b, k, l] < 0):
                        X[r, s, k] = float(M)
    return max(best, Fraction(0)), idx, X
