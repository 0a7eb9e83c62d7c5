"""validate conv2d: --stride, and the built-ins jax and onnxruntime (issue 12, point 5).

The JAX and ONNX tests skip with a reason when the package is absent (jax is
not in the ``test`` extra: 400 MB; onnx and onnxruntime are)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from slth_check.cli.main import main
from slth_check.validate.conv2d import builtins as conv2d_builtins
from slth_check.validate.conv2d.core import validate_conv2d

PADDINGS = ["paper", "same", "valid", "full", "same_upper"]


def _module(tmp_path, monkeypatch, name: str, source: str) -> None:
    """A user module ``name`` in the current folder (where --impl finds it)."""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.chdir(tmp_path)


def _run_json(args: list[str], tmp_path) -> tuple[int, dict]:
    out = tmp_path / "v.json"
    rc = main(["validate", "conv2d", *args, "--json", str(out)])
    return rc, json.loads(out.read_text())


# -- --stride ---------------------------------------------------------------------
@pytest.mark.parametrize("padding", PADDINGS)
def test_scipy_builtin_is_consistent_at_stride_2(padding):
    assert main(["validate", "conv2d", "--impl", "scipy", "--padding", padding,
                 "--stride", "2", "--max-examples", "15"]) == 0


@pytest.mark.parametrize("padding", ["same", "full"])
def test_torch_builtin_is_consistent_at_stride_2(padding):
    pytest.importorskip("torch", reason="torch is an optional extra")
    assert main(["validate", "conv2d", "--impl", "torch", "--padding", padding,
                 "--stride", "2", "--max-examples", "25"]) == 0


def test_user_code_gets_the_stride_as_a_keyword(tmp_path, monkeypatch):
    _module(tmp_path, monkeypatch, "strided_ok", """
        import slth_check
        def conv(K, X, *, stride=1):
            return slth_check.conv2d(K, X, stride=stride)
        """)
    assert main(["validate", "conv2d", "--impl", "strided_ok:conv", "--stride", "3",
                 "--max-examples", "25"]) == 0


@pytest.mark.parametrize("body,what", [
    ("return slth_check.conv2d(K, X)", "stride ignored"),
    ("return slth_check.conv2d(K, X)[:, 1:, 1:][:, ::stride, ::stride]", "offset by one"),
])
def test_a_wrong_stride_is_a_discrepancy_with_a_minimal_reproducer(body, what, tmp_path,
                                                                    monkeypatch):
    _module(tmp_path, monkeypatch, "strided_bad", f"""
        import slth_check
        def conv(K, X, stride=1):
            {body}
        """)
    rc, v = _run_json(["--impl", "strided_bad:conv", "--stride", "2", "--max-examples", "60"],
                      tmp_path)
    assert rc == 1 and v["verdict"] == "discrepancy", what
    K, X = np.array(v["counterexample"]["K"]), np.array(v["counterexample"]["X"])
    assert K.shape[:3] == (1, 1, 1) and X.shape[0] == 1 and X.shape[1] <= 3, (K.shape, X.shape)
    assert "impl(A, Xu, stride=2)" in v["reproducer"] and "stride=2)" in \
        v["reproducer"].split("expected = ")[1]
    # the reproducer, run as it is, prints a non-zero difference (or fails on the shape)
    run = subprocess.run([sys.executable, "-c", v["reproducer"]], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "AssertionError: shape" in run.stderr or \
        run.returncode == 0 and any(c in run.stdout for c in "123456789"), run


def test_code_without_a_stride_keyword_is_a_usage_error(tmp_path, monkeypatch, capsys):
    _module(tmp_path, monkeypatch, "no_stride", """
        import slth_check
        def conv(K, X):
            return slth_check.conv2d(K, X)
        """)
    assert main(["validate", "conv2d", "--impl", "no_stride:conv", "--stride", "2"]) == 2
    err = capsys.readouterr().err
    assert "does not accept the keyword argument stride" in err and len(err.splitlines()) == 1
    # at stride 1 the same function is called as before, without the keyword
    assert main(["validate", "conv2d", "--impl", "no_stride:conv", "--max-examples", "5"]) == 0

    def in_process(K, X):
        return X
    with pytest.raises(ValueError, match="does not accept the keyword argument stride"):
        validate_conv2d(in_process, stride=2)


@pytest.mark.parametrize("args,needle", [
    (["--stride", "0"], "stride: expected an integer in [1, 32]"),
    (["--stride", "9", "--max-D", "8"], "raise max_D to at least 10"),
    (["--stride", "9", "--max-D", "8", "--padding", "full"], None),
])
def test_stride_bounds(args, needle, capsys):
    rc = main(["validate", "conv2d", "--impl", "scipy", "--max-examples", "3", *args])
    if needle is None:  # full padding: outputs up to max_D + max_d - 1 = 12 long
        assert rc == 0
    else:
        assert rc == 2 and needle in capsys.readouterr().err


# -- extras absent ----------------------------------------------------------------
@pytest.mark.parametrize("impl,extra", [("jax", "jax"), ("onnxruntime", "onnx"),
                                        ("torch", "torch")])
def test_missing_extra_exits_2_with_the_install_command(impl, extra, monkeypatch, capsys):
    monkeypatch.setattr(conv2d_builtins, "installed", lambda module: False)
    assert main(["validate", "conv2d", "--impl", impl]) == 2
    assert f"pip install 'slth-check[{extra}]'" in capsys.readouterr().err


# -- JAX ----------------------------------------------------------------------------
@pytest.mark.parametrize("padding,stride", [("same_upper", 1), ("paper", 2)])
def test_jax_builtin_is_consistent_in_float64(padding, stride):
    """JAX's own "SAME" at stride 1 (it is same_upper), explicit pads at stride 2."""
    pytest.importorskip("jax", reason="jax is an optional extra (pip install "
                        "'slth-check[jax]')")
    v = validate_conv2d("jax", padding=padding, stride=stride, max_examples=20)
    assert v.verdict == "consistent", v.message
    assert v.config["precision"] == "float64"


