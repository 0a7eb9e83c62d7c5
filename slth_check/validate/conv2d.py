"""Differential property testing of a user's conv2d against Definition 1.

The user's function is called as ``impl(A, X)`` with NumPy arrays in the
stated layout (``paper``: kernel (d, d, c0, c1) and input (N, D, D, c0);
``torch``: OIHW and NCHW) and must implement the stated operation
(``convolution`` as in Definition 1, or ``cross-correlation`` as PyTorch)
with the stated padding.  Hypothesis generates kernels and inputs; a result
is accepted when every entry is within the proven float64 rounding bound of
the exact reference (``gamma_m (|K|*|X|) + m eta``), plus ``rtol (|K|*|X|)``
when ``rtol`` is given.  A mismatch is shrunk to a minimal counterexample,
printed with a copy-paste reproducer and, where one fits, a diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from ..claims.definition1 import rounding_check
from ..conv import PADDINGS, _crop, conv2d
from ..tensors import input_from_torch, input_to_torch
from . import Verdict, load_callable

OPS = ("convolution", "cross-correlation")
LAYOUTS = ("paper", "torch")


def torch_conv2d(padding: str) -> Callable:
    """``torch.nn.functional.conv2d`` (extra ``torch``) as an OIHW/NCHW cross-correlation
    with the given padding mode's semantics; float64 CPU tensors."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as exc:
        raise ValueError("--impl torch: PyTorch is not installed (pip install "
                         "'slth-check[torch]', or torch==2.13.0 on this machine)") from exc

    def impl(W: np.ndarray, X: np.ndarray) -> np.ndarray:
        w = torch.from_numpy(np.array(W, dtype=np.float64, order="C", copy=True))
        x = torch.from_numpy(np.array(X, dtype=np.float64, order="C", copy=True))
        d = W.shape[-1]
        if padding == "valid":
            return F.conv2d(x, w, padding="valid").numpy()
        if padding == "full":
            return F.conv2d(x, w, padding=d - 1).numpy()
        if padding == "same" and d % 2 == 1:
            return F.conv2d(x, w, padding="same").numpy()
        start, _ = _crop(padding, X.shape[-1], d)
        left, right = d - 1 - start, start if padding == "same" else 0
        return F.conv2d(F.pad(x, (left, right, left, right)), w).numpy()

    return impl


def scipy_conv2d(padding: str) -> Callable:
    """``scipy.signal.convolve`` (method='direct') per channel pair, paper layout."""
    import scipy.signal

    mode = {"paper": "full", "full": "full", "same": "same", "valid": "valid"}[padding]

    def impl(K: np.ndarray, X: np.ndarray) -> np.ndarray:
        def one(x):
            out = np.stack([sum(scipy.signal.convolve(x[:, :, k], K[:, :, k, l], mode=mode,
                                                      method="direct")
                                for k in range(K.shape[2])) for l in range(K.shape[3])],
                           axis=-1)
            return out[:x.shape[0], :x.shape[1]] if padding == "paper" else out
        return np.stack([one(x) for x in X])

    return impl


def to_user_layout(K: np.ndarray, X: np.ndarray, layout: str,
                   op: str) -> tuple[np.ndarray, np.ndarray]:
    """The kernel and input handed to the user, in their layout and operation."""
    A = K[::-1, ::-1] if op == "cross-correlation" else K
    if layout == "torch":
        return np.ascontiguousarray(A.transpose(3, 2, 0, 1)), input_to_torch(X)
    return np.ascontiguousarray(A), X


def from_user_layout(Y: Any, layout: str) -> np.ndarray:
    Y = np.asarray(Y, dtype=np.float64)
    return input_from_torch(Y) if layout == "torch" else Y


@st.composite
def conv_cases(draw, padding: str):
    d = draw(st.integers(1, 3))
    D = draw(st.integers(d, 5))
    c0, c1 = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    N = draw(st.integers(1, 2))
    el = st.one_of(st.integers(-4, 4).map(float), st.floats(-2, 2, allow_nan=False, width=32))
    K = np.array(draw(st.lists(el, min_size=d * d * c0 * c1, max_size=d * d * c0 * c1)),
                 dtype=np.float64).reshape(d, d, c0, c1)
    X = np.array(draw(st.lists(el, min_size=N * D * D * c0, max_size=N * D * D * c0)),
                 dtype=np.float64).reshape(N, D, D, c0)
    return K, X


