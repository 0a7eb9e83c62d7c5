"""The batched path of Figure 4 on images (issue 22, point 1): im2col and BLAS products
(:func:`slth_check.experiment.conv_batch.stacked_forward`) against each network's
reference forward pass.

Tolerance: both paths compute every output as a float64 sum of the same products (at most
d * d * c0 + 1 terms) in a different order, so they differ by at most about
``2 (d^2 c0 + 1) u sum |terms|`` (Higham's gamma bound, ``u = 2^-53``); with the entries
used here that is below 1e-11, and the tests allow 1e-10 (absolute) on every output."""

from __future__ import annotations

import numpy as np
import pytest
from support import shared_artifacts

from slth_check.experiment.conv_batch import stacked_forward
from slth_check.network import ConvLayer, TargetCNN

ART = shared_artifacts()


def _nets(rng, d, padding, pool, bias, final_relu, count=3, depth=2):
    def layer(c0, c1):
        return ConvLayer(rng.uniform(-0.3, 0.3, (d, d, c0, c1)),
                         rng.uniform(-0.2, 0.2, c1) if bias else None,
                         padding=padding, pool=pool)
    widths = [2, 3, 4, 2][:depth + 1]
    return [TargetCNN([layer(a, b) for a, b in zip(widths, widths[1:])], final_relu=final_relu)
            for _ in range(count)]


@pytest.mark.parametrize("d,padding,pool,bias,final_relu,depth", [
    (3, "paper", None, False, False, 2), (5, "same", "max", True, True, 2),
    (4, "same", "avg", True, False, 2), (4, "same_upper", "max", False, True, 2),
    (3, "valid", None, True, True, 2), (2, "full", "avg", False, False, 2),
    (3, "same", "max", True, False, 3),
])
def test_stacked_forward_equals_each_forward(d, padding, pool, bias, final_relu, depth):
    rng = np.random.default_rng(d)
    nets = _nets(rng, d, padding, pool, bias, final_relu, depth=depth)
    X = rng.uniform(0, 1, (5, 12, 12, 2))
    got = stacked_forward(nets, X)
    for net, G in zip(nets, got):
        ref = net.forward(X)
        assert G.shape == ref.shape
        assert np.abs(G - ref).max() <= 1e-10


def test_networks_of_different_shapes_are_refused():
    rng = np.random.default_rng(0)
    a = _nets(rng, 3, "same", None, False, False, 1)
    b = _nets(rng, 5, "same", None, False, False, 1)
    with pytest.raises(ValueError, match="nets: network 1 layer 1 differs"):
        stacked_forward(a + b, np.zeros((1, 8, 8, 2)))
    with pytest.raises(ValueError, match="X: expected shape"):
        stacked_forward(a, np.zeros((1, 8, 8, 3)))


@pytest.mark.skipif(ART is None, reason="the authors' files are absent")
def test_the_batched_figure_equals_the_reference_figure():
    from slth_check.experiment.figure4 import figure4_on_images

    rng = np.random.default_rng(3)
    imgs = np.concatenate([rng.integers(0, 256, (70, 28, 28)) / 255.0,  # > one batch
                           np.zeros((1, 28, 28)), np.ones((1, 28, 28))])
    fast = figure4_on_images(ART, imgs, "MNIST", method="batched", progress=False)
    slow = figure4_on_images(ART, imgs, "MNIST", method="reference", progress=False)
    for a, b in zip(fast, slow):
        assert a["argmax_image"] == b["argmax_image"]
        assert a["argmax_absolute_image"] == b["argmax_absolute_image"]
        assert a["max_absolute_error"] == pytest.approx(b["max_absolute_error"], abs=1e-10)
        assert a["max_reference_activation"] == pytest.approx(b["max_reference_activation"],
                                                              abs=1e-10)
        # relative: (num + 1e-10) / (ref - 1e-10) with every image's ref >= 0.07 here (the
        # zero image's is the smallest) and a relative error below 1: within 3e-9
        assert a["max_relative_error"] == pytest.approx(b["max_relative_error"], abs=3e-9)
