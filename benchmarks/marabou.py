"""slth-check's certified bracket beside the Marabou verifier (issue 22, point 3).

For ``--pairs`` random small pairs per padding mode and pooling kind
(:func:`slth_check.testing.pairs.small_pair`), times, in one run, slth-check's
:func:`~slth_check.certify.sup_error` (the bracket ``[lo, hi]`` of
``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max``) and Marabou's two queries of
:func:`~slth_check.export.marabou_check.cross_check` (SAT at 0.99 lo, UNSAT at 1.01 hi), and
prints, per (padding, pooling), the medians, the ratio Marabou / slth-check, the number
of pairs where both agree and where Marabou answered neither (TIMEOUT or ERROR), as a
Markdown table, with the load average before and after.  Needs the ``verify`` extra.

    python benchmarks/marabou.py [--pairs 6] [--timeout 10] [--max-pool relu|native]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from slth_check.certify import sup_error
from slth_check.conv import PADDINGS
from slth_check.export.marabou_check import cross_check
from slth_check.testing.pairs import small_pair

POOLS = (None, "avg", "max")


def one_kind(padding: str, pool: str | None, pairs: int, timeout: int,
             max_pool: str) -> dict:
    ours, theirs, agree, unknown, skipped, problems = [], [], 0, 0, 0, []
    for seed in range(pairs):
        f, g, D = small_pair(1000 + seed, padding, pool)
        t0 = time.perf_counter()
        cert = sup_error(f, g, D=D, rng=seed)
        ours.append(time.perf_counter() - t0)
        if cert.lower == 0:
            skipped += 1
            continue
        out = cross_check(f, g, D, cert.lower, cert.upper, timeout=timeout, max_pool=max_pool,
                          witness=cert.witness)
        theirs.append(out.below.seconds + out.above.seconds)
        agree += out.agrees
        unknown += "unknown" in (out.below.status, out.above.status)
        problems += [p for p in out.problems if "TIMEOUT" not in p and "ERROR" not in p]
    return {"ours": statistics.median(ours),
            "theirs": statistics.median(theirs) if theirs else float("nan"),
            "agree": agree, "unknown": unknown, "checked": pairs - skipped,
            "problems": problems}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=4, help="pairs per (padding, pooling)")
    ap.add_argument("--timeout", type=int, default=30,
                    help="seconds per Marabou question (all its queries)")
    ap.add_argument("--max-pool", choices=("relu", "native"), default="native")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    print(f"{args.pairs} pairs per kind, Marabou timeout {args.timeout} s per question, "
          f"max pooling encoded as {args.max_pool!r}\n")
    print("| padding | pooling | pairs checked | slth-check median (s) | Marabou median (s) "
          "| Marabou / slth-check | agree | Marabou unknown |")
    print("|---|---|---|---|---|---|---|---|")
    bad = []
    for pool in POOLS:
        for padding in PADDINGS:
            r = one_kind(padding, pool, args.pairs, args.timeout, args.max_pool)
            print(f"| {padding} | {pool or 'none'} | {r['checked']} | {r['ours']:.3f} | "
                  f"{r['theirs']:.3f} | {r['theirs'] / r['ours']:.1f} | {r['agree']} | "
                  f"{r['unknown']} |", flush=True)
            bad += r["problems"]
    print(f"\nload average after: {os.getloadavg()}")
    print("disagreements other than Marabou's TIMEOUT/ERROR:", bad or "none")


if __name__ == "__main__":
    main()
