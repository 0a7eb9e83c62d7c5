"""Branch and bound on the certified worst case of the pruned LeNet5 (MNIST, conv part).

    .venv/bin/python benchmarks/lenet_bnb.py [--ns 30 20] [--seed 0] [--budget 540]
                                             [--checkpoint-dir DIR] [--seed-search S]
                                             [--search-seconds T]

Builds the construction of the authors' MNIST LeNet5 as ``benchmarks/lenet_bounds.py``
does (``lenet_construction(target, n', seed + n')``: n = [6 n', 16 n']) and runs
:func:`slth_check.certify.branch_and_bound` with the given budget (seconds, the
final exact replay on top), printing the bracket, the seconds (wall and CPU), the
nodes and the load average (the machine may be shared).  With ``--checkpoint-dir``
each sample size has its checkpoint there and a second run continues the first.
With ``--seed-search S`` :func:`slth_check.certify.worst_case` runs first for about S
seconds and its witness seeds the lower bound; ``--search-seconds T`` is the length of
each local search from an item's LP optimum (2 s by default).  Exits 0 with a message when the
authors' files are absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

from _lenet import lenet_target

from slth_check.certify import branch_and_bound, worst_case
from slth_check.experiment.lenet import lenet_construction


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", type=int, nargs="+", default=[30, 20])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=float, default=540.0)
    ap.add_argument("--checkpoint-dir", type=Path, default=None)
    ap.add_argument("--seed-search", type=float, default=0.0,
                    help="seconds of worst_case first; its witness seeds the lower bound")
    ap.add_argument("--search-seconds", type=float, default=2.0,
                    help="seconds of each local search from an item's LP optimum")
    args = ap.parse_args(argv)
    target = lenet_target()
    if target is None:
        return 0
    for n1 in args.ns:
        pruned = lenet_construction(target, n1, args.seed + n1)
        ck = None if args.checkpoint_dir is None else args.checkpoint_dir / f"bnb-{n1}.npz"
        load0 = os.getloadavg()[0]
        t0, seed_s, witness = time.perf_counter(), 0.0, None
        if args.seed_search > 0:
            witness = worst_case(target, pruned, 28, time_budget=args.seed_search,
                                 rng=args.seed + n1)["witness"]
            seed_s = time.perf_counter() - t0
        r = branch_and_bound(target, pruned, 28, time_budget=args.budget, checkpoint=ck,
                             search_seconds=args.search_seconds,
                             rng=args.seed + n1, witness=witness)
        assert r["lower"] <= Fraction(r["upper"]), "a sound upper bound below an exact lower"
        lo = float(r["lower"])
        print(f"n'={n1}: bracket [{lo:.4f}, {r['upper']:.4f}] ratio {r['upper'] / lo:.3f}; "
              f"{r['seconds']:.0f} s wall ({r['total_seconds']:.0f} s with resumed runs; "
              f"+ {seed_s:.0f} s of worst_case first), "
              f"{r['cpu_seconds']:.0f} CPU s; {r['nodes']} nodes, {r['open']} open, "
              f"proved={r['proved']}; load average {load0:.2f} -> "
              f"{os.getloadavg()[0]:.2f} (2 cores)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
