"""The sparsest tickets in ``approximate``'s outputs (issue 22, point 5): approximate.json
(overall and per tensor), the Markdown table and the figure, the densities checked against
an enumeration of every subset in Fractions on the run's own samples."""

from __future__ import annotations

import json
from fractions import Fraction
from itertools import combinations

import numpy as np
import pytest

from slth_check.cli import main
from slth_check.experiment.laws import apply_spec
from slth_check.experiment.sampling import samples, tensor_key

N, EPS = 6, 0.04
TENSORS = {"a": np.linspace(-1.0, 0.9, 5), "b": np.array([[0.25, -0.5], [0.125, 0.0]])}


def _least_k(v, t, eps):
    V, T, E = [Fraction(float(x)) for x in v], Fraction(float(t)), Fraction(eps)
    for k in range(len(v) + 1):
        if any(abs(T - sum((V[i] for i in c), Fraction(0))) <= E
               for c in combinations(range(len(v)), k)):
            return k
    return None


def _expected(spec=None):
    """Per tensor (kept, no subset within eps) by enumeration on approximate's samples."""
    out = []
    for t, w in enumerate(TENSORS.values()):  # the .npz keeps this order
        T = w.ravel() / np.abs(w).max()  # --scale max
        V = apply_spec(samples(tensor_key(0, t), 0, T.size, N), spec)
        ks = [_least_k(v, x, EPS) for v, x in zip(V, T)]
        out.append((sum(k for k in ks if k is not None), sum(k is None for k in ks)))
    return out


def _run(tmp_path, *extra):
    np.savez(tmp_path / "w.npz", **TENSORS)
    out = tmp_path / "o"
    rc = main(["approximate", str(tmp_path / "w.npz"), "--n", str(N), "--out", str(out),
               "--scheduler", "synchronous", "--sparsest", str(EPS), *extra])
    assert rc == 0
    return json.loads((out / "approximate.json").read_text()), out


def test_the_densities_in_approximate_json_equal_the_enumeration(tmp_path):
    pytest.importorskip("matplotlib")
    r, out = _run(tmp_path)
    want = _expected()
    for row, (kept, none), w in zip(r["tensors"], want, TENSORS.values()):
        assert (row["sparsest"]["kept"], row["sparsest"]["infeasible"]) == (kept, none)
        assert row["sparsest"]["density"] == kept / (N * w.size)
    sp = r["sparsest"]
    assert sp["kept"] == sum(k for k, _ in want) and sp["eps"] == EPS
    assert sp["density"] == sp["kept"] / (N * sum(w.size for w in TENSORS.values()))
    md = (out / "approximate.md").read_text()
    assert f"Sparsest tickets within eps = {EPS:g}" in md
    assert f"| a | {r['tensors'][0]['max_error']:.3g} | {want[0][0]} |" in md
    assert (out / "figure3.png").stat().st_size > 0


def test_the_figure_shows_the_density_beside_the_error(tmp_path):
    pytest.importorskip("matplotlib")
    from slth_check.figures.paper import approximate_figure

    np.savez(tmp_path / "w.npz", **TENSORS)
    r, _ = _run(tmp_path, "--no-figure")
    fig = approximate_figure(r, [np.full(w.size, 0.01) for w in TENSORS.values()])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"(max {r['tensors'][0]['max_error']:.2g}; sparsest density " \
           f"{r['tensors'][0]['sparsest']['density']:.3g})" in labels[0]
    assert f"density {r['sparsest']['density']:.3g}" in fig.axes[0].get_title()


def test_the_sparsest_tickets_use_the_run_s_law(tmp_path):
    r, _ = _run(tmp_path, "--no-figure", "--law", "scaled:0.5")
    want = _expected(("affine", -0.5, 0.5))
    assert [(t["sparsest"]["kept"], t["sparsest"]["infeasible"]) for t in r["tensors"]] == want
    assert want != _expected()  # the law changes the answer here


def test_a_bad_eps_is_refused(tmp_path, capsys):
    np.savez(tmp_path / "w.npz", **TENSORS)
    rc = main(["approximate", str(tmp_path / "w.npz"), "--out", str(tmp_path / "o"),
               "--sparsest", "-1", "--scheduler", "synchronous"])
    assert rc == 2 and "--sparsest: expected a finite number >= 0" in capsys.readouterr().err
