"""Negative controls of Lemmas 1-2: each hypothesis dropped in turn (signed inputs, an
entry outside [-1, 1], n far below the formula) must break the statement, with a minimal
witness replayed exactly."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from slth_check.certify import exact_error
from slth_check.claims.base import Outcome, compare
from slth_check.claims.layer import CALIBRATED_C, build_instance, layer_error
from slth_check.construction import required_n
from slth_check.fileio.networks import network_arrays
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN, PrunedLayer


def shrink_input(check, X: np.ndarray) -> np.ndarray:
    """Greedily zero entries of X while ``check(X)`` stays true (a minimal witness)."""
    X = X.copy()
    for idx in zip(*np.nonzero(X)):
        old = X[idx]
        X[idx] = 0.0
        if not check(X):
            X[idx] = old
    return X


def control_outcome(claim: str, name: str, K: np.ndarray, layer: PrunedLayer, X: np.ndarray,
             eps: float) -> Outcome:
    target = TargetCNN.from_kernels([K])
    pruned = PrunedCNN([layer])

    def breaks(Y: np.ndarray) -> bool:
        return float(np.abs(target.forward(Y) - pruned.forward(Y)).max()) >= eps * (1 + 1e-9)

    if breaks(X):
        X = shrink_input(breaks, X)
    err = exact_error(target, pruned, X)  # exact replay on the actual pruned layer
    found = err >= Fraction(eps)
    return compare(claim, err, Fraction(eps), strict=True, method="exact", on_pass="unknown",
                   witness={"X": X, **network_arrays(target, pruned)},
                   detail=f"negative control '{name}': " + (
                       f"error {float(err):.4g} >= eps {eps} at a witness with "
                       f"{int(np.count_nonzero(X))} non-zero input entries"
                       if found else "no break found"), expected=True,
                   extra={"eps": eps, "control": name})


def negative_controls(claim: str, rng: np.random.Generator) -> Iterator[Outcome]:
    """Drop each hypothesis of Lemmas 1-2 in turn; each must break the statement."""
    eps = 0.1
    seed = int(rng.integers(2**31))
    # 1. signed inputs: with X <= 0 the ReLU cuts (U+ . S) * X to 0 (Eq. 1 fails)
    K = np.zeros((2, 2, 1, 1))
    K[0, 0, 0, 0], K[1, 1, 0, 0] = 0.5, 0.25
    n = required_n(CALIBRATED_C, 2, 1, 1, 1, eps)
    layer = build_instance(K, n, seed)
    X = -np.ones((2, 2, 1))
    yield control_outcome(claim, "signed inputs (X in [-1, 1])", K, layer, X, eps)
    # 2. an entry outside [-1, 1]: subset sums of n summands V U+ rarely reach 4
    K = np.full((1, 1, 1, 1), 4.0)
    layer = build_instance(K, required_n(CALIBRATED_C, 1, 1, 1, 1, eps), seed)
    yield control_outcome(claim, "entry outside [-1, 1] (K = 4)", K, layer, np.ones((1, 1, 1)), eps)
    # 3. n far below the formula
    K = np.full((2, 2, 1, 1), 0.25)
    layer = build_instance(K, 2, seed)
    _, X = layer_error(K, layer)
    yield control_outcome(claim, "n = 2, far below the formula", K, layer, X, eps)


__all__ = ["control_outcome", "negative_controls", "shrink_input"]
