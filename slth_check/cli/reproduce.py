"""``slth-check reproduce paper``: the paper's experiment from the authors' files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from slth_check.cli.options import add_scheduler_options


def run(args: argparse.Namespace) -> int:
    from slth_check.experiment.reproduce import reproduce_paper
    from slth_check.fileio.datasets import artifacts_dir
    from slth_check.fileio.files import ensure_writable_dir

    out = Path(args.out) if args.out else Path("reports") / "reproduce"
    ensure_writable_dir(out, "--out")  # before the work: a read-only folder fails at once
    from slth_check.rss.executors import open_executor

    with open_executor(args.scheduler, args.workers) as (executor, _):  # checks --scheduler
        art = artifacts_dir(args.artifacts)  # checked by checksum; downloaded when absent
        r = reproduce_paper(art, out, seeds=args.seeds, seed=args.seed, executor=executor)
    bad = [v for v in r["stored_rss_validation"] if v["verdict"] != "consistent"]
    print(f"reproduction written to {out / 'reproduce.json'} and {out / 'reproduce.md'} "
          f"in {r['timing']['total_seconds']:.1f} s; stored RSS results not consistent with "
          f"exact subset sums: {len(bad)} of {len(r['stored_rss_validation'])}")
    return 0


def register(sub: Any) -> None:  # argparse's subparsers action (a private type)
    """Add ``reproduce`` to the ``slth-check`` parser."""
    rp = sub.add_parser("reproduce", help="reproduce the paper's experiment")
    rp.add_argument("what", choices=["paper"])
    rp.add_argument("--artifacts", help="folder of the authors' .bson files (default: "
                    "$SLTH_CHECK_ARTIFACTS, else the user cache, downloaded on first use)")
    rp.add_argument("--out", help="output folder (default reports/reproduce)")
    rp.add_argument("--seeds", type=int, default=3)
    rp.add_argument("--seed", type=int, default=0)
    add_scheduler_options(rp)
    rp.set_defaults(func=run)


__all__ = ["register", "run"]
