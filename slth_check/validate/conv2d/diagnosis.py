"""The diagnosis of a conv2d discrepancy: which of the usual mistakes (an unflipped
kernel, transposed or reordered channels, a padding offset, the wrong boundary, a
fused ReLU, a lower precision, the strided SAME convention of JAX/TensorFlow/ONNX)
reproduces the user's output, and the copy-paste reproducer of a discrepancy.
Used by :mod:`slth_check.validate.conv2d.core`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from slth_check.conv import Padding, conv2d, crop_window
from slth_check.precision import PRECISIONS, get_precision
from slth_check.validate.conv2d.adapters import from_user_layout, to_user_layout
from slth_check.validate.conv2d.builtins import BUILTINS
from slth_check.validate.conv2d.tolerance import tolerance_float
from slth_check.validate.sandbox import UserCodeFailure
from slth_check.validate.user_function import UserFunction


def _variants(K: np.ndarray, X: np.ndarray, padding: Padding,
              stride: int = 1) -> dict[str, np.ndarray]:
    """Outputs of the usual mistakes at ``stride`` (paper layout): those at stride 1 keep
    every ``stride``-th entry, and the strided SAME convention is added."""
    out = {k: v[:, ::stride, ::stride] for k, v in _variants_unstrided(K, X, padding).items()}
    if stride > 1 and padding in ("same", "same_upper"):
        out.update(strided_same(K, X, stride))
    return out


def strided_same(K: np.ndarray, X: np.ndarray, stride: int) -> dict[str, np.ndarray]:
    """JAX/XLA, TensorFlow and ONNX ``SAME_UPPER`` at a stride: ``ceil(D/S)`` outputs,
    padded for the strided output (total ``max((ceil(D/S) - 1) S + d - D, 0)``, the
    smaller half before), which starts where ``same_upper`` does exactly when that half
    is ``(d - 1) // 2`` (e.g. for ``D = 1 (mod S)``), later otherwise."""
    d, D = K.shape[0], X.shape[1]
    P = -(-D // stride)
    before = max((P - 1) * stride + d - D, 0) // 2
    start = d - 1 - before  # the first output is F[start] of the full convolution F
    full = conv2d(K, X, padding="full")
    stop = start + (P - 1) * stride + 1
    if stop > full.shape[1]:
        return {}
    return {"SAME padding computed for the strided output (the JAX/XLA, TensorFlow and "
            "ONNX SAME_UPPER convention; --padding same_upper subsamples the stride-1 "
            "output)": full[:, start:stop:stride, start:stop:stride]}


def _variants_unstrided(K: np.ndarray, X: np.ndarray,
                        padding: Padding) -> dict[str, np.ndarray]:
    """Outputs of the usual mistakes at stride 1 (paper layout)."""
    d, D = K.shape[0], X.shape[1]
    ref = conv2d(K, X, padding=padding)
    out = {"kernel not flipped (cross-correlation instead of convolution)":
           conv2d(K[::-1, ::-1], X, padding=padding),
           "transposed kernel (spatial axes swapped)": conv2d(K.transpose(1, 0, 2, 3), X,
                                                              padding=padding),
           "ReLU applied to the output (fused activation)": np.maximum(ref, 0)}
    if K.shape[2] > 1:
        out["channel order (input channels reversed)"] = conv2d(K[:, :, ::-1], X,
                                                                padding=padding)
        for k, which in ((0, "first"), (K.shape[2] - 1, "last")):
            Kd = K.copy()
            Kd[:, :, k] = 0
            out[f"one input channel dropped (the {which})"] = conv2d(Kd, X, padding=padding)
    if K.shape[3] > 1:
        out["channel order (output channels reversed)"] = ref[..., ::-1]
    if K.shape[2] == K.shape[3] and K.shape[2] > 1:
        out["channel order (c0 and c1 swapped)"] = conv2d(K.transpose(0, 1, 3, 2), X,
                                                          padding=padding)
    full = conv2d(K, X, padding="full")
    start, length = crop_window(padding, D, d)
    for shift in (-1, 1):
        s = start + shift
        if 0 <= s and s + length <= full.shape[1]:
            out[f"padding offset by {shift:+d} (output shifted)"] = full[:, s:s + length,
                                                                         s:s + length]
    if padding in ("paper", "same", "same_upper"):
        # circular boundary: the same crop of the convolution of the periodic input
        Xw = np.pad(X, ((0, 0), (D, D), (D, D), (0, 0)), mode="wrap")
        circ = conv2d(K, Xw, padding="full")
        o = D
        out["wrong boundary (circular instead of zero padding)"] = \
            circ[:, o + start:o + start + length, o + start:o + start + length]
        Xe = np.pad(X, ((0, 0), (d, d), (d, d), (0, 0)), mode="edge")
        edge = conv2d(K, Xe, padding="full")
        out["wrong boundary (edge replication instead of zero padding)"] = \
            edge[:, d + start:d + start + length, d + start:d + start + length]
    return out


def probe_cases(seed: int, dtype: Any = np.float64) -> list[tuple[np.ndarray, np.ndarray]]:
    """A few generic cases (random values, several channels) that separate the mistakes."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(d, d, c0, c1)).astype(dtype),
             rng.normal(size=(2, D, D, c0)).astype(dtype))
            for d, D, c0, c1 in [(3, 5, 3, 2), (2, 4, 2, 3), (3, 6, 2, 2), (1, 3, 2, 2)]]


def diagnose(fn: UserFunction, layout: str, op: str, padding: Padding,
             cases: list[tuple[np.ndarray, np.ndarray]], u: float,
             stride: int = 1) -> list[str]:
    """The usual mistakes that reproduce the user's output on every case it gets wrong."""
    candidates: dict[str, bool] = {}
    for K, X in cases:
        A, Xu = to_user_layout(K, X, layout, op)
        try:
            got = from_user_layout(fn.call(A, Xu, during="on a diagnosis probe"), layout)
        except (UserCodeFailure, ValueError):
            return []
        K64, X64 = K.astype(np.float64), X.astype(np.float64)
        expected = conv2d(K64, X64, padding=padding, stride=stride)
        if got.shape != expected.shape:  # reported apart as a shape problem
            continue
        scale = float(np.abs(K64).sum() * np.abs(X64).max()) or 1.0
        atol = max(1e-9, 1e3 * u) * scale

        def close(a: np.ndarray, b: np.ndarray, atol: float = atol) -> bool:
            return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol))

        if close(got, expected):
            continue
        # a mistake that does not apply to a case (one input channel) is not ruled out by it
        for label, v in _variants(K64, X64, padding, stride).items():
            candidates[label] = candidates.get(label, True) and close(v, got)
    return [k for k, ok in candidates.items() if ok]


