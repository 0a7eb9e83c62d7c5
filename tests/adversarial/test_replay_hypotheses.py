"""``slth-check replay`` checks the claim's hypotheses before it judges (issue 18,
point 4): a witness outside them is ``hypotheses_unmet`` (exit 3), never ``violated``;
finite values near 1e308 are an unmet no-overflow hypothesis, not a crash."""

from __future__ import annotations

import json

import numpy as np
import pytest

from slth_check.cli.main import main
from slth_check.construction import build_layer, required_n
from slth_check.fileio.networks import network_arrays
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN


def _write(path, meta, **arrays):
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    return str(path)


def _layer_witness(tmp_path, *, K=0.5, X=1.0, eps=0.1, masks="construction", n=None):
    """A Lemma 1 witness for the 1 x 1 kernel ``K``: U, V seeded, n from the formula."""
    Kc = np.full((1, 1, 1, 1), float(K))
    n = n or required_n(17.0, 1, 1, 1, 1, 0.1)
    rng = np.random.default_rng(3)
    U, V = rng.uniform(-1, 1, (1, 1, 1, n)), rng.uniform(-1, 1, (1, 1, n, 1))
    layer = build_layer(Kc, U, V)
    if masks == "none":
        layer.S[:] = False
    arrays = network_arrays(TargetCNN.from_kernels([Kc]), PrunedCNN([layer]))
    return _write(tmp_path / "w.npz", {"claim": "lemma1", "eps": eps},
                  X=np.full((1, 1, 1), float(X)), **arrays)


def _replay(path, capsys):
    rc = main(["replay", path])
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def test_the_construction_inside_the_hypotheses_holds(tmp_path, capsys):
    rc, out = _replay(_layer_witness(tmp_path), capsys)
    assert (rc, out.split(":")[0]) == (0, "holds"), out


@pytest.mark.parametrize("case,kw,why", [
    ("masks not the construction's", {"masks": "none"}, "not the construction's"),
    ("kernel above the class bound", {"K": 4.0}, "K_1"),
    ("X outside the unit box", {"X": -1.0}, "X must lie in [0, 1]"),
    ("eps = 0", {"eps": 0.0}, "eps must lie in (0, 1)"),
    ("eps < 0", {"eps": -0.5}, "eps must lie in (0, 1)"),
    ("n below the formula", {"n": 2}, "below the formula"),
])
def test_a_witness_outside_the_hypotheses_is_never_violated(tmp_path, capsys, case, kw, why):
    rc, out = _replay(_layer_witness(tmp_path, **kw), capsys)
    assert rc == 3, (case, out)
    assert out.startswith("hypotheses_unmet:") and why in out, (case, out)


@pytest.mark.parametrize("big", [1e308, -1.7e308, 2.0**1000])
def test_definition1_near_the_float64_limit_is_not_a_crash(tmp_path, capsys, big):
    path = _write(tmp_path / "d.npz", {"claim": "definition1"},
                  K=np.full((2, 2, 1, 1), big), X=np.full((3, 3, 1), 1.5))
    rc, out = _replay(path, capsys)
    assert rc == 3 and out.startswith("hypotheses_unmet:") and "overflow" in out, out


def test_definition1_within_the_limit_is_judged(tmp_path, capsys):
    path = _write(tmp_path / "d.npz", {"claim": "definition1"},
                  K=np.full((2, 2, 1, 1), 2.0**400), X=np.full((3, 3, 1), 1.5))
    rc, out = _replay(path, capsys)
    assert (rc, out.split(":")[0]) == (0, "holds"), out
