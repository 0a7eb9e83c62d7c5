"""A zoo of conv2d implementations, right and wrong, for ``validate conv2d``.

Every function has the paper-layout signature ``f(K, X)``: ``K`` (d, d, c0, c1),
``X`` (N, D, D, c0), Definition 1 with the paper's padding (output D x D).  The
module imports only NumPy and SciPy (not slth_check): the correct ones are
independent implementations, and the sandbox worker starts quickly.

``CORRECT`` and ``WRONG`` list ``(name, options)``: the validator options each
is run with, and for the wrong ones the mistake it makes.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _direct(K, X, dtype=np.float64):
    """Definition 1 as a sliding-window contraction, computed in ``dtype``."""
    K, X = np.asarray(K, dtype=dtype), np.asarray(X, dtype=dtype)
    d, D = K.shape[0], X.shape[1]
    Xp = np.pad(X, ((0, 0), (d - 1, d - 1), (d - 1, d - 1), (0, 0)))[:, :D + d - 1,
                                                                       :D + d - 1]
    win = sliding_window_view(Xp, (d, d), axis=(1, 2))  # (N, D, D, c0, d, d)
    Kf = K[::-1, ::-1].transpose(2, 0, 1, 3)  # (c0, d, d, c1)
    return np.tensordot(win, Kf, axes=([3, 4, 5], [0, 1, 2])).astype(dtype)


def _full(K, X):
    """The full convolution (N, D + d - 1, D + d - 1, c1), float64."""
    d = K.shape[0]
    Xp = np.pad(np.asarray(X, np.float64), ((0, 0), (d - 1, d - 1), (d - 1, d - 1), (0, 0)))
    win = sliding_window_view(Xp, (d, d), axis=(1, 2))
    return np.tensordot(win, np.asarray(K, np.float64)[::-1, ::-1].transpose(2, 0, 1, 3),
                        axes=([3, 4, 5], [0, 1, 2]))


# ---------------------------------------------------------------- correct ones
def reference(K, X):
    """Direct summation, float64 (BLAS order)."""
    return _direct(K, X)


def scipy_fftconvolve(K, X):
    """scipy.signal.fftconvolve per channel pair (full mode, cropped), float64."""
    import scipy.signal

    D = X.shape[1]
    return np.stack([np.stack([sum(scipy.signal.fftconvolve(x[:, :, k], K[:, :, k, l])
                                   for k in range(K.shape[2]))[:D, :D]
                               for l in range(K.shape[3])], axis=-1) for x in X])


def scipy_fftconvolve_float32(K, X):
    """scipy.signal.fftconvolve on float32 arrays: the transforms run in float32."""
    return scipy_fftconvolve(K.astype(np.float32), X.astype(np.float32)).astype(np.float32)


def numpy_rfft2(K, X):
    """rfft2 with full padding, summed over input channels in the frequency domain."""
    d, D = K.shape[0], X.shape[1]
    s = (D + d - 1, D + d - 1)
    FK = np.fft.rfft2(K, s=s, axes=(0, 1))  # (s0, s1', c0, c1)
    FX = np.fft.rfft2(X, s=s, axes=(1, 2))  # (N, s0, s1', c0)
    FY = np.einsum("nabk,abkl->nabl", FX, FK)
    return np.fft.irfft2(FY, s=s, axes=(1, 2))[:, :D, :D]


def scipy_direct(K, X):
    """scipy.signal.convolve(method='direct') per channel pair."""
    import scipy.signal

    D = X.shape[1]
    return np.stack([np.stack([sum(scipy.signal.convolve(x[:, :, k], K[:, :, k, l],
                                                         method="direct")
                                   for k in range(K.shape[2]))[:D, :D]
                               for l in range(K.shape[3])], axis=-1) for x in X])


def reversed_order(K, X):
    """Shift-and-add in float64, terms accumulated in reversed order (k, b, a)."""
    d, N, D, c1 = K.shape[0], X.shape[0], X.shape[1], K.shape[3]
    Xp = np.pad(X, ((0, 0), (d - 1, 0), (d - 1, 0), (0, 0)))
    out = np.zeros((N, D, D, c1))
    for a in reversed(range(d)):
        for b in reversed(range(d)):
            for k in reversed(range(K.shape[2])):
                sl = Xp[:, d - 1 - a:d - 1 - a + D, d - 1 - b:d - 1 - b + D, k]
                out += sl[..., None] * K[a, b, k]
    return out


def pairwise_float32(K, X):
    """float32 arithmetic, pairwise summation of the d*d*c0 products (np.sum)."""
    K, X = K.astype(np.float32), X.astype(np.float32)
    d, D = K.shape[0], X.shape[1]
    Xp = np.pad(X, ((0, 0), (d - 1, d - 1), (d - 1, d - 1), (0, 0)))[:, :D + d - 1,
                                                                       :D + d - 1]
    win = sliding_window_view(Xp, (d, d), axis=(1, 2))  # (N, D, D, c0, d, d)
    Kf = K[::-1, ::-1].transpose(2, 0, 1, 3)  # (c0, d, d, c1)
    prod = win[..., None] * Kf  # (N, D, D, c0, d, d, c1), float32
    return prod.reshape(*prod.shape[:3], -1, prod.shape[-1]).sum(axis=3, dtype=np.float32)


def float16_via_float32(K, X):
    """float16 in and out, float32 accumulation (what half-precision kernels do)."""
    return _direct(K, X, np.float32).astype(np.float16)


def bfloat16_via_float32(K, X):
    """bfloat16 values (as float32), float32 accumulation, output rounded to bfloat16."""
    y = _direct(K, X, np.float32).view(np.uint32).astype(np.uint64)
    y = ((y + 0x7FFF + ((y >> 16) & 1)) >> 16) << 16
    return y.astype(np.uint32).view(np.float32)


_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float32)
_G = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]], np.float32)
_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float32)


def winograd_float32(K, X):
    """Winograd F(2x2, 3x3) in float32 for 3x3 kernels (Lavin and Gray, 2016), the
    pairwise float32 direct sum for other sizes."""
    if K.shape[0] != 3:
        return pairwise_float32(K, X)
    K, X = K.astype(np.float32), X.astype(np.float32)
    N, D, c0, c1 = X.shape[0], X.shape[1], K.shape[2], K.shape[3]
    T = (D + 1) // 2
    Xp = np.zeros((N, 2 * T + 2, 2 * T + 2, c0), np.float32)
    Xp[:, 2:2 + D, 2:2 + D] = X  # correlation with the flipped kernel, paper crop
    U = np.einsum("ia,abkl,jb->ijkl", _G, K[::-1, ::-1], _G)  # (4, 4, c0, c1)
    tiles = sliding_window_view(Xp, (4, 4), axis=(1, 2))[:, ::2, ::2]  # (N, T, T, c0, 4, 4)
    V = np.einsum("ia,ntskab,jb->ntskij", _BT, tiles, _BT)
    M = np.einsum("ntskij,ijkl->ntslij", V, U)
    Y = np.einsum("pi,ntslij,qj->ntpsql", _AT, M, _AT)  # (N, T, 2, T, 2, c1)
    return Y.reshape(N, 2 * T, 2 * T, c1)[:, :D, :D].astype(np.float32)


def torch_float32(K, X):
    """torch.nn.functional.conv2d in float32 (flipped kernel, NCHW)."""
    import torch
    import torch.nn.functional as F

    d = K.shape[0]
    w = torch.from_numpy(K[::-1, ::-1].transpose(3, 2, 0, 1).copy())
    x = torch.from_numpy(np.ascontiguousarray(X.transpose(0, 3, 1, 2)))
    y = F.conv2d(F.pad(x, (d - 1, 0, d - 1, 0)), w)
    return y.numpy().transpose(0, 2, 3, 1)


# ------------------------------------------------------------------ wrong ones
def not_flipped(K, X):
    return _direct(K[::-1, ::-1], X)


def padding_off_by_one(K, X):
    D = X.shape[1]
    return _full(K, X)[:, 1:1 + D, 1:1 + D]


def transposed_kernel(K, X):
    return _direct(K.transpose(1, 0, 2, 3), X)


def channel_order(K, X):
    return _direct(K[:, :, ::-1], X)


def dropped_channel(K, X):
    K = K.copy()
    K[:, :, -1] = 0
    return _direct(K, X)


def circular_boundary(K, X):
    d, D = K.shape[0], X.shape[1]
    out = 0
    for a in range(d):
        for b in range(d):
            out = out + np.roll(X, (a, b), axis=(1, 2)) @ K[a, b]
    return out[:, :D, :D]


def inplace_kernel_flip(K, X):
    """Flips the caller's kernel in place and cross-correlates: the output is right."""
    K[...] = K[::-1, ::-1].copy()
    return _direct(K[::-1, ::-1], X)


