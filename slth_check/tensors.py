"""Layouts and input validation.

The paper's layout is the reference layout of the whole package: a kernel
``K[i, j, k, l]`` of shape ``(d, d, c0, c1)`` (spatial, spatial, input channel,
output channel) and an input ``X[i, j, k]`` of shape ``(D, D, c0)``, or a batch
``(N, D, D, c0)``.  PyTorch uses OIHW kernels, NCHW inputs and a
cross-correlation; the adapters below convert between the two, the core never
changes convention.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

#: Largest temporary memory (bytes) that one call of a float64 path may allocate.
#: Public functions check it before allocating (``check_size``); a caller with a
#: larger machine may raise it (``slth_check.tensors.MAX_FLOAT_BYTES = ...``).
MAX_FLOAT_BYTES = 4 * 2**30
#: Largest number of exact entries (``Fraction`` / ``mpmath.mpf`` objects) that one
#: call of an exact path may hold (``check_entries``): each costs about
#: ``EXACT_ENTRY_BYTES`` and far more time than a float.
MAX_EXACT_ENTRIES = 10_000_000
#: Estimated memory of one exact entry (object, numerator, denominator, pointer).
EXACT_ENTRY_BYTES = 128


def format_bytes(n: int | float) -> str:
    """``n`` bytes in a human unit (``74.5 GiB``)."""
    n = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def check_size(name: str, nbytes: int, *, what: str, limit: int | None = None,
               hint: str = "") -> None:
    """Refuse a computation that would allocate more than ``limit`` bytes.

    ``name`` is the argument to blame, ``what`` the computation ("this
    conv2d"), ``nbytes`` its estimated allocation (a Python int: no overflow)
    and ``hint`` what drives it (shapes).  ``limit`` defaults to
    :data:`MAX_FLOAT_BYTES` (read at call time).  Raises ``ValueError``::

        X: this conv2d would allocate 74.5 GiB (limit 4 GiB; N=1, D=1000, ...)

    For :func:`slth_check.certify.sup_error`, the facade can call
    ``check_size("D", nbytes, what="this sup_error", hint=...)`` at its top.
    """
    lim = MAX_FLOAT_BYTES if limit is None else int(limit)
    nbytes = int(nbytes)
    if nbytes > lim:
        extra = f"; {hint}" if hint else ""
        raise ValueError(f"{name}: {what} would allocate {format_bytes(nbytes)} "
                         f"(limit {format_bytes(lim)}{extra})")


def check_entries(name: str, entries: int, *, what: str, limit: int | None = None,
                  hint: str = "") -> None:
    """Refuse an exact computation holding more than ``limit`` exact entries.

    Like :func:`check_size` for the exact twins (Fractions, mpmath): the
    default limit is :data:`MAX_EXACT_ENTRIES`, the message gives the count and
    its memory at :data:`EXACT_ENTRY_BYTES` per entry.
    """
    lim = MAX_EXACT_ENTRIES if limit is None else int(limit)
    entries = int(entries)
    if entries > lim:
        extra = f"; {hint}" if hint else ""
        raise ValueError(f"{name}: {what} would hold {entries:,} exact entries, about "
                         f"{format_bytes(entries * EXACT_ENTRY_BYTES)} (limit {lim:,} "
                         f"entries{extra})")


def as_float_array(a: Any, name: str, *, ndim: int | tuple[int, ...] | None = None,
                   allow_object: bool = False) -> np.ndarray:
    """Validate ``a`` and return it as a float64 array.

    Raises ``TypeError`` for non-numeric, boolean, integer or object dtypes
    (unless ``allow_object`` and every entry is a Fraction or int) and
    ``ValueError`` for NaN/Inf entries or a wrong number of dimensions.
    The message names the argument ``name`` and what was expected.
    """
    if isinstance(a, np.ndarray):
        arr = a
    else:
        try:
            arr = np.asarray(a)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"{name}: expected a numeric array, got {type(a).__name__}") from exc
    if arr.dtype == object:
        if allow_object and all(isinstance(v, (Fraction, int)) for v in arr.ravel()):
            pass
        else:
            raise TypeError(f"{name}: expected a floating-point array, got dtype object")
    elif arr.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point array (float16/32/64), "
                        f"got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(str(k) for k in allowed)
            raise ValueError(f"{name}: expected {want} dimensions, got {arr.ndim} "
                             f"(shape {arr.shape})")
    if arr.dtype != object:
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: expected finite values, found NaN or Inf")
        arr = arr.astype(np.float64, copy=False)
    return arr


def check_kernel_input(K: Any, X: Any, *,
                       allow_object: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validate a kernel (d, d, c0, c1) and an input (D, D, c0) or (N, D, D, c0)."""
    K = as_float_array(K, "K", ndim=4, allow_object=allow_object)
    X = as_float_array(X, "X", ndim=(3, 4), allow_object=allow_object)
    if K.shape[0] != K.shape[1]:
        raise ValueError(f"K: expected a square kernel of shape (d, d, c0, c1), got {K.shape}")
    if min(K.shape) == 0:
        raise ValueError(f"K: expected non-empty dimensions, got {K.shape}")
    sp = X.shape[-3:-1]
    if sp[0] != sp[1]:
        raise ValueError(f"X: expected a square input (D, D, c0), got spatial shape {sp}")
    if min(X.shape) == 0:
        raise ValueError(f"X: expected non-empty dimensions, got {X.shape}")
    if X.shape[-1] != K.shape[2]:
        raise ValueError(f"X: expected {K.shape[2]} channels (K has c0={K.shape[2]}), "
                         f"got {X.shape[-1]}")
    return K, X


# ---------------------------------------------------------------- adapters

def kernel_to_torch(K: np.ndarray) -> np.ndarray:
    """Paper kernel (d, d, c0, c1) -> PyTorch OIHW weight for cross-correlation.

    The spatial axes are flipped so that ``torch.nn.functional.conv2d`` (a
    cross-correlation) computes the paper's true convolution.
    """
    K = np.asarray(K)
    if K.ndim != 4:
        raise ValueError(f"K: expected 4 dimensions (d, d, c0, c1), got shape {K.shape}")
    return np.ascontiguousarray(K[::-1, ::-1].transpose(3, 2, 0, 1))


def _host_array(a: Any) -> np.ndarray:
    """A NumPy array from an array-like or a torch tensor (one that requires grad, lives
    on a device or is a ``nn.Parameter`` included: detached and copied to the host)."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # torch.Tensor, without importing torch
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def kernel_from_torch(W: Any) -> np.ndarray:
    """PyTorch OIHW cross-correlation weight -> paper kernel (d, d, c0, c1).

    Accepts NumPy arrays and torch tensors, parameters that require grad included
    (``kernel_from_torch(nn.Conv2d(1, 2, 3).weight)``)."""
    W = _host_array(W)
    if W.ndim != 4:
        raise ValueError(f"W: expected 4 dimensions (O, I, H, W), got shape {W.shape}")
    return np.ascontiguousarray(W.transpose(2, 3, 1, 0)[::-1, ::-1])


def input_to_torch(X: np.ndarray) -> np.ndarray:
    """Paper input (D, D, c) or (N, D, D, c) -> NCHW (a batch of one if 3-D)."""
    X = np.asarray(X)
    if X.ndim == 3:
        X = X[None]
    if X.ndim != 4:
        raise ValueError(f"X: expected 3 or 4 dimensions, got shape {X.shape}")
    return np.ascontiguousarray(X.transpose(0, 3, 1, 2))


def input_from_torch(Xt: Any) -> np.ndarray:
    """NCHW -> paper layout (N, D, D, c); NumPy arrays or torch tensors."""
    Xt = _host_array(Xt)
    if Xt.ndim != 4:
        raise ValueError(f"X: expected 4 dimensions (N, C, H, W), got shape {Xt.shape}")
    return np.ascontiguousarray(Xt.transpose(0, 2, 3, 1))
