"""``slth-check export vnnlib`` (issue 12, point 5): f - g as ONNX, the property as VNN-LIB.

The exported graph, run in ONNX Runtime (float32), must equal slth-check's own float64
``forward`` of f - g on 100 random inputs in [0, 1] within

    tol = float_error_bound(f, g, D, "float32") + float_error_bound(f, g, D, "float64")

entrywise: ``|ort - fwd64| <= |ort - exact| + |exact - fwd64|``, each bounded by the
gamma-style forward analysis of :mod:`slth_check.export.rounding` (unit roundoff
u = 2^-24, resp. 2^-53, ``gamma_{m+3}`` over the accumulation length ``m = d d c_in`` of
each convolution, the weights' rounding included).  The tolerance is also asserted to
stay below 1e-4 (the networks' outputs are of order 0.1-1), so a wrong graph cannot hide
behind it; mutants of the kernel flip and of the pads are shown to go red.
"""

from __future__ import annotations

import json
import re
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from slth_check.cli.main import main
from slth_check.construction import build_network
from slth_check.conv import PADDINGS
from slth_check.export import onnx_graph
from slth_check.export.bundle import export_difference
from slth_check.export.program import network_ops, run_ops
from slth_check.export.rounding import float_error_bound
from slth_check.network import ConvLayer, TargetCNN
from slth_check.pruned import PrunedCNN, PrunedLayer
from slth_check.tensors import input_to_torch

sys.path.insert(0, str(Path(__file__).parent / "adversarial"))
import pruned_zoo


def _need_onnx():
    onnx = pytest.importorskip("onnx", reason="onnx is an optional extra "
                               "(pip install 'slth-check[onnx]')")
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra "
                              "(pip install 'slth-check[onnx]')")
    return onnx, ort


def _pair(padding="paper", pool=None, stride=1, final_relu=False, seed=0, masks="theorem1"):
    """Two layers (3x3 with bias, then 2x2: an even kernel, where the paddings differ) and
    a pruned network for them: Theorem 1's (n = 6 random samples per weight; its kept U
    are >= 0, so its hidden ReLUs are identities on X >= 0), or with ``masks="random"``
    random U, V, Ub and Bernoulli masks (kept U of both signs: the hidden ReLUs matter)."""
    rng = np.random.default_rng(seed)
    t = TargetCNN([ConvLayer(rng.uniform(-1, 1, (3, 3, 2, 3)) / 6, bias=rng.uniform(-.2, .2, 3),
                             padding=padding, stride=stride, pool=pool),
                   ConvLayer(rng.uniform(-1, 1, (2, 2, 3, 2)) / 4, padding=padding)],
                  final_relu=final_relu)
    if masks == "theorem1":
        return t, build_network(t, n=6, rng=seed + 1)
    layers = []
    for i, L in enumerate(t.layers):
        U = rng.uniform(-1, 1, (L.d, L.d, L.c0, 6)) / 4
        V = rng.uniform(-1, 1, (1, 1, 6, L.c1)) / 2
        Ub, Sb = (rng.uniform(-.5, .5, 6), rng.random(6) < .5) if i == 0 else (None, None)
        layers.append(PrunedLayer(U, V, rng.random(U.shape) < .5, rng.random(V.shape) < .5,
                                  Ub, Sb, padding=L.padding, stride=L.stride, pool=L.pool))
    return t, PrunedCNN(layers, final_relu=final_relu)


def _ort_vs_forward(path, f, g, D, n=100, seed=0):
    """``(|ort - fwd64|, tol)`` on n random inputs, both (n, c*P*P) in NCHW row-major order."""
    _, ort = _need_onnx()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    X = np.random.default_rng(seed).uniform(0, 1, (n, D, D, f.c0)).astype(np.float32)
    got = np.stack([sess.run(["Y"], {"X": input_to_torch(x)})[0][0] for x in X])
    X64 = X.astype(np.float64)
    ref = f.forward(X64) - g.forward(X64)  # (n, P, P, c)
    ref = ref.transpose(0, 3, 1, 2).reshape(n, -1)
    tol = float_error_bound(f, g, D, "float32") + float_error_bound(f, g, D, "float64")
    return np.abs(got.astype(np.float64) - ref), tol.transpose(2, 0, 1).ravel()


