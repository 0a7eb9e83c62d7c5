"""Sound LP bounds of one output entry's error under fixed pooling choices (two layers).

The node problem of :mod:`~slth_check.certify.branch`.  Output ``o`` of a two-layer
network reads its receptive field only (:mod:`~slth_check.certify.local`): neurons
``a_m = K_1 X + b_1`` (f), ``a'_m`` (g's exact effective kernel, Eq. 2, within ``Lr``
of ``Lf``), units ``p_i = max(0, a_m : m in i)``, ``p'_i``, and ``e2_k = K_2 Delta +
E_2 p' + db_2`` (``Delta = p - p'``, ``E_2 = K_2 - L_2``) for the neurons ``k`` of its
pooling window: ``|f_o - g_o| <= max_k |e2_k|`` (:mod:`~slth_check.certify.linear`).

A *node* fixes, for some layer-1 pooled units, which option is f's (or g's)
maximum (``fix``, :func:`node_ranges`).  Its bound of ``sup s e2_k`` is the optimum
of a linear program in ``v = (X, Delta, p')`` whose rows hold for the exact
networks on the node's region: ``Delta``, ``p`` and ``p'`` below their relaxations
(:func:`~slth_check.certify.relax.relax_max`, options pruned by the fixes and the
intervals), ``p = Delta + p' >= a_m``, ``p' >= a'_m`` (``Lf - Lr`` rounded down,
``X >= 0``), and the fixed options' ``p <= a_m``, ``p' <= a'_m``.

Soundness: the float LP optimum is *not* used.  Any ``y >= 0`` proves
``c.v <= (c - G^T y).v + y.h`` on ``{G v <= h}``; :func:`dual_bound` evaluates
the right-hand side's maximum over the variables' box with every rounding
covered (Higham, eq. 3.5 for ``G^T y``, products up, ``math.fsum`` then up).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from slth_check.certify.interval import ETA, effective_enclosure, round_down, round_up
from slth_check.certify.linear import conv_matrix
from slth_check.certify.relax import gamma2, nonneg_up, relax_max, two_layer_sizes, unit_groups
from slth_check.conv import output_size
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

__all__ = ["LPWindow", "dual_bound", "lp_model", "lp_window", "node_bound"]


def _up_sum(terms: np.ndarray) -> float:
    """An upper bound of the exact sum of float ``terms`` (inf if one is not finite)."""
    t = np.asarray(terms, dtype=float)
    try:
        return float(round_up(math.fsum(t.tolist()))) if np.all(np.isfinite(t)) else math.inf
    except OverflowError:
        return math.inf


def dual_bound(c: np.ndarray, G: Any, h: np.ndarray, y: np.ndarray, lo: np.ndarray,
               hi: np.ndarray) -> float:
    """Sound upper bound of ``max c.v`` over ``{lo <= v <= hi, G v <= h}`` from any
    float ``y`` (clipped to ``y >= 0``): ``max_v (c - G^T y).v + y.h``, every
    rounding outward (``G``, ``h``, ``c``: floats, exact as rationals).  A sparse ``G``
    with duplicate entries (scipy: their sum) is refused: converting it would sum them
    in float64, rounding ``G`` itself."""
    y = np.maximum(np.nan_to_num(np.asarray(y, dtype=float), nan=0.0), 0.0)
    C = sp.coo_matrix(G) if sp.issparse(G) else None
    if C is not None and np.unique(C.row.astype(np.int64) * C.shape[1] + C.col).size != C.nnz:
        raise ValueError("G: a sparse matrix with duplicate entries (summed, rounded)")
    Gt = sp.csr_matrix(G).T.tocsr()
    t = np.asarray(Gt @ y).ravel()
    err = round_up(round_up(nonneg_up(abs(Gt), y) * gamma2(len(h))) + 4 * (len(h) + 1) * ETA)
    with np.errstate(over="ignore", invalid="ignore"):  # inf / nan terms give inf
        r_hi, r_lo = round_up(round_up(c - t) + err), round_down(round_down(c - t) - err)
        corners = np.stack([round_up(r_hi * hi), round_up(r_hi * lo), round_up(r_lo * hi),
                            round_up(r_lo * lo)])
        return _up_sum(np.array([_up_sum(corners.max(axis=0)), _up_sum(round_up(y * h))]))


def _conv_parts(W: np.ndarray, rad: np.ndarray | None, b: Any, brad: Any, n: int, layer: Any
                ) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    M = conv_matrix(W, n, layer.padding, layer.stride)
    R = conv_matrix(rad if rad is not None else np.zeros_like(W), n, layer.padding,
                    layer.stride)
    P = output_size(n, layer.d, layer.padding, layer.stride)
    bias = np.zeros(P * P * W.shape[3]) if b is None else np.tile(b, P * P)
    br = np.zeros_like(bias) if brad is None else np.tile(brad, P * P)
    return M, R, bias, br


def lp_model(target: TargetCNN, pruned: PrunedCNN, D: int) -> dict[str, Any]:
    """Sparse matrices of both networks with g's sound radii (Eq. 2, two layers)."""
    if target.ell != 2 or not pruned.linearisable():
        raise ValueError("target: the LP windows need two layers and a linearisable g")
    K1, K2 = target.layers
    (L1, R1, c1, r1), (L2, R2, c2, r2) = (effective_enclosure(P) for P in pruned.layers)
    P1, D2, Q2 = two_layer_sizes(target, D)
    if K1.pool not in ("max", None) or K2.pool not in ("max", None):
        raise ValueError("target: the LP windows handle max pooling (or none) only")
    return {"f1": _conv_parts(K1.K, None, K1.bias, None, D, K1),
            "g1": _conv_parts(L1, R1, c1, r1, D, K1),
            "f2": _conv_parts(K2.K, None, K2.bias, None, D2, K2),
            "g2": _conv_parts(L2, R2, c2, r2, D2, K2),
            "grp1": unit_groups(P1, K1.c1, K1.pool), "grp2": unit_groups(Q2, K2.c1, K2.pool)}


