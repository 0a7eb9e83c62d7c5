"""The compiled loops of :mod:`slth_check.experiment.conv_fused`: im2col of a batch of
zero-padded images, and bias, ReLU and 2x2 pooling of the products (the product itself is
one BLAS call in between).  They release the GIL, so batches can run in threads.

This module imports numba: import it where it is used
(:func:`slth_check.experiment.conv_fused.fused_forward` does), so that importing the
package does not pay for it.
"""

from __future__ import annotations

import numba

_compiled = numba.njit(cache=True, boundscheck=False, nogil=True)


@_compiled
def im2col(Xi, L, d, cols, nonzero, check):  # pragma: no cover - compiled
    """Row ``(n * L + p) * L + q`` of ``cols`` := the window ``Xi[n, p:p+d, q:q+d, :]``
    flattened as ``(a, b, k)``, for ``Xi`` (N, S, S, c0); when ``check``, ``nonzero[row]``
    := whether the window has an entry other than zero."""
    c0 = Xi.shape[3]
    dc = d * c0
    for n in range(Xi.shape[0]):
        Xf = Xi[n].reshape(Xi.shape[1], Xi.shape[2] * c0)
        for p in range(L):
            for q in range(L):
                row = (n * L + p) * L + q
                dest = cols[row]
                nz = False
                for a in range(d):
                    src = Xf[p + a]
                    for j in range(dc):
                        dest[a * dc + j] = src[q * c0 + j]
                    if check:
                        for j in range(dc):
                            nz |= src[q * c0 + j] != 0.0
                if check:
                    nonzero[row] = nz


@_compiled
def finish(Z, where, bias, relu, pool, L, out):  # pragma: no cover - compiled
    """``out[n, i, j]`` := the pooling (``pool``: 0 none, 1 max, 2 average of 2 x 2) of the
    activations ``act(Z[where[row]] + bias)`` of the rows it covers, ``act`` ReLU when
    ``relu`` else the identity; a row with ``where[row] < 0`` is ``act(0 + bias)``."""
    c1 = Z.shape[1]
    s = 2 if pool else 1
    for n in range(out.shape[0]):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                y = out[n, i, j]
                for u in range(s * s):
                    r = where[(n * L + s * i + u // s) * L + s * j + u % s]
                    for o in range(c1):
                        v = (Z[r, o] if r >= 0 else 0.0) + bias[o]
                        if relu:
                            v = max(v, 0.0)
                        if u == 0:
                            y[o] = v
                        elif pool == 1:
                            y[o] = max(y[o], v)
                        else:
                            y[o] += v
                if pool == 2:
                    for o in range(c1):
                        y[o] /= 4


__all__ = ["finish", "im2col"]
