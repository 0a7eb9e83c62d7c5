"""Deliberately wrong (and right) implementations for the validator tests."""

from __future__ import annotations

import itertools

import numpy as np

from slth_check.conv import conv2d


def good_conv(K, X):
    return conv2d(K, X)


def not_flipped(K, X):
    return conv2d(K[::-1, ::-1], X)


def padding_shifted(K, X):
    D = X.shape[1]
    full = conv2d(K, X, padding="full")
    return full[:, 1:1 + D, 1:1 + D]


def channel_dropped(K, X):
    K = K.copy()
    K[:, :, -1] = 0
    return conv2d(K, X)


def circular(K, X):
    out = 0
    for a in range(K.shape[0]):
        for b in range(K.shape[1]):
            out = out + np.roll(X, (a, b), axis=(1, 2)) @ K[a, b]
    return out


def _best(values, target):
    n = len(values)
    best = min(itertools.product([0, 1], repeat=n),
               key=lambda m: abs(target - sum(v for v, k in zip(values, m) if k)))
    return np.array(best, dtype=bool)


def exact_solver(values, target):
    return _best(values, target)


def one_based(values, target):
    return [i + 1 for i in np.flatnonzero(_best(values, target))]


def wrong_sum(values, target):
    mask = _best(values, target)
    return mask, float(values[mask].sum()) + 0.5


def greedy(values, target):
    mask = np.zeros(len(values), bool)
    s = 0.0
    for i in np.argsort(-np.abs(values)):
        if abs(target - s - values[i]) < abs(target - s):
            mask[i] = True
            s += values[i]
    return mask


def not_flipped_full(K, X, padding="paper", stride=1):
    """The reference signature, for ``pytest properties/ --slth-impl``."""
    return conv2d(K[::-1, ::-1], X, padding=padding, stride=stride)


def torch_layout_xcorr(W, X):
    """A cross-correlation in PyTorch's layout (OIHW, NCHW), written without torch."""
    from slth_check.tensors import input_from_torch, input_to_torch, kernel_from_torch

    return input_to_torch(conv2d(kernel_from_torch(W), input_from_torch(X)))


def float32_conv(K, X):
    """The reference computed in float32: right up to float32 rounding."""
    return conv2d(K.astype(np.float32).astype(np.float64),
                  X.astype(np.float32).astype(np.float64)).astype(np.float32)


def relative_error_1e9(K, X):
    """The reference with a relative error of 1e-9 (for --rtol)."""
    return conv2d(K, X) * (1 + 1e-9)
