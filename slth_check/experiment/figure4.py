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
progress bar on a terminal: by default all seven networks go through
:func:`~slth_check.experiment.conv_batch.stacked_forward` (im2col and one BLAS product
per layer); ``method="reference"`` runs each network's
:meth:`~slth_check.network.TargetCNN.forward` instead (the two agree to rounding).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from slth_check.experiment.conv_batch import stacked_forward
from slth_check.experiment.lenet import lenet_conv
from slth_check.fileio.bson import load_cnnslth
from slth_check.network import TargetCNN
from slth_check.progress import progress_iter

#: Images per batch of the batched path (its temporaries stay near 20 MB).
BATCH = 64
#: Images per batch of the reference path.
REFERENCE_BATCH = 2000
METHODS = ("batched", "reference")


def lenet_networks(artifacts: str | Path, dataset: str,
                   ns: tuple[int, ...]) -> tuple[TargetCNN, dict[int, TargetCNN]]:
    """The conv part of the authors' trained LeNet5 ``f`` and of their stored RSS
    approximations ``g_n`` (``lenet5-<ds>-RSS-n<n>-hInf.bson``)."""
    art = Path(artifacts)
    f = lenet_conv(load_cnnslth(art / f"lenet5-{dataset}.bson"))
    return f, {n: lenet_conv(load_cnnslth(art / f"lenet5-{dataset}-RSS-n{n}-hInf.bson"))
               for n in ns}


def image_errors(f: TargetCNN, gs: dict[int, TargetCNN], X: np.ndarray, *,
                 method: str = "batched", desc: str = "Figure 4",
                 progress: bool | None = None) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Per image of ``X`` (N, D, D, c0): ``max |f(X)|`` and, per n, ``max |f(X) - g_n(X)|``."""
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    size = BATCH if method == "batched" else REFERENCE_BATCH
    num = {n: np.empty(len(X)) for n in gs}
    ref = np.empty(len(X))
    for a in progress_iter(range(0, len(X), size), desc=desc, total=-(-len(X) // size),
                           enable=progress):
        Xb = X[a:a + size]
        outs = stacked_forward([f, *gs.values()], Xb) if method == "batched" \
            else [net.forward(Xb) for net in (f, *gs.values())]
        F = outs[0].reshape(len(Xb), -1)
        ref[a:a + size] = np.abs(F).max(axis=1)
        for n, G in zip(gs, outs[1:]):
            num[n][a:a + size] = np.abs(F - G.reshape(len(Xb), -1)).max(axis=1)
    return ref, num


def figure4_on_images(artifacts: str | Path, images: np.ndarray, dataset: str,
                      ns: tuple[int, ...] = (5, 10, 15, 20, 25, 30), *,
                      method: str = "batched",
                      progress: bool | None = None) -> list[dict[str, Any]]:
    """One row per n: the maximum over ``images`` of the per-image relative error and the
    image that attains it, the maximum absolute error and its image, and the authors'
    dataset-normalised maximum."""
    f, gs = lenet_networks(artifacts, dataset, ns)
    X = np.ascontiguousarray(np.asarray(images, dtype=np.float64).transpose(0, 2, 1))[..., None]
    ref, num = image_errors(f, gs, X, method=method, desc=f"Figure 4 ({dataset})",
                            progress=progress)
    ok = ref > 0
    rows = []
    for n in ns:
        rel = np.where(ok, num[n] / np.where(ok, ref, 1.0), 0.0)
        i, j = int(np.argmax(rel)), int(np.argmax(num[n]))
        rows.append({"dataset": dataset, "n": n, "images": int(len(X)),
                     "max_relative_error": float(rel[i]), "argmax_image": i,
                     "max_absolute_error": float(num[n][j]), "argmax_absolute_image": j,
                     "max_reference_activation": float(ref.max()),
                     "authors_normalisation": float(num[n].max() / ref.max())
                     if ref.max() > 0 else float("nan")})
    return rows


__all__ = ["BATCH", "METHODS", "figure4_on_images", "image_errors", "lenet_networks"]
