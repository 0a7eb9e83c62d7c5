"""``slth-check reproduce paper``: the paper's experiment from the authors' files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from slth_check.cli.options import add_json_option, add_scheduler_options, write_json


def _figure4(args: argparse.Namespace, out: Path) -> list[dict[str, Any]]:
    """Figure 4 on the images of ``--images`` (:mod:`slth_check.experiment.figure4`), with
    ``--certified`` the certified bound of the whole box beside it
    (:mod:`slth_check.experiment.figure4_certified`), printed and written to
    ``OUT/figure4-images.json``."""
    import json

    from slth_check.errors import UsageError
    from slth_check.experiment.figure4 import figure4_on_images, lenet_networks
    from slth_check.experiment.figure4_certified import certified_rows
    from slth_check.fileio.datasets import artifacts_dir
    from slth_check.fileio.files import atomic_write
    from slth_check.fileio.idx import read_images

    if not args.images:
        raise UsageError("--images: reproduce figure4 needs the images (IDX or .npz)")
    if args.certified_search is not None and not args.certified_search > 0:
        raise UsageError(f"--certified-search: expected a positive number of seconds, got "
                         f"{args.certified_search}")
    images = read_images(args.images)
    art = artifacts_dir(args.artifacts)
    rows = figure4_on_images(art, images, args.dataset)
    print(f"Figure 4 on {len(images)} images of {args.images} ({args.dataset}):")
    for r in rows:
        print(f"  n = {r['n']:>2}: max relative error {r['max_relative_error']:.3g} (image "
              f"{r['argmax_image']}; rounding within {r['rounding_bound_relative']:.1e}); "
              f"authors' normalisation {r['authors_normalisation']:.3g}")
    if args.certified or args.certified_search:
        f, gs = lenet_networks(art, args.dataset, tuple(r["n"] for r in rows))
        rows = certified_rows(f, gs, rows, images, search=args.certified_search is not None,
                              time_budget=args.certified_search or 30.0)
        print("certified over the whole box [0, 1]^(28 x 28) (absolute; relative = divided "
              "by the dataset's largest reference activation):")
        for r in rows:
            low = "" if r["certified_lower"] is None else \
                f", exact lower bound {r['certified_lower']:.4g}"
            print(f"  n = {r['n']:>2}: dataset max {r['max_absolute_error']:.4g} <= certified "
                  f"{r['certified_upper']:.4g} (relative {r['authors_normalisation']:.4g} <= "
                  f"{r['certified_relative_upper']:.4g}){low}; {r['certify_seconds']:.0f} s")
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
    rp.add_argument("--certified", action="store_true",
                    help="with --images: also the certified upper bound of the worst case over "
                    "the whole input box per n, checked to be at least the dataset maximum "
                    "(exit 4 otherwise); 20-70 s per n on a shared 2-core machine")
    rp.add_argument("--certified-search", type=float, metavar="SECONDS",
                    help="as --certified, plus a lower bound replayed exactly by a local search "
                    "of about SECONDS per n")
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
