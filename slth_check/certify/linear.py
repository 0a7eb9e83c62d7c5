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

from slth_check.certify.interval import effective_enclosure, interval_pruned, round_up
from slth_check.certify.relax import (
    back_substitute,
    box_max,
    layer1_relaxation,
    nonneg_up,
    pool_groups,
)
from slth_check.conv import Padding, crop_window, output_size
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

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


def _second_layer(K2: Any, P2: Any, D2: int) -> tuple[Any, Any, Any, np.ndarray, np.ndarray,
                                                        int, int]:
    """Layer 2's matrices: ``Km`` (the target's), ``Ef`` (target minus the float effective
    kernel) and ``Er`` (its proven radius: ``|E_exact - Ef| <= Er``), the bias difference
    ``dbf`` with its radius ``dbr``, the output size ``Q2`` and channels ``c2``."""
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
    return Km, Ef, Er, dbf, dbr, Q2, c2


def _one_sign(s: float, Km: Any, Ef: Any, Er: Any, dbf: np.ndarray, dbr: np.ndarray,
              phi: np.ndarray, l1: dict[str, Any], stack: dict[str, Any], hi: np.ndarray
              ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray]:
    """The bounds of ``s e_2`` (s = +-1): by back-substitution of K_2 Delta with E_2 p'
    bounded by intervals (``alone``), and jointly through p''s own relaxations
    (``joint``); the better affine row of each output."""
    W = Km * s
    Wp, Wn = W.maximum(0).tocsr(), (-W).maximum(0).tocsr()
    Eup = Ef * s + Er  # upper enclosure of s E_2 (the sum is rounded: widen)
    Eup.data = round_up(Eup.data)
    Vp, Vn = Eup.maximum(0).tocsr(), (-Eup).maximum(0).tocsr()
    dterm = round_up(round_up(s * dbf) + dbr)
    # K_2 Delta by back-substitution, E_2 p' <= (s E_2)^+ phi by intervals
    C, c = back_substitute(Wp, Wn, l1["Cu"], l1["bu"], l1["Cl"], l1["bl"], hi)
    c = round_up(round_up(c + nonneg_up(Vp, phi)) + dterm)
    # joint variant: E_2 p' through p''s own relaxations (p' >= 0, so the upper
    # enclosure Eup of s E_2 bounds s E_2 p' from above), maximised with the rest
    CJ, cJ = back_substitute(sp.hstack([Wp, Vp]).tocsr(), sp.hstack([Wn, Vn]).tocsr(),
                             stack["Cu"], stack["bu"], stack["Cl"], stack["bl"], hi)
    cJ = round_up(cJ + dterm)
    alone, joint = box_max(C, c, hi), box_max(CJ, cJ, hi)
    use = joint < alone
    return (np.where(use[:, None], CJ, C), np.where(use, cJ, c)), alone, joint


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
    l1 = layer1_relaxation(target, pruned, D, hi, conv_matrix)
    K1, K2, P2 = target.layers[0], target.layers[1], pruned.layers[1]
    P1 = output_size(D, K1.d, K1.padding, K1.stride)
    D2 = P1 // 2 if K1.pool is not None else P1
    boxes = pruned_boxes or interval_pruned(pruned, D, c0)
    phi = np.maximum(boxes[0][1].ravel(), 0.0)  # p' in [0, phi] (after ReLU, >= 0)
    Km, Ef, Er, dbf, dbr, Q2, c2 = _second_layer(K2, P2, D2)
    per_sign: list[np.ndarray] = []
    parts: list[dict[str, np.ndarray]] = []
    rows, vertices = [], []
    stack = {k: np.concatenate([l1[k], l1["P" + k]]) for k in ("Cu", "bu", "Cl", "bl")}
    for s in (1.0, -1.0):
        row, alone, joint = _one_sign(s, Km, Ef, Er, dbf, dbr, phi, l1, stack, hi)
        rows.append(row)
        per_sign.append(np.minimum(alone, joint))
        parts.append({"alone": alone, "joint": joint})
        vertices.append(row[0] > 0)
    per = np.maximum(np.maximum(per_sign[0], per_sign[1]), 0.0)
    per3 = per.reshape(Q2, Q2, c2)
    if K2.pool is not None:  # only the windows the pooling reads (floor mode)
        R = (Q2 // 2) * 2
        read = per3[:R, :R]
    else:
        read = per3
    bound = float(np.max(read)) if read.size else 0.0
    order = np.argsort(-per)[:8]
    verts = [vertices[0 if per_sign[0][k] >= per_sign[1][k] else 1][k].reshape(D, D, c0)
             .astype(float) for k in order]
    return bound, {"per_output": per3, "per_sign": np.stack(per_sign), "parts": parts,
                   "rows": rows, "layer1": l1,
                   "vertices": verts, "worst_outputs": order,
                   "seconds": time.perf_counter() - t0}
