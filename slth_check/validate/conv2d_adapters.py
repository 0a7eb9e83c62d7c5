"""Adapters of the conv2d validator (:mod:`slth_check.validate.conv2d`): the layouts
and operations of a user's conv2d (the arrays handed to it, its output brought back
to the paper layout) and the built-in implementations ``torch`` and ``scipy``.

The sandbox worker loads :func:`builtin_factory` from here by name: this module
imports nothing heavy at the top."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..conv import Padding, crop_window
from ..tensors import input_from_torch, input_to_torch
from .sandbox import private_copy, real_array

OPS = ("convolution", "cross-correlation")
LAYOUTS = ("paper", "torch")


def result_to_array(Y: Any) -> np.ndarray:
    """The user's result as a float64 array (see :func:`.sandbox.real_array`)."""
    return real_array(Y)


def to_user_layout(K: np.ndarray, X: np.ndarray, layout: str,
                   op: str) -> tuple[np.ndarray, np.ndarray]:
    """The kernel and input handed to the user, in their layout and operation:
    fresh C-contiguous copies with non-negative strides, in the arrays' dtype."""
    A = K[::-1, ::-1] if op == "cross-correlation" else K
    if layout == "torch":
        return private_copy(A.transpose(3, 2, 0, 1)), private_copy(input_to_torch(X))
    return private_copy(A), private_copy(X)


def from_user_layout(Y: Any, layout: str) -> np.ndarray:
    """The user's output back in the paper layout (N, D', D', c1), as float64."""
    Y = np.asarray(Y, dtype=np.float64)
    return input_from_torch(Y) if layout == "torch" else Y


def arg_names(layout: str) -> tuple[str, str]:
    """The names of the user's two arguments, for messages."""
    return ("W (the kernel)", "X") if layout == "torch" else ("K", "X")


def torch_conv2d(padding: Padding) -> Callable:
    """``torch.nn.functional.conv2d`` (extra ``torch``) as an OIHW/NCHW cross-correlation
    with the given padding mode's semantics, computed in the arrays' dtype on the CPU."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as exc:
        raise ValueError("--impl torch: PyTorch is not installed (pip install "
                         "'slth-check[torch]', or torch==2.13.0 on this machine)") from exc

    def impl(W: np.ndarray, X: np.ndarray) -> np.ndarray:
        w = torch.from_numpy(private_copy(W))
        x = torch.from_numpy(private_copy(X))
        d = W.shape[-1]
        if padding == "valid":
            return F.conv2d(x, w, padding="valid").numpy()
        if padding == "full":
            return F.conv2d(x, w, padding=d - 1).numpy()
        if padding == "same_upper" or (padding == "same" and d % 2 == 1):
            return F.conv2d(x, w, padding="same").numpy()  # torch pads more at the end
        start, _ = crop_window(padding, X.shape[-1], d)
        left, right = d - 1 - start, start if padding == "same" else 0
        return F.conv2d(F.pad(x, (left, right, left, right)), w).numpy()

    return impl


def scipy_conv2d(padding: Padding) -> Callable:
    """``scipy.signal.convolve`` (method='direct') per channel pair, paper layout."""
    import scipy.signal

    mode = {"paper": "full", "full": "full", "same": "same", "valid": "valid",
            "same_upper": "full"}[padding]

    def impl(K: np.ndarray, X: np.ndarray) -> np.ndarray:
        def one(x):
            out = np.stack([sum(scipy.signal.convolve(x[:, :, k], K[:, :, k, l], mode=mode,
                                                      method="direct")
                                for k in range(K.shape[2])) for l in range(K.shape[3])],
                           axis=-1)
            if padding == "same_upper":  # the crop of the full convolution at d // 2
                s = K.shape[0] // 2
                return out[s:s + x.shape[0], s:s + x.shape[1]]
            return out[:x.shape[0], :x.shape[1]] if padding == "paper" else out
        return np.stack([one(x) for x in X])

    return impl


def builtin_factory(name: str, padding: Padding) -> Callable:
    """Factory of the built-ins, loaded in the sandbox worker by name."""
    if name == "torch":
        return torch_conv2d(padding)
    return scipy_conv2d(padding)


__all__ = ["LAYOUTS", "OPS", "arg_names", "builtin_factory", "from_user_layout",
           "result_to_array", "scipy_conv2d", "to_user_layout", "torch_conv2d"]
