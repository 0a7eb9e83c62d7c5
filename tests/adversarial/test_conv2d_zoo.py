"""The conv2d validator against its zoo: every wrong implementation is caught,
every correct one passes (0 false alarms).  Also the import-time failures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from slth_check.cli.main import main
from slth_check.validate.conv2d.core import validate_conv2d

HERE = Path(__file__).parent
EXAMPLES = 60

from conv_zoo import CORRECT, WRONG  # noqa: E402  (tests/adversarial is on sys.path)


@pytest.fixture(autouse=True)
def _zoo_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


@pytest.mark.parametrize("name,opts", CORRECT, ids=[c[0] for c in CORRECT])
def test_correct_implementation_is_consistent(name, opts):
    if name.startswith("torch") and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed (optional extra)")
    v = validate_conv2d(f"conv_zoo:{name}", max_examples=EXAMPLES, **opts)
    assert v.verdict == "consistent", v.message


#: What the message must say, for the failures that are not numeric.
MESSAGES = {
    "inplace_kernel_flip": "modified its input K in place",
    "inplace_round_kernel": "modified its input K in place",
    "inplace_relu_input": "modified its input X in place",
    "hangs": "did not return within 2 s",
    "sys_exit_0": "sys.exit(0)",
    "os_exit_0": "exited with status 0",
    "segfault": "SIGSEGV",
    "complex_fft": "complex",
    "raises": "RuntimeError: not implemented",
}


@pytest.mark.parametrize("name,opts,mistake", WRONG, ids=[w[0] for w in WRONG])
def test_wrong_implementation_is_a_discrepancy(name, opts, mistake):
    v = validate_conv2d(f"conv_zoo:{name}", max_examples=EXAMPLES, **opts)
    assert v.verdict == "discrepancy", f"{name} ({mistake}) passed: {v.message}"
    assert v.exit_code == 1
    assert MESSAGES.get(name, "") in v.message, v.message


@pytest.mark.parametrize("source,expected", [
    ("raise RuntimeError('broken at import')\n", "RuntimeError: broken at import"),
    ("def f(:\n", "SyntaxError"),
    ("import sys\nsys.exit(0)\n", "sys.exit(0)"),
    ("import os\nos._exit(3)\n", "exited with status 3"),
    ("import missing_dependency_xyz\n", "ModuleNotFoundError"),
])
def test_import_failures_are_input_errors_not_crashes(source, expected, tmp_path, monkeypatch,
                                                      capsys):
    """No call was made: exit 2 with one line naming --impl and what the module did."""
    (tmp_path / "user_conv_mod.py").write_text(source + "\ndef conv(K, X):\n    return K\n")
    monkeypatch.chdir(tmp_path)  # the current folder is importable
    assert main(["validate", "conv2d", "--impl", "user_conv_mod:conv"]) == 2
    out = capsys.readouterr()
    assert out.err.startswith("slth-check: error: --impl: cannot load 'user_conv_mod:conv'")
    assert expected in out.err and "while being imported" in out.err, out.err
    assert "Traceback" not in out.err and len(out.err.strip().splitlines()) == 1


def test_missing_module_or_attribute_is_a_usage_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "user_conv_ok.py").write_text("def conv(K, X):\n    return K\n")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "conv2d", "--impl", "no_such_module_xyz:conv"]) == 2
    assert main(["validate", "conv2d", "--impl", "user_conv_ok:nope"]) == 2
    assert main(["validate", "conv2d", "--impl", "user_conv_ok:conv", "--timeout", "0"]) == 2
    assert "Traceback" not in capsys.readouterr().err
