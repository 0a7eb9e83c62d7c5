"""A cross-check of the certified bracket by the Marabou verifier (optional ``verify`` extra).

slth-check certifies ``lower <= sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max <= upper``
(:func:`~slth_check.certify.certificate.sup_error`; Theorem 1's error on a built pair).
Marabou (Wu et al., CAV 2024; ``pip install 'slth-check[verify]'``, which installs
``maraboupy``) decides the same property independently:

    exists X in [0, 1]^{D x D x c0} with max_j |f(X) - g(X)|_j >= t ?

:func:`difference_query` encodes ``f`` and ``g`` side by side on one input, directly as a
Marabou ``InputQuery`` built from the steps of
:func:`~slth_check.export.program.network_ops` (the description the ONNX export walks):
every convolution (Definition 1, any padding mode and stride) and average pooling is a
linear equation with float64 coefficients, every ReLU a ReLU constraint, every 2x2 max
pooling a max constraint; the output difference ``y_j = f_j - g_j`` goes through an
absolute-value constraint ``a_j = |y_j|`` and a max constraint ``m = max_j a_j`` with the
lower bound ``m >= t`` (the two signs of ``|.|`` are Marabou's case split).  Marabou's ONNX
reader is not used: it has no ``AveragePool`` and reads weights in float32.

Marabou works in floating point with tolerances, so its answers are *claims*:
:func:`cross_check` asks "SAT at ``(1 - margin) lower``" (the counterexample is replayed
exactly by :func:`~slth_check.certify.exact.exact_error`, in Fractions, and must reach the
threshold up to :data:`REPLAY_TOLERANCE` and stay <= ``upper``) and "UNSAT at
``(1 + margin) upper``".  The outcome is agreement or a list of problems; it never turns
any slth-check verdict into "holds".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.certify.exact import exact_error
from slth_check.conv import crop_window
from slth_check.export.program import Conv, Op, Pool2, network_ops
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

__all__ = ["INSTALL", "REPLAY_TOLERANCE", "MarabouAnswer", "cross_check", "difference_query",
           "marabou_exceeds", "require_marabou"]

#: The install command printed when maraboupy is missing.
INSTALL = "pip install 'slth-check[verify]'"
#: Relative slack allowed between Marabou's SAT threshold and the exact replay of its
#: counterexample (Marabou satisfies its constraints up to floating-point tolerances).
REPLAY_TOLERANCE = 1e-6


def require_marabou() -> Any:
    """``maraboupy.MarabouCore``, or a UsageError saying how to install it."""
    try:
        from maraboupy import MarabouCore
    except ImportError as exc:
        from slth_check.errors import UsageError

        raise UsageError(f"marabou: the maraboupy package is needed ({INSTALL})") from exc
    return MarabouCore


class _Query:
    """Variables, bounds, linear equations and piecewise-linear constraints of a query."""

    def __init__(self, max_pool: str = "relu") -> None:
        self.max_pool = max_pool
        self.n = 0
        self.bounds: dict[int, tuple[float | None, float | None]] = {}
        self.equations: list[tuple[list[tuple[float, int]], float]] = []
        self.relus: list[tuple[int, int]] = []
        self.maxes: list[tuple[list[int], int]] = []
        self.abses: list[tuple[int, int]] = []

    def new(self, shape: tuple[int, ...], lo: float | None = None,
            hi: float | None = None) -> np.ndarray:
        ids = np.arange(self.n, self.n + int(np.prod(shape))).reshape(shape)
        self.n += ids.size
        for v in ids.ravel():
            self.bounds[int(v)] = (lo, hi)
        return ids

    def define(self, terms: list[tuple[float, int]], constant: float, out: int) -> None:
        """``out = sum c * v + constant`` as the equation ``sum c v - out = -constant``."""
        self.equations.append((terms + [(-1.0, out)], -constant))

    def conv(self, op: Conv, x: np.ndarray) -> np.ndarray:
        """Definition 1 on the variables ``x`` (P, P, c_in): ``out[p, q, l] = sum_{a,b,k}
        W[a, b, k, l] x[s + p*stride - a, s + q*stride - b, k]`` (zero outside the map),
        with ``(s, length)`` the crop of the padding mode (:func:`~slth_check.conv.crop_window`)."""
        P, d, c_out = x.shape[0], op.W.shape[0], op.W.shape[3]
        start, length = crop_window(op.padding, P, d)
        Q = (length - 1) // op.stride + 1
        out = self.new((Q, Q, c_out))
        for p in range(Q):
            for q in range(Q):
                for l in range(c_out):
                    terms = [(float(op.W[a, b, k, l]), int(x[r, c, k]))
                             for a in range(d) for b in range(d) for k in range(x.shape[2])
                             for r, c in [(start + p * op.stride - a, start + q * op.stride - b)]
                             if 0 <= r < P and 0 <= c < P and op.W[a, b, k, l] != 0]
                    self.define(terms, 0.0 if op.b is None else float(op.b[l]),
                                int(out[p, q, l]))
        return out

    def pool(self, op: Pool2, x: np.ndarray) -> np.ndarray:
        """2x2 pooling, stride 2, floor mode (:func:`~slth_check.conv.pool2d`)."""
        Q = x.shape[0] // 2
        out = self.new((Q, Q, x.shape[2]))
        for (p, q, l), o in np.ndenumerate(out):
            win = [int(x[2 * p + i, 2 * q + j, l]) for i in (0, 1) for j in (0, 1)]
            if op.kind == "max" and self.max_pool == "native":
                self.maxes.append((win, int(o)))
            elif op.kind == "max":
                top = self.larger(self.larger(win[0], win[1]), self.larger(win[2], win[3]))
                self.define([(1.0, top)], 0.0, int(o))
            else:
                self.define([(0.25, v) for v in win], 0.0, int(o))
        return out

    def larger(self, a: int, b: int) -> int:
        """``max(a, b) = a + relu(b - a)``: a max by one ReLU constraint."""
        diff, r, out = (int(v) for v in self.new((3,)))
        self.define([(1.0, b), (-1.0, a)], 0.0, diff)
        self.bounds[r] = (0.0, None)
        self.relus.append((diff, r))
        self.define([(1.0, a), (1.0, r)], 0.0, out)
        return out

    def run(self, ops: list[Op], x: np.ndarray) -> np.ndarray:
        for op in ops:
            if isinstance(op, Conv):
                x = self.conv(op, x)
            elif isinstance(op, Pool2):
                x = self.pool(op, x)
            else:
                out = self.new(x.shape, lo=0.0)
                self.relus += [(int(a), int(b)) for a, b in zip(x.ravel(), out.ravel())]
                x = out
        return x

    def build(self, core: Any) -> Any:
        """The ``MarabouCore.InputQuery``."""
        ipq = core.InputQuery()
        ipq.setNumberOfVariables(self.n)
        for v, (lo, hi) in self.bounds.items():
            if lo is not None:
                ipq.setLowerBound(v, lo)
            if hi is not None:
                ipq.setUpperBound(v, hi)
        for terms, scalar in self.equations:
            eq = core.Equation(core.Equation.EQ)
            for c, v in terms:
                eq.addAddend(c, v)
            eq.setScalar(scalar)
            ipq.addEquation(eq)
        for a, b in self.relus:
            core.addReluConstraint(ipq, a, b)
        for a, b in self.abses:
            core.addAbsConstraint(ipq, a, b)
        for ins, out in self.maxes:
            core.addMaxConstraint(ipq, set(ins), out)
        return ipq


def difference_query(target: TargetCNN, pruned: PrunedCNN, D: int, threshold: float, *,
                     max_pool: str = "relu") -> tuple[Any, np.ndarray]:
    """``(InputQuery, input_ids)``: "exists X in [0,1]^{D x D x c0} with
    ``max_j |f(X) - g(X)|_j >= threshold``" (module docs); ``input_ids`` (D, D, c0) are
    the variables of X in the paper's layout.  ``max_pool``: "relu" encodes each 2x2 max
    as ``max(a, b) = a + relu(b - a)`` three times; "native" uses Marabou's max
    constraint (its solver fails with "ERROR" on many such queries, see the docs)."""
    from slth_check.certify.certificate import check_pair

    core = require_marabou()
    check_pair(target, pruned)
    if not np.isfinite(threshold):
        raise ValueError(f"threshold: expected a finite number, got {threshold!r}")
    if max_pool not in ("relu", "native"):
        raise ValueError(f"max_pool: expected 'relu' or 'native', got {max_pool!r}")
    q = _Query(max_pool)
    X = q.new((D, D, target.c0), lo=0.0, hi=1.0)
    fy = q.run(network_ops(target, "f"), X)
    gy = q.run(network_ops(pruned, "g"), X)
    y = q.new(fy.shape)
    for a, b, o in zip(fy.ravel(), gy.ravel(), y.ravel()):
        q.define([(1.0, int(a)), (-1.0, int(b))], 0.0, int(o))
    absy = q.new(y.shape, lo=0.0)
    q.abses += [(int(a), int(b)) for a, b in zip(y.ravel(), absy.ravel())]
    m = int(q.new((1,), lo=float(threshold))[0])
    q.maxes.append(([int(v) for v in absy.ravel()], m))
    ipq = q.build(core)
    for i, v in enumerate(X.ravel()):
        ipq.markInputVariable(int(v), i)
    ipq.markOutputVariable(m, 0)
    return ipq, X


@dataclass(frozen=True)
class MarabouAnswer:
    """Marabou's answer to :func:`difference_query`: ``status`` "sat", "unsat" or
    "unknown" (timeout, error); for "sat" the counterexample ``X`` (clipped to [0, 1])
    and its exact error ``replayed`` (Fractions)."""

    status: str
    threshold: float
    seconds: float
    X: np.ndarray | None = None
    replayed: Fraction | None = None
    raw: str = ""


def marabou_exceeds(target: TargetCNN, pruned: PrunedCNN, D: int, threshold: float, *,
                    timeout: int = 120, max_pool: str = "relu") -> MarabouAnswer:
    """Ask Marabou whether some X in the box has ``||f(X) - g(X)||_max >= threshold``;
    a SAT answer's input is replayed exactly by :func:`exact_error`."""
    core = require_marabou()
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise ValueError(f"timeout: expected a positive integer of seconds, got {timeout!r}")
    t0 = time.perf_counter()
    ipq, ids = difference_query(target, pruned, D, threshold, max_pool=max_pool)
    options = core.Options()
    options._verbosity = 0
    options._timeoutInSeconds = timeout
    code, vals, _ = core.solve(ipq, options, "")
    seconds = time.perf_counter() - t0
    if code == "unsat":
        return MarabouAnswer("unsat", threshold, seconds, raw=code)
    if code != "sat":
        return MarabouAnswer("unknown", threshold, seconds, raw=code)
    X = np.clip(np.vectorize(lambda v: float(vals[int(v)]), otypes=[float])(ids), 0.0, 1.0)
    return MarabouAnswer("sat", threshold, seconds, X, exact_error(target, pruned, X), code)


