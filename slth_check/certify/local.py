"""Per-output sub-problems of a two-layer network, shared by translation invariance.

An entry ``o`` of the output of ``f`` and ``g`` reads only its *receptive field*:
the layer-2 neurons its pooling window holds, the layer-1 pooled units those
read, and the input pixels under them.  Restricted to that field the error
``(f - g)(X)_o`` is a function of a few hundred inputs in ``[0, 1]``, and every
output whose restricted problem has the *same data* (same weights, biases and
layout, compared byte for byte) has the same supremum: interior outputs of a
channel all compute the same function of their window, so one search serves a
whole class (:func:`window_classes`).  The padding makes the border classes.

:func:`window_search` is an iterated local search over the vertices of the
field's box for one class and sign, in float64 on g's float effective kernels
(a *model*: nothing here is a bound; candidates go to the exact replay of
:func:`~slth_check.certify.exact.exact_error`).  Its objective for max pooling and
a final ReLU is ``min(F, F - G)`` (sign +1; ``F, G`` the pre-ReLU window maxima of
f and g), equal to ``relu(F) - relu(G)`` when ``F > 0`` and below it otherwise, so
the search has a slope where both ReLUs are off.  Flips are evaluated
incrementally (a flip of pixel i moves layer 1 by the column i of its matrix).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from slth_check.certify.interval import effective_enclosure
from slth_check.certify.linear import conv_matrix
from slth_check.certify.relax import two_layer_sizes, unit_groups
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

__all__ = ["Window", "window", "window_classes", "window_model", "window_outputs",
           "window_search"]


@dataclass
class Window:
    """The restricted problem of one output entry ``o``: inputs ``inp`` (flat indices),
    layer-1 pre-activations ``A X + a`` of f and g (rows grouped by pooled unit),
    layer-2 window rows ``W p + b``, the pools and whether the last ReLU is on."""

    o: int
    inp: np.ndarray
    A: tuple[np.ndarray, np.ndarray]
    a: tuple[np.ndarray, np.ndarray]
    W: tuple[np.ndarray, np.ndarray]
    b: tuple[np.ndarray, np.ndarray]
    pools: tuple[str | None, str | None]
    group: int
    final_relu: bool

    def key(self) -> str:
        """Digest of the problem's data: equal keys, equal restricted problems."""
        h = hashlib.sha256()
        for arr in (*self.A, *self.a, *self.W, *self.b):
            h.update(np.ascontiguousarray(arr).tobytes())
            h.update(str(arr.shape).encode())
        h.update(repr((self.pools, self.group, self.final_relu)).encode())
        return h.hexdigest()


def window_model(target: TargetCNN, pruned: PrunedCNN, D: int) -> dict[str, Any]:
    """Sparse float matrices of both networks (g through its float effective kernels)."""
    if target.ell != 2:
        raise ValueError(f"target: per-output windows handle two layers, not {target.ell}")
    if not pruned.linearisable():
        raise ValueError("pruned: per-output windows need a linearisable pruned network")
    K1, K2 = target.layers
    (L1, _, g1, _), (L2, _, g2, _) = (effective_enclosure(P) for P in pruned.layers)
    P1, D2, Q2 = two_layer_sizes(target, D)

    def bias(b: np.ndarray | None, n: int, c: int) -> np.ndarray:
        return np.zeros(n * n * c) if b is None else np.tile(b, n * n)

    return {"M1": [conv_matrix(W, D, K1.padding, K1.stride) for W in (K1.K, L1)],
            "M2": [conv_matrix(W, D2, K2.padding, K2.stride) for W in (K2.K, L2)],
            "b1": [bias(b, P1, K1.c1) for b in (K1.bias, g1)],
            "b2": [bias(b, Q2, K2.c1) for b in (K2.bias, g2)],
            "g1": unit_groups(P1, K1.c1, K1.pool), "g2": unit_groups(Q2, K2.c1, K2.pool),
            "pools": (K1.pool, K2.pool), "final_relu": target.final_relu}


