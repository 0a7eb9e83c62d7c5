"""``validate rss`` at its DEFAULT settings (issue 18): the grid covers every ``n`` up to
``--max-n`` and every family by construction, so a solver wrong on one class (one n, one
sign, the zero target, a near hit, a second best where ties are rare) is caught; the
random cases on top come from a printed seed that replays."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from slth_check.rss import solve
from slth_check.validate.rss.checks import sum_tolerance
from slth_check.validate.rss.core import validate_rss
from slth_check.validate.rss.generation import GRID_FAMILIES, rss_grid

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import rss_zoo  # noqa: E402

del sys.path[0]


@pytest.mark.parametrize("name,kind,flags,pattern", rss_zoo.DEFAULT_RUN,
                         ids=[w[0] for w in rss_zoo.DEFAULT_RUN])
def test_wrong_on_one_class_is_caught_at_the_defaults(name, kind, flags, pattern):
    v = validate_rss(getattr(rss_zoo, name), claims_optimal="--claims-optimal" in flags)
    assert v.verdict == "discrepancy", (kind, v.message)
    assert re.search(pattern, v.message), v.message


@pytest.mark.parametrize("name,kind", rss_zoo.DEFAULT_RUN_CORRECT)
def test_correct_solvers_pass_the_default_run(name, kind):
    v = validate_rss(getattr(rss_zoo, name), claims_optimal=True, max_examples=50)
    assert v.verdict == "consistent", (kind, v.message)
    assert f"seed {v.config['seed']}" in v.message


def test_the_grid_has_every_n_and_family():
    grid = rss_grid(16)
    assert {(f, n) for f, n, _, _ in grid} == {(f, n) for f in GRID_FAMILIES
                                               for n in range(1, 17)}
    by = {(f, n): (v, t) for f, n, v, t in grid}
    for n in range(1, 17):
        assert (by["positive", n][0] > 0).all() and (by["negative", n][0] < 0).all()
        assert (by["zeros", n][0] == 0).all() and by["zero_target", n][1] == 0.0


def test_near_hits_sit_between_the_tolerance_and_1e9():
    """The family that catches "close enough" sums: the exact optimum's error is above
    the proven rounding tolerance and below 1e-9."""
    for fam, n, v, t in rss_grid(16):
        if fam == "near_hit":
            err = solve(v, t, method="mitm").error
            assert sum_tolerance(v) < err < 1e-9, (n, float(err))


def _subset_sums(v):
    sums = np.zeros(1)
    for x in v:
        sums = np.concatenate([sums, sums + x])
    return sums


def test_tie_free_families_have_a_unique_optimum_at_16():
    """Where the second best is not an exact tie, a second-best solver cannot hide."""
    for fam, n, v, t in rss_grid(16):
        if n == 16 and fam in ("paper", "powers", "positive"):
            sums = np.sort(np.abs(t - _subset_sums(v)))
            assert sums[1] - sums[0] > 1e-9, fam


def test_the_printed_seed_replays_the_same_random_cases():
    a = validate_rss(rss_zoo.brute_mask, max_n=6, max_examples=20, seed=12345)
    b = validate_rss(rss_zoo.brute_mask, max_n=6, max_examples=20, seed=12345)
    assert a.config["seed"] == b.config["seed"] == 12345 and a.message == b.message
    c = validate_rss(rss_zoo.brute_mask, max_n=6, max_examples=20)
    d = validate_rss(rss_zoo.brute_mask, max_n=6, max_examples=20)
    assert c.config["seed"] != d.config["seed"]


def test_a_bad_seed_is_refused():
    with pytest.raises(ValueError, match="seed"):
        validate_rss(rss_zoo.brute_mask, seed=-1)


@pytest.mark.parametrize("max_abs", [1.0, 2.0, 1e6])
def test_the_grid_stays_within_max_abs(max_abs):
    for fam, n, v, t in rss_grid(30, max_abs):
        assert abs(t) <= max_abs and (np.abs(v) <= max_abs).all(), (fam, n)
