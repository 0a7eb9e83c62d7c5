"""Adversarial review (adv22) of three features: the sparsest tickets
(:mod:`slth_check.rss.sparsest`), the sampling laws' Theorem 2 verdict
(:mod:`slth_check.experiment.laws`) and the IDX / .npz image reader
(:mod:`slth_check.fileio.idx`).  Each test is an input on which the feature once gave a
wrong answer or a bad error; the expected answers are checked by enumeration in
Fractions where a count is claimed."""

from __future__ import annotations

import gzip
import math
import struct
import sys
import tracemalloc
from dataclasses import replace
from fractions import Fraction
from itertools import combinations

import numpy as np
import pytest

from slth_check.errors import InputError
from slth_check.experiment.laws import apply_spec, law_spec, parse_law, theorem2_support
from slth_check.fileio.idx import read_idx_images, read_images
from slth_check.rss.sparsest import SparsestResult, sparsest, verify


def _brute_k(v, t, eps):
    """The least k by enumeration in Fractions of the exact inputs (None: infeasible)."""
    V, T, E = [Fraction(float(x)) for x in v], Fraction(t), Fraction(eps)
    for k in range(len(v) + 1):
        if any(abs(T - sum((V[i] for i in c), Fraction(0))) <= E
               for c in combinations(range(len(v)), k)):
            return k
    return None


# ------------------------------------------------------------------ sparsest


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("v,t,eps", [
    # 1.2e308 + 1.2e308 overflows to inf in the first half's sums: the only solution
    # (size 3) was never a candidate and the search said "infeasible"
    ([1.2e308, 1.2e308, -1e308, -1e308], 1.4e308, 1e300),
    ([-1.2e308, -1.2e308, 1e308, 1e308], -1.4e308, 1e300),
    ([1e308, 1e308, 1e308, -1.25e308, -1.25e308, 1.0], 5e307, 1e295),  # inf - inf
])
def test_sparsest_half_sums_that_overflow_are_not_called_infeasible(v, t, eps):
    want = _brute_k(v, t, eps)
    r = sparsest(v, t, eps)
    assert want is not None and r.status == "optimal" and r.k == want, (r, want)
    assert verify(v, t, eps, r)


def test_sparsest_an_eps_near_the_largest_float_is_no_overflow_error():
    """float(eps + tau) overflowed: an OverflowError, not an answer (k = 0 here)."""
    v, eps = [1e308, 1e308], sys.float_info.max
    r = sparsest(v, 0.0, eps)
    assert r.status == "optimal" and r.k == _brute_k(v, 0.0, eps) == 0


@pytest.mark.parametrize("v,t,eps", [
    ([2.0**53], 2**53 + 1, 0),  # the int target rounded to 2**53: "k = 1, error 0"
    ([0.0], 0.1, Fraction(1, 10)),  # eps rounded up to float(0.1) > 1/10: "k = 0"
])
def test_sparsest_never_claims_a_subset_for_a_rounded_target_or_eps(v, t, eps):
    """A target or eps that is not a float64 was rounded silently, and the claim
    (subset within eps, error 0) was false for the numbers given: refuse them, or
    answer for the exact ones."""
    try:
        r = sparsest(v, t, eps)
    except ValueError as exc:
        assert "target" in str(exc) or "eps" in str(exc), exc
        return
    want = _brute_k(v, t, eps)
    assert (r.status == "infeasible" and want is None) or \
        (r.status == "optimal" and r.k == want), (r, want)


@pytest.mark.parametrize("v,t,eps,name", [
    (["a"], 0.0, 0.0, "values"),
    ([1 + 1j], 1.0, 0.0, "values"),
    ([[1.0, 2.0], [3.0, 4.0]], 3.0, 0.0, "values"),  # 2-D: silently flattened before
    ([1.0], [1.0], 0.0, "target"),
    ([1.0], None, 0.0, "target"),
    ([1.0], np.array([1.0, 2.0]), 0.0, "target"),
    ([1.0], 1.0, None, "eps"),
    ([1.0], 1.0, "x", "eps"),
])
def test_sparsest_bad_input_is_one_value_error_naming_the_argument(v, t, eps, name):
    with pytest.raises(ValueError, match=name):
        sparsest(v, t, eps)


