"""Lower bounds by search: candidates found in float64, every one replayed exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..network import PrunedCNN, TargetCNN
from .exact import rounded_effective_network


def _float_errors(target: TargetCNN, g_net, Xb: np.ndarray) -> np.ndarray:
    diff = target.forward(Xb) - g_net.forward(Xb)
    return np.abs(diff).reshape(len(Xb), -1).max(axis=1)


def search_lower(target: TargetCNN, pruned: PrunedCNN, D: int, *, rng: Any = 0,
                 restarts: int = 4, max_rounds: int = 20,
                 starts: list[np.ndarray] | None = None) -> np.ndarray:
    """Greedy local search over the vertices of [0, 1]^{D x D x c0} (float64).

    Each round evaluates every single-coordinate flip in one batch and moves
    to the best; returns the best input found (to be replayed exactly).
    """
    gen = np.random.default_rng(rng)
    g_net = rounded_effective_network(pruned) if pruned.linearisable() else pruned
    c0 = target.c0
    cands = list(starts or []) + [np.zeros((D, D, c0)), np.ones((D, D, c0))]
    cands += [(gen.random((D, D, c0)) < 0.5).astype(float) for _ in range(restarts)]
    best_X, best_v = None, -1.0
    nvar = D * D * c0
    eye = np.eye(nvar, dtype=bool).reshape(nvar, D, D, c0)
    for X in cands:
        v = float(_float_errors(target, g_net, X[None])[0])
        for _ in range(max_rounds):
            flips = np.where(eye, 1.0 - X[None], X[None])
            vals = _float_errors(target, g_net, flips)
            j = int(np.argmax(vals))
            if vals[j] <= v:
                break
            X, v = flips[j], float(vals[j])
        if v > best_v:
            best_X, best_v = X, v
    return best_X


def vertex_candidates(X: np.ndarray) -> list[np.ndarray]:
    """The witness and, when it is within 1e-6 of a vertex, the vertex itself."""
    out = [X]
    R = np.round(X)
    if np.max(np.abs(R - X)) < 1e-6:
        out.append(R)
    return out
