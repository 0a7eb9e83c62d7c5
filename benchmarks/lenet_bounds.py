"""Certified worst case of the pruned LeNet5 (MNIST, conv part): bounds side by side.

    .venv/bin/python benchmarks/lenet_bounds.py [--ns 20 30] [--seed 0] [--budget 240]

Builds the construction of the authors' MNIST LeNet5 (``build_network(target,
n=[6 n', 16 n'], rng=seed + n')``) and brackets ``sup_{X in [0,1]^{28x28}}
||f(X) - g(X)||_max``.  Baselines: interval propagation, Theorem 1's recursion,
the entrywise recursion, the vertex search, the linear relaxation of ``f - g`` and
the gradient/flip searches of the previous release.  New:
:func:`slth_check.certify.worst_case` (local search on per-output classes, one per
restricted problem, replayed exactly; the smallest sound upper bound), timed
alone with its CPU seconds.  Every lower bound is an exact replay, every upper
bound sound; ``ratio`` is the row's upper bound over the best lower bound (or the
best upper bound over the row's lower bound).  The load average is printed: the
machine may be shared.  Exits 0 with a message when the authors' files are absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from fractions import Fraction

import numpy as np
from _lenet import lenet_target

from slth_check.certify import exact_error, search_lower, worst_case
from slth_check.certify.interval import interval_bound, interval_pruned, interval_target
from slth_check.certify.linear import linear_bound
from slth_check.certify.recursion import entrywise_bound, fractions_up, proof_bound
from slth_check.certify.search import gradient_lower, linear_targets
from slth_check.experiment.lenet import lenet_construction

Row = tuple[str, float | None, float | None, float]


def _timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t


def baselines(target, pruned, n1: int) -> list[Row]:
    """The bounds of the previous release (the 'before' bracket)."""
    D, rows = 28, []
    (bf, bg), t = _timed(lambda: (interval_target(target, D), interval_pruned(pruned, D, 1)))
    rows.append(("interval propagation", None, interval_bound(bf, bg), t))
    pb, t = _timed(proof_bound, target, pruned, D, bg)
    rows.append(("proof recursion (Thm 1)", None,
                 float(fractions_up(np.array([pb["bound"]], dtype=object))[0]), t))
    ew, t = _timed(entrywise_bound, target, pruned, D, bg)
    rows.append(("entrywise recursion", None, ew, t))
    X, t = _timed(search_lower, target, pruned, D, rng=n1, restarts=1, max_rounds=6)
    low, t2 = _timed(exact_error, target, pruned, X, via="effective")
    rows.append(("vertex search + exact replay", float(low), None, t + t2))
    (lb, info), t = _timed(linear_bound, target, pruned, D, bg)
    rows.append(("linear relaxation of f - g", None, lb, t))
    (val, _, _), t = _timed(gradient_lower, target, pruned, D, starts=info["vertices"],
                            outputs=linear_targets(target, info, 4), rng=n1)
    rows.append(("gradient/flip search + exact replay", float(val), None, t))
    (val, _, _), t = _timed(gradient_lower, target, pruned, D, starts=[X], rng=n1 + 1,
                            restarts=1, kicks=8)
    rows.append(("iterated flips from the vertex witness", float(val), None, t))
    return rows


def _print_rows(n1: int, rows: list[Row], lo: float, up: float) -> None:
    for name, a, b, t in rows:
        ratio = (b if b is not None else up) / (a if a is not None else lo)
        print(f"{n1:>7} | {name:<48} | {'' if a is None else f'{a:.4g}':>8} | "
              f"{'' if b is None else f'{b:.4g}':>8} | {ratio:>6.2f} | {t:>7.1f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", type=int, nargs="+", default=[20, 30])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=float, default=240.0,
                    help="time budget of worst_case in seconds (default 240)")
    args = ap.parse_args(argv)
    target = lenet_target()
    if target is None:
        return 0
    print(f"{'n_prime':>7} | {'method':<48} | {'lower':>8} | {'upper':>8} | {'ratio':>6} | "
          f"{'seconds':>7}")
    print("-" * 100)
    for n1 in args.ns:
        pruned = lenet_construction(target, n1, args.seed + n1)
        rows = baselines(target, pruned, n1)
        old_lo = max(r[1] for r in rows if r[1] is not None)
        old_up = min(r[2] for r in rows if r[2] is not None)
        load0 = os.getloadavg()[0]
        res = worst_case(target, pruned, 28, time_budget=args.budget, rng=args.seed + n1)
        lo, up = float(res["lower"]), float(res["upper"])
        assert res["lower"] <= Fraction(res["upper"]), "a sound upper bound below an exact lower"
        assert Fraction(old_lo) <= Fraction(up) and Fraction(lo) <= Fraction(old_up)
        best_lo, best_up = max(lo, old_lo), min(up, old_up)
        _print_rows(n1, rows, best_lo, best_up)
        _print_rows(n1, [(f"NEW {res['methods']['lower']}", lo, None, res["seconds"])],
                    best_lo, best_up)
        print(f"{n1:>7} | {'bracket before (best of the baselines)':<48} | {old_lo:>8.4g} | "
              f"{old_up:>8.4g} | {old_up / old_lo:>6.2f} | {sum(r[3] for r in rows):>7.1f}")
        name = f"bracket now: worst_case (upper: {res['methods']['upper'][:11]})"
        print(f"{n1:>7} | {name:<48} | {lo:>8.4g} | {up:>8.4g} | {up / lo:>6.2f} | "
              f"{res['seconds']:>7.1f}")
        print(f"{'':>7}   worst_case: {res['seconds']:.1f} s wall, {res['cpu_seconds']:.1f} CPU s, "
              f"load average {load0:.2f} -> {os.getloadavg()[0]:.2f} (2 cores), "
              f"{res['details']['search']['classes']} output classes")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
