"""The hypotheses a replayed witness must meet before its claim judges it.

``slth-check replay`` re-checks a saved witness.  A witness outside the
statement's hypotheses (an input outside the unit box, a kernel outside the
class, eps outside (0, 1), fewer samples than the formula, masks other than
the construction's) shows at most that a hypothesis is needed: its verdict is
``hypotheses_unmet``, never ``violated`` (Lemmas 1-2, Theorem 1).  Definition 1
needs finite arrays whose computation cannot overflow.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.construction import build_layer, required_n
from slth_check.conv import conv2d, conv2d_exact
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

#: Definition 1's no-overflow hypothesis: every entry of |K| * |X| at most this
#: (float64's largest value is just below 2**1024, so no partial sum overflows).
NO_OVERFLOW_LIMIT = Fraction(2) ** 1000


def conv_unmet(K: np.ndarray, X: np.ndarray, padding: Any = "paper", stride: int = 1
               ) -> list[str]:
    """Unmet hypotheses of Definition 1's claim: finite K, X and no overflow
    (every entry of ``|K| * |X|`` at most :data:`NO_OVERFLOW_LIMIT`, decided exactly
    when the float64 value does not settle it)."""
    K, X = np.asarray(K, dtype=np.float64), np.asarray(X, dtype=np.float64)
    if not (np.all(np.isfinite(K)) and np.all(np.isfinite(X))):
        return ["K and X must be finite"]
    with np.errstate(over="ignore", invalid="ignore"):
        A = conv2d(np.abs(K), np.abs(X), padding=padding, stride=stride)
    if A.size == 0 or float(np.max(A)) <= 2.0**999:  # within gamma_m of the exact value
        return []
    Ae = conv2d_exact(np.abs(K), np.abs(X), padding=padding, stride=stride)
    if max(Ae.flat) > NO_OVERFLOW_LIMIT:
        return ["no overflow: an entry of |K| * |X| exceeds 2^1000, so the float64 "
                "computation may overflow (Definition 1's claim is about finite results)"]
    return []


def _eps_unmet(eps: Any) -> list[str]:
    try:
        e = float(eps)
    except (TypeError, ValueError):
        return [f"eps must be a number in (0, 1), got {eps!r}"]
    return [] if math.isfinite(e) and 0 < e < 1 else [f"eps must lie in (0, 1), got {e!r}"]


def _masks_unmet(target: TargetCNN, pruned: PrunedCNN, C: float, eps: float) -> list[str]:
    """n at least the formula and masks equal to the construction's, layer by layer."""
    unmet: list[str] = []
    ell = target.ell
    for i, (L, P) in enumerate(zip(target.layers, pruned.layers), 1):
        n_min = required_n(C, L.d, L.c0, L.c1, ell, eps)
        if P.n < n_min:
            unmet.append(f"layer {i}: n = {P.n} is below the formula's {n_min} "
                         f"(C = {C:g}, eps = {eps:g})")
            continue
        if P.U.shape[:3] != L.K.shape[:3] or P.V.shape[3] != L.c1:
            unmet.append(f"layer {i}: U, V do not match K's shape")
            continue
        ref = build_layer(L.K, P.U, P.V, bias=L.bias, Ub=P.Ub)
        same = np.array_equal(ref.S, P.S) and np.array_equal(ref.T, P.T)
        if same and P.Sb is not None and ref.Sb is not None:
            same = np.array_equal(ref.Sb, P.Sb)
        if not same:
            unmet.append(f"layer {i}: the masks are not the construction's (Lemma 2 applied "
                         "to K, U, V)")
    return unmet


def network_unmet(target: TargetCNN, pruned: PrunedCNN, X: np.ndarray, eps: Any,
                  C: float) -> list[str]:
    """Unmet hypotheses of Lemmas 1-2 / Theorem 1 for a replayed witness: eps in (0, 1),
    X in the unit box, every kernel in the class F, n from the formula with ``C`` and
    the construction's masks."""
    unmet = _eps_unmet(eps)
    X = np.asarray(X, dtype=np.float64)
    if not np.all(np.isfinite(X)) or X.size and (X.min() < 0 or X.max() > 1):
        unmet.append("X must lie in [0, 1] (the unit box of the statements)")
    if len(pruned.layers) != target.ell:
        return unmet + [f"{len(pruned.layers)} random layers for {target.ell} target layers"]
    unmet += target.in_class_F()
    if not unmet:  # the construction can only be re-run on a valid instance
        unmet += _masks_unmet(target, pruned, C, float(eps))
    return unmet


__all__ = ["NO_OVERFLOW_LIMIT", "conv_unmet", "network_unmet"]
