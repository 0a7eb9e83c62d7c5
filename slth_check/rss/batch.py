"""Meet in the middle over a batch of instances at once (the bulk path's kernel, issue 10).

The same method and proof as :mod:`slth_check.rss.mitm`, over ``K``
instances of one size n (rows of ``values``):

1. the float64 subset sums of both halves of every row, in the same order of
   additions as :func:`slth_check.rss.exact.subset_sums` (so the same floats);
   ``q = target - SA`` and ``SB`` sorted row by row;
2. for every key of q its two neighbours among B's sorted sums, the float
   optimum ``F`` per row and the radius ``R = F + 2 tau`` with mitm's bound
   ``tau`` (:func:`slth_check.rss.mitm._tau`, the same formula row-wise);
3. a row is settled here when exactly one pair (key of q, B-sum) at distinct
   positions of the sorted arrays lies within ``R``, and each of the two
   float sums belongs to one subset only (implied: equal sums sit at two
   positions).  By mitm's rounding argument every pair whose exact error is
   at most the optimum's has float error at most ``R``, so that pair is the
   unique exact optimum, the mask :func:`slth_check.rss.solve` returns; its
   error is ``|fsum([t, -v_1, ..., -v_k])|``, the exact error rounded once
   (``math.fsum`` is correctly rounded), equal to ``float(solve(...).error)``.
4. every other row (several candidates, tied float sums, huge magnitudes)
   goes to :func:`slth_check.rss.solve` unchanged.

Hence each row's answer (mask and error) is the one
:func:`slth_check.rss.solve` gives, whatever the batch it sits in and
whichever kernel settled it: NumPy (below: ``searchsorted``, array passes,
``math.fsum`` per row) or numba (:mod:`slth_check.rss.compiled`, the same
floats, steps 2-4 in one compiled pass per row).
"""

from __future__ import annotations

import os
import threading

import numpy as np

from slth_check.rss.exact import rounded_error
from slth_check.rss.mitm import gamma_float

#: Largest n solved by this kernel (two halves of at most 2**17 sums); beyond, row by row.
BATCH_MAX_N = 34
#: Sums per half held at once for a sub-batch (rows x 2**(n - n // 2)).
BATCH_SUMS = 2**17
#: Magnitudes above this go to the scalar path (math.fsum's intermediate overflow).
MAX_MAGNITUDE = 1e300


def _subset_sums_rows(V: np.ndarray) -> np.ndarray:
    """``(K, 2**h)`` subset sums of each row of ``V`` (K, h), bit i <=> column i."""
    S = np.zeros((V.shape[0], 1))
    for j in range(V.shape[1]):
        S = np.concatenate([S, S + V[:, j:j + 1]], axis=1)
    return S


def _tau_rows(V: np.ndarray, T: np.ndarray, h: int) -> np.ndarray:
    """:func:`slth_check.rss.mitm._tau` of every row (the same bound, vectorised)."""
    A = np.abs(V[:, :h]).sum(axis=1)
    B = np.abs(V[:, h:]).sum(axis=1)
    tau = (gamma_float(h) * A + gamma_float(V.shape[1] - h) * B
           + gamma_float(3) * (np.abs(T) + A + B))
    return 2.0 * tau * (1 + 1e-10) + 5e-324