@dataclass
class LPWindow:
    """Output ``o``'s field: f's rows ``Kf, bf``; g's float rows ``Lf, bg`` with radii
    ``Lr, br``; pooling ``opt`` (units x 5, -1 the zero option); layer 2 per neuron k:
    ``K2`` (rows), ``E2``/``E2r`` (``K_2 - L_2``, radius), ``db2``/``db2r``."""

    o: int
    inp: np.ndarray
    Kf: np.ndarray
    bf: np.ndarray
    Lf: np.ndarray
    Lr: np.ndarray
    bg: np.ndarray
    br: np.ndarray
    opt: np.ndarray
    K2: np.ndarray
    E2: np.ndarray
    E2r: np.ndarray
    db2: np.ndarray
    db2r: np.ndarray

    def key(self) -> str:
        """Digest of every array: equal keys, the same restricted problem."""
        h = hashlib.sha256()
        for name in "Kf bf Lf Lr bg br opt K2 E2 E2r db2 db2r".split():
            a = np.ascontiguousarray(getattr(self, name))
            h.update(name.encode() + str(a.shape).encode() + a.tobytes())
        return h.hexdigest()


def lp_window(model: dict[str, Any], o: int) -> LPWindow:
    """The restricted problem of output entry ``o`` with sound radii."""
    ks = model["grp2"][o]
    Mf2, _, bf2, _ = model["f2"]
    Mg2, Rg2, bg2, rg2 = model["g2"]
    units = np.union1d(np.union1d(Mf2[ks].indices, Mg2[ks].indices), Rg2[ks].indices)
    rows = model["grp1"][units].ravel()
    Mf1, _, bf1, _ = model["f1"]
    Mg1, Rg1, bg1, rg1 = model["g1"]
    inp = np.union1d(np.union1d(Mf1[rows].indices, Mg1[rows].indices), Rg1[rows].indices)
    K2 = Mf2[ks][:, units].toarray()
    E2 = K2 - Mg2[ks][:, units].toarray()
    E2r = round_up(round_up(np.abs(E2) * 2.0**-52) + Rg2[ks][:, units].toarray())
    db2 = bf2[ks] - bg2[ks]
    db2r = round_up(round_up(np.abs(db2) * 2.0**-52) + rg2[ks])
    n_u, size = units.size, model["grp1"].shape[1]
    local = np.arange(n_u * size).reshape(n_u, size)
    opt = np.concatenate([np.full((n_u, 1), -1), local], axis=1)
    return LPWindow(o, inp, Mf1[rows][:, inp].toarray(), bf1[rows], Mg1[rows][:, inp].toarray(),
                    Rg1[rows][:, inp].toarray(), bg1[rows], rg1[rows], opt, K2, E2, E2r, db2,
                    db2r)


