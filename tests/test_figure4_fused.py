"""The fused path of Figure 4 on images (issue 22, point 1) and its proven rounding bound.

Tolerances are not guesses: :func:`slth_check.experiment.rounding.output_error_bound`
bounds, per output channel, the distance of any float64 evaluation (any summation order,
with or without FMA, zero products skipped or not) from the exact output of the float
network on the float input, so two evaluations differ by at most twice that; the bound
itself is checked against exact rational arithmetic (``forward_exact``)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from support import shared_artifacts

from slth_check.experiment.conv_fused import fused_forward
from slth_check.experiment.rounding import figure_error_bounds, output_error_bound
from slth_check.network import ConvLayer, TargetCNN

ART = shared_artifacts()

CASES = [  # d, padding, pool, bias, final_relu, depth
    (3, "paper", None, False, False, 2), (5, "same", "max", True, True, 2),
    (4, "same", "avg", True, False, 2), (4, "same_upper", "max", False, True, 2),
    (3, "valid", None, True, True, 2), (2, "full", "avg", False, False, 2),
    (3, "same", "max", True, False, 3), (3, "valid", "max", True, True, 1),
]


def _nets(rng, d, padding, pool, bias, final_relu, depth, count=3):
    widths = [2, 3, 4, 2][:depth + 1]

    def layer(c0, c1):
        return ConvLayer(rng.uniform(-0.3, 0.3, (d, d, c0, c1)),
                         rng.uniform(-0.2, 0.2, c1) if bias else None,
                         padding=padding, pool=pool)
    return [TargetCNN([layer(a, b) for a, b in zip(widths, widths[1:])], final_relu=final_relu)
            for _ in range(count)]


def _images(rng, count=6, D=12):
    """Uniform images, an all-zero one and ones that are zero outside a small centre (most
    first-layer windows all zero: the skipping path)."""
    X = rng.uniform(0, 1, (count, D, D, 2))
    X[0] = 0.0
    X[1:4, :4] = 0.0
    X[1:4, -4:] = 0.0
    X[1:4, :, :4] = 0.0
    X[1:4, :, -4:] = 0.0
    return X


@pytest.mark.parametrize("d,padding,pool,bias,final_relu,depth", CASES)
def test_fused_forward_equals_each_forward_within_the_proven_bound(d, padding, pool, bias,
                                                                   final_relu, depth):
    rng = np.random.default_rng(10 + d)
    nets = _nets(rng, d, padding, pool, bias, final_relu, depth)
    X = _images(rng)
    got = fused_forward(nets, X)
    for net, G in zip(nets, got):
        ref = net.forward(X)
        assert G.shape == ref.shape
        _, E = output_error_bound(net, 0.0, 1.0)
        assert np.all(np.abs(G - ref) <= 2 * E)  # E per output channel (last axis)


def test_mostly_zero_images_take_the_skipping_path_and_agree():
    """Images whose windows are nearly all zero (one lit pixel): the first layer multiplies
    only the few rows that are not, and the others are exactly the bias."""
    rng = np.random.default_rng(5)
    nets = _nets(rng, 3, "same", "max", True, True, 2)
    X = np.zeros((4, 12, 12, 2))
    X[np.arange(4), [1, 5, 9, 10], [2, 6, 3, 11], 0] = [0.3, 1.0, 0.7, 0.2]
    for net, G in zip(nets, fused_forward(nets, X)):
        _, E = output_error_bound(net, 0.0, 1.0)
        assert np.all(np.abs(G - net.forward(X)) <= 2 * E)


@pytest.mark.parametrize("d,padding,pool,bias,final_relu,depth", CASES[:4])
def test_output_error_bound_holds_against_exact_arithmetic(d, padding, pool, bias,
                                                           final_relu, depth):
    rng = np.random.default_rng(20 + d)
    nets = _nets(rng, d, padding, pool, bias, final_relu, depth, count=2)
    X = _images(rng, count=2, D=7)
    for net, G in zip(nets, fused_forward(nets, X)):
        M, E = output_error_bound(net, 0.0, 1.0)
        exact = net.forward_exact(X)
        for computed in (G, net.forward(X)):
            err = np.vectorize(lambda a, b: abs(Fraction(float(a)) - b), otypes=[object])(
                computed, exact)
            for c in range(err.shape[-1]):
                assert max(err[..., c].ravel()) <= Fraction(float(E[c]))
        assert np.all(np.abs(exact.astype(float)) <= M)
        assert 0 < E.max() < 1e-10  # not vacuous


def test_relative_bound_covers_the_extreme_ratios():
    f = TargetCNN([ConvLayer(np.ones((1, 1, 1, 1)))])
    e_f = float(output_error_bound(f)[1].max())
    # a comfortable ratio, a reference activation not above its error bound, and one just
    # above it (where the interval of num* / ref* is wide)
    ref, num = np.array([2.0, 1e-300, 3 * e_f]), {1: np.array([1.0, 0.0, e_f])}
    b = figure_error_bounds(f, {1: f}, ref, num)[1]
    e_n = b["absolute"]
    assert e_n > 0 and e_f > 0
    for i in (0, 2):
        computed = Fraction(float(num[1][i] / ref[i]))
        worst = max(abs((Fraction(num[1][i]) + s * Fraction(e_n)) /
                        (Fraction(ref[i]) + t * Fraction(e_f)) - computed)
                    for s in (-1, 1) for t in (-1, 1))
        assert Fraction(b["relative"][i]) >= worst
        assert b["relative"][i] <= 1.01 * float(worst) + 1e-15
    assert b["relative"][1] == np.inf


def test_workers_do_not_change_the_figure_and_bad_method_is_refused():
    from slth_check.experiment.figure4 import image_errors

    rng = np.random.default_rng(7)
    f, g1, g2 = _nets(rng, 3, "same", "max", True, True, 2)
    X = _images(rng, count=70)
    one = image_errors(f, {1: g1, 2: g2}, X, progress=False, workers=1)
    two = image_errors(f, {1: g1, 2: g2}, X, progress=True, workers=2)
    assert np.array_equal(one[0], two[0])
    assert all(np.array_equal(one[1][n], two[1][n]) for n in (1, 2))
    ref = image_errors(f, {1: g1, 2: g2}, X, method="reference", progress=False)
    _, Ef = output_error_bound(f)
    assert np.all(np.abs(one[0] - ref[0]) <= 2 * Ef.max())
    with pytest.raises(ValueError, match="method: expected one of"):
        image_errors(f, {1: g1}, X, method="fast")
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="workers: expected a positive integer"):
            image_errors(f, {1: g1}, X, workers=bad)


@pytest.mark.skipif(ART is None, reason="the authors' files are absent")
def test_the_fused_figure_equals_the_reference_figure_within_its_bound():
    from slth_check.experiment.figure4 import figure4_on_images

    rng = np.random.default_rng(4)
    blob = np.zeros((40, 28, 28))
    blob[:, 4:24, 4:24] = rng.integers(0, 256, (40, 20, 20)) / 255.0 * (
        rng.random((40, 20, 20)) < 0.4)
    imgs = np.concatenate([rng.integers(0, 256, (40, 28, 28)) / 255.0, blob,
                           np.zeros((1, 28, 28)), np.ones((1, 28, 28))])
    fast = figure4_on_images(ART, imgs, "MNIST", progress=False)
    slow = figure4_on_images(ART, imgs, "MNIST", method="reference", progress=False)
    for a, b in zip(fast, slow):
        assert 0 < a["rounding_bound_relative"] < 1e-9
        assert abs(a["max_relative_error"] - b["max_relative_error"]) <= \
            2 * a["rounding_bound_relative"]
        assert abs(a["max_absolute_error"] - b["max_absolute_error"]) <= \
            2 * a["rounding_bound_absolute"]
        assert abs(a["authors_normalisation"] - b["authors_normalisation"]) <= \
            2 * a["rounding_bound_authors"]
        assert a["argmax_image"] == b["argmax_image"]