def _receptive_field(model: dict[str, Any], o: int) -> tuple[Any, ...]:
    """What output entry ``o`` reads: its pooled layer-2 rows ``ks`` (sparse ``M2``), the
    layer-1 ``units`` they use, those units' rows (sparse ``M1``) and the input pixels
    ``inp`` (shared by :func:`window` and the class digest)."""
    ks = model["g2"][o]
    M2 = [M[ks] for M in model["M2"]]
    units = np.union1d(*(M.indices for M in M2))
    rows = model["g1"][units].ravel()
    M1 = [M[rows] for M in model["M1"]]
    inp = np.union1d(*(M.indices for M in M1))
    return ks, M2, units, rows, M1, inp


def window(model: dict[str, Any], o: int) -> Window:
    """The restricted problem of output entry ``o`` (flat index into f's output)."""
    ks, M2, units, rows, M1, inp = _receptive_field(model, o)
    return Window(o, inp, tuple(M[:, inp].toarray() for M in M1),
                  tuple(b[rows] for b in model["b1"]),
                  tuple(M[:, units].toarray() for M in M2),
                  tuple(b[ks] for b in model["b2"]), model["pools"],
                  model["g1"].shape[1], model["final_relu"])


def _sparse_bytes(M: Any) -> list[bytes] | None:
    """The nonzero entries of a sparse matrix as (row, column, value) bytes in row-major
    order: equal for two matrices of one shape exactly when their dense arrays are equal
    byte for byte (``toarray`` adds each stored entry to +0.0, so a stored -0.0 is +0.0
    there too).  None when duplicates are stored."""
    M = M.tocsr()
    M.sort_indices()
    if not M.has_canonical_format:  # pragma: no cover - conv_matrix stores no duplicates
        return None
    keep = M.data != 0
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    return [str(int(keep.sum())).encode(), rows[keep].tobytes(),
            M.indices[keep].astype(np.int64).tobytes(), M.data[keep].tobytes()]


def _signature(model: dict[str, Any], o: int) -> str:
    """A digest equal for two outputs exactly when their :class:`Window` data are (what
    :meth:`Window.key` digests), from the sparse layer-1 rows: no dense window built."""
    ks, M2, units, rows, M1, inp = _receptive_field(model, o)
    h = hashlib.sha256(repr((model["pools"], model["g1"].shape[1], model["final_relu"],
                             rows.size, inp.size, units.size, ks.size)).encode())
    for M in M1:
        parts = _sparse_bytes(M[:, inp])
        for part in parts if parts is not None else [M[:, inp].toarray().tobytes()]:
            h.update(part)
    for arr in (*(b[rows] for b in model["b1"]), *(M[:, units].toarray() for M in M2),
                *(b[ks] for b in model["b2"])):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def window_classes(model: dict[str, Any]) -> dict[str, list[int]]:
    """Output entries grouped by identical restricted problems (translation invariance),
    in the order of their first entries; keyed by a digest of the problem's data
    (layer 1's rows digested sparse: hashing every dense window cost a minute on LeNet5)."""
    out: dict[str, list[int]] = {}
    for o in range(model["g2"].shape[0]):
        out.setdefault(_signature(model, o), []).append(o)
    return out


def _pool(Z: np.ndarray, pool: str | None, size: int) -> np.ndarray:
    Z = Z.reshape(-1, size, Z.shape[-1])
    return Z.mean(axis=1) if pool == "avg" else Z.max(axis=1)


def _layer2(w: Window, Z: tuple[np.ndarray, np.ndarray]) -> list[np.ndarray]:
    """f's and g's layer-2 pre-activations of the window rows, per column, from layer
    1's pre-activations ``Z``."""
    return [W @ _pool(np.maximum(Zi, 0.0), w.pools[0], w.group) + b[:, None]
            for Zi, W, b in zip(Z, w.W, w.b)]


