"""Sampling laws (issue 22, point 4): --law recorded with Theorem 2's verdict on it; the
default law is the stream itself."""

from __future__ import annotations

import json

import numpy as np
import pytest

from slth_check.cli import main
from slth_check.experiment.laws import apply_spec, law_spec, parse_law, theorem2_support


def _run(tmp_path, law, name):
    np.savez(tmp_path / "w.npz", a=np.linspace(-1, 1, 6), b=np.array([0.5, -0.25, 0.75]))
    out = tmp_path / name
    args = ["approximate", str(tmp_path / "w.npz"), "--n", "6", "--out", str(out),
            "--scheduler", "synchronous", "--no-figure"]
    assert main(args + (["--law", law] if law else [])) == 0
    return json.loads((out / "approximate.json").read_text())


def test_the_default_law_is_the_stream_and_is_recorded(tmp_path):
    a, b = _run(tmp_path, None, "a"), _run(tmp_path, "uniform", "b")
    assert a == b and a["law"]["law"] == "uniform" and a["law"]["theorem2"] == "holds"


def test_a_law_too_narrow_for_the_targets_is_hypotheses_unmet(tmp_path):
    r = _run(tmp_path, "scaled:0.5", "c")
    assert r["law"]["theorem2"] == "hypotheses_unmet" and "does not contain" in r["law"]["why"]
    # and the samples changed: U[-0.5, 0.5] cannot reach the target 1 (scaled max)
    assert r["overall"]["max_error"] > _run(tmp_path, None, "d")["overall"]["max_error"]


@pytest.mark.parametrize("law,verdict", [("scaled:2", "holds"), ("kaiming-normal", "holds"),
                                         ("pensia", "hypotheses_unmet")])
def test_theorem2_verdicts(law, verdict):
    """Pensia's U[min w, max w] on targets all positive does not contain 0."""
    targets = np.array([0.2, 0.9]) if law == "pensia" else np.array([-1.0, 1.0])
    assert theorem2_support(parse_law(law), targets, 25)[0] == verdict


def test_kaiming_uniform_is_narrow_for_large_fan_in():
    t = np.array([-1.0, 1.0])
    assert theorem2_support(parse_law("kaiming-uniform"), t, 150)[0] == "hypotheses_unmet"
    assert theorem2_support(parse_law("kaiming-uniform"), t, 6)[0] == "holds"  # b = 1


def test_specs_map_the_stream_monotonically_into_the_support():
    U = np.linspace(-1, 1, 101)
    V = apply_spec(U, law_spec(parse_law("scaled:3"), U, 1))
    assert V[0] == -3 and V[-1] == 3 and np.all(np.diff(V) > 0)
    W = apply_spec(U[1:-1], law_spec(parse_law("kaiming-normal"), U, 8))
    assert np.all(np.diff(W) > 0) and abs(np.median(W)) < 1e-12
    assert apply_spec(U, law_spec(parse_law("uniform"), U, 1)) is U


@pytest.mark.parametrize("bad", ["gaussian", "scaled", "scaled:-1", "scaled:x", "pensia:2"])
def test_bad_laws_are_refused(bad):
    with pytest.raises(ValueError, match="--law"):
        parse_law(bad)
