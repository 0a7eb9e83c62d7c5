"""Certify a user's pruned random network against a target network.

File layout (``.npz``, read with ``allow_pickle=False``; paper layout):

* target ``T.npz``: ``K1 .. Kl`` kernels (d, d, c_{i-1}, c_i); optional
  ``b1 .. bl`` biases (c_i,);
* random ``R.npz``: ``U1 .. Ul`` (d, d, c_{i-1}, n_i) and ``V1 .. Vl``
  (1, 1, n_i, c_i); with biases, ``Ub1 .. Ubl`` (n_i,);
* masks ``M.npz``: ``S1 .. Sl`` (shape of U_i) and ``T1 .. Tl`` (shape of
  V_i), 0/1 or bool; with biases, ``Sb1 .. Sbl``.

Paper padding, stride 1, no pooling, no ReLU after the last layer (Theorem 1's
class of networks).  The verdict: ``holds`` when the sound certified upper
bound on ``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max`` is below eps,
``violated`` when an input replayed in exact arithmetic attains eps or more,
``unknown`` otherwise.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from ..certify import sup_error
from ..construction import PrunedCNN, PrunedLayer
from ..network import ConvLayer, TargetCNN
from . import Verdict


def _load(path: str | Path, what: str) -> dict[str, np.ndarray]:
    """Read one .npz of numeric arrays, headers checked before allocating (exit 2 if bad)."""
    from ..files import load_npz

    return load_npz(path, what)


def _seq(arrs: dict[str, np.ndarray], prefix: str, what: str) -> list[np.ndarray]:
    out, i = [], 1
    while f"{prefix}{i}" in arrs:
        out.append(arrs[f"{prefix}{i}"])
        i += 1
    if not out:
        raise ValueError(f"{what}: expected arrays {prefix}1, {prefix}2, ...; found "
                         f"{sorted(arrs)}")
    return out


def load_networks(target: str | Path, random: str | Path,
                  masks: str | Path) -> tuple[TargetCNN, PrunedCNN]:
    """Read the three files (layout in the module docstring)."""
    T, R, M = _load(target, "--target"), _load(random, "--random"), _load(masks, "--masks")
    Ks = _seq(T, "K", "--target")
    ell = len(Ks)
    bs = [T.get(f"b{i}") for i in range(1, ell + 1)]
    Us, Vs = _seq(R, "U", "--random"), _seq(R, "V", "--random")
    Ss, Ts = _seq(M, "S", "--masks"), _seq(M, "T", "--masks")
    for name, seq in (("U", Us), ("V", Vs), ("S", Ss), ("T", Ts)):
        if len(seq) != ell:
            raise ValueError(f"{name}: expected {ell} arrays (one per target layer), got "
                             f"{len(seq)}")
    target_net = TargetCNN([ConvLayer(K, bias=b) for K, b in zip(Ks, bs)])
    layers = []
    for i in range(ell):
        Ub, Sb = R.get(f"Ub{i + 1}"), M.get(f"Sb{i + 1}")
        layers.append(PrunedLayer(Us[i], Vs[i], Ss[i], Ts[i], Ub, Sb))
    return target_net, PrunedCNN(layers)


def validate_pruned(target: str | Path, random: str | Path, masks: str | Path, *,
                    eps: float = 0.1, D: int | None = None) -> Verdict:
    if not (isinstance(eps, (int, float)) and 0 < eps and np.isfinite(eps)):
        raise ValueError(f"--eps: expected a positive number, got {eps!r}")
    f, g = load_networks(target, random, masks)
    D = D or max(L.d for L in f.layers) + 1
    cert = sup_error(f, g, D=D)
    e = Fraction(float(eps))
    config = {"target": str(target), "random": str(random), "masks": str(masks), "eps": eps,
              "D": D, "method": cert.method}
    interval = f"[{float(cert.lower):.6g}, " + (f"{float(cert.upper):.6g}]" if cert.upper
                                                is not None else "?]")
    if cert.lower >= e:
        return Verdict("violated", f"sup error >= eps = {eps}: an input in [0,1]^({D},{D},"
                       f"{f.c0}) replayed exactly gives {float(cert.lower):.6g}; certified "
                       f"interval {interval}", {"X": cert.witness.tolist(),
                                                "error": float(cert.lower)}, None, [], config)
    if cert.upper is not None and cert.upper < e:
        return Verdict("holds", f"sup error certified in {interval} < eps = {eps} "
                       f"({cert.method})", None, None, [], config)
    return Verdict("unknown", f"sup error in {interval}: neither below eps = {eps} nor "
                   "attained", None, None, [], config)
