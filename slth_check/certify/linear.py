"""Linear relaxation of the difference network ``f - g`` (sound upper bound, two layers).

For a two-layer target ``f`` and a linearisable pruned network ``g`` (kept ``U >= 0``;
on ``X >= 0`` it equals its effective network, Eq. 1-2) write, per layer-1 neuron m,
``a_m = K_1 X + b_1`` (f), ``a'_m = L_1 X + b'_1`` (g) and ``e_m = a_m - a'_m =
E_1 X + db_1``, *exactly linear* in X.  The layer-1 outputs after ReLU and pooling
are ``p = pool(relu(a))`` and ``p' = pool(relu(a'))``, and ``Delta = p - p'``.  For max
pooling ``p_i = max(0, a_1, .., a_4)`` over the window, so with ``m*`` the argmax of
the options of ``f`` (``0`` or a neuron) ``Delta_i <= e_{m*}`` and with the argmax of
``g``, ``Delta_i >= e_{m'}``: hence

    min_{m in cand_g(i)} e_m  <=  Delta_i  <=  max_{m in cand_f(i)} e_m        (e_0 = 0)

where ``cand_f(i)`` holds the options that can be the argmax of f's window
(interval bounds of ``a``: an option whose upper bound is below another's lower
bound never is), likewise ``cand_g(i)``.  Each side is a convex / concave
piecewise-linear function of X, relaxed to *one* linear function ``C_i X + beta_i``
(the triangle relaxation of ``max(0, e)`` around the option with the largest
range, the other options covered by ``beta_i``).  Layer 2:

    e2_k = a2_k - a2'_k = sum_i K_2[k, i] Delta_i + sum_i E_2[k, i] p'_i + db_2,

so ``s e2_k`` (``s = +-1``) is bounded above by back-substituting the upper
relaxation of ``Delta_i`` where ``s K_2[k, i] > 0`` and the lower one elsewhere, the
term ``E_2 p'`` by the interval bounds of ``p' >= 0``, and maximising the resulting
linear function over the box in closed form (``max c.X = sum c^+ hi`` on ``[0, hi]``).
Finally ``|relu(a2) - relu(a2')| <= |e2|`` and ``|max A - max B| <= max |A - B|``
(also for average pooling and no final ReLU), so ``sup ||f - g||_max <= max_k
max(sup e2_k, sup -e2_k)`` over the layer-2 outputs that the last pooling reads.

Soundness (every float step covered).  The coefficient rows ``C_i`` are *any* float
arrays (heuristics choose them); the constants are computed to make the inequality
true for those floats: ``beta_i`` is an outward-rounded upper bound of
``max_X (e_m - C_i X)`` over every candidate m, with the exact ``E_1`` enclosed by
``K_1 - L_1`` and the radius of the effective kernel
(:func:`~slth_check.certify.interval.effective_enclosure`).  Every matrix product
of layer 2 is a float product whose error is below ``gamma_n |W| |M|`` (Higham,
eq. 3.5, any order, plus ``eta`` per product for underflow); since ``X`` lies in
``[0, hi]`` the error of a coefficient row moves the box maximum by at most
``(gamma_n |W| |M|) hi``, which is added, rounded upward, to the constant.  The
candidate sets use the sound interval enclosures of :func:`interval_conv`.
Sums of non-negative terms are rounded up by ``(1 + 2 gamma_n)`` and ``n eta``.

Translation invariance is implicit: the conv matrices are sparse and every output's
sub-problem reads only its receptive window; all of them are solved in one batch.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..arithmetic import gamma
from ..conv import Padding, crop_window, output_size
from ..network import PrunedCNN, TargetCNN
from .interval import ETA, effective_enclosure, interval_conv, interval_pruned, round_down, round_up

__all__ = ["MAX_LINEAR_ENTRIES", "conv_matrix", "linear_applies", "linear_bound", "pool_groups"]

#: Largest layer-1 relaxation table (units x options x inputs floats) built by default.
MAX_LINEAR_ENTRIES = 50_000_000


def conv_matrix(K: np.ndarray, D: int, padding: Padding = "paper",
                stride: int = 1) -> sp.csr_matrix:
    """The convolution ``K * X`` (Definition 1) as a sparse matrix on ``X.ravel()``.

    Rows index the output ``(p, q, l)`` in C order, columns the input ``(r, s, k)``;
    the entries are copies of the kernel's (exact: no arithmetic).
    """
    d, _, c0, c1 = K.shape
    start, length = crop_window(padding, D, d)
    P = (length - 1) // stride + 1
    p = np.arange(P)
    a = np.arange(d)
    r = start + p[:, None] * stride - a[None, :]  # (P, d): input row of output p, tap a
    rows, cols, vals = [], [], []
    pp, aa = np.nonzero((r >= 0) & (r < D))
    rr = r[pp, aa]
    # combine the two spatial axes and the channels by broadcasting
    g1, g2 = np.meshgrid(np.arange(pp.size), np.arange(pp.size), indexing="ij")
    i1, i2 = g1.ravel(), g2.ravel()
    for k in range(c0):
        for l in range(c1):
            out = (pp[i1] * P + pp[i2]) * c1 + l
            inp = (rr[i1] * D + rr[i2]) * c0 + k
            rows.append(out)
            cols.append(inp)
            vals.append(K[aa[i1], aa[i2], k, l])
    M = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(P * P * c1, D * D * c0))
    M.sum_duplicates()  # none exist (distinct taps hit distinct inputs): no arithmetic
    return M.tocsr()


def pool_groups(P: int, c: int, size: int = 2) -> np.ndarray:
    """Indices (into a ``(P, P, c)`` array, C order) of each pooling window:
    shape ``(Q*Q*c, size*size)`` with ``Q = P // size`` (floor mode)."""
    Q = P // size
    idx = np.arange(P * P * c).reshape(P, P, c)[:Q * size, :Q * size]
    idx = idx.reshape(Q, size, Q, size, c).transpose(0, 2, 4, 1, 3)
    return idx.reshape(Q * Q * c, size * size)


