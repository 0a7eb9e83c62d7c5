"""Sound linear relaxations of pooled ReLU units and their back-substitution.

The pieces of the linear bound (:mod:`~slth_check.certify.linear`).  A *row*
``(C, c)`` bounds a quantity ``q(X)`` when ``q(X) <= C X + c`` holds for every ``X`` in the
box ``[0, hi]`` with ``C X`` the *exact* product of the float row and ``X``: the
coefficients are any floats (heuristics choose them), the constants carry every
rounding, outward (Higham, eq. 3.5: a float dot product of length n is within
``gamma_n |a|.|b| + n eta`` of the exact one, in any order).

For a pooled unit ``p_i = max(0, a_1, .., a_4)`` (``a_m = E_m X + db_m``, the exact
``E_m`` within ``Er`` of the float ``Ef``; options that cannot be the argmax by
the interval bounds are left out) :func:`relax_max` builds ``C_i X + beta_i >=
max_m e_m(X)``: the triangle relaxation of ``max(0, e)`` around the option with
the largest range, ``beta_i`` an outward-rounded upper bound of ``max_X max_m
(e_m - C_i X)`` over every candidate option, so the inequality holds for *any*
``C_i``.  Below, ``p_i >= a_m`` for the option with the largest midpoint, or
``p_i >= 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from slth_check.arithmetic import gamma
from slth_check.certify.interval import (
    ETA,
    effective_enclosure,
    interval_conv,
    round_down,
    round_up,
)
from slth_check.conv import output_size
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

__all__ = ["back_substitute", "box_max", "gamma2", "layer1_relaxation", "nonneg_up",
           "pool_groups", "relax_max"]


def pool_groups(P: int, c: int, size: int = 2) -> np.ndarray:
    """Indices (into a ``(P, P, c)`` array, C order) of each pooling window:
    shape ``(Q*Q*c, size*size)`` with ``Q = P // size`` (floor mode)."""
    Q = P // size
    idx = np.arange(P * P * c).reshape(P, P, c)[:Q * size, :Q * size]
    idx = idx.reshape(Q, size, Q, size, c).transpose(0, 2, 4, 1, 3)
    return idx.reshape(Q * Q * c, size * size)


def unit_groups(P: int, c: int, pool: str | None) -> np.ndarray:
    """The units behind each output of a ``(P, P, c)`` layer: its pooling windows
    (:func:`pool_groups`), or one unit each without pooling."""
    return pool_groups(P, c) if pool else np.arange(P * P * c)[:, None]


def two_layer_sizes(target: TargetCNN, D: int) -> tuple[int, int, int]:
    """``(P1, D2, Q2)`` of a two-layer target on ``D x D`` inputs: layer 1's output side,
    layer 2's input side (after pooling) and layer 2's output side (before pooling)."""
    K1, K2 = target.layers
    P1 = output_size(D, K1.d, K1.padding, K1.stride)
    D2 = P1 // 2 if K1.pool is not None else P1
    return P1, D2, output_size(D2, K2.d, K2.padding, K2.stride)


def gamma2(n: int) -> float:
    """An upper bound of ``2 gamma_n`` as a float (the factor 2 covers its own use)."""
    return float(round_up(np.float64(float(gamma(int(n) + 2)) * 2)))


def nonneg_up(A: Any, v: np.ndarray) -> np.ndarray:
    """Upper bound of the exact ``A @ v`` for non-negative A (dense or sparse) and v."""
    n = A.shape[1]
    P = np.asarray(A @ v, dtype=float)
    return round_up(round_up(P * round_up(np.float64(1 + gamma2(n)))) + 4 * (n + 1) * ETA)