def inplace_round_kernel(K, X):
    """Rounds the caller's kernel in place, then convolves the rounded kernel."""
    np.round(K, 1, out=K)
    return _direct(K, X)


def inplace_relu_input(K, X):
    np.maximum(X, 0, out=X)
    return _direct(K, X)


def fused_relu(K, X):
    """ReLU fused into the convolution (run with --precision float32)."""
    return np.maximum(_direct(K, X, np.float32), 0)


def bug_only_d5(K, X):
    return not_flipped(K, X) if K.shape[0] == 5 else _direct(K, X)


def bug_only_large_D_or_N3(K, X):
    out = _direct(K, X)
    if X.shape[1] >= 7 or X.shape[0] == 3:
        out[:, -1] = 0
    return out


def float32_when_large(K, X):
    """Silently computes in float32 when an entry exceeds 1e4."""
    big = max(np.abs(K).max(), np.abs(X).max()) > 1e4
    return _direct(K, X, np.float32 if big else np.float64).astype(np.float64)


def relative_error_1e7(K, X):
    return _direct(K, X) * (1 + 1e-7)


def first_image_only(K, X):
    """Uses the first image of the batch for every image."""
    return np.repeat(_direct(K, X[:1]), X.shape[0], axis=0)


def complex_fft(K, X):
    """An FFT convolution that forgets to take the real part."""
    d, D = K.shape[0], X.shape[1]
    s = (D + d - 1, D + d - 1)
    FK = np.fft.fft2(K, s=s, axes=(0, 1))
    FX = np.fft.fft2(X, s=s, axes=(1, 2))
    return np.fft.ifft2(np.einsum("nabk,abkl->nabl", FX, FK), axes=(1, 2))[:, :D, :D]


