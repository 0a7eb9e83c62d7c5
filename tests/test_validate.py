"""Validators: built-ins pass, deliberately wrong implementations are caught."""

from __future__ import annotations

import contextlib
import importlib
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from slth_check.cli.main import main
from slth_check.construction import build_network
from slth_check.network import TargetCNN

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def _wrong_impls_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


@pytest.mark.parametrize("padding", ["paper", "same", "valid", "full"])
def test_scipy_builtin_is_consistent(padding):
    assert main(["validate", "conv2d", "--impl", "scipy", "--padding", padding,
                 "--max-examples", "60"]) == 0


@pytest.mark.parametrize("padding", ["paper", "same", "valid", "full"])
def test_torch_builtin_is_consistent(padding):
    pytest.importorskip("torch", reason="torch is an optional extra")
    assert main(["validate", "conv2d", "--impl", "torch", "--padding", padding,
                 "--max-examples", "60"]) == 0


@pytest.mark.parametrize("impl,diagnosis", [
    ("not_flipped", "kernel not flipped"),
    ("padding_shifted", "padding offset by +1"),
    ("channel_dropped", "one input channel dropped"),
    ("circular", "circular instead of zero padding"),
])
def test_wrong_conv_exits_1_with_minimal_counterexample_and_diagnosis(impl, diagnosis, tmp_path,
                                                                      capsys):
    out = tmp_path / "v.json"
    rc = main(["validate", "conv2d", "--impl", f"wrong_impls:{impl}", "--max-examples", "100",
               "--json", str(out)])
    assert rc == 1
    v = json.loads(out.read_text())
    assert v["verdict"] == "discrepancy"
    assert any(diagnosis in d for d in v["diagnosis"]), v["diagnosis"]
    K = np.array(v["counterexample"]["K"])
    assert K.size <= 12 and np.count_nonzero(K) <= 2  # shrunk to a minimal case
    assert "reproducer:" in capsys.readouterr().out


def test_good_conv_exits_0():
    assert main(["validate", "conv2d", "--impl", "wrong_impls:good_conv",
                 "--max-examples", "60"]) == 0


@pytest.mark.parametrize("impl,optimal,rc", [
    ("exact_solver", True, 0),
    ("exact_solver", False, 0),
    ("one_based", False, 1),
    ("wrong_sum", False, 1),
    ("greedy", True, 1),
])
def test_validate_rss(impl, optimal, rc, tmp_path):
    args = ["validate", "rss", "--impl", f"wrong_impls:{impl}", "--max-n", "8",
            "--max-examples", "80", "--json", str(tmp_path / "v.json")]
    assert main(args + (["--claims-optimal"] if optimal else [])) == rc
    v = json.loads((tmp_path / "v.json").read_text())
    assert v["verdict"] == ("consistent" if rc == 0 else "discrepancy")


def _write_pruned(tmp_path, keep_negative: bool):
    rng = np.random.default_rng(0)
    K = rng.uniform(-1, 1, (2, 2, 1, 2))
    K /= np.abs(K).sum() * (1 + 2**-40)
    p = build_network(TargetCNN.from_kernels([K]), n=[40], rng=1)
    L = p.layers[0]
    S = L.S | (L.U < 0) if keep_negative else L.S
    np.savez(tmp_path / "T.npz", K1=K)
    np.savez(tmp_path / "R.npz", U1=L.U, V1=L.V)
    np.savez(tmp_path / "M.npz", S1=S, T1=L.T)
    return [str(tmp_path / f) for f in ("T.npz", "R.npz", "M.npz")]


def test_validate_pruned_holds_for_the_library_construction(tmp_path):
    t, r, m = _write_pruned(tmp_path, keep_negative=False)
    assert main(["validate", "pruned", "--target", t, "--random", r, "--masks", m,
                 "--eps", "0.1"]) == 0


def test_validate_pruned_violated_when_negative_U_kept(tmp_path):
    t, r, m = _write_pruned(tmp_path, keep_negative=True)
    out = tmp_path / "v.json"
    assert main(["validate", "pruned", "--target", t, "--random", r, "--masks", m,
                 "--eps", "0.1", "--json", str(out)]) == 1
    v = json.loads(out.read_text())
    assert v["verdict"] == "violated" and v["counterexample"]["error"] >= 0.1


