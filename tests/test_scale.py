"""Issue 10: the bulk subset-sum path gives identical results on every executor."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from slth_check.errors import UsageError
from slth_check.rss import executors as ex
from slth_check.rss import solve, solve_many


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(10)
    V = rng.uniform(-1, 1, (40, 14))
    T = rng.uniform(-1, 1, 40)
    V[3, :] = 0.25  # ties: many subsets share a float sum
    T[3] = 0.75
    return V, T


def _same(a, b) -> None:
    assert a.errors.tobytes() == b.errors.tobytes(), "errors differ bit for bit"
    assert np.array_equal(a.masks, b.masks), "masks differ"
    assert np.array_equal(a.status, b.status), "statuses differ"


def test_inline_equals_solve(batch):
    V, T = batch
    b = solve_many(V, T, workers=1)
    for i in range(len(T)):
        r = solve(V[i], float(T[i]))
        assert b.errors[i] == float(r.error) and np.array_equal(b.masks[i], r.mask)
    assert b.all_optimal


def test_thread_pool_and_chunking_identical(batch):
    V, T = batch
    ref = solve_many(V, T, workers=1)
    with ThreadPoolExecutor(3) as pool:
        for cs in (1, 7, 40):
            _same(ref, solve_many(V, T, executor=pool, chunk_size=cs))


def test_shared_pool_is_reused_and_identical(batch):
    V, T = batch
    ref = solve_many(V, T, workers=1)
    a = solve_many(V, T, workers=2)
    pool = ex.shared_process_pool(2)
    b = solve_many(V, T, workers=2, chunk_size=3)
    assert ex.shared_process_pool(2) is pool, "the pool must be created once and reused"
    _same(ref, a)
    _same(ref, b)


def test_synchronous_executor_stores_exceptions():
    fut = ex.SynchronousExecutor().submit(int, "x")
    assert isinstance(fut.exception(), ValueError)


def test_bad_executor_and_chunk_size(batch):
    V, T = batch
    with pytest.raises(TypeError, match="executor: expected a concurrent.futures.Executor"):
        solve_many(V, T, executor="processes")
    with pytest.raises(ValueError, match="chunk_size: expected a positive integer"):
        solve_many(V, T, chunk_size=0)
    with pytest.raises(ValueError, match="workers: expected a positive integer"):
        solve_many(V, T, workers=0)


def test_scheduler_option_errors(monkeypatch):
    with pytest.raises(UsageError, match="--scheduler: expected one of"):
        with ex.open_executor("threads"):
            pass
    with pytest.raises(ValueError, match="--workers: expected a positive integer"):
        with ex.open_executor("processes", 0):
            pass
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.split(".")[0] in ("distributed", "dask"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(UsageError, match=r"needs Dask.*pip install"):
        with ex.open_executor("dask", 2):
            pass


def test_open_executor_inline_and_processes():
    with ex.open_executor("synchronous", 4) as (e, n):
        assert isinstance(e, ex.SynchronousExecutor) and n == 1
    with ex.open_executor("processes", 2) as (e, n):
        assert e is ex.shared_process_pool(2) and n == 2


def test_dask_local_cluster_identical(batch):
    distributed = pytest.importorskip("distributed", reason="Dask missing: pip install "
                                      "'slth-check[dask]'")
    V, T = batch
    ref = solve_many(V, T, workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        _same(ref, solve_many(V, T, executor=client.get_executor(), chunk_size=5))
