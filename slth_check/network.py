"""Target CNNs ``f(X) = K_l * sigma(... sigma(K_1 * X))`` (Theorem 1's class F).

A :class:`TargetCNN` is a list of :class:`ConvLayer`; each layer computes
``conv2d(K, X, padding, stride) + bias``, then the ReLU (every layer but the
last, unless ``final_relu``), then an optional 2x2 pooling.  The theorems use
no biases, stride 1 and the paper's padding; the rest are the generalisations
named in section 2.1.  Float and exact forward passes share this definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from slth_check.arithmetic import to_fraction
from slth_check.conv import PADDINGS, Padding, Pool, conv2d, conv2d_exact, l1_exact, pool2d, relu
from slth_check.tensors import as_float_array

if TYPE_CHECKING:
    pass


def class_F_unmet(K: Any, name: str = "K") -> list[str]:
    """Unmet hypotheses of a kernel of the class F (Lemmas 1-2, Theorem 1): entries in
    [-1, 1] and ``||K||_1 <= 1``, both decided exactly (a float64 sum of absolute
    values can round down to 1.0 when the exact 1-norm exceeds 1).  The one test of
    class membership in the package."""
    K = as_float_array(K, name)
    unmet = []
    if K.size and np.abs(K).max() > 1:
        unmet.append(f"an entry of {name} lies outside [-1, 1]")
    norm = l1_exact(K)
    if norm > 1:
        unmet.append(f"||{name}||_1 = {float(norm):.6g} > 1")
    return unmet


def scale_into_class(K: Any, *, boundary: bool = False) -> np.ndarray:
    """``K`` scaled by a positive factor so that ``||K||_1 <= 1`` holds exactly (then
    every entry lies in [-1, 1]).  A kernel already in the class is returned
    unchanged, unless ``boundary``: then it is always scaled to ``||K||_1`` just below
    1, the hardest budget of Lemmas 1-2.

    The factor is ``1 / (s (1 + 2^-40))`` with ``s`` the float64 1-norm: the margin
    is far above the rounding of the sum and the division; checked exactly.
    """
    K = as_float_array(K, "K")
    if boundary and np.any(K != 0):
        K = K / (float(np.abs(K).sum()) * (1.0 + 2.0**-40))
    elif l1_exact(K) > 1:
        K = K / (max(float(np.abs(K).sum()), 1.0) * (1.0 + 2.0**-40))
    if l1_exact(K) > 1:  # pragma: no cover - the margin makes this unreachable
        raise AssertionError("scale_into_class: the exact 1-norm still exceeds 1")
    return K


@dataclass(frozen=True)
class ConvLayer:
    """One convolutional layer in the paper's layout.

    ``K`` has shape (d, d, c0, c1); ``bias`` (optional) shape (c1,);
    ``pool`` is None, "max" or "avg" (2x2, after the activation).
    """

    K: np.ndarray
    bias: np.ndarray | None = None
    padding: Padding = "paper"
    stride: int = 1
    pool: Pool | None = None

    def __post_init__(self) -> None:
        K = as_float_array(self.K, "K", ndim=4)
        if K.shape[0] != K.shape[1]:
            raise ValueError(f"K: expected a square kernel (d, d, c0, c1), got {K.shape}")
        object.__setattr__(self, "K", K)
        if self.bias is not None:
            b = as_float_array(self.bias, "bias", ndim=1)
            if b.shape[0] != K.shape[3]:
                raise ValueError(f"bias: expected shape ({K.shape[3]},), got {b.shape}")
            object.__setattr__(self, "bias", b)
        if self.padding not in PADDINGS:
            raise ValueError(f"padding: expected one of {PADDINGS}, got {self.padding!r}")
        if self.pool not in (None, "max", "avg"):
            raise ValueError(f"pool: expected None, 'max' or 'avg', got {self.pool!r}")

    @property
    def c0(self) -> int:
        return self.K.shape[2]

    @property
    def c1(self) -> int:
        return self.K.shape[3]

    @property
    def d(self) -> int:
        return self.K.shape[0]

    def n_params(self) -> int:
        return self.K.size + (0 if self.bias is None else self.bias.size)


class LayeredCNN:
    """Shared forward pass: per layer ``_pre`` (convolutions and bias), then the ReLU
    (every layer but the last, unless ``final_relu``) and the layer's pooling."""

    layers: Sequence[Any]
    final_relu: bool

    def _pre(self, i: int, X: np.ndarray, exact: bool) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _forward(self, X: np.ndarray, exact: bool) -> list[np.ndarray]:
        acts = []
        ell = len(self.layers)
        for i, layer in enumerate(self.layers):
            Z = self._pre(i, X, exact)
            if i < ell - 1 or self.final_relu:
                Z = relu(Z)
            if layer.pool is not None:
                Z = pool2d(Z, layer.pool)
            acts.append(Z)
            X = Z
        return acts

    def forward(self, X: Any) -> np.ndarray:
        """Float64 forward pass; X of shape (D, D, c0) or (N, D, D, c0)."""
        X = as_float_array(X, "X", ndim=(3, 4))
        return self._forward(X, exact=False)[-1]

    def forward_exact(self, X: Any) -> np.ndarray:
        """Exact forward pass (object array of Fractions)."""
        X = as_float_array(X, "X", ndim=(3, 4), allow_object=True)
        return self._forward(to_fraction(X), exact=True)[-1]

    def activations(self, X: Any, exact: bool = False) -> list[np.ndarray]:
        """Every layer's output (after activation and pooling)."""
        X = as_float_array(X, "X", ndim=(3, 4), allow_object=exact)
        return self._forward(to_fraction(X) if exact else X, exact)