def test_validate_usage_errors(tmp_path, capsys):
    assert main(["validate", "conv2d", "--impl", "no_such_module:f"]) == 2
    assert main(["validate", "pruned", "--target", str(tmp_path / "x.npz"), "--random", "a",
                 "--masks", "b"]) == 2
    (tmp_path / "p.npz").write_bytes(b"junk")
    assert main(["validate", "pruned", "--target", str(tmp_path / "p.npz"), "--random", "a",
                 "--masks", "b"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--target" in err


def _schema():
    import importlib.resources

    return json.loads(importlib.resources.files("slth_check").joinpath(
        "report_schema.json").read_text())


def test_report_json_validates_against_schema(tmp_path):
    assert main(["check", "--claims", "definition1,proposition1,lemma2,lueker", "--out",
                 str(tmp_path)]) == 0
    rep = json.loads((tmp_path / "report.json").read_text())
    jsonschema.validate(rep, _schema())
    assert rep["figures"] and all((tmp_path / f).is_file() for f in rep["figures"])
    bad = dict(rep, schema_version=2)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, _schema())
    assert any(c.get("figures") for c in rep["claims"])  # each figure with its caption
    uncaptioned = json.loads(json.dumps(rep))
    claim = next(c for c in uncaptioned["claims"] if c.get("figures"))
    claim["figures"][0].pop("caption")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(uncaptioned, _schema())


def test_pytest_plugin_report(tmp_path):
    root = HERE.parent
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(root / "properties" / "test_proposition1.py"),
                        "--slth-report", str(tmp_path)], capture_output=True, text=True,
                       cwd=root)
    assert r.returncode == 0, r.stdout + r.stderr
    rep = json.loads((tmp_path / "report.json").read_text())
    jsonschema.validate(rep, _schema())
    assert rep["claims"][0]["id"] == "proposition1"
    tests = rep["pytest"]["tests"]
    assert any(t["targets"] for t in tests)  # target() maxima recorded
    assert all(t["statistics"] for t in tests if "z3" not in t["nodeid"])


def test_pytest_plugin_records_falsifying_example(tmp_path):
    root = HERE.parent
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(root / "properties" / "test_definition1.py"), "-k", "rounding",
                        "--slth-impl", "wrong_impls:not_flipped_full", "--slth-report",
                        str(tmp_path)], capture_output=True, text=True, cwd=root,
                       env={**__import__("os").environ, "PYTHONPATH": str(HERE)})
    assert r.returncode == 1
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["run"]["config"]["slth_impl"] == "wrong_impls:not_flipped_full"
    detail = rep["violations"][0]["detail"] if rep["violations"] else ""
    assert "Falsifying example" in detail or "Failing test case" in detail
    assert "Draw 2 (K)" in detail  # the shrunk example, with its labelled draws


def test_user_function_in_torch_layout():
    args = ["validate", "conv2d", "--impl", "wrong_impls:torch_layout_xcorr", "--layout", "torch",
            "--max-examples", "60"]
    assert main(args + ["--op", "cross-correlation"]) == 0
    assert main(args + ["--op", "convolution"]) == 1  # the flip is then missing


def test_rtol_is_added_on_top_of_the_float64_tolerance():
    args = ["validate", "conv2d", "--impl", "wrong_impls:relative_error_1e9",
            "--max-examples", "60"]
    assert main(args) == 1  # a relative error of 1e-9 is far outside the float64 bound
    assert main(args + ["--rtol", "1e-8"]) == 0


def test_float32_implementation_needs_precision_float32(tmp_path):
    out = tmp_path / "v.json"
    args = ["validate", "conv2d", "--impl", "wrong_impls:float32_conv", "--max-examples", "60"]
    assert main(args + ["--json", str(out)]) == 1
    v = json.loads(out.read_text())
    assert any("did you mean --precision float32" in d for d in v["diagnosis"]), v["diagnosis"]
    assert main(args + ["--precision", "float32"]) == 0


