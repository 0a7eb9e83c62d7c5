"""Tests of ``slth_check.proofs`` and ``slth-check prove`` (issue 13, part 1).

Every obligation holds and every negative twin is refuted; mutating a
statement (Proposition 1's bound times 0.99, Lemma 1 without ``X >= 0``, ...)
makes its obligation ``violated`` or ``unknown``, never ``holds``; the index
map and crop offsets the proofs reason about are those of
:mod:`slth_check.conv`; the JSON output and the exit codes.  No wall-clock
assertions.
"""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import numpy as np
import pytest
import z3

from slth_check import proofs
from slth_check.cli.main import main
from slth_check.cli.prove import STATEMENTS
from slth_check.conv import PADDINGS, conv2d_exact, crop_window, output_size
from slth_check.proofs import Goal, Obligation, Proof, lemma1, lemma2, proposition1, theorem1
from slth_check.proofs.core import check_goal, discharge, summary_exit_code, verdict_of


@pytest.fixture(scope="module")
def results() -> list[proofs.ObligationResult]:
    return proofs.run_all()


def _by(results, kind):
    return {r.obligation: r for r in results if r.kind == kind}


# ------------------------------------------------------------ the proofs themselves

def test_every_obligation_holds(results) -> None:
    obl = _by(results, "obligation")
    assert len(obl) >= 20
    bad = {n: (r.verdict, r.countermodel, r.reason) for n, r in obl.items()
           if r.verdict != "holds"}
    assert not bad, bad
    assert all(r.z3_answer == "unsat" for r in obl.values())


def test_every_twin_refuted_with_a_countermodel(results) -> None:
    twins = _by(results, "twin")
    assert set(twins) == set(_by(results, "obligation"))
    bad = {n: (r.verdict, r.reason) for n, r in twins.items() if r.verdict != "refuted"}
    assert not bad, bad
    assert all(r.z3_answer == "sat" and r.countermodel for r in twins.values())


def test_the_obligations_the_issue_asks_for_are_there() -> None:
    names = {o.name for p in proofs.PROOFS.values() for o in p.obligations}
    for n in ("prop1.crop", "prop1.a", "prop1.b", "prop1.base", "prop1.c.step",
              "prop1.d.step", "prop1.e", "lemma1.keep", "lemma1.pos.step", "lemma1.relu",
              "lemma1.scale.step", "lemma1.factor.step", "lemma1.linear.step",
              "lemma1.l1max.step", "lemma1.bound", "lemma2.blocks", "lemma2.select.step",
              "lemma2.size", "theorem1.eq5",
              "theorem1.act.step", "theorem1.unroll.step", "theorem1.final"):
        assert n in names
    metas = {m.name for p in proofs.PROOFS.values() for m in p.meta_steps}
    assert {"induction-on-summands", "exchange-of-finite-sums", "depth-induction",
            "exp-bound", "taylor"} <= metas


def test_chains_and_meta_steps_cite_only_defined_names() -> None:
    known = proofs.known_names()
    for p in proofs.PROOFS.values():
        assert p.check_references(known) == [], p.name
        # every obligation is used by the chain or by a meta-step; the chain ends in the statement
        used = {n for c in p.chain for n in c.uses} | {n for m in p.meta_steps for n in m.combines}
        assert {o.name for o in p.obligations} <= used, p.name
        assert p.title.split(" (")[0] in p.chain[-1].conclusion
    broken = dataclasses.replace(proofs.PROOFS["proposition1"],
                                 chain=(proofs.ChainStep("x", ("prop1.nowhere",)),))
    assert broken.check_references(known) == ["prop1.nowhere"]


def test_obligations_are_not_tautologies() -> None:
    """Each obligation needs its hypotheses: without them, its conclusion alone is refuted."""
    for p in proofs.PROOFS.values():
        for ob in p.obligations:
            g = ob.goal()
            if ob.name == "theorem1.lipschitz":  # no hypotheses: its twin shows non-vacuity
                continue
            answer, _, _ = check_goal(Goal([], g.conclusion))
            assert answer == "sat", ob.name


