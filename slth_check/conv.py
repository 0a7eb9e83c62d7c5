"""Definition 1 (convolution) and its generalisations, in float64 and exactly.

Definition 1 of the paper is a true convolution: for ``K`` of shape
``(d, d, c0, c1)`` and ``X`` of shape ``(D, D, c0)``,

    (K*X)[i, j, l] = sum_{i', j' in [d], k in [c0]} K[i', j', k, l] * X[i-i'+1, j-j'+1, k]

(1-based), with ``X`` zero outside ``[D] x [D]``.  All padding modes below are
crops of the *full* convolution ``F`` of size ``D + d - 1`` (0-based
``F[p] = sum_a K[a] X[p - a]``):

``"paper"``  ``F[0 : D]``, exactly the indexing of Definition 1 (output D x D);
``"same"``   ``F[s : s + D]`` with ``s = (d - 1) // 2``: centred, as
             ``scipy.signal.convolve(mode="same")`` and Flux's ``SamePad()``
             (which pads ``ceil((d-1)/2)`` before the input) for every d; for
             odd d also PyTorch's ``padding="same"``.  For even d PyTorch pads
             ``floor((d-1)/2)`` before, so its output is ``F[d/2 : d/2 + D]``,
             one position later (checked against torch in the tests);
``"valid"``  ``F[d - 1 : D]`` (output D - d + 1; needs D >= d);
``"full"``   ``F[0 : D + d - 1]``.

``stride`` keeps every ``stride``-th output of the chosen crop, starting at
the first one.

Three implementations share these semantics: :func:`conv2d` (vectorised
float64, windows and one BLAS contraction), :func:`conv2d_exact` (Fractions)
and :func:`conv2d_mp` (mpmath).  The two twins use an independent
shift-and-add formulation that follows the definition term by term.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal, get_args

import mpmath
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from slth_check.arithmetic import to_fraction, to_mpf
from slth_check.dyadic import exact_bilinear
from slth_check.tensors import as_float_array, check_entries, check_kernel_input, check_size

#: Largest ``dps`` accepted by :func:`conv2d_mp` (an mpf of 10**5 digits is already slow).
MAX_DPS = 100_000

#: Padding modes (crops of the full convolution; see :func:`crop_window`).
Padding = Literal["paper", "same", "valid", "full", "same_upper"]
PADDINGS: tuple[str, ...] = get_args(Padding)
#: 2x2 pooling kinds.
Pool = Literal["max", "avg"]


def crop_window(padding: str, D: int, d: int) -> tuple[int, int]:
    """Start and length, in the full convolution, of the chosen padding mode."""
    if padding == "paper":
        return 0, D
    if padding == "same":
        return (d - 1) // 2, D
    if padding == "same_upper":  # PyTorch, JAX/XLA and ONNX SAME_UPPER: more padding at the end
        return d // 2, D
    if padding == "valid":
        if D < d:
            raise ValueError(f"X: padding='valid' needs an input at least as large as the "
                             f"kernel (D >= d), got D={D}, d={d}")
        return d - 1, D - d + 1
    if padding == "full":
        return 0, D + d - 1
    raise ValueError(f"padding: expected one of {PADDINGS}, got {padding!r}")


def _check_stride(stride: Any) -> int:
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"stride: expected a positive integer, got {stride!r}")
    return int(stride)


def _shapes(K: np.ndarray, X: np.ndarray, padding: str, stride: int) -> dict[str, int]:
    """N, D, c0, d, c1 and the output size P of a convolution (Python ints)."""
    N = 1 if X.ndim == 3 else int(X.shape[0])
    D, d, c0, c1 = int(X.shape[-2]), int(K.shape[0]), int(K.shape[2]), int(K.shape[3])
    _, length = crop_window(padding, D, d)
    return {"N": N, "D": D, "c0": c0, "d": d, "c1": c1, "P": (length - 1) // stride + 1}


def _hint(s: dict[str, int]) -> str:
    return (f"N={s['N']}, D={s['D']}, c0={s['c0']}, d={s['d']}, c1={s['c1']}: reduce the "
            "batch, the input or the kernel")


def _guard_float(K: np.ndarray, X: np.ndarray, padding: str, stride: int) -> None:
    """Size guard of :func:`conv2d`: padded input, the window matrix and the output."""
    s = _shapes(K, X, padding, stride)
    N, D, c0, d, c1, P = (s[k] for k in ("N", "D", "c0", "d", "c1", "P"))
    entries = N * (D + 2 * (d - 1)) ** 2 * c0 + N * P * P * c0 * d * d + N * P * P * c1
    check_size("X", 8 * entries, what="this conv2d", hint=_hint(s))


def _guard_exact(K: np.ndarray, X: np.ndarray, padding: str, stride: int, what: str) -> None:
    """Size guard of the exact twins: converted K and X, padded input, output, one slice."""
    s = _shapes(K, X, padding, stride)
    N, D, c0, d, c1, P = (s[k] for k in ("N", "D", "c0", "d", "c1", "P"))
    entries = (d * d * c0 * c1 + N * D * D * c0 + N * (D + 2 * (d - 1)) ** 2 * c0
               + 2 * N * P * P * c1)
    check_entries("X", entries, what=what, hint=_hint(s))


def output_size(D: int, d: int, padding: str = "paper", stride: int = 1) -> int:
    """Spatial size of ``conv2d`` output for input size D and kernel size d."""
    _, length = crop_window(padding, D, d)
    return (length - 1) // _check_stride(stride) + 1


def conv2d(K: Any, X: Any, *, padding: Padding = "paper", stride: int = 1) -> np.ndarray:
    """Definition 1: the true convolution ``K * X`` in float64.

    Parameters
    ----------
    K : array of shape (d, d, c0, c1)
    X : array of shape (D, D, c0) or (N, D, D, c0)
    padding : "paper" (default), "same", "valid" or "full" (see module docs)
    stride : positive int

    Returns an array of shape (D', D', c1) or (N, D', D', c1).  Vectorised: a
    sliding-window view and one ``tensordot``, no Python loop over outputs.
    Raises ``ValueError`` naming ``X`` when the temporaries would exceed
    :data:`slth_check.tensors.MAX_FLOAT_BYTES`.
    """
    K, X = check_kernel_input(K, X)
    stride = _check_stride(stride)
    _guard_float(K, X, padding, stride)
    single = X.ndim == 3
    Xb = X[None] if single else X
    d, D = K.shape[0], Xb.shape[1]
    start, length = crop_window(padding, D, d)
    pad = d - 1
    Xp = np.pad(Xb, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    Xp = Xp[:, start:start + length + d - 1, start:start + length + d - 1, :]
    win = sliding_window_view(Xp, (d, d), axis=(1, 2))[:, ::stride, ::stride]
    # win: (N, P, Q, c0, d, d); full[p] = sum_m Kflip[m] Xp[p + m]
    Kflip = K[::-1, ::-1].transpose(2, 0, 1, 3)  # (c0, d, d, c1)
    out = np.tensordot(win, Kflip, axes=([3, 4, 5], [0, 1, 2]))
    return out[0] if single else out


def conv2d_generic(K: np.ndarray, X: np.ndarray, padding: str, stride: int,
                    zero: Any) -> np.ndarray:
    """Shift-and-add convolution on object arrays, term by term (the twins)."""
    stride = _check_stride(stride)
    single = X.ndim == 3
    Xb = X[None] if single else X
    d, D, c1 = K.shape[0], Xb.shape[1], K.shape[3]
    start, length = crop_window(padding, D, d)
    P = (length - 1) // stride + 1
    pad = d - 1
    Xp = np.full((Xb.shape[0], D + 2 * pad, D + 2 * pad, Xb.shape[3]), zero, dtype=object)
    Xp[:, pad:pad + D, pad:pad + D, :] = Xb
    out = np.full((Xb.shape[0], P, P, c1), zero, dtype=object)
    stop = lambda s: s + (P - 1) * stride + 1  # noqa: E731
    for a in range(d):
        for b in range(d):
            # F[p] needs X[p - a] = Xp[p - a + pad]
            r0, c0_ = start - a + pad, start - b + pad
            sl = Xp[:, r0:stop(r0):stride, c0_:stop(c0_):stride, :]
            out = out + np.matmul(sl, K[a, b])
    return out[0] if single else out


def conv2d_exact(K: Any, X: Any, *, padding: Padding = "paper", stride: int = 1) -> np.ndarray:
    """Exact twin of :func:`conv2d` (Definition 1) in rational arithmetic.

    Every float is converted exactly to a :class:`fractions.Fraction`; object
    arrays of Fractions are accepted as they are.  Returns an object array of
    Fractions, the exact value of the convolution (summed on scaled integers when
    every entry is dyadic, as floats are: :mod:`slth_check.dyadic`).  Raises
    ``ValueError`` naming ``X`` above :data:`slth_check.tensors.MAX_EXACT_ENTRIES` entries.
    """
    K, X = check_kernel_input(K, X, allow_object=True)
    _guard_exact(K, X, padding, _check_stride(stride), "this conv2d_exact")
    out = exact_bilinear(lambda k, x: conv2d_generic(k, x, padding, stride, zero=0), K, X)
    if out is not None:  # dyadic operands (floats always are): summed on scaled integers
        return out
    return conv2d_generic(to_fraction(K), to_fraction(X), padding, stride, zero=0)


def conv2d_mp(K: Any, X: Any, *, padding: Padding = "paper", stride: int = 1,
              dps: int = 50) -> np.ndarray:
    """mpmath twin of :func:`conv2d` (Definition 1) at ``dps`` decimal digits.

    Returns an object array of ``mpmath.mpf``.  Each product and partial sum
    is rounded to nearest at the working precision ``p`` bits (mpmath has no
    underflow), so every entry is within ``gamma_m (|K|*|X|)`` with
    ``u = 2**-p`` and ``m = d*d*c0 + d*d`` (the shift-and-add order adds one
    more rounding per kernel offset) of the exact value; a property checks it.
    ``dps`` must be an integer in ``[1, MAX_DPS]`` (``ValueError`` otherwise:
    ``dps=0`` used to return wrong values silently); the size guard is that of
    :func:`conv2d_exact`.
    """
    if isinstance(dps, bool) or not isinstance(dps, (int, np.integer)) \
            or not 1 <= dps <= MAX_DPS:
        raise ValueError(f"dps: expected an integer number of decimal digits in "
                         f"[1, {MAX_DPS}], got {dps!r}")
    dps = int(dps)
    K, X = check_kernel_input(K, X, allow_object=True)
    _guard_exact(K, X, padding, _check_stride(stride), "this conv2d_mp")
    with mpmath.workdps(dps):
        return conv2d_generic(to_mpf(K, dps), to_mpf(X, dps), padding, stride,
                               zero=mpmath.mpf(0))


# -------------------------------------------------------------- elementwise

def relu(X: Any) -> np.ndarray:
    """The ReLU ``sigma(x) = max(0, x)``, entrywise, for float or object arrays."""
    X = np.asarray(X)
    if X.dtype == object:
        return np.asarray(np.frompyfunc(lambda v: v if v > 0 else 0 * v, 1, 1)(X),
                          dtype=object).reshape(X.shape)
    return np.maximum(X, 0.0)


def l1(K: Any) -> float:
    """Entrywise 1-norm: the sum of absolute values (float64)."""
    return float(np.abs(as_float_array(K, "K")).sum())


def l1_exact(K: Any):
    """Entrywise 1-norm, exact (a Fraction)."""
    return sum((abs(v) for v in to_fraction(K).ravel()), start=0)


def max_norm(X: Any) -> float:
    """Entrywise max-norm: the largest absolute value (float64; exact for floats)."""
    X = as_float_array(X, "X")
    return float(np.abs(X).max()) if X.size else 0.0


def max_norm_exact(X: Any):
    """Entrywise max-norm, exact (a Fraction)."""
    vals = [abs(v) for v in to_fraction(X).ravel()]
    return max(vals) if vals else 0


# -------------------------------------------------------------- pooling

def pool2d(X: Any, kind: str = "max", size: int = 2) -> np.ndarray:
    """Non-overlapping ``size x size`` pooling (stride = size, floor mode).

    Works on float and object (Fraction or mpf) arrays of shape (D, D, c) or
    (N, D, D, c).  ``kind`` is ``"max"`` or ``"avg"``.
    """
    if kind not in ("max", "avg"):
        raise ValueError(f"kind: expected 'max' or 'avg', got {kind!r}")
    X = np.asarray(X)
    if X.ndim not in (3, 4):
        raise ValueError(f"X: expected 3 or 4 dimensions, got shape {X.shape}")
    D = X.shape[-2]
    P = D // size
    if P == 0:
        raise ValueError(f"X: pooling of size {size} needs D >= {size}, got D={D}")
    Y = X[..., :P * size, :P * size, :]
    Y = Y.reshape(Y.shape[:-3] + (P, size, P, size, Y.shape[-1]))
    if kind == "max":
        return Y.max(axis=(-4, -2))
    total = Y.sum(axis=(-4, -2))
    if X.dtype == object:
        return total * Fraction(1, size * size)
    return total / (size * size)
