"""The entry points of random subset sum (RSS): solve, solve_many and their chunks.

``solve(values, target)`` approximates ``target`` by the sum of a subset of
``values``.  Whatever the method, ``achieved`` and ``error`` are recomputed
exactly from the returned mask.

Methods (``method=``):

``"bruteforce"``  exhaustive, exact integer arithmetic, n <= 20 (the oracle);
``"mitm"``        meet in the middle, exact optimum, n <= 44 (memory guard);
``"z3"``          exact rationals: minimisation, or with ``eps`` the decision
                  "is there a subset within eps?" (unsat certifies no);
``"milp"``        ``scipy.optimize.milp``, any n, re-verified exactly: optimal
                  only when mitm confirms it;
``"auto"``        mitm for n <= 44 (also with ``eps``: the exact optimum
                  answers the decision), milp beyond.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.progress import progress_iter
from slth_check.rss.batch import solve_batch
from slth_check.rss.bruteforce import BRUTEFORCE_MAX_N, solve_bruteforce
from slth_check.rss.exact import check_instance
from slth_check.rss.executors import SynchronousExecutor, check_workers, shared_process_pool
from slth_check.rss.milp import solve_milp
from slth_check.rss.mitm import MITM_MAX_N, solve_mitm
from slth_check.rss.result import BatchResult, RSSResult, status_codes, status_names
from slth_check.rss.windowed import windowed
from slth_check.rss.z3_solver import decide_z3, solve_z3
from slth_check.tensors import as_float_array, check_entries, check_size

METHODS = ("auto", "bruteforce", "mitm", "z3", "milp")


def _check_eps(eps: Any) -> Fraction | None:
    """eps as an exact Fraction (a float converts exactly; a Fraction is kept as it is)."""
    if eps is None:
        return None
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating,
                                                     Fraction)):
        raise TypeError(f"eps: expected a non-negative number or None, got {type(eps).__name__}")
    if not isinstance(eps, Fraction) and not np.isfinite(float(eps)):
        raise ValueError(f"eps: expected a finite non-negative number, got {eps!r}")
    e = Fraction(eps) if isinstance(eps, Fraction) else Fraction(float(eps))
    if e < 0:
        raise ValueError(f"eps: expected a finite non-negative number, got {eps!r}")
    return e


def _guard_n(n: int, what: str) -> None:
    """Size guard: exact re-verification holds one Python integer per value."""
    check_entries("values", n, what=what, hint=f"n={n} values")


def _guard_many(shape: tuple[int, ...]) -> None:
    """Size guard of :func:`solve_many`: values in float64, masks twice, per-row records."""
    if len(shape) != 2:
        return  # the dimension check reports it
    m, n = (int(v) for v in shape)
    check_size("values", m * n * (8 + 1 + 1) + 256 * m, what="this solve_many",
               hint=f"m={m} instances of n={n} values: split the batch")
    _guard_n(n, "each solve of this solve_many")


def choose_method(n: int, eps: Fraction | float | None = None) -> str:
    """The method ``"auto"`` picks: mitm for n <= 44, milp beyond."""
    return "mitm" if n <= MITM_MAX_N else "milp"


def solve(values: Any, target: Any, *, method: str = "auto", eps: float | Fraction | None = None,
          time_limit: float | None = None) -> RSSResult:
    """Approximate ``target`` by a subset sum of ``values`` (see module docs).

    Raises ``ValueError`` naming ``values`` when the exact re-verification
    would hold more than :data:`slth_check.tensors.MAX_EXACT_ENTRIES` integers.
    """
    if isinstance(values, np.ndarray):
        _guard_n(values.size, "this solve")
    vals, t = check_instance(values, target)
    _guard_n(vals.size, "this solve")
    e = _check_eps(eps)
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    if method == "auto":
        method = choose_method(vals.size, e)
    if method == "bruteforce":
        return solve_bruteforce(vals, t)
    if method == "mitm":
        return solve_mitm(vals, t)
    if method == "z3":
        if e is not None:
            return decide_z3(vals, t, e, time_limit=time_limit)
        return solve_z3(vals, t, time_limit=time_limit)
    return solve_milp(vals, t, eps=e, time_limit=time_limit)  # re-verified against e exactly


def solve_mitm_row(values: np.ndarray, target: float) -> RSSResult:
    """One row solved exactly by meet in the middle (the scalar fallback of the bulk path)."""
    return solve(values, target, method="mitm")


def solve_chunk(args: tuple[np.ndarray, np.ndarray, str, Fraction | None]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve one chunk ``(values (k, n), targets (k,), method, eps)`` of a bulk job.

    The task that every executor runs (a top-level function: picklable).
    mitm (``method`` "mitm", or "auto" for n <= 44) runs over the whole chunk
    at once (:func:`slth_check.rss.batch.solve_batch`), with the very answers
    of :func:`solve` row by row.
    Returns ``(errors float64 (k,), masks bool (k, n), status (k,))``; each
    row depends only on its own instance, so results do not depend on how
    a batch is cut into chunks.
    """
    values, targets, method, eps = args
    k, n = values.shape
    if method in ("auto", "mitm") and choose_method(n) == "mitm":
        return solve_batch(np.ascontiguousarray(values, dtype=np.float64),
                           np.asarray(targets, dtype=np.float64), solve_mitm_row)
    errors = np.empty(k, dtype=np.float64)
    masks = np.zeros((k, n), dtype=bool)
    status = np.empty(k, dtype="<U10")
    for i in range(k):
        r = solve(values[i], float(targets[i]), method=method, eps=eps)
        errors[i], masks[i], status[i] = float(r.error), r.mask, r.status
    return errors, masks, status


