"""A bracket ``[lower, upper]`` of ``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max``
within a time budget (Theorem 1's error, measured on a built network).

* ``upper``: the smallest sound upper bound that applies: interval propagation
  with outward rounding, and for two layers the linear relaxation of ``f - g``
  (:func:`~slth_check.certify.linear.linear_bound`).
* ``lower``: the exact error (:func:`~slth_check.certify.exact.exact_error`, Fractions)
  of the best candidate input found by an iterated local search on single output
  entries (:func:`~slth_check.certify.local.window_search`), one search per class
  of outputs with the same restricted problem (translation invariance), the
  classes taken in decreasing order of their upper bound, each search's best
  vertex then climbed off the vertices by the pattern-LP ascent
  (:func:`~slth_check.certify.pattern_lp.pattern_ascent`); without windows (not
  two layers, or a pruned network that is not linearisable) the vertex search
  of :func:`~slth_check.certify.search.search_lower`.  A candidate's float value
  is never a bound: only its exact replay is.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.certify.exact import exact_error
from slth_check.certify.interval import interval_bound, interval_pruned, interval_target
from slth_check.certify.linear import linear_applies, linear_bound
from slth_check.certify.local import window, window_classes, window_model, window_search
from slth_check.certify.pattern_lp import pattern_ascent
from slth_check.certify.search import search_lower
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

__all__ = ["worst_case"]


def _upper(target: TargetCNN, pruned: PrunedCNN, D: int,
           linear: tuple[float, dict[str, Any]] | None) -> tuple[float, str, dict[str, Any]]:
    boxes_g = interval_pruned(pruned, D, target.c0)
    best, how = interval_bound(interval_target(target, D), boxes_g), "interval propagation"
    info: dict[str, Any] = {"interval_bound": best}
    if linear_applies(target, pruned, D) is None:
        lb, linfo = linear if linear is not None else linear_bound(target, pruned, D, boxes_g)
        info["linear_bound"], info["linear"] = lb, linfo
        if lb < best:
            best, how = lb, "linear relaxation of f - g"
    return best, how, info


def _ranked_pairs(model: dict[str, Any], classes: dict[str, list[int]],
                  per_sign: np.ndarray | None) -> list[tuple[float, int, float]]:
    """(upper bound, representative output, sign) per class and sign, largest first."""
    out = []
    for members in classes.values():
        for si, s in enumerate((1.0, -1.0)):
            ub = np.inf if per_sign is None else float(
                max(per_sign[si][model["g2"][o]].max() for o in members))
            out.append((ub, members[0], s))
    out.sort(key=lambda t: -t[0])
    return out


def window_candidates(target: TargetCNN, pruned: PrunedCNN, D: int, seconds: float,
                       per_sign: np.ndarray | None, rng: int, top: int,
                       kicks: int | None = None
                       ) -> tuple[list[tuple[float, np.ndarray]], dict[str, Any]]:
    """Float candidates from the local search on the ``top`` (class, sign) pairs."""
    t0 = time.perf_counter()
    model = window_model(target, pruned, D)
    classes = window_classes(model)
    pairs = _ranked_pairs(model, classes, per_sign)[:top]
    cands: list[tuple[float, np.ndarray]] = []
    found: list[tuple[float, Any, float, np.ndarray]] = []
    tried = []
    for i, (ub, o, s) in enumerate(pairs):
        left = seconds - (time.perf_counter() - t0)
        # the first pair is always searched (one climb at least); fixed work: all pairs
        if left <= 0 and cands and kicks is None:
            break
        if cands and ub <= max(c[0] for c in cands):
            continue  # this class cannot beat the best candidate
        w = window(model, o)
        share = max(left, 0.0) / (len(pairs) - i)
        x, v = window_search(w, s, seconds=2 * share / 3, rng=rng + i, kicks=kicks)
        if kicks is None:  # off the vertices: the pattern-LP ascent from this pair's best
            x, v = pattern_ascent(w, s, x, seconds=share / 3)
        else:
            found.append((v, w, s, x))
        cands.append((v, _lift(w, x, D, target.c0)))
        tried.append({"output": o, "sign": s, "upper": ub, "float_value": v})
    if found:  # fixed work: one ascent, from the best vertex of all pairs (each ascent is
        v, w, s, x = max(found, key=lambda f: f[0])  # tens of LPs)
        x, v = pattern_ascent(w, s, x, seconds=math.inf)
        cands.append((v, _lift(w, x, D, target.c0)))
    cands.sort(key=lambda c: -c[0])
    return cands, {"classes": len(classes), "searched": tried}


def _lift(w: Any, x: np.ndarray, D: int, c0: int) -> np.ndarray:
    """A window's local input ``x`` as a whole input (zero elsewhere)."""
    X = np.zeros(D * D * c0)
    X[w.inp] = x
    return X.reshape(D, D, c0)


