"""The worst case by mixed-integer programming (``scipy.optimize.milp``, HiGHS).

A big-M encoding of every ReLU with bounds from an interval pass; the MILP's
witness is a *candidate*: it is replayed exactly and only then becomes a lower
bound.  Its floating-point objective is reported, never used as a bound.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import numpy as np

from slth_check.certify.exact import rounded_effective_network
from slth_check.conv import conv2d, pool2d
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN


def _affine_matrix(fn, n_in: int, shape_in: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Matrix and offset of an affine map given as a function on arrays."""
    b = np.asarray(fn(np.zeros(shape_in))).ravel()
    cols = [np.asarray(fn(e.reshape(shape_in))).ravel() - b for e in np.eye(n_in)]
    return np.array(cols).T, b


def _net_affine_layers(net: TargetCNN, D: int) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """(A, b, relu) per layer, avg pooling folded into the map; max pooling refused."""
    layers, shape = [], (D, D, net.c0)
    for i, L in enumerate(net.layers):
        if L.pool == "max":
            raise ValueError("method: 'milp' does not encode max pooling")

        def fn(X, L=L):
            Z = conv2d(L.K, X, padding=L.padding, stride=L.stride)
            if L.bias is not None:
                Z = Z + L.bias
            return Z

        n_in = int(np.prod(shape))
        A, b = _affine_matrix(fn, n_in, shape)
        out_shape = fn(np.zeros(shape)).shape
        relu_on = i < net.ell - 1 or net.final_relu
        if L.pool == "avg":
            if relu_on:
                layers.append((A, b, True))
                P, pb = _affine_matrix(lambda Z: pool2d(Z, "avg"), A.shape[0], out_shape)
                shape = pool2d(np.zeros(out_shape), "avg").shape
                layers.append((P, pb, False))
                continue
            P, _ = _affine_matrix(lambda Z: pool2d(Z, "avg"), A.shape[0], out_shape)
            A, b = P @ A, P @ b
            out_shape = pool2d(np.zeros(out_shape), "avg").shape
        layers.append((A, b, relu_on))
        shape = out_shape
    return layers


class _Step(NamedTuple):
    """One affine map ``A v + b`` of a network in the MILP with interval bounds
    ``[lo, hi]`` on its pre-activation; for a ReLU layer, the first columns of its
    outputs ``y`` and phases ``z`` (None otherwise)."""

    A: np.ndarray
    b: np.ndarray
    relu: bool
    y_start: int | None
    z_start: int | None
    lo: np.ndarray
    hi: np.ndarray


def _interval_plan(nets: list[list[tuple[np.ndarray, np.ndarray, bool]]],
                   n0: int) -> tuple[list[list[_Step]], int]:
    """Interval bounds of every pre-activation over ``X in [0,1]^n0`` (padded outward)
    and the variable layout: x (n0) then, per network and ReLU layer, y (k) and z (k).
    Returns (plan per network, number of variables)."""
    nvar = n0
    plan = []
    for layers in nets:
        lo, hi = np.zeros(n0), np.ones(n0)
        p: list[_Step] = []
        for A, b, r in layers:
            Ap, An = np.maximum(A, 0), np.minimum(A, 0)
            plo = Ap @ lo + An @ hi + b
            phi = Ap @ hi + An @ lo + b
            pad = 1e-9 * (1 + np.abs(plo) + np.abs(phi))
            plo, phi = plo - pad, phi + pad
            if r:
                k = A.shape[0]
                p.append(_Step(A, b, True, nvar, nvar + k, plo, phi))
                nvar += 2 * k
                lo, hi = np.maximum(plo, 0), np.maximum(phi, 0)
            else:
                p.append(_Step(A, b, False, None, None, plo, phi))
                lo, hi = plo, phi
        plan.append(p)
    return plan, nvar


class _BigM:
    """The big-M rows ``lbs <= rows . v <= ubs`` of every ReLU, the integrality and
    bounds of the variables, and each network's output as ``(M, m)`` with ``M v + m``."""

    def __init__(self, plan: list[list[_Step]], n0: int, nvar: int) -> None:
        self.rows: list[np.ndarray] = []
        self.lbs: list[float] = []
        self.ubs: list[float] = []
        self.integrality = np.zeros(nvar)
        self.vlo, self.vhi = np.zeros(nvar), np.ones(nvar)
        self.outs: list[tuple[np.ndarray, np.ndarray]] = []
        self.nvar = nvar
        for p in plan:
            prev = np.zeros((n0, nvar))
            prev[:, :n0] = np.eye(n0)
            prev_b = np.zeros(n0)
            for A, b, r, ys, zs, plo, phi in p:
                expr, expr_b = A @ prev, A @ prev_b + b  # pre-activation = expr . v + expr_b
                if not r or ys is None or zs is None:
                    prev, prev_b = expr, expr_b
                    continue
                k = A.shape[0]
                for j in range(k):
                    self._relu(expr[j], expr_b[j], ys + j, zs + j, plo[j], phi[j])
                prev = np.zeros((k, nvar))
                prev[np.arange(k), np.arange(ys, ys + k)] = 1
                prev_b = np.zeros(k)
            self.outs.append((prev, prev_b))

    def _relu(self, a: np.ndarray, a_b: float, y: int, z: int, lo: float, hi: float) -> None:
        """``y = max(a, 0)`` for ``a = a . v + a_b`` in ``[lo, hi]``, phase z binary."""
        self.integrality[z] = 1
        self.vlo[y], self.vhi[y] = 0.0, max(hi, 0.0)
        row = -a.copy()
        row[y] += 1  # y - a >= 0
        self._add(row, a_b, np.inf)
        row = -a.copy()  # y - a + l(1 - z) <= 0  ->  y - a - l z <= -l
        row[y] += 1
        row[z] -= lo
        self._add(row, -np.inf, a_b - lo)
        row = np.zeros(self.nvar)  # y - u z <= 0
        row[y] = 1
        row[z] = -max(hi, 0.0)
        self._add(row, -np.inf, 0.0)

    def _add(self, row: np.ndarray, lb: float, ub: float) -> None:
        self.rows.append(row)
        self.lbs.append(lb)
        self.ubs.append(ub)


