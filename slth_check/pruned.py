"""Pruned random networks (Lemma 2, Theorem 1): the random pairs (U, V) with their masks
(S, T) and optional biases, and the network they emulate (Eq. 2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from slth_check.arithmetic import to_fraction
from slth_check.conv import Padding, Pool, conv2d, conv2d_exact, relu
from slth_check.dyadic import exact_matmul
from slth_check.network import ConvLayer, LayeredCNN, TargetCNN
from slth_check.tensors import as_float_array

if TYPE_CHECKING:
    from slth_check.rss.result import RSSResult


def check_shape(a: np.ndarray, name: str, shape: tuple[int, ...]) -> None:
    """Raise a ValueError naming ``name`` unless ``a`` has exactly ``shape``."""
    if a.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {a.shape}")


def binary_mask(a: Any, name: str) -> np.ndarray:
    """``a`` as a bool array; a ValueError naming ``name`` unless every entry is a bool,
    0 or 1 (0.5, 2, -1 and NaN are refused, never read as "kept")."""
    arr = np.asarray(a)
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind not in "iuf" or not np.isin(arr, (0, 1)).all():
        bad = arr.ravel()[~np.isin(arr.ravel(), (0, 1))][:3] if arr.dtype.kind in "iuf" \
            else arr.dtype
        raise ValueError(f"{name}: expected a binary mask (bool or 0/1), got {bad!r}")
    return arr.astype(bool)


@dataclass
class PrunedLayer:
    """One emulated target layer: the random pair (U, V), masks (S, T), optional biases."""

    U: np.ndarray
    V: np.ndarray
    S: np.ndarray
    T: np.ndarray
    Ub: np.ndarray | None = None
    Sb: np.ndarray | None = None
    padding: Padding = "paper"
    stride: int = 1
    pool: Pool | None = None
    rss: dict[tuple, RSSResult] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.U = as_float_array(self.U, "U", ndim=4)
        self.V = as_float_array(self.V, "V", ndim=4)
        d, d2, c0, n = self.U.shape
        if d != d2:
            raise ValueError(f"U: expected a square kernel (d, d, c0, n), got {self.U.shape}")
        if self.V.shape[:3] != (1, 1, n):
            raise ValueError(f"V: expected shape (1, 1, {n}, c1), got {self.V.shape}")
        self.S = binary_mask(self.S, "S")
        self.T = binary_mask(self.T, "T")
        check_shape(self.S, "S", self.U.shape)
        check_shape(self.T, "T", self.V.shape)
        if (self.Ub is None) != (self.Sb is None):
            raise ValueError("Ub, Sb: expected both or neither")
        if self.Ub is not None:
            self.Ub = as_float_array(self.Ub, "Ub", ndim=1)
            check_shape(self.Ub, "Ub", (n,))
            self.Sb = binary_mask(self.Sb, "Sb")
            check_shape(self.Sb, "Sb", (n,))

    @property
    def n(self) -> int:
        return self.U.shape[3]

    @property
    def c1(self) -> int:
        return self.V.shape[3]

    def linearisable(self) -> bool:
        """True when every kept entry of U (and Ub) is >= 0: then Eq. 1-2 hold for X >= 0."""
        ok = bool(np.all(self.U[self.S] >= 0))
        if self.Ub is not None:
            ok = ok and bool(np.all(self.Ub[self.Sb] >= 0))
        return ok

    def effective_kernel(self, exact: bool = False) -> np.ndarray:
        """``L[i,j,k,l] = sum_t V[t,l] T[t,l] U[i,j,k,t] S[i,j,k,t]`` (Eq. 2)."""
        US = np.where(self.S, self.U, 0.0)
        VT = np.where(self.T, self.V, 0.0)[0, 0]  # (n, c1)
        if exact:
            return exact_matmul(US, VT)
        return US @ VT

    def kept_bias(self) -> np.ndarray | None:
        """``Ub . Sb``: the kept random biases, zero elsewhere (None without biases)."""
        if self.Ub is None or self.Sb is None:  # both or neither (checked on construction)
            return None
        return np.where(self.Sb, self.Ub, 0.0)

    def effective_bias(self, exact: bool = False) -> np.ndarray | None:
        ub = self.kept_bias()
        if ub is None:
            return None
        VT = np.where(self.T, self.V, 0.0)[0, 0]
        if exact:
            return exact_matmul(ub, VT)
        return ub @ VT

    def n_random(self) -> int:
        """Parameters of the random pair (U, V and Ub)."""
        return self.U.size + self.V.size + (0 if self.Ub is None else self.Ub.size)

    def n_kept(self) -> int:
        return int(self.S.sum() + self.T.sum() + (0 if self.Sb is None else self.Sb.sum()))


@dataclass
class PrunedCNN(LayeredCNN):
    """The pruned random network ``g_S`` of Theorem 1 (2 random layers per target layer)."""

    layers: Sequence[PrunedLayer]
    final_relu: bool = False

    @property
    def ell(self) -> int:
        return len(self.layers)

    def _pre(self, i: int, X: np.ndarray, exact: bool) -> np.ndarray:
        """``(V . T) * sigma((U . S) * X + Ub . Sb)`` for emulated layer i."""
        conv = conv2d_exact if exact else conv2d
        L = self.layers[i]
        Z = conv(np.where(L.S, L.U, 0.0), X, padding=L.padding, stride=L.stride)
        ub = L.kept_bias()
        if ub is not None:
            Z = Z + (to_fraction(ub) if exact else ub)
        return conv(np.where(L.T, L.V, 0.0), relu(Z))

    def linearisable(self) -> bool:
        return all(L.linearisable() for L in self.layers)

    def effective_network(self) -> TargetCNN:
        """The target-shaped network of effective kernels (equal to g on X >= 0 when
        linearisable, by Eq. 1-2 applied layer by layer)."""
        return TargetCNN([ConvLayer(L.effective_kernel(), bias=L.effective_bias(),
                                    padding=L.padding, stride=L.stride, pool=L.pool)
                          for L in self.layers], final_relu=self.final_relu)

    def n_random(self) -> int:
        return sum(L.n_random() for L in self.layers)

    def n_kept(self) -> int:
        return sum(L.n_kept() for L in self.layers)

    def size_table(self) -> list[dict[str, Any]]:
        """Per layer: random parameters, kept weights, target parameters, ratio."""
        rows = []
        for i, L in enumerate(self.layers, 1):
            d, _, c0, n = L.U.shape
            tgt = d * d * c0 * L.c1 + (L.c1 if L.Ub is not None else 0)
            rows.append({"layer": i, "d": d, "c0": c0, "c1": L.c1, "n": n,
                         "random": L.n_random(), "kept": L.n_kept(), "target": tgt,
                         "ratio": L.n_random() / tgt})
        return rows


__all__ = ["PrunedCNN", "PrunedLayer", "binary_mask", "check_shape"]
