"""Scale-out of bulk exact subset sums (issue 10), side by side in one run.

Prints:

0. instances per CPU-second of the kernels on one worker: ``solve`` row by row
   (the path before issue 10), the batch kernel in NumPy and, when installed,
   numba, and the issue's reference, a plain compiled two-pointer MITM on
   sorted subset sums that finds the float optimum only (no proof, mask or
   exact error): the ratio to it says how close the kernel is to the method's
   limit;
1. instances/s of ``solve_many`` (exact-optimal MITM, every answer verified) at
   n = 21 and n = 30 on 1 worker (inline), 2 workers (the shared process pool,
   warmed up) and a 2-worker Dask LocalCluster (``Client.get_executor()``),
   medians of ``--repeats`` runs, with the ratio to 1 worker (wall) and the
   pool's CPU efficiency (2 free cores give twice it);
2. the paper's job (2572 targets, n = 30) on 2 workers: wall time and CPU-seconds;
3. the Pensia-scale job (397 k targets, n = 21, Pensia et al. 2020: 21.5 h on
   36 cores), in full with ``--full``, else a 10 % slice projected linearly
   (said so in the output);
4. VGG-16 (14.7 M conv weights) at n = 30 projected to 1, 32 and 256 cores
   from the measured instances per CPU-second at n = 30 (linear scaling
   assumed, scaled by the pool's measured CPU efficiency).

Wall-time ratios are distorted when other processes share the machine
(the load average is printed); instances per CPU-second (this process and
its children, via psutil) are not.

    python benchmarks/scale.py [--repeats 3] [--full] [--no-dask]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time

import numpy as np

from slth_check.rss import solve_many
from slth_check.rss.executors import shared_process_pool

PAPER_M, PENSIA_M, VGG16_M = 2572, 397_000, 14_700_000


def cpu_seconds() -> float:
    """CPU seconds of this process and all its children so far (psutil, a Dask dependency;
    without it, this process only)."""
    try:
        import psutil
    except ImportError:
        return time.process_time()
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for k in me.children(recursive=True):
        try:
            total += sum(k.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def rate(V: np.ndarray, T: np.ndarray, repeats: int, **kw) -> tuple[float, float, float]:
    """(median instances/s of wall time, median seconds, median instances per CPU-second)
    of solve_many over ``repeats`` runs.  On a shared machine the CPU figure is the one
    that other processes do not distort."""
    secs, per_cpu = [], []
    for _ in range(repeats):
        c0 = cpu_seconds()
        t0 = time.perf_counter()
        b = solve_many(V, T, method="mitm", progress=False, **kw)
        secs.append(time.perf_counter() - t0)
        per_cpu.append(len(T) / max(cpu_seconds() - c0, 1e-9))
        assert b.all_optimal, "an answer was not proven optimal"
    s = statistics.median(secs)
    return len(T) / s, s, statistics.median(per_cpu)


@functools.lru_cache(maxsize=1)
def _plain_kernel():
    """The numba sweep of :func:`plain_two_pointer` (compiled on first use)."""
    import numba

    from slth_check.rss.merge import level, levels_size, sorted_sums

    @numba.njit(boundscheck=False)
    def plain(V, T):
        m, n = V.shape
        h = n // 2
        bA, bB = np.empty(levels_size(h)), np.empty(levels_size(n - h))
        out = np.empty(m)
        for r in range(m):
            sorted_sums(V[r, :h], V[r, h:], bA, bB)
            sA, sB = level(bA, h)[1:-1], level(bB, n - h)[1:-1]
            F, p, nB = np.inf, 0, sB.shape[0]
            for a in range(sA.shape[0] - 1, -1, -1):
                q = T[r] - sA[a]
                while p < nB and sB[p] < q:
                    p += 1
                d = min(abs(q - sB[max(p - 1, 0)]), abs(q - sB[min(p, nB - 1)]))
                F = min(F, d)
            out[r] = F
        return out

    return plain


def plain_two_pointer(V: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The reference the issue names: a plain compiled two-pointer MITM on sorted subset
    sums (the kernel's own sorted sums, then a branchy numba sweep per row).  It finds
    only the float optimum F: no proof of optimality, no mask, no exact error."""
    return _plain_kernel()(np.ascontiguousarray(V), np.ascontiguousarray(T))


