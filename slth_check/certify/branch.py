"""Branch and bound on the certified worst case ``sup_X ||f(X) - g(X)||_max``
(Theorem 1's error on a built two-layer network; issue 22, point 2).

The supremum is a maximum over output entries ``o``, signs ``s`` and the layer-2
neurons ``k`` of o's pooling window of ``sup s e2_k`` over o's receptive field
(:mod:`~slth_check.certify.window_lp`); outputs with identical restricted problems
share one *item* (translation invariance).  Every item starts with its bound from
the linear relaxation of ``f - g`` (:func:`~slth_check.certify.linear.linear_bound`);
best first, an item's node is bounded by its sound LP
(:func:`~slth_check.certify.window_lp.node_bound`), and split on the pooling
choice of one layer-1 unit (which option is f's, or g's, maximum): one child per
option the intervals leave, each a subset of the region, so the children's
maximum bounds the parent's.  A node whose bound is at most the lower bound is
closed.  ``upper = max(lower, the largest open bound)``: sound.

Lower bound: the local search (:func:`~slth_check.certify.local.window_search`)
started from each item's LP optimum, its best vertex climbed off the vertices by
:func:`~slth_check.certify.pattern_lp.pattern_ascent`; its float value is never a
bound, only the exact replay (:func:`~slth_check.certify.exact.exact_error`) of the
best input is.
The run is resumable: the open nodes, the lower bound (an exact fraction) and
its witness are checkpointed (sealed npz, JSON meta, atomic, no pickle); a run of
the same pair continues from it (the witness replayed again, not trusted).
"""

from __future__ import annotations

import hashlib
import heapq
import math
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from slth_check.certify.branch_state import Node, fresh_state, load_state, save_state
from slth_check.certify.exact import exact_error
from slth_check.certify.interval import round_up
from slth_check.certify.linear import linear_bound
from slth_check.certify.local import window, window_model, window_outputs, window_search
from slth_check.certify.pattern_lp import pattern_ascent
from slth_check.certify.window_lp import (
    LPWindow,
    cands,
    lp_model,
    lp_window,
    node_bound,
    node_ranges,
    objective,
    root_ranges,
)
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

__all__ = ["branch_and_bound", "split_node"]



def _classes(model: dict[str, Any]) -> tuple[list[LPWindow], list[int]]:
    """One window per class of outputs with identical restricted problems, and each
    output's class."""
    reps: dict[str, int] = {}
    wins: list[LPWindow] = []
    of = []
    for o in range(model["grp2"].shape[0]):
        w = lp_window(model, o)
        of.append(reps.setdefault(w.key(), len(wins)))
        if of[-1] == len(wins):
            wins.append(w)
    return wins, of


def _setup(target: TargetCNN, pruned: PrunedCNN, D: int) -> dict[str, Any]:
    """Windows, items ``(class, s, j)`` and their linear-relaxation bounds."""
    model = lp_model(target, pruned, D)
    wins, of = _classes(model)
    _, info = linear_bound(target, pruned, D)
    bound0: dict[tuple[int, int, int], float] = {}
    for o, cl in enumerate(of):
        for si in (0, 1):
            for j, k in enumerate(model["grp2"][o]):
                key = (cl, si, j)
                bound0[key] = max(bound0.get(key, -math.inf), float(info["per_sign"][si][k]))
    items = sorted(bound0)
    h = hashlib.sha256()
    for part in ("f1", "g1", "f2", "g2"):
        for arr in model[part]:
            for a in ((arr.data, arr.indices, arr.indptr) if sp.issparse(arr) else (arr,)):
                h.update(np.ascontiguousarray(a).tobytes())
    return {"wins": wins, "ranges": [root_ranges(w) for w in wins], "items": items,
            "bound0": [bound0[i] for i in items], "digest": h.hexdigest(),
            "local": window_model(target, pruned, D), "D": D, "c0": target.c0}


def _pick(w: LPWindow, fix: np.ndarray, v: np.ndarray, c: np.ndarray) -> tuple[int, int]:
    """Unit and network (0 f, 1 g) to split: the largest gap, weighted by the
    objective, between the LP's pooled values and the networks' at its input."""
    nI, nU = w.Kf.shape[1], w.opt.shape[0]
    X = v[:nI]
    idx = np.where(w.opt >= 0, w.opt, 0)
    p = np.where(w.opt >= 0, (w.Kf @ X + w.bf)[idx], 0.0).max(axis=1)
    pg = np.where(w.opt >= 0, (w.Lf @ X + w.bg)[idx], 0.0).max(axis=1)
    gap = (np.abs(c[nI:nI + nU]) * np.abs(v[nI:nI + nU] - (p - pg))
           + np.abs(c[nI + nU:]) * np.abs(v[nI + nU:] - pg))
    gap[(fix[0] >= 0) & (fix[1] >= 0)] = -1.0
    i = int(np.argmax(gap))
    return i, 0 if fix[0, i] < 0 else 1


