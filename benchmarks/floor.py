"""How close the exact solver is to the limit (issue 19), side by side in one run.

The limit for one random-subset-sum instance of size n: build the two sorted
half-sum lists (2 x 2^(n/2) values, by merging, no sort) and scan them once.
The floors (``benchmarks/floor_kernels.py``) are the fastest loops written for
that and nothing else (no optimality proof, no mask, no exact error): the new
floor (eight merge chains, a branch-free merged walk) and, as a second fixed
baseline, the floor as first measured (four merge chains, a plain scan).
Printed, as medians of ``--repeats`` runs, with the load average:

1. the paper's job (2572 targets of U[-1, 1], n = 30, LeNet5's conv weights):
   both floors and ``solve_many`` (exact, every answer proven optimal) on 1 worker, in
   turn; then ``solve_many`` on 1 and on 2 workers, in turn; the ratios solver / floor
   and 1 worker / 2 workers;
2. the Pensia-scale job (397 k targets, n = 21), a slice projected linearly (both
   floors on 1 core and ``solve_many`` on 2 workers);
3. peers on a sample of the same instances, projected to the 2572: SciPy's ``milp``
   (HiGHS) and Z3 (optimisation), and the paper's reported 1 h on 32 cores;
4. the first-call compile time of the numba kernels in a fresh process with an
   empty cache, and the second process's (cached on disk).

    python benchmarks/floor.py [--repeats 3] [--sample 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

PAPER_M, PENSIA_M = 2572, 397_000


def _floors():
    """(new floor, old floor): see ``benchmarks/floor_kernels.py``."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from floor_kernels import new_floor, old_floor

    return new_floor, old_floor


def _medians(repeats: int, *fns) -> list[float]:
    """The median wall time of each function, the functions run in turn in every repeat
    (the host's speed drifts: alternating keeps the ratios between them fair)."""
    secs: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, secs):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return [statistics.median(x) for x in secs]


def _job(m: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (m, n)), rng.uniform(-1, 1, m)


def paper_job(repeats: int) -> float:
    from slth_check.rss import solve_many

    V, T = _job(PAPER_M, 30)
    new, old = _floors()
    new(V[:2], T[:2]), old(V[:2], T[:2])  # compile
    solve_many(V[:8], T[:8], method="mitm", workers=1, progress=False)  # compile / warm
    solve_many(V[:64], T[:64], method="mitm", workers=2, progress=False)  # start the pool
    f, f0, s1 = _medians(
        repeats, lambda: new(V, T), lambda: old(V, T),
        lambda: solve_many(V, T, method="mitm", workers=1, progress=False))
    # 1 and 2 workers in turn, apart from the floors: after 2.5 s of single-core runs the
    # idle second vCPU of this machine starts slow (2 workers 6-10 % slower, measured)
    s1b, s2 = _medians(
        repeats, lambda: solve_many(V, T, method="mitm", workers=1, progress=False),
        lambda: solve_many(V, T, method="mitm", workers=2, progress=False))
    b = solve_many(V, T, method="mitm", workers=2, progress=False)
    assert b.all_optimal, "an answer was not proven optimal"
    fl = new(V, T)
    assert np.array_equal(fl, old(V, T)), "the two floors disagree"
    assert np.all(np.abs(fl - b.errors.astype(float)) <= 1e-12 + 1e-9 * fl), "floor != solver"
    print(f"paper's job (m = {PAPER_M}, n = 30):")
    print(f"  floor, new (build + scan, 1 core)  {f:8.3f} s")
    print(f"  floor, old (as first measured)     {f0:8.3f} s   {f0 / f:5.2f} x new floor")
    print(f"  solve_many, 1 worker (exact)       {s1:8.3f} s   {s1 / f:5.2f} x new floor, "
          f"{s1 / f0:5.2f} x old floor")
    print(f"  solve_many, 2 workers (exact)      {s2:8.3f} s   {s2 / f:5.2f} x new floor; "
          f"2 workers {s1b / s2:4.2f} x 1 worker ({s1b:.3f} s, in turn with 2)")
    return s2


def pensia_job(repeats: int) -> None:
    from slth_check.rss import solve_many

    m = PENSIA_M // 10
    V, T = _job(m, 21, 1)
    new, old = _floors()
    solve_many(V[:64], T[:64], method="mitm", workers=2, progress=False)  # warm the pool
    f, f0, s2 = _medians(
        repeats, lambda: new(V, T), lambda: old(V, T),
        lambda: solve_many(V, T, method="mitm", workers=2, progress=False))
    print(f"Pensia-scale job (397 k, n = 21), a 10 % slice projected (x 10): floor new "
          f"{10 * f:.1f} s, old {10 * f0:.1f} s on 1 core; solve_many on 2 workers "
          f"{10 * s2:.1f} s ({s2 / f:.2f} x new floor)")


def peers(sample: int, s2: float) -> None:
    from slth_check.rss import solve

    V, T = _job(sample, 30, 2)
    for method in ("milp", "z3"):
        t0 = time.perf_counter()
        for r in range(sample):
            solve(V[r], float(T[r]), method=method, time_limit=60.0)
        per = (time.perf_counter() - t0) / sample
        proj = per * PAPER_M
        print(f"  {method:<5} {per:8.3f} s per instance; the paper's job projected "
              f"{proj:9.0f} s on 1 core = {proj / max(s2, 1e-9):8.0f} x slth-check's 2 workers")
    print(f"  the paper: 1 h on 32 cores = {3600 / max(s2, 1e-9):8.0f} x slth-check's "
          f"2 workers (wall)")


def compile_times() -> None:
    code = ("import time, numpy as np; t=time.perf_counter(); from slth_check.rss import "
            "solve_many; solve_many(np.ones((2, 30)) * 0.3, np.array([0.1, 0.2]), "
            "method='mitm', workers=1, progress=False); print(time.perf_counter()-t)")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        first = float(subprocess.check_output([sys.executable, "-c", code], env=env))
        second = float(subprocess.check_output([sys.executable, "-c", code], env=env))
    print(f"numba kernels: first call in a fresh process with an empty cache {first:.2f} s; "
          f"in the next process (cache on disk) {second:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sample", type=int, default=4,
                    help="instances for milp and z3 (0: skip the peers)")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs; medians of {args.repeats}")
    s2 = paper_job(args.repeats)
    pensia_job(args.repeats)
    if args.sample > 0:
        print("peers on the same kind of instances (a sample, projected):")
        peers(args.sample, s2)
    compile_times()


if __name__ == "__main__":
    main()
