"""The one file encoding of a (target, pruned) pair (``.npz``, layers numbered from 1).

Used by ``slth-check validate pruned`` (three files: target, random layers, masks),
by the witnesses of the claims (one file) and by the tests.  Read with the safe
reader of :mod:`slth_check.fileio.files` (headers checked before allocating, never
unpickled).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from slth_check.network import ConvLayer, TargetCNN
from slth_check.pruned import PrunedCNN, PrunedLayer, binary_mask


def _sequence(arrs: dict[str, np.ndarray], prefix: str, what: str,
              required: bool = True) -> list[np.ndarray]:
    """The arrays ``prefix1 .. prefixL`` of ``arrs``, numbered from 1 without a gap
    (``K1, K3`` is refused, never read as a one-layer network)."""
    found = sorted(int(m.group(1)) for k in arrs
                   if (m := re.fullmatch(re.escape(prefix) + r"([0-9]+)", k)))
    if not found:
        if required:
            raise ValueError(f"{what}: expected arrays {prefix}1, {prefix}2, ...; found "
                             f"{sorted(arrs)}")
        return []
    if found != list(range(1, len(found) + 1)):
        raise ValueError(f"{what}: expected arrays {prefix}1 .. {prefix}{len(found)} "
                         f"numbered from 1 without a gap, found "
                         f"{', '.join(prefix + str(i) for i in found)}")
    return [arrs[f"{prefix}{i}"] for i in found]


def _optional(arrs: dict[str, np.ndarray], prefix: str, what: str,
              ell: int) -> list[np.ndarray | None]:
    """Optional per-layer arrays (biases, bias masks): any subset of ``1..ell``."""
    out: list[np.ndarray | None] = [None] * ell
    for k in arrs:
        if (m := re.fullmatch(re.escape(prefix) + r"([0-9]+)", k)):
            i = int(m.group(1))
            if not 1 <= i <= ell:
                raise ValueError(f"{what}: {k} names layer {i}, but the network has layers "
                                 f"1 .. {ell}")
            out[i - 1] = arrs[k]
    return out


def network_arrays(target: TargetCNN | None = None,
                   pruned: PrunedCNN | None = None) -> dict[str, np.ndarray]:
    """The one .npz encoding of a (target, pruned) pair, layers numbered from 1:
    ``K1..Kl`` and optional ``b1..bl`` (target); ``U1..Ul``, ``V1..Vl`` and optional
    ``Ub1..Ubl`` (random layers); ``S1..Sl``, ``T1..Tl`` and optional ``Sb1..Sbl``
    (masks).  Paper padding, stride 1, no pooling (Theorem 1's networks) unless the
    layers say otherwise; only the arrays are stored."""
    out: dict[str, np.ndarray] = {}
    for i, L in enumerate(target.layers if target is not None else (), 1):
        out[f"K{i}"] = L.K
        if L.bias is not None:
            out[f"b{i}"] = L.bias
    for i, P in enumerate(pruned.layers if pruned is not None else (), 1):
        out.update({f"U{i}": P.U, f"V{i}": P.V, f"S{i}": P.S, f"T{i}": P.T})
        if P.Ub is not None and P.Sb is not None:  # both or neither (PrunedLayer checks)
            out.update({f"Ub{i}": P.Ub, f"Sb{i}": P.Sb})
    return out


def networks_from_arrays(T: dict[str, np.ndarray], R: dict[str, np.ndarray],
                         M: dict[str, np.ndarray], *,
                         names: tuple[str, str, str] = ("target", "random", "masks")
                         ) -> tuple[TargetCNN, PrunedCNN]:
    """Inverse of :func:`network_arrays` (the three dicts may be one and the same);
    ``names`` name the sources in error messages."""
    for arrs, what in ((T, names[0]), (R, names[1])):  # masks: binary_mask below
        for key, arr in arrs.items():
            a = np.asarray(arr)
            if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
                raise ValueError(f"{what}: array {key} holds NaN or Inf (expected finite "
                                 "values)")
    Ks = _sequence(T, "K", names[0])
    ell = len(Ks)
    bs = _optional(T, "b", names[0], ell)
    Us, Vs = _sequence(R, "U", names[1]), _sequence(R, "V", names[1])
    Ss, Ts = _sequence(M, "S", names[2]), _sequence(M, "T", names[2])
    Ubs, Sbs = _optional(R, "Ub", names[1], ell), _optional(M, "Sb", names[2], ell)
    for (name, what), seq in zip(((("U", names[1]), ("V", names[1]), ("S", names[2]),
                                   ("T", names[2]))), (Us, Vs, Ss, Ts)):
        if len(seq) != ell:
            raise ValueError(f"{what}: expected {ell} arrays {name}1 .. {name}{ell} (one per "
                             f"target layer), got {len(seq)}")
    for i in range(ell):
        masks: tuple[tuple[np.ndarray | None, str], ...] = ((Ss[i], "S"), (Ts[i], "T"),
                                                             (Sbs[i], "Sb"))
        for mask, name in masks:
            if mask is not None:
                try:
                    binary_mask(mask, f"{name}{i + 1}")
                except ValueError as e:
                    raise ValueError(f"{names[2]}: {e}") from None
    target = TargetCNN([ConvLayer(K, bias=b) for K, b in zip(Ks, bs)])
    layers = [PrunedLayer(Us[i], Vs[i], Ss[i], Ts[i], Ubs[i], Sbs[i]) for i in range(ell)]
    return target, PrunedCNN(layers)


def save_networks(target_path: Any, random_path: Any, masks_path: Any, target: TargetCNN,
                  pruned: PrunedCNN) -> None:
    """Write the three files of ``slth-check validate pruned`` (:func:`network_arrays`)."""
    from slth_check.fileio.files import atomic_write, npz_bytes

    arrays = network_arrays(target, pruned)
    for path, keys in ((target_path, ("K", "b")), (random_path, ("U", "V", "Ub")),
                       (masks_path, ("S", "T", "Sb"))):
        part = {k: v for k, v in arrays.items() if k.rstrip("0123456789") in keys}
        atomic_write(path, npz_bytes(part))


def load_networks(target_path: Any, random_path: Any,
                  masks_path: Any) -> tuple[TargetCNN, PrunedCNN]:
    """Read the three files (:func:`network_arrays`; headers checked before allocating,
    never unpickled)."""
    from slth_check.fileio.files import load_npz

    T = load_npz(target_path, "--target")
    R = load_npz(random_path, "--random")
    M = load_npz(masks_path, "--masks")
    return networks_from_arrays(T, R, M, names=(f"--target {target_path}",
                                               f"--random {random_path}",
                                               f"--masks {masks_path}"))
