"""PyTorch/JAX/ONNX 'SAME' (same_upper): more padding at the end for even kernels."""

from __future__ import annotations

import numpy as np
import pytest

from slth_check import conv2d, conv2d_exact
from slth_check.cli.main import main


def test_same_upper_is_one_position_later_than_same_for_even_d():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (6, 6, 1))
    for d in (2, 3, 4):
        K = rng.uniform(-1, 1, (d, d, 1, 1))
        full = conv2d_exact(K, X, padding="full")
        s = d // 2  # the crop offset of same_upper, by hand
        assert (conv2d_exact(K, X, padding="same_upper") == full[s:s + 6, s:s + 6]).all()
        same = conv2d(K, X, padding="same")
        upper = conv2d(K, X, padding="same_upper")
        assert np.array_equal(same, upper) == (d % 2 == 1)


@pytest.mark.parametrize("padding,rc", [("same_upper", 0), ("same", 1)])
def test_torch_same_is_same_upper(padding, rc, tmp_path, monkeypatch):
    pytest.importorskip("torch", reason="torch is an optional extra")
    (tmp_path / "torch_same.py").write_text(
        "import torch\nimport torch.nn.functional as F\n"
        "def conv(W, X):\n"
        "    return F.conv2d(torch.from_numpy(X), torch.from_numpy(W), padding='same').numpy()\n")
    monkeypatch.chdir(tmp_path)
    args = ["validate", "conv2d", "--impl", "torch_same:conv", "--layout", "torch", "--op",
            "cross-correlation", "--padding", padding, "--max-examples", "40"]
    assert main(args) == rc  # even kernels are generated: 'same' flags torch, same_upper not


def test_builtins_agree_with_same_upper():
    assert main(["validate", "conv2d", "--impl", "scipy", "--padding", "same_upper",
                 "--max-examples", "30"]) == 0
