"""The machinery: gamma, twins, adapters, pooling, networks."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from slth_check import (
    ConvLayer,
    TargetCNN,
    conv2d,
    conv2d_exact,
    conv2d_mp,
    gamma,
    input_from_torch,
    input_to_torch,
    kernel_from_torch,
    kernel_to_torch,
    l1_exact,
    max_norm_exact,
    pool2d,
    relu,
    to_fraction,
)


def test_gamma_values():
    u = Fraction(1, 2**53)
    assert gamma(1) == u / (1 - u)
    assert gamma(0) == 0
    with pytest.raises(ValueError, match="m: "):
        gamma(-1)


def test_definition1_by_hand():
    # 1-based (K*X)_{2,2} = K11 X22 + K12 X21 + K21 X12 + K22 X11
    K = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1)
    X = np.arange(1.0, 10.0).reshape(3, 3, 1)
    Y = conv2d(K, X)
    assert Y[1, 1, 0] == 1 * 5 + 2 * 4 + 3 * 2 + 4 * 1
    assert Y[0, 0, 0] == 1 * 1  # only K11 X11 is inside the input
    assert Y.shape == (3, 3, 1)


def test_exact_twin_is_exact_where_float_rounds():
    K = np.array([1.0, 1e-16, -1.0, 0.0]).reshape(2, 2, 1, 1)
    X = np.ones((2, 2, 1))
    ex = conv2d_exact(K, X)
    assert ex[1, 1, 0] == Fraction(1e-16)  # 1 + 1e-16 - 1 in exact arithmetic
    assert isinstance(ex[1, 1, 0], Fraction)


def test_mp_twin_matches_exact():
    rng = np.random.default_rng(1)
    K, X = rng.normal(size=(3, 3, 2, 2)), rng.normal(size=(5, 5, 2))
    ex = conv2d_exact(K, X, padding="same")
    mp = conv2d_mp(K, X, padding="same", dps=60)
    with mpmath.workdps(60):
        for idx in np.ndindex(ex.shape):
            diff = abs(mp[idx] - mpmath.mpf(ex[idx].numerator) / ex[idx].denominator)
            assert diff <= mpmath.mpf(10) ** -55


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_torch_layout_roundtrip(d):
    rng = np.random.default_rng(d)
    K = rng.normal(size=(d, d, 2, 3))
    X = rng.normal(size=(2, 5, 5, 2))
    assert np.array_equal(kernel_from_torch(kernel_to_torch(K)), K)
    assert np.array_equal(input_from_torch(input_to_torch(X)), X)
    assert kernel_to_torch(K).shape == (3, 2, d, d)


def test_torch_adapter_matches_torch():
    torch = pytest.importorskip("torch", reason="torch is an optional extra")
    rng = np.random.default_rng(0)
    K, X = rng.normal(size=(3, 3, 2, 4)), rng.normal(size=(2, 6, 6, 2))
    W = torch.from_numpy(kernel_to_torch(K))
    out = torch.nn.functional.conv2d(torch.from_numpy(input_to_torch(X)), W, padding="same")
    np.testing.assert_allclose(input_from_torch(out.numpy()), conv2d(K, X, padding="same"),
                               rtol=1e-12, atol=1e-12)


def test_norms_and_relu():
    K = np.array([-0.5, 0.25, 0.0, 0.125]).reshape(2, 2, 1, 1)
    assert l1_exact(K) == Fraction(7, 8)
    assert max_norm_exact(K) == Fraction(1, 2)
    assert np.array_equal(relu(K), np.maximum(K, 0))
    assert list(relu(to_fraction(K)).ravel()) == [0, Fraction(1, 4), 0, Fraction(1, 8)]


def test_pooling_float_and_exact():
    X = np.arange(16.0).reshape(4, 4, 1)
    assert pool2d(X, "max")[:, :, 0].tolist() == [[5, 7], [13, 15]]
    assert pool2d(X, "avg")[:, :, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert pool2d(to_fraction(X), "avg")[0, 0, 0] == Fraction(5, 2)
    assert pool2d(np.ones((5, 5, 2)), "max").shape == (2, 2, 2)


def test_network_float_matches_exact():
    rng = np.random.default_rng(3)
    net = TargetCNN([ConvLayer(rng.uniform(-1, 1, (3, 3, 1, 2)), bias=rng.normal(size=2),
                               padding="same", pool="max"),
                     ConvLayer(rng.uniform(-1, 1, (3, 3, 2, 2)), padding="same", pool="avg")])
    X = rng.uniform(0, 1, (6, 6, 1))
    f, e = net.forward(X), net.forward_exact(X)
    # 6x6 -> same 3x3 conv -> 6x6 -> max pool 3x3 -> same 3x3 conv -> avg pool 1x1, 2 channels
    assert f.shape == e.shape == (1, 1, 2)
    np.testing.assert_allclose(f, e.astype(float), rtol=1e-12, atol=1e-12)
    assert net.in_class_F()  # has bias, pooling: not in class F
    Fnet = TargetCNN.from_kernels([np.full((2, 2, 1, 1), 0.25)])
    assert Fnet.in_class_F() == []


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
def test_even_d_same_padding_versus_torch():
    """Documented: for even d, torch's padding='same' is the full convolution from d/2."""
    torch = pytest.importorskip("torch", reason="torch is an optional extra")
    rng = np.random.default_rng(1)
    for d in (2, 4):
        K, X = rng.normal(size=(d, d, 2, 3)), rng.normal(size=(1, 7, 7, 2))
        t = torch.nn.functional.conv2d(torch.from_numpy(input_to_torch(X)),
                                       torch.from_numpy(kernel_to_torch(K)), padding="same")
        full = conv2d(K, X, padding="full")
        s = d // 2
        np.testing.assert_allclose(input_from_torch(t.numpy()), full[:, s:s + 7, s:s + 7],
                                   rtol=1e-12, atol=1e-12)
        assert not np.allclose(conv2d(K, X, padding="same"), full[:, s:s + 7, s:s + 7])
