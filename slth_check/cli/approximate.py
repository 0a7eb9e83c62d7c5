"""``slth-check approximate``: argparse front end of :mod:`slth_check.experiment.approximate`.

Registered on the ``slth-check`` parser by :func:`register` (listed in
:data:`slth_check.cli.main.SUBCOMMANDS`).  Exit codes: 0 done, 2 bad
input or usage (one line), 4 internal error.

``--n 5,10,30`` (or ``--figure3``, the paper's n = 5, 10, ..., 30) runs one
resumable run per n into ``OUT/n<n>/`` and prints the Figure-3 table of the
runs (:func:`slth_check.experiment.summary.figure3_table`), with the authors'
stored result beside each n when their ``<stem>-RSS-n<n>-hInf.bson`` lies
beside WEIGHTS; it is also written to ``OUT/figure3.md`` and ``figure3.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from slth_check.cli.options import add_json_option, add_scheduler_options, write_json
from slth_check.errors import EXIT_OK

#: The n of the paper's Figure 3 (and of the authors' stored results).
FIGURE3_NS = (5, 10, 15, 20, 25, 30)


def n_list(text: str) -> list[int]:
    """``--n``: one integer or a comma-separated list (``5,10,30``)."""
    try:
        ns = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        ns = []
    if not ns:
        raise argparse.ArgumentTypeError(f"expected an integer or a comma-separated list of "
                                         f"integers, got {text!r}")
    return ns


def _print_run(r: dict[str, Any], out: Path) -> None:
    print(f"{'tensor':<40} {'weights':>9} {'max':>9} {'median':>9} {'p99':>9} {'not opt':>7}")
    for row in r["tensors"] + [dict(r["overall"], name="overall")]:
        print(f"{row['name'][:40]:<40} {row['weights']:>9} {row['max_error']:>9.3g} "
              f"{row['median_error']:>9.3g} {row['p99_error']:>9.3g} "
              f"{row['not_proven_optimal']:>7}")
    if "law" in r:
        print(f"law {r['law']['law']}: Theorem 2's hypothesis {r['law']['theorem2']} "
              f"({r['law']['why']})")
    for sk in r.get("skipped", []):
        print(f"skipped: {sk['name']} ({sk['reason']})")
    if t_recomputed := r["timing"].get("checkpoints_recomputed"):
        print(f"recomputed (edited or damaged since the interruption): {', '.join(t_recomputed)}")
    print(f"Figure 3 value (max over tensors of max|w - w'|/max|w|): "
          f"{r['overall']['figure3']:.3g}")
    if r.get("authors_stored"):
        print(f"the authors' stored result {r['authors_stored']['file']}: "
              f"{r['authors_stored']['figure3']:.3g}")
    t = r["timing"]
    print(f"written to {out / 'approximate.json'} (scale: {r['scale']['mode']}); "
          f"{t['instances_solved_now']} solves in {t['solve_seconds']:.2f} s "
          f"({t['instances_per_second']:.0f}/s, {t['scheduler']}, {t['workers']} workers)")


def _print_sparsest(d: dict[str, Any]) -> None:
    print(f"sparsest tickets within eps = {d['eps']:g}: {d['kept']} of "
          f"{d['n'] * d['weights']} samples kept (density {d['density']:.4f}; mean k "
          f"{d['mean_k']}, max k {d['max_k']}; {d['infeasible']} weights with no subset "
          f"within eps, {d['unknown']} unknown)")


def _runs(args: argparse.Namespace) -> tuple[list[dict[str, Any]], str | None]:
    """The runs the options ask for (one per n), and the Figure-3 table of several."""
    from slth_check.errors import UsageError
    from slth_check.experiment.figure3 import approximate_runs

    if args.figure3 and args.n is not None:
        raise UsageError(f"--figure3: runs n = {','.join(map(str, FIGURE3_NS))} itself; "
                         f"drop --n (or give --n alone)")
    ns = list(FIGURE3_NS) if args.figure3 else (args.n or [30])
    return approximate_runs(args.weights, args.out, ns, seed=args.seed,
                            scheduler=args.scheduler, workers=args.workers,
                            resume=args.resume, include=args.include or (),
                            exclude=args.exclude or (), scale=args.scale,
                            chunk_size=args.chunk_size, figure=not args.no_figure,
                            law=args.law, sparsest=args.sparsest)


def _report(args: argparse.Namespace, runs: tuple[list[dict[str, Any]], str | None]) -> int:
    """Print the run (or the Figure-3 table of the runs) and write ``--json``."""
    reports, table = runs
    for r in reports:
        if "sparsest" in r:
            _print_sparsest(r["sparsest"])
    if table is None:
        _print_run(reports[0], Path(args.out))
    else:
        out = Path(args.out)
        print(table, end="")
        print(f"written to {out / 'figure3.md'} and {out / 'figure3.json'} (one run per n "
              f"in {out / 'n<n>'})")
    write_json(args.json, reports[0] if len(reports) == 1 else reports)
    return EXIT_OK


def _cmd_approximate(args: argparse.Namespace) -> int:
    return _report(args, _runs(args))


def register(sub: Any) -> None:  # argparse's subparsers action (a private type)
    """Add the ``approximate`` sub-command to the ``slth-check`` parser."""
    from slth_check.experiment.approximate import DEFAULT_CHUNK_SIZE, SCALES

    a = sub.add_parser("approximate", help="the paper's experiment (Figure 3) for any "
                       "network: every weight by the exact-optimal subset sum of n "
                       "Unif([-1,1]) samples; resumable")
    a.add_argument("weights", metavar="WEIGHTS",
                   help=".npz, .safetensors, PyTorch state dict (.pt/.pth) or the "
                        "authors' .bson")
    a.add_argument("--n", type=n_list, default=None,
                   help="samples per weight (1..44, default 30); a comma-separated list "
                        "(5,10,30) runs each n into OUT/n<n>/ and prints the Figure-3 table "
                        "of the runs")
    a.add_argument("--figure3", action="store_true",
                   help=f"the paper's Figure 3: --n {','.join(map(str, FIGURE3_NS))}; on the "
                        "authors' LeNet5 .bson (with --include 'conv*' --scale none) their "
                        "stored results stand beside the exact optimum")
    a.add_argument("--seed", type=int, default=0, help="seed of the sample stream (default 0)")
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
    a.add_argument("--law", default="uniform", metavar="LAW",
                   help="law of the samples: uniform (the paper's U[-1,1], default), "
                        "scaled:S (U[-S,S]), pensia (U[min w, max w]), kaiming-uniform, "
                        "kaiming-normal; recorded with Theorem 2's verdict on it")
    a.add_argument("--sparsest", type=float, default=None, metavar="EPS",
                   help="also the sparsest ticket of every weight: the fewest of its samples "
                        "within EPS (exact), and the network's density")
    add_scheduler_options(a)
    add_json_option(a, "approximate.json's document (a list for several n)")
    a.set_defaults(func=_cmd_approximate)
