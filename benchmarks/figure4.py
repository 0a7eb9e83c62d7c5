"""Figure 4 on images: the batched path against the reference path, in the same run.

    .venv/bin/python benchmarks/figure4.py [--images PATH | --blob] [--count 1000]
        [--repeats 3] [--methods fused batched reference] [--dataset MNIST] [--artifacts DIR]

Times :func:`slth_check.experiment.figure4.image_errors` on ``--count`` images (the first
of ``--images``, an IDX or .npz file, else synthetic images: uniform bytes / 255, the
same shape and scale as MNIST) through the conv part of the authors' LeNet5 and its six
stored RSS approximations, with ``method="fused"`` (the default: compiled im2col, one
single-threaded BLAS product per network and layer, a batch per CPU in threads),
``"batched"`` (numpy im2col, BLAS) and ``"reference"`` (each network's ``forward``),
alternating, ``--repeats`` times (``--blob``: synthetic images that are zero outside a
random 20 x 20 centre, like MNIST's borders).  Prints the median seconds (wall and CPU),
images per second, the projected time for the 70 000 images of MNIST and the ratios to the
reference, with the load average before and after (the machine may be shared; the ratios,
not the seconds, are the result), and the largest difference of a per-image error between
each path and the reference beside its proven bound
(:func:`slth_check.experiment.rounding.figure_error_bounds`).  Exits 0 with a
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
from slth_check.experiment.rounding import figure_error_bounds
from slth_check.fileio.datasets import artifacts_dir
from slth_check.fileio.idx import read_images

NS = (5, 10, 15, 20, 25, 30)
METHODS = ("fused", "batched", "reference")


def _images(args: argparse.Namespace) -> tuple[np.ndarray, str]:
    """The images to time: ``--images``, else synthetic (uniform bytes / 255, or with
    ``--blob`` zero outside a random 20 x 20 centre with 40 % of its pixels lit)."""
    if args.images:
        return read_images(args.images)[:args.count], args.images
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (args.count, 28, 28)) / 255.0
    if not args.blob:
        return imgs, "synthetic images (uniform bytes / 255)"
    out = np.zeros_like(imgs)
    out[:, 4:24, 4:24] = imgs[:, 4:24, 4:24] * (rng.random((args.count, 20, 20)) < 0.4)
    return out, "synthetic MNIST-like images (zero outside a random 20 x 20 centre)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", help="IDX or .npz images (default: synthetic)")
    ap.add_argument("--blob", action="store_true", help="synthetic images with zero borders")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
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
    imgs, source = _images(args)
    X = np.ascontiguousarray(imgs.transpose(0, 2, 1))[..., None]
    print(f"{len(X)} images of {source}; f and {len(gs)} stored networks ({args.dataset})")
    t = time.perf_counter()
    image_errors(f, gs, X[:2], progress=False)  # numba: compile or load the cache
    print(f"first call of the fused path (numba compile or cache load): "
          f"{time.perf_counter() - t:.2f} s")
    load0 = os.getloadavg()
    wall: dict[str, list[float]] = {m: [] for m in args.methods}
    cpu: dict[str, list[float]] = {m: [] for m in args.methods}
    results = {}
    for _ in range(args.repeats):
        for method in args.methods:
            t, c = time.perf_counter(), time.process_time()
            results[method] = image_errors(f, gs, X, method=method, progress=False)
            wall[method].append(time.perf_counter() - t)
            cpu[method].append(time.process_time() - c)
    _report(args, X, f, gs, wall, cpu, results)
    print(f"load average {load0[0]:.2f} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
          f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})")
    return 0


def _report(args, X, f, gs, wall, cpu, results) -> None:
    """The table, the ratios and the differences beside their proven bound."""
    med = {m: statistics.median(ts) for m, ts in wall.items()}
    print(f"{'path':<10} | {'median s':>9} | {'CPU s':>7} | {'images/s':>9} | "
          f"{'70 000 images':>13}")
    for m, s in med.items():
        print(f"{m:<10} | {s:>9.3f} | {statistics.median(cpu[m]):>7.3f} | "
              f"{len(X) / s:>9.0f} | {70_000 * s / len(X):>11.1f} s")
    base = "reference" if "reference" in med else "batched"
    for m in med:
        if m != base:
            print(f"ratio {base} / {m}: {med[base] / med[m]:.2f} (medians of {args.repeats})")
    if base in results:
        ref0, num0 = results[base]
        bounds = figure_error_bounds(f, gs, ref0, num0, float(X.min()), float(X.max()))
        for m, (ref, num) in results.items():
            if m != base:
                rel = max(float(np.abs(num[n] / ref - num0[n] / ref0).max()) for n in NS)
                absd = max(float(np.abs(num[n] - num0[n]).max()) for n in NS)
                brel = 2 * max(float(bounds[n]["relative"].max()) for n in NS)
                babs = 2 * max(bounds[n]["absolute"] for n in NS)
                print(f"{m} vs {base}: largest difference of a per-image relative error "
                      f"{rel:.2e} (proven bound {brel:.2e}), absolute {absd:.2e} "
                      f"(bound {babs:.2e})")


if __name__ == "__main__":
    sys.exit(main())
