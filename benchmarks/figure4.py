"""Figure 4 on images: the batched path against the reference path, in the same run.

    .venv/bin/python benchmarks/figure4.py [--images PATH] [--count 1000] [--repeats 3]
                                          [--dataset MNIST] [--artifacts DIR]

Times :func:`slth_check.experiment.figure4.image_errors` on ``--count`` images (the first
of ``--images``, an IDX or .npz file, else synthetic images: uniform bytes / 255, the
same shape and scale as MNIST) through the conv part of the authors' LeNet5 and its six
stored RSS approximations, with ``method="batched"`` (im2col, BLAS) and
``method="reference"`` (each network's ``forward``), alternating, ``--repeats`` times.
Prints the median seconds, images per second, the projected time for the 70 000 images of
MNIST and the ratio reference / batched, with the load average before and after (the
machine may be shared; the ratio, not the seconds, is the result).  Exits 0 with a
message when the authors' files are absent.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

from slth_check.errors import InputError
from slth_check.experiment.figure4 import image_errors, lenet_networks
from slth_check.fileio.datasets import artifacts_dir
from slth_check.fileio.idx import read_images

NS = (5, 10, 15, 20, 25, 30)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", help="IDX or .npz images (default: synthetic)")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dataset", default="MNIST", choices=["MNIST", "FashionMNIST"])
    ap.add_argument("--artifacts", help="folder of the authors' .bson files (default: "
                    "$SLTH_CHECK_ARTIFACTS, else the user cache)")
    args = ap.parse_args(argv)
    try:
        art = artifacts_dir(args.artifacts, download=False)
    except InputError as exc:
        print(f"the authors' files are absent ({exc}); nothing to measure")
        return 0
    f, gs = lenet_networks(art, args.dataset, NS)
    if args.images:
        imgs, source = read_images(args.images)[:args.count], args.images
    else:
        imgs = np.random.default_rng(0).integers(0, 256, (args.count, 28, 28)) / 255.0
        source = "synthetic images (uniform bytes / 255)"
    X = np.ascontiguousarray(imgs.transpose(0, 2, 1))[..., None]
    print(f"{len(X)} images of {source}; f and {len(gs)} stored networks ({args.dataset})")
    load0 = os.getloadavg()
    times: dict[str, list[float]] = {"batched": [], "reference": []}
    results = {}
    for _ in range(args.repeats):
        for method in times:
            t = time.perf_counter()
            results[method] = image_errors(f, gs, X, method=method, progress=False)
            times[method].append(time.perf_counter() - t)
    diff = max(float(np.abs(results["batched"][1][n] - results["reference"][1][n]).max())
               for n in NS)
    med = {m: statistics.median(ts) for m, ts in times.items()}
    print(f"{'path':<10} | {'median s':>9} | {'images/s':>9} | {'70 000 images':>13}")
    for m, s in med.items():
        print(f"{m:<10} | {s:>9.3f} | {len(X) / s:>9.0f} | {70_000 * s / len(X):>11.1f} s")
    print(f"ratio reference / batched: {med['reference'] / med['batched']:.2f} "
          f"(medians of {args.repeats}); largest difference of a per-image error between "
          f"the paths: {diff:.2e}")
    print(f"load average {load0[0]:.2f} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
          f"(BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
