"""``slth-check validate rss`` against the zoo: every wrong solver caught, no false alarm.

Plus the rules of answer interpretation, the tolerances (the optimality slack
cannot hide a suboptimal answer on integer instances), the sandbox at the
RSS boundary (private copies, hangs, exits, import failures) and the
generation options (``--max-n``, ``--max-abs``).
"""

from __future__ import annotations

import json
import re
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slth_check.cli.main import main
from slth_check.rss import solve
from slth_check.rss.exact import exact_sum
from slth_check.validate.rss.core import (
    Answer,
    AnswerError,
    check_result,
    interpret,
    normalise_answer,
    optimality_slack,
    rss_cases,
    sum_tolerance,
    validate_rss,
)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import rss_zoo  # noqa: E402

del sys.path[0]


@pytest.fixture(autouse=True)
def _zoo_importable(monkeypatch):
    """The worker inherits sys.path: ``rss_zoo:name`` imports there too."""
    monkeypatch.syspath_prepend(str(HERE))


def _run(spec: str, flags: list[str], tmp_path: Path) -> tuple[int, dict]:
    out = tmp_path / "v.json"
    rc = main(["validate", "rss", "--impl", spec, *rss_zoo.ZOO_FLAGS, *flags,
               "--json", str(out)])
    return rc, json.loads(out.read_text())


# -- the zoo ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,kind,flags,pattern", rss_zoo.WRONG,
                         ids=[w[0] for w in rss_zoo.WRONG])
def test_every_wrong_solver_is_a_discrepancy(name, kind, flags, pattern, tmp_path, capsys):
    """Exit 1, a discrepancy whose message says what went wrong, no traceback."""
    rc, v = _run(f"rss_zoo:{name}", flags, tmp_path)
    captured = capsys.readouterr()
    assert rc == 1, captured.out
    assert v["verdict"] == "discrepancy"
    assert captured.out.startswith("discrepancy: "), captured.out
    assert re.search(pattern, v["message"]), v["message"]
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("name", list(rss_zoo.IMPORT_FAILURES))
def test_a_solver_that_fails_at_import_is_an_input_error(name, tmp_path, monkeypatch, capsys):
    """No call was made: exit 2 with one line naming --impl, never 'consistent'."""
    mod = f"rss_zoo_{name}"
    (tmp_path / f"{mod}.py").write_text(rss_zoo.IMPORT_FAILURES[name])
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        rc = main(["validate", "rss", "--impl", f"{mod}:f", "--max-examples", "5"])
    finally:
        sys.modules.pop(mod, None)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.startswith(f"slth-check: error: --impl: cannot load '{mod}:f'"), err
    assert "while being imported" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name,kind", rss_zoo.CORRECT, ids=[c[0] for c in rss_zoo.CORRECT])
def test_every_correct_solver_is_consistent(name, kind, tmp_path, capsys):
    rc, v = _run(f"rss_zoo:{name}", rss_zoo.OPT, tmp_path)
    assert rc == 0, capsys.readouterr().out
    assert v["verdict"] == "consistent"


@pytest.mark.parametrize("name,kind,flags,pattern", rss_zoo.WRONG_IN_PROCESS,
                         ids=[w[0] for w in rss_zoo.WRONG_IN_PROCESS])
def test_wrong_answer_forms_in_process(name, kind, flags, pattern):
    v = rss_zoo.run_in_process(name, flags)
    assert v.verdict == "discrepancy" and v.exit_code == 1
    assert re.search(pattern, v.message), v.message


@pytest.mark.parametrize("name,kind", rss_zoo.CORRECT_IN_PROCESS,
                         ids=[c[0] for c in rss_zoo.CORRECT_IN_PROCESS])
def test_correct_answer_forms_in_process(name, kind):
    v = rss_zoo.run_in_process(name, rss_zoo.OPT)
    assert v.verdict == "consistent" and v.exit_code == 0, v.message


def test_the_zoo_is_as_large_as_the_issue_asks():
    assert len(rss_zoo.WRONG) + len(rss_zoo.IMPORT_FAILURES) >= 8
    assert len(rss_zoo.CORRECT) >= 4


