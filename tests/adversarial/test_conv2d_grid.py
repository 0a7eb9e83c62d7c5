"""``validate conv2d`` at its DEFAULT settings (issue 18): implementations wrong on one
class only (a sign class, a channel pair, a (d, D) pair, D < d, a batch size) are caught,
because the grid generates every small configuration by construction; correct ones in
other algorithms, precisions and representations pass; the seed replays."""

from __future__ import annotations

import conv_zoo  # tests/adversarial is on sys.path (its conftest)
import numpy as np
import pytest

from slth_check.validate.conv2d.core import validate_conv2d
from slth_check.validate.conv2d.grid import SIGN_CLASSES, conv_grid


@pytest.mark.parametrize("name,mistake", conv_zoo.DEFAULT_RUN_WRONG,
                         ids=[w[0] for w in conv_zoo.DEFAULT_RUN_WRONG])
def test_wrong_on_one_class_is_caught_at_the_defaults(name, mistake):
    v = validate_conv2d(getattr(conv_zoo, name))
    assert v.verdict == "discrepancy", f"{name} ({mistake}) passed: {v.message}"


@pytest.mark.parametrize("name,opts", conv_zoo.DEFAULT_RUN_CORRECT,
                         ids=[c[0] for c in conv_zoo.DEFAULT_RUN_CORRECT])
def test_correct_ones_pass_the_default_run(name, opts):
    v = validate_conv2d(getattr(conv_zoo, name), max_examples=30, **opts)
    assert v.verdict == "consistent", v.message
    assert f"seed {v.config['seed']}" in v.message


@pytest.mark.parametrize("padding", ["paper", "same", "valid", "full", "same_upper"])
def test_the_grid_covers_every_small_configuration(padding):
    grid = conv_grid(padding)
    dD = {(K.shape[0], X.shape[1]) for _, K, X in grid}
    want = {(d, D) for d in range(1, 6) for D in range(1, 9)
            if padding != "valid" or D >= d}
    assert dD >= want
    chans = {K.shape[2:] for _, K, X in grid}
    assert chans >= {(c0, c1) for c0 in range(1, 5) for c1 in range(1, 5)}
    signs = {("positive" if (X > 0).all() else "negative" if (X < 0).all()
              else "zero" if not X.any() else "mixed") for _, K, X in grid}
    assert signs == set(SIGN_CLASSES)
    assert {len(X) for _, K, X in grid} == {1, 2, 3}


def test_each_sign_class_meets_many_shapes():
    """Every (d, D) pair is not enough: each input sign class must meet kernels of every
    size, or a bug of one sign at one size could hide."""
    seen = {}
    for _, K, X in conv_grid():
        if len(X) == 1:
            s = ("positive" if (X > 0).all() else "negative" if (X < 0).all()
                 else "zero" if not X.any() else "mixed")
            seen.setdefault(s, set()).add(K.shape[0])
    assert all(seen[s] == set(range(1, 6)) for s in SIGN_CLASSES), seen


def test_the_seed_replays_and_defaults_to_a_fresh_one():
    a = validate_conv2d(conv_zoo.reference, max_examples=10, seed=7)
    b = validate_conv2d(conv_zoo.reference, max_examples=10, seed=7)
    assert a.message == b.message and a.config["seed"] == 7
    c = validate_conv2d(conv_zoo.reference, max_examples=10)
    d = validate_conv2d(conv_zoo.reference, max_examples=10)
    assert c.config["seed"] != d.config["seed"]
    with pytest.raises(ValueError, match="seed"):
        validate_conv2d(conv_zoo.reference, seed=-3)


def test_random_cases_reach_inputs_smaller_than_the_kernel():
    """Past the grid, the random cases also draw D < d (not for valid padding)."""
    from hypothesis import find, settings

    from slth_check.validate.conv2d.generation import conv_cases

    K, X = find(conv_cases(), lambda c: c[1].shape[1] < c[0].shape[0],
                settings=settings(database=None, max_examples=500))
    assert X.shape[1] < K.shape[0]
    assert np.all(np.isfinite(X))


def test_a_sign_flip_of_zero_in_the_input_is_a_mutation():
    v = validate_conv2d(conv_zoo.flips_zero_sign)
    assert v.verdict == "discrepancy" and "modified its input X in place" in v.message


def test_an_exact_object_array_result_is_read_and_a_non_number_is_not():
    from fractions import Fraction

    from slth_check.validate.sandbox import real_array

    got = real_array(np.array([[Fraction(1, 3), 2]], dtype=object))
    assert got.dtype == np.float64 and got[0, 0] == 1 / 3 and got[0, 1] == 2.0
    for bad in ("1.5", None, 1j, Fraction(10) ** 400):
        with pytest.raises(ValueError, match="entry"):
            real_array(np.array([Fraction(1), bad], dtype=object))
