"""Adapters of the conv2d validator (:mod:`slth_check.validate.conv2d.core`): the layouts
and operations of a user's conv2d (the arrays handed to it, its output brought back
to the paper layout) and its calling convention: ``f(A, X)`` at stride 1,
``f(A, X, stride=S)`` at stride ``S > 1`` (:func:`with_stride`).  The built-ins
live in :mod:`slth_check.validate.conv2d.builtins` (re-exported here).

The sandbox worker loads :func:`strided_factory` (and :func:`builtin_factory`)
from here by name: this module imports nothing heavy at the top."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from slth_check.errors import UsageError
from slth_check.tensors import input_from_torch, input_to_torch
from slth_check.validate.conv2d.builtins import builtin_factory, scipy_conv2d, torch_conv2d
from slth_check.validate.sandbox import load_user_function, private_copy, real_array

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


def accepts_stride(fn: Callable) -> bool | None:
    """Does ``fn`` take a keyword argument ``stride`` (or ``**kwargs``)?  None when its
    signature cannot be read (a C function): then the call decides."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    return any(q.kind is q.VAR_KEYWORD or (q.name == "stride" and q.kind in (
        q.POSITIONAL_OR_KEYWORD, q.KEYWORD_ONLY)) for q in params)


def with_stride(fn: Callable, stride: int, label: str) -> Callable:
    """The calling convention of a strided run: ``fn(A, X, stride=stride)``; ``fn`` as it
    is at stride 1.  UsageError when ``fn``'s signature has no ``stride`` keyword."""
    if stride == 1:
        return fn
    if accepts_stride(fn) is False:
        raise UsageError(f"--impl: {label} does not accept the keyword argument stride "
                         f"(--stride {stride} calls it as f(K, X, stride={stride}); define "
                         f"it as f(K, X, *, stride=1))")

    def strided(A: np.ndarray, X: np.ndarray) -> Any:
        return fn(A, X, stride=stride)

    return strided


def strided_factory(spec: str, stride: int) -> Callable:
    """``MODULE:ATTR`` loaded (in the sandbox worker, by name) and called with ``stride``
    (:func:`with_stride`)."""
    return with_stride(load_user_function(spec), stride, repr(spec))


__all__ = ["LAYOUTS", "OPS", "accepts_stride", "arg_names", "builtin_factory",
           "from_user_layout", "result_to_array", "scipy_conv2d", "strided_factory",
           "to_user_layout", "torch_conv2d", "with_stride"]
