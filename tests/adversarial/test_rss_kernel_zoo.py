"""Adversarial inputs for the bulk exact subset-sum kernel (``slth_check.rss.batch``).

The claim under test: every row ``solve_many`` calls "optimal" is an exact
optimum of ``min |t - sum(v[mask])|`` over all ``2**n`` subsets, with
``error`` the exact error rounded once, and the answer is the same whichever
kernel (NumPy, numba), chunking or worker count produced it.  The oracle
here is independent of the code under test: the values as integers over a
common power of two and an exhaustive meet in the middle in Python integers
(:func:`_exact_optimum`), or closed forms (powers of two: the optimum is
the binary expansion of the target).

Cases kept here were found by fuzzing (decimal fractions, repeated values,
zeros and -0.0, last-ulp neighbours, subnormals, magnitudes up to 1e300
beside tiny ones, exact and near ties); the near-tie ones are those that
a kernel without its rounding radius (R = F) answers wrongly.
"""

from __future__ import annotations

import bisect
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slth_check.rss import solve_many
from slth_check.rss.batch import solve_batch
from slth_check.rss.compiled import AVAILABLE as NUMBA
from slth_check.rss.dispatch import solve_mitm_row

KERNELS = ["numpy", pytest.param("numba", marks=pytest.mark.skipif(
    not NUMBA, reason="numba is not installed (extra 'fast')"))]