CASES = [(p, pool, 1) for p in PADDINGS for pool in (None, "max", "avg")]
CASES += [("same_upper", None, 2), ("full", "avg", 2), ("paper", "max", 2)]


@pytest.mark.parametrize("masks", ["theorem1", "random"])
@pytest.mark.parametrize("padding,pool,stride", CASES)
def test_onnx_runtime_equals_forward(padding, pool, stride, masks, tmp_path):
    onnx, _ = _need_onnx()
    f, g = _pair(padding, pool, stride, final_relu=pool == "avg", masks=masks)
    D = 7
    m = export_difference(f, g, tmp_path, eps=0.1, D=D)
    onnx.checker.check_model(str(tmp_path / "difference.onnx"), full_check=True)
    err, tol = _ort_vs_forward(tmp_path / "difference.onnx", f, g, D)
    assert err.shape[1] == m["n_outputs"] == tol.size
    assert tol.max() < 1e-4  # a float32 tolerance, not a licence
    assert (err <= tol).all(), (err.max(), tol.max())
    assert m["float32_error_bound"] <= tol.max()


@pytest.mark.parametrize("mutant", ["no kernel flip", "pads swapped"])
def test_a_wrong_graph_goes_red(mutant, tmp_path, monkeypatch):
    """The comparison has teeth: an exporter that forgets the flip (ONNX Conv is a
    cross-correlation) or swaps the pads before/after (paper padding pads before only)
    produces a graph that the tolerance rejects."""
    _need_onnx()
    if mutant == "no kernel flip":
        monkeypatch.setattr(onnx_graph, "kernel_to_torch",
                            lambda K: np.ascontiguousarray(K.transpose(3, 2, 0, 1)))
    else:
        pads = onnx_graph.onnx_pads
        monkeypatch.setattr(onnx_graph, "onnx_pads", lambda p, D, d: pads(p, D, d)[::-1])
    f, g = _pair("paper")
    export_difference(f, g, tmp_path, eps=0.1, D=6)
    err, tol = _ort_vs_forward(tmp_path / "difference.onnx", f, g, 6, n=20)
    assert (err > tol).any()


def test_onnx_pads_by_hand():
    """The pads of Definition 1's crops, derived by hand for d = 4 on a 6 x 6 map."""
    want = {"paper": (3, 0), "same": (2, 1), "same_upper": (1, 2), "valid": (0, 0),
            "full": (3, 3)}
    assert {p: onnx_graph.onnx_pads(p, 6, 4) for p in PADDINGS} == want


@pytest.mark.parametrize("padding,pool,stride", CASES[::2])
def test_the_program_is_the_forward_pass_bit_for_bit(padding, pool, stride):
    """network_ops (what the exporters walk) reproduces forward exactly, for f and for g
    (whose hidden ReLU matters: random U of both signs)."""
    f, g = _pair(padding, pool, stride, final_relu=stride == 2, masks="random")
    X = np.random.default_rng(3).uniform(0, 1, (5, 7, 7, 2))
    for net, name in ((f, "f"), (g, "g")):
        assert np.array_equal(run_ops(network_ops(net, name), X), net.forward(X))
    assert not g.linearisable()
    assert not np.array_equal(g.forward(X), g.effective_network().forward(X))  # ReLUs bite


def _ort_at_ones(f, g):
    """ORT's f - g at X = 1 (D = 1) and the exact value, as Fractions."""
    _, ort = _need_onnx()
    sess = ort.InferenceSession(onnx_graph.difference_model(f, g, 1).SerializeToString(),
                                providers=["CPUExecutionProvider"])
    got = Fraction(float(sess.run(["Y"], {"X": np.ones((1, 1, 1, 1), np.float32)})[0][0, 0]))
    X = np.ones((1, 1, 1))
    return got, f.forward_exact(X)[0, 0, 0] - g.forward_exact(X)[0, 0, 0]


