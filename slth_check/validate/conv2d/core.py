"""Differential property testing of a user's conv2d against Definition 1.

The function under test is called as ``impl(A, X)`` with NumPy arrays in the
stated layout (``paper``: kernel (d, d, c0, c1) and input (N, D, D, c0);
``torch``: OIHW and NCHW) and must implement the stated operation
(``convolution`` as in Definition 1, or ``cross-correlation`` as PyTorch)
with the stated padding.  With ``stride`` S > 1 it is called as
``impl(A, X, stride=S)`` and must keep every S-th output of the padding
mode's crop, from the first (:mod:`slth_check.conv`); a function whose
signature has no ``stride`` keyword (nor ``**kwargs``) is a usage error.
The built-ins ``scipy``, ``torch``, ``jax`` and ``onnxruntime``
(:mod:`slth_check.validate.conv2d.builtins`) choose their own layout and
operation.  It may return a NumPy array, anything
``np.asarray`` accepts, or a torch tensor, of real numbers.

**Isolation** (:mod:`slth_check.validate.sandbox`).  A ``MODULE:ATTR``
implementation (and the built-ins) runs in a worker
process with a per-call ``timeout`` (default 60 s): a hang, ``sys.exit``,
``os._exit``, a crash, or an exception at import are discrepancies of the
implementation, never ``consistent`` and never a crash of slth-check.  A
Python callable passed through the API runs in-process (no timeout).  The
function always receives private C-contiguous copies (non-negative strides)
in the precision's dtype; the reference is computed from the validator's own
untouched arrays, and a function that modifies its input gets its own
discrepancy ("modified its input K in place").

**Generation** (:mod:`slth_check.validate.conv2d.generation`): Hypothesis draws
the shapes in an order that shrinks toward (1, 1, 1, 1), with entries of every
magnitude the precision can hold without overflow, and no subnormal inputs.

**Tolerance** (:mod:`slth_check.validate.conv2d.tolerance`, where the model is derived
with its citations): ``T = gamma_m(u) A + W(D, d, c0) ||K_l||_1 ||X_n||_max + Z +
rtol A`` per output entry, decided exactly.  When a discrepancy is within the
tolerance of a lower precision (inputs rounded to it included), the diagnosis
says so ("consistent with float32 arithmetic: did you mean --precision
float32?").

A mismatch is shrunk to a minimal counterexample, printed with a copy-paste
reproducer and, where one fits, a diagnosis of the usual mistakes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from slth_check.conv import PADDINGS, Padding, conv2d
from slth_check.validate import Verdict
from slth_check.validate.conv2d.adapters import (
    LAYOUTS,
    OPS,
    arg_names,
    from_user_layout,
    result_to_array,
    to_user_layout,
    with_stride,
)
from slth_check.validate.conv2d.builtins import (
    BUILTINS,
    require_builtin,
    scipy_conv2d,
    torch_conv2d,
)
from slth_check.validate.conv2d.case import Case, Problem
from slth_check.validate.conv2d.diagnosis import diagnose, lower_precision, probe_cases, reproducer
from slth_check.validate.conv2d.generation import (
    BACKGROUNDS,
    MAX_WORK,
    Limits,
    check_limits,
    conv_cases,
    default_max_abs,
)
from slth_check.validate.conv2d.search import SHRINK_CALLS, find_failure, grid_cases
from slth_check.validate.conv2d.tolerance import (
    PRECISIONS,
    EntryCheck,
    Precision,
    check_image,
    fft_stages,
    get_precision,
    normwise_factor,
    tolerance,
    underflow_term,
)
from slth_check.validate.determinism import fresh_seed
from slth_check.validate.sandbox import UserCodeFailure
from slth_check.validate.user_function import UserFunction

__all__ = ["BACKGROUNDS", "BUILTINS", "LAYOUTS", "MAX_WORK", "OPS", "PRECISIONS",
           "SHRINK_CALLS",
           "EntryCheck", "Precision", "check_image", "conv_cases", "default_max_abs",
           "fft_stages", "from_user_layout", "normwise_factor", "result_to_array",
           "scipy_conv2d", "to_user_layout", "tolerance", "torch_conv2d", "underflow_term",
           "validate_conv2d"]


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= seed < 2**63:
        raise ValueError(f"seed: expected an integer in [0, 2**63), got {seed!r}")
    return int(seed)


def _check_modes(layout: str, op: str, padding: Padding) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {LAYOUTS}, got {layout!r}")
    if op not in OPS:
        raise ValueError(f"op: expected one of {OPS}, got {op!r}")
    if padding not in PADDINGS:
        raise ValueError(f"padding: expected one of {PADDINGS}, got {padding!r}")


def validate_conv2d(impl: Callable | str, *, layout: str = "paper", op: str = "convolution",
                    padding: Padding = "paper", max_examples: int = 200,
                    rtol: float | None = None, seed: int | None = None,
                    precision: str = "float64",
                    max_d: int = 5, max_D: int = 8, max_channels: int = 4, max_batch: int = 3,
                    max_abs: float | None = None, timeout: float = 60.0,
                    stride: int = 1) -> Verdict:
    """Differential test of ``impl`` against :func:`slth_check.conv2d` (Definition 1,
    with ``padding`` and ``stride``).

    ``impl`` is ``"MODULE:ATTR"`` (run in a sandboxed worker with ``timeout``
    seconds per call), a built-in (:data:`BUILTINS`: ``"scipy"``, ``"torch"``,
    ``"jax"``, ``"onnxruntime"``, which set the layout and operation), or a
    Python callable (run in-process).  At ``stride`` 1 it is called as
    ``impl(A, X)``, at ``stride`` S > 1 as ``impl(A, X, stride=S)`` (a
    usage error when its signature has no such keyword).  ``precision`` picks
    the dtype handed to the user and the tolerance (module docs); ``rtol`` is
    added on top; ``max_*`` bound the generated shapes and magnitudes.  Returns a
    :class:`~slth_check.validate.Verdict`: ``consistent``, or ``discrepancy``
    with a minimal counterexample, a reproducer and a diagnosis.  Raises
    ValueError for bad arguments or an implementation that cannot be found.

    The grid of small configurations (:func:`conv_grid`) is checked first, then
    ``max_examples`` random cases drawn from ``seed`` (default: a fresh seed,
    printed in the verdict and its ``config``; pass it back to replay the run).
    """
    _check_modes(layout, op, padding)
    seed = fresh_seed() if seed is None else _check_seed(seed)
    p = get_precision(precision)
    lim = check_limits(padding, p, rtol, max_examples, max_d, max_D, max_channels,
                       max_batch, max_abs, stride)
    stride = lim.stride
    name = impl if isinstance(impl, str) else getattr(impl, "__qualname__", repr(impl))
    layout, op, fn = _user_function(impl, layout, op, padding, stride, timeout, name)
    config = {"impl": name, "layout": layout, "op": op, "padding": padding, "stride": stride,
              "seed": seed,
              "max_examples": lim.max_examples, "rtol": rtol, "precision": precision,
              "max_d": lim.max_d, "max_D": lim.max_D, "max_channels": lim.max_channels,
              "max_batch": lim.max_batch, "max_abs": lim.max_abs, "timeout": timeout,
              "sandbox": "in-process" if fn.in_process else "worker process",
              "tolerance": f"gamma_m(u) |K|*|X| + W ||K_l||_1 ||X||_max + underflow "
                           f"({precision}, u = 2^{int(math.log2(p.u))})"
                           + (f" + rtol {rtol} |K|*|X|" if rtol else "")}
    case = Case(fn, layout, op, padding, p, float(rtol or 0.0), stride)
    with fn:
        return _run(case, name, impl, config, lim, seed)


def _user_function(impl: Callable | str, layout: str, op: str, padding: Padding, stride: int,
                   timeout: float, name: str) -> tuple[str, str, UserFunction]:
    """The layout, operation and :class:`UserFunction` of ``impl`` (a built-in sets the
    first two; a missing extra is a usage error here, before any worker starts)."""
    names = arg_names(layout)
    if isinstance(impl, str) and impl in BUILTINS:
        require_builtin(impl)
        layout, op = BUILTINS[impl]
        return layout, op, UserFunction(
            "slth_check.validate.conv2d.adapters:builtin_factory", timeout,
            factory_args=(impl, padding, stride), convert="real_array",
            arg_names=arg_names(layout))
    if stride == 1:
        return layout, op, UserFunction(impl, timeout, convert="real_array", arg_names=names)
    if isinstance(impl, str):
        return layout, op, UserFunction(
            "slth_check.validate.conv2d.adapters:strided_factory", timeout,
            factory_args=(impl, stride), convert="real_array", arg_names=names)
    if not callable(impl):
        raise ValueError(f"--impl: expected MODULE:ATTR or a callable, got {impl!r}")
    return layout, op, UserFunction(with_stride(impl, stride, repr(name)), timeout,
                                    convert="real_array", arg_names=names)


def _at(case: Case) -> str:
    return "" if case.stride == 1 else f", stride {case.stride}"


def _run(case: Case, name: str, impl: Any, config: dict, lim: Limits,
         seed: int) -> Verdict:
    try:
        case.fn.start()
    except UserCodeFailure as exc:
        return Verdict("discrepancy", f"{name}: the implementation {exc}", None, None,
                       ["the implementation could not be imported"], config)
    found = find_failure(case, lim, seed)
    if found is None:
        n_grid = len(grid_cases(case.padding, case.p.name, lim))
        return Verdict("consistent", f"{name}: {n_grid} grid cases (every d <= {lim.max_d} "
                       f"with every D <= {lim.max_D}, every (c0, c1) up to "
                       f"{lim.max_channels}, every input sign class) and "
                       f"{lim.max_examples} random cases (seed {seed}) agree "
                       f"with Definition 1 ({case.padding} padding{_at(case)}) within the "
                       f"{case.p.name} tolerance", config=config)
    (K, X), prob = found
    if prob.got is not None and not prob.fatal and "in place" not in prob.detail:
        prob = case.check_output(K, X, prob.got, exact=True) or prob  # exact numbers
    expected = np.stack([conv2d(K.astype(np.float64), x.astype(np.float64),
                                padding=case.padding, stride=case.stride) for x in X])
    diagnosis = _diagnosis(case, K, X, prob, expected, seed)
    repro = reproducer(impl, K, X, case.padding, case.layout, case.op, case.stride)
    got = prob.got
    ce = {"K": K.tolist(), "X": X.tolist(), "dtype": str(K.dtype),
          "expected": expected.tolist(),
          "got": None if got is None else got.tolist(), "detail": prob.detail}
    tail = "" if got is None else f"; got {got.tolist()}, should be {expected.tolist()}"
    what = "case" if prob.fatal else "minimal case"
    msg = (f"{name}: discrepancy with Definition 1 ({case.padding} padding{_at(case)}, "
           f"{case.p.name}) "
           f"on a {what} K {K.shape}, X {X.shape}: {prob.detail}{tail}")
    return Verdict("discrepancy", msg, ce, repro, diagnosis, config)


def _diagnosis(case: Case, K: np.ndarray, X: np.ndarray, prob: Problem,
               expected: np.ndarray, seed: int) -> list[str]:
    """The usual mistakes, a wrong shape or a lower precision that explain the output."""
    got = prob.got
    diagnosis: list[str] = []
    if got is not None and not prob.fatal:
        diagnosis = diagnose(case.fn, case.layout, case.op, case.padding,
                             [(K, X)] + probe_cases(seed, case.p.dtype), float(case.p.u),
                             case.stride)
        if got.shape != expected.shape:
            diagnosis.append(f"output shape {got.shape}, should be {expected.shape}")
        else:
            lower = lower_precision(K, X, got, case.padding, case.p.name, case.stride)
            if lower:
                diagnosis.append(lower)
    if "in place" in prob.detail:
        diagnosis.append("the implementation modifies its input in place; the validator "
                         "compares its own copies")
    return diagnosis