# -- messages of the boundary ----------------------------------------------------------
def test_in_place_sorting_does_not_corrupt_the_check():
    """The counterexample is the validator's own, unsorted copy."""
    v = validate_rss(rss_zoo.sorts_in_place, max_n=6, max_examples=30)
    assert v.verdict == "discrepancy" and "modified its input values in place" in v.message
    vals = v.counterexample["values"]
    assert vals != sorted(vals)  # the solver sorted its copy, not ours


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["validate", "rss", "--impl", "no_such_module_xyz:f"]) == 2
    assert main(["validate", "rss", "--impl", "rss_zoo:no_such_attr"]) == 2
    assert main(["validate", "rss", "--impl", "rss_zoo:CORRECT"]) == 2  # not callable
    assert main(["validate", "rss", "--impl", "rss_zoo:mitm", "--max-n", "0"]) == 2
    assert main(["validate", "rss", "--impl", "rss_zoo:mitm", "--max-n", "31"]) == 2
    assert main(["validate", "rss", "--impl", "rss_zoo:mitm", "--max-abs", "0.5"]) == 2
    assert main(["validate", "rss", "--impl", "rss_zoo:mitm", "--max-abs", "inf"]) == 2
    assert main(["validate", "rss", "--impl", "rss_zoo:mitm", "--timeout", "0"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for word in ("--impl", "max_n", "max_abs", "timeout"):
        assert word in err, err


# -- answer interpretation: every rule ---------------------------------------------------
M = np.array([True, False, True])
GOOD = [
    (M, [0, 2], None, "bool ndarray"),
    ([True, False, True], [0, 2], None, "list of bools"),
    ((True, False, True), [0, 2], None, "tuple of bools"),
    ([np.bool_(True), False, True], [0, 2], None, "NumPy bools"),
    ([0, 2], [0, 2], None, "list of ints"),
    ((0, 2), [0, 2], None, "a 2-tuple of ints is indices, not (subset, sum)"),
    ((2,), [2], None, "1-tuple"),
    ({0, 2}, [0, 2], None, "set"),
    (frozenset({2, 0}), [0, 2], None, "frozenset"),
    (range(0, 3, 2), [0, 2], None, "range"),
    (np.array([2, 0]), [0, 2], None, "int array"),
    (np.array([0, 2], dtype=np.uint8), [0, 2], None, "uint array"),
    ([np.int64(0), np.int32(2)], [0, 2], None, "NumPy ints"),
    ([], [], None, "empty list"),
    (np.array([]), [], None, "empty float array (np.array of an empty list)"),
    (([0, 2], 0.75), [0, 2], Fraction(3, 4), "pair with list"),
    (((0, 2), 0.75), [0, 2], Fraction(3, 4), "pair with tuple"),
    (({0, 2}, 1), [0, 2], Fraction(1), "pair with an int sum"),
    ((M, np.float64(0.75)), [0, 2], Fraction(3, 4), "pair with mask and np.float64"),
    ((M, np.array(0.75)), [0, 2], Fraction(3, 4), "pair with a 0-d array sum"),
    (([0, 2], Fraction(1, 3)), [0, 2], Fraction(1, 3), "pair with a Fraction"),
    (((), 0.0), [], Fraction(0), "pair with the empty subset"),
    ({"subset": [0, 2]}, [0, 2], None, "dict without sum"),
    ({"subset": M, "sum": 0.5}, [0, 2], Fraction(1, 2), "dict with sum"),
]


@pytest.mark.parametrize("answer,indices,reported,why", GOOD, ids=[g[3] for g in GOOD])
def test_accepted_answers(answer, indices, reported, why):
    mask, rep, problem = interpret(answer, 3)
    assert problem is None, problem
    assert np.flatnonzero(mask).tolist() == indices
    assert rep == reported


BAD = [
    (None, r"returned None"),
    (2, r"single number 2"),
    (True, r"single number True"),
    (0.5, r"single number"),
    ("0,2", r"returned a str"),
    ([0.0, 2.0], r"index 0\.0 at position 0 is a float"),
    ([0, 2.0], r"index 2\.0 at position 1 is a float"),
    (np.array([0.0, 2.0]), r"float array .* indices must be integers"),
    ([True, 2], r"mixes bools and integers"),
    ({True, False}, r"set containing bools"),
    ({0, 2.0}, r"set containing 2\.0"),
    ([[0, 2]], r"nested list"),
    ([[0, 2], 0.75], r"nested list"),
    (np.array([[0, 2]]), r"2-D array"),
    ([-1], r"negative index -1"),
    ([0, 0], r"index 0 repeated"),
    (np.array([1, 0, 1]), r"index 1 repeated .*return a bool mask"),
    ([3], r"index 3 out of range 0\.\.2 .*1-based"),
    ([1, 7], r"index 7 out of range 0\.\.2"),
    (np.array([True, False]), r"bool mask of length 2, should be 3"),
    ([True] * 4, r"bool mask of length 4, should be 3"),
    (([0, 2], True), r"must be a real number, not bool"),
    (([0, 2], None), r"must be a real number, not NoneType"),
    (([0, 2], "0.75"), r"must be a real number, not str"),
    (([0, 2], float("nan")), r"reported sum nan is not a finite number"),
    (([0, 2], float("inf")), r"reported sum inf is not a finite number"),
    (([0], [2]), r"must be a real number, not list"),
    ({"subset": [0], "total": 1.0}, r"dict with keys"),
    ({"sum": 1.0}, r"dict with keys"),
    ({"subset": [0], "sum": None}, r"answer\['sum'\] = None"),
    ({"subset": {"subset": [0]}}, r"nested dict"),
    (object(), r"object of type object"),
    (np.array(["a"]), r"array of dtype <U1"),
]


@pytest.mark.parametrize("answer,pattern", BAD,
                         ids=[f"{i}-{type(b[0]).__name__}" for i, b in enumerate(BAD)])
def test_rejected_answers(answer, pattern):
    mask, _, problem = interpret(answer, 3)
    assert mask is None and problem is not None
    assert re.search(pattern, problem), problem


def test_the_issue_s_two_ambiguous_cases_through_the_validator():
    """A correct solver answering with a 2-tuple of indices, or a set, is consistent."""
    def two_tuple(values, target):
        return (0, 1)

    def as_set(values, target):
        return {0, 1}

    values, target = np.array([0.25, 0.5, 4.0]), 0.75
    for f in (two_tuple, as_set):
        a = normalise_answer(f(values, target))
        assert a == Answer("indices", (0, 1))
        assert check_result(values, target, a, claims_optimal=True) is None


def test_normalise_raises_answer_error_a_value_error():
    with pytest.raises(AnswerError, match="returned None"):
        normalise_answer(None)
    assert issubclass(AnswerError, ValueError)


# -- tolerances ------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.sampled_from([1, 8, 1000, 10**6, 10**12]))
def test_slack_is_below_the_gap_of_integer_instances(n, M):
    """Distinct errors of an integer instance differ by >= 1; the slack is < 1/2."""
    values = np.full(n, float(M))
    assert optimality_slack(values, float(M)) < Fraction(1, 2)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10).flatmap(lambda n: st.tuples(
    st.lists(st.integers(-50, 50), min_size=n, max_size=n), st.integers(-200, 200))))