def _variants(K: np.ndarray, X: np.ndarray, padding: str) -> dict[str, np.ndarray]:
    """Outputs of the usual mistakes, for the diagnosis (paper layout)."""
    d, D = K.shape[0], X.shape[1]
    out = {"kernel not flipped (cross-correlation instead of convolution)":
           conv2d(K[::-1, ::-1], X, padding=padding),
           "transposed kernel (spatial axes swapped)": conv2d(K.transpose(1, 0, 2, 3), X,
                                                              padding=padding)}
    if K.shape[2] > 1:
        out["channel order (input channels reversed)"] = conv2d(K[:, :, ::-1], X,
                                                                padding=padding)
        for k, which in ((0, "first"), (K.shape[2] - 1, "last")):
            Kd = K.copy()
            Kd[:, :, k] = 0
            out[f"one input channel dropped (the {which})"] = conv2d(Kd, X, padding=padding)
    if K.shape[3] > 1:
        out["channel order (output channels reversed)"] = conv2d(K, X, padding=padding)[..., ::-1]
    if K.shape[2] == K.shape[3] and K.shape[2] > 1:
        out["channel order (c0 and c1 swapped)"] = conv2d(K.transpose(0, 1, 3, 2), X,
                                                          padding=padding)
    full = conv2d(K, X, padding="full")
    start, length = _crop(padding, D, d)
    for shift in (-1, 1):
        s = start + shift
        if 0 <= s and s + length <= full.shape[1]:
            out[f"padding offset by {shift:+d} (output shifted)"] = full[:, s:s + length,
                                                                         s:s + length]
    if padding in ("paper", "same"):
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