def _sub_batch(V: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The float search in NumPy: (settled, subset index of A, of B) per row of V (K, n)."""
    K, n = V.shape
    h = n // 2
    SA, SB = _subset_sums_rows(V[:, :h]), _subset_sums_rows(V[:, h:])
    q = T[:, None] - SA  # the same float subtraction as mitm's keys
    qs = np.sort(q, axis=1)
    sB = np.sort(SB, axis=1)
    nB = sB.shape[1]
    pos = np.empty(qs.shape, dtype=np.intp)
    for r in range(K):
        pos[r] = np.searchsorted(sB[r], qs[r])
    flatB = sB.ravel()
    base = (np.arange(K) * nB)[:, None]
    lo = flatB[base + np.maximum(pos - 1, 0)]
    hi = flatB[base + np.minimum(pos, nB - 1)]
    near = np.minimum(np.abs(qs - lo), np.abs(qs - hi))
    F = near.min(axis=1)
    R = F + 2 * _tau_rows(V, T, h)
    within = near <= R[:, None]
    settled = within.sum(axis=1) == 1
    col = np.argmax(within, axis=1)  # the candidate key of a settled row
    rows = np.arange(K)
    qv = qs[rows, col]
    p = pos[rows, col]
    count = np.zeros(K, dtype=np.intp)
    bval = np.zeros(K)
    for off in (-2, -1, 0, 1):  # the two neighbours on each side of q's place
        j = p + off
        ok = (j >= 0) & (j < nB)
        b = sB[rows, np.clip(j, 0, nB - 1)]
        hit = ok & (np.abs(qv - b) <= R)
        count += hit
        bval = np.where(hit, b, bval)
    settled &= count == 1
    eqA = q == qv[:, None]
    eqB = SB == bval[:, None]
    settled &= (eqA.sum(axis=1) == 1) & (eqB.sum(axis=1) == 1)
    return settled, np.argmax(eqA, axis=1), np.argmax(eqB, axis=1)


def _finish(V: np.ndarray, T: np.ndarray, settled: np.ndarray, ia: np.ndarray,
            ib: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks from the subset indices, and the exact errors (rounded once) of settled rows."""
    n = V.shape[1]
    h = n // 2
    bits = np.arange(n)
    shifts = np.where(bits < h, bits, bits - h)
    idx = np.where(bits < h, ia[:, None], ib[:, None])
    masks = ((idx >> shifts) & 1).astype(bool)
    errors = np.empty(V.shape[0])
    for r in np.flatnonzero(settled):
        errors[r] = rounded_error(float(T[r]), V[r][masks[r]])
    return errors, masks


def _rows_per_call(kernel: str, n: int) -> int:
    """Rows searched at once: NumPy holds ``rows x 2**(n - n // 2)`` sums per half
    (cache-sized), numba one row's sums at a time."""
    return 4096 if kernel == "numba" else max(1, BATCH_SUMS // 2 ** (n - n // 2))


#: The compiled kernel's scratch is kept from call to call (one per thread) up to this
#: size (n <= 39, 28 MiB); larger scratch is allocated per call and given back.
KEEP_SCRATCH_BYTES = 1 << 25
_kept = threading.local()


def _scratch(n: int) -> tuple[np.ndarray, ...]:
    """:func:`slth_check.rss.compiled.buffers` ``(n)``, this thread's kept copy if it has one."""
    from slth_check.rss.compiled import buffers

    kept = getattr(_kept, "scratch", None)
    if kept is not None and kept[0] == n:
        return kept[1]
    bufs = buffers(n)
    if sum(b.nbytes for b in bufs) <= KEEP_SCRATCH_BYTES:
        _kept.scratch = (n, bufs)
    return bufs


def _search_compiled(V: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_search` with numba: one compiled pass per row
    (:func:`slth_check.rss.compiled.solve_rows`)."""
    from slth_check.rss.compiled import solve_rows

    masks = np.zeros(V.shape, dtype=bool)
    errors = np.empty(V.shape[0])
    done = solve_rows(V, T, 2 * _tau_rows(V, T, V.shape[1] // 2), masks, errors,
                      *_scratch(V.shape[1]))
    return done, errors, masks


def _search(V: np.ndarray, T: np.ndarray, kernel: str
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(settled, exact errors, masks) of the rows of V (K, n) against T; only the settled
    rows' errors and masks are meaningful."""
    if kernel == "numba":
        return _search_compiled(V, T)
    done, ia, ib = _sub_batch(V, T)
    errors, masks = _finish(V, T, done, ia, ib)
    return done, errors, masks


def kernel_in_use(kernel: str | None = None) -> str:
    """The float-search kernel: ``kernel``, else ``$SLTH_CHECK_KERNEL``, else numba if present.

    ``"numba"`` (compiled two-pointer sweeps, :mod:`slth_check.rss.compiled`, the
    default) or ``"numpy"`` (the reference); both give bit-identical answers.
    """
    from slth_check.rss import compiled

    k = kernel or os.environ.get("SLTH_CHECK_KERNEL", "auto")
    if k not in ("auto", "numba", "numpy"):
        raise ValueError(f"kernel: expected auto, numba or numpy (also $SLTH_CHECK_KERNEL), "
                         f"got {k!r}")
    if k == "numba" and not compiled.AVAILABLE:
        raise ValueError("kernel: numba is not importable here (it is a dependency of "
                         "slth-check: pip install numba)")
    if k == "auto":
        return "numba" if compiled.AVAILABLE else "numpy"
    return k


def solve_batch(V: np.ndarray, T: np.ndarray, scalar, *,
                kernel: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact optima of rows ``V`` (m, n) against ``T`` (m,): (errors, masks, status).

    ``scalar(values, target)`` answers the rows this kernel does not settle
    (an :class:`~slth_check.rss.result.RSSResult`); it must be the mitm
    solver so that every row gets the answer it gets alone.  ``kernel``: see
    :func:`kernel_in_use`.
    """
    m, n = V.shape
    kern = kernel_in_use(kernel)
    errors = np.empty(m, dtype=np.float64)
    masks = np.zeros((m, n), dtype=bool)
    status = np.full(m, "optimal", dtype="<U10")
    if m == 0:
        return errors, masks, status
    # not <=: NaN and inf rows too go to the scalar path (its clear error), never the kernel
    big = ~(np.abs(V).max(axis=1) <= MAX_MAGNITUDE) | ~(np.abs(T) <= MAX_MAGNITUDE)
    todo = np.zeros(m, dtype=bool) if n <= BATCH_MAX_N else np.ones(m, dtype=bool)
    todo |= big
    if n <= BATCH_MAX_N:
        ok_rows = np.flatnonzero(~big)
        k = _rows_per_call(kern, n)
        for a in range(0, ok_rows.size, k):
            sel = ok_rows[a:a + k]
            Vs, Ts = np.ascontiguousarray(V[sel]), np.ascontiguousarray(T[sel])
            done, e, mk = _search(Vs, Ts, kern)
            errors[sel[done]] = e[done]
            masks[sel[done]] = mk[done]
            todo[sel[~done]] = True
    for r in np.flatnonzero(todo):
        res = scalar(V[r], float(T[r]))
        errors[r], masks[r], status[r] = float(res.error), res.mask, res.status
    return errors, masks, status


__all__ = ["BATCH_MAX_N", "kernel_in_use", "solve_batch"]
