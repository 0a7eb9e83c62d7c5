"""Pattern-LP ascent: lower-bound candidates off the vertices of the box (issue 22, point 2).

On one output entry's receptive field (:class:`~slth_check.certify.local.Window`,
two layers, max pooling or none) fix an *activation pattern*: for every layer-1
pooled unit of f and of g which option is its maximum (``0`` the zero of the
ReLU, ``m >= 1`` the unit's m-th neuron), and which layer-2 neuron ``k*`` gives
the output of the network taken with ``+`` in ``s (f_o - g_o)`` (``-1``: that
output is the ReLU's zero).  On the pattern's region (a polytope in the field's
pixels, intersected with ``[0, 1]``) both networks' layer-1 units and the ``+``
network's output are affine; the ``-`` network's output ``max(0, max_k G_k)`` is
convex there, so ``t >= G_k``, ``t >= 0`` with ``-t`` in the objective is exact at
the optimum: the maximum of the error over the region is one linear program
(:func:`pattern_lp`; Theorem 1's error ``||f - g||_max`` entry by entry).

:func:`pattern_ascent` starts from the pattern of an input, solves its LP, and
moves to the neighbouring pattern across the active row with the largest
multiplier (a tie at the optimum, so the optimum lies in both regions and the
value never decreases), while that improves.  Everything is float64 on g's float
effective kernels, a *model*: its values rank candidates, and only the exact
replay (:func:`~slth_check.certify.exact.exact_error`) of an input is a bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from slth_check.certify.local import Window, window_outputs

__all__ = ["Pattern", "pattern_ascent", "pattern_lp", "pattern_of"]


@dataclass
class Pattern:
    """Layer-1 options ``units[net][i]`` (net 0 f, 1 g; 0 the zero option, m >= 1 the
    unit's m-th neuron) and the ``+`` network's layer-2 neuron ``k`` (-1: zero)."""

    units: tuple[np.ndarray, np.ndarray]
    k: int


def _supported(w: Window) -> bool:
    return all(p in ("max", None) for p in w.pools)


def _plus(s: float) -> int:
    return 0 if s > 0 else 1


def pattern_of(w: Window, s: float, x: np.ndarray) -> Pattern:
    """The activation pattern of local input ``x`` (ties to the first option)."""
    units = []
    for A, a in zip(w.A, w.a):
        Z = (A @ x + a).reshape(-1, w.group)
        units.append(np.argmax(np.concatenate([np.zeros((Z.shape[0], 1)), Z], axis=1), axis=1))
    Cs, cs = _layer2_rows(w, (units[0], units[1]))
    F = Cs[_plus(s)] @ x + cs[_plus(s)]
    k = int(np.argmax(F))
    if w.final_relu and F[k] < 0:
        k = -1
    return Pattern((units[0], units[1]), k)


def _layer2_rows(w: Window, units: tuple[np.ndarray, np.ndarray]
                 ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each network's layer-2 pre-activations ``C X + c`` on the pattern's region."""
    Cs, cs = [], []
    for net in (0, 1):
        pat = units[net]
        rows = np.arange(pat.size) * w.group + np.maximum(pat - 1, 0)
        on = pat > 0
        Cp = np.where(on[:, None], w.A[net][rows], 0.0)
        cp = np.where(on, w.a[net][rows], 0.0)
        Cs.append(w.W[net] @ Cp)
        cs.append(w.W[net] @ cp + w.b[net])
    return Cs, cs


def _region(w: Window, net: int, pat: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """Rows ``G X <= h`` of one network's layer-1 pattern and their moves
    ``(net, unit, option)``: the option that ties with the chosen one on the row."""
    A, a = w.A[net].reshape(pat.size, w.group, -1), w.a[net].reshape(pat.size, w.group)
    G, h, tags = [], [], []
    for i, c in enumerate(pat):
        if c == 0:  # every neuron <= 0
            G.append(A[i])
            h.append(-a[i])
            tags += [(net, i, m + 1) for m in range(w.group)]
            continue
        others = [m for m in range(w.group) if m != c - 1]
        G.append(np.concatenate([-A[i, c - 1][None], A[i, others] - A[i, c - 1]]))
        h.append(np.concatenate([[a[i, c - 1]], a[i, c - 1] - a[i, others]]))
        tags += [(net, i, 0)] + [(net, i, m + 1) for m in others]
    return np.concatenate(G), np.concatenate(h), tags


def pattern_lp(w: Window, s: float, p: Pattern
               ) -> tuple[np.ndarray, float, np.ndarray, list] | None:
    """``max s (f_o - g_o)`` over the pattern's region: ``(x, value, order, moves)``
    (the LP optimum, its value in the float model, the rows by decreasing multiplier
    and then the tight ones, and each row's move), or None when the region is empty."""
    from scipy.optimize import linprog

    n, plus = w.inp.size, _plus(s)
    Cs, cs = _layer2_rows(w, p.units)
    parts = [_region(w, net, p.units[net]) for net in (0, 1)]
    G = [np.hstack([Gr, np.zeros((Gr.shape[0], 1))]) for Gr, _, _ in parts]
    h = [hr for _, hr, _ in parts]
    tags: list = parts[0][2] + parts[1][2]
    F, f0 = Cs[plus], cs[plus]
    if p.k >= 0:  # F_k* >= F_k (and >= 0 before a final ReLU)
        others = [k for k in range(F.shape[0]) if k != p.k]
        G.append(np.hstack([F[others] - F[p.k], np.zeros((len(others), 1))]))
        h.append(f0[p.k] - f0[others])
        tags += [("k", k) for k in others]
        if w.final_relu:
            G.append(np.append(-F[p.k], 0.0)[None])
            h.append(f0[p.k:p.k + 1])
            tags.append(("k", -1))
        c, c0 = np.append(F[p.k], -1.0), float(f0[p.k])
    else:  # every F_k <= 0: the + output is 0
        G.append(np.hstack([F, np.zeros((F.shape[0], 1))]))
        h.append(-f0)
        tags += [("k", k) for k in range(F.shape[0])]
        c, c0 = np.append(np.zeros(n), -1.0), 0.0
    G.append(np.hstack([Cs[1 - plus], -np.ones((F.shape[0], 1))]))  # t >= G_k
    h.append(-cs[1 - plus])
    tags += [("t", k) for k in range(F.shape[0])]
    bounds = [(0.0, 1.0)] * n + [(0.0 if w.final_relu else None, None)]
    res = linprog(-c, A_ub=np.concatenate(G), b_ub=np.concatenate(h), bounds=bounds,
                  method="highs")
    if res.status != 0:
        return None
    # moves by multiplier, then the rows tight at the optimum (a flat objective)
    tight = np.abs(np.asarray(res.ineqlin.residual)) <= 1e-9
    order = np.lexsort((~tight, -np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)))
    return np.clip(res.x[:n], 0.0, 1.0), float(-res.fun + c0), order, tags


def _moved(p: Pattern, tag: tuple) -> Pattern | None:
    """The neighbouring pattern across a row, or None (a row of t: no move)."""
    if tag[0] == "t":
        return None
    if tag[0] == "k":
        return Pattern(p.units, tag[1])
    net, i, m = tag
    units = [p.units[0].copy(), p.units[1].copy()]
    units[net][i] = m
    return Pattern((units[0], units[1]), p.k)


def _value(w: Window, s: float, x: np.ndarray) -> float:
    F, G = window_outputs(w, x)
    return float(s * (F[0] - G[0]))


def pattern_ascent(w: Window, s: float, x: np.ndarray, *, seconds: float = 10.0,
                   steps: int = 500, tries: int = 8) -> tuple[np.ndarray, float]:
    """Climb ``s (f_o - g_o)`` over activation patterns from local input ``x``.

    Each step tries the moves across the first ``tries`` rows of the LP's order
    (largest multipliers, then tight rows) and takes the first whose LP is better;
    it stops when none is, after ``steps`` steps or ``seconds``.  Returns the best
    input (in ``[0, 1]``) and its float objective, evaluated by
    :func:`~slth_check.certify.local.window_outputs` (a model value, not a bound);
    ``x`` itself when it is not beaten or the pooling is not max (or none).
    """
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    best_x, best_v = x, _value(w, s, x)
    if not _supported(w):
        return best_x, best_v
    t_end = time.perf_counter() + seconds
    p = pattern_of(w, s, x)
    got = pattern_lp(w, s, p)
    for _ in range(steps):
        if got is None or time.perf_counter() > t_end:
            break
        y, v, order, tags = got
        true_v = _value(w, s, y)
        if true_v > best_v:
            best_x, best_v = y, true_v
        got = None
        for r in order[:tries]:
            q = _moved(p, tags[r])
            if q is None:
                continue
            nxt = pattern_lp(w, s, q)
            if nxt is not None and nxt[1] > v + 1e-9 * max(1.0, abs(v)):
                p, got = q, nxt
                break
    return best_x, best_v