def _find(pred, **kw):
    from hypothesis import HealthCheck, find, settings

    from slth_check.validate.conv2d.core import conv_cases

    return find(conv_cases("paper", **kw), pred,
                settings=settings(max_examples=300, database=None, derandomize=True,
                                  suppress_health_check=list(HealthCheck)))


@pytest.mark.parametrize("what,pred", [
    ("d = 5", lambda c: c[0].shape[0] == 5),
    ("D = 8", lambda c: c[1].shape[1] == 8),
    ("N = 3", lambda c: c[1].shape[0] == 3),
    ("an entry above 1e4", lambda c: np.abs(c[1]).max() > 1e4),
    ("a tiny entry", lambda c: 0 < np.abs(c[1][c[1] != 0]).min(initial=1) < 1e-100),
])
def test_default_generation_covers_the_issue_ranges(what, pred):
    """The random cases reach these ranges (every channel pair is the grid's: see
    tests/adversarial/test_conv2d_grid.py)."""
    K, X = _find(pred)  # raises NoSuchExample if never generated
    assert pred((K, X)), what


def test_generation_shrinks_toward_the_smallest_shapes_and_widens_on_request():
    K, X = _find(lambda c: True)
    assert K.shape == (1, 1, 1, 1) and X.shape == (1, 1, 1, 1)
    K, X = _find(lambda c: c[0].shape[0] == 7 and np.abs(c[0]).max() > 1e7,
                 max_d=7, max_D=9, max_abs=1e8)
    assert K.shape[0] == 7
    from hypothesis.errors import NoSuchExample

    with pytest.raises(NoSuchExample):  # never generated beyond the defaults
        _find(lambda c: c[0].shape[0] > 5 or np.abs(c[0]).max() > 1e6)


def test_precision_dtype_is_handed_to_the_user():
    seen = []

    def probe(K, X):
        seen.append((K.dtype, X.dtype, K.flags.c_contiguous, min(K.strides) >= 0,
                     bool(np.all(K.view(np.uint32) & 0xFFFF == 0)) if K.dtype == np.float32
                     else None))
        from slth_check.conv import conv2d

        return conv2d(K.astype(np.float64), X.astype(np.float64))

    from slth_check.validate.conv2d.core import validate_conv2d

    for precision, dtype in [("float16", np.float16), ("bfloat16", np.float32)]:
        seen.clear()
        assert validate_conv2d(probe, precision=precision, max_examples=20).verdict \
            == "consistent"
        assert all(s[0] == dtype and s[1] == dtype and s[2] and s[3] for s in seen)
    assert all(s[4] for s in seen)  # bfloat16 values: the low 16 bits are zero


def test_exact_tolerance_boundary():
    """The last float inside the exact tolerance is accepted, the next one is not."""
    from slth_check.validate.conv2d.core import check_image, tolerance

    K, X = np.array([[[[1.0]]]]), np.array([[[3.0]]])
    T = tolerance(K, X)[0, 0, 0]
    inside = float(3 + T)
    while inside - 3 > T:  # round down into the tolerance
        inside = np.nextafter(inside, 0)
    outside = np.nextafter(inside, np.inf)
    assert outside - 3 > T >= inside - 3
    assert check_image(K, X, np.array([[[inside]]])).ok
    res = check_image(K, X, np.array([[[outside]]]))
    assert not res.ok and "tolerance" in res.detail
    assert check_image(K, X, np.array([[[outside]]]), rtol=1e-9).ok  # --rtol adds on top


def test_fft_needs_the_normwise_term_and_it_stays_small():
    """scipy's FFT is off by more than the direct-summation bound on an exact zero
    (issue 9: -3.2e-17 where the exact value is 0), and within the normwise one; the
    normwise factor is below 1e-11 in float64 at the default sizes, 1e-3 in float32."""
    import scipy.signal

    from slth_check.arithmetic import gamma
    from slth_check.conv import conv2d_exact
    from slth_check.validate.conv2d.core import check_image, normwise_factor

    rng = np.random.default_rng(1)
    K, X = rng.normal(size=(5, 5, 1, 1)), rng.normal(size=(8, 8, 1))
    X[:2] = 0  # the first two output rows are exactly 0, the FFT's are not
    got = scipy.signal.fftconvolve(X[:, :, 0], K[:, :, 0, 0])[:8, :8, None]
    exact = conv2d_exact(K, X)
    A = conv2d_exact(abs(K), abs(X))
    from fractions import Fraction

    errs = [abs(Fraction(float(g)) - e) - gamma(25) * a
            for g, e, a in zip(got.ravel(), exact.ravel(), A.ravel())]
    assert max(errs) > 0  # the componentwise bound alone would be a false alarm
    assert check_image(K, X, got).ok
    assert float(normwise_factor(8, 5, 4)) < 1e-11
    assert float(normwise_factor(8, 5, 4, "float32")) < 1e-3