def kernel_rates(V: np.ndarray, T: np.ndarray, repeats: int) -> dict[str, float]:
    """Instances per CPU-second inline (this process's CPU time: other processes on the
    machine distort it little): solve() row by row (the path before issue 10), the batch
    kernels (NumPy; numba when installed), all giving the same answers, and the plain
    compiled two-pointer reference (float optimum only)."""
    from slth_check.rss import compiled, solve, solve_chunk

    def per_cpu(fn, m: int) -> float:
        secs = []
        for _ in range(repeats):
            c0 = time.process_time()
            fn()
            secs.append(time.process_time() - c0)
        return m / max(statistics.median(secs), 1e-9)

    out = {}
    m = max(50, len(T) // 10)
    out["solve row by row (before)"] = per_cpu(
        lambda: [solve(V[i], float(T[i]), method="mitm") for i in range(m)], m)
    ref = None
    for kern in ("numpy", "numba") if compiled.AVAILABLE else ("numpy",):
        os.environ["SLTH_CHECK_KERNEL"] = kern
        solve_chunk((V[:4], T[:4], "mitm", None))  # numba: load the compiled code
        got = solve_chunk((V, T, "mitm", None))
        assert ref is None or all(np.array_equal(a, b) for a, b in zip(ref, got)), kern
        ref = got
        out[f"batch kernel, {kern}"] = per_cpu(lambda: solve_chunk((V, T, "mitm", None)),
                                               len(T))
    os.environ.pop("SLTH_CHECK_KERNEL", None)
    if compiled.AVAILABLE:
        plain_two_pointer(V[:4], T[:4])  # compile outside the timing
        assert np.all(plain_two_pointer(V, T) <= ref[0] + 1e-12)  # F <= the exact optimum
        out["plain two-pointer (F only)"] = per_cpu(lambda: plain_two_pointer(V, T), len(T))
    return out


def start_dask(skip: bool):
    """(client, cluster) of a 2-worker Dask LocalCluster, warmed up; (None, None) without Dask."""
    if skip:
        return None, None
    try:
        import distributed
    except ImportError:
        print("(Dask not installed: pip install 'slth-check[dask]'; its row is skipped)")
        return None, None
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    client.get_executor(pure=False).submit(int, 0).result()
    return client, cluster


def executor_table(data: dict, client, repeats: int
                   ) -> tuple[dict[tuple[int, str], float], dict[tuple[int, str], float]]:
    """Print instances/s of solve_many on 1 worker, the 2-worker pool and Dask; returns the
    wall and per-CPU-second rates by (n, executor)."""
    results: dict[tuple[int, str], float] = {}
    cpu_rates: dict[tuple[int, str], float] = {}
    print(f"\n{'n':>3} {'executor':<30} {'instances/s':>12} {'x 1 worker':>11} "
          f"{'per CPU-s':>10}")
    for n, (V, T) in data.items():
        configs = [("1 worker (inline)", {"workers": 1}),
                   ("2 workers (process pool)", {"workers": 2})]
        if client is not None:
            # pure=False: Dask must not hand back the result of an identical earlier task
            configs.append(("2 workers (Dask LocalCluster)",
                            {"workers": 2, "executor": client.get_executor(pure=False)}))
        for name, kw in configs:
            solve_many(V[:64], T[:64], method="mitm", progress=False, **kw)  # warm the workers
            r, _, pc = rate(V, T, repeats, **kw)
            results[(n, name)] = r
            cpu_rates[(n, name)] = pc
            base = results[(n, "1 worker (inline)")]
            print(f"{n:>3} {name:<30} {r:>12.0f} {r / base:>11.2f} {pc:>10.0f}")
    for n in data:
        one, two = results[(n, "1 worker (inline)")], results[(n, "2 workers (process pool)")]
        eff = cpu_rates[(n, "2 workers (process pool)")] / cpu_rates[(n, "1 worker (inline)")]
        print(f"n = {n}: 2 workers / 1 worker {two / one:.2f} in wall time (goal >= 1.7), CPU "
              f"efficiency of the pool {eff:.2f} (2 free cores would give {2 * eff:.2f})")
    if client is not None:
        d, p = results[(30, "2 workers (Dask LocalCluster)")], results[(30, "2 workers "
                                                                         "(process pool)")]
        dc = cpu_rates[(30, "2 workers (Dask LocalCluster)")]
        pc = cpu_rates[(30, "2 workers (process pool)")]
        print(f"Dask LocalCluster / process pool at n = 30: {d / p:.2f} in wall time, "
              f"{dc / pc:.2f} per CPU-second (goal: within 15 %)")
    return results, cpu_rates


def pensia_job(rng: np.random.Generator, full: bool) -> None:
    """The Pensia-scale job on 2 workers, in full or a 10 % slice projected."""
    m = PENSIA_M if full else PENSIA_M // 10
    V = rng.uniform(-1, 1, (m, 21))
    T = rng.uniform(-1, 1, m)
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    b = solve_many(V, T, method="mitm", workers=2, progress=False)
    s = time.perf_counter() - t0
    c = cpu_seconds() - c0
    assert b.all_optimal
    if full:
        print(f"Pensia-scale job ({PENSIA_M} x n = 21, 2 workers): {s:.1f} s wall, {c:.1f} "
              f"CPU-s ({c / 2:.1f} s on 2 free cores), measured in full (Pensia et al.: "
              f"21.5 h on 36 cores)")
    else:
        print(f"Pensia-scale job ({PENSIA_M} x n = 21, 2 workers): {s * 10:.1f} s wall, "
              f"{c * 10:.1f} CPU-s, PROJECTED from a 10 % slice ({m} instances in {s:.1f} s);"
              f" --full runs it all")


def vgg_projection(cpu_rates: dict[tuple[int, str], float]) -> None:
    """VGG-16 at n = 30 on 1, 32 and 256 cores from the measured per-CPU-second rates."""
    one = cpu_rates[(30, "1 worker (inline)")]
    eff = cpu_rates[(30, "2 workers (process pool)")] / one
    print(f"\nVGG-16 ({VGG16_M / 1e6:.1f} M weights) at n = 30, projected from {one:.0f} "
          f"instances per CPU-second (1 worker) and the pool's CPU efficiency {eff:.2f} "
          f"(linear in the cores, free cores assumed):")
    for cores in (1, 32, 256):
        sec = VGG16_M / (one * cores * (min(eff, 1.0) if cores > 1 else 1.0))
        print(f"  {cores:>4} cores: {sec / 3600:8.2f} h ({sec:,.0f} s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="run the Pensia-scale job in full")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(other processes share the machine: compare ratios within this run)")
    loads = [os.getloadavg()[0]]
    rng = np.random.default_rng(args.seed)
    sizes = {21: 6000, 30: 1200}
    data = {n: (rng.uniform(-1, 1, (m, n)), rng.uniform(-1, 1, m)) for n, m in sizes.items()}
    shared_process_pool(2).submit(int, 0).result()  # start the pool outside the timings
    client, cluster = start_dask(args.no_dask)
    print(f"{'n':>3} {'kernel (1 worker, inline)':<34} {'per CPU-s':>10} {'x solve':>8} "
          f"{'x plain':>8}")
    for n, (V, T) in data.items():
        kr = kernel_rates(V, T, args.repeats)
        plain = kr.get("plain two-pointer (F only)", float("nan"))
        for name, r in kr.items():
            print(f"{n:>3} {name:<34} {r:>10.0f} {r / kr['solve row by row (before)']:>8.2f} "
                  f"{r / plain:>8.2f}")
    loads.append(os.getloadavg()[0])
    _, cpu_rates = executor_table(data, client, args.repeats)
    loads.append(os.getloadavg()[0])
    V = rng.uniform(-1, 1, (PAPER_M, 30))
    T = rng.uniform(-0.3, 0.3, PAPER_M)
    _, s, pc = rate(V, T, args.repeats, workers=2)
    print(f"\npaper's job ({PAPER_M} x n = 30, 2 workers): {s:.2f} s wall (median of "
          f"{args.repeats}), {PAPER_M / pc:.2f} CPU-s, i.e. {PAPER_M / pc / 2:.2f} s on 2 free "
          f"cores; the paper: about 1 hour on 32 cores")
    loads.append(os.getloadavg()[0])
    pensia_job(rng, args.full)
    vgg_projection(cpu_rates)
    loads.append(os.getloadavg()[0])
    print(f"load average (1 min) sampled during the run: {min(loads):.1f} to {max(loads):.1f}")
    if client is not None:
        import logging

        logging.getLogger("distributed").setLevel(logging.CRITICAL)  # heartbeats at shutdown
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
