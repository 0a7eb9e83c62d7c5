"""Validation of a user's random-subset-sum solver (the RSS of Lemma 1's proof).

The solver is called as ``f(values, target)``: ``values`` a 1-D float64 NumPy
array of length ``n >= 1``, ``target`` a Python float.  It must return a
subset of ``range(n)`` in one of the forms below; the validator checks, on
generated instances, that the subset is well formed, that a reported sum is
the subset's sum within float64 rounding, and (``claims_optimal``) that the
subset is an exact optimum up to the float64 rounding of the objective.

The accepted answers, and the tolerances of the checks, are documented in
:mod:`slth_check.validate.rss.answers`; the generated instances in
:mod:`slth_check.validate.rss.generation`.

**Isolation** (:mod:`slth_check.validate.sandbox`).  A ``MODULE:ATTR``
solver runs in a worker process with a per-call ``timeout`` (default 60 s):
a hang, ``sys.exit`` (even ``sys.exit(0)``), ``os._exit``, a crash, an
exception at import (a ``SyntaxError`` included) or an answer that cannot be
interpreted is a *discrepancy* of the implementation, never ``consistent``
and never a crash of slth-check; a module or attribute that does not exist
is a usage error (exit 2).  The answer is interpreted inside the worker, so
the validator only ever receives plain numbers.  The solver gets private
copies; the check uses the validator's own ``values``, and a solver that
modifies its input (e.g. sorts ``values`` in place) gets its own discrepancy
("modified its input values in place").  A Python callable given to
:func:`validate_rss` directly runs in-process (private copies, no timeout).

A failing instance is shrunk by Hypothesis to a minimal one and printed with
a copy-paste reproducer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from slth_check.validate import Verdict
from slth_check.validate.determinism import fresh_seed, seeded_find
from slth_check.validate.rss.answers import (
    Answer,
    AnswerError,
    interpret,
    normalise_answer,
    resolve,
)
from slth_check.validate.rss.checks import check_result, optimality_slack, sum_tolerance
from slth_check.validate.rss.generation import GRID_FAMILIES, MAX_ABS_DEFAULT, rss_cases, rss_grid
from slth_check.validate.sandbox import UserCodeFailure, load_user_function
from slth_check.validate.user_function import UserFunction

# Hypothesis and the exact solvers are imported where they are used: the worker process
# imports this module for _solver_factory (and answers for normalise_answer) only, and
# starts faster without them.

__all__ = ["Answer", "AnswerError", "check_result", "interpret", "normalise_answer",
           "optimality_slack", "resolve", "rss_cases", "sum_tolerance", "validate_rss"]

MAX_N = 30
"""Largest ``max_n`` accepted (the exact optimum is meet in the middle)."""
MAX_ABS_LIMIT = 1e300  # n * max_abs stays finite in float64 for n <= MAX_N


# -- the solver in its worker ----------------------------------------------------------
class _Solver:
    """Calls the user's ``f(values, target)`` with ``target`` as a Python float
    (the sandbox hands every argument over as an array)."""

    def __init__(self, fn: Callable) -> None:
        self.fn = fn

    def __call__(self, values: np.ndarray, target: np.ndarray) -> Any:
        return self.fn(values, float(target))


def _solver_factory(spec: str) -> _Solver:
    """Run in the worker: load the user's solver (see :class:`_Solver`)."""
    return _Solver(load_user_function(spec))


# -- the validator -----------------------------------------------------------------------
@dataclass
class _Problem:
    detail: str
    fatal: bool = False
    answer: Answer | None = None


def _check_int(name: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"{name}: expected an integer in {lo}..{hi}, got {v!r}")
    return int(v)