def test_statement_names_static_and_status(results) -> None:
    assert tuple(proofs.PROOFS) == STATEMENTS
    for n in STATEMENTS:
        assert proofs.status(n, results) == "proved (all sizes)"
    with pytest.raises(ValueError, match="statement"):
        proofs.proof("lemma9")


# ------------------------------------------------------------ mutants: never holds

MUTANTS = [
    ("Proposition 1 bound x 0.99", proposition1.compose_goal, {"factor": Fraction(99, 100)}),
    ("Proposition 1 step x 0.99", proposition1.scalar_step_goal, {"factor": Fraction(99, 100)}),
    ("Proposition 1 step without |x| <= m", proposition1.scalar_step_goal,
     {"assume_bounded_x": False}),
    ("Proposition 1 sum without |X| <= m", proposition1.sum_step_goal,
     {"assume_bounded_x": False}),
    ("Proposition 1 index map repeating", proposition1.injective_goal, {"repeat": True}),
    ("Proposition 1 multiplicity 2", proposition1.subset_step_goal, {"max_multiplicity": 2}),
    ("Proposition 1 valid offset d", proposition1.crop_goal, {"valid_offset_shift": 1}),
    ("Lemma 1 without X >= 0", lemma1.positive_step_goal, {"assume_x_nonneg": False}),
    ("Lemma 1 without kept U >= 0", lemma1.positive_step_goal, {"assume_u_nonneg": False}),
    ("Lemma 1 negatives not pruned", lemma1.keep_goal, {"prune_negatives": False}),
    ("Lemma 1 relu without z >= 0", lemma1.relu_goal, {"assume_nonneg": False}),
    ("Lemma 1 V forgotten", lemma1.scale_step_goal, {"scale_term": False}),
    ("Lemma 1 factor depends on t", lemma1.factor_step_goal, {"constant_factor": False}),
    ("Lemma 1 step 4 (K + L) x", lemma1.linear_step_goal, {"sign": 1}),
    ("Lemma 1 step 4 l1 <= 0.99 m max", lemma1.l1_max_step_goal, {"factor": Fraction(99, 100)}),
    ("Lemma 1 step 4 eps/(d c) per entry", lemma1.bound_goal, {"entries": "d*c"}),
    ("Lemma 2 blocks off by one", lemma2.blocks_goal, {"left_closed": True}),
    ("Lemma 2 without the mask", lemma2.select_step_goal, {"mask_applied": False}),
    ("Lemma 2 max with e <= eps", lemma2.max_step_goal, {"strict": False}),
    ("Lemma 2 n without factor c1", lemma2.size_goal, {"per_block_factor": False}),
    ("Theorem 1 Lipschitz x 0.99", theorem1.lipschitz_goal, {"factor": Fraction(99, 100)}),
    ("Theorem 1 activations x 0.99", theorem1.act_step_goal, {"factor": Fraction(99, 100)}),
    ("Theorem 1 activations without ||K||_1 <= 1", theorem1.act_step_goal,
     {"assume_k_le_1": False}),
    ("Theorem 1 Eq. 5 without ||K||_1 <= 1", theorem1.eq5_goal, {"assume_k_le_1": False}),
    ("Theorem 1 budget eps/l", theorem1.final_goal, {"budget_factor": 1}),
    ("Theorem 1 power one too high", theorem1.unroll_step_goal, {"shifted_power": True}),
]


@pytest.mark.parametrize(("label", "build", "params"), MUTANTS, ids=[m[0] for m in MUTANTS])
def test_mutated_statement_is_never_proved(label, build, params) -> None:
    r = discharge("mutant", label, label, "?", build(**params), "obligation")
    if r.verdict == "unknown":  # Z3's per-call limit ran out: unknown, never a pass
        pytest.skip(f"{label}: Z3 answered unknown ({r.z3_answer})")
    assert r.verdict == "violated", label  # every mutant is false: Z3 finds a countermodel
    assert r.countermodel, label


def test_unmutated_builders_hold() -> None:
    for _, build, _ in MUTANTS:
        assert check_goal(build())[0] == "unsat", build.__name__


