"""The certificate facade: sup_error, upper_bounds and the Certificate they return.

:func:`sup_error` returns a :class:`Certificate` with a sound ``upper`` bound,
a ``lower`` bound attained by a ``witness`` input replayed in exact
arithmetic, and ``exact = (lower == upper)``.

Methods:

* ``closed-form`` (one layer, linearisable pruned layer, no pooling): for
  ``X >= 0`` the error map is ``(K - L) * X + (b - b~)`` (Eq. 1-2), linear, so
  per output position the sup over ``[0, 1]`` is
  ``max(sum E+ + db, sum E- - db)`` over the window the padding leaves, with
  ``E = K - L``; exact in rational arithmetic, attained by a 0/1 witness.
* ``bounds`` (any depth): three sound upper bounds, the smallest kept:
  interval bound propagation through both networks in float64 with outward
  rounding (Higham's bound on every convolution); the recursion of Theorem 1's
  proof ``e_{i+1} <= max_l ||K_{i,l}||_1 e_i + err_i(M_i)`` with the per-layer
  closed-form errors ``err_i`` on ``[0, M_i]`` and ``M_i`` the interval bound on
  the pruned activations (exact rationals); and the same recursion carried out
  entry by entry (:func:`entrywise_bound`); a lower bound by a local search
  over the vertices of ``[0, 1]^{D x D x c0}`` replayed exactly.
* ``milp`` (small instances, no max pooling): the worst case by
  ``scipy.optimize.milp`` with a big-M encoding of every ReLU (bounds from the
  interval pass); its witness is replayed exactly and becomes ``lower``; its
  floating-point objective is reported as ``milp_value`` but never used as a
  bound.

One module per method (the layout of auto_LiRPA's bound methods):
:mod:`~slth_check.certify.closed_form`, :mod:`~slth_check.certify.interval`,
:mod:`~slth_check.certify.recursion`, :mod:`~slth_check.certify.search`,
:mod:`~slth_check.certify.milp`, and :mod:`~slth_check.certify.exact` for the
exact replay; this module is the facade (:func:`sup_error`, :func:`upper_bounds`, and
:func:`~slth_check.certify.bracket.worst_case`, a bracket within a time budget for
networks too large for ``sup_error``'s exact methods, e.g. the built LeNet5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.certify.bracket import worst_case
from slth_check.certify.closed_form import bias_gap, error_parts, layer_sup_error
from slth_check.certify.exact import exact_effective_forward, exact_error, rounded_effective_network
from slth_check.certify.interval import (
    ETA,
    SIZE_LIMIT,
    avg_pool_enclosure,
    conv_upper,
    effective_enclosure,
    interval_bound,
    interval_conv,
    interval_pruned,
    interval_target,
    matmul_enclosure,
    round_down,
    round_up,
    size_bound,
)
from slth_check.certify.linear import linear_applies, linear_bound
from slth_check.certify.milp import milp_worst_case
from slth_check.certify.recursion import entrywise_bound, fractions_up, proof_bound
from slth_check.certify.search import gradient_search, search_lower, vertex_candidates
from slth_check.errors import InternalError
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN
from slth_check.tensors import check_entries, check_size

__all__ = [
    "ETA", "Certificate", "CertificationError", "avg_pool_enclosure", "bias_gap",
    "check_pair", "conv_upper", "effective_enclosure", "entrywise_bound", "error_parts",
    "exact_effective_forward", "exact_error", "fractions_up", "gradient_search", "interval_bound",
    "interval_conv", "interval_pruned", "interval_target", "layer_sup_error", "linear_bound",
    "matmul_enclosure", "milp_worst_case", "proof_bound", "round_down", "round_up",
    "rounded_effective_network", "search_lower", "sup_error", "upper_bounds",
    "vertex_candidates", "worst_case",
]

class CertificationError(InternalError):
    """A certificate contradicted itself (lower > upper): an internal error, never a
    verdict (the command exits with code 4)."""


@dataclass
class Certificate:
    """Bounds on the sup error over all inputs in [0, 1]."""

    lower: Fraction
    upper: Fraction | None
    exact: bool
    witness: np.ndarray | None
    method: str
    details: dict[str, Any] = field(default_factory=dict)


def check_pair(target: TargetCNN, pruned: PrunedCNN) -> None:
    """Shapes and layer settings of the target and the pruned network must match."""
    if not isinstance(target, TargetCNN):
        raise TypeError(f"target: expected a TargetCNN, got {type(target).__name__}")
    if not isinstance(pruned, PrunedCNN):
        raise TypeError(f"pruned: expected a PrunedCNN, got {type(pruned).__name__}")
    if target.ell != pruned.ell:
        raise ValueError(f"pruned: expected {target.ell} emulated layers, got {pruned.ell}")
    for i, (K, P) in enumerate(zip(target.layers, pruned.layers), 1):
        d, _, c0, c1 = K.K.shape
        if P.U.shape[:3] != (d, d, c0) or P.V.shape[3] != c1:
            raise ValueError(f"pruned: layer {i} has U {P.U.shape}, V {P.V.shape}; expected "
                             f"U ({d}, {d}, {c0}, n) and V (1, 1, n, {c1})")
        if (K.padding, K.stride, K.pool) != (P.padding, P.stride, P.pool):
            raise ValueError(f"pruned: layer {i} padding/stride/pool differ from the target")
        if (K.bias is None) != (P.Ub is None):
            raise ValueError(f"pruned: layer {i} bias present in one network only")
    if target.final_relu != pruned.final_relu:
        raise ValueError("pruned: final_relu differs from the target")
    for name, size in (("target", size_bound(target)), ("pruned", size_bound(pruned))):
        if not size < SIZE_LIMIT:
            raise ValueError(f"{name}: its activations on [0, 1] inputs may reach {size:.3g}; "
                             f"the certified bounds need them below {SIZE_LIMIT:.3g} "
                             "(products and differences of such enclosures overflow float64)")


def _check_sup_error_size(target: TargetCNN, pruned: PrunedCNN, D: int) -> None:
    """Refuse, before allocating, a certificate whose search or exact replay cannot fit.

    The vertex search evaluates all ``D*D*c0`` single flips in one batch, each a
    forward pass with up to ``D*D*width`` floats per layer; the exact replay holds
    ``D*D*width`` Fractions (``width`` the widest layer; the random layers' samples
    count when the search cannot use the effective network).
    """
    nvar = D * D * target.c0
    width = max([target.c0] + [L.c1 for L in target.layers])
    if not pruned.linearisable():  # searched and replayed through the random layers
        width = max([width] + [P.n for P in pruned.layers])
    hint = f"D={D}, c0={target.c0}, widest layer {width}"
    check_size("D", 8 * nvar * D * D * width * 2, what="this sup_error's vertex search",
               hint=hint)
    check_entries("D", D * D * width * 2, what="this sup_error's exact replay", hint=hint)


def sup_error(target: TargetCNN, pruned: PrunedCNN, *, D: int, method: str = "auto",
              rng: Any = 0, replay: str = "auto", milp_time_limit: float | None = None,
              milp_node_limit: int | None = 20_000) -> Certificate:
    """Certify ``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max``.

    ``method``: ``"auto"`` (closed form when it applies, else bounds, plus
    MILP for small instances), ``"closed-form"``, ``"bounds"`` or ``"milp"``.
    ``replay``: ``"pruned"`` (the actual pruned network, exact), ``"effective"``
    (exact effective kernels; equal on X >= 0 for linearisable networks) or
    ``"auto"`` (pruned when small).  ``milp_node_limit`` (deterministic) and
    ``milp_time_limit`` (seconds, None for none) bound the MILP's work; an
    incomplete MILP only weakens ``lower``, never the soundness of ``upper``.
    """
    check_pair(target, pruned)
    if isinstance(D, bool) or not isinstance(D, (int, np.integer)) or D < 1:
        raise ValueError(f"D: expected a positive integer input size, got {D!r}")
    if method not in ("auto", "closed-form", "bounds", "milp"):
        raise ValueError(f"method: expected 'auto', 'closed-form', 'bounds' or 'milp', "
                         f"got {method!r}")
    _check_sup_error_size(target, pruned, int(D))
    lin = pruned.linearisable()
    one = target.ell == 1 and target.layers[0].pool is None and not target.final_relu
    if replay == "auto":
        replay = "pruned" if sum(L.U.size for L in pruned.layers) * D * D <= 200_000 \
            else ("effective" if lin else "pruned")

    def replayed(X: np.ndarray) -> Fraction:
        return exact_error(target, pruned, X, via=replay)

    if method == "closed-form" or (method == "auto" and one and lin):
        if not (one and lin):
            raise ValueError("method: 'closed-form' needs one layer without pooling and a "
                             "linearisable pruned layer (kept U entries >= 0)")
        return _closed_form_certificate(target, pruned, D, replayed)
    details = upper_bounds(target, pruned, D)
    upper = _combined_upper(details)
    X = search_lower(target, pruned, D, rng=rng, starts=_closed_form_starts(target, pruned, D)
                     if lin else [])
    lower, witness, used = replayed(X), X, "bounds"
    hidden = [int(np.prod(b[0].shape)) for b in details.pop("_boxes_f")[:-1]]
    details.pop("_linear", None)
    small = D * D * target.c0 <= 50 and sum(hidden) <= 32  # the MILP grows fast past this
    no_max = all(L.pool != "max" for L in target.layers)
    if method == "milp" or (method == "auto" and small and lin and no_max):
        lower, witness = _milp_lower(target, pruned, D, X, lower, replayed, details,
                                     time_limit=milp_time_limit, node_limit=milp_node_limit)
        used = "milp"
    if lower > upper:  # a sound upper bound below an exactly replayed error: a bug here
        raise CertificationError(
            f"the certified upper bound {float(upper):.17g} lies below the "
            f"exactly replayed error {float(lower):.17g} (details: "
            f"{ {k: v for k, v in details.items() if k.endswith('_bound')} })")
    return Certificate(lower, upper, lower == upper, witness, used, details)


def _closed_form_certificate(target: TargetCNN, pruned: PrunedCNN, D: int,
                             replayed: Callable[[np.ndarray], Fraction]) -> Certificate:
    """Eq. 1-2's exact sup error of one layer, trusted only when its 0/1 witness replays
    to the same value."""
    K, P = target.layers[0], pruned.layers[0]
    val, idx, X = layer_sup_error(K.K, P.effective_kernel(exact=True), D, db=bias_gap(K, P),
                                  padding=K.padding, stride=K.stride)
    rep = replayed(X)
    if rep != val:  # the identity of Eq. 1-2 failed: never claim exactness then
        return Certificate(rep, None, False, X, "closed-form",
                           {"closed_form": val, "problem": "witness replay differs"})
    return Certificate(val, val, True, X, "closed-form", {"index": idx})


def _combined_upper(details: dict[str, Any]) -> Fraction:
    """The smallest of the sound upper bounds: interval propagation, the exact proof
    recursions (Theorem 1's ``e_{i+1} <= max_l ||K_{i,l}||_1 e_i + err_i(M_i)``, whole
    and entrywise) and the linear relaxation of f - g where it applies; drops
    ``proof_bound_exact`` from ``details``."""
    upper = Fraction(details["interval_bound"])
    for name in ("proof_bound_exact", "entrywise_bound", "linear_bound"):
        if name in details:
            upper = min(upper, Fraction(details[name]))
    details.pop("proof_bound_exact", None)
    return upper


def _closed_form_starts(target: TargetCNN, pruned: PrunedCNN, D: int) -> list[np.ndarray]:
    """The first layer's closed-form witness (Eq. 1-2): a start for the vertex search."""
    K, P = target.layers[0], pruned.layers[0]
    _, _, X0 = layer_sup_error(K.K, P.effective_kernel(), D, padding=K.padding,
                               stride=K.stride)
    return [X0]