def test_a_suboptimal_answer_on_integer_values_is_caught(case):
    """On integer values a float64 solver is exact: the optimum is admitted, and the
    closest suboptimal subset (the next distinct error, the hardest to tell apart) is
    rejected under claims_optimal."""
    ints, t = case
    values = np.array(ints, dtype=np.float64)
    n = len(values)
    errors = np.abs(t - rss_zoo._all_sums(values))  # exact: small integers
    opt = solve(values, float(t), method="mitm").error
    assert Fraction(float(errors.min())) == opt
    best = rss_zoo._mask(int(np.argmin(errors)), n)
    assert check_result(values, float(t), Answer("mask", tuple(best.tolist())), True) is None
    worse = errors > errors.min()
    if worse.any():
        second = int(np.flatnonzero(worse)[np.argmin(errors[worse])])
        mask = rss_zoo._mask(second, n)
        assert abs(Fraction(t) - exact_sum(values, mask)) - opt >= 1
        problem = check_result(values, float(t), Answer("mask", tuple(mask.tolist())), True)
        assert problem is not None and "claimed optimal" in problem


def test_the_slack_admits_the_worst_float64_ranking():
    """A correct float64 solver's choice is admitted, the next distinct error is not."""
    # 1 + 2^-52 and 1: the float64 sums tie where exact sums differ by 2^-52.
    values = np.array([1.0, 2.0**-53, 2.0**-53])
    target = 1.0 + 2.0**-52
    a = normalise_answer(rss_zoo.brute_mask(values, target))
    assert check_result(values, target, a, claims_optimal=True) is None
    assert optimality_slack(values, target) < Fraction(1, 2**40)
    wrong = Answer("mask", (False, True, True))  # error 1, far above the slack
    assert check_result(values, target, wrong, claims_optimal=True) is not None


