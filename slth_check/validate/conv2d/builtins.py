"""The built-in implementations of ``slth-check validate conv2d --impl NAME``.

Each built-in is the convolution of a library, put under the same test as a
user's (:mod:`slth_check.validate.conv2d.core`), with the padding mode and stride
of the run.  Every padding mode is a crop of the full convolution ``F``
(:func:`slth_check.conv.crop_window`, start ``s``, length ``L``) and a stride
``S`` keeps ``F[s], F[s + S], ...`` (``(L - 1) // S + 1`` outputs); as a
zero-padded *cross-correlation* this is ``pads = (d - 1 - s, s + L - D)``
before and after each spatial axis (:func:`explicit_pads`).

===============  =================================  ======  =================  =======
name             library call                       layout  operation          dtype
===============  =================================  ======  =================  =======
``scipy``        ``scipy.signal.convolve``          paper   convolution        inputs'
``torch``        ``torch.nn.functional.conv2d``     torch   cross-correlation  inputs'
``jax``          ``jax.lax.conv_general_dilated``   paper   cross-correlation  inputs'
``onnxruntime``  one-node ONNX ``Conv`` graph       torch   cross-correlation  float32
===============  =================================  ======  =================  =======

At stride 1 the libraries' own names of the modes are used where they have
one (PyTorch ``padding="same"``, JAX ``"SAME"``/``"VALID"``, ONNX
``auto_pad="SAME_UPPER"``/``"VALID"``), so their conventions are what is
tested; elsewhere the explicit pads.  With a stride, the libraries' ``SAME``
pads for the *strided* output: ``max((ceil(D/S) - 1) S + d - D, 0)`` in all,
the smaller half ``b`` before, so it agrees with ``same_upper`` exactly when
``b = (d - 1) // 2`` (always for ``D = 1 (mod S)``; never for odd ``d >= 3``,
even ``D`` and ``S = 2``) and starts later otherwise; the diagnosis names that
convention when it explains a discrepancy.

**JAX** computes in float64 only with ``jax_enable_x64``: the built-in
enables it, checks that it took effect (a usage error otherwise), and raises
on any call whose result's dtype is not the input's, so a silent float32 is
never judged as float64.  **ONNX Runtime**'s CPU ``Conv`` is float32: the
built-in rounds its inputs to float32 and returns float32, consistent with
``--precision float32`` (and lower), a discrepancy at float64 by design.

``torch``, ``jax`` and ``onnxruntime`` are extras, imported lazily (in the
sandbox worker); asking for one that is not installed is a usage error naming
the install command (:func:`require_builtin`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

from slth_check.conv import Padding, crop_window
from slth_check.errors import UsageError
from slth_check.validate.sandbox import private_copy

#: Built-in name -> (layout, operation) of the arrays it receives.
BUILTINS: dict[str, tuple[str, str]] = {
    "scipy": ("paper", "convolution"),
    "torch": ("torch", "cross-correlation"),
    "jax": ("paper", "cross-correlation"),
    "onnxruntime": ("torch", "cross-correlation"),
}

#: Built-in name -> (modules it imports, the slth-check extra that installs them).
_EXTRAS: dict[str, tuple[tuple[str, ...], str]] = {
    "torch": (("torch",), "torch"),
    "jax": (("jax",), "jax"),
    "onnxruntime": (("onnx", "onnxruntime"), "onnx"),
}


def installed(module: str) -> bool:
    """Is ``module`` importable (found without importing it)?"""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require_builtin(name: str) -> None:
    """UsageError (exit 2) naming the install command when the built-in ``name`` needs a
    package that is not installed."""
    modules, extra = _EXTRAS.get(name, ((), ""))
    missing = [m for m in modules if not installed(m)]
    if missing:
        raise UsageError(f"--impl {name}: {', '.join(missing)} not installed (pip install "
                         f"'slth-check[{extra}]')")


def explicit_pads(padding: Padding, D: int, d: int) -> tuple[int, int]:
    """Zero padding (before, after) of one spatial axis that makes a cross-correlation
    with the flipped kernel, at any stride, start at the crop of ``padding``."""
    start, length = crop_window(padding, D, d)
    return d - 1 - start, start + length - D


def _check_dtype(Y: Any, X: np.ndarray, library: str) -> None:
    if np.dtype(Y.dtype) != X.dtype:
        raise TypeError(f"{library} computed in {Y.dtype} on {X.dtype} inputs: the result "
                        f"is not in the precision under test")


def scipy_conv2d(padding: Padding, stride: int = 1) -> Callable:
    """``scipy.signal.convolve`` (method='direct') per channel pair, paper layout, with
    SciPy's modes ``same``, ``valid`` and ``full`` (``paper`` and ``same_upper``: crops of
    ``full``); the stride keeps every ``stride``-th output, from the first."""
    import scipy.signal

    mode = {"paper": "full", "full": "full", "same": "same", "valid": "valid",
            "same_upper": "full"}[padding]

    def one(K: np.ndarray, x: np.ndarray) -> np.ndarray:
        out = np.stack([sum(scipy.signal.convolve(x[:, :, k], K[:, :, k, l], mode=mode,
                                                  method="direct")
                            for k in range(K.shape[2])) for l in range(K.shape[3])], axis=-1)
        if padding in ("paper", "same_upper"):
            start, length = crop_window(padding, x.shape[0], K.shape[0])
            out = out[start:start + length, start:start + length]
        return out[::stride, ::stride]

    def impl(K: np.ndarray, X: np.ndarray) -> np.ndarray:
        return np.stack([one(K, x) for x in X])

    return impl


def torch_conv2d(padding: Padding, stride: int = 1) -> Callable:
    """``torch.nn.functional.conv2d`` (extra ``torch``): OIHW/NCHW cross-correlation in the
    arrays' dtype on the CPU, PyTorch's ``padding="same"`` for ``same_upper`` (and odd-d
    ``same``) at stride 1, explicit pads otherwise."""
    require_builtin("torch")
    import torch
    import torch.nn.functional as F

    def impl(W: np.ndarray, X: np.ndarray) -> np.ndarray:
        w, x = torch.from_numpy(private_copy(W)), torch.from_numpy(private_copy(X))
        d = W.shape[-1]
        if stride == 1 and padding == "valid":
            return F.conv2d(x, w, padding="valid").numpy()
        if stride == 1 and (padding == "same_upper" or (padding == "same" and d % 2 == 1)):
            return F.conv2d(x, w, padding="same").numpy()  # torch pads more at the end
        before, after = explicit_pads(padding, X.shape[-1], d)
        return F.conv2d(F.pad(x, (before, after, before, after)), w, stride=stride).numpy()

    return impl


def jax_conv2d(padding: Padding, stride: int = 1) -> Callable:
    """``jax.lax.conv_general_dilated`` (extra ``jax``) on NHWC inputs and HWIO kernels (the
    paper layout), flipped kernel, ``Precision.HIGHEST``, float64 through
    ``jax_enable_x64`` (module docs); a result in another dtype raises TypeError."""
    require_builtin("jax")
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    if jnp.asarray(np.zeros(1)).dtype != np.float64:
        raise UsageError("--impl jax: JAX did not enable float64 (jax_enable_x64); it would "
                         "compute float64 cases in float32")

    def impl(K: np.ndarray, X: np.ndarray) -> np.ndarray:
        d = K.shape[0]
        pad: Any
        if stride == 1 and padding in ("valid", "same_upper"):
            pad = "VALID" if padding == "valid" else "SAME"
        else:
            pad = [explicit_pads(padding, X.shape[1], d)] * 2
        Y = jax.lax.conv_general_dilated(jnp.asarray(X), jnp.asarray(K), (stride, stride), pad,
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                         precision=jax.lax.Precision.HIGHEST)
        _check_dtype(Y, X, "JAX")
        return np.asarray(Y)

    return impl


def onnx_conv_model(c0: int, c1: int, d: int, stride: int,
                    pads: tuple[int, int] | str) -> bytes:
    """A serialised one-node ONNX graph ``Y = Conv(X, W)`` (float32, NCHW/OIHW, opset 17):
    ``pads`` (before, after) on both spatial axes, or an ``auto_pad`` value."""
    from onnx import TensorProto, helper

    attrs: dict[str, Any] = {"kernel_shape": [d, d], "strides": [stride, stride]}
    if isinstance(pads, str):
        attrs["auto_pad"] = pads
    else:
        attrs["pads"] = [pads[0], pads[0], pads[1], pads[1]]  # x1_begin, x2_begin, ends
    node = helper.make_node("Conv", ["X", "W"], ["Y"], **attrs)
    graph = helper.make_graph(
        [node], "slth_check_conv2d",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", c0, "D", "D"]),
         helper.make_tensor_value_info("W", TensorProto.FLOAT, [c1, c0, d, d])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime >= 1.17
    return bytes(model.SerializeToString())


def onnx_runner(model_for: Callable[[np.ndarray, np.ndarray], bytes]) -> Callable:
    """An OIHW/NCHW function running, in ONNX Runtime (one thread), the graph that
    ``model_for(W, X)`` builds; inputs rounded to float32, float32 output."""
    require_builtin("onnxruntime")
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    sessions: dict[bytes, Any] = {}

    def impl(W: np.ndarray, X: np.ndarray) -> np.ndarray:
        model = model_for(W, X)
        if model not in sessions:
            sessions[model] = ort.InferenceSession(model, options,
                                                   providers=["CPUExecutionProvider"])
        feeds = {"X": X.astype(np.float32), "W": W.astype(np.float32)}
        return np.asarray(sessions[model].run(None, feeds)[0])

    return impl


def onnxruntime_conv2d(padding: Padding, stride: int = 1) -> Callable:
    """ONNX ``Conv`` in ONNX Runtime (extra ``onnx``), float32, ``auto_pad`` ``VALID`` /
    ``SAME_UPPER`` at stride 1, explicit ``pads`` otherwise."""

    def model_for(W: np.ndarray, X: np.ndarray) -> bytes:
        c1, c0, d, _ = W.shape
        pads: tuple[int, int] | str
        if stride == 1 and padding in ("valid", "same_upper"):
            pads = "VALID" if padding == "valid" else "SAME_UPPER"
        else:
            pads = explicit_pads(padding, X.shape[-1], d)
        return onnx_conv_model(c0, c1, d, stride, pads)

    return onnx_runner(model_for)


_FACTORIES: dict[str, Callable[[Padding, int], Callable]] = {
    "scipy": scipy_conv2d, "torch": torch_conv2d, "jax": jax_conv2d,
    "onnxruntime": onnxruntime_conv2d}


def builtin_factory(name: str, padding: Padding, stride: int = 1) -> Callable:
    """The built-in ``name`` (:data:`BUILTINS`) for ``padding`` and ``stride``: loaded in
    the sandbox worker by name."""
    if name not in _FACTORIES:
        raise UsageError(f"--impl: expected MODULE:ATTR or one of {tuple(BUILTINS)}, "
                         f"got {name!r}")
    return _FACTORIES[name](padding, stride)


__all__ = ["BUILTINS", "builtin_factory", "explicit_pads", "installed", "jax_conv2d",
           "onnx_conv_model", "onnx_runner", "onnxruntime_conv2d", "require_builtin",
           "scipy_conv2d", "torch_conv2d"]