def worst_case(target: TargetCNN, pruned: PrunedCNN, D: int, *, time_budget: float = 240.0,
               rng: int = 0, top: int = 6, replays: int = 1, kicks: int | None = None,
               linear: tuple[float, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Bracket ``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max`` (see the module
    docstring).

    Returns ``{"lower": Fraction, "upper": float, "methods": {"lower": str,
    "upper": str}, "seconds": float, "cpu_seconds": float, "witness": ndarray,
    "details": dict}``: ``lower`` is the exact error of ``witness`` (a lower
    bound by construction), ``upper`` a sound bound.  ``time_budget`` (seconds)
    bounds the search (about half of it; the bounds and the ``replays`` exact
    replays come on top, and are not cut short); ``top`` (class, sign) pairs are
    searched; ``kicks`` fixes the search's work per pair instead of its time (a
    deterministic answer; ``time_budget`` then does not cut the search).  ``linear``:
    this pair's :func:`~slth_check.certify.linear.linear_bound` at ``D`` when the caller
    has it (``upper_bounds``' ``linear_bound`` and ``_linear``), used instead of
    computing it again.
    """
    from slth_check.certify import check_pair

    check_pair(target, pruned)
    if isinstance(D, bool) or not isinstance(D, (int, np.integer)) or D < 1:
        raise ValueError(f"D: expected a positive integer input size, got {D!r}")
    if not isinstance(time_budget, (int, float)) or not time_budget > 0:
        raise ValueError(f"time_budget: expected a positive number of seconds, got "
                         f"{time_budget!r}")
    for name, num, least in (("top", top, 1), ("replays", replays, 1),
                             ("kicks", 0 if kicks is None else kicks, 0)):
        if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < least:
            raise ValueError(f"{name}: expected an integer >= {least}, got {num!r}")
    t0, c0 = time.perf_counter(), time.process_time()
    upper, up_how, details = _upper(target, pruned, D, linear)
    via = "effective" if pruned.linearisable() else "pruned"
    if target.ell == 2 and pruned.linearisable():
        per_sign = details["linear"]["per_sign"] if "linear" in details else None
        left = max(1.0, time_budget / 2 - (time.perf_counter() - t0))
        cands, details["search"] = window_candidates(target, pruned, D, left, per_sign,
                                                      rng, top, kicks)
        low_how = "local search per output class + exact replay"
        Xs = [X for _, X in cands[:replays]]
    else:
        Xs = [search_lower(target, pruned, D, rng=rng)]
        low_how = "vertex search + exact replay"
    lower, witness = Fraction(-1), Xs[0]
    for X in Xs:
        val = exact_error(target, pruned, X, via=via)
        if val > lower:
            lower, witness = val, X
    if lower > Fraction(upper):  # a sound bound below an exact replay: a bug
        from slth_check.certify import CertificationError

        raise CertificationError(f"upper bound {upper!r} below the exactly replayed error "
                                 f"{float(lower)!r}")
    return {"lower": lower, "upper": upper, "methods": {"lower": low_how, "upper": up_how},
            "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
            "witness": witness, "details": details}