def test_mutant_in_a_proof_makes_prove_exit_1(monkeypatch, capsys) -> None:
    p = proofs.PROOFS["proposition1"]
    mutated = tuple(dataclasses.replace(o, params={"factor": Fraction(99, 100)})
                    if o.name == "prop1.e" else o for o in p.obligations)
    monkeypatch.setitem(proofs.PROOFS, "proposition1",
                        dataclasses.replace(p, obligations=mutated))
    assert main(["prove", "--statement", "proposition1"]) == 1
    out = capsys.readouterr().out
    assert "prop1.e" in out and "violated" in out and "NOT proved" in out
    assert proofs.status("proposition1") == "failed"


def test_twin_that_holds_makes_prove_exit_1(monkeypatch, capsys) -> None:
    p = proofs.PROOFS["lemma1"]
    vacuous = tuple(dataclasses.replace(o, twin={}) if o.name == "lemma1.pos.step" else o
                    for o in p.obligations)
    monkeypatch.setitem(proofs.PROOFS, "lemma1", dataclasses.replace(p, obligations=vacuous))
    assert main(["prove", "--statement", "lemma1"]) == 1
    assert "expected refuted" in capsys.readouterr().out


def _hard_goal() -> Goal:
    """No positive integer solution of x^3 + y^3 = z^3 (Fermat, n = 3): Z3 cannot decide it."""
    x, y, z_ = z3.Ints("x y z")
    return Goal([x >= 1, y >= 1, z_ >= 1], x * x * x + y * y * y != z_ * z_ * z_)


def test_unknown_is_never_holds_and_exits_3(monkeypatch, capsys) -> None:
    r = discharge("t", "fermat", "x^3 + y^3 != z^3", "NIA", _hard_goal(), "obligation",
                  timeout_ms=200)
    assert r.verdict == "unknown" and r.z3_answer == "unknown"
    assert verdict_of("unknown", "obligation") == "unknown"
    assert verdict_of("unknown", "twin") == "unknown"
    assert summary_exit_code([r]) == 3
    hard = Obligation("theorem1.hard", "theorem1", "hard", "NIA", lambda **_: _hard_goal())
    p = proofs.PROOFS["theorem1"]
    monkeypatch.setitem(proofs.PROOFS, "theorem1",
                        dataclasses.replace(p, obligations=p.obligations + (hard,)))
    assert main(["prove", "--statement", "theorem1", "--timeout", "0.2"]) == 3
    assert proofs.status("theorem1", proofs.run_all("theorem1", timeout_ms=200)) == "unknown"
    capsys.readouterr()


def test_exit_code_precedence() -> None:
    def res(kind: str, verdict: str) -> proofs.ObligationResult:
        return proofs.ObligationResult("s", "o", kind, "", "", verdict, "", 0.0, "v")

    assert summary_exit_code([res("obligation", "holds"), res("twin", "refuted")]) == 0
    assert summary_exit_code([res("obligation", "unknown"), res("twin", "holds")]) == 1
    assert summary_exit_code([res("obligation", "violated")]) == 1
    assert summary_exit_code([res("twin", "unknown")]) == 3


# ------------------------------------------------------------ the proofs model the code

def test_crop_offsets_match_conv() -> None:
    for d in range(1, 40):
        for padding in PADDINGS:
            start = crop_window(padding, max(d, 3), d)[0]
            assert proposition1.offset_int(padding, d) == start, (padding, d)
            sym = z3.simplify(z3.IntVal(0) + proposition1.OFFSETS[padding](z3.IntVal(d)))
            assert sym.as_long() == start, (padding, d)


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_input_index_is_the_index_conv2d_uses(padding, stride) -> None:
    """One-hot K and X: output (o_i, o_j) is nonzero exactly where input_index says."""
    rng = np.random.default_rng(hash((padding, stride)) % 2**32)
    for _ in range(6):
        d = int(rng.integers(1, 5))
        D = int(rng.integers(d, 7))
        c0 = int(rng.integers(1, 3))
        a, b, k = (int(rng.integers(0, d)), int(rng.integers(0, d)), int(rng.integers(0, c0)))
        u, v = int(rng.integers(0, D)), int(rng.integers(0, D))
        K = np.zeros((d, d, c0, 1))
        K[a, b, k, 0] = 1.0
        X = np.zeros((D, D, c0))
        X[u, v, k] = 1.0
        Y = conv2d_exact(K, X, padding=padding, stride=stride)
        P = output_size(D, d, padding, stride)
        s = proposition1.offset_int(padding, d)
        for oi in range(P):
            for oj in range(P):
                hit = proposition1.input_index(s, stride, oi, oj, a, b, k) == (u, v, k)
                assert (Y[oi, oj, 0] == 1) == hit, (padding, stride, d, D, oi, oj)


