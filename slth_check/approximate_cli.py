"""``slth-check approximate``: argparse front end of :mod:`slth_check.approximate`.

Registered on the ``slth-check`` parser by :func:`register` (one line in
:func:`slth_check.validate_cli.add_subcommands`).  Exit codes: 0 done, 2 bad
input or usage (one line), 4 internal error.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .errors import EXIT_OK


def add_scheduler_options(p: argparse.ArgumentParser) -> None:
    """``--scheduler`` and ``--workers``, shared by the bulk commands (issue 10)."""
    p.add_argument("--scheduler", default="processes",
                   help="processes (default: a local process pool), synchronous (inline), "
                        "dask (a Dask LocalCluster of --workers processes) or the address "
                        "tcp://HOST:PORT of a running Dask scheduler; Dask is the extra "
                        "'slth-check[dask]'")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: the CPUs available)")


def _cmd_approximate(args: argparse.Namespace) -> int:
    from .approximate import approximate
    from .files import ensure_writable_dir
    from .rss.executors import check_scheduler, check_workers

    check_scheduler(args.scheduler)
    if args.workers is not None:
        check_workers(args.workers, "--workers")
    out = ensure_writable_dir(Path(args.out), "--out")
    r = approximate(args.weights, out, n=args.n, seed=args.seed, scheduler=args.scheduler,
                    workers=args.workers, resume=args.resume, include=args.include or (),
                    exclude=args.exclude or (), scale=args.scale, chunk_size=args.chunk_size,
                    figure=not args.no_figure)
    print(f"{'tensor':<40} {'weights':>9} {'max':>9} {'median':>9} {'p99':>9} {'not opt':>7}")
    for row in r["tensors"] + [dict(r["overall"], name="overall")]:
        print(f"{row['name'][:40]:<40} {row['weights']:>9} {row['max_error']:>9.3g} "
              f"{row['median_error']:>9.3g} {row['p99_error']:>9.3g} "
              f"{row['not_proven_optimal']:>7}")
    print(f"Figure 3 value (max over tensors of max|w - w'|/max|w|): "
          f"{r['overall']['figure3']:.3g}")
    if r.get("authors_stored"):
        print(f"the authors' stored result {r['authors_stored']['file']}: "
              f"{r['authors_stored']['figure3']:.3g}")
    t = r["timing"]
    print(f"written to {out / 'approximate.json'} (scale: {r['scale']['mode']}); "
          f"{t['instances_solved_now']} solves in {t['solve_seconds']:.2f} s "
          f"({t['instances_per_second']:.0f}/s, {t['scheduler']}, {t['workers']} workers)")
    return EXIT_OK


def register(sub: Any) -> None:  # argparse's subparsers action (a private type)
    """Add the ``approximate`` sub-command to the ``slth-check`` parser."""
    from .approximate import DEFAULT_CHUNK_SIZE, SCALES

    a = sub.add_parser("approximate", help="the paper's experiment (Figure 3) for any "
                       "network: every weight by the exact-optimal subset sum of n "
                       "Unif([-1,1]) samples; resumable")
    a.add_argument("weights", metavar="WEIGHTS",
                   help=".npz, .safetensors, PyTorch state dict (.pt/.pth) or the "
                        "authors' .bson")
    a.add_argument("--n", type=int, default=30, help="samples per weight (1..44, default 30)")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--out", required=True, help="output folder")
    a.add_argument("--resume", action="store_true",
                   help="finish the run in --out (after a crash or kill)")
    a.add_argument("--include", action="append", metavar="PAT",
                   help="only tensors whose name matches this fnmatch pattern (repeatable)")
    a.add_argument("--exclude", action="append", metavar="PAT",
                   help="skip tensors whose name matches this pattern (repeatable)")
    a.add_argument("--scale", default="max", choices=SCALES,
                   help="per-tensor factor s: max (s = max|w|, default) or none (s = 1)")
    a.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE,
                   help="weights per task and checkpoint file")
    a.add_argument("--no-figure", action="store_true", help="skip figure3.png")
    add_scheduler_options(a)
    a.set_defaults(func=_cmd_approximate)
