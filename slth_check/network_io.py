"""The one file encoding of a (target, pruned) pair (``.npz``, layers numbered from 1).

Used by ``slth-check validate pruned`` (three files: target, random layers, masks),
by the witnesses of the claims (one file) and by the tests.  Read with the safe
reader of :mod:`slth_check.files` (headers checked before allocating, never
unpickled).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .network import ConvLayer, PrunedCNN, PrunedLayer, TargetCNN


def _sequence(arrs: dict[str, np.ndarray], prefix: str, what: str) -> list[np.ndarray]:
    out, i = [], 1
    while f"{prefix}{i}" in arrs:
        out.append(arrs[f"{prefix}{i}"])
        i += 1
    if not out:
        raise ValueError(f"{what}: expected arrays {prefix}1, {prefix}2, ...; found "
                         f"{sorted(arrs)}")
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
    Ks = _sequence(T, "K", names[0])
    ell = len(Ks)
    bs = [T.get(f"b{i}") for i in range(1, ell + 1)]
    Us, Vs = _sequence(R, "U", names[1]), _sequence(R, "V", names[1])
    Ss, Ts = _sequence(M, "S", names[2]), _sequence(M, "T", names[2])
    for name, seq in (("U", Us), ("V", Vs), ("S", Ss), ("T", Ts)):
        if len(seq) != ell:
            raise ValueError(f"{name}: expected {ell} arrays (one per target layer), got "
                             f"{len(seq)}")
    target = TargetCNN([ConvLayer(K, bias=b) for K, b in zip(Ks, bs)])
    layers = [PrunedLayer(Us[i], Vs[i], Ss[i], Ts[i], R.get(f"Ub{i + 1}"), M.get(f"Sb{i + 1}"))
              for i in range(ell)]
    return target, PrunedCNN(layers)


def save_networks(target_path: Any, random_path: Any, masks_path: Any, target: TargetCNN,
                  pruned: PrunedCNN) -> None:
    """Write the three files of ``slth-check validate pruned`` (:func:`network_arrays`)."""
    from .files import atomic_write

    arrays = network_arrays(target, pruned)
    for path, keys in ((target_path, ("K", "b")), (random_path, ("U", "V", "Ub")),
                       (masks_path, ("S", "T", "Sb"))):
        part = {k: v for k, v in arrays.items() if k.rstrip("0123456789") in keys}
        buf = io.BytesIO()
        np.savez(buf, **part)  # type: ignore[arg-type]  # numpy stub: **arrays vs allow_pickle
        atomic_write(path, buf.getvalue())


def load_networks(target_path: Any, random_path: Any,
                  masks_path: Any) -> tuple[TargetCNN, PrunedCNN]:
    """Read the three files (:func:`network_arrays`; headers checked before allocating,
    never unpickled)."""
    from .files import load_npz

    T = load_npz(target_path, "--target")
    R = load_npz(random_path, "--random")
    M = load_npz(masks_path, "--masks")
    return networks_from_arrays(T, R, M, names=("--target", "--random", "--masks"))
