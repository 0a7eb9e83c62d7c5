"""Soundness of the certificate at the boundary: float64 steps on the path to ``holds``.

Each test below was seen red on the code it guards (float64 effective kernels and
biases without a rounding radius, average pooling rounded by one ulp, the default
``D = max d + 1`` of ``validate pruned``).
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from slth_check.arithmetic import to_fraction
from slth_check.certify import (
    CertificationError,
    avg_pool_enclosure,
    exact_error,
    matmul_enclosure,
    sup_error,
)
from slth_check.cli.main import main
from slth_check.conv import pool2d
from slth_check.network import ConvLayer, TargetCNN
from slth_check.pruned import PrunedCNN, PrunedLayer

sys.path.insert(0, str(Path(__file__).parent / "adversarial"))
from pruned_zoo import BIG, cancelling_layer, deep_offset


def test_matmul_enclosure_covers_cancellation():
    A = np.array([[1.0, 1.0, 1.0]])
    B = np.array([[1.0], [BIG], [-BIG]])
    P, r = matmul_enclosure(A, B)
    exact = sum(Fraction(a) * Fraction(b) for a, b in zip(A[0], B[:, 0]))
    assert P[0, 0] == 0.0 and exact == 1  # the float64 product alone is wrong
    assert abs(Fraction(P[0, 0]) - exact) <= Fraction(r[0, 0])


def test_avg_pool_enclosure_covers_cancellation():
    X = np.array([1e16, 1.0, -1e16, 1.0]).reshape(2, 2, 1)
    exact = sum(to_fraction(X).ravel()) / 4
    assert Fraction(pool2d(X, "avg")[0, 0, 0]) != exact  # float64 pooling loses the ones
    lo, hi = avg_pool_enclosure(X, X)
    assert Fraction(lo[0, 0, 0]) <= exact <= Fraction(hi[0, 0, 0])


@pytest.mark.parametrize("pool", ["avg", "max"])
def test_upper_bound_covers_a_kernel_lost_to_cancellation(pool):
    f = TargetCNN([ConvLayer(np.zeros((1, 1, 1, 1)), pool=pool)])
    g = PrunedCNN([cancelling_layer(pool)])
    cert = sup_error(f, g, D=2)
    worst = exact_error(f, g, np.ones((2, 2, 1)))
    assert worst == 1
    assert cert.upper >= worst  # was 9.4e-323: a false certificate
    assert cert.lower == worst  # the search runs on exactly summed kernels


def test_bias_only_network_upper_bound_is_sound():
    f = TargetCNN([ConvLayer(np.zeros((1, 1, 1, 1)), bias=np.zeros(1)),
                   ConvLayer(np.ones((1, 1, 1, 1)))])
    U0 = np.zeros((1, 1, 1, 3))
    layer1 = PrunedLayer(U0, np.array([1.0, BIG, -BIG]).reshape(1, 1, 3, 1),
                         np.zeros(U0.shape, bool), np.ones((1, 1, 3, 1), bool),
                         np.array([2.0**-60, 1.0, 1.0]), np.ones(3, bool))
    g = PrunedCNN([layer1, PrunedLayer(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)),
                                       np.ones((1, 1, 1, 1), bool),
                                       np.ones((1, 1, 1, 1), bool))])
    exact = exact_error(f, g, np.zeros((2, 2, 1)))
    assert exact == Fraction(2.0**-60)
    cert = sup_error(f, g, D=2, method="bounds")
    assert cert.lower <= exact <= cert.upper


def test_lower_above_upper_is_an_internal_error(monkeypatch):
    import slth_check.certify.certificate as certificate

    f = TargetCNN([ConvLayer(np.zeros((1, 1, 1, 1)), pool="max")])
    g = PrunedCNN([cancelling_layer("max")])
    real = certificate.upper_bounds

    def halved(*a, **k):
        out = real(*a, **k)
        return {**out, "interval_bound": 0.5, "entrywise_bound": 0.5,
                "proof_bound_exact": Fraction(1, 2)}

    monkeypatch.setattr(certificate, "upper_bounds", halved)
    with pytest.raises(CertificationError,
                       match="^the certified upper bound .* lies below the exactly replayed"):
        sup_error(f, g, D=2)


def _write(tmp_path, target_layers, pruned_layers):
    import pruned_zoo

    return pruned_zoo.write(tmp_path, target_layers, pruned_layers)


def test_validate_pruned_cancellation_is_not_a_false_holds(tmp_path, capsys):
    """The issue's case: float64 effective kernels said 'holds' at eps = 0.5, error is 1."""
    t = [ConvLayer(np.zeros((1, 1, 1, 1))), ConvLayer(np.ones((1, 1, 1, 1)))]
    p = [cancelling_layer(), PrunedLayer(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)),
                                         np.ones((1, 1, 1, 1), bool),
                                         np.ones((1, 1, 1, 1), bool))]
    T, R, M = _write(tmp_path, t, p)
    out = tmp_path / "v.json"
    rc = main(["validate", "pruned", "--target", T, "--random", R, "--masks", M, "--eps",
               "0.5", "--json", str(out)])
    v = json.loads(out.read_text())
    assert rc == 1 and v["verdict"] == "violated", capsys.readouterr().out
    assert v["lower"] == 1.0 and v["upper"] >= 1.0
    assert v["D"] == 1 and v["method"] in ("bounds", "milp")


