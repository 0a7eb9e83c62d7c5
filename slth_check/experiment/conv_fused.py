"""Several CNNs of the same shape on one batch of images, each layer one compiled pass per
block of images: im2col into a cache-sized buffer (rows whose window is all zero left
out), one BLAS product, then bias, ReLU and 2x2 pooling (the default path of Figure 4 on
real images, issue 22 point 1).

Same semantics as :meth:`slth_check.network.TargetCNN.forward` (Definition 1's true
convolution, each padding mode a crop of the full convolution, bias, ReLU, pooling), in
float64; stride 1 only.  An output whose window is all zero is its bias, exactly as in the
product (a sum of zero products is a zero); MNIST is about 80 % zero pixels, so about half
of the first layer's windows are.  The networks share their input, so their first layers
run as one layer with their kernels side by side.  Each output is the float64 sum of the
same products as in :func:`slth_check.conv.conv2d` in another order, so the two agree to
rounding, within the bound of :mod:`slth_check.experiment.rounding`.  numba compiles the
kernel on first use (a few seconds, cached on disk).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from slth_check.conv import crop_window
from slth_check.experiment.conv_batch import check_same_shape
from slth_check.network import TargetCNN

__all__ = ["fused_forward", "padded"]

#: Below this fraction of windows that are not all zero, only those rows are multiplied.
KEEP_ALL = 0.8
_POOL = {None: 0, "max": 1, "avg": 2}
_KERNEL = None


def padded(X: np.ndarray, d: int, padding: str) -> tuple[np.ndarray, int]:
    """``X`` (..., D, D, c) inside zeros so that output (p, q) of the chosen padding mode reads
    the window ``[p : p + d, q : q + d]`` (as :func:`slth_check.experiment.conv_batch.columns`);
    returns it and the output size L."""
    D = X.shape[-2]
    start, L = crop_window(padding, D, d)
    pad, side = d - 1, L + d - 1
    Xp = np.zeros(X.shape[:-3] + (side, side, X.shape[-1]))
    lo, hi = max(0, pad - start), min(side, D + pad - start)
    s = start - pad
    Xp[..., lo:hi, lo:hi, :] = X[..., lo + s:hi + s, lo + s:hi + s, :]
    return Xp, L


def _layer(Xp: np.ndarray, Ks: list[np.ndarray], biases: list[np.ndarray | None], L: int,
           relu: bool, pool: str | None) -> np.ndarray:
    """One layer of ``len(Ks)`` networks on ``Xp`` (M or 1, N, S, S, c0): (M, N, P, P, c1);
    per network im2col, one BLAS product of the rows whose window is not all zero (all rows
    when most are kept), then bias, ReLU and pooling."""
    from slth_check.experiment.conv_kernel import finish, im2col

    d, _, c0, c1 = Ks[0].shape
    N = Xp.shape[1]
    P = L // 2 if pool else L
    out = np.empty((len(Ks), N, P, P, c1))
    cols = np.empty((N * L * L, d * d * c0))
    nonzero = np.empty(N * L * L, dtype=np.bool_)
    skip = Xp.shape[0] == 1  # a shared input (the first layer): look for zero windows
    for m, (K, bias) in enumerate(zip(Ks, biases)):
        if m < Xp.shape[0]:
            im2col(np.ascontiguousarray(Xp[m]), L, d, cols, nonzero, skip)
        W = np.ascontiguousarray(K[::-1, ::-1]).reshape(d * d * c0, c1)
        kept = np.flatnonzero(nonzero) if skip else None
        if kept is not None and len(kept) < KEEP_ALL * len(nonzero):
            Z = cols[kept] @ W
            where = np.full(len(nonzero), -1, dtype=np.int64)
            where[kept] = np.arange(len(kept))
        else:
            Z, where = cols @ W, np.arange(len(nonzero))
        b = np.zeros(c1) if bias is None else np.asarray(bias, dtype=np.float64)
        finish(Z, where, b, relu, _POOL[pool], L, out[m])
    return out


def fused_forward(nets: Sequence[TargetCNN], X: np.ndarray) -> list[np.ndarray]:
    """``[net.forward(X) for net in nets]`` for ``X`` of shape (N, D, D, c0) in float64 by
    the compiled layers; the first layer of all networks is one layer."""
    check_same_shape(nets)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 4 or X.shape[3] != nets[0].c0:
        raise ValueError(f"X: expected shape (N, D, D, {nets[0].c0}), got {X.shape}")
    ell, M = nets[0].ell, len(nets)
    first = nets[0].layers[0]
    Xp, L = padded(X[None], first.d, first.padding)
    K = np.concatenate([net.layers[0].K for net in nets], axis=3)
    b = None if first.bias is None else np.concatenate([net.layers[0].bias for net in nets])
    Y = _layer(Xp, [K], [b], L, ell > 1 or nets[0].final_relu, first.pool)[0]
    Y = np.moveaxis(Y.reshape(Y.shape[:3] + (M, -1)), 3, 0)
    for i in range(1, ell):
        layer = nets[0].layers[i]
        Xp, L = padded(Y, layer.d, layer.padding)
        Y = _layer(Xp, [net.layers[i].K for net in nets], [net.layers[i].bias for net in nets],
                   L, i < ell - 1 or nets[0].final_relu, layer.pool)
    return [Y[m] for m in range(M)]