def validate_rss(impl: Callable | str, *, claims_optimal: bool = False, max_n: int = 16,
                 max_examples: int = 200, max_abs: float | None = None,
                 timeout: float = 60.0, seed: int | None = None) -> Verdict:
    """Property-test a subset-sum solver ``f(values, target)`` (module docs).

    Every instance of :func:`~slth_check.validate.rss.generation.rss_grid` (every
    ``n`` up to ``max_n``, every family) is checked first, then ``max_examples``
    random instances drawn from ``seed`` (default: a fresh seed, printed in the
    verdict and its ``config``; pass it back to replay the same run).

    ``impl`` is ``"MODULE:ATTR"`` (run in a sandboxed worker with ``timeout``
    seconds per call) or a Python callable (run in-process).  ``max_n``
    (1..30) and ``max_abs`` (1..1e300, default 1e6) bound the generated
    instances.  Returns a :class:`~slth_check.validate.Verdict`:
    ``consistent``, or ``discrepancy`` with a minimal instance and a
    reproducer.  Raises ValueError for bad arguments or a solver that cannot
    be found.
    """
    max_n = _check_int("max_n", max_n, 1, MAX_N)
    max_examples = _check_int("max_examples", max_examples, 1, 10**6)
    if max_abs is None:
        max_abs = MAX_ABS_DEFAULT
    elif isinstance(max_abs, bool) or not isinstance(max_abs, (int, float)) \
            or not 1 <= max_abs <= MAX_ABS_LIMIT:
        raise ValueError(f"max_abs: expected a number in [1, {MAX_ABS_LIMIT:g}] (the largest "
                         f"|value| and |target| generated), got {max_abs!r}")
    max_abs = float(max_abs)
    if not isinstance(claims_optimal, bool):
        raise ValueError(f"claims_optimal: expected True or False, got {claims_optimal!r}")
    seed = fresh_seed() if seed is None else _check_int("seed", seed, 0, 2**63 - 1)
    if isinstance(impl, str):
        name = impl
        fn = UserFunction("slth_check.validate.rss.core:_solver_factory", timeout,
                          factory_args=(impl,), convert=normalise_answer,
                          arg_names=("values", "target"))
    elif callable(impl):
        name = getattr(impl, "__qualname__", repr(impl))
        fn = UserFunction(_Solver(impl), timeout, convert=normalise_answer,
                          arg_names=("values", "target"))
    else:
        raise ValueError(f"impl: expected MODULE:ATTR or a callable, got {impl!r}")
    config = {"impl": name, "claims_optimal": claims_optimal, "max_n": max_n,
              "max_abs": max_abs, "max_examples": max_examples, "timeout": timeout,
              "seed": seed, "grid": f"every n in 1..{max_n} x {len(GRID_FAMILIES)} families",
              "sandbox": "in-process" if fn.in_process else "worker process",
              "sum_tolerance": "gamma_n sum|v|",
              "optimality_slack": "2 gamma_n (|t| + sum|v|)" if claims_optimal else None}
    with fn:
        return _run(fn, name, impl, config, claims_optimal, max_n, max_abs, max_examples,
                    seed)


def _key(case: tuple[np.ndarray, float]) -> tuple:
    values, target = case
    return (values.tobytes(), float(target).hex())



def _first_failure(evaluate: Callable[[tuple[np.ndarray, float]], _Problem | None],
                   max_n: int, max_abs: float
                   ) -> tuple[tuple[np.ndarray, float], _Problem] | None:
    """The first grid instance (n ascending) on which ``evaluate`` finds a problem."""
    for _family, _n, values, target in rss_grid(max_n, max_abs):
        prob = evaluate((values, target))
        if prob is not None:
            return (values, target), prob
    return None


