"""PyTorch interop: parameters that require grad convert, and the conversion is exact."""

from __future__ import annotations

import numpy as np
import pytest

from slth_check import conv2d, input_from_torch, input_to_torch, kernel_from_torch


def test_kernel_from_a_conv2d_parameter_that_requires_grad():
    torch = pytest.importorskip("torch", reason="torch is an optional extra")
    layer = torch.nn.Conv2d(2, 3, 3, bias=False).double()
    assert layer.weight.requires_grad
    K = kernel_from_torch(layer.weight)  # used to crash: can't call numpy() on it
    X = np.random.default_rng(0).uniform(0, 1, (1, 5, 5, 2))
    ours = conv2d(K, X, padding="valid")
    theirs = input_from_torch(layer(torch.from_numpy(input_to_torch(X))))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
