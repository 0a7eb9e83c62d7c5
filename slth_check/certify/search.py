"""Lower bounds by search: candidates found in float64, every one replayed exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from slth_check.certify.exact import rounded_effective_network
from slth_check.network import ConvLayer, TargetCNN
from slth_check.pruned import PrunedCNN


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
    assert best_X is not None  # the candidates are never empty
    return best_X


def vertex_candidates(X: np.ndarray) -> list[np.ndarray]:
    """The witness and, when it is within 1e-6 of a vertex, the vertex itself."""
    out = [X]
    R = np.round(X)
    if np.max(np.abs(R - X)) < 1e-6:
        out.append(R)
    return out


# ------------------------------------------------- gradient and flip search on one output

def _sparse_model(net: TargetCNN, D: int) -> list[dict[str, Any]]:
    """The float network as sparse conv matrices, biases, ReLU flags and pooling windows."""
    from slth_check.certify.linear import conv_matrix, pool_groups
    from slth_check.conv import output_size

    layers, size = [], D
    for i, L in enumerate(net.layers):
        M = conv_matrix(L.K, size, L.padding, L.stride)
        P = output_size(size, L.d, L.padding, L.stride)
        b = np.zeros(M.shape[0]) if L.bias is None else np.tile(L.bias, P * P)
        grp = pool_groups(P, L.c1) if L.pool is not None else None
        layers.append({"M": M, "MT": M.T.tocsr(), "b": b, "pool": L.pool, "groups": grp,
                       "relu": i < net.ell - 1 or net.final_relu})
        size = P // 2 if L.pool is not None else P
    return layers


def _model_forward(model: list[dict[str, Any]], Z: np.ndarray) -> tuple[np.ndarray, list]:
    """Forward pass of columns ``Z`` (n_in, B); returns outputs and the active patterns."""
    caches = []
    for L in model:
        A = L["M"] @ Z + L["b"][:, None]
        mask = A > 0 if L["relu"] else None
        if mask is not None:
            A = np.where(mask, A, 0.0)
        idx = None
        if L["pool"] == "max":
            G = A[L["groups"]]
            idx = np.argmax(G, axis=1)
            A = np.take_along_axis(G, idx[:, None], axis=1)[:, 0]
        elif L["pool"] == "avg":
            A = A[L["groups"]].mean(axis=1)
        caches.append((mask, idx))
        Z = A
    return Z, caches


def _model_grad(model: list[dict[str, Any]], caches: list, col: int, out: int) -> np.ndarray:
    """Gradient of output ``out`` of column ``col`` w.r.t. the input: the linear map of
    the active pattern (ReLU masks, max-pooling argmaxes), back-propagated."""
    v = np.zeros(model[-1]["M"].shape[0] if model[-1]["groups"] is None
                 else model[-1]["groups"].shape[0])
    v[out] = 1.0
    for L, (mask, idx) in zip(reversed(model), reversed(caches)):
        if L["groups"] is not None:
            u = np.zeros(L["M"].shape[0])
            if L["pool"] == "max":
                np.add.at(u, L["groups"][np.arange(len(v)), idx[:, col]], v)
            else:
                np.add.at(u, L["groups"], (v / L["groups"].shape[1])[:, None])
            v = u
        if mask is not None:
            v = v * mask[:, col]
        v = L["MT"] @ v
    return v


def _receptive(model: list[dict[str, Any]], out: int) -> np.ndarray:
    """Input coordinates that output ``out`` can depend on."""
    v = np.zeros(model[-1]["groups"].shape[0] if model[-1]["groups"] is not None
                 else model[-1]["M"].shape[0], dtype=bool)
    v[out] = True
    for L in reversed(model):
        if L["groups"] is not None:
            u = np.zeros(L["M"].shape[0], dtype=bool)
            u[L["groups"][v].ravel()] = True
            v = u
        v = (abs(L["MT"]) @ v.astype(float)) > 0
    return np.nonzero(v)[0]


def _ascend(err: Any, mf: list, mg: list, X: np.ndarray, o: int, s: float,
            steps: int) -> tuple[np.ndarray, float]:
    """Projected gradient steps on ``s (f - g)[o]``: towards the box vertex the
    gradient of the active pattern points to, or part of the way."""
    E, cf, cg = err(X[:, None])
    v = float(s * E[o, 0])
    for _ in range(steps):
        gr = s * (_model_grad(mf, cf, 0, o) - _model_grad(mg, cg, 0, o))
        tgt = np.where(gr > 0, 1.0, np.where(gr < 0, 0.0, X))
        cands = np.stack([X + t * (tgt - X) for t in (1.0, 0.5, 0.25, 0.1)], axis=1)
        Ec, _, _ = err(cands)
        j = int(np.argmax(s * Ec[o]))
        if s * Ec[o, j] <= v:
            break
        X = cands[:, j]
        E, cf, cg = err(X[:, None])
        v = float(s * E[o, 0])
    return X, v


def _climb(err: Any, X: np.ndarray, v: float, rf: np.ndarray, o: int, s: float,
           rounds: int) -> tuple[np.ndarray, float]:
    """Greedy best single flips of the coordinates ``rf`` on ``s (f - g)[o]``."""
    for _ in range(rounds if rf.size else 0):
        F = np.repeat(X[:, None], rf.size, axis=1)
        F[rf, np.arange(rf.size)] = 1.0 - X[rf]
        Ef, _, _ = err(F)
        j = int(np.argmax(s * Ef[o]))
        if s * Ef[o, j] <= v:
            break
        X, v = F[:, j], float(s * Ef[o, j])
    return X, v


def gradient_search(target: TargetCNN, pruned: PrunedCNN, D: int, *,
                    starts: list[np.ndarray] | None = None,
                    outputs: list[tuple[int, float]] | None = None, rng: Any = 0,
                    restarts: int = 2, steps: int = 20, flip_rounds: int = 30,
                    auto_outputs: int = 2, kicks: int = 0
                    ) -> tuple[np.ndarray, dict[str, Any]]:
    """Projected gradient ascent and vertex flips on single output entries (float64).

    For each ``(output index, sign s)`` in ``outputs`` (flat index into f's output)
    and the ``auto_outputs`` entries and signs where the starts err most, the objective is
    ``s (f - g)[o]`` in float64 (g through its float effective kernels: a *model*
    only).  The network is piecewise linear, so its gradient at X is the linear
    map of the active pattern (back-propagated by hand); each step tries the box
    vertex the gradient points to and shorter projected steps, then a greedy
    search flips single coordinates of the output's receptive field, and ``kicks``
    times a random tenth of that field is flipped and the search repeated (kept
    when better: an iterated local search).  Returns the
    input with the largest float error ``||f - g||_max`` and details; the caller
    must replay it exactly (:func:`~slth_check.certify.exact.exact_error`): no
    value computed here is a bound.
    """
    from slth_check.certify.interval import effective_enclosure

    gen = np.random.default_rng(rng)
    c0 = target.c0
    n0 = D * D * c0
    g_net = TargetCNN([ConvLayer(effective_enclosure(L)[0], bias=effective_enclosure(L)[2],
                                 padding=L.padding, stride=L.stride, pool=L.pool)
                       for L in pruned.layers], final_relu=pruned.final_relu)
    mf, mg = _sparse_model(target, D), _sparse_model(g_net, D)

    def err(Z: np.ndarray) -> tuple[np.ndarray, list, list]:
        F, cf = _model_forward(mf, Z)
        G, cg = _model_forward(mg, Z)
        return F - G, cf, cg

    pool = [np.asarray(X, dtype=float).reshape(n0) for X in (starts or [])]
    pool += [np.zeros(n0), np.ones(n0)]
    E0, _, _ = err(np.stack(pool, axis=1))
    flat = np.abs(E0).max(axis=1)
    auto = [(int(o), float(np.sign(E0[o, int(np.argmax(np.abs(E0[o])))]) or 1.0))
            for o in np.argsort(-flat)[:auto_outputs]]
    outputs = auto + [p for p in (outputs or []) if p not in auto]
    best_X, best_v = pool[int(np.argmax(np.abs(E0).max(axis=0)))], float(np.abs(E0).max())
    tried = []
    for o, s in outputs:
        rf = _receptive(mf, o)
        inits = [pool[int(np.argmax(s * E0[o]))]]
        for _ in range(restarts):
            X = inits[0].copy()
            X[rf] = gen.random(rf.size) < 0.5
            inits.append(X)
        for X in inits:
            X, v = _local_search(err, mf, mg, X, (o, s), rf, gen, steps, flip_rounds, kicks)
            tried.append((o, s, float(v)))
            if v > best_v:
                best_X, best_v = X, float(v)
    return best_X.reshape(D, D, c0), {"float_error": best_v, "tried": tried}


def _local_search(err: Any, mf: Any, mg: Any, X: np.ndarray, out: tuple[int, float],
                  rf: np.ndarray, gen: np.random.Generator, steps: int, flip_rounds: int,
                  kicks: int) -> tuple[np.ndarray, float]:
    """From ``X``: projected ascent on ``s (f - g)[o]``, a vertex, greedy flips on the
    receptive field ``rf``, then ``kicks`` random kicks (an iterated local search)."""
    o, s = out
    X, v = _ascend(err, mf, mg, X.copy(), o, s, steps)
    X = np.round(X)  # a vertex, then greedy flips on the receptive field
    X, v = _climb(err, X, float(s * err(X[:, None])[0][o, 0]), rf, o, s, flip_rounds)
    for _ in range(kicks if rf.size else 0):  # iterated local search
        Y = X.copy()
        flip = gen.choice(rf, size=max(1, rf.size // 10), replace=False)
        Y[flip] = 1.0 - Y[flip]
        Y, w = _climb(err, Y, float(s * err(Y[:, None])[0][o, 0]), rf, o, s, flip_rounds)
        if w > v:
            X, v = Y, w
    return X, v


def linear_targets(target: TargetCNN, info: dict[str, Any], count: int = 4
                   ) -> list[tuple[int, float]]:
    """The ``count`` (output index, sign) pairs of f's output whose layer-2 entries
    have the largest bounds in :func:`~slth_check.certify.linear.linear_bound`'s
    ``info`` (a ranking for :func:`gradient_search`; two-layer networks)."""
    per = info["per_sign"]  # (2, Q*Q*c)
    Q, _, c = info["per_output"].shape
    pooled = target.layers[-1].pool is not None
    P = Q // 2 if pooled else Q
    out: list[tuple[int, float]] = []
    for flat in np.argsort(-per.ravel()):
        sgn, k = divmod(int(flat), per.shape[1])
        r, q, l = np.unravel_index(k, (Q, Q, c))
        if pooled:
            r, q = r // 2, q // 2
        if r >= P or q >= P:
            continue
        pair = (int((r * P + q) * c + l), 1.0 if sgn == 0 else -1.0)
        if pair not in out:
            out.append(pair)
        if len(out) >= count:
            break
    return out


def gradient_lower(target: TargetCNN, pruned: PrunedCNN, D: int, *,
                   starts: list[np.ndarray] | None = None, rng: Any = 0,
                   via: str = "effective", **kw: Any) -> tuple[Any, np.ndarray, dict[str, Any]]:
    """A lower bound of ``sup_X ||f(X) - g(X)||_max``: :func:`gradient_search`'s best
    input (and the starts) replayed in exact arithmetic.

    Returns ``(value, witness, info)`` with ``value`` the exact (Fraction) error of
    ``witness``, the largest over the replayed candidates: a lower bound by
    construction, whatever the float search did.
    """
    from slth_check.certify.exact import exact_error

    X, info = gradient_search(target, pruned, D, starts=starts, rng=rng, **kw)
    best, witness = exact_error(target, pruned, X, via=via), X
    info["replayed"] = 1
    return best, witness, info