def _exact_optimum(values: np.ndarray, target: float) -> Fraction:
    """The exact optimum error, in Python integers (independent of the library)."""
    ratios = [float(x).as_integer_ratio() for x in values] + [float(target).as_integer_ratio()]
    den = max(q for _, q in ratios)
    ints = [p * (den // q) for p, q in ratios[:-1]]
    t = ratios[-1][0] * (den // ratios[-1][1])
    h = len(ints) // 2

    def sums(xs: list[int]) -> list[int]:
        out = [0]
        for x in xs:
            out = out + [y + x for y in out]
        return out

    right = sorted(sums(ints[h:]))
    best = None
    for a in sums(ints[:h]):
        i = bisect.bisect_left(right, t - a)
        for j in (i - 1, i):
            if 0 <= j < len(right):
                e = abs(t - a - right[j])
                best = e if best is None else min(best, e)
    assert best is not None
    return Fraction(best, den)


def _mask_error(values: np.ndarray, target: float, mask: np.ndarray) -> Fraction:
    return abs(Fraction(float(target)) - sum((Fraction(float(v)) for v in values[mask]),
                                             start=Fraction(0)))


def _assert_sound(V: np.ndarray, T: np.ndarray, errors, masks, status) -> None:
    """Every "optimal" row: exact optimum, error its exact error rounded once (+0.0 at 0)."""
    assert set(status.tolist()) <= {"optimal", "unknown"}
    for r in np.flatnonzero(status == "optimal"):
        got = _mask_error(V[r], T[r], masks[r])
        assert got == _exact_optimum(V[r], T[r]), (r, V[r].tolist(), float(T[r]))
        assert errors[r] == float(got) and math.copysign(1.0, errors[r]) == 1.0, r


def _bits(e: np.ndarray, m: np.ndarray, s: np.ndarray) -> tuple[bytes, bytes, list[str]]:
    return e.tobytes(), m.tobytes(), s.tolist()


def _batch(V: np.ndarray, T: np.ndarray, kernel: str, chunk: int | None = None):
    V, T = np.ascontiguousarray(V, dtype=np.float64), np.asarray(T, dtype=np.float64)
    if chunk is None:
        return solve_batch(V, T, solve_mitm_row, kernel=kernel)
    parts = [solve_batch(V[a:a + chunk], T[a:a + chunk], solve_mitm_row, kernel=kernel)
             for a in range(0, len(T), chunk)]
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


def _all_kernels_agree(V: np.ndarray, T: np.ndarray, chunks=(None,)):
    """The answers of every kernel and chunking, checked identical; returns one."""
    kernels = ["numpy", "numba"] if NUMBA else ["numpy"]
    outs = [_batch(V, T, k, c) for k in kernels for c in chunks]
    for o in outs[1:]:
        assert _bits(*o) == _bits(*outs[0])
    return outs[0]


# -- near ties the rounding radius must catch (red with R = F) ----------------------------
NEAR_TIES = [
    ([0.1, 0.3, -0.1, 0.2, -0.1, -0.3, 0.7], 0.05),
    ([0.5478397240521213, 0.6605244528580317, 0.8123012089419649, 0.5478397240521216],
     2.0206653858521184),
    ([0.345056037833962, 0.9308098664900725, 0.9266844422609458, 0.6810320985345352,
      0.3450560378339619], 1.9568980028585696),
    ([0.3414732972031657, 0.34147329720316566, 0.34147329720316566, 0.3414732972031656],
     1.1951565402110798),
    ([0.9750712161968194, 0.4743806957074471, 0.28117419029319246, 0.46605479153451335,
      0.4612356542617524, 0.22088274488040338, 0.8637786645263786, 0.9750712161968191],
     3.521695212520103),
]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("values,target", NEAR_TIES)
def test_near_ties_in_the_last_ulp(kernel, values, target):
    V, T = np.array([values]), np.array([target])
    e, m, s = _batch(V, T, kernel)
    assert s[0] == "optimal"
    _assert_sound(V, T, e, m, s)


# -- closed forms: powers of two, the optimum is the binary expansion ----------------------
def _binary_rows(n: int, ks: list[int], scale: float, offset: float):
    """Values ``scale * 2**i`` (i < n) and targets ``scale * (k + offset)``: for
    ``0 < offset < 1/2`` the unique optimum is k's binary expansion, error ``scale*offset``."""
    V = np.tile(scale * 2.0 ** np.arange(n), (len(ks), 1))
    T = np.array([scale * (k + offset) for k in ks])
    want = ((np.array(ks)[:, None] >> np.arange(n)) & 1).astype(bool)
    return V, T, want


@pytest.mark.parametrize("n", [12, 13, 16])
@pytest.mark.parametrize("kernel", KERNELS)
def test_every_key_position_of_the_sweep(n, kernel):
    """n = 12, 13: the four-chain sweep starts (2**6 keys); k = 65 j puts the optimum's
    A-half at sorted key j for every j, chain boundaries included."""
    h = n // 2
    ks = [(j * ((1 << h) + 1)) % (1 << n) for j in range(1 << h)]
    V, T, want = _binary_rows(n, ks, 1.0, 0.25)
    handed_on: list[float] = []

    def scalar(values, target):
        handed_on.append(target)
        return solve_mitm_row(values, target)

    e, m, s = solve_batch(V, T, scalar, kernel=kernel)
    assert (s == "optimal").all() and np.array_equal(m, want)
    assert (e == 0.25).all()
    # the optimum is unique and 1/2 ahead of the next: the kernel settles every row
    assert handed_on == []


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("n,scale,offset", [
    (30, 1.0, 1 / 3), (29, 2.0 ** -1040, 0.25), (30, 2.0 ** 960, 0.375),
    (7, 5e-324 * 4, 0.25), (1, 1.0, 0.25), (2, 3.0, 0.125), (3, 0.1, 0.25),
])
def test_closed_form_optimum_at_every_scale(kernel, n, scale, offset):
    """Large n, subnormal and near-1e300 scales (scale * 2**i exact)."""
    rng = np.random.default_rng(n)
    ks = [0, (1 << n) - 1, *rng.integers(0, 1 << n, 6).tolist()]
    V, T, want = _binary_rows(n, ks, scale, offset)
    perm = rng.permutation(n)  # the halves get mixed magnitudes
    V, want = V[:, perm], want[:, perm]
    e, m, s = _batch(V, T, kernel)
    assert (s == "optimal").all()
    assert np.array_equal(m, want)
    for r in range(len(ks)):
        assert e[r] == float(abs(Fraction(T[r]) - Fraction(ks[r]) * Fraction(scale)))


@pytest.mark.parametrize("n", [5, 12, 13])
def test_exact_ties_of_the_error(n):
    """Target k + 1/2: two optimal subsets (k and k + 1), error 1/2 exactly; all kernels
    and chunkings give the same one."""
    ks = list(range(0, (1 << n) - 1, max(1, (1 << n) // 40)))
    V, T, _ = _binary_rows(n, ks, 1.0, 0.5)
    e, m, s = _all_kernels_agree(V, T, chunks=(None, 3))
    assert (s == "optimal").all() and (e == 0.5).all()
    got = m @ (1 << np.arange(n))
    assert all(g in (k, k + 1) for g, k in zip(got.tolist(), ks))


# -- hand-made zoo: mixed difficulty in one batch ---------------------------------------
def _zoo() -> tuple[np.ndarray, np.ndarray]:
    """Rows of n = 9 interleaving rows the kernel settles and rows it hands on."""
    tiny, big = 5e-324, 1e300
    rows = [
        ([0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.7, 0.6, 0.9], 1.0),  # decimal ties
        ([0.0, -0.0, 0.0, 0.5, 0.25, -0.0, 0.125, 0.0, 1.0], 0.625),  # zeros: equal sums
        ([1.0 + 2.0 ** -52 * i for i in range(9)], 4.0 + 2.0 ** -50),  # last-ulp spread
        ([tiny * i for i in range(-4, 5)], 2.5 * tiny),  # subnormals
        ([big, -big, 1e-300, 3e299, 1.0, 2.0, -1e-300, big / 3, tiny], big),  # 1e300 + tiny
        ([big * 1.5] + [0.5] * 8, 1.0),  # beyond 1e300: the scalar path
        ([np.nextafter(0.3, 1)] * 4 + [0.3] * 5, 0.9),  # equal and neighbouring values
        ([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6], 0.3),  # target = a float subset sum
        ([2.0 ** i for i in range(9)], 100.5),  # an exact tie (100 or 101)
        ([0.123, 0.456, 0.789, 0.111, 0.222, 0.333, 0.444, 0.555, 0.666], 1.5),
        ([1e16, -1e16, 1e-8, 2e-8, -3e-8, 4e-8, 5e-9, 1.0, -1.0], 2.5e-8),  # cancellation
        ([-0.0] * 9, -0.0),  # nothing but -0.0
    ]
    generic = [([math.sin(3.0 * i + j) for i in range(9)], 0.1 * j - 0.4)
               for j in range(len(rows))]  # rows the kernel settles, interleaved
    rows = [x for pair in zip(rows, generic) for x in pair]
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


def test_zoo_mixed_batch_all_kernels_and_chunkings():
    V, T = _zoo()
    e, m, s = _all_kernels_agree(V, T, chunks=(None, 1, 3, 5))
    assert (s == "optimal").all()
    _assert_sound(V, T, e, m, s)


def _multiset_optimum(values: list[float], counts: list[int], target: float) -> Fraction:
    """Closed form for repeated values: the best choice of how many copies of each."""
    best = None
    for ks in itertools.product(*[range(c + 1) for c in counts]):
        s = sum((k * Fraction(v) for v, k in zip(values, ks)), start=Fraction(0))
        e = abs(Fraction(target) - s)
        best = e if best is None else min(best, e)
    assert best is not None
    return best


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("values,counts,target", [
    ([0.1], [30], 1.25), ([0.1, 0.2, 0.3], [10, 10, 10], 2.35),
    ([1 / 3, float(np.nextafter(1 / 3, 1))], [13, 13], 4.5),
    ([0.0, -0.0, 0.7], [10, 10, 8], 2.8), ([1e300, 1e-300, 5e-324], [8, 8, 8], 3.5e300),
    ([0.3, float(np.nextafter(0.3, 0)), -0.3], [10, 10, 10], 0.15),
])
def test_repeated_values_up_to_n_30(kernel, values, counts, target):
    """n = 24..30, many tied subsets: the tie groups are verified by value."""
    row = np.repeat(values, counts)
    row = row[np.random.default_rng(len(row)).permutation(len(row))]
    V, T = np.array([row]), np.array([target])
    e, m, s = _batch(V, T, kernel)
    assert s[0] == "optimal"
    got = _mask_error(V[0], T[0], m[0])
    assert got == _multiset_optimum(values, counts, target) and e[0] == float(got)


@pytest.mark.parametrize("workers,chunk", [(1, 1), (1, 4), (2, 3)])
def test_zoo_through_solve_many(workers, chunk):
    V, T = _zoo()
    ref = _batch(V, T, "numpy")
    b = solve_many(V, T, workers=workers, chunk_size=chunk, progress=False)
    assert _bits(b.errors, b.masks, b.status) == _bits(*ref)


# -- Hypothesis: pools of adversarial elements ------------------------------------------
_POOL = [0.0, -0.0, 0.1, 0.2, 0.3, -0.1, -0.3, 0.7, 1.0, 0.5, 0.25, 1 / 3,
         np.nextafter(0.1, 1), np.nextafter(0.3, 0), np.nextafter(1.0, 2), np.nextafter(1.0, 0),
         5e-324, -5e-324, 1e-310, 2.2250738585072014e-308, 1e300, -1e300, 1e-300, 2.0 ** 52]
_elements = st.one_of(st.sampled_from(_POOL),
                      st.floats(-4, 4, allow_nan=False, allow_infinity=False, width=64))


@st.composite
def _instance(draw, n: int):
    V = draw(hnp.arrays(np.float64, n, elements=_elements))
    mask = draw(hnp.arrays(np.bool_, n))
    s = float(np.sum(V[mask]))  # a float subset sum: the target at or beside it
    how = draw(st.sampled_from(["at", "ulp", "mid", "free"]))
    if how == "ulp":
        s = float(np.nextafter(s, draw(st.sampled_from([-np.inf, np.inf]))))
    elif how == "mid":
        s = s + float(draw(st.sampled_from(_POOL[:12]))) / 2
    elif how == "free":
        s = draw(st.one_of(st.sampled_from(_POOL), st.floats(-8, 8, width=64)))
    return V, s


@st.composite
def _batches(draw):
    n = draw(st.integers(1, 10))
    return draw(st.lists(_instance(n), min_size=1, max_size=6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_batches())
def test_hypothesis_batches_sound_and_kernel_independent(rows):
    V = np.array([r[0] for r in rows])
    T = np.array([r[1] for r in rows])
    e, m, s = _all_kernels_agree(V, T, chunks=(None, 1))
    _assert_sound(V, T, e, m, s)


@pytest.mark.skipif(not NUMBA, reason="numba is not installed (extra 'fast')")
@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([1e16, -1e16, 1.0, -1.0, 1e-16, 2.0 ** -53,
                                           1e300, -1e300, 5e-324, 0.1, 0.0]),
                          st.floats(allow_nan=False, allow_infinity=False,
                                    min_value=-1e300, max_value=1e300)),
                min_size=1, max_size=31))
def test_compiled_fsum_is_math_fsum(terms):
    """The numba port of math.fsum (the settled rows' errors) on half-even traps."""
    from slth_check.rss.compiled import fsum

    x = np.array(terms, dtype=np.float64)
    assert fsum(x, len(terms)) == math.fsum(terms)


@pytest.mark.skipif(not NUMBA, reason="numba is not installed (extra 'fast')")
def test_compiled_fsum_half_even_fixup():
    from slth_check.rss.compiled import fsum

    for terms in ([1e16, 1.0, 1e-16], [-1e16, -1.0, -1e-16], [1e16, 1.0, -1e-16]):
        assert fsum(np.array(terms), 3) == math.fsum(terms)


# -- tied sums must not multiply into a cross product of positions ----------------------
@pytest.mark.parametrize("value,target", [(0.0, 0.0), (-0.0, 0.25), (0.5, 3.0)])
def test_tied_sums_verified_by_value_not_by_position(value, target):
    """n = 20 equal values: every key ties with every B-sum of its value.  The scalar
    fallback once listed the pairs by position (1024 x 1024 here: 84 MB and 5 s; at
    n = 28 the process was killed for memory); by value there are a handful."""
    import tracemalloc

    n = 20
    V, T = np.full((2, n), value), np.array([target, target])
    V[1] = np.arange(n) / 7.0  # and a row the kernel settles beside it
    warm = np.array([np.full(n, 0.5), V[1]])  # one-time costs (imports, numba) first
    solve_many(warm, T, workers=1, progress=False)
    tracemalloc.start()
    try:
        b = solve_many(V, T, workers=1, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6, f"peak {peak / 1e6:.0f} MB"
    assert (b.status == "optimal").all()
    _assert_sound(V, T, b.errors, b.masks, b.status)


# -- non-finite rows reaching the kernel past solve_many's checks ------------------------
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("n,where", [(3, "target"), (3, 0), (3, 2), (14, 1), (14, 13)])
def test_a_nan_row_is_refused_not_called_optimal(kernel, n, where, monkeypatch):
    """solve_chunk (public) and solve_batch do not re-check their rows; a NaN target or
    value must reach the scalar path's clear error with either kernel.  The compiled kernel
    once called such rows "optimal" (error NaN, or 0.25 for [nan, 0.25, 1.0] against 0.5):
    every comparison with NaN is false, so no second pair was ever within its radius."""
    from slth_check.rss import solve_chunk

    V, T = np.array([np.linspace(0.25, 1.0, n)]), np.array([0.5])
    if where == "target":
        T[0] = np.nan
    else:
        V[0, where] = np.nan
    monkeypatch.setenv("SLTH_CHECK_KERNEL", kernel)
    with pytest.raises(ValueError, match="target|values"):
        solve_chunk((V, T, "mitm", None))
    with pytest.raises(ValueError, match="target|values"):
        solve_batch(V, T, solve_mitm_row, kernel=kernel)
