"""Several CNNs of the same shape on one batch of images, per layer: compiled im2col into a
buffer that fits in cache for a small batch (first-layer rows whose window is all zero
left out), one BLAS product per network, then compiled bias, ReLU and 2x2 pooling written
straight into the next layer's zero-padded input (the default path of Figure 4 on real
images, issue 22 point 1; :mod:`slth_check.experiment.conv_kernel` holds the loops).

Same semantics as :meth:`slth_check.network.TargetCNN.forward` (Definition 1's true
convolution, each padding mode a crop of the full convolution, bias, ReLU, pooling), in
float64; stride 1 only.  An output whose window is all zero is its bias, exactly as in the
product (a sum of zero products is a zero); MNIST's images are mostly zero pixels, so many
first-layer windows (the borders) are.  The networks share their input, so their first layers
run as one layer with their kernels side by side.  Each output is the float64 sum of the
same products as in :func:`slth_check.conv.conv2d` in another order, so the two agree to
rounding, within the bound of :mod:`slth_check.experiment.rounding`.  numba compiles the
kernels on first use (a few seconds, then cached on disk).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from slth_check.experiment.conv_batch import check_same_shape, padded, padded_geometry
from slth_check.network import TargetCNN

__all__ = ["KEEP_ALL", "fused_forward", "stack_weights"]

#: Below this fraction of first-layer windows that are not all zero, only those rows are
#: multiplied (the others are their bias).  Measured on synthetic images with zero borders
#: (benchmarks/figure4.py --blob), leaving rows out did not pay above about half.
KEEP_ALL = 0.5
_POOL = {None: 0, "max": 1, "avg": 2}


def _layer(Xp: np.ndarray, Ws: list[np.ndarray], biases: list[np.ndarray], L: int, d: int,
           relu: bool, pool: str | None, out: np.ndarray, off: int) -> None:
    """One layer of ``len(Ws)`` networks on ``Xp`` (M or 1, N, S, S, c0) into ``out`` (M', N,
    S', S', c) at offset ``off``: per network im2col, one BLAS product of the rows whose
    window is not all zero (all rows when most are kept), then bias, ReLU and pooling; a
    single matrix's c1 = M' c columns go to the M' networks in turn."""
    from slth_check.experiment.conv_kernel import finish, im2col

    N = Xp.shape[1]
    cols = np.empty((N * L * L, Ws[0].shape[0]))
    nonzero = np.empty(N * L * L, dtype=np.bool_)
    skip = Xp.shape[0] == 1  # a shared input (the first layer): look for zero windows
    for m, (W, bias) in enumerate(zip(Ws, biases)):
        if m < Xp.shape[0]:
            im2col(np.ascontiguousarray(Xp[m]), L, d, cols, nonzero, skip)
        kept = np.flatnonzero(nonzero) if skip else None
        if kept is not None and len(kept) < KEEP_ALL * len(nonzero):
            Z = cols[kept] @ W
            where = np.full(len(nonzero), -1, dtype=np.int64)
            where[kept] = np.arange(len(kept))
        else:
            Z, where = cols @ W, np.arange(len(nonzero))
        finish(Z, where, bias, relu, _POOL[pool], L, L // 2 if pool else L, out, m, off)


def stack_weights(nets: Sequence[TargetCNN]) -> list[tuple[list[np.ndarray], list[np.ndarray]]]:
    """Per layer, the matrices and biases the compiled pass multiplies by: each kernel
    flipped (a true convolution) as a (d * d * c0, c1) matrix (rows ``(a, b, k)``, as
    :func:`slth_check.experiment.conv_batch.columns`), zero for a missing bias; the first
    layer's of all networks side by side as one matrix (they share the input)."""
    check_same_shape(nets)
    out = []
    for i, layer in enumerate(nets[0].layers):
        d, c0 = layer.d, layer.c0
        Ws = [np.ascontiguousarray(net.layers[i].K[::-1, ::-1]).reshape(d * d * c0, -1)
              for net in nets]
        bs = [np.zeros(layer.c1) if net.layers[i].bias is None else
              np.asarray(net.layers[i].bias, dtype=np.float64) for net in nets]
        if i == 0:
            Ws, bs = [np.ascontiguousarray(np.concatenate(Ws, axis=1))], [np.concatenate(bs)]
        out.append((Ws, bs))
    return out


def _target(M: int, N: int, L: int, pool: str | None, c: int,
            after: tuple[int, str] | None) -> tuple[np.ndarray, int]:
    """The array a layer writes (the next layer's zero-padded input when ``after`` = its
    (d, padding), else the output) and the offset in it."""
    P = L // 2 if pool else L
    if after is None:
        return np.empty((M, N, P, P, c)), 0
    off, side, _ = padded_geometry(P, *after)
    return np.zeros((M, N, side, side, c)), off


def fused_forward(nets: Sequence[TargetCNN], X: np.ndarray, *,
                  weights: list[tuple[list[np.ndarray], list[np.ndarray]]] | None = None,
                  ) -> list[np.ndarray]:
    """``[net.forward(X) for net in nets]`` for ``X`` of shape (N, D, D, c0) in float64 by
    the compiled layers; ``weights``: :func:`stack_weights` of ``nets``, computed once by
    a caller that runs many batches (else here)."""
    if weights is None:
        weights = stack_weights(nets)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 4 or X.shape[3] != nets[0].c0:
        raise ValueError(f"X: expected shape (N, D, D, {nets[0].c0}), got {X.shape}")
    layers, M, N = nets[0].layers, len(nets), X.shape[0]
    Xp, L = padded(X[None], layers[0].d, layers[0].padding)
    for i, layer in enumerate(layers):
        after = (layers[i + 1].d, layers[i + 1].padding) if i + 1 < len(layers) else None
        out, off = _target(M, N, L, layer.pool, layer.c1, after)
        relu = i < len(layers) - 1 or nets[0].final_relu
        _layer(Xp, *weights[i], L, layer.d, relu, layer.pool, out, off)
        if after is not None:
            Xp, L = out, padded_geometry(L // 2 if layer.pool else L, *after)[2]
    return [out[m] for m in range(M)]