def _search(fn: UserFunction, claims_optimal: bool, max_n: int, max_abs: float,
            max_examples: int, seed: int) -> tuple[tuple[np.ndarray, float], _Problem] | None:
    """A minimal failing instance and its problem, or None when every instance passed:
    the grid first (n ascending), then Hypothesis's random search from ``seed``."""

    from hypothesis.errors import NoSuchExample

    def evaluate(case: tuple[np.ndarray, float]) -> _Problem | None:
        values, target = case
        try:
            answer = fn.call(values, np.asarray(target, dtype=np.float64),
                             during="when called")
        except UserCodeFailure as exc:
            return _Problem(f"the implementation {exc}", fatal=exc.fatal)
        problem = check_result(values, target, answer, claims_optimal)
        return None if problem is None else _Problem(problem, answer=answer)

    grid_failure = _first_failure(evaluate, max_n, max_abs)
    if grid_failure is not None:
        return grid_failure
    problems: dict[tuple, tuple[tuple[np.ndarray, float], _Problem]] = {}
    fatal: list[tuple] = []

    def mismatch(case: tuple[np.ndarray, float]) -> bool:
        key = _key(case)
        if fatal:  # no shrinking after a hang/exit/crash: each try could cost the timeout
            return key == fatal[0]
        prob = evaluate(case)
        if prob is None:
            return False
        problems[key] = (case, prob)
        if prob.fatal:
            fatal.append(key)
        return True

    try:
        case = seeded_find(rss_cases(max_n, max_abs), mismatch, max_examples, seed)
    except NoSuchExample:
        return None
    except Exception:  # e.g. Flaky: a non-deterministic solver
        if not problems:
            raise
        case = min((c for c, _ in problems.values()), key=lambda c: c[0].size)
    key = _key(case)
    prob = problems[key][1] if key in problems else evaluate(case)
    if prob is None:  # pragma: no cover - flaky user code passing on replay
        prob = _Problem("the solver is not deterministic: it failed this instance once")
    return case, prob


def _run(fn: UserFunction, name: str, impl: Any, config: dict, claims_optimal: bool,
         max_n: int, max_abs: float, max_examples: int, seed: int) -> Verdict:
    try:
        fn.start()
    except UserCodeFailure as exc:
        return Verdict("discrepancy", f"{name}: the implementation {exc}", None, None,
                       ["the implementation could not be imported"], config)
    found = _search(fn, claims_optimal, max_n, max_abs, max_examples, seed)
    if found is None:
        return Verdict("consistent", f"{name}: {max_n * len(GRID_FAMILIES)} grid instances "
                       f"(every n in 1..{max_n}: {', '.join(GRID_FAMILIES)}) and "
                       f"{max_examples} random ones (seed {seed}; n <= {max_n}, "
                       f"|values|, |target| <= {max_abs:g}) passed"
                       + (" including exact optimality" if claims_optimal else ""),
                       config=config)
    (values, target), prob = found
    return _discrepancy(name, impl, config, claims_optimal, values, target, prob)


def _discrepancy(name: str, impl: Any, config: dict, claims_optimal: bool,
                 values: np.ndarray, target: float, prob: _Problem) -> Verdict:
    """The verdict on a failing instance: counterexample, reproducer, diagnosis."""
    from slth_check.rss import solve

    diagnosis: list[str] = []
    if "in place" in prob.detail:
        diagnosis.append("the solver modifies its input in place; the validator checks "
                         "against its own copy")
    counter: dict[str, Any] = {"values": values.tolist(), "target": target,
                               "problem": prob.detail}
    if prob.answer is not None:
        counter["answer"] = {"kind": prob.answer.kind, "items": list(prob.answer.items),
                             "reported_sum": None if prob.answer.reported is None
                             else float(prob.answer.reported)}
    if claims_optimal and not prob.fatal:
        opt = solve(values, float(target), method="mitm")
        counter["optimum"] = {"subset": np.flatnonzero(opt.mask).tolist(),
                              "error": float(opt.error)}
    if isinstance(impl, str):
        mod, attr = impl.split(":", 1)
        head = f"import importlib\nimpl = importlib.import_module({mod!r}).{attr}\n"
    else:
        head = "# impl = your solver\n"
    repro = (f"{head}import numpy as np\nvalues = np.array({values.tolist()!r})\n"
             f"target = {target!r}\nprint(impl(values, target))")
    return Verdict("discrepancy", f"{name}: {prob.detail} on values {values.tolist()}, "
                   f"target {target!r}", counter, repro, diagnosis, config)
