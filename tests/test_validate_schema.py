"""``validate --json`` follows ``slth_check/validate_schema.json`` (schema_version 1), and
the command-line conventions ``python -m slth_check`` and ``--version`` (issue 12, item 3).

The outputs of the three validators (conv2d, rss, pruned), each in its passing and its
failing form, are read from ``--json -`` (stdout) and validated with jsonschema.
"""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest

import slth_check
from slth_check.cli.main import main
from slth_check.construction import build_network
from slth_check.network import TargetCNN

HERE = Path(__file__).resolve().parent


def _schema() -> dict:
    return json.loads(importlib.resources.files("slth_check").joinpath(
        "validate_schema.json").read_text())


@pytest.fixture(autouse=True)
def _wrong_impls_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


def _pruned_files(tmp_path: Path, keep_negative: bool) -> list[str]:
    rng = np.random.default_rng(0)
    K = rng.uniform(-1, 1, (2, 2, 1, 2))
    K /= np.abs(K).sum() * (1 + 2**-40)
    L = build_network(TargetCNN.from_kernels([K]), n=[40], rng=1).layers[0]
    np.savez(tmp_path / "T.npz", K1=K)
    np.savez(tmp_path / "R.npz", U1=L.U, V1=L.V)
    np.savez(tmp_path / "M.npz", S1=L.S | (L.U < 0) if keep_negative else L.S, T1=L.T)
    return ["--target", str(tmp_path / "T.npz"), "--random", str(tmp_path / "R.npz"),
            "--masks", str(tmp_path / "M.npz")]


CASES = [
    (["conv2d", "--impl", "scipy", "--max-examples", "20"], 0, "consistent"),
    (["conv2d", "--impl", "wrong_impls:not_flipped", "--max-examples", "50"], 1, "discrepancy"),
    (["rss", "--impl", "wrong_impls:exact_solver", "--max-n", "6", "--max-examples", "20",
      "--claims-optimal"], 0, "consistent"),
    (["rss", "--impl", "wrong_impls:greedy", "--max-n", "6", "--max-examples", "50",
      "--claims-optimal"], 1, "discrepancy"),
    ("pruned-holds", 0, "holds"),
    ("pruned-violated", 1, "violated"),
]


@pytest.mark.parametrize("args,code,verdict", CASES,
                         ids=[f"{c[0] if isinstance(c[0], str) else c[0][0]}-{c[2]}"
                              for c in CASES])
def test_validate_json_on_stdout_follows_the_schema(args, code, verdict, tmp_path, capsys):
    if isinstance(args, str):
        args = ["pruned", *_pruned_files(tmp_path, args.endswith("violated")), "--eps", "0.1"]
    assert main(["validate", *args, "--json", "-"]) == code
    doc = json.loads(capsys.readouterr().out)  # stdout is the JSON alone
    jsonschema.validate(doc, _schema())
    assert doc["schema_version"] == 1 and doc["verdict"] == verdict


def test_schema_rejects_what_it_should(capsys):
    assert main(["validate", "conv2d", "--impl", "scipy", "--max-examples", "5",
                 "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, _schema())
    for broken in ({k: v for k, v in doc.items() if k != "schema_version"},
                   {**doc, "schema_version": 2},
                   {**doc, "verdict": "holds"},  # a conv2d run never says holds
                   {**doc, "counterexample": {"K": [[1.0]], "X": [[1.0]]}},  # consistent
                   {**doc, "diagnosis": "not a list"},
                   {**doc, "config": {**doc["config"], "stride": 0}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, _schema())


def test_python_m_slth_check_and_version(tmp_path):
    help_ = subprocess.run([sys.executable, "-m", "slth_check", "--help"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert help_.returncode == 0 and "usage: slth-check" in help_.stdout, help_.stderr
    assert "--version" in help_.stdout
    ver = subprocess.run([sys.executable, "-m", "slth_check", "--version"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert ver.returncode == 0 and ver.stdout.strip() == f"slth-check {slth_check.__version__}"
    bad = subprocess.run([sys.executable, "-m", "slth_check", "no-such-command"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
