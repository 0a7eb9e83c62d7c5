"""The LeNet5 worst case's hardest items as exact MILPs (a diagnostic for issue 22, point 2).

    .venv/bin/python benchmarks/lenet_milp.py [--ns 30 20] [--items 1] [--seconds 600]
                                              [--solver highs|scip]

For the items of :func:`slth_check.certify.branch_and_bound` with the largest
linear-relaxation bound, the root problem of :mod:`slth_check.certify.window_lp`
(``v = (X, Delta, p')``) with one binary per candidate option of every layer-1 pooled
unit, for f's and for g's maximum (``sum_k z_k = 1``; ``p = Delta + p' <= a_m + M (1 -
z_m)``, ``p' <= a'_m + M (1 - z_m)``, M from the node's intervals): the item's problem
itself, no longer relaxed in the choice of the maxima, handed to HiGHS
(``scipy.optimize.milp``) or SCIP (``pyscipopt``, when installed) for ``--seconds``.

Printed per item: the sound root bound (the LP of ``node_bound``), the solver's root and
final dual bounds, its best primal value, nodes and seconds.  The solver's bounds are
floating-point and *not* sound: slth-check never uses them.  The question measured is
whether an exact method closes the gap between the LP bound and the lower bounds at all
(docs/results.md, "Branch and bound on the LeNet5 worst case").  Exits 0 with a
message when the authors' files are absent.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import scipy.sparse as sp
from _lenet import lenet_target
from scipy.optimize import Bounds, LinearConstraint, milp

from slth_check.certify.branch import _search, _setup
from slth_check.certify.window_lp import (
    cands,
    node_bound,
    node_ranges,
    node_rows,
    objective,
    root_ranges,
)
from slth_check.experiment.lenet import lenet_construction


def item_milp(ctx: dict[str, Any], item: int) -> dict[str, Any]:
    """The MILP of one item: ``max c.x + c0`` s.t. ``rl <= A x <= ru``, bounds, binaries."""
    cl, si, j = ctx["items"][item]
    w, r, s = ctx["wins"][cl], ctx["ranges"][cl], 1.0 - 2 * si
    fix = -np.ones((2, w.opt.shape[0]), dtype=int)
    rg = node_ranges(w, r, fix)
    assert rg is not None
    G, h, lo, hi = node_rows(w, r, fix, rg)
    c, c0 = objective(w, s, j)
    nI, nU = w.Kf.shape[1], w.opt.shape[0]
    nv = nI + 2 * nU
    alo, ahi, glo, ghi = rg
    grp = w.opt[:, 1:]
    top = (np.maximum(ahi[grp].max(axis=1), 0.0), np.maximum(ghi[grp].max(axis=1), 0.0))
    rows_a = (w.Kf, r["Lup"])
    rows_b = (w.bf, r["bup"])
    low = (alo, glo)
    zs = [(net, i, k) for net, cand in enumerate((cands(w.opt, alo, ahi), cands(w.opt, glo, ghi)))
          for i in range(nU) if cand[i].sum() > 1 for k in np.flatnonzero(cand[i])]
    nz = len(zs)
    Z = sp.lil_matrix((nz, nv + nz))
    zr = np.zeros(nz)
    units: dict[tuple[int, int], list[int]] = {}
    for q, (net, i, k) in enumerate(zs):
        units.setdefault((net, i), []).append(q)
        m = w.opt[i, k]
        Z[q, nI + nU + i] = 1.0  # p' (and Delta for f: p = Delta + p')
        if net == 0:
            Z[q, nI + i] = 1.0
        if m >= 0:
            Z[q, :nI] = -rows_a[net][m]
            M, const = top[net][i] - low[net][m], rows_b[net][m]
        else:
            M, const = top[net][i], 0.0
        Z[q, nv + q] = M
        zr[q] = M + const
    S = sp.lil_matrix((len(units), nv + nz))
    for u, qs in enumerate(units.values()):
        for q in qs:
            S[u, nv + q] = 1.0
    A = sp.vstack([sp.hstack([G, sp.csr_matrix((G.shape[0], nz))]), Z.tocsr(), S.tocsr()]).tocsr()
    rl = np.concatenate([np.full(G.shape[0] + nz, -np.inf), np.ones(len(units))])
    ru = np.concatenate([h, zr, np.ones(len(units))])
    return {"c": np.concatenate([c, np.zeros(nz)]), "c0": c0, "A": A, "rl": rl, "ru": ru,
            "lb": np.concatenate([lo, np.zeros(nz)]), "ub": np.concatenate([hi, np.ones(nz)]),
            "integ": np.concatenate([np.zeros(nv), np.ones(nz)]), "binaries": nz,
            "root": node_bound(w, r, fix, s, j)[0]}


def item_value(ctx: dict[str, Any], item: int, X: np.ndarray) -> float:
    """The item's value ``s e2_k`` at the window's input ``X`` (float forward of both
    networks' rows: a check of the encoding, not a bound)."""
    cl, si, j = ctx["items"][item]
    w = ctx["wins"][cl]
    idx = np.where(w.opt >= 0, w.opt, 0)
    p = np.where(w.opt >= 0, (w.Kf @ X + w.bf)[idx], 0.0).max(axis=1)
    pg = np.where(w.opt >= 0, (w.Lf @ X + w.bg)[idx], 0.0).max(axis=1)
    return float((1.0 - 2 * si) * (w.K2[j] @ (p - pg) + w.E2[j] @ pg + w.db2[j]))


def check_encoding(ctx: dict[str, Any], item: int, P: dict[str, Any], count: int,
                   rng: np.random.Generator) -> tuple[float, float]:
    """With ``X`` fixed (random vertices and interior points), the MILP's optimum against
    the item's value at ``X``: ``(min, max)`` of their difference.  A valid encoding never
    goes below the value (min >= 0 up to the solver's tolerance); an exact one equals it."""
    nI = ctx["wins"][ctx["items"][item][0]].Kf.shape[1]
    diffs = []
    for t in range(count):
        X = (rng.random(nI) < 0.5).astype(float) if t % 2 == 0 else rng.random(nI)
        lb, ub = P["lb"].copy(), P["ub"].copy()
        lb[:nI], ub[:nI] = X, X
        res = milp(-P["c"], constraints=[LinearConstraint(P["A"], P["rl"], P["ru"])],
                   integrality=P["integ"], bounds=Bounds(lb, ub), options={"time_limit": 60})
        if res.x is not None:
            diffs.append(-res.fun + P["c0"] - item_value(ctx, item, X))
    return (min(diffs), max(diffs)) if diffs else (math.nan, math.nan)


def box_bounds(ctx: dict[str, Any], item: int, widths: list[float], seconds: float,
               rng: int) -> tuple[int, float, list[float]]:
    """Input splitting, measured: the item's LP bound on boxes of half-width ``d`` around a
    good input ``X`` of the item (the branch and bound's local search from its LP optimum,
    ``seconds`` long), with the intervals recomputed on the box (``X = l + (u - l) Y``, the
    shifted rows in float: a diagnostic, not a sound bound), for the layer-2 neuron of the
    item's pooling window that ``X`` is worst for.  Returns that item, its value at ``X``
    and the bound per width."""
    cl, si, j = ctx["items"][item]
    w, r, s = ctx["wins"][cl], ctx["ranges"][cl], 1.0 - 2 * si
    fix = -np.ones((2, w.opt.shape[0]), dtype=int)
    _, v = node_bound(w, r, fix, s, j)
    assert v is not None
    X = _search(ctx, item, v, seconds, rng)[1].reshape(-1)[w.inp]
    same = [i for i, (c2, s2, _) in enumerate(ctx["items"]) if (c2, s2) == (cl, si)]
    item = max(same, key=lambda i: item_value(ctx, i, X))  # the neuron X is worst for
    j = ctx["items"][item][2]
    out = []
    for d in widths:
        lo, hi = np.clip(X - d, 0.0, 1.0), np.clip(X + d, 0.0, 1.0)
        wb = dataclasses.replace(w, Kf=w.Kf * (hi - lo), bf=w.bf + w.Kf @ lo,
                                 Lf=w.Lf * (hi - lo), Lr=w.Lr * (hi - lo), bg=w.bg + w.Lf @ lo,
                                 br=w.br + w.Lr @ lo)
        out.append(node_bound(wb, root_ranges(wb), fix, s, j)[0])
    return item, item_value(ctx, item, X), out


@contextmanager
def _captured_stdout() -> Iterator[list[str]]:
    """The C-level standard output of the block (HiGHS's log), as lines, after it."""
    out: list[str] = []
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+") as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            yield out
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            out.extend(tmp.read().splitlines())


def run_highs(P: dict[str, Any], seconds: float) -> dict[str, Any]:
    """HiGHS through scipy; its bounds read from its log (scipy drops them without a
    primal solution)."""
    t0 = time.perf_counter()
    with _captured_stdout() as log:
        res = milp(-P["c"], constraints=[LinearConstraint(P["A"], P["rl"], P["ru"])],
                   integrality=P["integ"], bounds=Bounds(P["lb"], P["ub"]),
                   options={"time_limit": seconds, "disp": True})
    t = time.perf_counter() - t0
    table = [ln.split() for ln in log if re.match(r"^\s*[A-Za-z]?\s+\d+\s+\d+\s+\d+\s", ln)]
    bound = [float(x[-8]) for x in table]  # BestBound: the 8th column from the end
    final = next((float(ln.split()[-1]) for ln in log if "Dual bound" in ln), math.nan)
    nodes = next((int(ln.split()[-1]) for ln in log if re.match(r"^\s*Nodes\s+\d+\s*$", ln)),
                 -1)
    primal = (-res.fun + P["c0"]) if res.x is not None else None
    return {"root": (-bound[0] + P["c0"]) if bound else math.nan,
            "dual": -final + P["c0"], "primal": primal, "nodes": nodes, "seconds": t}


def run_scip(P: dict[str, Any], seconds: float) -> dict[str, Any]:
    """SCIP (pyscipopt), floating-point mode."""
    import pyscipopt

    m = pyscipopt.Model()
    m.hideOutput()
    n = P["A"].shape[1]
    x = [m.addVar(lb=float(P["lb"][i]), ub=float(P["ub"][i]),
                  vtype="B" if P["integ"][i] else "C") for i in range(n)]
    A = P["A"]
    for row in range(A.shape[0]):
        a, b = A.indptr[row], A.indptr[row + 1]
        terms = [(float(v), x[i]) for i, v in zip(A.indices[a:b], A.data[a:b]) if abs(v) > 1e-12]
        e = pyscipopt.quicksum(v * xi for v, xi in terms)
        if P["rl"][row] == P["ru"][row]:
            m.addCons(e == float(P["ru"][row]))
        else:
            m.addCons(e <= float(P["ru"][row]))
    m.setObjective(pyscipopt.quicksum(float(P["c"][i]) * x[i] for i in range(n)
                                      if abs(P["c"][i]) > 1e-300), "maximize")
    m.setParam("limits/time", seconds)
    t0 = time.perf_counter()
    m.optimize()
    return {"root": math.nan, "dual": m.getDualbound() + P["c0"],
            "primal": (m.getObjVal() + P["c0"]) if m.getNSols() else None,
            "nodes": m.getNNodes(), "seconds": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", type=int, nargs="+", default=[30, 20])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--items", type=int, default=1, help="how many of the worst items")
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--solver", choices=["highs", "scip"], default="highs")
    ap.add_argument("--check", type=int, default=4,
                    help="inputs at which the encoding is checked against the item's value")
    ap.add_argument("--boxes", type=float, nargs="*", default=[],
                    help="half-widths of input boxes around a good input: the LP bound on each")
    args = ap.parse_args(argv)
    target = lenet_target()
    if target is None:
        return 0
    run = run_highs if args.solver == "highs" else run_scip
    for n1 in args.ns:
        pruned = lenet_construction(target, n1, args.seed + n1)
        ctx = _setup(target, pruned, 28)
        for item in np.argsort(ctx["bound0"])[::-1][:args.items]:
            if args.boxes:
                it, at, bounds = box_bounds(ctx, int(item), args.boxes, 20.0, args.seed + n1)
                print(f"n'={n1} item {ctx['items'][it]}: value {at:.4f} at a searched input; "
                      "LP bound on boxes of half-width " + ", ".join(
                          f"{d}: {b:.4f}" for d, b in zip(args.boxes, bounds)), flush=True)
                continue
            P = item_milp(ctx, int(item))
            lo, hi = check_encoding(ctx, int(item), P, args.check, np.random.default_rng(0))
            print(f"n'={n1} item {ctx['items'][item]}: encoding at {args.check} fixed inputs: "
                  f"MILP - value in [{lo:.2e}, {hi:.2e}]", flush=True)
            load0 = os.getloadavg()[0]
            out = run(P, args.seconds)
            primal = "none" if out["primal"] is None else f"{out['primal']:.4f}"
            print(f"n'={n1} item {ctx['items'][item]}: {P['binaries']} binaries; sound LP bound "
                  f"{P['root']:.4f}; {args.solver}: root {out['root']:.4f}, dual bound "
                  f"{out['dual']:.4f} (float), primal {primal}, {out['nodes']} nodes, "
                  f"{out['seconds']:.0f} s; load average {load0:.2f} -> "
                  f"{os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
