"""The one-layer construction of Lemmas 1-2 as the claims use it: the calibrated constant,
a seeded instance (U, V i.i.d. Unif([-1, 1]) and the construction's masks) and its sup
error over the unit box, certified exactly (closed form)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from slth_check.certify import layer_sup_error
from slth_check.construction import build_layer
from slth_check.pruned import PrunedLayer

#: The calibrated constant of Lemmas 1-2 and Theorem 1 used by default: the
#: (1 - eps)-quantile of the per-draw required C, maximised over the
#: configurations of the ``calibration`` claim, rounded up above the upper end of
#: its 95 % confidence interval (the measurement is in docs/results.md;
#: ``slth-check check --claims calibration --profile thorough`` recomputes it).
CALIBRATED_C = 17.0


def build_instance(K: np.ndarray, n: int, seed: int) -> PrunedLayer:
    """Seeded U (d, d, c0, n) and V (1, 1, n, c1), i.i.d. Unif([-1, 1]), and the construction."""
    d, _, c0, c1 = K.shape
    rng = np.random.default_rng(seed)
    U = rng.uniform(-1, 1, (d, d, c0, n))
    V = rng.uniform(-1, 1, (1, 1, n, c1))
    return build_layer(K, U, V)


def layer_error(K: np.ndarray, layer: PrunedLayer,
                D: int | None = None) -> tuple[Fraction, np.ndarray]:
    """Exact sup error of one constructed layer over X in [0, 1] (closed form) and witness.

    With the paper's padding the sup over ``[0,1]^{D x D x c0}`` is the same for every
    ``D >= d`` (a full window exists and a partial window sums a subset of the same
    non-negative parts), so ``D = d`` by default."""
    D = D or K.shape[0]
    val, _, X = layer_sup_error(K, layer.effective_kernel(exact=True), D)
    return val, X


__all__ = ["CALIBRATED_C", "build_instance", "layer_error"]