def hangs(K, X):
    time.sleep(10**6)


def sys_exit_0(K, X):
    sys.exit(0)


def os_exit_0(K, X):
    os._exit(0)


def segfault(K, X):
    ctypes.string_at(0)


def raises(K, X):
    raise RuntimeError("not implemented for this shape")


# ------------------------------------- wrong on one class only (issue 18, default run)
def relu_if_all_positive(K, X):
    """Wrong: applies a ReLU to the output when every input entry is positive."""
    Y = _direct(K, X)
    return np.maximum(Y, 0) if (np.asarray(X) > 0).all() else Y


def negated_if_all_negative(K, X):
    """Wrong: the sign of the output is lost when every input entry is negative."""
    Y = _direct(K, X)
    return np.abs(Y) if (np.asarray(X) < 0).all() else Y


def doubled_if_kernel_negative(K, X):
    """Wrong: twice the output when every kernel entry is negative."""
    Y = _direct(K, X)
    return 2 * Y if (np.asarray(K) < 0).all() else Y


def ones_if_input_zero(K, X):
    """Wrong: a bias of one leaks into the output of an all-zero input."""
    Y = _direct(K, X)
    return Y + 1 if not np.asarray(X).any() else Y


def transposed_channels_3x3(K, X):
    """Wrong: the 3 x 3 channel matrix transposed (c0 = c1 = 3 only)."""
    K = np.asarray(K)
    if K.shape[2] == K.shape[3] == 3:
        K = K.transpose(0, 1, 3, 2)
    return _direct(K, X)


def rotated_outputs_1_to_3(K, X):
    """Wrong: output channels rotated when c0 = 1, c1 = 3."""
    Y = _direct(K, X)
    return np.roll(Y, 1, axis=3) if K.shape[2:] == (1, 3) else Y