@dataclass(frozen=True)
class TargetCNN(LayeredCNN):
    """A target network ``f(X) = K_l * sigma(... sigma(K_1 * X))`` (Theorem 1)."""

    layers: Sequence[ConvLayer] = field(default_factory=tuple)
    final_relu: bool = False

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        if not layers:
            raise ValueError("layers: expected at least one ConvLayer")
        for i, (a, b) in enumerate(zip(layers, layers[1:])):
            if a.c1 != b.c0:
                raise ValueError(f"layers: layer {i + 1} has c1={a.c1} but layer {i + 2} "
                                 f"has c0={b.c0}")
        object.__setattr__(self, "layers", layers)

    @classmethod
    def from_kernels(cls, kernels: Sequence[np.ndarray], **kw: Any) -> TargetCNN:
        """The theorems' form: kernels only, paper padding, stride 1, no bias."""
        return cls([ConvLayer(K, **kw) for K in kernels])

    @property
    def ell(self) -> int:
        return len(self.layers)

    @property
    def c0(self) -> int:
        return self.layers[0].c0

    def n_params(self) -> int:
        return sum(layer.n_params() for layer in self.layers)

    def receptive_field(self) -> int:
        """Side of the input window one output entry depends on (layers, strides, pooling).

        ``R = 1 + sum_i (d_i - 1) J_i (+ J_i' for each 2x2 pooling)``, with ``J_i``
        the product of the strides and pooling factors before layer i.
        """
        R, J = 1, 1
        for layer in self.layers:
            R += (layer.d - 1) * J
            J *= layer.stride
            if layer.pool is not None:
                R += J
                J *= 2
        return R

    def certification_size(self) -> int:
        """An input size D whose certificate covers every larger input.

        An output entry depends only on its ``R x R`` input window (``R`` =
        :meth:`receptive_field`) and on where that window meets the zero padding.
        With the paper's padding (top-left only) or ``valid``, the position types are
        "k rows/columns from the top-left edge" (k < R) and the interior; with a total
        downsampling ``J`` (strides times pooling factors) each type sits at a fixed
        phase.  All types occur once ``D >= R`` (``J = 1``, Theorem 1's networks) or
        ``D >= R + 2J`` otherwise, and the inputs form a box, so the sup over
        ``[0, 1]^{D x D}`` is then the same for every larger D.  ``same``/``full``
        padding adds the bottom-right edge: ``2R - 1`` covers it for ``J = 1``; for
        ``J > 1`` the bottom edge's phase depends on ``D mod J`` and no single D
        covers every larger one (ValueError: give D explicitly).
        """
        R, J = self.receptive_field(), 1
        for layer in self.layers:
            J *= layer.stride * (2 if layer.pool is not None else 1)
        if all(L.padding in ("paper", "valid") for L in self.layers):
            return R if J == 1 else R + 2 * J
        if J == 1:
            return 2 * R - 1
        raise ValueError("D: with 'same' or 'full' padding and strides or pooling no single "
                         "input size covers every larger one; give D explicitly")

    def in_class_F(self) -> list[str]:
        """Unmet hypotheses of the class F (an empty list when f is in F)."""
        unmet = []
        for i, layer in enumerate(self.layers, 1):
            unmet += [f"layer {i}: {u}" for u in class_F_unmet(layer.K, f"K_{i}")]
            if layer.bias is not None and np.any(layer.bias != 0):
                unmet.append(f"layer {i}: has a bias (class F has none)")
            if layer.stride != 1 or layer.padding != "paper" or layer.pool is not None:
                unmet.append(f"layer {i}: stride/padding/pooling differ from Definition 1")
        return unmet

    def _pre(self, i: int, X: np.ndarray, exact: bool) -> np.ndarray:
        layer = self.layers[i]
        conv = conv2d_exact if exact else conv2d
        Z = conv(layer.K, X, padding=layer.padding, stride=layer.stride)
        if layer.bias is not None:
            Z = Z + (to_fraction(layer.bias) if exact else layer.bias)
        return Z


# ---------------------------------------------------------------- pruned random networks


