"""The paper's Figure 4 on real images: the relative output error of the authors'
RSS-approximated LeNet5 convolutional part, maximised over a dataset.

For each stored sample size n, ``f`` is the conv part with the trained weights and
``g_n`` the same with the authors' stored RSS approximations
(``lenet5-<ds>-RSS-n<n>-hInf.bson``).  Per image the relative error is
``max |f(X) - g_n(X)| / max |f(X)|`` over the 7 x 7 x 16 output; the figure is its
maximum over all images.  The authors' own normalisation (``main.jl``: every error
divided by the largest reference activation of the whole dataset) is reported beside
it.  Images are ``(N, 28, 28)`` in [0, 1]; the authors' arrays are Julia's
width-by-height, so each image is transposed to that layout.  Batched, with a
progress bar on a terminal.  ``method="fused"`` (the default) runs
:func:`~slth_check.experiment.conv_fused.fused_forward` (compiled im2col into a buffer per
batch, one single-threaded BLAS product per network and layer, compiled bias, ReLU and
pooling) on one batch per CPU in threads; ``"batched"`` runs
:func:`~slth_check.experiment.conv_batch.stacked_forward` (numpy im2col, BLAS);
``"reference"`` each network's :meth:`~slth_check.network.TargetCNN.forward`.  All are
float64 and agree to rounding: :func:`~slth_check.experiment.rounding.output_error_bound`
bounds, a priori, how far each output of any of them is from its exact value.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.experiment.conv_batch import stacked_forward
from slth_check.experiment.conv_fused import fused_forward, stack_weights
from slth_check.experiment.lenet import lenet_conv
from slth_check.experiment.rounding import figure_error_bounds
from slth_check.fileio.bson import load_cnnslth
from slth_check.network import TargetCNN
from slth_check.progress import progress_iter
from slth_check.rss.executors import check_workers, default_workers

#: Images per batch of each method (the batched path's temporaries stay near 20 MB, the
#: fused path's im2col buffer near 4 MB per thread: in cache).
BATCH = {"fused": 16, "batched": 64, "reference": 2000}
METHODS = tuple(BATCH)


def lenet_networks(artifacts: str | Path, dataset: str,
                   ns: tuple[int, ...]) -> tuple[TargetCNN, dict[int, TargetCNN]]:
    """The conv part of the authors' trained LeNet5 ``f`` and of their stored RSS
    approximations ``g_n`` (``lenet5-<ds>-RSS-n<n>-hInf.bson``)."""
    art = Path(artifacts)
    f = lenet_conv(load_cnnslth(art / f"lenet5-{dataset}.bson"))
    return f, {n: lenet_conv(load_cnnslth(art / f"lenet5-{dataset}-RSS-n{n}-hInf.bson"))
               for n in ns}


def _one_batch(nets: list[TargetCNN], Xb: np.ndarray, method: str,
               weights: Any) -> tuple[np.ndarray, np.ndarray]:
    """``max |f(X)|`` per image and ``max |f(X) - g(X)|`` per network g and image."""
    if method == "fused":
        outs = fused_forward(nets, Xb, weights=weights)
    elif method == "batched":
        outs = stacked_forward(nets, Xb)
    else:
        outs = [net.forward(Xb) for net in nets]
    F = outs[0].reshape(len(Xb), -1)
    return np.abs(F).max(axis=1), np.stack([np.abs(F - G.reshape(len(Xb), -1)).max(axis=1)
                                            for G in outs[1:]])


def _blas_single_thread() -> Any:
    """A context in which BLAS runs on one thread (threadpoolctl): the fused path runs one
    batch per CPU instead, and two levels of threads stall on a shared machine."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def image_errors(f: TargetCNN, gs: dict[int, TargetCNN], X: np.ndarray, *,
                 method: str = "fused", desc: str = "Figure 4", progress: bool | None = None,
                 workers: int | None = None) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Per image of ``X`` (N, D, D, c0): ``max |f(X)|`` and, per n, ``max |f(X) - g_n(X)|``.
    ``workers``: threads of the fused path (default: the CPUs, at most 4)."""
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    size, nets = BATCH[method], [f, *gs.values()]
    starts = range(0, len(X), size)
    workers = 1 if method != "fused" else (
        min(4, default_workers()) if workers is None else check_workers(workers, "workers"))
    ref, num = np.empty(len(X)), np.empty((len(gs), len(X)))
    weights = stack_weights(nets) if method == "fused" else None
    pool = ThreadPoolExecutor(workers)
    try:
        with _blas_single_thread() if method == "fused" else nullcontext():
            results = pool.map(lambda a: _one_batch(nets, X[a:a + size], method, weights),
                               starts)
            for a, (r, e) in zip(starts, progress_iter(results, desc=desc, total=len(starts),
                                                       enable=progress)):
                ref[a:a + size], num[:, a:a + size] = r, e
    finally:  # on an interrupt, drop the batches not started (do not wait for them)
        pool.shutdown(wait=True, cancel_futures=True)
    return ref, dict(zip(gs, num))


def _check_size(f: TargetCNN, D: int) -> None:
    """A ValueError naming ``images`` unless ``f`` has an output on D x D images
    (:func:`~slth_check.export.program.output_shape` walks the layers)."""
    from slth_check.export.program import network_ops, output_shape

    try:
        output_shape(network_ops(f, "f"), D, f.c0)
    except ValueError:
        raise ValueError(f"images: {D} x {D} images are too small for the networks (no "
                         "output; LeNet5 takes 28 x 28)") from None


def figure4_on_images(artifacts: str | Path, images: np.ndarray, dataset: str,
                      ns: tuple[int, ...] = (5, 10, 15, 20, 25, 30), *,
                      method: str = "fused",
                      progress: bool | None = None) -> list[dict[str, Any]]:
    """One row per n: the maximum over ``images`` of the per-image relative error and the
    image that attains it, the maximum absolute error and its image, and the authors'
    dataset-normalised maximum; each with a proven bound on its distance from the exact
    value (``rounding_bound_*``, :func:`~slth_check.experiment.rounding.figure_error_bounds`
    on the images' range)."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1] != images.shape[2] or not len(images):
        raise ValueError(f"images: expected square images (N, D, D), N >= 1, got shape "
                         f"{images.shape}")
    f, gs = lenet_networks(artifacts, dataset, ns)
    _check_size(f, images.shape[1])
    X = np.ascontiguousarray(np.asarray(images, dtype=np.float64).transpose(0, 2, 1))[..., None]
    ref, num = image_errors(f, gs, X, method=method, desc=f"Figure 4 ({dataset})",
                            progress=progress)
    ok = ref > 0  # where f(X) = 0 the relative error is inf (0 where g(X) = 0 too), not 0
    bounds = figure_error_bounds(f, gs, ref, num, float(X.min(initial=0.0)),
                                 float(X.max(initial=0.0)))
    rows = []
    for n in ns:
        rel = np.where(ok, num[n] / np.where(ok, ref, 1.0), np.where(num[n] > 0, np.inf, 0.0))
        i, j = int(np.argmax(rel)), int(np.argmax(num[n]))
        rows.append({"dataset": dataset, "n": n, "images": int(len(X)),
                     "max_relative_error": float(rel[i]), "argmax_image": i,
                     "max_absolute_error": float(num[n][j]), "argmax_absolute_image": j,
                     "max_reference_activation": float(ref.max()),
                     "authors_normalisation": float(num[n].max() / ref.max())
                     if ref.max() > 0 else float("nan"),
                     "rounding_bound_relative": float(bounds[n]["relative"].max(initial=0.0)),
                     "rounding_bound_absolute": bounds[n]["absolute"],
                     "rounding_bound_authors": bounds[n]["authors"]})
    return rows


__all__ = ["BATCH", "METHODS", "figure4_on_images", "image_errors", "lenet_networks"]
