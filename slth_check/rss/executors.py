"""Executors of the bulk subset-sum path (issue 10: scale-out on processes and Dask).

Every bulk computation of slth-check (``solve_many``, ``slth-check approximate``,
``reproduce paper``) hands independent chunks to a
:class:`concurrent.futures.Executor`.  Each chunk's result depends only on its
inputs, so the output is bit-identical whatever executor, worker count or
chunking runs it.

* :func:`shared_process_pool` - a :class:`~concurrent.futures.ProcessPoolExecutor`
  created once per worker count and reused across calls (starting processes is
  slow with forkserver or spawn, the default from Python 3.14); shut down at
  interpreter exit (``atexit``).
* :class:`SynchronousExecutor` - runs each task inline, in submission order
  (debugging, one worker, tests).
* :func:`open_executor` - the one helper behind the command-line options
  ``--scheduler processes|synchronous|dask|tcp://HOST:PORT`` and ``--workers N``:
  ``dask`` starts a ``distributed.LocalCluster`` of N single-threaded worker
  processes, ``tcp://...`` connects to a running Dask scheduler; either yields
  ``Client.get_executor(pure=False)`` (every task runs: no hashing of the
  arguments, no reuse of an earlier identical task's result).  Dask is an
  optional extra, imported lazily; asking for it without it installed raises
  :class:`~slth_check.errors.UsageError` (exit 2) with the install command.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

import numpy as np

from slth_check.errors import UsageError, require_extra

#: The values of ``--scheduler`` besides a ``tcp://`` (or ``tls://``) address.
SCHEDULERS = ("processes", "synchronous", "dask")
#: What to run when Dask is missing.
DASK_INSTALL = "pip install 'slth-check[dask]' (or: pip install 'dask[distributed]>=2024.1')"

_pools: dict[int, ProcessPoolExecutor] = {}
_lock = threading.Lock()


class SynchronousExecutor(Executor):
    """An executor that runs every task at once in the calling thread.

    ``submit`` returns a future that is already done (its exception, if the
    task raised one, is stored in the future like a pool would).
    """

    def __init__(self) -> None:
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # a future carries any exception
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            fut.set_exception(exc)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True


def default_workers() -> int:
    """The default worker count: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def check_workers(workers: Any, what: str = "workers") -> int:
    """``workers`` as a positive int (None: :func:`default_workers`); else ValueError."""
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"{what}: expected a positive integer, got {workers!r}")
    return int(workers)


def shared_process_pool(workers: int) -> ProcessPoolExecutor:
    """The process pool of ``workers`` processes, created on first use and reused.

    A pool that broke (a worker was killed) is replaced.  Every pool is shut
    down at interpreter exit.
    """
    workers = check_workers(workers)
    with _lock:
        pool = _pools.get(workers)
        if pool is not None and _is_broken(pool):
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
        if pool is None:
            pool = ProcessPoolExecutor(max_workers=workers)
            _pools[workers] = pool
        return pool


def _is_broken(pool: ProcessPoolExecutor) -> bool:
    """Whether a pool can no longer take work (a worker died): ``submit`` says so."""
    try:
        pool.submit(int)
    except BrokenProcessPool:
        return True
    return False


def kill_process_pools() -> None:
    """Forget every shared pool, cancel what is queued and SIGKILL every worker process
    this process started (after Ctrl-C: a forked worker may have inherited a SIGTERM
    handler, and waiting for its chunk would take minutes).  The workers are found with
    :func:`multiprocessing.active_children`, which also covers a validation sandbox."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=False, cancel_futures=True)
    for proc in multiprocessing.active_children():
        proc.kill()


def discard_process_pool(pool: Executor) -> None:
    """Forget (and shut down) a shared pool, e.g. after :class:`BrokenProcessPool`."""
    with _lock:
        for k, p in list(_pools.items()):
            if p is pool:
                del _pools[k]
    pool.shutdown(wait=False, cancel_futures=True)


@atexit.register
def shutdown_process_pools() -> None:
    """Shut every shared pool down (registered with ``atexit``)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for p in pools:
        p.shutdown(wait=True, cancel_futures=True)


def _import_distributed(scheduler: str):  # returns the module
    return require_extra("distributed", what=f"--scheduler {scheduler}", needs="Dask",
                         install=DASK_INSTALL)


def is_address(scheduler: str) -> bool:
    """Is ``scheduler`` the address of a Dask scheduler (``tcp://``, ``tls://``, ...)?"""
    return "://" in scheduler


def check_scheduler(scheduler: Any) -> str:
    """Validate ``--scheduler`` (without connecting); returns it."""
    if not isinstance(scheduler, str) or not (scheduler in SCHEDULERS or
                                              is_address(scheduler)):
        raise UsageError(f"--scheduler: expected one of {', '.join(SCHEDULERS)} or a Dask "
                         f"scheduler address tcp://HOST:PORT, got {scheduler!r}")
    return scheduler


@contextmanager
def open_executor(scheduler: str = "processes",
                  workers: int | None = None) -> Iterator[tuple[Executor, int]]:
    """The executor that ``--scheduler`` / ``--workers`` ask for, and its worker count.

    ``processes`` (default): the shared process pool (``workers == 1`` runs
    inline); ``synchronous``: inline; ``dask``: a LocalCluster of ``workers``
    single-threaded processes, closed on exit; ``tcp://HOST:PORT``: a client
    of that scheduler (``workers`` is then what the scheduler reports).
    Raises :class:`~slth_check.errors.UsageError` (exit 2) for an unknown
    scheduler, for Dask missing, or for a scheduler that cannot be reached.
    """
    scheduler = check_scheduler(scheduler)
    n = check_workers(workers, "--workers")
    if scheduler == "synchronous" or (scheduler == "processes" and n == 1):
        ex = SynchronousExecutor()
        yield ex, 1
        return
    if scheduler == "processes":
        yield shared_process_pool(n), n
        return
    distributed = _import_distributed(scheduler)
    if scheduler == "dask":
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        try:
            client = distributed.Client(cluster)
            try:
                yield client.get_executor(pure=False), n
            finally:
                client.close()
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"--scheduler: cannot reach the Dask scheduler at {scheduler} "
                         f"({' '.join(str(exc).split()) or type(exc).__name__})") from exc
    try:
        info = client.scheduler_info()
        count = sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values())
        yield client.get_executor(pure=False), max(1, count)
    finally:
        client.close()


__all__ = ["DASK_INSTALL", "SCHEDULERS", "BrokenProcessPool", "SynchronousExecutor",
           "check_scheduler", "check_workers", "default_workers", "discard_process_pool",
           "is_address", "kill_process_pools", "open_executor", "shared_process_pool",
           "shutdown_process_pools"]
