"""A forward error bound for the exported difference network evaluated in float32.

For every input ``X in [0, 1]^{D x D x c0}`` that the format represents, the
computed output ``fl(f - g)(X)`` of the steps of
:func:`~slth_check.export.program.network_ops` (weights and biases rounded to the
format, every step rounded to nearest) differs from the exact ``(f - g)(X)`` by at
most :func:`float_error_bound`, entrywise.  Standard model, unit roundoff ``u``,
smallest subnormal ``eta = 2 lam u``; per step, with ``A`` a bound on the exact
magnitudes and ``E`` on the error entering the step (``A = 1``, ``E = 0`` on the
input, which is given in the format):

* convolution of length ``m = d d c_in`` with bias b:
  ``E' = |W| * E + gamma_{m+3} (|W| * (A + E) + |b|) + (m + 2) eta (1 + max(A + E))``
  and ``A' = |W| * A + |b|`` -- Higham's eq. 3.5 for a dot product in any order
  (BLAS blocking, FMA) with the bias as one more term, plus the rounding of the
  weights and biases to the format (``u |W|``, ``u |b|``: together
  ``u + (1 + u) gamma_{m+1} <= gamma_{m+2}``, one more for slack) and one ``eta``
  per product and sum for gradual underflow;
* ReLU and max pooling are 1-Lipschitz and exact: ``E`` and ``A`` pass through
  (max pooling takes the max over the window of both);
* 2x2 average pooling (a sum of 4, then a division by 4):
  ``E' = avg E + gamma_4 avg(A + E) + eta``;
* the difference: ``E = E_f + E_g + gamma_1 (A_f + E_f + A_g + E_g) + eta``.

This holds for any summation order but not for transform algorithms (Winograd,
FFT), which ONNX Runtime's CPU convolution does not use; hence "sound-ish": it is
the tolerance of the tests and the README's figure, never a slth-check verdict.
The bound itself is computed in float64 rounded upwards (:func:`conv_upper`) with a
final relative margin of 2^-40.  Computed magnitudes ``A + E`` beyond a quarter of the
format's largest float (less 2^-20 of it) give ``inf`` (an overflow is possible there):
``A + E`` bounds every partial sum of the step that produced it, and an average pooling
sums four computed values, each up to ``A + E`` (not ``A``), before it divides.
"""

from __future__ import annotations

import numpy as np

from slth_check.arithmetic import gamma
from slth_check.certify.interval import conv_upper, round_up
from slth_check.conv import pool2d
from slth_check.export.program import Conv, Op, Pool2, network_ops, output_shape
from slth_check.network import TargetCNN
from slth_check.precision import Precision, get_precision
from slth_check.pruned import PrunedCNN


def _propagate(ops: list[Op], D: int, c0: int, p: Precision) -> tuple[np.ndarray, np.ndarray]:
    """``(A, E)`` after ``ops`` (module docs), in the paper's layout (P, P, c)."""
    eta = float(2 * p.lam * p.u)
    A, E = np.ones((D, D, c0)), np.zeros((D, D, c0))
    for op in ops:
        if isinstance(op, Conv):
            m = op.W.shape[0] * op.W.shape[1] * op.W.shape[2]
            aW = np.abs(op.W)
            ab = 0.0 if op.b is None else np.abs(op.b)
            AE = round_up(A + E)
            g = round_up(float(gamma(m + 3, p.u)) * (1 + 2.0**-40))
            under = round_up((m + 2) * eta * (1 + float(AE.max(initial=0.0))))
            E = round_up(round_up(conv_upper(aW, E, op.padding, op.stride)
                                  + round_up(g * round_up(
                                      conv_upper(aW, AE, op.padding, op.stride) + ab)))
                         + under)
            A = round_up(conv_upper(aW, A, op.padding, op.stride) + ab)
        elif isinstance(op, Pool2):
            if op.kind == "max":
                A, E = pool2d(A, "max"), pool2d(E, "max")
            else:
                slack = round_up(float(gamma(4, p.u)) * round_up(pool2d(A + E, "avg")))
                E = round_up(round_up(pool2d(E, "avg")) + slack + eta)
                A = round_up(pool2d(A, "avg"))
        if A.size and float(round_up(A + E).max()) > p.fmax / 4 * (1 - 2.0**-20):
            P, c = output_shape(ops, D, c0)  # the output's shape, not this step's
            return np.full((P, P, c), np.inf), np.full((P, P, c), np.inf)
    return A, E


def float_error_bound(target: TargetCNN, pruned: PrunedCNN, D: int,
                      precision: str = "float32") -> np.ndarray:
    """Entrywise bound on ``|fl(f - g)(X) - (f - g)(X)|`` over ``X in [0, 1]^{D x D x c0}``
    (module docs), in the paper's layout (P, P, c_l).

    ``precision`` is ``"float32"`` (the exported ONNX graph) or ``"float64"``
    (slth-check's own ``forward``, for which the weight rounding term is vacuous
    and merely conservative).
    """
    p = get_precision(precision)
    eta = float(2 * p.lam * p.u)
    Af, Ef = _propagate(network_ops(target, "f"), D, target.c0, p)
    Ag, Eg = _propagate(network_ops(pruned, "g"), D, target.c0, p)
    g1 = float(gamma(1, p.u))
    E = round_up(round_up(Ef + Eg) + round_up(g1 * round_up(Af + Ef + Ag + Eg)) + eta)
    return round_up(E * (1 + 2.0**-40))
