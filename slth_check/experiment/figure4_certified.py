"""The certified worst case over the whole input box beside Figure 4's dataset maximum
(issue 22, point 1).

The authors' stored approximation ``g_n`` is an ordinary CNN (their RSS sums in place of
the trained weights), while :mod:`slth_check.certify` bounds ``sup ||f - g||`` for a
pruned network (Theorem 1's ``g_S``).  :func:`as_pruned` writes ``g_n`` as one exactly:
each layer's ``U`` is one-hot (hidden unit ``t`` copies input entry ``(i, j, k)`` of the
window, plus one unit that is constant 1 for the bias), ``V`` holds ``g_n``'s kernel and
bias, every kept entry of ``U`` is >= 0, so on ``X >= 0`` the pruned network computes
exactly ``g_n`` (Eq. 1-2) and its effective kernel is ``g_n``'s, with no rounding (each
product is ``1 * w``).

Every image lies in ``[0, 1]^{28 x 28}``, so a sound upper bound ``U_n`` of
``sup_X ||f(X) - g_n(X)||_max`` is at least the dataset's largest absolute error; both are
also divided by the dataset's largest reference activation (the authors' normaliser), the
same number for both.  A dataset maximum above ``U_n`` is replayed in exact arithmetic;
if the exact error still exceeds ``U_n`` the bound or the forward pass is wrong: a
:class:`~slth_check.errors.InternalError` (exit 4), never a verdict.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.certify import exact_error, upper_bounds, worst_case
from slth_check.errors import InternalError
from slth_check.network import TargetCNN
from slth_check.progress import progress_iter
from slth_check.pruned import PrunedCNN, PrunedLayer

__all__ = ["FigureInconsistency", "as_pruned", "certified_rows"]


class FigureInconsistency(InternalError):
    """A dataset error above the certified upper bound of the whole box (exit 4)."""


def _as_pruned_layer(K: np.ndarray, bias: np.ndarray | None, layer: Any) -> PrunedLayer:
    d, _, c0, c1 = K.shape
    m = d * d * c0
    n = m + (bias is not None)
    U = np.zeros((d, d, c0, n))
    U.reshape(m, n)[np.arange(m), np.arange(m)] = 1.0  # unit t copies window entry t
    V = np.zeros((1, 1, n, c1))
    V[0, 0, :m] = K.reshape(m, c1)
    Ub = Sb = None
    if bias is not None:
        V[0, 0, m] = bias
        Ub, Sb = np.zeros(n), np.zeros(n, dtype=bool)
        Ub[m], Sb[m] = 1.0, True  # the constant unit: sigma(0 * X + 1) = 1
    return PrunedLayer(U, V, U != 0, np.ones_like(V, dtype=bool), Ub, Sb,
                       padding=layer.padding, stride=layer.stride, pool=layer.pool)


def as_pruned(g: TargetCNN) -> PrunedCNN:
    """``g`` as a linearisable pruned network equal to it on ``X >= 0`` (module docs)."""
    return PrunedCNN([_as_pruned_layer(L.K, L.bias, L) for L in g.layers],
                     final_relu=g.final_relu)


def certified_rows(f: TargetCNN, gs: dict[int, TargetCNN], rows: list[dict[str, Any]],
                   images: np.ndarray, *, search: bool = False,
                   time_budget: float = 30.0,
                   progress: bool | None = None) -> list[dict[str, Any]]:
    """Add to each Figure 4 row (from :func:`~slth_check.experiment.figure4.figure4_on_images`
    on ``images``, (N, 28, 28) in [0, 1]) the certified upper bound of the whole box, its
    relative form and, with ``search``, a lower bound replayed exactly
    (:func:`~slth_check.certify.worst_case`); raises :class:`FigureInconsistency` when the
    dataset maximum exceeds the bound after an exact replay."""
    D = int(images.shape[1])
    out = []
    for row in progress_iter(rows, desc="certified bound per n", enable=progress):
        g = as_pruned(gs[row["n"]])
        t0 = time.perf_counter()
        if search:
            wc = worst_case(f, g, D, time_budget=time_budget, rng=row["n"])
            upper, how, lower = wc["upper"], wc["methods"]["upper"], float(wc["lower"])
        else:
            ub = upper_bounds(f, g, D)
            upper, lower = ub["upper"], None
            how = min((k for k in ("interval_bound", "proof_bound", "entrywise_bound",
                                   "linear_bound") if k in ub), key=lambda k: ub[k])
        norm = row["max_reference_activation"]
        new = dict(row, certified_upper=upper, certified_upper_method=how,
                   certified_lower=lower, certified_relative_upper=upper / norm if norm > 0
                   else float("nan"), certify_seconds=time.perf_counter() - t0)
        new["dataset_within_bound"] = _check(f, g, row, images, upper)
        out.append(new)
    return out


def _check(f: TargetCNN, g: PrunedCNN, row: dict[str, Any], images: np.ndarray,
           upper: float) -> bool:
    """True when the dataset maximum is at most ``upper`` (in float, or else after an exact
    replay of its image); raises :class:`FigureInconsistency` otherwise."""
    if row["max_absolute_error"] <= upper:
        return True
    i = row["argmax_absolute_image"]
    X = np.asarray(images[i], dtype=np.float64).T[:, :, None]
    exact = exact_error(f, g, X, via="effective")
    if exact <= Fraction(upper):
        return True  # the float maximum exceeded the bound by rounding only
    raise FigureInconsistency(
        f"n = {row['n']}: image {i} has error {float(exact):.17g} (exact), above the certified "
        f"upper bound {upper:.17g} of every input in the box: the bound or the forward "
        "pass is wrong")