def test_error_bound_covers_float32_rounding_exactly():
    """Against exact arithmetic, where float32 really rounds: a target 1/3 (not a float32)
    against g = 0; the same against a pruned layer whose effective kernel 1 + 2^53 - 2^53
    cancels (pruned_zoo); and four layers of 1/3, whose relative error (about 1.6e-7)
    exceeds float32's u = 2^-24: only the per-convolution terms cover it, not the final
    subtraction's."""
    one = np.ones((1, 1, 1, 1))
    zero_g = [PrunedLayer(one, one, one < 0, one > 0) for _ in range(4)]
    third = [ConvLayer(one / 3) for _ in range(4)]
    ident = PrunedLayer(one, one, one > 0, one > 0)
    pairs = [(third[:1] + [ConvLayer(one)], zero_g[:2]),
             (third[:1] + [ConvLayer(one)], [pruned_zoo.cancelling_layer(), ident]),
             (third, zero_g)]
    for t, p in pairs:
        f, g = TargetCNN(t), PrunedCNN(p)
        got, exact = _ort_at_ones(f, g)
        bound = float_error_bound(f, g, 1)[0, 0, 0]
        assert got != exact  # float32 rounding is really there
        assert abs(got - exact) <= Fraction(bound)
    assert abs(got - exact) > abs(exact) * Fraction(1, 2**24)  # the chain case


# ------------------------------------------------------------------------- VNN-LIB

def _sexprs(text):
    """A tiny s-expression reader: comments dropped, nested lists of atoms."""
    tokens = re.findall(r"\(|\)|[^\s()]+", re.sub(r";[^\n]*", "", text))
    stack: list[list] = [[]]
    for tok in tokens:
        if tok == "(":
            stack.append([])
        elif tok == ")":
            assert len(stack) > 1, "unbalanced ')'"
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    assert len(stack) == 1, "unbalanced '('"
    return stack[0]


def _check_vnnlib(text, n_in, n_out, eps):
    forms = _sexprs(text)
    decl = [f for f in forms if f[0] == "declare-const"]
    assert all(len(f) == 3 and f[2] == "Real" for f in decl)
    assert [f[1] for f in decl] == [f"X_{i}" for i in range(n_in)] + [
        f"Y_{j}" for j in range(n_out)]
    asserts = [f[1] for f in forms if f[0] == "assert"]
    assert len(forms) == len(decl) + len(asserts)
    box = {(a[0], a[1], float(a[2])) for a in asserts[:-1]}
    assert box == {(op, f"X_{i}", v) for i in range(n_in) for op, v in ((">=", 0), ("<=", 1))}
    assert len(asserts) == 2 * n_in + 1
    unsafe = asserts[-1]
    assert unsafe[0] == "or" and all(c[0] == "and" and len(c) == 2 for c in unsafe[1:])
    clauses = {(c[1][0], c[1][1], float(c[1][2])) for c in unsafe[1:]}
    assert clauses == {(op, f"Y_{j}", v) for j in range(n_out)
                       for op, v in ((">=", eps), ("<=", -eps))}
    assert len(unsafe) == 2 * n_out + 1


def test_vnnlib_file_parses_with_the_right_counts(tmp_path):
    _need_onnx()
    f, g = _pair("paper", "max")  # D = 5: 5x5x2 inputs; paper padding then 2x2 max pool: 2x2x2
    eps = 0.0123
    m = export_difference(f, g, tmp_path, eps=eps, D=5)
    _check_vnnlib((tmp_path / "property.vnnlib").read_text(), 5 * 5 * 2, 2 * 2 * 2, eps)
    assert (m["n_inputs"], m["n_outputs"], m["eps"]) == (50, 8, eps)
    with pytest.raises(AssertionError):  # the checker has teeth: a wrong eps fails it
        _check_vnnlib((tmp_path / "property.vnnlib").read_text(), 50, 8, 0.0124)


# ------------------------------------------------------------------------- the command

def _files(tmp_path, name="deep_offset"):
    t, p, _, _ = pruned_zoo.ZOO[name]()
    sub = tmp_path / name
    sub.mkdir()
    return pruned_zoo.write(sub, t, p)