def _milp_lower(target: TargetCNN, pruned: PrunedCNN, D: int, X: np.ndarray, lower: Fraction,
                replayed: Callable[[np.ndarray], Fraction], details: dict[str, Any], *,
                time_limit: float | None,
                node_limit: int | None) -> tuple[Fraction, np.ndarray]:
    """Raise ``(lower, witness)`` by the MILP's candidate, replayed exactly (its float
    objective goes to ``details["milp_value"]``, never into a bound)."""
    g_net = rounded_effective_network(pruned)
    per_entry = np.abs(target.forward(X) - g_net.forward(X)).ravel()
    Xm, milp_value, info = milp_worst_case(target, pruned, D, lower=float(lower),
                                           time_limit=time_limit, node_limit=node_limit,
                                           order=np.argsort(-per_entry))
    details["milp_value"] = milp_value
    details["milp"] = info
    witness = X
    if Xm is not None:
        for cand in vertex_candidates(Xm):
            r = replayed(cand)
            if r > lower:
                lower, witness = r, cand
    return lower, witness


def upper_bounds(target: TargetCNN, pruned: PrunedCNN, D: int) -> dict[str, Any]:
    """Every sound upper bound of ``sup_{X in [0,1]} ||f(X) - g(X)||_max`` that applies.

    Keys: ``interval_bound`` (always), and for linearisable pruned networks
    ``proof_bound`` (float, rounded up), ``proof_bound_exact`` (Fraction),
    ``proof_layers`` and ``entrywise_bound``, and for two-layer networks
    ``linear_bound`` (:func:`~slth_check.certify.linear.linear_bound`, the linear
    relaxation of f - g, with its details under ``_linear``; ``linear_skipped`` says
    why when it does not apply); ``upper`` is the smallest
    (a float64 rounded upward: a sound bound).  The facade :func:`sup_error`
    and the reproduction combine them through this one function.
    """
    check_pair(target, pruned)
    boxes_f = interval_target(target, D)
    boxes_g = interval_pruned(pruned, D, target.c0)
    out: dict[str, Any] = {"interval_bound": interval_bound(boxes_f, boxes_g)}
    candidates = [Fraction(out["interval_bound"])]
    if pruned.linearisable():
        pb = proof_bound(target, pruned, D, boxes_g)
        out["proof_bound_exact"] = pb["bound"]
        out["proof_bound"] = float(fractions_up(np.array([pb["bound"]], dtype=object))[0])
        out["proof_layers"] = [{k: (float(v) if isinstance(v, Fraction) else v)
                                for k, v in r.items()} for r in pb["layers"]]
        candidates.append(pb["bound"])
        out["entrywise_bound"] = entrywise_bound(target, pruned, D, boxes_g)
        candidates.append(Fraction(out["entrywise_bound"]))
        why = linear_applies(target, pruned, D)
        if why is None:
            out["linear_bound"], info = linear_bound(target, pruned, D, boxes_g)
            out["linear_seconds"], out["_linear"] = info["seconds"], info
            candidates.append(Fraction(out["linear_bound"]))
        else:
            out["linear_skipped"] = why
    out["upper"] = float(fractions_up(np.array([min(candidates)], dtype=object))[0])
    out["_boxes_f"] = boxes_f
    return out
