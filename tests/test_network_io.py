"""One network model and one file encoding: save, load, and the witnesses use it."""

from __future__ import annotations

import numpy as np
import pytest

from slth_check.construction import build_network
from slth_check.fileio.networks import (
    load_networks,
    network_arrays,
    networks_from_arrays,
    save_networks,
)
from slth_check.network import ConvLayer, TargetCNN


def _pair():
    rng = np.random.default_rng(0)
    f = TargetCNN([ConvLayer(rng.uniform(-0.1, 0.1, (2, 2, 1, 2)), bias=np.array([0.1, -0.1])),
                   ConvLayer(rng.uniform(-0.1, 0.1, (2, 2, 2, 1)), bias=np.array([0.05]))])
    return f, build_network(f, n=[6, 4], rng=1)


def test_save_and_load_round_trip(tmp_path):
    f, g = _pair()
    paths = [tmp_path / n for n in ("T.npz", "R.npz", "M.npz")]
    save_networks(*paths, f, g)
    f2, g2 = load_networks(*paths)
    X = np.random.default_rng(2).uniform(0, 1, (5, 5, 1))
    assert (f2.forward_exact(X) == f.forward_exact(X)).all()
    assert (g2.forward_exact(X) == g.forward_exact(X)).all()
    with np.load(paths[0]) as z:
        assert sorted(z.files) == ["K1", "K2", "b1", "b2"]  # numbered from 1
    with np.load(paths[2]) as z:
        assert sorted(z.files) == ["S1", "S2", "Sb1", "Sb2", "T1", "T2"]


def test_arrays_round_trip_and_errors():
    f, g = _pair()
    a = network_arrays(f, g)
    f2, g2 = networks_from_arrays(a, a, a)
    assert all((x.K == y.K).all() for x, y in zip(f.layers, f2.layers))
    assert all((x.S == y.S).all() and (x.Sb == y.Sb).all() for x, y in zip(g.layers, g2.layers))
    del a["U2"]
    with pytest.raises(ValueError, match="expected 2 arrays U1 .. U2"):
        networks_from_arrays(a, a, a)
    with pytest.raises(ValueError, match="target: expected arrays K1, K2"):
        networks_from_arrays({}, a, a)
