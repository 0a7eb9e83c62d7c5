"""Issue 10: the bulk subset-sum path gives identical results on every executor."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from support import hide_dask, tcp_local_cluster

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
    hide_dask(monkeypatch)
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
    with tcp_local_cluster(distributed) as cluster, distributed.Client(cluster) as client:
        _same(ref, solve_many(V, T, executor=client.get_executor(), chunk_size=5))


def _hard_instances() -> list[tuple[np.ndarray, float]]:
    """Instances of sizes 1..16 with exact ties, near ties, zeros, tiny and huge values."""
    rng = np.random.default_rng(99)
    rows = []
    for n in range(1, 17):
        for kind in range(7):
            if kind == 0:
                v, t = rng.uniform(-1, 1, n), rng.uniform(-1, 1)
            elif kind == 1:  # decimal fractions: many float near ties (0.1 + 0.2 vs 0.3)
                v, t = rng.integers(-9, 10, n) / 10, rng.integers(-20, 21) / 10
            elif kind == 2:  # exact ties and zeros
                v, t = np.where(rng.random(n) < 0.4, 0.0, 0.25), 0.75
            elif kind == 3:  # tiny (subnormal) values
                v, t = rng.integers(-3, 4, n) * 5e-324, 4 * 5e-324
            elif kind == 4:  # magnitudes past the kernel's limit
                v, t = rng.uniform(-1, 1, n) * 1e301, 3e300
            elif kind == 5:  # a target out of reach
                v, t = rng.uniform(0, 1, n), -50.0
            else:  # integers: exact sums everywhere
                v, t = rng.integers(-4, 5, n).astype(float), float(rng.integers(-8, 9))
            rows.append((v, float(t)))
    # two B-sums within the rounding radius of one key: 0.3 (exact) and 0.1 + 0.2
    rows.append((np.array([5.0, 7.0, 0.1, 0.2, 0.3]), 0.3))
    # two keys within the radius of one B-sum: 0.3 - 0.3 and 0.3 - (0.1 + 0.2)
    rows.append((np.array([0.1, 0.2, 0.3, 5.0, 7.0, 11.0]), 0.3))
    return rows


def _kernels() -> list:
    from slth_check.rss import compiled

    return ["numpy", pytest.param("numba", marks=pytest.mark.skipif(
        not compiled.AVAILABLE, reason="numba missing: pip install 'slth-check[fast]'"))]


@pytest.mark.parametrize("kernel", _kernels())
def test_batch_kernel_gives_solves_answers_row_by_row(kernel):
    from slth_check.rss.batch import solve_batch

    rows = _hard_instances()
    for n in range(1, 17):
        mine = [(v, t) for v, t in rows if v.size == n]
        V = np.array([v for v, _ in mine])
        T = np.array([t for _, t in mine])
        V = np.repeat(V, 3, axis=0)  # several rows per sub-batch, mixed kinds
        T = np.repeat(T, 3)
        errors, masks, status = solve_batch(V, T, lambda v, t: solve(v, t, method="mitm"),
                                            kernel=kernel)
        for i in range(len(T)):
            r = solve(V[i], float(T[i]), method="mitm")
            assert errors[i] == float(r.error), (n, i, V[i], T[i])
            assert np.array_equal(masks[i], r.mask), (n, i, V[i], T[i])
            assert status[i] == r.status


@pytest.mark.parametrize("kernel", _kernels())
def test_batch_kernel_settles_most_random_rows(kernel):
    """The fast path is taken: on random instances few rows fall back to the scalar solver."""
    from slth_check.rss import batch

    calls = []
    rng = np.random.default_rng(4)
    V, T = rng.uniform(-1, 1, (200, 18)), rng.uniform(-1, 1, 200)
    out = batch.solve_batch(V, T, lambda v, t: calls.append(1) or solve(v, t, method="mitm"),
                            kernel=kernel)
    assert len(calls) < 10
    ref = batch.solve_batch(V, T, lambda v, t: solve(v, t, method="mitm"), kernel="numpy")
    assert all(np.array_equal(a, b) for a, b in zip(out, ref))


def test_kernel_choice_errors(monkeypatch):
    from slth_check.rss import batch

    monkeypatch.setenv("SLTH_CHECK_KERNEL", "fortran")
    with pytest.raises(ValueError, match="kernel: expected auto, numba or numpy"):
        batch.kernel_in_use()
    monkeypatch.setenv("SLTH_CHECK_KERNEL", "numpy")
    assert batch.kernel_in_use() == "numpy"
    from slth_check.rss import compiled

    monkeypatch.delenv("SLTH_CHECK_KERNEL")
    monkeypatch.setattr(compiled, "AVAILABLE", False)  # numba missing: NumPy, same answers
    assert batch.kernel_in_use() == "numpy"
    with pytest.raises(ValueError, match=r"numba is not importable.*pip install numba"):
        batch.kernel_in_use("numba")


def test_open_executor_dask_local_cluster(batch):
    pytest.importorskip("distributed", reason="Dask missing: pip install 'slth-check[dask]'")
    V, T = batch
    ref = solve_many(V[:8], T[:8], workers=1)
    opened = ex.open_executor("dask", 1)
    try:  # a loaded machine may not start a cluster in time: skip, never fail
        e, n = opened.__enter__()
    except (TimeoutError, OSError) as exc:
        pytest.skip(f"a Dask LocalCluster did not start here ({type(exc).__name__}: {exc})")
    try:
        assert n == 1
        _same(ref, solve_many(V[:8], T[:8], executor=e, chunk_size=3))
    finally:
        opened.__exit__(None, None, None)


def _numba():
    return pytest.importorskip("numba", reason="numba missing: pip install 'slth-check[fast]'")


def test_compiled_fsum_is_math_fsum():
    """The numba port of math.fsum returns its very float, half-even corner cases included."""
    import math

    _numba()
    from slth_check.rss.compiled import fsum

    rng = np.random.default_rng(3)
    cases = [[1e-16, 1.0, 1e16], [1e16, 1.0, 1e-16], [-1e16, -1.0, -1e-16],
             [1.0, 2.0**-53, 2.0**-106], [1.0, -(2.0**-53), -(2.0**-106)],
             [2.0**53, 1.0, 2.0**-60], [0.1, 0.2, -0.3], [5e-324, -5e-324, 1e-300], [0.0]]
    for _ in range(3000):
        k = int(rng.integers(1, 36))
        scale = 10.0 ** rng.integers(-300, 300, k) if rng.random() < 0.5 else np.ones(k)
        cases.append((rng.uniform(-1, 1, k) * scale).tolist())
        base = rng.integers(-4, 5, k) * 2.0 ** rng.integers(0, 60, k)  # near-halfway sums
        cases.append((base + rng.choice([0.0, 1.0, -1.0], k) * 2.0 ** -rng.integers(1, 70, k))
                     .tolist())
    for x in cases:
        assert fsum(np.array(x, dtype=float), len(x)) == math.fsum(x), x


def test_compiled_sorted_sums_are_the_sorted_subset_sums():
    """Horowitz-Sahni merging gives np.sort of subset_sums bit for bit (ties, zeros and
    halves of unequal length included)."""
    _numba()
    from slth_check.rss.exact import subset_sums
    from slth_check.rss.merge import level, levels_size, sorted_sums

    rng = np.random.default_rng(8)
    for la, lb in [(0, 1), (1, 1), (1, 2), (3, 3), (5, 6), (7, 4), (10, 11)]:
        for kind in range(3):
            if kind == 0:
                v = rng.uniform(-1, 1, la + lb)
            elif kind == 1:  # many equal sums
                v = rng.choice([0.0, 0.25, -0.25, 0.5], la + lb)
            else:
                v = rng.integers(-9, 10, la + lb) / 10
            bA, bB = np.full(levels_size(la), np.nan), np.full(levels_size(lb), np.nan)
            sorted_sums(v[:la], v[la:], bA, bB)
            for j in range(la + 1):  # every level kept
                assert level(bA, j)[1:-1].tobytes() == np.sort(subset_sums(v[:j])).tobytes()
            for j in range(lb + 1):
                assert level(bB, j)[1:-1].tobytes() == np.sort(subset_sums(v[la:la + j])).tobytes()


@pytest.mark.parametrize("kernel", _kernels())
def test_kernels_give_solves_answers_where_the_sweep_splits(kernel):
    """n = 12..13 (64 keys: the compiled sweep's four chains start there) and n = 20:
    every row's error and mask are solve's."""
    from slth_check.rss.batch import solve_batch

    rng = np.random.default_rng(12)
    for n, m in ((12, 150), (13, 150), (20, 20)):
        V, T = rng.uniform(-1, 1, (m, n)), rng.uniform(-1.5, 1.5, m)
        errors, masks, status = solve_batch(V, T, lambda v, t: solve(v, t, method="mitm"),
                                            kernel=kernel)
        for i in range(m):
            r = solve(V[i], float(T[i]), method="mitm")
            assert errors[i] == float(r.error) and np.array_equal(masks[i], r.mask), (n, i)


def test_status_codes_round_trip():
    from slth_check.rss.result import STATUSES, status_codes, status_names

    s = np.array(["unknown", "optimal", "infeasible", "feasible", "optimal"])
    codes = status_codes(s)
    assert codes.dtype == np.uint8 and codes.tolist() == [STATUSES.index(x) for x in s]
    assert np.array_equal(status_names(codes), s)
    with pytest.raises(ValueError, match="status: expected one of"):
        status_codes(np.array(["optimal", "proved"]))


def test_default_chunks_per_worker():
    from slth_check.rss.dispatch import chunk_bounds, chunk_rows

    for m, n, w, lo, hi in ((2572, 30, 2, 4, 4), (397_000, 21, 2, 4, 4),
                            (10, 4, 2, 2, 2), (1, 30, 4, 1, 1), (5000, 21, 2, 2, 4)):
        chunks = len(chunk_bounds(m, chunk_rows(None, m, w, n)))
        assert lo <= chunks <= hi, (m, n, w, chunks)


def test_compiled_kernel_refuses_scratch_of_another_size():
    """The kernel runs without bounds checks: scratch made for other rows is refused, never
    written past its end (the scratch is kept from call to call)."""
    _numba()
    from slth_check.rss.compiled import buffers, solve_rows

    rng = np.random.default_rng(3)
    V, T = rng.uniform(-1, 1, (3, 13)), rng.uniform(-1, 1, 3)
    masks, errors, tau2 = np.zeros(V.shape, bool), np.zeros(3), np.full(3, 1e-15)
    for n in (12, 14):
        with pytest.raises(ValueError, match="scratch"):
            solve_rows(V, T, tau2, masks, errors, *buffers(n))
    assert solve_rows(V, T, tau2, masks, errors, *buffers(13)).all()