def test_widening_options_and_their_errors(capsys):
    assert main(["validate", "conv2d", "--impl", "scipy", "--max-d", "6", "--max-D", "9",
                 "--max-channels", "2", "--max-batch", "2", "--max-abs", "1e3",
                 "--timeout", "30", "--max-examples", "20"]) == 0
    assert main(["validate", "conv2d", "--impl", "scipy", "--precision", "float16",
                 "--max-abs", "1e6"]) == 2
    assert main(["validate", "conv2d", "--impl", "scipy", "--max-d", "0"]) == 2
    assert main(["validate", "conv2d", "--impl", "scipy", "--precision", "bfloat16",
                 "--max-d", "9", "--max-channels", "8"]) == 2
    err = capsys.readouterr().err
    assert "max_abs" in err and "max_d" in err and "Traceback" not in err


def test_underflow_term_admits_flush_to_zero_in_float32_only():
    """2^-63 * 2^-64 = 2^-127 is below float32's smallest normal: hardware that flushes
    it to zero is right in float32, wrong in float64 (where 2^-127 is a normal number)."""
    from slth_check.validate.conv2d.core import check_image

    K = np.array([[[[2.0**-63]]]], dtype=np.float32)
    X = np.array([[[2.0**-64]]], dtype=np.float32)
    assert check_image(K, X, np.array([[[0.0]]]), precision="float32").ok
    assert not check_image(K.astype(np.float64), X.astype(np.float64),
                           np.array([[[0.0]]])).ok


def test_float_screen_is_not_fooled_by_the_float_reference_rounding():
    """1 + 2^-53 rounds to 1 in float64; an answer T below the *float* reference is more
    than T below the exact value, and must be rejected."""
    from slth_check.validate.conv2d.core import check_image, tolerance

    K = np.array([[[[1.0], [1.0]]]])  # d = 1, c0 = 2, c1 = 1
    X = np.array([[[1.0, 2.0**-53]]])  # exact output 1 + 2^-53, float64 reference 1
    T = tolerance(K, X)[0, 0, 0]
    k = int(T / Fraction(2.0**-53))
    got = 1 - k * 2.0**-53  # within T of the float reference, beyond T of the exact value
    assert 1 - Fraction(got) <= T < 1 + Fraction(2.0**-53) - Fraction(got)
    assert not check_image(K, X, np.array([[[got]]])).ok
    assert check_image(K, X, np.array([[[got + 2.0**-52]]])).ok



def test_generation_does_not_depend_on_the_modules_imported(tmp_path, monkeypatch):
    """Hypothesis draws the literal constants of every local module imported so far; the
    validators generate inside without_local_constants, so the same call gives the
    same cases (and counterexample) in any host process."""
    from hypothesis import Phase, find, settings
    from hypothesis import strategies as st

    from slth_check.validate.determinism import without_local_constants

    def draws():
        seen = []
        with without_local_constants(), contextlib.suppress(Exception):
            find(st.floats(-1e9, 1e9), lambda x: seen.append(x) and False,
                 settings=settings(max_examples=300, derandomize=True, database=None,
                                   phases=[Phase.generate]))
        return seen

    before = draws()
    planted = (3.75, -1e6, 7.0, -2.5, 65504.0, 17.0, 123456.75, -98765.25)
    (tmp_path / "lots_of_constants.py").write_text(f"VALUES = {list(planted)!r}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("lots_of_constants")
    after = draws()
    assert len(after) == 300 and after == before
    assert not set(planted) & set(after)