def _solve_chunk_packed(args: tuple[np.ndarray, np.ndarray, str, Fraction | None]
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`solve_chunk` with a compact answer for the trip between processes:
    ``(errors float64, masks packed into bits (np.packbits, axis 1), status codes uint8)``."""
    errors, masks, status = solve_chunk(args)
    return errors, np.packbits(masks, axis=1), status_codes(status)


def chunk_bounds(m: int, chunk_size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` cutting ``range(m)`` into chunks of ``chunk_size`` rows."""
    return [(a, min(a + chunk_size, m)) for a in range(0, m, chunk_size)]


def solve_many(values: Any, targets: Any, *, method: str = "auto", eps: float | None = None,
               workers: int | None = None, progress: bool | None = None,
               executor: Executor | None = None,
               chunk_size: int | None = None) -> BatchResult:
    """Solve m instances: row i of ``values`` (m, n) against ``targets[i]``.

    ``executor``: any :class:`concurrent.futures.Executor` (a thread or
    process pool, ``distributed.Client(...).get_executor()``, ...).  Without
    one, ``workers`` processes (default: the CPUs available; 1 runs inline)
    of a pool created once and reused across calls
    (:func:`slth_check.rss.executors.shared_process_pool`).  The batch is cut
    into chunks of ``chunk_size`` rows (default: 1 or 2 chunks per worker, one
    when the instances are cheap, so that a task's overhead is small beside its work);
    the results are bit-identical whatever the executor, worker count or
    chunk size.  A progress bar on a terminal (``progress`` forces it on or
    off).  Returns a :class:`BatchResult` with exact errors rounded to
    float64, masks and statuses.  Raises ``ValueError`` naming ``values``
    when the batch would allocate more than
    :data:`slth_check.tensors.MAX_FLOAT_BYTES`.
    """
    V, T = _check_many(values, targets, method, executor)
    e = _check_eps(eps)
    m, n = V.shape
    workers = check_workers(workers)
    bounds = chunk_bounds(m, chunk_rows(chunk_size, m, workers, n))
    tasks = [(V[a:b], T[a:b], method, e) for a, b in bounds]
    if executor is None:
        executor = SynchronousExecutor() if workers == 1 or len(tasks) <= 1 \
            else shared_process_pool(workers)
    t0 = time.perf_counter()
    errors = np.empty(m, dtype=np.float64)
    masks = np.zeros((m, n), dtype=bool)
    status = np.empty(m, dtype="<U10")
    done = windowed(executor, _solve_chunk_packed, list(range(len(tasks))),
                    lambda i: (tasks[i],), len(tasks))  # every chunk in flight at once
    for i, (errs, packed, codes) in progress_iter(done, desc="rss", total=len(tasks),
                                                  enable=progress):
        a, b = bounds[i]
        errors[a:b] = errs
        masks[a:b] = np.unpackbits(packed, axis=1, count=n).astype(bool)
        status[a:b] = status_names(codes)
    used = choose_method(n, e) if method == "auto" else method
    return BatchResult(errors, masks, status, used,
                       {"seconds": time.perf_counter() - t0, "workers": workers,
                        "chunks": len(tasks), "executor": type(executor).__name__})


def _check_many(values: Any, targets: Any, method: str,
                executor: Any) -> tuple[np.ndarray, np.ndarray]:
    """The (m, n) values and m targets of :func:`solve_many` as float arrays, checked
    against the method's size limit; raises naming the offending argument."""
    if isinstance(values, np.ndarray):
        _guard_many(values.shape)  # before any conversion copies it
    V = as_float_array(values, "values", ndim=2)
    _guard_many(V.shape)
    T = as_float_array(targets, "targets", ndim=1)
    if V.shape[0] != T.shape[0]:
        raise ValueError(f"targets: expected {V.shape[0]} targets (one per row of values), "
                         f"got {T.shape[0]}")
    if V.shape[1] == 0:
        raise ValueError("values: expected at least one value per row, got n=0")
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    if method in ("mitm", "auto") and V.shape[1] > MITM_MAX_N and method == "mitm":
        raise ValueError(f"values: method 'mitm' handles n <= {MITM_MAX_N}, got n={V.shape[1]}")
    if method == "bruteforce" and V.shape[1] > BRUTEFORCE_MAX_N:
        raise ValueError(f"values: method 'bruteforce' handles n <= {BRUTEFORCE_MAX_N}, "
                         f"got n={V.shape[1]}")
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"executor: expected a concurrent.futures.Executor or None, got "
                        f"{type(executor).__name__}")
    return V, T


