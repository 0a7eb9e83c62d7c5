"""The forward passes of f and g as a flat list of primitive operations.

:class:`~slth_check.network.TargetCNN` and :class:`~slth_check.network.PrunedCNN`
compute, per layer, convolutions (Definition 1) with biases, the ReLU (every layer
but the last, unless ``final_relu``) and an optional 2x2 pooling
(:meth:`LayeredCNN._forward`); an emulated layer of g is
``(V . T) * sigma((U . S) * X + Ub . Sb)`` (Eq. 1-2 of Lemma 1,
:meth:`PrunedCNN._pre`).  :func:`network_ops` spells that out as
:class:`Conv`, :class:`Relu` and :class:`Pool` steps, read from the layers'
attributes, so that every exporter (the ONNX graph, the float32 error bound) walks
one description.  :func:`run_ops` evaluates it with :func:`slth_check.conv.conv2d`;
a test checks that it reproduces ``forward`` bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slth_check.conv import Padding, Pool, conv2d, output_size, pool2d, relu
from slth_check.network import LayeredCNN, TargetCNN
from slth_check.pruned import PrunedCNN


@dataclass(frozen=True)
class Conv:
    """``conv2d(W, X, padding, stride) + b``: W in the paper's layout (d, d, c_in, c_out)."""

    W: np.ndarray
    b: np.ndarray | None
    padding: Padding
    stride: int
    name: str


@dataclass(frozen=True)
class Relu:
    """The ReLU ``sigma(x) = max(0, x)``."""


@dataclass(frozen=True)
class Pool2:
    """2x2 non-overlapping pooling (stride 2, floor mode), ``max`` or ``avg``."""

    kind: Pool


Op = Conv | Relu | Pool2


def _last_relu(net: LayeredCNN, i: int) -> bool:
    return i < len(net.layers) - 1 or net.final_relu


def network_ops(net: TargetCNN | PrunedCNN, prefix: str) -> list[Op]:
    """The forward pass of ``net`` as primitive steps (module docs).

    ``prefix`` names the convolutions (``f`` gives ``f.K1``; ``g`` gives ``g.U1`` and
    ``g.V1``): the masks are applied (``np.where(S, U, 0)``, as :class:`PrunedCNN`
    does) and the kept random biases ``Ub . Sb`` added after ``U``.
    """
    convs: list[list[Op]]
    if isinstance(net, TargetCNN):
        convs = [[Conv(L.K, L.bias, L.padding, L.stride, f"{prefix}.K{i}")]
                 for i, L in enumerate(net.layers, 1)]
    elif isinstance(net, PrunedCNN):
        convs = [[Conv(np.where(L.S, L.U, 0.0), L.kept_bias(), L.padding, L.stride,
                       f"{prefix}.U{i}"), Relu(),
                  Conv(np.where(L.T, L.V, 0.0), None, "paper", 1, f"{prefix}.V{i}")]
                 for i, L in enumerate(net.layers, 1)]
    else:
        raise TypeError(f"net: expected a TargetCNN or a PrunedCNN, got {type(net).__name__}")
    ops: list[Op] = []
    pools: list[Pool | None] = [L.pool for L in net.layers]
    for i, (pre, pool) in enumerate(zip(convs, pools)):
        ops += pre
        if _last_relu(net, i):
            ops.append(Relu())
        if pool is not None:
            ops.append(Pool2(pool))
    return ops


def output_shape(ops: list[Op], D: int, c0: int) -> tuple[int, int]:
    """``(P, c)``: the spatial size and channels after ``ops`` on a (D, D, c0) input.

    Raises a ValueError naming ``D`` when a step has no output (a ``valid``
    convolution larger than its input, a pooling of a 1 x 1 map)."""
    P, c = D, c0
    for op in ops:
        if isinstance(op, Conv):
            d = op.W.shape[0]
            if op.padding == "valid" and P < d:
                raise ValueError(f"D: {op.name} ({d} x {d}, padding 'valid') meets a {P} x "
                                 f"{P} map; give a larger --D")
            P, c = output_size(P, d, op.padding, op.stride), op.W.shape[3]
        elif isinstance(op, Pool2):
            if P < 2:
                raise ValueError(f"D: a 2x2 {op.kind} pooling meets a {P} x {P} map; give a "
                                 f"larger --D")
            P //= 2
    return P, c


def run_ops(ops: list[Op], X: np.ndarray) -> np.ndarray:
    """Evaluate ``ops`` in float64 on X of shape (D, D, c0) or (N, D, D, c0)."""
    for op in ops:
        if isinstance(op, Conv):
            X = conv2d(op.W, X, padding=op.padding, stride=op.stride)
            if op.b is not None:
                X = X + op.b
        elif isinstance(op, Relu):
            X = relu(X)
        else:
            X = pool2d(X, op.kind)
    return X
