"""The compiled loops of :mod:`slth_check.experiment.conv_fused`: im2col of a batch of
zero-padded images, and bias, ReLU and 2x2 pooling of the products (the product itself is
one BLAS call in between).  They release the GIL, so batches can run in threads.

This module imports numba: import it where it is used
(:func:`slth_check.experiment.conv_fused.fused_forward` does), so that importing the
package does not pay for it.
"""

from __future__ import annotations

import numba
import numpy as np

#: Unsigned indices (as in :mod:`slth_check.rss.jit`).
U = np.uint64


def _compiled(f):
    """Compile ``f`` (no bounds checks, GIL released), cached on disk when a cache folder is
    writable (as :func:`slth_check.rss.jit.jit`)."""
    try:
        return numba.njit(cache=True, boundscheck=False, nogil=True)(f)
    except RuntimeError:  # pragma: no cover - no writable cache location
        return numba.njit(boundscheck=False, nogil=True)(f)


@_compiled
def im2col(Xi, L, d, cols, nonzero, check):  # pragma: no cover - compiled
    """Row ``(n * L + p) * L + q`` of ``cols`` := the window ``Xi[n, p:p+d, q:q+d, :]``
    flattened as ``(a, b, k)``, for ``Xi`` (N, S, S, c0) C-contiguous; when ``check``,
    ``nonzero[row]`` := whether the window has an entry other than zero.  Flat unsigned
    indices: numba then emits no negative-index code and the copies vectorise."""
    Xf, Cf = Xi.reshape(Xi.size), cols.reshape(cols.size)
    c0, S, Lu, du = U(Xi.shape[3]), U(Xi.shape[1]), U(L), U(d)
    dc = du * c0
    for n in range(U(Xi.shape[0])):
        for p in range(Lu):
            for q in range(Lu):
                row = (n * Lu + p) * Lu + q
                nz = False
                for a in range(du):
                    src, dest = ((n * S + p + a) * S + q) * c0, (row * du + a) * dc
                    for j in range(dc):
                        Cf[dest + j] = Xf[src + j]
                    if check:
                        for j in range(dc):
                            nz |= Xf[src + j] != 0.0
                if check:
                    nonzero[row] = nz


@_compiled
def finish(Z, where, bias, relu, pool, L, P, out, m0, off):  # pragma: no cover - compiled
    """Pooled output (n, i, j), i, j < P, column o of ``Z`` :=
    ``out[m0 + o // c, n, off + i, off + j, o % c]`` (``c = out.shape[4]``; ``off``: the
    next layer's zero border): the pooling (``pool``: 0 none, 1 max, 2 average of 2 x 2) of
    ``act(Z[where[row], o] + bias[o])`` over the rows it covers, ``act`` ReLU when ``relu``
    else the identity; a row with ``where[row] < 0`` (an all-zero window) is
    ``act(0 + bias[o])``."""
    Zf, Of = Z.reshape(Z.size), out.reshape(out.size)
    C, c, N, S2 = U(Z.shape[1]), U(out.shape[4]), U(out.shape[1]), U(out.shape[2])
    s, Lu, offu = U(2 if pool else 1), U(L), U(off)
    start = np.empty(Z.shape[1], dtype=np.uint64)  # where column o's network starts in out
    for o in range(C):
        start[o] = (U(m0) + o // c) * N * S2 * S2 * c + o % c
    best = np.empty(Z.shape[1])
    for n in range(N):
        for i in range(U(P)):
            for j in range(U(P)):
                for u in range(s * s):
                    r = where[(n * Lu + s * i + u // s) * Lu + s * j + u % s]
                    for o in range(C):
                        v = (Zf[U(r) * C + o] if r >= 0 else 0.0) + bias[o]
                        if relu:
                            v = max(v, 0.0)
                        if u == 0:
                            best[o] = v
                        elif pool == 1:
                            best[o] = max(best[o], v)
                        else:
                            best[o] += v
                y = ((n * S2 + offu + i) * S2 + offu + j) * c
                for o in range(C):
                    Of[start[o] + y] = best[o] / 4 if pool == 2 else best[o]


__all__ = ["finish", "im2col"]