_V = [0.5, 0.25, 0.125, 0.875]


@pytest.mark.parametrize("tamper", [
    # claims k = 1 but the nonzero entries pick three samples (mask.sum() = 1)
    lambda r: replace(r, k=1, mask=np.array([1, -1, 1, 0])),
    # an entry 2 counted twice: "k = 2" for the one sample 0.875
    lambda r: replace(r, k=2, mask=np.array([0, 0, 0, 2])),
    # an index past the end (mask longer than values): ignored by zip, counted by sum
    lambda r: replace(r, k=2, mask=np.array([0, 0, 0, 1, 1], dtype=bool)),
    # a mask shorter than the values
    lambda r: replace(r, mask=np.array([False, False, False])),
    # a wrong recorded error
    lambda r: replace(r, error=Fraction(1, 3)),
    # a non-minimal claim: 0.5 + 0.25 + 0.125 = 0.875 is within eps, but so is 0.875 alone
    lambda r: replace(r, k=3, mask=np.array([True, True, True, False])),
    # a mask of the wrong shape: False, not an exception
    lambda r: replace(r, mask=r.mask[None, :]),
])
def test_verify_rejects_tampered_certificates(tamper):
    r = sparsest(_V, 0.875, 0.0)
    assert r.status == "optimal" and r.k == 1 and verify(_V, 0.875, 0.0, r)
    assert verify(_V, 0.875, 0.0, tamper(r)) is False


def test_verify_rejects_a_non_minimal_claim_built_by_hand():
    v = [0.5, 0.25, 0.125]
    fake = SparsestResult(2, np.array([True, True, False]), Fraction(3, 4), Fraction(0),
                          "optimal", 1)
    assert _brute_k(v, 0.75, 0.0) == 2 and verify(v, 0.75, 0.0, fake)  # genuine
    v2 = v + [0.75]  # now one sample suffices: the same claim is not minimal
    fake2 = replace(fake, mask=np.array([True, True, False, False]))
    assert _brute_k(v2, 0.75, 0.0) == 1 and not verify(v2, 0.75, 0.0, fake2)


# ------------------------------------------------------------------ laws


def test_kaiming_normal_samples_bounded_far_below_the_targets_are_not_holds():
    """N(0, 2/fan_in) is drawn by the inverse CDF of p in [2^-53, 1 - 2^-53]: every
    sample lies in +-8.21 sigma, 0.116 for fan_in = 10000; a target 1 is outside
    the samples' support (and Theorem 2 needs bounded variables: only this truncated
    law is bounded), so "holds" is wrong."""
    law, t = parse_law("kaiming-normal"), np.array([-1.0, 1.0])
    extremes = apply_spec(np.array([-1.0, 1.0]), law_spec(law, t, 10000))
    assert np.max(np.abs(extremes)) < 0.2
    assert theorem2_support(law, t, 10000)[0] == "hypotheses_unmet"
    assert theorem2_support(law, t, 25)[0] == "holds"  # sigma = 0.28: +-2.3 covers [-1, 1]


@pytest.mark.parametrize("targets", [[0.0, 0.5, 1.0], [-0.75, 0.0]])
def test_pensia_with_zero_at_the_edge_of_its_support_is_not_holds(targets):
    """U[0, 1] has no density on any [-a, a], a > 0 (Definition 2), and mu- = 0: the
    interval [(mu- + xi) n, (mu+ - xi) n] of Theorem 2 never reaches the targets."""
    assert theorem2_support(parse_law("pensia"), np.array(targets), 3)[0] == \
        "hypotheses_unmet"