def _range(M: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sound ``(lo, hi)`` of ``M X + b`` over ``X in [0, 1]`` (M, b exact floats)."""
    one = np.ones(M.shape[1])
    return -round_up(nonneg_up(np.maximum(-M, 0), one) - b), \
        round_up(nonneg_up(np.maximum(M, 0), one) + b)


def root_ranges(w: LPWindow) -> dict[str, np.ndarray]:
    """Layer-1 enclosures over the whole field: ``a`` (f), ``a'`` (g, also its rows
    ``Llo X + blo <= a'``), and ``e = a - a' = Ef X + dbf`` within ``Er``, ``dbr``."""
    Llo, blo = round_down(w.Lf - w.Lr), round_down(w.bg - w.br)
    Lup, bup = round_up(w.Lf + w.Lr), round_up(w.bg + w.br)
    Ef = w.Kf - w.Lf
    Er = round_up(round_up(np.abs(Ef) * 2.0**-52) + w.Lr)
    dbf = w.bf - w.bg
    dbr = round_up(round_up(np.abs(dbf) * 2.0**-52) + w.br)
    alo, ahi = _range(w.Kf, w.bf)
    glo, ghi = _range(Llo, blo)[0], _range(Lup, bup)[1]
    elo = _range(round_down(Ef - Er), round_down(dbf - dbr))[0]
    ehi = _range(round_up(Ef + Er), round_up(dbf + dbr))[1]
    return {"Llo": Llo, "blo": blo, "Lup": Lup, "bup": bup, "Ef": Ef, "Er": Er, "dbf": dbf,
            "dbr": dbr, "alo": alo, "ahi": ahi, "glo": glo, "ghi": ghi, "elo": elo, "ehi": ehi}


def node_ranges(w: LPWindow, r: dict[str, np.ndarray], fix: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """f's and g's layer-1 enclosures on the node's region, or None when one is empty
    (the region is empty).  ``fix[0, i]`` (f) and ``fix[1, i]`` (g) is unit i's fixed
    option (``0`` the zero option: every neuron ``<= 0``; ``k >= 1`` neuron
    ``opt[i, k]``: the maximum, ``>= 0``) or ``-1``; ``a' = a - e`` couples them."""
    lo, hi = [r["alo"].copy(), r["glo"].copy()], [r["ahi"].copy(), r["ghi"].copy()]
    for net in (0, 1):
        for k in range(w.opt.shape[1]):
            units = np.flatnonzero(fix[net] == k)
            if k == 0:
                m = w.opt[units, 1:].ravel()
                hi[net][m] = np.minimum(hi[net][m], 0.0)
            else:
                m = w.opt[units, k]
                lo[net][m] = np.maximum(lo[net][m], 0.0)
    alo, ahi, glo, ghi = lo[0], hi[0], lo[1], hi[1]
    for _ in range(2):
        glo = np.maximum(glo, round_down(alo - r["ehi"]))
        ghi = np.minimum(ghi, round_up(ahi - r["elo"]))
        alo = np.maximum(alo, round_down(glo + r["elo"]))
        ahi = np.minimum(ahi, round_up(ghi + r["ehi"]))
    if np.any(alo > ahi) or np.any(glo > ghi):
        return None
    return alo, ahi, glo, ghi


def _fix_rows(w: LPWindow, r: dict[str, np.ndarray], fix: np.ndarray
              ) -> tuple[Any, np.ndarray]:
    """Rows of the fixed options: ``p = Delta + p' <= a_m`` (f's option m, exact) or
    ``<= 0``; ``p' <= a'_m <= Lup X + bup`` (g's) or ``p' <= 0``."""
    nI, nU = w.Kf.shape[1], w.opt.shape[0]
    blocks, h = [], []
    for net, (M, b) in enumerate(((w.Kf, w.bf), (r["Lup"], r["bup"]))):
        units = np.flatnonzero(fix[net] >= 0)
        if units.size == 0:
            continue
        m = w.opt[units, fix[net, units]]
        real = m >= 0
        A = np.where(real[:, None], -M[np.where(real, m, 0)], 0.0)
        U = sp.csr_matrix((np.ones(units.size), (np.arange(units.size), units)),
                          shape=(units.size, nU))
        blocks.append([sp.csr_matrix(A), U if net == 0 else sp.csr_matrix((units.size, nU)), U])
        h.append(np.where(real, b[np.where(real, m, 0)], 0.0))
    if not blocks:
        return sp.csr_matrix((0, nI + 2 * nU)), np.zeros(0)
    return sp.bmat(blocks, format="csr"), np.concatenate(h)


def cands(opt: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Options that can be the argmax of ``max(0, a_m)`` by the interval bounds."""
    idx = np.where(opt >= 0, opt, 0)
    olo, ohi = np.where(opt >= 0, lo[idx], 0.0), np.where(opt >= 0, hi[idx], 0.0)
    return ohi >= olo.max(axis=1, keepdims=True)


def node_rows(w: LPWindow, r: dict[str, np.ndarray], fix: np.ndarray,
              ranges: tuple[np.ndarray, ...]) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``G v <= h`` valid on the node's region and the box ``[lo, hi]`` of
    ``v = (X, Delta, p')`` (see the module docstring)."""
    alo, ahi, glo, ghi = ranges
    nI, nU = w.Kf.shape[1], w.opt.shape[0]
    one, zr, opt = np.ones(nI), np.zeros_like(w.Lr), w.opt
    cf, cg = cands(opt, alo, ahi), cands(opt, glo, ghi)
    for net, cand in enumerate((cf, cg)):  # a fixed option is the only candidate
        units = np.flatnonzero(fix[net] >= 0)
        cand[units] = False
        cand[units, fix[net, units]] = True
    Cu, bu = relax_max(r["Ef"], r["Er"], r["dbf"], r["dbr"], opt, cf, one, flat=False)
    Cl, bl = relax_max(-r["Ef"], r["Er"], -r["dbf"], r["dbr"], opt, cg, one, flat=False)
    Cg, bgu = relax_max(w.Lf, w.Lr, w.bg, w.br, opt, cg, one, flat=False)
    Cf, bfu = relax_max(w.Kf, zr, w.bf, np.zeros_like(w.bf), opt, cf, one, flat=False)
    I, ZU = sp.identity(nU, format="csr"), sp.csr_matrix((nU, nU))
    grp = opt[:, 1:]
    unit_of = np.repeat(np.arange(nU), grp.shape[1])[np.argsort(grp.ravel())]
    S = sp.csr_matrix((np.ones(unit_of.size), (np.arange(unit_of.size), unit_of)),
                      shape=(unit_of.size, nU))  # neuron -> its unit
    blocks = [[sp.csr_matrix(-Cu), I, ZU], [sp.csr_matrix(-Cl), -I, ZU],
              [sp.csr_matrix(-Cg), ZU, I], [sp.csr_matrix(r["Llo"]), None, -S],
              [sp.csr_matrix(w.Kf), -S, -S], [None, -I, -I], [sp.csr_matrix(-Cf), I, I]]
    Gf, hf = _fix_rows(w, r, fix)
    G = sp.vstack([sp.bmat(blocks, format="csr"), Gf], format="csr")
    h = np.concatenate([bu, bl, bgu, -r["blo"], -w.bf, np.zeros(nU), bfu, hf])
    pf_lo = np.maximum(alo[grp].max(axis=1), 0.0)
    pf_hi, phi = np.maximum(ahi[grp].max(axis=1), 0.0), np.maximum(ghi[grp].max(axis=1), 0.0)
    pg_lo = np.maximum(glo[grp].max(axis=1), 0.0)
    e_hi = np.maximum(r["ehi"][grp].max(axis=1), 0.0)
    e_lo = np.minimum(r["elo"][grp].min(axis=1), 0.0)
    dhi = np.minimum(round_up(pf_hi - pg_lo), e_hi)
    dlo = np.maximum(round_down(pf_lo - phi), e_lo)
    lo = np.concatenate([np.zeros(nI), dlo, pg_lo])
    hi = np.concatenate([one, dhi, phi])
    return G, h, lo, hi


def objective(w: LPWindow, s: float, j: int) -> tuple[np.ndarray, float]:
    """``(c, c0)`` with ``s e2_k <= c.v + c0`` for layer-2 neuron ``k = j``-th of the
    window (``p' >= 0``: the upper enclosure of ``s E_2`` bounds its term)."""
    c = np.concatenate([np.zeros(w.Kf.shape[1]), s * w.K2[j], round_up(s * w.E2[j] + w.E2r[j])])
    return c, float(round_up(s * w.db2[j] + w.db2r[j]))


def node_bound(w: LPWindow, r: dict[str, np.ndarray], fix: np.ndarray, s: float, j: int,
               seconds: float = 30.0) -> tuple[float, np.ndarray | None]:
    """Sound upper bound of ``sup s e2_k`` over the node's region and the LP's optimum
    ``v = (X, Delta, p')`` (None when none was found); ``-inf`` for an empty region.
    ``seconds`` limits HiGHS (a stopped solve's multipliers still give a bound)."""
    ranges = node_ranges(w, r, fix)
    if ranges is None:
        return -math.inf, None
    G, h, lo, hi = node_rows(w, r, fix, ranges)
    c, c0 = objective(w, s, j)
    res = linprog(-c, A_ub=G, b_ub=h, bounds=np.stack([lo, hi], axis=1), method="highs",
                  options={"time_limit": float(seconds)})
    marg = getattr(getattr(res, "ineqlin", None), "marginals", None)
    ok = marg is not None and np.shape(marg) == (G.shape[0],)
    y = -np.asarray(marg, dtype=float) if ok else np.zeros(G.shape[0])  # any y is valid
    x = np.asarray(res.x) if res.status == 0 and ok else None
    bound = dual_bound(c, G, h, y, lo, hi)
    if not math.isfinite(bound):  # overflowing multipliers: the box alone (y = 0)
        bound = dual_bound(c, G, h, np.zeros_like(y), lo, hi)
    return _up_sum(np.array([bound, c0])), x