# ------------------------------------------------------------ the command

def test_prove_command_json(tmp_path, capsys) -> None:
    path = tmp_path / "p.json"
    assert main(["prove", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "proved (all sizes)" in out and "meta-step" in out and "=>" in out
    assert z3.get_version_string() in out
    doc = json.loads(path.read_text())
    assert doc["exit_code"] == 0 and doc["z3_version"] == z3.get_version_string()
    names = {o.name for p in proofs.PROOFS.values() for o in p.obligations}
    seen = {(r["obligation"], r["kind"]) for r in doc["results"]}
    assert seen == {(n, k) for n in names for k in ("obligation", "twin")}
    for r in doc["results"]:
        assert r["verdict"] == ("holds" if r["kind"] == "obligation" else "refuted")
        assert r["ok"] is True and "seconds" in r  # the time is reported, never judged
        assert r["z3_version"] == z3.get_version_string()
    assert [s["name"] for s in doc["statements"]] == list(STATEMENTS)
    assert all(s["proved_all_sizes"] for s in doc["statements"])
    assert all(s["meta_steps"] and s["chain"] for s in doc["statements"])


def test_prove_one_statement_json_to_stdout(capsys) -> None:
    assert main(["prove", "--statement", "theorem1", "--json", "-"]) == 0
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    assert {r["statement"] for r in doc["results"]} == {"theorem1"}
    assert "Theorem 1" in cap.err


def test_prove_usage_errors(tmp_path, capsys) -> None:
    assert main(["prove", "--statement", "lemma9"]) == 2
    assert main(["prove", "--timeout", "0"]) == 2
    assert main(["prove", "--json", str(tmp_path)]) == 2  # a folder, checked before the work
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--timeout" in err and "--json" in err


def test_proof_json_roundtrip() -> None:
    for p in proofs.PROOFS.values():
        doc = json.loads(json.dumps(p.to_json()))
        assert [o["name"] for o in doc["obligations"]] == [o.name for o in p.obligations]
        assert all(o["twin"].startswith("twin:") for o in doc["obligations"])


def test_proof_type_is_a_script() -> None:
    p = proofs.PROOFS["theorem1"]
    assert isinstance(p, Proof)
    text = p.describe()
    assert "meta-step exp-bound" in text and "theorem1.final" in text


def test_outcome_fields_for_the_claims(results, monkeypatch) -> None:
    from slth_check.claims.base import Outcome

    for n in STATEMENTS:
        f = proofs.outcome_fields(n, results=results)
        out = Outcome(n, **f)  # what a claim's extra_outcomes yields
        assert out.verdict == "holds" and out.method == "z3"
        assert out.detail.startswith("proved (all sizes)")
        assert f["extra"]["proof"] == "all sizes" and f["extra"]["obligations"]
    # a failed proof is unknown for the claim, never violated (no concrete witness)
    p = proofs.PROOFS["theorem1"]
    bad = tuple(dataclasses.replace(o, params={"budget_factor": 1})
                if o.name == "theorem1.final" else o for o in p.obligations)
    monkeypatch.setitem(proofs.PROOFS, "theorem1", dataclasses.replace(p, obligations=bad))
    f = proofs.outcome_fields("theorem1")
    assert f["verdict"] == "unknown" and f["extra"]["status"] == "failed"