def _probe_cases(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """A few generic cases (random values, several channels) that separate the mistakes."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(d, d, c0, c1)), rng.normal(size=(2, D, D, c0)))
            for d, D, c0, c1 in [(3, 5, 3, 2), (2, 4, 2, 3), (3, 6, 2, 2), (1, 3, 2, 2)]]


def _diagnose(fn: Callable, layout: str, op: str, padding: str,
              cases: list[tuple[np.ndarray, np.ndarray]]) -> list[str]:
    """The usual mistakes that reproduce the user's output on every case it gets wrong."""
    candidates: dict[str, bool] | None = None
    for K, X in cases:
        A, Xu = to_user_layout(K, X, layout, op)
        try:
            got = from_user_layout(fn(A, Xu), layout)
        except Exception:  # noqa: BLE001
            return []
        expected = conv2d(K, X, padding=padding)
        if got.shape != expected.shape:  # reported apart as a shape problem
            continue
        if np.allclose(got, expected, rtol=1e-9, atol=1e-12):
            continue
        matches = {label: v.shape == got.shape and bool(np.allclose(v, got, rtol=1e-9,
                                                                    atol=1e-12))
                   for label, v in _variants(K, X, padding).items()}
        candidates = matches if candidates is None else \
            {k: candidates.get(k, False) and m for k, m in matches.items()}
    return [k for k, ok in (candidates or {}).items() if ok]


def _arr_literal(a: np.ndarray) -> str:
    return f"np.array({np.asarray(a).tolist()!r})"


def validate_conv2d(impl: Callable | str, *, layout: str = "paper", op: str = "convolution",
                    padding: str = "paper", max_examples: int = 200,
                    rtol: float | None = None, seed: int = 0) -> Verdict:
    """Differential test of ``impl`` against :func:`slth_check.conv2d` (Definition 1)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {LAYOUTS}, got {layout!r}")
    if op not in OPS:
        raise ValueError(f"op: expected one of {OPS}, got {op!r}")
    if padding not in PADDINGS:
        raise ValueError(f"padding: expected one of {PADDINGS}, got {padding!r}")
    if rtol is not None and not (rtol >= 0 and np.isfinite(rtol)):
        raise ValueError(f"rtol: expected a finite non-negative number, got {rtol!r}")
    if not isinstance(max_examples, int) or max_examples < 1:
        raise ValueError(f"max_examples: expected a positive integer, got {max_examples!r}")
    name = impl if isinstance(impl, str) else getattr(impl, "__qualname__", repr(impl))
    if impl == "torch":
        fn, layout, op = torch_conv2d(padding), "torch", "cross-correlation"
    elif impl == "scipy":
        fn, layout, op = scipy_conv2d(padding), "paper", "convolution"
    elif isinstance(impl, str):
        fn = load_callable(impl)
    else:
        fn = impl
    config = {"impl": name, "layout": layout, "op": op, "padding": padding,
              "max_examples": max_examples, "rtol": rtol,
              "tolerance": "proven float64 bound gamma_m(|K|*|X|) + m eta"
              + (f" + rtol {rtol} (|K|*|X|)" if rtol else "")}
    rt = Fraction(float(rtol)) if rtol else Fraction(0)
    problems: dict[int, str] = {}

    def mismatch(case: tuple[np.ndarray, np.ndarray]) -> bool:
        K, X = case
        A, Xu = to_user_layout(K, X, layout, op)
        try:
            Y = from_user_layout(fn(A, Xu), layout)
        except Exception as exc:  # the user's code raising is a discrepancy too
            problems[id(case)] = f"raised {type(exc).__name__}: {exc}"
            return True
        if Y.ndim != 4 or len(Y) != len(X):
            problems[id(case)] = f"output shape {Y.shape} for an input batch of {len(X)}"
            return True
        for i in range(X.shape[0]):
            out = rounding_check(K, X[i], Y[i], padding=padding, rtol=rt)
            if out.verdict != "holds":
                problems[id(case)] = out.detail
                return True
        return False

    try:
        case = find(conv_cases(padding), mismatch,
                    settings=settings(max_examples=max_examples, database=None,
                                      derandomize=True, deadline=None,
                                      phases=[Phase.generate, Phase.shrink],
                                      suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return Verdict("consistent", f"{name}: {max_examples} generated cases agree with "
                       f"Definition 1 ({padding} padding) within the tolerance", config=config)
    K, X = case
    mismatch(case)
    A, Xu = to_user_layout(K, X, layout, op)
    try:
        got = from_user_layout(fn(A, Xu), layout)
    except Exception as exc:  # noqa: BLE001
        got = None
        detail = f"raised {type(exc).__name__}: {exc}"
    else:
        detail = problems.get(id(case), "mismatch")
    expected = conv2d(K, X, padding=padding)
    diagnosis = _diagnose(fn, layout, op, padding, [(K, X)] + _probe_cases(seed))
    if got is not None and got.shape != expected.shape:
        diagnosis.append(f"output shape {got.shape}, should be {expected.shape}")
    repro = "\n".join([
        "import numpy as np",
        f"from {fn.__module__} import {getattr(fn, '__name__', 'impl')} as impl"
        if not isinstance(impl, str) or impl not in ("torch", "scipy") else
        f"# built-in impl {impl!r} (slth_check.validate.conv2d)",
        f"K = {_arr_literal(K)}  # paper layout (d, d, c0, c1)",
        f"X = {_arr_literal(X)}  # paper layout (N, D, D, c0)",
        "import slth_check",
        f"expected = slth_check.conv2d(K, X, padding={padding!r})",
        "from slth_check.validate.conv2d import to_user_layout, from_user_layout",
        f"A, Xu = to_user_layout(K, X, {layout!r}, {op!r})",
        f"got = from_user_layout(impl(A, Xu), {layout!r})",
        "print(got - expected)",
    ])
    ce = {"K": K.tolist(), "X": X.tolist(), "expected": expected.tolist(),
          "got": None if got is None else got.tolist(), "detail": detail}
    msg = (f"{name}: discrepancy with Definition 1 ({padding} padding) on a minimal case "
           f"K {K.shape}, X {X.shape}: {detail}; got {None if got is None else got.tolist()}, "
           f"should be {expected.tolist()}")
    return Verdict("discrepancy", msg, ce, repro, diagnosis, config)
