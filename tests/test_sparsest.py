"""Sparsest tickets (issue 22, point 5): the fewest samples within eps, exact."""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import numpy as np
import pytest

from slth_check.experiment.tickets import sparsest_density
from slth_check.rss.sparsest import sparsest, verify


def _brute_k(v, t, eps):
    """The least k by enumeration in Fractions (None: no subset within eps)."""
    V, T, E = [Fraction(float(x)) for x in v], Fraction(float(t)), Fraction(float(eps))
    for k in range(len(v) + 1):
        if any(abs(T - sum((V[i] for i in c), Fraction(0))) <= E
               for c in combinations(range(len(v)), k)):
            return k
    return None


@pytest.mark.parametrize("seed", range(40))
def test_least_k_equals_the_enumeration(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 11))
    kind = seed % 4
    v = (rng.integers(-3, 4, n).astype(float) if kind == 0  # ties, exact hits
         else rng.uniform(-1, 1, n))
    t = float(rng.integers(-4, 5)) if kind == 0 else float(rng.uniform(-1.5, 1.5))
    eps = [0.0, 1e-3, 0.05, 0.3][kind]
    r = sparsest(v, t, eps)
    want = _brute_k(v, t, eps)
    if want is None:
        assert r.status == "infeasible"
    else:
        assert r.status == "optimal" and r.k == want, (r, want)
        assert verify(v, t, eps, r)


def test_a_subset_just_outside_eps_is_not_taken():
    """0.1 + 0.2 is not 0.3 in float64: with eps = 0 only an exact hit counts."""
    v = [0.1, 0.2, 0.3]
    r = sparsest(v, 0.3, 0.0)
    assert r.k == 1 and list(r.mask) == [False, False, True]
    r = sparsest([0.1, 0.2], 0.3, 0.0)  # fl(0.1 + 0.2) != 0.3 and the exact sum neither
    assert r.status == "infeasible"


def test_the_empty_subset_and_bad_input():
    assert sparsest([0.5, 0.7], 0.001, 0.01).k == 0
    with pytest.raises(ValueError, match="eps"):
        sparsest([0.5], 0.1, -1)
    with pytest.raises(ValueError, match="values"):
        sparsest([np.nan], 0.1, 0.1)


def test_verify_refuses_a_wrong_certificate():
    v = [0.5, 0.25, 0.125]
    r = sparsest(v, 0.375, 0.0)
    assert verify(v, 0.375, 0.0, r)
    assert not verify(v, 0.5, 0.0, r)


def test_density_of_a_small_network():
    from slth_check.experiment.sampling import samples, tensor_key

    T = np.linspace(-0.5, 0.5, 7)
    d = sparsest_density(T, n=8, seed=0, eps=0.01)
    V = samples(tensor_key(0, 0), 0, 7, 8)  # approximate's samples for these weights
    ks = [_brute_k(row, t, 0.01) for row, t in zip(V, T)]
    assert d["kept"] == sum(k for k in ks if k is not None)
    assert d["infeasible"] == sum(k is None for k in ks) and d["unknown"] == 0
    assert d["density"] == d["kept"] / (8 * 7)


def test_approximate_reports_the_sparsest_tickets(tmp_path, capsys):
    import json

    from slth_check.cli import main

    np.savez(tmp_path / "w.npz", a=np.linspace(-1, 1, 5))
    assert main(["approximate", str(tmp_path / "w.npz"), "--n", "8", "--out",
                 str(tmp_path / "o"), "--scheduler", "synchronous", "--no-figure",
                 "--sparsest", "0.05", "--json", str(tmp_path / "r.json")]) == 0
    d = json.loads((tmp_path / "r.json").read_text())["sparsest"]
    want = sparsest_density([np.linspace(-1, 1, 5)], 8, 0, 0.05)  # scale max: max|w| = 1
    assert d == want and "sparsest tickets within eps = 0.05" in capsys.readouterr().out