def test_jax_builtin_refuses_a_float32_result():
    """x64 switched off after the built-in was made: its calls raise, not return float32."""
    pytest.importorskip("jax", reason="jax is an optional extra")
    code = textwrap.dedent("""
        import jax, numpy as np
        from slth_check.validate.conv2d.builtins import jax_conv2d
        f = jax_conv2d("valid", 1)
        K, X = np.ones((2, 2, 1, 1)), np.ones((1, 3, 3, 1))
        assert f(K, X).dtype == np.float64
        jax.config.update("jax_enable_x64", False)
        try:
            f(K, X)
        except TypeError as exc:
            print("refused:", exc)
        """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "refused: JAX computed in float32 on float64 inputs" in run.stdout


def test_a_float32_jax_user_function_is_not_float64(tmp_path, monkeypatch):
    pytest.importorskip("jax", reason="jax is an optional extra")
    _module(tmp_path, monkeypatch, "jax32", """
        import jax
        jax.config.update("jax_enable_x64", False)
        def conv(K, X):  # paper layout, cross-correlation, VALID
            return jax.lax.conv_general_dilated(X, K, (1, 1), "VALID",
                                                dimension_numbers=("NHWC", "HWIO", "NHWC"))
        """)
    args = ["--impl", "jax32:conv", "--op", "cross-correlation", "--padding", "valid",
            "--max-examples", "40"]
    rc, v = _run_json(args, tmp_path)
    assert rc == 1 and any("float32 arithmetic" in d for d in v["diagnosis"]), v
    assert main(["validate", "conv2d", *args, "--precision", "float32"]) == 0


def test_jax_strided_same_is_named_by_the_diagnosis(tmp_path, monkeypatch):
    """JAX's SAME pads for the strided output: at S = 2 it starts later than same_upper for
    odd d >= 3 and even D, and the diagnosis says which convention the user followed."""
    pytest.importorskip("jax", reason="jax is an optional extra")
    _module(tmp_path, monkeypatch, "jax_same", """
        import jax
        jax.config.update("jax_enable_x64", True)
        def conv(K, X, stride=1):
            return jax.lax.conv_general_dilated(X, K, (stride, stride), "SAME",
                                                dimension_numbers=("NHWC", "HWIO", "NHWC"))
        """)
    rc, v = _run_json(["--impl", "jax_same:conv", "--op", "cross-correlation", "--padding",
                       "same_upper", "--stride", "2", "--max-examples", "60"], tmp_path)
    assert rc == 1
    assert any("SAME padding computed for the strided output" in d for d in v["diagnosis"])
    d, D = len(v["counterexample"]["K"]), np.array(v["counterexample"]["X"]).shape[1]
    assert d % 2 == 1 and d >= 3 and D % 2 == 0, (d, D)


# -- ONNX Runtime -------------------------------------------------------------------
def _need_onnx() -> None:
    pytest.importorskip("onnx", reason="onnx is an optional extra (pip install "
                        "'slth-check[onnx]')")
    pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")


@pytest.mark.parametrize("padding,stride", [(p, 1) for p in PADDINGS]
                         + [("same_upper", 2), ("valid", 2)])
def test_onnxruntime_builtin_is_consistent_in_float32(padding, stride):
    _need_onnx()
    v = validate_conv2d("onnxruntime", padding=padding, stride=stride, precision="float32",
                        max_examples=20)
    assert v.verdict == "consistent", v.message


def test_onnxruntime_builtin_is_a_discrepancy_in_float64(capsys):
    _need_onnx()
    assert main(["validate", "conv2d", "--impl", "onnxruntime", "--max-examples", "30"]) == 1
    out = capsys.readouterr().out
    assert "did you mean --precision float32?" in out
    assert "builtin_factory('onnxruntime', 'paper', 1)" in out


@pytest.mark.parametrize("padding,pads,label", [
    ("same_upper", "SAME_LOWER", "padding offset by -1"),  # ONNX's other SAME
    ("paper", "end", None),  # the d - 1 zeros after the input instead of before
])
def test_an_onnx_graph_with_wrong_pads_is_caught(padding, pads, label):
    _need_onnx()

    def model_for(W, X):
        c1, c0, d, _ = W.shape
        return conv2d_builtins.onnx_conv_model(c0, c1, d, 1, (0, d - 1) if pads == "end"
                                               else pads)

    v = validate_conv2d(conv2d_builtins.onnx_runner(model_for), layout="torch",
                        op="cross-correlation", padding=padding, precision="float32",
                        max_examples=60)
    assert v.verdict == "discrepancy", v.message
    assert len(v.counterexample["K"]) == 2  # the smallest kernel that pads at all
    if label:
        assert any(label in d for d in v.diagnosis), v.diagnosis


def test_the_strided_same_of_the_diagnosis_is_jaxs():
    """The diagnosis' model of SAME at a stride equals JAX's output (float32 in-process,
    no x64 needed), and agrees with same_upper exactly when its first pad is (d-1)//2."""
    jax = pytest.importorskip("jax", reason="jax is an optional extra")
    from slth_check import conv2d
    from slth_check.validate.conv2d.diagnosis import strided_same

    rng = np.random.default_rng(5)
    for S, d, D in [(S, d, D) for S in (2, 3) for d in (2, 3, 4) for D in (4, 5, 6, 7)]:
        K = rng.integers(-3, 4, (d, d, 1, 1)).astype(np.float32)
        X = rng.integers(-3, 4, (1, D, D, 1)).astype(np.float32)
        got = np.asarray(jax.lax.conv_general_dilated(
            X, K[::-1, ::-1].copy(), (S, S), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))
        (model,) = strided_same(K.astype(float), X.astype(float), S).values()
        assert np.array_equal(got, model), (S, d, D)  # small integers: exact in float32
        before = max((-(-D // S) - 1) * S + d - D, 0) // 2
        upper = conv2d(K.astype(float), X.astype(float), padding="same_upper", stride=S)
        assert np.array_equal(got, upper) == (before == (d - 1) // 2), (S, d, D)
