"""Definition 1 (convolution): the float64 reference against its exact twin.

Claim checked: for every output entry, ``|conv2d(K, X) - (K*X)_exact| <=
gamma_m (|K| * |X|) + m * eta`` with ``m = d*d*c0`` (Higham, eq. 3.5, plus
the gradual-underflow term), compared in exact arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.arithmetic import dot_error_bound, fraction_abs, to_fraction
from slth_check.claims.base import Claim, Outcome, compare
from slth_check.conv import Padding, conv2d, conv2d_exact
from slth_check.errors import InputError


@dataclass
class ConvInstance:
    K: np.ndarray
    X: np.ndarray
    padding: Padding = "paper"
    stride: int = 1


def rounding_check(K: np.ndarray, X: np.ndarray, got: np.ndarray, *, padding: Padding = "paper",
                   stride: int = 1, claim: str = "definition1",
                   rtol: Fraction = Fraction(0)) -> Outcome:
    """Check ``got`` against the exact convolution within the proven bound
    (plus ``rtol (|K|*|X|)`` for implementations in lower precision).

    The observed quantity is the worst entry's error / bound ratio numerator:
    the outcome's ``observed`` is the largest ``|got - exact|`` and ``bound``
    the bound at that same entry (the entry of the largest error/bound ratio).
    """
    exact = conv2d_exact(K, X, padding=padding, stride=stride)
    absconv = conv2d_exact(fraction_abs(to_fraction(K)), fraction_abs(to_fraction(X)),
                           padding=padding, stride=stride)
    m = K.shape[0] * K.shape[1] * K.shape[2]
    got = np.asarray(got)
    if got.shape != exact.shape:
        return Outcome(claim, "violated", method="exact",
                       witness={"K": K, "X": X},
                       detail=f"shape {got.shape}, should be {exact.shape}")
    if got.dtype.kind == "f" and not np.all(np.isfinite(got)):
        return Outcome(claim, "violated", method="exact", witness={"K": K, "X": X},
                       detail="output has NaN or Inf")
    g = to_fraction(got.astype(np.float64))
    worst, worst_err, worst_bound, worst_idx = None, Fraction(0), Fraction(0), None
    violated = False
    for idx in np.ndindex(exact.shape):
        err = abs(g[idx] - exact[idx])
        a = absconv.item(idx)  # the exact entry of |K|*|X| (a Fraction)
        bnd = dot_error_bound(m, a) + rtol * a
        r = err / bnd if bnd else (Fraction(0) if err == 0 else None)
        if r is None:
            violated, worst_idx, worst_err, worst_bound = True, idx, err, bnd
            break
        if worst is None or r > worst:
            worst, worst_err, worst_bound, worst_idx = r, err, bnd, idx
        if err > bnd:
            violated = True
    # the entry of the largest error/bound ratio decides: it exceeds its bound exactly
    # when some entry does (a zero bound with a non-zero error is infinitely worst)
    out = compare(claim, worst_err, worst_bound, method="exact", witness={"K": K, "X": X},
                  detail=f"worst entry {worst_idx}", extra={"index": worst_idx})
    assert (out.verdict == "violated") == violated
    return out


class Definition1(Claim):
    id = "definition1"
    statement = ("Definition 1: the float64 convolution conv2d(K, X) is within the proven "
                 "rounding bound gamma_m (|K|*|X|) + m*eta (m = d*d*c0) of the exact "
                 "convolution, entry by entry, checked in exact arithmetic.")
    def __init__(self, impl: Callable[..., np.ndarray] | None = None) -> None:
        self.impl = impl or conv2d

    hypotheses_text = ("finite float64 K (d, d, c0, c1) and X (D, D, c0) whose computation "
                       "cannot overflow (every entry of |K|*|X| at most 2^1000)")

    def hypotheses(self, instance: ConvInstance) -> list[str]:
        from slth_check.claims.hypotheses import conv_unmet

        return conv_unmet(instance.K, instance.X, instance.padding, instance.stride)

    def check(self, instance: ConvInstance) -> Outcome:
        got = self.impl(instance.K, instance.X, padding=instance.padding, stride=instance.stride)
        out = rounding_check(instance.K, instance.X, got, padding=instance.padding,
                             stride=instance.stride, claim=self.id)
        out.extra.update({"padding": instance.padding, "stride": instance.stride})
        impl: Any = self.impl
        if getattr(impl, "spec", None):  # a user's conv2d (user_conv): replays with it
            out.extra.update({"impl": impl.spec, "impl_paddings": ",".join(impl.paddings),
                              "impl_strides": ",".join(map(str, impl.strides))})
        return out

    def replay(self, arrays: dict, meta: dict) -> Outcome:
        """Re-check a saved witness (K, X) with the reference conv2d."""
        stride = meta.get("stride", 1)
        if isinstance(stride, bool) or not isinstance(stride, int):  # 1.5 was read as 1
            raise InputError(f"witness: metadata entry 'stride' must be a positive integer, "
                             f"got {stride!r}")
        return self.run(ConvInstance(arrays["K"], arrays["X"], meta.get("padding", "paper"),
                                     stride))

    def instances(self, rng: np.random.Generator, profile: str) -> Iterator[Any]:
        count = {"ci": 20, "dev": 60, "thorough": 300}.get(profile, 20)
        pads: tuple[Padding, ...] = ("paper", "same", "valid", "full")
        for t in range(count):
            d = int(rng.integers(1, 4))
            D = int(rng.integers(d, 7))
            c0, c1 = (int(v) for v in rng.integers(1, 4, size=2))
            scale = 10.0 ** rng.integers(-3, 4)
            K = rng.uniform(-1, 1, size=(d, d, c0, c1)) * scale
            X = rng.uniform(-1, 1, size=(D, D, c0))
            yield ConvInstance(K, X, pads[t % 4], 1 + (t // 4) % 2)
