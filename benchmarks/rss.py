"""Benchmark of the RSS solvers (issue: random subset sum).

Prints, from one run: for n in {10, 15, 20, 25, 30}, the median time per
instance of bruteforce (n <= 20), mitm, z3 (n <= 15) and milp, each as a
ratio to mitm measured in the same run, and how often milp's answer was not
the exact optimum; then the paper's job, 2572 targets at n = 30 solved to the
exact optimum by solve_many: wall time and results not proven optimal.

    python benchmarks/rss.py [--instances K] [--milp-time-limit S]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from slth_check.rss import solve, solve_many


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    r = fn(*args, **kwargs)
    return r, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=5)
    ap.add_argument("--milp-time-limit", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{'n':>3} {'method':>10} {'median s':>10} {'x mitm':>9}  notes")
    for n in (10, 15, 20, 25, 30):
        times: dict[str, list[float]] = {"mitm": [], "bruteforce": [], "z3": [], "milp": []}
        milp_not_opt = milp_unknown = 0
        for _ in range(args.instances):
            v, t = rng.uniform(-1, 1, n), float(rng.uniform(-1, 1))
            ref, dt = timed(solve, v, t, method="mitm")
            times["mitm"].append(dt)
            if n <= 20:
                r, dt = timed(solve, v, t, method="bruteforce")
                assert r.error == ref.error
                times["bruteforce"].append(dt)
            if n <= 15:
                r, dt = timed(solve, v, t, method="z3", time_limit=60)
                assert r.status != "optimal" or r.error == ref.error
                times["z3"].append(dt)
            r, dt = timed(solve, v, t, method="milp", time_limit=args.milp_time_limit)
            times["milp"].append(dt)
            milp_not_opt += r.error != ref.error
            milp_unknown += r.status == "unknown"
        base = float(np.median(times["mitm"]))
        for m, ts in times.items():
            if not ts:
                continue
            med = float(np.median(ts))
            note = ""
            if m == "milp":
                note = (f"not the exact optimum in {milp_not_opt}/{args.instances}"
                        f" (no answer: {milp_unknown})")
            print(f"{n:>3} {m:>10} {med:>10.2e} {med / base:>9.1f}  {note}")
    V = rng.uniform(-1, 1, (2572, 30))
    T = rng.uniform(-0.3, 0.3, 2572)
    res, wall = timed(solve_many, V, T, method="mitm")
    not_opt = int(np.sum(res.status != "optimal"))
    print(f"\npaper's job: 2572 targets, n = 30, solve_many (mitm, {res.stats['workers']} "
          f"workers): {wall:.2f} s wall, {not_opt} not proven optimal, "
          f"max error {res.errors.max():.2e}")
    print("paper: 'around 1 hour on 32 cores' with a commercial MIP solver")


if __name__ == "__main__":
    main()
