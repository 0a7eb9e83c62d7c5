"""Error inputs in the style of PyTorch's OpInfo: (inputs, exception, message pattern)."""

from __future__ import annotations

import numpy as np
import pytest

from slth_check import ConvLayer, TargetCNN, conv2d, conv2d_exact, conv2d_mp

K = np.ones((2, 2, 1, 1))
X = np.ones((3, 3, 1))

ERROR_INPUTS = [
    ("nan in K", (np.full((2, 2, 1, 1), np.nan), X, {}), ValueError, r"K: .*finite"),
    ("inf in X", (K, np.full((3, 3, 1), np.inf), {}), ValueError, r"X: .*finite"),
    ("K 3-D", (np.ones((2, 2, 1)), X, {}), ValueError, r"K: expected 4 dimensions"),
    ("X 2-D", (K, np.ones((3, 3)), {}), ValueError, r"X: expected 3 or 4 dimensions"),
    ("X 5-D", (K, np.ones((1, 1, 3, 3, 1)), {}), ValueError, r"X: expected 3 or 4"),
    ("channels", (np.ones((2, 2, 2, 1)), X, {}), ValueError, r"X: expected 2 channels"),
    ("int K", (np.ones((2, 2, 1, 1), dtype=int), X, {}), TypeError, r"K: .*floating"),
    ("int X", (K, np.ones((3, 3, 1), dtype=np.int64), {}), TypeError, r"X: .*floating"),
    ("bool X", (K, np.ones((3, 3, 1), dtype=bool), {}), TypeError, r"X: .*floating"),
    ("object K", (np.full((2, 2, 1, 1), "a", dtype=object), X, {}), TypeError, r"K: .*object"),
    ("string X", (K, "abc", {}), TypeError, r"X: .*floating"),
    ("valid too small", (np.ones((4, 4, 1, 1)), X, {"padding": "valid"}), ValueError,
     r"X: padding='valid' needs .*D >= d"),
    ("bad padding", (K, X, {"padding": "circular"}), ValueError, r"padding: expected one of"),
    ("bad stride", (K, X, {"stride": 0}), ValueError, r"stride: expected a positive integer"),
    ("float stride", (K, X, {"stride": 1.5}), ValueError, r"stride: expected a positive"),
    ("non-square K", (np.ones((2, 3, 1, 1)), X, {}), ValueError, r"K: expected a square"),
    ("non-square X", (K, np.ones((3, 4, 1)), {}), ValueError, r"X: expected a square"),
]


@pytest.mark.parametrize("fn", [conv2d, conv2d_exact, conv2d_mp],
                         ids=["conv2d", "conv2d_exact", "conv2d_mp"])
@pytest.mark.parametrize("name,args,exc,pattern", ERROR_INPUTS, ids=[e[0] for e in ERROR_INPUTS])
def test_error_inputs(fn, name, args, exc, pattern):
    Kx, Xx, kw = args
    with pytest.raises(exc, match=pattern):
        fn(Kx, Xx, **kw)


def test_network_errors():
    with pytest.raises(ValueError, match="layers: layer 1 has c1=2 but layer 2 has c0=3"):
        TargetCNN([ConvLayer(np.ones((1, 1, 1, 2))), ConvLayer(np.ones((1, 1, 3, 1)))])
    with pytest.raises(ValueError, match=r"bias: expected shape \(2,\)"):
        ConvLayer(np.ones((1, 1, 1, 2)), bias=np.ones(3))
    with pytest.raises(ValueError, match="pool: expected"):
        ConvLayer(np.ones((1, 1, 1, 2)), pool="median")
    with pytest.raises(ValueError, match="layers: expected at least one"):
        TargetCNN([])