#: Rough seconds of kernel work per instance and per sum of the larger half (2**(n - n//2)):
#: only sets how many chunks a job is cut into, never what they compute (the compiled
#: kernel: 2572 instances of n = 30 in 0.66 s on one core).
_SECONDS_PER_SUM = 8e-9
#: The least work worth one chunk: in a process pool a task costs about 2 ms beside its
#: work on a busy 2-core machine (the wake-ups of the pool's threads).
_CHUNK_SECONDS = 0.1
#: At most this many chunks per worker: on the 2-core machine, the paper's job on 2
#: workers in 16, 6 and 4 chunks took 1.70, 1.86 and 1.98 x less than on 1 worker
#: (medians of 11 alternating runs; a schedule of shrinking chunks did no better than 4).
_CHUNKS_PER_WORKER = 2


def chunk_rows(chunk_size: Any, m: int, workers: int, n: int = 1) -> int:
    """Rows per chunk: ``chunk_size`` checked, or ``workers x k`` chunks, k = 1 to
    :data:`_CHUNKS_PER_WORKER`, such that a chunk holds about :data:`_CHUNK_SECONDS` of
    work or more."""
    if chunk_size is None:
        work = m * 2 ** (n - n // 2) * _SECONDS_PER_SUM
        k = int(min(_CHUNKS_PER_WORKER, max(1, work // (workers * _CHUNK_SECONDS))))
        return max(1, -(-m // (workers * k)))
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) \
            or chunk_size < 1:
        raise ValueError(f"chunk_size: expected a positive integer, got {chunk_size!r}")
    return int(chunk_size)


__all__ = ["BRUTEFORCE_MAX_N", "METHODS", "MITM_MAX_N", "BatchResult", "RSSResult",
           "chunk_bounds", "choose_method", "solve", "solve_chunk", "solve_many"]