def _output_choice(rows: list, lbs: list, ubs: list, Dm: np.ndarray, Db: np.ndarray,
                   B: float, nvar: int) -> tuple[list, list, list]:
    """The constraints of the MILP: the big-M rows, then ``t <= s_j (f_j - g_j) +
    B (1 - w_js)`` for every output j and sign s (t at index ``nvar``, the one-hot w
    after it), and ``sum w = 1``."""
    m_out = Dm.shape[0]
    t_idx, w0, total = nvar, nvar + 1, nvar + 1 + 2 * m_out
    ext = lambda M: np.hstack([M, np.zeros((M.shape[0], total - nvar))])  # noqa: E731
    A_all = [ext(np.array(rows))] if rows else []
    lb_all, ub_all = list(lbs), list(ubs)
    for j in range(m_out):
        for k, sgn in enumerate((1.0, -1.0)):
            row = np.zeros(total)  # t - s (Dm v) + B w <= s Db + B
            row[:nvar] = -sgn * Dm[j]
            row[t_idx] = 1.0
            row[w0 + 2 * j + k] = B
            A_all.append(row[None])
            lb_all.append(-np.inf)
            ub_all.append(sgn * Db[j] + B)
    row = np.zeros(total)
    row[w0:] = 1.0
    A_all.append(row[None])
    lb_all.append(1.0)
    ub_all.append(1.0)
    return A_all, lb_all, ub_all


def milp_worst_case(target: TargetCNN, pruned: PrunedCNN, D: int, *, lower: float = 0.0,
                    time_limit: float | None = None, node_limit: int | None = 20_000,
                    order: np.ndarray | None = None) -> tuple[np.ndarray | None, float, dict]:
    """Worst case of ``||f - g||_max`` by MILP; returns (witness, objective, info).

    One MILP maximises ``t <= s_j (f_j - g_j)`` over the inputs, the ReLU
    phases (big-M with interval bounds) and a one-hot choice of the output
    entry j and sign s; ``t >= lower`` prunes what a known witness already
    attains.  ``info["complete"]`` is True when HiGHS ended optimal within
    ``node_limit`` branch-and-bound nodes (a deterministic work limit: the same
    answer on a loaded machine) and ``time_limit`` seconds (None: no wall-clock
    limit): only then is the objective the MILP worst case (a float, never used
    as a sound bound).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp  # a second to import: only here

    t_start = time.perf_counter()
    if not pruned.linearisable():
        raise ValueError("pruned: 'milp' encodes the effective network; it needs a "
                         "linearisable pruned network")
    nets = [_net_affine_layers(target, D), _net_affine_layers(rounded_effective_network(pruned), D)]
    n0 = D * D * target.c0
    plan, nvar = _interval_plan(nets, n0)
    big_m = _BigM(plan, n0, nvar)
    rows, lbs, ubs = big_m.rows, big_m.lbs, big_m.ubs
    integrality, vlo, vhi, outs = big_m.integrality, big_m.vlo, big_m.vhi, big_m.outs
    (Fm, Fb), (Gm, Gb) = outs
    Dm, Db = Fm - Gm, Fb - Gb
    # one MILP: maximise t with t <= s_j (f_j - g_j) + B (1 - w_js), sum w = 1
    m_out = Dm.shape[0]
    fl, fh = plan[0][-1][5], plan[0][-1][6]
    gl, gh = plan[1][-1][5], plan[1][-1][6]
    B = 2.0 * float(np.max(np.maximum(fh - gl, gh - fl))) + 1.0
    total = nvar + 1 + 2 * m_out
    A_all, lb_all, ub_all = _output_choice(rows, lbs, ubs, Dm, Db, B, nvar)
    integ = np.r_[integrality, 0, np.ones(2 * m_out)]
    blo = np.r_[vlo, lower, np.zeros(2 * m_out)]
    bhi = np.r_[vhi, B, np.ones(2 * m_out)]
    c = np.zeros(total)
    c[nvar] = -1.0  # maximise t
    opts: dict[str, Any] = {"disp": False, "mip_rel_gap": 1e-9}
    if time_limit is not None:
        opts["time_limit"] = float(time_limit)
    if node_limit is not None:
        opts["node_limit"] = int(node_limit)
    res = milp(c, constraints=LinearConstraint(np.vstack(A_all), lb_all, ub_all),
               integrality=integ, bounds=Bounds(blo, bhi), options=opts)
    best_x, best_val = None, lower
    if res.x is not None:
        vals = Dm @ res.x[:nvar] + Db
        best_val = float(np.max(np.abs(vals)))
        best_x = res.x[:n0].copy()
    complete = res.status == 0
    solved, statuses = 1, {int(res.status)}
    X = None if best_x is None else np.clip(best_x, 0, 1).reshape(D, D, target.c0)
    return X, best_val, {"milps": solved, "statuses": sorted(statuses), "variables": total,
                         "complete": bool(complete),
                         "nodes": int(getattr(res, "mip_node_count", None) or -1),
                         "seconds": time.perf_counter() - t_start}
