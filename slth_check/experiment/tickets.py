"""The sparsest pruned network of an ``approximate`` run: per weight the fewest of its own
samples within eps (:func:`slth_check.rss.sparsest.sparsest`), and the density, per tensor
and over the network (issue 22, point 5)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from slth_check.experiment.sampling import samples, tensor_key
from slth_check.rss.sparsest import sparsest


def _summary(ks: list[int], weights: int, n: int, infeasible: int,
             unknown: int) -> dict[str, Any]:
    kept = int(np.sum(ks))
    return {"weights": weights, "kept": kept,
            "density": kept / (n * weights) if weights else 0.0,
            "mean_k": float(np.mean(ks)) if ks else None, "max_k": max(ks) if ks else None,
            "infeasible": infeasible, "unknown": unknown}


def sparsest_density(targets: Any, n: int, seed: int, eps: float,
                     laws: Sequence[Any] | None = None) -> dict[str, Any]:
    """The sparsest pruned network within ``eps`` per weight: for each target, the least
    ``k`` over the very samples ``approximate --seed SEED`` draws for it (tensor ``t`` of a
    list of flat tensors, or tensor 0 for one array:
    :func:`slth_check.experiment.sampling.samples`, mapped through ``laws[t]``, a
    :func:`slth_check.experiment.laws.law_spec`, when given); the density is the total of
    kept samples over ``n`` per weight, per tensor (``tensors``) and overall.  Weights with
    no subset within eps (``infeasible``) or undecided (``unknown``) keep nothing and are
    counted apart."""
    from slth_check.experiment.laws import apply_spec

    tensors = [np.asarray(T, dtype=np.float64).ravel() for T in
               (targets if isinstance(targets, (list, tuple)) else [targets])]
    all_ks: list[int] = []
    per = []
    for t_index, T in enumerate(tensors):
        V = apply_spec(samples(tensor_key(seed, t_index), 0, T.size, n),
                       None if laws is None else laws[t_index])
        ks: list[int] = []
        infeasible = unknown = 0
        for row, t in zip(V, T):
            r = sparsest(row, float(t), eps)
            if r.status == "optimal" and r.k is not None:
                ks.append(r.k)
            elif r.status == "infeasible":
                infeasible += 1
            else:
                unknown += 1
        per.append(_summary(ks, T.size, n, infeasible, unknown))
        all_ks += ks
    total = _summary(all_ks, sum(p["weights"] for p in per), n,
                     sum(p["infeasible"] for p in per), sum(p["unknown"] for p in per))
    return {**total, "n": n, "eps": eps, "tensors": per}


__all__ = ["sparsest_density"]