@dataclass
class CrossCheck:
    """Both of :func:`cross_check`'s queries and whether they agree with the bracket."""

    lower: Fraction
    upper: Fraction
    below: MarabouAnswer
    above: MarabouAnswer
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.problems


def cross_check(target: TargetCNN, pruned: PrunedCNN, D: int, lower: Any, upper: Any, *,
                margin: float = 0.01, timeout: int = 120, max_pool: str = "relu") -> CrossCheck:
    """Marabou against slth-check's bracket ``[lower, upper]`` (module docs): SAT at
    ``(1 - margin) lower`` with a counterexample whose exact error reaches that threshold
    (up to :data:`REPLAY_TOLERANCE`) and does not exceed ``upper``, and UNSAT at
    ``(1 + margin) upper``.  A timeout is a problem ("unknown"), never agreement."""
    lo, hi = Fraction(lower), Fraction(upper)
    if not 0 < margin < 1 or lo > hi:
        raise ValueError(f"margin, lower, upper: expected 0 < margin < 1 and lower <= upper, "
                         f"got {margin!r}, {float(lo)!r}, {float(hi)!r}")
    below, above = (marabou_exceeds(target, pruned, D, t, timeout=timeout, max_pool=max_pool)
                    for t in (float(lo) * (1 - margin), float(hi) * (1 + margin)))
    out = CrossCheck(lo, hi, below, above)
    if below.status != "sat" or below.replayed is None:
        out.problems.append(f"Marabou answered {below.raw!r} at {below.threshold:.6g} "
                            f"= (1 - {margin}) lower; expected sat")
    else:
        if below.replayed < Fraction(below.threshold) * Fraction(1 - REPLAY_TOLERANCE):
            out.problems.append(f"Marabou's counterexample replays exactly to "
                                f"{float(below.replayed):.9g} < {below.threshold:.9g}")
        if below.replayed > hi:
            out.problems.append(f"Marabou's counterexample replays exactly to "
                                f"{float(below.replayed):.17g} > upper {float(hi):.17g}")
    if above.status != "unsat":
        out.problems.append(f"Marabou answered {above.raw!r} at {above.threshold:.6g} "
                            f"= (1 + {margin}) upper; expected unsat")
    return out