def window_outputs(w: Window, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Output entry ``w.o`` of f and of g (float64 model) for local inputs ``x``
    (columns, or one vector): the restricted problem evaluated as the networks do."""
    x = np.asarray(x, dtype=float)
    cols = x.reshape(x.shape[0], -1)
    out = []
    for A2 in _layer2(w, tuple(A @ cols + a[:, None] for A, a in zip(w.A, w.a))):
        if w.final_relu:
            A2 = np.maximum(A2, 0.0)
        out.append(A2.mean(axis=0) if w.pools[1] == "avg" else A2.max(axis=0))
    return out[0], out[1]


def _objective(w: Window, Z: tuple[np.ndarray, np.ndarray], s: float) -> np.ndarray:
    """The search objective per column from layer 1's pre-activations ``Z`` (f, g)."""
    last = _layer2(w, Z)
    F, G = (last[0], last[1]) if s > 0 else (last[1], last[0])
    if w.pools[1] == "avg":
        if w.final_relu:
            F, G = np.maximum(F, 0.0), np.maximum(G, 0.0)
        return F.mean(axis=0) - G.mean(axis=0)
    F, G = F.max(axis=0), G.max(axis=0)  # max pooling, or a window of one
    return np.minimum(F, F - G) if w.final_relu else F - G


def _climb(w: Window, x: np.ndarray, s: float, rounds: int) -> tuple[np.ndarray, float]:
    """Best-improvement single flips until none improves (or ``rounds`` run out)."""
    Z = [A @ x + a for A, a in zip(w.A, w.a)]
    v = float(_objective(w, tuple(z[:, None] for z in Z), s)[0])
    for _ in range(rounds):
        step = 1.0 - 2.0 * x  # the change of each pixel when flipped
        vals = _objective(w, tuple(z[:, None] + A * step[None, :]
                                   for z, A in zip(Z, w.A)), s)
        j = int(np.argmax(vals))
        if vals[j] <= v:
            break
        x = x.copy()
        x[j] = 1.0 - x[j]
        Z = [z + A[:, j] * step[j] for z, A in zip(Z, w.A)]
        v = float(vals[j])
    return x, v


def window_search(w: Window, s: float, *, seconds: float, rng: Any = 0,
                  starts: list[np.ndarray] | None = None, restarts: int = 4,
                  rounds: int = 400, kicks: int | None = None) -> tuple[np.ndarray, float]:
    """Iterated local search on the vertices of ``w``'s field for sign ``s``.

    Random restarts (densities drawn uniformly), each climbed by best single flips;
    then, until ``seconds`` have passed, a random 1-8 % of the field of the best
    vertex is flipped and climbed again, kept when not worse.  With ``kicks`` the
    work is fixed instead (every restart, then ``kicks`` perturbations, whatever
    the time: the same answer on any machine).  Returns the best
    local input and its float objective (a model value, not a bound).
    """
    gen = np.random.default_rng(rng)
    t_end = time.perf_counter() + seconds
    n = w.inp.size
    inits = [np.asarray(x, dtype=float) for x in (starts or [])]
    inits += [(gen.random(n) < gen.random()).astype(float) for _ in range(restarts)]
    best_x, best_v = np.zeros(n), -np.inf
    for x in inits:
        x, v = _climb(w, x, s, rounds)
        if v > best_v:
            best_x, best_v = x, v
        if kicks is None and time.perf_counter() > t_end:
            break
    x, v = best_x, best_v
    done = 0
    while (time.perf_counter() < t_end) if kicks is None else (done < kicks):
        done += 1
        y = x.copy()
        flip = gen.choice(n, size=int(gen.integers(1, max(2, n // 12))), replace=False)
        y[flip] = 1.0 - y[flip]
        y, u = _climb(w, y, s, rounds)
        if u >= v:
            x, v = y, u
    return x, float(v)
