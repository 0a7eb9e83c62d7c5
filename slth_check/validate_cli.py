"""Sub-commands of ``slth-check`` beyond ``check`` and ``replay``."""

from __future__ import annotations

import argparse
from pathlib import Path


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from .reproduce import default_artifacts, reproduce_paper

    art = Path(args.artifacts) if args.artifacts else default_artifacts()
    if art is None:
        raise FileNotFoundError("artifacts: give --artifacts DIR (the authors' files, "
                                "e.g. ../shared/data/cnnslth) or set SLTH_CHECK_ARTIFACTS")
    out = Path(args.out) if args.out else Path("reports") / "reproduce"
    r = reproduce_paper(art, out, seeds=args.seeds, seed=args.seed)
    bad = [v for v in r["stored_rss_validation"] if v["verdict"] != "consistent"]
    print(f"reproduction written to {out / 'reproduce.json'} and {out / 'reproduce.md'} "
          f"in {r['timing']['total_seconds']:.1f} s; stored RSS results not consistent with "
          f"exact subset sums: {len(bad)} of {len(r['stored_rss_validation'])}")
    return 0


def add_subcommands(sub) -> None:  # noqa: ANN001 - argparse private type
    """Register further sub-commands on the ``slth-check`` parser."""
    rp = sub.add_parser("reproduce", help="reproduce the paper's experiment")
    rp.add_argument("what", choices=["paper"])
    rp.add_argument("--artifacts", help="folder of the authors' .bson files")
    rp.add_argument("--out", help="output folder (default reports/reproduce)")
    rp.add_argument("--seeds", type=int, default=3)
    rp.add_argument("--seed", type=int, default=0)
    rp.set_defaults(func=_cmd_reproduce)