Child = tuple[float, np.ndarray, np.ndarray | None]


def split_node(w: LPWindow, r: dict[str, np.ndarray], fix: np.ndarray, v: np.ndarray,
               s: float, j: int, bound: float = math.inf) -> list[Child] | None:
    """Children ``(bound, fix, v)`` of the node ``fix`` of window ``w`` (sign ``s``,
    layer-2 neuron ``j``) whose LP optimum is ``v``: one per option that can be the
    maximum of the chosen unit (so they cover the node's region), each bound at
    most ``bound``; ``[]`` for an empty region, None when every unit is fixed."""
    i, net = _pick(w, fix, v, objective(w, s, j)[0])
    rg = node_ranges(w, r, fix)
    if rg is None:
        return []
    if fix[0, i] >= 0 and fix[1, i] >= 0:
        return None
    cand = cands(w.opt, rg[2 * net], rg[2 * net + 1])
    out: list[Child] = []
    for k in np.flatnonzero(cand[i]):
        f2 = fix.copy()
        f2[net, i] = k
        b, v2 = node_bound(w, r, f2, s, j)
        if b > -math.inf:
            out.append((min(b, bound), f2, v2 if v2 is not None else v))
    return out


def _children(ctx: dict[str, Any], node: Node) -> list[Child] | None:
    """:func:`split_node` of a node of the queue."""
    nb, _, item, fix, v = node
    cl, si, j = ctx["items"][item]
    assert v is not None
    return split_node(ctx["wins"][cl], ctx["ranges"][cl], fix, v, 1.0 - 2 * si, j, -nb)


def _search(ctx: dict[str, Any], item: int, v: np.ndarray, seconds: float,
            rng: int) -> tuple[float, np.ndarray]:
    """Local search from the LP optimum of ``item`` (float model: not a bound)."""
    cl, si, _ = ctx["items"][item]
    w = ctx["wins"][cl]
    lw = window(ctx["local"], w.o)
    X = np.zeros(ctx["D"] * ctx["D"] * ctx["c0"])
    X[w.inp] = np.round(v[:w.inp.size])  # the LP's input, on the local window's pixels
    s = 1.0 if si == 0 else -1.0
    x, _ = window_search(lw, s, seconds=seconds / 2, rng=rng, starts=[X[lw.inp]], restarts=1)
    x, _ = pattern_ascent(lw, s, x, seconds=seconds / 2)  # off the vertices
    F, G = window_outputs(lw, x)
    X[:] = 0.0
    X[lw.inp] = x
    return float(abs(F[0] - G[0])), X.reshape(ctx["D"], ctx["D"], ctx["c0"])


def _step(ctx: dict[str, Any], st: dict[str, Any], node: Node, search_seconds: float,
          rng: int) -> None:
    """Bound a fresh item by its LP (and search from its optimum once per class and
    sign), or split a bounded node; push what stays above the lower bound."""
    nb, _, item, fix, v = node
    cl, si, j = ctx["items"][item]
    if v is None:
        b, v2 = node_bound(ctx["wins"][cl], ctx["ranges"][cl], fix, 1.0 - 2 * si, j)
        kids = [(min(b, -nb), fix, v2)]
        if v2 is not None and (cl, si) not in st["searched"]:
            st["searched"].add((cl, si))
            val, X = _search(ctx, item, v2, search_seconds, rng + len(st["searched"]))
            if val > st["best"][0]:
                st["best"] = (val, X)
        if v2 is None:  # no LP optimum: keep the bound, never split this node
            st["stuck"].append((-min(b, -nb), node[1], item, fix, None))
            return
    else:
        got = _children(ctx, node)
        if got is None:
            st["stuck"].append(node)
            return
        kids = got
    st["nodes"] += len(kids)
    for b, f2, v2 in kids:
        if Fraction(b) > st["lower"]:
            st["next_id"] += 1
            heapq.heappush(st["heap"], (-b, st["next_id"], item, f2, v2))


def _replay(st: dict[str, Any], target: TargetCNN, pruned: PrunedCNN) -> None:
    """Replay the best float candidate exactly; a better exact value raises the lower
    bound and closes the nodes at or below it."""
    val, X = st["best"]
    if X is not None and val > float(st["lower"]):
        _accept(st, exact_error(target, pruned, X, via="effective"), X)