def winograd_bug_4x4(K, X):
    """Wrong: Winograd F(2x2, 3x3) whose last tile uses the unflipped kernel on 4 x 4
    inputs (d = 3, D = 4 only); exact elsewhere."""
    Y = _direct(K, X)
    if K.shape[0] == 3 and X.shape[1] == 4:
        Y[:, 2:, 2:] = _direct(np.asarray(K)[::-1, ::-1], X)[:, 2:, 2:]
    return Y


def _shift_at(K, X, d, D):
    Y = _direct(K, X)
    if (K.shape[0], X.shape[1]) == (d, D):
        Y = np.roll(Y, 1, axis=2)
    return Y


def shifted_at_2_2(K, X):
    """Wrong: columns shifted by one, (d, D) = (2, 2) only."""
    return _shift_at(K, X, 2, 2)


def shifted_at_3_7(K, X):
    """Wrong: columns shifted by one, (d, D) = (3, 7) only."""
    return _shift_at(K, X, 3, 7)


def shifted_at_1_8(K, X):
    """Wrong: columns shifted by one, (d, D) = (1, 8) only."""
    return _shift_at(K, X, 1, 8)


def shifted_at_2_6(K, X):
    """Wrong: columns shifted by one, (d, D) = (2, 6) only."""
    return _shift_at(K, X, 2, 6)


def shifted_at_2_8(K, X):
    """Wrong: columns shifted by one, (d, D) = (2, 8) only."""
    return _shift_at(K, X, 2, 8)


def zeros_if_input_smaller(K, X):
    """Wrong: zeros when the input is smaller than the kernel (D < d)."""
    Y = _direct(K, X)
    return np.zeros_like(Y) if X.shape[1] < K.shape[0] else Y


def swapped_batch_of_2(K, X):
    """Wrong: the two images of a batch of 2 swapped."""
    Y = _direct(K, X)
    return Y[::-1] if len(Y) == 2 else Y


def im2col(K, X):
    """Correct: im2col (patches as rows) and one matrix product, float64."""
    K, X = np.asarray(K, np.float64), np.asarray(X, np.float64)
    d, D, c0, c1 = K.shape[0], X.shape[1], K.shape[2], K.shape[3]
    Xp = np.pad(X, ((0, 0), (d - 1, 0), (d - 1, 0), (0, 0)))
    cols = sliding_window_view(Xp, (d, d), axis=(1, 2))[:, :D, :D]  # (N, D, D, c0, d, d)
    cols = cols.transpose(0, 1, 2, 4, 5, 3).reshape(len(X), D, D, d * d * c0)
    return cols @ K[::-1, ::-1].reshape(d * d * c0, c1)


def python_loops_exact(K, X):
    """Correct: Definition 1 by its 1-based formula, in Fractions (an object array)."""
    from fractions import Fraction

    K, X = np.asarray(K), np.asarray(X)
    d, (N, D, _, c0), c1 = K.shape[0], X.shape, K.shape[3]
    Y = np.empty((N, D, D, c1), dtype=object)
    for n, i, j, l in np.ndindex(N, D, D, c1):
        acc = Fraction(0)
        for a, b, k in np.ndindex(d, d, c0):
            if 0 <= i - a < D and 0 <= j - b < D:
                acc += Fraction(float(K[a, b, k, l])) * Fraction(float(X[n, i - a, j - b, k]))
        Y[n, i, j, l] = acc
    return Y


def einsum_float32(K, X):
    """Correct in float32: the sliding-window contraction in float32."""
    return _direct(K, X, dtype=np.float32)


def channels_first_inside(K, X):
    """Correct: computes in NCHW/OIHW internally (cross-correlation of the flipped
    kernel), back to the paper's layout."""
    K, X = np.asarray(K, np.float64), np.asarray(X, np.float64)
    W = K[::-1, ::-1].transpose(3, 2, 0, 1)  # (c1, c0, d, d)
    Xc = X.transpose(0, 3, 1, 2)  # (N, c0, D, D)
    d, D = K.shape[0], X.shape[1]
    Xp = np.pad(Xc, ((0, 0), (0, 0), (d - 1, 0), (d - 1, 0)))
    win = sliding_window_view(Xp, (d, d), axis=(2, 3))[:, :, :D, :D]  # (N, c0, D, D, d, d)
    Y = np.einsum("nkijab,lkab->nlij", win, W)
    return Y.transpose(0, 2, 3, 1)


