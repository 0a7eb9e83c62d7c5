"""f - g as a query of the Marabou verifier (optional ``verify`` extra, ``maraboupy``).

:func:`difference_query` encodes ``f`` and ``g`` side by side on one input box
``[0, 1]^{D x D x c0}``, directly as a Marabou ``InputQuery`` built from the steps of
:func:`~slth_check.export.program.network_ops` (the description the ONNX export walks):
every convolution (Definition 1, any padding mode and stride) and average pooling is a
linear equation with float64 coefficients, every ReLU a ReLU constraint, every 2x2 max
pooling three ReLUs (``max(a, b) = a + relu(b - a)``) or Marabou's max constraint; the
output difference ``y_j = f_j - g_j`` is an equation and the property one bound
``s y_j >= t`` (s = +1 or -1: the absolute value of ``||f - g||_max`` split by entry and
sign, :func:`slth_check.export.marabou_check.marabou_exceeds`).  Marabou's ONNX reader is not
used: it has no ``AveragePool`` and reads weights in float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from slth_check.conv import crop_window
from slth_check.export.program import Conv, Op, Pool2, network_ops
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

__all__ = ["INSTALL", "MarabouQuery", "difference_query", "network_query", "require_marabou"]

#: The install command printed when maraboupy is missing.
INSTALL = "pip install 'slth-check[verify]'"


def require_marabou() -> Any:
    """``maraboupy.MarabouCore``, or a UsageError saying how to install it."""
    from slth_check.errors import require_extra

    return require_extra("maraboupy.MarabouCore", what="marabou",
                         needs="the maraboupy package", install=INSTALL)


class MarabouQuery:
    """Variables, bounds, linear equations and piecewise-linear constraints of a query.

    Every variable gets finite bounds by interval arithmetic from the input box, widened
    by ``1e-7 (1 + |bound|)`` (far above float64's rounding of these short sums): looser
    bounds only weaken Marabou's pruning (its preprocessing tightens them further).
    """

    def __init__(self, max_pool: str = "relu") -> None:
        self.max_pool = max_pool
        self.n = 0
        self.bounds: dict[int, tuple[float, float]] = {}
        self.equations: list[tuple[list[tuple[float, int]], float]] = []
        self.relus: list[tuple[int, int]] = []
        self.maxes: list[tuple[list[int], int]] = []

    def new(self, shape: tuple[int, ...], lo: float = -np.inf,
            hi: float = np.inf) -> np.ndarray:
        ids = np.arange(self.n, self.n + int(np.prod(shape))).reshape(shape)
        self.n += ids.size
        for v in ids.ravel():
            self.bounds[int(v)] = (lo, hi)
        return ids

    def widen(self, v: int, lo: float, hi: float) -> None:
        self.bounds[v] = (lo - 1e-7 * (1 + abs(lo)), hi + 1e-7 * (1 + abs(hi)))

    def define(self, terms: list[tuple[float, int]], constant: float, out: int) -> None:
        """``out = sum c * v + constant`` as the equation ``sum c v - out = -constant``."""
        self.equations.append((terms + [(-1.0, out)], -constant))
        lo = constant + sum(c * self.bounds[v][0 if c > 0 else 1] for c, v in terms)
        hi = constant + sum(c * self.bounds[v][1 if c > 0 else 0] for c, v in terms)
        self.widen(out, lo, hi)

    def relu(self, a: int) -> int:
        """A variable ``r = max(0, a)`` (a ReLU constraint)."""
        r = int(self.new((1,))[0])
        lo, hi = self.bounds[a]
        self.bounds[r] = (max(0.0, lo), max(0.0, hi))
        self.relus.append((a, r))
        return r

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
        out = np.zeros((x.shape[0] // 2, x.shape[0] // 2, x.shape[2]), dtype=int)
        for (p, q, l), _ in np.ndenumerate(out):
            w = [int(x[2 * p + i, 2 * q + j, l]) for i in (0, 1) for j in (0, 1)]
            if op.kind == "max" and self.max_pool == "relu":
                out[p, q, l] = self.larger(self.larger(w[0], w[1]), self.larger(w[2], w[3]))
                continue
            o = out[p, q, l] = int(self.new((1,))[0])
            if op.kind == "max":
                self.maxes.append((w, o))
                self.bounds[o] = (max(self.bounds[v][0] for v in w),
                                  max(self.bounds[v][1] for v in w))
            else:
                self.define([(0.25, v) for v in w], 0.0, o)
        return out

    def larger(self, a: int, b: int) -> int:
        """``max(a, b) = a + relu(b - a)``: a max by one ReLU constraint."""
        diff, out = (int(v) for v in self.new((2,)))
        self.define([(1.0, b), (-1.0, a)], 0.0, diff)
        self.define([(1.0, a), (1.0, self.relu(diff))], 0.0, out)
        return out

    def run(self, ops: list[Op], x: np.ndarray) -> np.ndarray:
        for op in ops:
            if isinstance(op, Conv):
                x = self.conv(op, x)
            elif isinstance(op, Pool2):
                x = self.pool(op, x)
            else:
                x = np.array([self.relu(int(a)) for a in x.ravel()]).reshape(x.shape)
        return x

    def build(self, core: Any) -> Any:
        """The ``MarabouCore.InputQuery``."""
        ipq = core.InputQuery()
        ipq.setNumberOfVariables(self.n)
        for v, (lo, hi) in self.bounds.items():
            ipq.setLowerBound(v, lo)
            ipq.setUpperBound(v, hi)
        for terms, scalar in self.equations:
            eq = core.Equation(core.Equation.EQ)
            for c, v in terms:
                eq.addAddend(c, v)
            eq.setScalar(scalar)
            ipq.addEquation(eq)
        for a, b in self.relus:
            core.addReluConstraint(ipq, a, b)
        for ins, out in self.maxes:
            core.addMaxConstraint(ipq, set(ins), out)
        return ipq


def network_query(target: TargetCNN, pruned: PrunedCNN, D: int,
             max_pool: str) -> tuple[MarabouQuery, np.ndarray, np.ndarray]:
    """``(query, X, y)``: f and g side by side on the input box, ``y = f - g`` (flat)."""
    from slth_check.certify.certificate import check_pair

    check_pair(target, pruned)
    if max_pool not in ("relu", "native"):
        raise ValueError(f"max_pool: expected 'relu' or 'native', got {max_pool!r}")
    q = MarabouQuery(max_pool)
    X = q.new((D, D, target.c0), lo=0.0, hi=1.0)
    fy = q.run(network_ops(target, "f"), X).ravel()
    gy = q.run(network_ops(pruned, "g"), X).ravel()
    y = q.new(fy.shape)
    for a, b, o in zip(fy, gy, y):
        q.define([(1.0, int(a)), (-1.0, int(b))], 0.0, int(o))
    return q, X, y


def bounded_query(core: Any, q: MarabouQuery, y: int, sign: int, threshold: float) -> Any:
    """The query with ``sign * y >= threshold`` as a bound on ``y``."""
    lo, hi = q.bounds[y]
    saved = q.bounds[y]
    q.bounds[y] = (threshold, max(hi, threshold)) if sign > 0 else (min(lo, -threshold),
                                                                     -threshold)
    try:
        return q.build(core)
    finally:
        q.bounds[y] = saved


def difference_query(target: TargetCNN, pruned: PrunedCNN, D: int, threshold: float, *,
                     output: int = 0, sign: int = 1,
                     max_pool: str = "relu") -> tuple[Any, np.ndarray]:
    """``(InputQuery, input_ids)``: "exists X in [0,1]^{D x D x c0} with
    ``sign * (f(X) - g(X))_output >= threshold``" (module docs; ``output`` indexes the
    flattened (P, P, c) output); ``input_ids`` (D, D, c0) are the variables of X in the
    paper's layout.  ``max_pool``: "relu" encodes each 2x2 max as ``max(a, b) =
    a + relu(b - a)`` three times; "native" uses Marabou's max constraint."""
    core = require_marabou()
    if not np.isfinite(threshold):
        raise ValueError(f"threshold: expected a finite number, got {threshold!r}")
    q, X, y = network_query(target, pruned, D, max_pool)
    if not (0 <= output < y.size and sign in (1, -1)):
        raise ValueError(f"output, sign: expected 0 <= output < {y.size} and sign +1 or -1, "
                         f"got {output!r}, {sign!r}")
    return bounded_query(core, q, int(y[output]), sign, float(threshold)), X
