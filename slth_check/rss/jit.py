"""numba compilation of the bulk kernels (:mod:`slth_check.rss.compiled`,
:mod:`slth_check.rss.sweep`): cached on disk, no bounds checks, unsigned indices."""

from __future__ import annotations

from typing import Literal

import numpy as np

try:  # pragma: no cover - depends on the environment
    import numba

    AVAILABLE = True
except ImportError:  # pragma: no cover
    AVAILABLE = False

#: Unsigned indices: numba emits no negative-index wraparound code for them.
U = np.uint64
ONE = np.uint64(1)


def jit(f, inline: Literal["never", "always"] = "never"):
    """Compile ``f`` with numba (cached on disk when a cache folder is writable)."""
    if not AVAILABLE:  # pragma: no cover - the kernel is never called without numba
        return f
    try:
        return numba.njit(cache=True, boundscheck=False, inline=inline)(f)
    except RuntimeError:  # pragma: no cover - no writable cache location
        return numba.njit(boundscheck=False, inline=inline)(f)


def inlined(f):
    """:func:`jit` inlined into its callers (no call, no reference counting per step)."""
    return jit(f, inline="always")


__all__ = ["AVAILABLE", "ONE", "U", "inlined", "jit"]