def _final_replay(st: dict[str, Any], target: TargetCNN, pruned: PrunedCNN, D: int) -> None:
    """The last replay; when the budget ran out before any candidate, X = 0 is replayed so
    that ``lower`` is always the exact error of the returned witness."""
    _replay(st, target, pruned)
    if st["witness"] is None:
        X0 = np.zeros((D, D, target.c0))
        _accept(st, exact_error(target, pruned, X0, via="effective"), X0)


def _accept(st: dict[str, Any], exact: Fraction, X: np.ndarray) -> None:
    """Take an exactly replayed value: a better one raises the lower bound."""
    st["best"] = (-math.inf, None)
    if exact > st["lower"]:
        st["lower"], st["witness"] = exact, X
        st["heap"] = [n for n in st["heap"] if Fraction(-n[0]) > exact]
        heapq.heapify(st["heap"])


def branch_and_bound(target: TargetCNN, pruned: PrunedCNN, D: int, *,
                     time_budget: float = 600.0, checkpoint: str | Path | None = None,
                     search_seconds: float = 2.0, replay_every: float = 120.0,
                     witness: np.ndarray | None = None, rng: int = 0) -> dict[str, Any]:
    """Bracket ``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max`` by branch and
    bound (see the module docstring); two layers, max pooling, linearisable g.

    Returns ``{"lower": Fraction, "upper": float, "witness", "proved": bool (no node
    left above the lower bound), "open", "nodes", "seconds" (this call),
    "total_seconds" (with the resumed runs), "cpu_seconds"}``.  ``checkpoint``: a
    file written every ``replay_every`` seconds and at the end, read first when it
    exists (a run of the same pair continues; one that does not verify under the user's
    :func:`~slth_check.certify.branch_state.checkpoint_key` is refused).  ``witness``: an input in
    ``[0, 1]^{D x D x c0}`` (e.g. :func:`~slth_check.certify.worst_case`'s), replayed
    exactly as a first lower bound.
    """
    from slth_check.certify import check_pair

    check_pair(target, pruned)
    if not isinstance(time_budget, (int, float)) or not time_budget > 0:
        raise ValueError(f"time_budget: expected a positive number of seconds, got "
                         f"{time_budget!r}")
    if witness is not None and (np.shape(witness) != (D, D, target.c0) or not np.all(
            (np.asarray(witness, dtype=float) >= 0) & (np.asarray(witness, dtype=float) <= 1))):
        raise ValueError(f"witness: expected an array of shape {(D, D, target.c0)} with "
                         f"entries in [0, 1]")
    t0, c0 = time.perf_counter(), time.process_time()
    ctx = _setup(target, pruned, D)
    path = None if checkpoint is None else Path(checkpoint)
    st = load_state(path, ctx, target, pruned) if path is not None and path.exists() \
        else fresh_state(ctx)
    st.update(best=(-math.inf, None), stuck=[])
    if witness is not None:  # a caller's candidate, replayed exactly
        X = np.asarray(witness, dtype=float)
        _accept(st, exact_error(target, pruned, X, via="effective"), X)
    last = time.perf_counter()
    while st["heap"] and time.perf_counter() - t0 < time_budget:
        node = heapq.heappop(st["heap"])
        if Fraction(-node[0]) <= st["lower"]:
            st["heap"] = []
            break
        _step(ctx, st, node, search_seconds, rng)
        if time.perf_counter() - last > replay_every or (st["lower"] < 0 and
                                                        st["best"][1] is not None):
            _replay(st, target, pruned)
            last = time.perf_counter()
            if path is not None:
                save_state(path, ctx, {**st, "heap": st["heap"] + st["stuck"],
                                  "spent": st["spent"] + last - t0})
    _final_replay(st, target, pruned, D)
    st["heap"] = [n for n in st["heap"] + st["stuck"] if Fraction(-n[0]) > st["lower"]]
    spent = time.perf_counter() - t0
    if path is not None:
        save_state(path, ctx, {**st, "spent": st["spent"] + spent})
    top = max((-n[0] for n in st["heap"]), default=-math.inf)
    upper = max(top, float(round_up(float(st["lower"]))))
    return {"lower": st["lower"], "upper": upper, "witness": st["witness"],
            "proved": not st["heap"], "open": len(st["heap"]), "nodes": st["nodes"],
            "seconds": spent, "total_seconds": st["spent"] + spent,
            "cpu_seconds": time.process_time() - c0}
