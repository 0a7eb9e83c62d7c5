"""Several CNNs of the same shape on one batch of images, by im2col and one BLAS product
per layer (the batched path of Figure 4 on real images, issue 22 point 1).

Same semantics as :meth:`slth_check.network.TargetCNN.forward` (Definition 1's true
convolution, each padding mode a crop of the full convolution, bias, ReLU, 2x2 pooling),
in float64; stride 1 only.  The networks share their input, so the first layer of all of
them is one product with their kernels side by side; later layers have one product each.
The columns are laid out ``(channel, row, column)`` as :func:`slth_check.conv.conv2d`'s
``tensordot``; the summation order inside BLAS may differ, so the results agree with the
reference path to rounding (tests bound the difference), not bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from slth_check.conv import crop_window
from slth_check.network import TargetCNN

__all__ = ["check_same_shape", "columns", "padded", "padded_geometry", "stacked_forward"]


def check_same_shape(nets: Sequence[TargetCNN]) -> None:
    """A ValueError naming ``nets`` unless every network has the first one's layer shapes and
    settings, and every layer has stride 1 (the batched path's scope)."""
    if not nets:
        raise ValueError("nets: expected at least one network")
    first = nets[0]
    for k, net in enumerate(nets):
        if net.ell != first.ell or net.final_relu != first.final_relu:
            raise ValueError(f"nets: network {k} differs from network 0 in depth or final_relu")
        for i, (a, b) in enumerate(zip(net.layers, first.layers), 1):
            if a.K.shape != b.K.shape or (a.padding, a.pool, a.bias is None) != \
                    (b.padding, b.pool, b.bias is None):
                raise ValueError(f"nets: network {k} layer {i} differs from network 0")
            if a.stride != 1:
                raise ValueError(f"nets: network {k} layer {i} has stride {a.stride}; the "
                                 "batched path takes stride 1 only")


def padded(X: np.ndarray, d: int, padding: str) -> tuple[np.ndarray, int]:
    """``X`` (..., D, D, c) inside zeros so that output (p, q) of the chosen padding mode reads
    the window ``[p : p + d, q : q + d]`` (the layout :func:`columns` reads);
    returns it and the output size L."""
    D = X.shape[-2]
    off, side, L = padded_geometry(D, d, padding)
    Xp = np.zeros(X.shape[:-3] + (side, side, X.shape[-1]))
    Xp[..., off:off + D, off:off + D, :] = X
    return Xp, L


def padded_geometry(D: int, d: int, padding: str) -> tuple[int, int, int]:
    """Where the input (D x D) sits in the zero-padded input of a layer (its offset), the
    padded side and the output size L: the crop of the full convolution that ``padding``
    keeps (:func:`slth_check.conv.crop_window`) starts ``d - 1 - off`` entries in."""
    start, L = crop_window(padding, D, d)
    side = L + d - 1
    off = d - 1 - start
    if off + D > side:  # never for the modes of conv.PADDINGS: the input is never cropped
        raise ValueError(f"padding: {padding!r} crops the input; not supported here")
    return off, side, L


def columns(X: np.ndarray, d: int, padding: str) -> tuple[np.ndarray, int]:
    """im2col: ``X`` (N, D, D, c) to a (N * L * L, c * d * d) matrix whose row for output
    (n, p, q) holds ``Xp[n, p + a, q + b, k]`` at column ``(k, a, b)``, ``Xp`` the zero-padded
    input of :func:`padded` (the crop of the full convolution that
    :func:`slth_check.conv.conv2d` keeps); returns it and L."""
    N, _, _, c = X.shape
    Xp, L = padded(X, d, padding)
    cols = np.empty((N, L, L, d, d, c))
    # one copy whose innermost run, (b, k), is d * c contiguous entries of Xp
    cols[...] = sliding_window_view(Xp, (d, d), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
    return cols.reshape(N * L * L, d * d * c), L


def _weights(K: np.ndarray) -> np.ndarray:
    """``K`` (d, d, c0, c1) flipped (a true convolution) as a (c0 * d * d, c1) matrix."""
    d, _, c0, c1 = K.shape
    return np.ascontiguousarray(K[::-1, ::-1]).reshape(d * d * c0, c1)


def _finish(Z: np.ndarray, relu: bool, pool: str | None) -> np.ndarray:
    """ReLU (in place) then 2x2 pooling, as :func:`slth_check.conv.pool2d`."""
    if relu:
        np.maximum(Z, 0.0, out=Z)
    if pool is None:
        return Z
    N, L, _, c = Z.shape
    P = L // 2
    Y = Z[:, :2 * P, :2 * P, :].reshape(N, P, 2, P, 2, c)
    return Y.max(axis=(2, 4)) if pool == "max" else Y.sum(axis=(2, 4)) / 4


def stacked_forward(nets: Sequence[TargetCNN], X: np.ndarray) -> list[np.ndarray]:
    """``[net.forward(X) for net in nets]`` for ``X`` of shape (N, D, D, c0) in float64: the
    first layer one product for all networks (a shared input), later layers one each."""
    check_same_shape(nets)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 4 or X.shape[3] != nets[0].c0:
        raise ValueError(f"X: expected shape (N, D, D, {nets[0].c0}), got {X.shape}")
    ell, N = nets[0].ell, X.shape[0]
    first = nets[0].layers[0]
    cols, L = columns(X, first.d, first.padding)
    W = np.concatenate([_weights(net.layers[0].K) for net in nets], axis=1)
    Z = cols @ W
    if first.bias is not None:
        Z += np.concatenate([net.layers[0].bias for net in nets])
    Z = _finish(Z.reshape(N, L, L, -1), ell > 1 or nets[0].final_relu, first.pool)
    outs = list(np.split(Z, len(nets), axis=3))
    for i in range(1, ell):
        for k, net in enumerate(nets):
            layer = net.layers[i]
            cols, L = columns(outs[k], layer.d, layer.padding)
            Zk = cols @ _weights(layer.K)
            if layer.bias is not None:
                Zk += layer.bias
            outs[k] = _finish(Zk.reshape(N, L, L, -1), i < ell - 1 or net.final_relu,
                              layer.pool)
    return outs
