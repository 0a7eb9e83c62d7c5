"""``slth-check reproduce paper``: the paper's experiment from the authors' files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from slth_check.cli.options import add_json_option, add_scheduler_options, write_json


def _figure4(args: argparse.Namespace, out: Path) -> list[dict[str, Any]]:
    """Figure 4 on the images of ``--images`` (:mod:`slth_check.experiment.figure4`),
    printed and written to ``OUT/figure4-images.json``."""
    import json

    from slth_check.errors import UsageError
    from slth_check.experiment.figure4 import figure4_on_images
    from slth_check.fileio.datasets import artifacts_dir
    from slth_check.fileio.files import atomic_write
    from slth_check.fileio.idx import read_images

    if not args.images:
        raise UsageError("--images: reproduce figure4 needs the images (IDX or .npz)")
    images = read_images(args.images)
    rows = figure4_on_images(artifacts_dir(args.artifacts), images, args.dataset)
    print(f"Figure 4 on {len(images)} images of {args.images} ({args.dataset}):")
    for r in rows:
        print(f"  n = {r['n']:>2}: max relative error {r['max_relative_error']:.3g} (image "
              f"{r['argmax_image']}); authors' normalisation {r['authors_normalisation']:.3g}")
    atomic_write(out / "figure4-images.json", json.dumps(rows, indent=1) + "\n")
    return rows


def run(args: argparse.Namespace) -> int:
    from slth_check.experiment.reproduce import reproduce_paper
    from slth_check.fileio.datasets import artifacts_dir
    from slth_check.fileio.files import ensure_writable_dir

    out = Path(args.out) if args.out else Path("reports") / "reproduce"
    ensure_writable_dir(out, "--out")  # before the work: a read-only folder fails at once
    if args.what == "figure4" or args.images:
        rows = _figure4(args, out)
        if args.what == "figure4":
            write_json(args.json, {"figure4_images": rows})
            return 0
    from slth_check.rss.executors import open_executor

    with open_executor(args.scheduler, args.workers) as (executor, _):  # checks --scheduler
        art = artifacts_dir(args.artifacts)  # checked by checksum; downloaded when absent
        r = reproduce_paper(art, out, seeds=args.seeds, seed=args.seed, executor=executor)
    bad = [v for v in r["stored_rss_validation"] if v["verdict"] != "consistent"]
    print(f"reproduction written to {out / 'reproduce.json'} and {out / 'reproduce.md'} "
          f"in {r['timing']['total_seconds']:.1f} s; stored RSS results not consistent with "
          f"exact subset sums: {len(bad)} of {len(r['stored_rss_validation'])}")
    print(f"overall: done; the authors' stored results are {'not ' if bad else ''}all "
          "consistent with exact subset sums")
    write_json(args.json, r)
    return 0


def register(sub: Any) -> None:  # argparse's subparsers action (a private type)
    """Add ``reproduce`` to the ``slth-check`` parser."""
    rp = sub.add_parser("reproduce", help="reproduce the paper's experiment")
    rp.add_argument("what", choices=["paper", "figure4"],
                    help="paper: the whole reproduction; figure4: Figure 4 on --images only")
    rp.add_argument("--images", metavar="PATH",
                    help="MNIST / Fashion-MNIST images (IDX, gzip or not, or .npz): Figure 4 "
                    "as the paper defines it, the maximum over these images")
    rp.add_argument("--dataset", default="MNIST", choices=["MNIST", "FashionMNIST"],
                    help="whose LeNet5 the images go through (default MNIST)")
    rp.add_argument("--artifacts", help="folder of the authors' .bson files (default: "
                    "$SLTH_CHECK_ARTIFACTS, else the user cache, downloaded on first use)")
    rp.add_argument("--out", help="output folder (default reports/reproduce)")
    rp.add_argument("--seeds", type=int, default=3,
                    help="fresh sample draws per (dataset, n) (default 3)")
    rp.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    add_scheduler_options(rp)
    add_json_option(rp, "reproduce.json's document")
    rp.set_defaults(func=run)


__all__ = ["register", "run"]