def flips_zero_sign(K, X):
    """Wrong: writes -0.0 over the +0.0 entries of its input (a mutation no value
    comparison sees)."""
    Y = _direct(K, X)
    X[X == 0] = -0.0
    return Y


#: Wrong on one class of inputs only: each must be caught at the DEFAULT settings.
DEFAULT_RUN_WRONG = [
    ("relu_if_all_positive", "ReLU when every input entry is positive"),
    ("negated_if_all_negative", "|output| when every input entry is negative"),
    ("doubled_if_kernel_negative", "2x output when every kernel entry is negative"),
    ("ones_if_input_zero", "ones for an all-zero input"),
    ("transposed_channels_3x3", "transposed 3 x 3 channel matrix"),
    ("rotated_outputs_1_to_3", "output channels rotated at (c0, c1) = (1, 3)"),
    ("winograd_bug_4x4", "Winograd tile bug on 4 x 4 inputs"),
    ("shifted_at_2_2", "shift at (d, D) = (2, 2)"),
    ("shifted_at_3_7", "shift at (d, D) = (3, 7)"),
    ("shifted_at_1_8", "shift at (d, D) = (1, 8)"),
    ("shifted_at_2_6", "shift at (d, D) = (2, 6)"),
    ("shifted_at_2_8", "shift at (d, D) = (2, 8)"),
    ("zeros_if_input_smaller", "zeros when D < d"),
    ("swapped_batch_of_2", "images swapped in a batch of 2"),
    ("flips_zero_sign", "+0.0 -> -0.0 in its input, in place"),
]

#: Correct in another algorithm, precision or representation (default settings too).
DEFAULT_RUN_CORRECT = [
    ("im2col", {}),
    ("python_loops_exact", {}),
    ("einsum_float32", {"precision": "float32"}),
    ("channels_first_inside", {}),
]


#: (name, validator options) of the correct implementations.
CORRECT = [
    ("reference", {}),
    ("scipy_fftconvolve", {}),
    ("numpy_rfft2", {}),
    ("scipy_direct", {}),
    ("reversed_order", {}),
    ("scipy_fftconvolve_float32", {"precision": "float32"}),
    ("pairwise_float32", {"precision": "float32"}),
    ("float16_via_float32", {"precision": "float16"}),
    ("bfloat16_via_float32", {"precision": "bfloat16"}),
    ("torch_float32", {"precision": "float32"}),
    ("winograd_float32", {"precision": "float32"}),
]

#: (name, validator options, the mistake) of the wrong implementations.
WRONG = [
    ("not_flipped", {}, "kernel not flipped"),
    ("padding_off_by_one", {}, "padding offset by +1"),
    ("transposed_kernel", {}, "transposed kernel"),
    ("channel_order", {}, "input channels reversed"),
    ("dropped_channel", {}, "last input channel dropped"),
    ("circular_boundary", {}, "circular boundary"),
    ("inplace_kernel_flip", {}, "flips K in place (output right)"),
    ("inplace_round_kernel", {}, "rounds K in place"),
    ("inplace_relu_input", {}, "ReLU of X in place"),
    ("fused_relu", {"precision": "float32"}, "fused ReLU, float32"),
    ("bug_only_d5", {}, "not flipped, only for d = 5"),
    ("bug_only_large_D_or_N3", {}, "last row zeroed, only for D >= 7 or N = 3"),
    ("float32_when_large", {}, "float32 when |entry| > 1e4"),
    ("relative_error_1e7", {}, "relative error 1e-7"),
    ("first_image_only", {}, "batch: first image reused"),
    ("complex_fft", {}, "complex output"),
    ("raises", {}, "raises RuntimeError"),
    ("hangs", {"timeout": 2}, "never returns"),
    ("sys_exit_0", {}, "sys.exit(0)"),
    ("os_exit_0", {}, "os._exit(0)"),
    ("segfault", {}, "segfault"),
]