def _g(n: int) -> float:
    """An upper bound of ``2 gamma_n`` as a float (the factor 2 covers its own use)."""
    return float(round_up(np.float64(float(gamma(int(n) + 2)) * 2)))


def _nonneg_up(A: Any, v: np.ndarray) -> np.ndarray:
    """Upper bound of the exact ``A @ v`` for non-negative A (dense or sparse) and v."""
    n = A.shape[1]
    P = np.asarray(A @ v, dtype=float)
    return round_up(round_up(P * round_up(np.float64(1 + _g(n)))) + 4 * (n + 1) * ETA)


def _abs(A: Any) -> Any:
    return abs(A) if sp.issparse(A) else np.abs(A)


def _beta(Ef: np.ndarray, Er: np.ndarray, dbf: np.ndarray, dbr: np.ndarray, opt: np.ndarray,
          cand: np.ndarray, hi: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Sound upper bound of ``max_X max_{m in cand_i} (e_m(X) - C_i X)`` on ``[0, hi]``
    (``e_0 = 0``), for any float rows ``C``: the exact ``E_m`` lies within ``Er`` of
    ``Ef``, so ``E_m - C_i <= round_up(round_up(Ef_m - C_i) + Er_m)`` entrywise, and
    ``max_X c.X = sum c^+ hi`` for ``X >= 0``, summed upward."""
    units, slots = opt.shape
    real = (opt >= 0) & cand
    rows = np.where(opt >= 0, opt, 0)
    zero_in = ((opt < 0) & cand).any(axis=1)
    beta = np.full(units, -np.inf)
    if zero_in.any():  # max_X (0 - C X) <= sum (-C)^+ hi
        z = _nonneg_up(np.maximum(-C, 0), hi)
        beta = np.where(zero_in, np.maximum(beta, z), beta)
    for j in range(slots):
        on = real[:, j]
        if not on.any():
            continue
        diff = round_up(round_up(Ef[rows[on, j]] - C[on]) + Er[rows[on, j]])
        m = _nonneg_up(np.maximum(diff, 0), hi)
        m = round_up(m + round_up(dbf[rows[on, j]] + dbr[rows[on, j]]))
        beta[on] = np.maximum(beta[on], m)
    return beta


def _relax_max(Ef: np.ndarray, Er: np.ndarray, dbf: np.ndarray, dbr: np.ndarray,
               opt: np.ndarray, cand: np.ndarray, hi: np.ndarray, flat: bool = True
               ) -> tuple[np.ndarray, np.ndarray]:
    """Linear upper bound ``C_i X + beta_i >= max_{m in cand_i} e_m(X)`` on ``[0, hi]``.

    ``e_m = E_m X + db_m`` with the exact ``E_m`` within ``Er`` of ``Ef`` (rows) and
    ``db_m`` within ``dbr`` of ``dbf``; ``opt[i, j]`` is a row index or ``-1`` for the
    constant option ``e = 0``; ``cand[i, j]`` says whether option j takes part.
    Returns ``(C, beta)``: ``C`` chosen heuristically, ``beta`` a sound upper bound
    of ``max_X max_m (e_m(X) - C_i X)`` (hence the inequality holds for every X in
    the box, whatever ``C`` is).  ``flat``: per unit, fall back to ``C = 0`` when
    that gives a smaller maximum over the box.
    """
    units, slots = opt.shape
    real = (opt >= 0) & cand
    rows = np.where(opt >= 0, opt, 0)
    Eo = Ef[rows]  # (units, slots, n_in)
    dbo = dbf[rows]
    ue = np.maximum(Eo, 0) @ hi + dbo  # estimates (heuristic only)
    le = -(np.maximum(-Eo, 0) @ hi) + dbo
    score = np.where(real, ue, -np.inf)
    best = np.argmax(score, axis=1)
    has_real = real.any(axis=1)
    zero_in = ((opt < 0) & cand).any(axis=1)
    u_b, l_b = ue[np.arange(units), best], le[np.arange(units), best]
    alpha = np.ones(units)
    tri = zero_in & (l_b < 0) & (u_b > 0)
    alpha[tri] = u_b[tri] / (u_b[tri] - l_b[tri])
    alpha[zero_in & (u_b <= 0)] = 0.0
    alpha[~has_real] = 0.0
    C = alpha[:, None] * Eo[np.arange(units), best]
    beta = _beta(Ef, Er, dbf, dbr, opt, cand, hi, C)
    if not flat:
        return C, beta
    # the constant relaxation (C = 0) is better for a unit whose options spread: keep,
    # per unit, the one with the smaller maximum over the box (both are sound)
    beta0 = _beta(Ef, Er, dbf, dbr, opt, cand, hi, np.zeros_like(C))
    flat = np.maximum(C, 0) @ hi + beta >= beta0
    C[flat] = 0.0
    beta[flat] = beta0[flat]
    return C, beta


def _layer1(target: TargetCNN, pruned: PrunedCNN, D: int, hi: np.ndarray) -> dict[str, Any]:
    """Upper and lower linear relaxations of ``Delta = p - p'`` after layer 1."""
    K, P = target.layers[0], pruned.layers[0]
    Lf, Lr, bf, br = effective_enclosure(P)
    Km = conv_matrix(K.K, D, K.padding, K.stride).toarray()
    Lm = conv_matrix(Lf, D, K.padding, K.stride).toarray()
    Lrm = conv_matrix(Lr, D, K.padding, K.stride).toarray()
    Ef = Km - Lm  # exact E within Er of Ef: subtraction rounding + kernel radius
    Er = round_up(round_up(np.abs(Ef) * 2.0**-52) + Lrm)
    P1 = output_size(D, K.d, K.padding, K.stride)
    c1 = K.c1
    nn = P1 * P1 * c1
    if K.bias is not None:
        dbf = np.tile(K.bias - bf, P1 * P1)
        dbr = np.tile(round_up(round_up(np.abs(K.bias - bf) * 2.0**-52) + br), P1 * P1)
    else:
        dbf, dbr = np.zeros(nn), np.zeros(nn)
    lo0, hi0 = np.zeros((D, D, target.c0)), hi.reshape(D, D, target.c0)
    alo, ahi = interval_conv(K.K, lo0, hi0, padding=K.padding, stride=K.stride)
    glo, ghi = interval_conv(Lf, lo0, hi0, padding=K.padding, stride=K.stride, W_rad=Lr)
    if K.bias is not None:
        alo, ahi = round_down(alo + K.bias), round_up(ahi + K.bias)
        glo = round_down(round_down(glo + bf) - br)
        ghi = round_up(round_up(ghi + bf) + br)
    alo, ahi, glo, ghi = (v.ravel() for v in (alo, ahi, glo, ghi))
    if K.pool == "max":
        grp = pool_groups(P1, c1)
    else:  # per neuron; average pooling combines the neurons' relaxations below
        grp = np.arange(nn)[:, None]
    opt = np.concatenate([np.full((grp.shape[0], 1), -1), grp], axis=1)

    def cands(lo, hi_):
        olo = np.concatenate([np.zeros((grp.shape[0], 1)), lo[grp]], axis=1)
        ohi = np.concatenate([np.zeros((grp.shape[0], 1)), hi_[grp]], axis=1)
        return ohi >= olo.max(axis=1, keepdims=True)

    Cu, bu = _relax_max(Ef, Er, dbf, dbr, opt, cands(alo, ahi), hi)
    Cl, bl = _relax_max(-Ef, Er, -dbf, dbr, opt, cands(glo, ghi), hi)
    Cl, bl = -Cl, -bl  # Delta >= min_m e_m = -max_m (-e_m) >= Cl X + bl
    # g's own pooled activations p' = max(0, a'_1, ..): triangle relaxation above;
    # below, p' >= a'_m for the option with the largest midpoint (or p' >= 0)
    if bf is not None and br is not None:
        gbf, gbr = np.tile(bf, P1 * P1), np.tile(br, P1 * P1)
    else:
        gbf, gbr = np.zeros(nn), np.zeros(nn)
    PCu, Pbu = _relax_max(Lm, Lrm, gbf, gbr, opt, cands(glo, ghi), hi, flat=False)
    mid = (glo[grp] + ghi[grp]) / 2
    pick = np.argmax(mid, axis=1)
    use = mid[np.arange(grp.shape[0]), pick] > 0
    opt_l = np.where(use, grp[np.arange(grp.shape[0]), pick], -1)[:, None]
    PCl, Pbl = _relax_max(-Lm, Lrm, -gbf, gbr, opt_l, np.ones(opt_l.shape, bool), hi,
                          flat=False)
    PCl, Pbl = -PCl, -Pbl
    res = {"Cu": Cu, "bu": bu, "Cl": Cl, "bl": bl, "PCu": PCu, "Pbu": Pbu, "PCl": PCl,
           "Pbl": Pbl}
    if K.pool == "avg":  # mean of 4 neurons' values: the exact 1/4 combination
        g4 = pool_groups(P1, c1)
        for cu, bu_, cl, bl_ in (("Cu", "bu", "Cl", "bl"), ("PCu", "Pbu", "PCl", "Pbl")):
            res[cu], res[bu_] = _avg_combine(res[cu], res[bu_], g4, hi, 1.0)
            res[cl], res[bl_] = _avg_combine(res[cl], res[bl_], g4, hi, -1.0)
    return res


def _avg_combine(C: np.ndarray, b: np.ndarray, g4: np.ndarray, hi: np.ndarray,
                 sgn: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``C X + b`` bounding per-neuron values (above for ``sgn = 1``, below for
    ``-1``) combined into their 2x2 means; the rounding of the float sums moved,
    outward, into the constant."""
    Cp = C[g4].sum(axis=1) * 0.25
    slack = round_up(_nonneg_up(np.abs(C[g4]).sum(axis=1), hi) * _g(4) + 16 * ETA)
    bsum = b[g4].sum(axis=1) * 0.25
    err = round_up(np.abs(b[g4]).sum(axis=1) * _g(4) + 16 * ETA)
    bb = round_up(bsum + round_up(slack + err)) if sgn > 0 else \
        round_down(bsum - round_up(slack + err))
    return Cp, bb


def linear_applies(target: TargetCNN, pruned: PrunedCNN, D: int) -> str | None:
    """None when :func:`linear_bound` applies to this pair, else the reason it does not."""
    if target.ell != 2:
        return f"the linear bound handles two layers, not {target.ell}"
    if not pruned.linearisable():
        return "the linear bound needs a linearisable pruned network"
    K = target.layers[0]
    P1 = output_size(D, K.d, K.padding, K.stride)
    units = P1 * P1 * K.c1
    entries = units * (2 if K.pool != "max" else 5) * D * D * target.c0
    if entries > MAX_LINEAR_ENTRIES:
        return f"layer-1 relaxation table of {entries} floats exceeds {MAX_LINEAR_ENTRIES}"
    return None


def linear_bound(target: TargetCNN, pruned: PrunedCNN, D: int,
                 pruned_boxes: list | None = None) -> tuple[float, dict[str, Any]]:
    """Sound upper bound of ``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max`` by
    linear relaxation of the difference network (see the module docstring).

    Needs two layers (``target.ell == 2``) and a linearisable pruned network.
    Returns ``(bound, details)``; ``details`` holds the per-output bounds
    (``"per_output"``, shape of layer 2's conv output, max of both signs;
    ``"per_sign"``: the bounds of ``e2`` and ``-e2``, flat), the
    relaxation's maximising vertices of the worst outputs (``"vertices"``, inputs
    to replay for a lower bound) and ``"seconds"``.
    """
    t0 = time.perf_counter()
    why = linear_applies(target, pruned, D)
    if why is not None:
        raise ValueError(f"target: {why}")
    c0 = target.c0
    hi = np.ones(D * D * c0)
    l1 = _layer1(target, pruned, D, hi)
    K1, K2, P2 = target.layers[0], target.layers[1], pruned.layers[1]
    P1 = output_size(D, K1.d, K1.padding, K1.stride)
    D2 = P1 // 2 if K1.pool is not None else P1
    boxes = pruned_boxes or interval_pruned(pruned, D, c0)
    phi = np.maximum(boxes[0][1].ravel(), 0.0)  # p' in [0, phi] (after ReLU, >= 0)
    Lf, Lr, bf, br = effective_enclosure(P2)
    Km = conv_matrix(K2.K, D2, K2.padding, K2.stride)
    Lm = conv_matrix(Lf, D2, K2.padding, K2.stride)
    Lrm = conv_matrix(Lr, D2, K2.padding, K2.stride)
    Ef = (Km - Lm).tocsr()
    Er = Ef.copy()
    Er.data = np.abs(Er.data) * 2.0**-52
    Er = Er + Lrm  # |E_exact - Ef| <= Er (up to the rounding of this sum, covered below)
    Er.data = round_up(round_up(Er.data) * (1 + 2.0**-50))
    Q2 = output_size(D2, K2.d, K2.padding, K2.stride)
    c2 = K2.c1
    n2 = Q2 * Q2 * c2
    if K2.bias is not None:
        dbf = np.tile(K2.bias - bf, Q2 * Q2)
        dbr = np.tile(round_up(round_up(np.abs(K2.bias - bf) * 2.0**-52) + br), Q2 * Q2)
    else:
        dbf, dbr = np.zeros(n2), np.zeros(n2)
    n1 = Km.shape[1]
    g1 = _g(n1)
    absU = _nonneg_up(np.abs(l1["Cu"]), hi)  # |Cu| hi, per unit
    absL = _nonneg_up(np.abs(l1["Cl"]), hi)
    absPU = _nonneg_up(np.abs(l1["PCu"]), hi)
    absPL = _nonneg_up(np.abs(l1["PCl"]), hi)
    per_sign: list[np.ndarray] = []
    parts: list[dict[str, np.ndarray]] = []
    vertices = []
    for s in (1.0, -1.0):
        W = Km * s
        Wp, Wn = W.maximum(0).tocsr(), (-W).maximum(0).tocsr()
        Coef = np.asarray(Wp @ l1["Cu"] - Wn @ l1["Cl"])
        # rounding of Coef's rows, moved to the constant: g |W| |M| hi
        slack = round_up(round_up(_nonneg_up(Wp, absU) + _nonneg_up(Wn, absL)) * g1)
        const = np.asarray(Wp @ l1["bu"] - Wn @ l1["bl"]).ravel()
        cerr = round_up(round_up(_nonneg_up(Wp, np.abs(l1["bu"])) +
                                 _nonneg_up(Wn, np.abs(l1["bl"]))) * g1)
        box = _nonneg_up(np.maximum(Coef, 0), hi)
        total = round_up(round_up(box + const) + round_up(slack + cerr + 4 * (n1 + 1) * ETA))
        Eup = Ef * s + Er  # upper enclosure of s E_2 (the sum is rounded: widen)
        Eup.data = round_up(Eup.data)
        Vp, Vn = Eup.maximum(0).tocsr(), (-Eup).maximum(0).tocsr()
        eterm = _nonneg_up(Vp, phi)  # E_2 p' <= (s E_2)^+ phi: interval variant
        dterm = round_up(round_up(s * dbf) + dbr)
        alone = round_up(round_up(total + eterm) + dterm)
        # joint variant: E_2 p' through p''s own relaxations (p' >= 0, so the upper
        # enclosure Eup of s E_2 bounds s E_2 p' from above), maximised with the rest
        n1v = n1 + Vp.shape[1]
        gj = _g(n1v)
        CoefJ = Coef + np.asarray(Vp @ l1["PCu"] - Vn @ l1["PCl"])
        slackJ = round_up(round_up(
            round_up(_nonneg_up(Wp, absU) + _nonneg_up(Wn, absL)) +
            round_up(_nonneg_up(Vp, absPU) + _nonneg_up(Vn, absPL))) * gj)
        constJ = const + np.asarray(Vp @ l1["Pbu"] - Vn @ l1["Pbl"]).ravel()
        cerrJ = round_up(round_up(
            round_up(_nonneg_up(Wp, np.abs(l1["bu"])) + _nonneg_up(Wn, np.abs(l1["bl"]))) +
            round_up(_nonneg_up(Vp, np.abs(l1["Pbu"])) + _nonneg_up(Vn, np.abs(l1["Pbl"]))))
            * gj)
        boxJ = _nonneg_up(np.maximum(CoefJ, 0), hi)
        joint = round_up(round_up(boxJ + constJ) +
                         round_up(slackJ + cerrJ + 8 * (n1v + 1) * ETA))
        joint = round_up(joint + dterm)
        total = np.minimum(alone, joint)
        per_sign.append(total)
        parts.append({"box": box, "const": const, "rounding": slack + cerr, "E2": eterm,
                      "db2": dterm, "alone": alone, "joint": joint})
        vertices.append(np.where((joint < alone)[:, None], CoefJ > 0, Coef > 0))
    per = np.maximum(np.maximum(per_sign[0], per_sign[1]), 0.0)
    per3 = per.reshape(Q2, Q2, c2)
    if K2.pool is not None:  # only the windows the pooling reads (floor mode)
        R = (Q2 // 2) * 2
        read = per3[:R, :R]
    else:
        read = per3
    bound = float(np.max(read)) if read.size else 0.0
    order = np.argsort(-per)[:8]
    verts = []
    for k in order:
        sgn = 0 if per_sign[0][k] >= per_sign[1][k] else 1
        verts.append(vertices[sgn][k].reshape(D, D, c0).astype(float))
    return bound, {"per_output": per3, "per_sign": np.stack(per_sign), "parts": parts,
                   "vertices": verts, "worst_outputs": order,
                   "seconds": time.perf_counter() - t0}