def test_reported_sum_bound_is_tight_enough():
    values = np.array([0.1, 0.2, 0.3])
    s = exact_sum(values, np.ones(3, bool))
    u = Fraction(1, 2**53)
    tol = 3 * u / (1 - 3 * u) * sum(Fraction(v) for v in (0.1, 0.2, 0.3))  # gamma_3 sum|v|
    assert sum_tolerance(values) == tol
    for dx, ok in [(0, True), (tol, True), (tol * 2, False), (-tol * 2, False)]:
        a = Answer("indices", (0, 1, 2), s + dx)
        assert (check_result(values, 0.6, a, False) is None) == ok
    # the float64 sum in either order is admitted
    for rep in (0.1 + 0.2 + 0.3, 0.3 + 0.2 + 0.1, float(np.sum(values))):
        assert check_result(values, 0.6, Answer("indices", (0, 1, 2), Fraction(rep)),
                            False) is None


# -- generation ------------------------------------------------------------------------
def test_default_max_n_reaches_16_and_shrinks_to_n_1():
    def fails_from_13(values, target):
        if len(values) >= 13:
            raise RuntimeError("too many")
        return []

    def always_wrong(values, target):
        return [len(values)]

    v = validate_rss(fails_from_13, max_examples=150)
    assert v.verdict == "discrepancy" and len(v.counterexample["values"]) == 13
    v = validate_rss(always_wrong, max_examples=20)
    assert v.verdict == "discrepancy" and len(v.counterexample["values"]) == 1


def _fails_above(limit: float):
    def solver(values, target):
        if np.max(np.abs(values)) > limit or abs(target) > limit:
            raise RuntimeError("large value")
        return []  # a valid subset (no optimality claimed)
    return solver


def test_default_ranges_cover_the_paper_and_larger_magnitudes():
    assert validate_rss(_fails_above(1.0), max_examples=100).verdict == "discrepancy"
    assert validate_rss(_fails_above(1000.0), max_examples=200).verdict == "discrepancy"
    assert validate_rss(_fails_above(2.0), max_abs=2.0, max_examples=100).verdict \
        == "consistent"


def test_max_abs_widens_the_ranges():
    assert validate_rss(_fails_above(1e6), max_examples=150).verdict == "consistent"
    assert validate_rss(_fails_above(1e6), max_abs=1e9, max_examples=150).verdict \
        == "discrepancy"


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_generated_instances_respect_the_limits(data):
    max_n = data.draw(st.integers(1, 16))
    max_abs = data.draw(st.sampled_from([1.0, 3.0, 1e6]))
    values, target = data.draw(rss_cases(max_n, max_abs))
    assert 1 <= values.size <= max_n and values.dtype == np.float64
    assert np.all(np.abs(values) <= max_abs)
    assert np.all((values == 0) | (np.abs(values) >= 2.0**-64))
    assert np.isfinite(target) and abs(target) <= max_abs


def test_the_solver_receives_a_float64_array_and_a_python_float():
    """The call contract: private C-contiguous float64 ``values``, ``target`` a float."""
    def strict(values, target):
        assert type(target) is float, type(target)
        assert isinstance(values, np.ndarray) and values.dtype == np.float64
        assert values.ndim == 1 and values.flags.c_contiguous and values.flags.writeable
        return rss_zoo._best(values, target)

    v = validate_rss(strict, claims_optimal=True, max_n=6, max_examples=30)
    assert v.verdict == "consistent", v.message
