"""Adversarial review (advfig) of Figure 4 on images and the a-priori rounding bounds:
:mod:`slth_check.experiment.rounding` (the float64 bound of the three paths of Figure 4)
and :mod:`slth_check.export.rounding` (the float32 bound of the exported graph).  Each test
is an input on which a bound once lied (a finite bound below the real error, or NaN) or
crashed; the real errors are measured against exact rational arithmetic
(``forward_exact``)."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from slth_check.experiment.conv_batch import stacked_forward
from slth_check.experiment.conv_fused import fused_forward
from slth_check.experiment.figure4 import METHODS, image_errors
from slth_check.experiment.rounding import figure_error_bounds, output_error_bound
from slth_check.network import ConvLayer, TargetCNN

FMAX = sys.float_info.max


def _paths(net, X):
    """The output of ``net`` on ``X`` by each float64 path of Figure 4."""
    with np.errstate(over="ignore", invalid="ignore"):
        return {"reference": net.forward(X), "batched": stacked_forward([net], X)[0],
                "fused": fused_forward([net], X)[0]}


# ------------------------------------------------- experiment/rounding: overflow

def test_average_pooling_of_values_near_the_largest_float_is_not_a_finite_bound():
    """Four outputs equal to the largest float, average-pooled: the exact average is the
    largest float, but every path sums the four first and gets inf.  The bound said
    1e293 (the model assumed no overflow; the avg term bounds the average's size only)."""
    net = TargetCNN([ConvLayer(np.full((1, 1, 1, 1), FMAX), pool="avg")])
    X = np.ones((1, 2, 2, 1))
    assert net.forward_exact(X)[0, 0, 0, 0] == Fraction(FMAX)
    M, E = output_error_bound(net, 0.0, 1.0)
    for name, Y in _paths(net, X).items():
        assert Y[0, 0, 0, 0] == np.inf, name  # the overflow is real on every path
    assert E[0] == np.inf  # |inf - FMAX| is inf: no finite bound holds


def test_a_size_beyond_the_largest_float_gives_inf_not_an_overflow_error():
    """``b + w x`` with b = w = the largest float: the exact output exceeds every float and
    the bound crashed with Python's bare ``OverflowError: integer division result too
    large for a float`` instead of saying inf."""
    net = TargetCNN([ConvLayer(np.full((1, 1, 1, 2), FMAX), bias=np.array([FMAX, -FMAX]))])
    M, E = output_error_bound(net, 0.0, 1.0)
    assert np.all(M == np.inf) and np.all(E == np.inf)
    # a later layer that reads an overflowed channel through a zero weight gets NaN on the
    # fast paths (the reference path refuses the inf between the layers):
    two = TargetCNN([ConvLayer(np.full((1, 1, 1, 2), FMAX), bias=np.array([FMAX, 0.0])),
                     ConvLayer(np.array([0.0, 1.0]).reshape(1, 1, 2, 1))])
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(stacked_forward([two], np.ones((1, 1, 1, 1)))[0][0, 0, 0, 0])
    assert output_error_bound(two, 0.0, 1.0)[1][0] == np.inf


# ------------------------------------------- experiment/rounding: relative errors

@pytest.mark.parametrize("scale", [1e-160, 1e-170, 1e-300, 1e160])
def test_the_relative_bound_holds_at_every_scale(scale):
    """A relative error is scale-free, but its bound was evaluated as
    ``(e_n ref + num e_f) / (ref (ref - e_f))``, whose products underflow for activations
    below about 1e-154 (bound about 1e-22, a million times below the real error at 1e-160;
    NaN at 1e-170 and 1e-300) and overflow above about 1e154 (the first term vanished:
    again 1e-22).  The real errors of each path against exact rationals must lie within
    the bound."""
    rng = np.random.default_rng(0)
    wf = rng.uniform(0.5, 1, (1, 1, 1, 1)) * scale
    f, g = TargetCNN([ConvLayer(wf)]), TargetCNN([ConvLayer(wf * (1 + 2.0**-20))])
    X = rng.uniform(0, 1, (20, 2, 2, 1))
    F, G = f.forward_exact(X).reshape(20, -1), g.forward_exact(X).reshape(20, -1)
    ref_x = [max(abs(v) for v in F[i]) for i in range(20)]
    num_x = [max(abs(a - b) for a, b in zip(F[i], G[i])) for i in range(20)]
    for method in METHODS:
        ref, num = image_errors(f, {1: g}, X, method=method, progress=False)
        b = figure_error_bounds(f, {1: g}, ref, num)[1]
        rel = b["relative"]
        assert np.all(np.isfinite(rel)) and np.all(rel < 1e-14), (method, rel)
        for i in range(20):
            err = abs(Fraction(float(num[1][i] / ref[i])) - num_x[i] / ref_x[i])
            assert err <= Fraction(float(rel[i])), (method, i, float(err), rel[i])
        err = abs(Fraction(float(num[1].max() / ref.max())) - max(num_x) / max(ref_x))
        assert err <= Fraction(b["authors"])


# ------------------------------------------------------ export/rounding: overflow

def _zero_pruned(f):
    """A pruned network of f's shape that computes 0 (every mask off)."""
    from slth_check.pruned import PrunedCNN, PrunedLayer

    layers = []
    for L in f.layers:
        U, V = np.ones((L.d, L.d, L.c0, 1)), np.ones((1, 1, 1, L.c1))
        layers.append(PrunedLayer(U, V, U < 0, V < 0, padding=L.padding, stride=L.stride,
                                  pool=L.pool))
    return PrunedCNN(layers, final_relu=f.final_relu)


def test_float32_average_pooling_just_below_a_quarter_of_the_largest_float():
    """The float32 bound returned inf only when the exact-magnitude bound ``A`` exceeded a
    quarter of float32's largest value; but the computed values may exceed ``A`` by their
    error, and an average pooling sums four of them before dividing.  Four weights near
    2^124 that float32 rounds up (by nearly half an ulp each) sum exactly to just below
    fmax/4 but in float32 to 2^126; average-pooled, 4 * 2^126 = 2^128 overflows: the graph
    (ONNX Runtime, and NumPy in float32) gives inf, the exact output is 8.5e37, and the
    bound said 6.1e31."""
    from slth_check.export.rounding import float_error_bound

    P, h = 2.0**124, 2.0**100
    w = np.array([P + h + 2.0**90] * 3 + [P - 7 * h - h / 2 + 2.0**90])
    f32max = Fraction(float(np.finfo(np.float32).max))
    assert sum(Fraction(x) for x in w) < f32max / 4  # A is within the quarter
    f = TargetCNN([ConvLayer(w.reshape(1, 1, 4, 1), pool="avg")])
    g = _zero_pruned(f)
    X = np.ones((2, 2, 4))
    assert f.forward_exact(X)[0, 0, 0] < f32max / 4
    with np.errstate(over="ignore"):  # the float32 program: conv (1 x 1), then avg pooling
        Z = X.astype(np.float32) @ w.astype(np.float32)
        assert np.all(Z == np.float32(2.0**126))
        assert Z.sum(dtype=np.float32) / np.float32(4) == np.inf
    assert float_error_bound(f, g, 2, "float32")[0, 0, 0] == np.inf


def test_float32_average_pooling_overflow_in_onnx_runtime():
    """The same network exported and run by ONNX Runtime gives inf: the bound must too."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    from slth_check.export import onnx_graph
    from slth_check.export.rounding import float_error_bound
    from slth_check.tensors import input_to_torch

    P, h = 2.0**124, 2.0**100
    w = np.array([P + h + 2.0**90] * 3 + [P - 7 * h - h / 2 + 2.0**90])
    f = TargetCNN([ConvLayer(w.reshape(1, 1, 4, 1), pool="avg")])
    g = _zero_pruned(f)
    sess = ort.InferenceSession(onnx_graph.difference_model(f, g, 2).SerializeToString(),
                                providers=["CPUExecutionProvider"])
    X = input_to_torch(np.ones((2, 2, 4), dtype=np.float32))
    assert sess.run(["Y"], {"X": X})[0].ravel()[0] == np.inf
    assert float_error_bound(f, g, 2, "float32")[0, 0, 0] == np.inf


# ------------------------------------------------ figure4: a zero reference activation

def test_an_image_where_f_is_zero_and_g_is_not_has_an_infinite_relative_error(monkeypatch):
    """f(X) = 0 on the all-zero image (no bias) while g(X) = 0.5 everywhere: its relative
    error is infinite, but the figure counted it as 0 and reported the other image's 0.556
    as the maximum (the row's only trace was an inf rounding bound)."""
    import slth_check.experiment.figure4 as F4

    K = np.full((3, 3, 1, 1), 0.1)
    f = TargetCNN([ConvLayer(K, bias=np.array([0.0]), padding="same")])
    g = TargetCNN([ConvLayer(K, bias=np.array([0.5]), padding="same")])
    monkeypatch.setattr(F4, "lenet_networks", lambda art, ds, ns: (f, {n: g for n in ns}))
    imgs = np.stack([np.zeros((28, 28)), np.ones((28, 28))])
    for method in METHODS:
        with np.errstate(divide="ignore"):
            (row,) = F4.figure4_on_images("unused", imgs, "MNIST", ns=(5,), method=method,
                                          progress=False)
        assert row["max_relative_error"] == np.inf and row["argmax_image"] == 0, row
    # where both are zero the image's relative error stays 0
    monkeypatch.setattr(F4, "lenet_networks", lambda art, ds, ns: (f, {n: f for n in ns}))
    (row,) = F4.figure4_on_images("unused", imgs, "MNIST", ns=(5,), progress=False)
    assert row["max_relative_error"] == 0.0


def test_a_possible_overflow_inside_the_network_gives_inf_of_the_output_shape():
    """Where an overflow became possible before the last step, the propagation returned
    that step's (A, E), of that step's shape: g's hidden layer (3 units) against f's 2
    outputs, or an overflow before a pooling, made ``f``'s and ``g``'s bounds of different
    shapes, and float_error_bound (hence export_difference) crashed with a NumPy
    broadcasting ValueError instead of returning inf."""
    from slth_check.export.rounding import float_error_bound
    from slth_check.pruned import PrunedCNN, PrunedLayer

    f = TargetCNN([ConvLayer(np.ones((1, 1, 1, 2)))])
    U, V = np.full((1, 1, 1, 3), 1e38), np.ones((1, 1, 3, 2))
    for precision in ("float32", "float64"):
        scale = 1.0 if precision == "float32" else 1e270
        g = PrunedCNN([PrunedLayer(U * scale, V, U > 0, V > 0)])
        B = float_error_bound(f, g, 2, precision)
        assert B.shape == (2, 2, 2) and np.all(B == np.inf)
    f2 = TargetCNN([ConvLayer(np.ones((1, 1, 1, 1)), pool="avg")])
    U, V = np.full((1, 1, 1, 1), 1e38), np.ones((1, 1, 1, 1))
    g2 = PrunedCNN([PrunedLayer(U, V, U > 0, V > 0, pool="avg")])
    B = float_error_bound(f2, g2, 4, "float32")
    assert B.shape == f2.forward(np.ones((4, 4, 1))).shape and np.all(B == np.inf)


# ------------------------------------------- figure4: images the networks cannot take

def test_images_too_small_or_not_square_are_refused_naming_them(monkeypatch, tmp_path):
    """3 x 3 images (LeNet's two 2 x 2 poolings leave no output) and 28 x 20 ones went
    through to NumPy: ``zero-size array to reduction operation maximum which has no
    identity`` and ``could not broadcast input array from shape (1,2,20,28,1) ...`` were
    the whole message of ``reproduce figure4``."""
    import slth_check.experiment.figure4 as F4

    K = np.full((5, 5, 1, 1), 0.04)
    f = TargetCNN([ConvLayer(K, bias=np.array([0.1]), padding="same", pool="max"),
                   ConvLayer(K, bias=np.array([0.1]), padding="same", pool="max")],
                  final_relu=True)
    monkeypatch.setattr(F4, "lenet_networks", lambda art, ds, ns: (f, {n: f for n in ns}))
    with pytest.raises(ValueError, match=r"images: 3 x 3 images are too small"):
        F4.figure4_on_images("unused", np.zeros((2, 3, 3)), "MNIST", ns=(5,),
                             progress=False)
    with pytest.raises(ValueError, match=r"images: expected square images .*\(2, 28, 20\)"):
        F4.figure4_on_images("unused", np.zeros((2, 28, 20)), "MNIST", ns=(5,),
                             progress=False)
    (row,) = F4.figure4_on_images("unused", np.zeros((1, 4, 4)), "MNIST", ns=(5,),
                                  progress=False)  # the smallest that has an output
    assert row["max_relative_error"] == 0.0
    sys.path.insert(0, str(Path(__file__).parents[1]))
    from support import shared_artifacts

    art = shared_artifacts()
    if art is None:
        return
    from slth_check.cli import main

    monkeypatch.undo()
    np.savez(tmp_path / "small.npz", images=np.zeros((2, 3, 3)))
    assert main(["reproduce", "figure4", "--images", str(tmp_path / "small.npz"),
                 "--artifacts", str(art), "--out", str(tmp_path / "o")]) == 2
