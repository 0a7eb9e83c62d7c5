"""Small random pairs (target CNN f, pruned CNN g) for cross-checks against other tools.

:func:`small_pair` draws, from one seed, a target of Theorem 1's class F (every kernel
scaled so that ``||K||_1 <= 1``, :func:`~slth_check.network.scale_into_class`) with one or
two layers, the given padding mode and pooling after the first layer, and a pruned
network g for it: either Theorem 1's construction (:func:`~slth_check.construction.build_network`,
a linearisable g) or random pairs (U, V) with Bernoulli masks (kept U of both signs,
so g's hidden ReLUs matter).  Sizes stay small (``D <= 5``, ``d <= 3``, two channels at
most) so that exact replays and complete verifiers finish in seconds.
"""

from __future__ import annotations

import numpy as np

from slth_check.construction import build_network
from slth_check.conv import Padding, Pool
from slth_check.export.program import network_ops, output_shape
from slth_check.network import ConvLayer, TargetCNN, scale_into_class
from slth_check.pruned import PrunedCNN, PrunedLayer

__all__ = ["small_pair"]


def _random_pruned(target: TargetCNN, rng: np.random.Generator) -> PrunedCNN:
    """Random (U, V), biases and masks (each entry kept with probability 1/2)."""
    layers = []
    for L in target.layers:
        n = int(rng.integers(L.c1, L.c1 + 3))
        U = rng.uniform(-1, 1, (L.d, L.d, L.c0, n)) / (L.d * L.d * L.c0)
        V = rng.uniform(-1, 1, (1, 1, n, L.c1)) / 2
        Ub = Sb = None
        if L.bias is not None:
            Ub, Sb = rng.uniform(-.5, .5, n), rng.random(n) < .5
        layers.append(PrunedLayer(U, V, rng.random(U.shape) < .5, rng.random(V.shape) < .5,
                                  Ub, Sb, padding=L.padding, stride=L.stride, pool=L.pool))
    return PrunedCNN(layers, final_relu=target.final_relu)


def _target(rng: np.random.Generator, padding: Padding, pool: Pool | None,
            D: int) -> TargetCNN:
    ell = int(rng.integers(1, 3))
    c = [int(rng.integers(1, 3)) for _ in range(ell + 1)]
    layers = []
    for i in range(ell):
        d = int(rng.integers(1, 4))
        K = scale_into_class(rng.uniform(-1, 1, (d, d, c[i], c[i + 1])))
        bias = rng.uniform(-.2, .2, c[i + 1]) if rng.random() < .5 else None
        layers.append(ConvLayer(K, bias=bias, padding=padding,
                                stride=2 if i == 0 and rng.random() < .2 else 1,
                                pool=pool if i == 0 else None))
    return TargetCNN(layers, final_relu=bool(rng.random() < .25))


def small_pair(seed: int, padding: Padding = "paper", pool: Pool | None = None
               ) -> tuple[TargetCNN, PrunedCNN, int]:
    """``(f, g, D)``: a random small pair (module docs) with ``padding`` and, after the
    first layer, ``pool``; deterministic in ``seed``.  Draws until the layers fit on
    the D x D input (a ``valid`` kernel larger than its map, a pooling of a 1 x 1 map
    are drawn again)."""
    rng = np.random.default_rng(seed)
    while True:
        D = int(rng.integers(3, 6))
        target = _target(rng, padding, pool, D)
        try:
            output_shape(network_ops(target, "f"), D, target.c0)
        except ValueError:
            continue
        break
    if rng.random() < .5:
        pruned = build_network(target, n=[L.c1 + 2 for L in target.layers],
                               rng=int(rng.integers(2**31)))
    else:
        pruned = _random_pruned(target, rng)
    return target, pruned, D
