"""The sparsest pruned network of an ``approximate`` run: per weight the fewest of its own
samples within eps (:func:`slth_check.rss.sparsest.sparsest`), and the density."""

from __future__ import annotations

from typing import Any

import numpy as np

from slth_check.experiment.sampling import samples, tensor_key
from slth_check.rss.sparsest import sparsest


def sparsest_density(targets: Any, n: int, seed: int, eps: float) -> dict[str, Any]:
    """The sparsest pruned network within ``eps`` per weight: for each target, the least
    ``k`` over the very samples ``approximate --seed SEED`` draws for it (tensor ``t`` of a
    list of flat tensors, or tensor 0 for one array:
    :func:`slth_check.experiment.sampling.samples`); the density is the total of kept
    samples over ``n`` per weight.  Weights with no subset within eps are counted apart."""
    tensors = [np.asarray(T, dtype=np.float64).ravel() for T in
               (targets if isinstance(targets, (list, tuple)) else [targets])]
    ks: list[int] = []
    infeasible = unknown = weights = 0
    for t_index, T in enumerate(tensors):
        V = samples(tensor_key(seed, t_index), 0, T.size, n)
        weights += T.size
        for row, t in zip(V, T):
            r = sparsest(row, float(t), eps)
            if r.status == "optimal" and r.k is not None:
                ks.append(r.k)
            elif r.status == "infeasible":
                infeasible += 1
            else:
                unknown += 1
    kept = int(np.sum(ks))
    return {"weights": weights, "n": n, "eps": eps, "kept": kept,
            "density": kept / (n * weights) if weights else 0.0,
            "mean_k": float(np.mean(ks)) if ks else None, "max_k": max(ks) if ks else None,
            "infeasible": infeasible, "unknown": unknown}


__all__ = ["sparsest_density"]
