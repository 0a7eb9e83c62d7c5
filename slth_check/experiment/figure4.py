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
progress bar on a terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from slth_check.experiment.lenet import lenet_conv
from slth_check.fileio.bson import load_cnnslth
from slth_check.progress import progress_iter

BATCH = 2000


def figure4_on_images(artifacts: str | Path, images: np.ndarray, dataset: str,
                      ns: tuple[int, ...] = (5, 10, 15, 20, 25, 30), *,
                      progress: bool | None = None) -> list[dict[str, Any]]:
    """One row per n: the maximum over ``images`` of the per-image relative error, the
    authors' dataset-normalised maximum, and the image that attains the first."""
    art = Path(artifacts)
    f = lenet_conv(load_cnnslth(art / f"lenet5-{dataset}.bson"))
    gs = {n: lenet_conv(load_cnnslth(art / f"lenet5-{dataset}-RSS-n{n}-hInf.bson"))
          for n in ns}
    X = np.ascontiguousarray(np.asarray(images, dtype=np.float64).transpose(0, 2, 1))[..., None]
    num = {n: np.empty(len(X)) for n in ns}
    ref = np.empty(len(X))
    for a in progress_iter(range(0, len(X), BATCH), desc=f"Figure 4 ({dataset})",
                           total=-(-len(X) // BATCH), enable=progress):
        F = f.forward(X[a:a + BATCH]).reshape(min(BATCH, len(X) - a), -1)
        ref[a:a + BATCH] = np.abs(F).max(axis=1)
        for n, g in gs.items():
            G = g.forward(X[a:a + BATCH]).reshape(len(F), -1)
            num[n][a:a + BATCH] = np.abs(F - G).max(axis=1)
    ok = ref > 0
    rows = []
    for n in ns:
        rel = np.where(ok, num[n] / np.where(ok, ref, 1.0), 0.0)
        i = int(np.argmax(rel))
        rows.append({"dataset": dataset, "n": n, "images": int(len(X)),
                     "max_relative_error": float(rel[i]), "argmax_image": i,
                     "authors_normalisation": float(num[n].max() / ref.max())
                     if ref.max() > 0 else float("nan")})
    return rows


__all__ = ["BATCH", "figure4_on_images"]
