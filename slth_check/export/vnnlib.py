"""The property ``exists X in [0, 1]^n: ||f(X) - g(X)||_max >= eps`` in VNN-LIB.

VNN-LIB is the SMT-LIB subset of the VNN-COMP benchmarks: ``X_i`` and ``Y_j`` are
declared ``Real`` constants (the ONNX input and output flattened in row-major
order), the input box is one ``(assert (>= X_i lo))`` and ``(assert (<= X_i hi))``
per input, and the output constraint describes the *unsafe* region, here one
``(and ...)`` clause per output and sign inside one ``(assert (or ...))``:
``Y_j >= eps`` or ``Y_j <= -eps``.  A verifier that proves the file unsatisfiable
proves ``||f - g||_max < eps`` on the box (for the float32 graph, in its own
arithmetic); a satisfying assignment is a counterexample.
"""

from __future__ import annotations

import math

import numpy as np


def real_literal(x: float) -> str:
    """``x`` as a decimal literal without exponent (``0.1``, ``-0.5``, ``2.0``): the
    shortest digits that read back as the same float64."""
    if not math.isfinite(x):
        raise ValueError(f"x: expected a finite number, got {x!r}")
    return np.format_float_positional(float(x), unique=True, trim="0")


def vnnlib_property(n_inputs: int, n_outputs: int, eps: float, *, lo: float = 0.0,
                    hi: float = 1.0, header: str = "") -> str:
    """The VNN-LIB text (module docs) for ``n_inputs`` inputs in ``[lo, hi]`` and the
    unsafe region ``max_j |Y_j| >= eps``.  ``header`` becomes comment lines."""
    for name, v in (("n_inputs", n_inputs), ("n_outputs", n_outputs)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) \
            or eps <= 0:
        raise ValueError(f"--eps: expected a positive finite number, got {eps!r}")
    e, mine = real_literal(eps), real_literal(-float(eps))
    lo_s, hi_s = real_literal(lo), real_literal(hi)
    lines = [f"; {line}".rstrip() for line in header.splitlines()]
    lines += ["", "; inputs"] + [f"(declare-const X_{i} Real)" for i in range(n_inputs)]
    lines += ["", "; outputs"] + [f"(declare-const Y_{j} Real)" for j in range(n_outputs)]
    lines += ["", f"; the input box [{lo_s}, {hi_s}]"]
    for i in range(n_inputs):
        lines += [f"(assert (>= X_{i} {lo_s}))", f"(assert (<= X_{i} {hi_s}))"]
    lines += ["", f"; the unsafe region: |Y_j| >= {e} for some j", "(assert (or"]
    for j in range(n_outputs):
        lines += [f"    (and (>= Y_{j} {e}))", f"    (and (<= Y_{j} {mine}))"]
    lines += ["))", ""]
    return "\n".join(lines)