def lower_precision(K: np.ndarray, X: np.ndarray, got: np.ndarray, padding: Padding,
                    precision: str, stride: int = 1) -> str | None:
    """A lower precision whose tolerance (with inputs rounded to it) explains ``got``."""
    p = get_precision(precision)
    K64, X64 = K.astype(np.float64), X.astype(np.float64)
    for q in sorted(PRECISIONS.values(), key=lambda q: q.u):
        if q.u <= p.u:
            continue
        if np.abs(K64).max(initial=0) > q.fmax or np.abs(X64).max(initial=0) > q.fmax:
            continue
        uq = float(q.u)
        try:
            ok = True
            for n in range(X.shape[0]):
                T, A = tolerance_float(K64, X64[n], padding, q, 0.0, stride)
                err = np.abs(got[n] - conv2d(K64, X64[n], padding=padding, stride=stride))
                if not np.all(err <= 1.01 * (T + (2 * uq + uq * uq) * A)):
                    ok = False
                    break
        except ValueError:  # the bound is vacuous at this size
            continue
        if ok:
            return (f"consistent with {q.name} arithmetic: did you mean "
                    f"--precision {q.name}?")
    return None


def _arr_literal(a: np.ndarray) -> str:
    dt = "" if a.dtype == np.float64 else f", dtype=np.{a.dtype}"
    return f"np.array({np.asarray(a).tolist()!r}{dt})"


def reproducer(impl: Any, K: np.ndarray, X: np.ndarray, padding: Padding, layout: str,
               op: str, stride: int = 1) -> str:
    """A copy-paste script that shows the discrepancy of ``impl`` (a built-in name,
    ``MODULE:ATTR`` or a callable) on the case ``K``, ``X``."""
    call = "impl(A, Xu)" if stride == 1 else f"impl(A, Xu, stride={stride})"
    if isinstance(impl, str) and impl in BUILTINS:
        imp = (f"from slth_check.validate.conv2d.builtins import builtin_factory\n"
               f"impl = builtin_factory({impl!r}, {padding!r}, {stride})")
        call = "impl(A, Xu)"
    elif isinstance(impl, str):
        mod, attr = impl.split(":", 1)
        imp = f"import {mod}\nimpl = {mod}.{attr}"
    else:
        imp = f"from {getattr(impl, '__module__', '?')} import " \
              f"{getattr(impl, '__name__', 'impl')} as impl"
    strided = "" if stride == 1 else f", stride={stride}"
    return "\n".join([
        "import numpy as np",
        imp,
        f"K = {_arr_literal(K)}  # paper layout (d, d, c0, c1)",
        f"X = {_arr_literal(X)}  # paper layout (N, D, D, c0)",
        "import slth_check",
        f"expected = slth_check.conv2d(K.astype(np.float64), X.astype(np.float64), "
        f"padding={padding!r}{strided})",
        "from slth_check.validate.conv2d.adapters import to_user_layout, from_user_layout",
        f"A, Xu = to_user_layout(K, X, {layout!r}, {op!r})",
        f"got = from_user_layout({call}, {layout!r})",
        'assert got.shape == expected.shape, f"shape {got.shape}, should be {expected.shape}"',
        "print(got - expected)",
    ])


__all__ = ["diagnose", "lower_precision", "probe_cases", "reproducer"]
