"""The grid of ``validate conv2d``: every small configuration, by construction.

Checked before any random case (:func:`conv_grid`), so no small configuration is
missed by chance: every kernel size ``d <= max_d`` with every
input size ``D <= max_D`` (``D < d`` included, except for ``valid`` padding),
each with inputs of every sign class in turn (all positive, all negative,
mixed) and kernels of every sign class (mixed / positive / negative) in turn,
and an all-zero input for every ``d``; every
channel pair ``(c0, c1)`` up to ``max_channels`` (with non-symmetric channel
mixing, so a transposed channel matrix shows) at ``d = 3, D = 4`` and
``d = 2, D = 3`` with positive and with negative inputs; batches of
``2 .. max_batch``.  The grid is the same on every run; the random cases on top
are drawn from a seed printed in the verdict.
"""

from __future__ import annotations

import numpy as np

from slth_check.precision import Precision, get_precision
from slth_check.validate.conv2d.generation import default_max_abs, to_precision

Case = tuple[str, np.ndarray, np.ndarray]

#: The sign classes of the grid's inputs, in the order they cycle.
SIGN_CLASSES = ("positive", "negative", "mixed", "zero")


def _signed(rng: np.random.Generator, shape: tuple[int, ...], sign: str, p: Precision,
            max_abs: float) -> np.ndarray:
    """Entries of one sign class (:data:`SIGN_CLASSES`), magnitudes in ``[1/8, 2]``
    (capped by ``max_abs``) with a few small integers, in the precision."""
    if sign == "zero":
        return np.zeros(shape, dtype=p.dtype)
    hi = min(2.0, max_abs)
    a = rng.uniform(hi / 16, hi, shape)
    a[rng.random(shape) < 0.25] = min(1.0, hi)
    if sign == "negative":
        a = -a
    elif sign == "mixed":
        a = a * rng.choice([-1.0, 1.0], shape)
    return to_precision(a, p)


def _sizes(rng: np.random.Generator, padding: str, p: Precision, max_d: int, max_D: int,
           max_abs: float) -> list[Case]:
    """Every (d, D) with one channel, input and kernel sign classes in turn; then an
    all-zero input for every d."""
    out: list[Case] = []
    pairs = [(d, D) for d in range(1, max_d + 1) for D in range(1, max_D + 1)
             if padding != "valid" or D >= d]
    for i, (d, D) in enumerate(pairs):
        xs, ks = SIGN_CLASSES[i % 3], ("mixed", "positive", "negative")[(i // 3) % 3]
        K = _signed(rng, (d, d, 1, 1), ks, p, max_abs)
        out.append((f"d={d} D={D} c0=c1=1 X {xs} K {ks}", K,
                    _signed(rng, (1, D, D, 1), xs, p, max_abs)))
    for d in range(1, max_d + 1):
        D = min(d + 1, max_D)
        if padding != "valid" or D >= d:
            K = _signed(rng, (d, d, 1, 1), "mixed", p, max_abs)
            out.append((f"d={d} D={D} X zero", K, np.zeros((1, D, D, 1), dtype=p.dtype)))
    return out


def _channels(rng: np.random.Generator, p: Precision, max_d: int, max_D: int,
              max_channels: int, max_abs: float) -> list[Case]:
    """Every (c0, c1) at (d, D) = (2, 3) and (3, 4), positive and negative inputs."""
    out: list[Case] = []
    for d, D in ((2, 3), (3, 4)):
        if d > max_d or D > max_D:
            continue
        for c0 in range(1, max_channels + 1):
            for c1 in range(1, max_channels + 1):
                for xs in ("positive", "negative"):
                    K = _signed(rng, (d, d, c0, c1), "mixed", p, max_abs)
                    X = _signed(rng, (1, D, D, c0), xs, p, max_abs)
                    out.append((f"d={d} D={D} c0={c0} c1={c1} X {xs}", K, X))
    return out


def _batches(rng: np.random.Generator, padding: str, p: Precision, max_d: int, max_D: int,
             max_channels: int, max_batch: int, max_abs: float) -> list[Case]:
    """Batches of 2 .. max_batch images of different sign classes."""
    d, D, c = min(3, max_d), min(4, max_D), min(2, max_channels)
    if padding == "valid" and D < d:
        return []
    out: list[Case] = []
    for N in range(2, max_batch + 1):
        K = _signed(rng, (d, d, c, c), "mixed", p, max_abs)
        X = np.concatenate([_signed(rng, (1, D, D, c), s, p, max_abs)
                            for s in (SIGN_CLASSES * N)[:N]])
        out.append((f"batch N={N}", K, X))
    return out


def conv_grid(padding: str = "paper", *, precision: str = "float64", max_d: int = 5,
              max_D: int = 8, max_channels: int = 4, max_batch: int = 3,
              max_abs: float | None = None) -> list[Case]:
    """``(label, K, X)`` for every small configuration (module docs), ``X`` batched
    ``(N, D, D, c0)``, smallest cases first.  Deterministic: the same on every run."""
    p = get_precision(precision)
    if max_abs is None:
        max_abs = default_max_abs(precision, max_d, max_channels)
    rng = np.random.default_rng(20220125)
    return (_sizes(rng, padding, p, max_d, max_D, max_abs)
            + _channels(rng, p, max_d, max_D, max_channels, max_abs)
            + _batches(rng, padding, p, max_d, max_D, max_channels, max_batch, max_abs))


__all__ = ["SIGN_CLASSES", "conv_grid"]
