"""Theorem 1's error recursion (Eq. 3-5) carried out on the instance: sound bounds.

``proof_bound``: ``e_{i+1} <= max_l ||K_{i,l}||_1 e_i + err_i(M_i)`` in exact
rationals, with ``err_i`` the closed-form sup error of layer i on ``[0, M_i]`` and
``M_i`` the interval bound on the pruned activations; ``entrywise_bound``: the
same recursion entry by entry, rounded upward.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.arithmetic import to_fraction
from slth_check.certify.closed_form import bias_gap, error_parts, layer_sup_error
from slth_check.certify.interval import avg_pool_enclosure, conv_upper, interval_pruned, round_up
from slth_check.conv import output_size, pool2d
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN


def proof_bound(target: TargetCNN, pruned: PrunedCNN, D: int,
                pruned_boxes: list | None = None) -> dict[str, Any]:
    """The bound of Theorem 1's proof, computed on the instance (exact rationals).

    Returns per layer ``A_i = max_l ||K_{i,l}||_1``, ``M_i`` (bound on
    ``||X~^i||_max``, the layer's input), ``err_i`` (exact sup error of the
    layer alone on ``[0, M_i]``) and ``e_i`` (bound on ``||X^i - X~^i||``),
    and ``bound`` = the final ``e``.  Needs a linearisable pruned network.
    """
    if not pruned.linearisable():
        raise ValueError("pruned: the proof bound needs every kept entry of U to be >= 0")
    boxes = pruned_boxes or interval_pruned(pruned, D, target.c0)
    e, M = Fraction(0), Fraction(1)
    size = D
    rows = []
    for i, (K, P) in enumerate(zip(target.layers, pruned.layers)):
        Kf = to_fraction(K.K)
        A = max(sum((abs(v) for v in Kf[..., l].ravel()), start=Fraction(0))
                for l in range(K.c1))
        err, _, _ = layer_sup_error(K.K, P.effective_kernel(exact=True), size, M=M,
                                    db=bias_gap(K, P),
                                    padding=K.padding, stride=K.stride)
        e = A * e + err
        rows.append({"layer": i + 1, "A": A, "M": M, "err": err, "e": e})
        hi = boxes[i][1]
        M = Fraction(float(np.max(hi))) if hi.size else Fraction(0)
        size = output_size(size, K.d, K.padding, K.stride)
        if K.pool is not None:
            size //= 2
    return {"layers": rows, "bound": e}


def fractions_up(a: np.ndarray) -> np.ndarray:
    """Float64 upper bounds of an object array of Fractions (entrywise, sound)."""
    flat = [float(v) for v in a.ravel()]
    out = np.array(flat, dtype=np.float64).reshape(a.shape)
    below = np.array([Fraction(f) < v for f, v in zip(flat, a.ravel())]).reshape(a.shape)
    return np.where(below, round_up(out), out)


def entrywise_bound(target: TargetCNN, pruned: PrunedCNN, D: int,
                    pruned_boxes: list | None = None) -> float:
    """Theorem 1's error recursion carried out entry by entry (sound, float64 upward).

    With ``e^i`` an entrywise bound on ``|X^i - X~^i|`` and ``h^i`` the interval
    upper bound on ``X~^i >= 0``: ``e^{i+1} = pool(|K_i| * e^i + max((K_i - L_i)^+ * h^i
    + db, (K_i - L_i)^- * h^i - db))`` (ReLU and pooling are entrywise/windowwise
    1-Lipschitz).  ``K_i - L_i`` is formed exactly and rounded upward.  Needs a
    linearisable pruned network.  Returns the bound on ``||f(X) - g(X)||_max``.
    """
    if not pruned.linearisable():
        raise ValueError("pruned: the entrywise bound needs every kept entry of U to be >= 0")
    boxes = pruned_boxes or interval_pruned(pruned, D, target.c0)
    e = np.zeros((D, D, target.c0))
    h = np.ones((D, D, target.c0))
    for i, (K, P) in enumerate(zip(target.layers, pruned.layers)):
        Epos, Eneg = (fractions_up(part) for part in error_parts(K.K,
                                                              P.effective_kernel(exact=True)))
        up = conv_upper(Epos, h, K.padding, K.stride)
        down = conv_upper(Eneg, h, K.padding, K.stride)
        db = bias_gap(K, P)
        if db is not None:
            up = round_up(up + fractions_up(db))
            down = round_up(down + fractions_up(-db))
        err = np.maximum(up, down)
        e = round_up(conv_upper(np.abs(K.K), e, K.padding, K.stride) + err)
        if K.pool == "max":
            e = pool2d(e, "max")
        elif K.pool == "avg":
            e = avg_pool_enclosure(e, e)[1]
        h = np.maximum(boxes[i][1], 0.0)
    return float(np.max(e))