def box_max(C: np.ndarray, c: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Upper bound of ``max_{X in [0, hi]} C X + c`` per row (``sum C^+ hi + c``)."""
    return round_up(nonneg_up(np.maximum(C, 0), hi) + c)


def back_substitute(Wp: Any, Wn: Any, Cu: np.ndarray, bu: np.ndarray, Cl: np.ndarray,
                    bl: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row ``(C, c)`` with ``Wp v - Wn v <= C X + c`` on ``[0, hi]`` for non-negative
    float matrices ``Wp``, ``Wn`` and any ``v`` with ``Cl X + bl <= v <= Cu X + bu``.

    ``C = fl(Wp Cu - Wn Cl)``; its rounding moves ``C X`` by at most
    ``g (Wp |Cu| + Wn |Cl|) hi``, added to the constant with the rounding of
    ``Wp bu - Wn bl``, upward.
    """
    n = Wp.shape[1]
    g = gamma2(n + 1)
    C = np.asarray(Wp @ Cu - Wn @ Cl)
    slack = round_up(round_up(nonneg_up(Wp, nonneg_up(np.abs(Cu), hi)) +
                              nonneg_up(Wn, nonneg_up(np.abs(Cl), hi))) * g)
    const = np.asarray(Wp @ bu - Wn @ bl).ravel()
    cerr = round_up(round_up(nonneg_up(Wp, np.abs(bu)) + nonneg_up(Wn, np.abs(bl))) * g)
    return C, round_up(const + round_up(slack + cerr + 8 * (n + 1) * ETA))


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
        z = nonneg_up(np.maximum(-C, 0), hi)
        beta = np.where(zero_in, np.maximum(beta, z), beta)
    for j in range(slots):
        on = real[:, j]
        if not on.any():
            continue
        diff = round_up(round_up(Ef[rows[on, j]] - C[on]) + Er[rows[on, j]])
        m = nonneg_up(np.maximum(diff, 0), hi)
        m = round_up(m + round_up(dbf[rows[on, j]] + dbr[rows[on, j]]))
        beta[on] = np.maximum(beta[on], m)
    return beta


def relax_max(Ef: np.ndarray, Er: np.ndarray, dbf: np.ndarray, dbr: np.ndarray,
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


def _own_pooled(M: np.ndarray, Mr: np.ndarray, b: np.ndarray, br: np.ndarray,
                opt: np.ndarray, cand: np.ndarray, lo: np.ndarray, hi_: np.ndarray,
                grp: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows above and below one network's own pooled units ``max(0, a_1, ..)``
    (``a = M X + b``): the triangle relaxation above; below, ``a_m`` for the option
    with the largest midpoint, or 0."""
    Cu, bu = relax_max(M, Mr, b, br, opt, cand, hi, flat=False)
    mid = (lo[grp] + hi_[grp]) / 2
    pick = np.argmax(mid, axis=1)
    use = mid[np.arange(grp.shape[0]), pick] > 0
    opt_l = np.where(use, grp[np.arange(grp.shape[0]), pick], -1)[:, None]
    Cl, bl = relax_max(-M, Mr, -b, br, opt_l, np.ones(opt_l.shape, bool), hi, flat=False)
    return Cu, bu, -Cl, -bl


def layer1_relaxation(target: TargetCNN, pruned: PrunedCNN, D: int, hi: np.ndarray,
                      conv_matrix: Any) -> dict[str, Any]:
    """Rows above and below ``Delta = p - p'`` (``Cu, bu, Cl, bl``) and g's pooled
    activations ``p'`` (``PCu, Pbu, PCl, Pbl``) after layer 1 (see the module
    docstring); ``conv_matrix`` builds the sparse convolution matrices."""
    K, P = target.layers[0], pruned.layers[0]
    Lf, Lr, bf, br = effective_enclosure(P)
    Km = conv_matrix(K.K, D, K.padding, K.stride).toarray()
    Lm = conv_matrix(Lf, D, K.padding, K.stride).toarray()
    Lrm = conv_matrix(Lr, D, K.padding, K.stride).toarray()
    Ef = Km - Lm  # exact E within Er of Ef: subtraction rounding + kernel radius
    Er = round_up(round_up(np.abs(Ef) * 2.0**-52) + Lrm)
    P1 = output_size(D, K.d, K.padding, K.stride)
    nn = P1 * P1 * K.c1
    zero = np.zeros(nn)
    fb = np.tile(K.bias, P1 * P1) if K.bias is not None else zero
    gbf, gbr = (np.tile(bf, P1 * P1), np.tile(br, P1 * P1)) if bf is not None and \
        br is not None else (zero, zero)
    dbf = fb - gbf
    dbr = round_up(round_up(np.abs(dbf) * 2.0**-52) + gbr)
    lo0, hi0 = np.zeros((D, D, target.c0)), hi.reshape(D, D, target.c0)
    alo, ahi = interval_conv(K.K, lo0, hi0, padding=K.padding, stride=K.stride)
    glo, ghi = interval_conv(Lf, lo0, hi0, padding=K.padding, stride=K.stride, W_rad=Lr)
    if K.bias is not None:
        alo, ahi = round_down(alo + K.bias), round_up(ahi + K.bias)
        glo = round_down(round_down(glo + bf) - br)
        ghi = round_up(round_up(ghi + bf) + br)
    alo, ahi, glo, ghi = (v.ravel() for v in (alo, ahi, glo, ghi))
    # per pooling window for max pooling; per neuron otherwise (average pooling
    # combines the neurons' relaxations below)
    grp = pool_groups(P1, K.c1) if K.pool == "max" else np.arange(nn)[:, None]
    opt = np.concatenate([np.full((grp.shape[0], 1), -1), grp], axis=1)

    def cands(lo, hi_):
        olo = np.concatenate([np.zeros((grp.shape[0], 1)), lo[grp]], axis=1)
        ohi = np.concatenate([np.zeros((grp.shape[0], 1)), hi_[grp]], axis=1)
        return ohi >= olo.max(axis=1, keepdims=True)

    Cu, bu = relax_max(Ef, Er, dbf, dbr, opt, cands(alo, ahi), hi)
    Cl, bl = relax_max(-Ef, Er, -dbf, dbr, opt, cands(glo, ghi), hi)
    res = {"Cu": Cu, "bu": bu, "Cl": -Cl, "bl": -bl}  # Delta >= min_m e_m = -max_m (-e_m)
    res.update(zip(("PCu", "Pbu", "PCl", "Pbl"), _own_pooled(
        Lm, Lrm, gbf, gbr, opt, cands(glo, ghi), glo, ghi, grp, hi)))
    if K.pool == "avg":  # mean of 4 neurons' values: the exact 1/4 combination
        g4 = pool_groups(P1, K.c1)
        for pre in ("", "P"):
            res[pre + "Cu"], res[pre + "bu"] = _avg_combine(res[pre + "Cu"], res[pre + "bu"],
                                                            g4, hi, 1.0)
            res[pre + "Cl"], res[pre + "bl"] = _avg_combine(res[pre + "Cl"], res[pre + "bl"],
                                                            g4, hi, -1.0)
    return res


def _avg_combine(C: np.ndarray, b: np.ndarray, g4: np.ndarray, hi: np.ndarray,
                 sgn: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``C X + b`` bounding per-neuron values (above for ``sgn = 1``, below for
    ``-1``) combined into their 2x2 means; the rounding of the float sums moved,
    outward, into the constant."""
    Cp = C[g4].sum(axis=1) * 0.25
    slack = round_up(nonneg_up(np.abs(C[g4]).sum(axis=1), hi) * gamma2(4) + 16 * ETA)
    bsum = b[g4].sum(axis=1) * 0.25
    err = round_up(np.abs(b[g4]).sum(axis=1) * gamma2(4) + 16 * ETA)
    bb = round_up(bsum + round_up(slack + err)) if sgn > 0 else \
        round_down(bsum - round_up(slack + err))
    return Cp, bb