def test_kaiming_uniform_bound_compared_exactly_not_after_rounding():
    """fl(sqrt(fl(6/9))) is above sqrt(6/9): a target equal to it is outside
    U[-sqrt(6/9), sqrt(6/9)], yet the float comparison said "holds"."""
    b = math.sqrt(6.0 / 9)
    assert Fraction(b) ** 2 * 9 > 6
    assert theorem2_support(parse_law("kaiming-uniform"), np.array([-b, b]), 9)[0] == \
        "hypotheses_unmet"
    c = float(np.nextafter(b, 0.0))
    assert Fraction(c) ** 2 * 9 < 6
    assert theorem2_support(parse_law("kaiming-uniform"), np.array([-c, c]), 9)[0] == "holds"


# ------------------------------------------------------------------ idx


def _hdr(n, r, c):
    return b"\x00\x00\x08\x03" + struct.pack(">3i", n, r, c)


def test_idx_a_corrupt_deflate_stream_is_an_input_error_naming_the_file(tmp_path):
    """zlib.error escaped: "internal error" (exit 4) in place of exit 2."""
    gz = bytearray(gzip.compress(_hdr(2, 28, 28) + bytes(range(256)) * 6 + bytes(32)))
    for i in range(10, len(gz) - 8):
        gz[i] = 0xFF  # the deflate data: an invalid block type
    path = tmp_path / "bad-gz-idx3-ubyte"
    path.write_bytes(bytes(gz))
    with pytest.raises(InputError, match="bad-gz-idx3-ubyte"):
        read_idx_images(path)


def test_idx_a_gzip_bomb_is_refused_before_it_is_decompressed(tmp_path):
    """64 MiB of zeros behind a header claiming one 28x28 image (64 KiB on disk):
    refused after reading at most what the header claims, not after decompressing it
    all (the peak of traced allocations stays far below the 64 MiB)."""
    path = tmp_path / "bomb-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_hdr(1, 28, 28) + bytes(64 << 20), 9))
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="bomb-idx3-ubyte"):
            read_idx_images(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak


@pytest.mark.parametrize("shape", [(0, 28, 28), (2, 0, 28)])
def test_npz_images_with_no_pixels_are_an_input_error_naming_the_file(tmp_path, shape):
    """An empty array reached .min(): numpy's "zero-size array" ValueError without the
    file's name."""
    np.savez(tmp_path / "empty-images.npz", images=np.zeros(shape))
    with pytest.raises(InputError, match="empty-images.npz"):
        read_images(tmp_path / "empty-images.npz")


@pytest.mark.parametrize("S", [1e308, sys.float_info.max])
def test_scaled_law_wider_than_the_float_range_draws_finite_samples(S):
    """parse_law accepts scaled:1e308, but hi - lo = 2e308 overflowed: every sample inf
    (NaN at U = -1) and the run stopped on "values: expected finite values", naming
    neither --law nor the cause."""
    U = np.linspace(-1.0, 1.0, 101)
    V = apply_spec(U, law_spec(parse_law(f"scaled:{S!r}"), np.array([-1.0, 1.0]), 1))
    assert np.all(np.isfinite(V)) and V[0] == -S and V[-1] == S and V[50] == 0.0
    assert np.all(np.diff(V) > 0)


def test_approximate_refuses_sparsest_with_n_above_its_limit_before_solving(tmp_path):
    """--n 41..44 is accepted by approximate but not by sparsest (MAX_N = 40): the run
    solved every weight, then stopped on "values: expected at most 40 finite numbers",
    an argument the user never gave.  Refused first, naming --sparsest (here before the
    weights file, which does not exist, is even opened)."""
    from slth_check.errors import UsageError
    from slth_check.experiment.approximate import approximate
    from slth_check.rss.sparsest import MAX_N

    with pytest.raises(UsageError, match="--sparsest"):
        approximate(tmp_path / "absent.npz", tmp_path / "o", n=MAX_N + 1, sparsest=0.01)