def _err_line(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.mark.parametrize("name", ["deep_offset", "negative_U_kept"])
def test_cli_writes_a_folder_a_verifier_reads(name, tmp_path, capsys):
    onnx, _ = _need_onnx()
    T, R, M = _files(tmp_path, name)
    out = tmp_path / "out"
    assert main(["export", "vnnlib", "--target", T, "--random", R, "--masks", M, "--eps",
                 "0.25", "--out", str(out)]) == 0
    assert "never a slth-check 'holds'" in capsys.readouterr().out
    man = json.loads((out / "manifest.json").read_text())
    D = {"deep_offset": 4, "negative_U_kept": 1}[name]  # the receptive fields, by hand
    assert (man["D"], man["n_inputs"], man["n_outputs"]) == (D, D * D, D * D)
    _check_vnnlib((out / "property.vnnlib").read_text(), D * D, D * D, 0.25)
    model = onnx.load(str(out / "difference.onnx"))
    onnx.checker.check_model(model, full_check=True)
    dims = [[d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in (model.graph.input[0], model.graph.output[0])]
    assert dims == [[1, 1, D, D], [1, D * D]]
    from slth_check.fileio.networks import load_networks

    err, tol = _ort_vs_forward(out / "difference.onnx", *load_networks(T, R, M), D)
    assert (err <= tol).all()
    readme = (out / "README.txt").read_text()
    assert "never a slth-check \"holds\"" in readme and "X_i, i = (k * " in readme


@pytest.mark.parametrize("eps", ["0", "-0.5", "nan", "inf"])
def test_cli_bad_eps(eps, tmp_path, capsys):
    T, R, M = _files(tmp_path)
    assert main(["export", "vnnlib", "--target", T, "--random", R, "--masks", M,
                 f"--eps={eps}", "--out", str(tmp_path / "o")]) == 2
    assert "--eps: expected a positive finite number" in _err_line(capsys)
    assert not (tmp_path / "o").exists()


def test_cli_missing_file(tmp_path, capsys):
    _need_onnx()
    T, R, M = _files(tmp_path)
    assert main(["export", "vnnlib", "--target", T + ".nope", "--random", R, "--masks", M,
                 "--eps", "0.1", "--out", str(tmp_path / "o")]) == 2
    assert "--target: no such file" in _err_line(capsys)


@pytest.mark.parametrize("other,message", [
    ("negative_U_kept", "expected 3 arrays U1 .. U3"),  # 1 layer against 3
    ("cancelling_bias", "bias present in one network only")])
def test_cli_mismatched_networks(other, message, tmp_path, capsys):
    _need_onnx()
    T, _, _ = _files(tmp_path, "deep_offset" if other != "cancelling_bias"
                     else "cancelling_kernel")
    _, R, M = _files(tmp_path, other)
    assert main(["export", "vnnlib", "--target", T, "--random", R, "--masks", M,
                 "--eps", "0.1", "--out", str(tmp_path / "o")]) == 2
    assert message in _err_line(capsys)


def test_cli_layer_shapes_mismatch(tmp_path, capsys):
    _need_onnx()
    f, _ = _pair()
    _, g = _pair(seed=5)
    g.layers[0].U = g.layers[0].U[:2, :2]  # a 2x2 random layer against a 3x3 kernel
    g.layers[0].S = g.layers[0].S[:2, :2]
    paths = [str(tmp_path / n) for n in ("T.npz", "R.npz", "M.npz")]
    from slth_check.fileio.networks import save_networks

    save_networks(*paths, f, g)
    assert main(["export", "vnnlib", "--target", paths[0], "--random", paths[1], "--masks",
                 paths[2], "--eps", "0.1", "--out", str(tmp_path / "o")]) == 2
    assert "pruned: layer 1 has U (2, 2, 2, 6)" in _err_line(capsys)


def test_cli_without_onnx_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    T, R, M = _files(tmp_path)
    assert main(["export", "vnnlib", "--target", T, "--random", R, "--masks", M,
                 "--eps", "0.1", "--out", str(tmp_path / "o")]) == 2
    assert "pip install 'slth-check[onnx]'" in _err_line(capsys)


def test_cli_bad_D(tmp_path, capsys):
    _need_onnx()
    T, R, M = _files(tmp_path)
    assert main(["export", "vnnlib", "--target", T, "--random", R, "--masks", M,
                 "--eps", "0.1", "--D", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--D: expected a positive integer" in _err_line(capsys)


def test_cli_D_too_large_and_out_not_a_folder(tmp_path, capsys):
    _need_onnx()
    T, R, M = _files(tmp_path)
    base = ["export", "vnnlib", "--target", T, "--random", R, "--masks", M, "--eps", "0.1"]
    assert main(base + ["--D", "2000", "--out", str(tmp_path / "o")]) == 2
    assert "--D: 4000000 inputs and 4000000 outputs exceed" in _err_line(capsys)
    (tmp_path / "file").write_text("x")
    assert main(base + ["--out", str(tmp_path / "file")]) == 2
    assert "--out: cannot write to the folder" in _err_line(capsys)