def test_validate_pruned_default_D_is_the_receptive_field(tmp_path):
    t, p, _, _ = deep_offset()  # the error first seen at D = 4, the receptive field
    f = TargetCNN(t)
    assert f.receptive_field() == 4 and f.certification_size() == 4
    T, R, M = _write(tmp_path, t, p)
    args = ["validate", "pruned", "--target", T, "--random", R, "--masks", M, "--eps", "0.1"]
    out = tmp_path / "v.json"
    assert main(args + ["--json", str(out)]) == 1  # the old default D = 3 said 'holds'
    v = json.loads(out.read_text())
    assert v["D"] == 4 and v["lower"] == 0.5 and "D = 4" in v["message"]
    assert main(args + ["--D", "3", "--json", str(out)]) == 0
    v = json.loads(out.read_text())
    assert "smaller than the receptive field 4" in v["message"]
    for bad in ("0", "-1"):
        assert main(args + ["--D", bad]) == 2


def test_sup_error_refuses_a_huge_D_before_allocating():
    f = TargetCNN.from_kernels([np.full((2, 2, 1, 1), 0.1)] * 2)
    g = PrunedCNN([PrunedLayer(np.ones((2, 2, 1, 1)), np.ones((1, 1, 1, 1)),
                               np.ones((2, 2, 1, 1), bool), np.ones((1, 1, 1, 1), bool))] * 2)
    with pytest.raises(ValueError, match=r"D: this sup_error's vertex search would allocate "
                                         r".* PiB \(limit 4 GiB; D=100000"):
        sup_error(f, g, D=10**5)


def test_certification_error_is_exit_4_in_one_line(monkeypatch, tmp_path, capsys):
    import slth_check.validate.pruned as vp

    def broken(*a, **k):
        raise CertificationError("the certified upper bound 0.5 lies below "
                                 "the exactly replayed error 1")

    monkeypatch.setattr(vp, "sup_error", broken)
    t = [ConvLayer(np.zeros((1, 1, 1, 1)))]
    p = [cancelling_layer()]
    T, R, M = _write(tmp_path, t, p)
    rc = main(["validate", "pruned", "--target", T, "--random", R, "--masks", M])
    err = capsys.readouterr().err
    assert rc == 4 and len(err.strip().splitlines()) == 1
    assert err.startswith("slth-check: internal error: CertificationError: the certified upper")


@pytest.mark.parametrize("layers,R,D", [
    ([ConvLayer(np.zeros((3, 3, 1, 1))), ConvLayer(np.zeros((2, 2, 1, 1)))], 4, 4),
    ([ConvLayer(np.zeros((3, 3, 1, 1)), stride=2), ConvLayer(np.zeros((3, 3, 1, 1)))], 7, 11),
    ([ConvLayer(np.zeros((3, 3, 1, 1)), pool="max"), ConvLayer(np.zeros((2, 2, 1, 1)))], 6,
     10),
    ([ConvLayer(np.zeros((3, 3, 1, 1)), padding="same")], 3, 5),
])
def test_receptive_field_and_certification_size(layers, R, D):
    """R counted by hand: 1 + (3-1) + (2-1); 1 + 2 + 2*2; 1 + 2 + 1 (pool) + 1*2."""
    f = TargetCNN(layers)
    assert (f.receptive_field(), f.certification_size()) == (R, D)


def test_certification_size_refuses_same_padding_with_pooling():
    f = TargetCNN([ConvLayer(np.zeros((3, 3, 1, 1)), padding="same", pool="avg")])
    with pytest.raises(ValueError, match="give D explicitly"):
        f.certification_size()


def test_class_membership_is_decided_exactly():
    from slth_check.network import class_F_unmet, scale_into_class

    K = np.full((1, 1, 1, 3), 1 / 3)
    K[0, 0, 0, 2] = np.nextafter(np.nextafter(1 / 3, 1), 1)  # two ulps up
    assert float(np.abs(K).sum()) == 1.0  # the float sum rounds down to 1 ...
    assert sum(Fraction(v) for v in K.ravel()) > 1  # ... the exact 1-norm exceeds 1
    assert class_F_unmet(K) and "||K||_1" in class_F_unmet(K)[0]
    S = scale_into_class(K)
    assert class_F_unmet(S) == [] and S[0, 0, 0, 2] < K[0, 0, 0, 2]
    B = scale_into_class(np.full((1, 1, 1, 2), 0.25), boundary=True)
    assert class_F_unmet(B) == [] and abs(float(np.abs(B).sum()) - 1) < 1e-9
    assert class_F_unmet(np.array([1.5]).reshape(1, 1, 1, 1))[0].startswith("an entry")
