"""The proof-script machinery: obligations, meta-steps, proofs and their discharge by Z3.

A *proof* of one statement of the paper (Proposition 1, Lemma 1 Eq. 1-2,
Theorem 1 Eq. 3-5) is a list of :class:`Obligation` objects, each a formula
over universally quantified variables (``Int`` for indices, sizes and depths,
``Real`` for entries, uninterpreted ``Int -> Real`` functions for sequences of
summands of arbitrary length), plus the few :class:`MetaStep` objects that Z3
cannot take (induction on the number of summands or on the depth, exchange of
two finite sums, a standard inequality of ``exp``), each named and stated
once, and a :class:`ChainStep` list saying which obligations and meta-steps
give which conclusion, ending with the statement.

Obligations are *data*: a builder function ``build(**params) -> Goal`` makes
the formula from parameters (``factor=1``, ``assume_nonneg=True``...), so the
same builder gives the obligation (its ``params``), its *negative twin* (its
``twin`` parameters: a slightly false variant Z3 must refute) and any mutant a
test wants to try.

Discharge (:func:`discharge`): the hypotheses and the *negation* of the
conclusion are asserted; ``unsat`` proves validity (verdict ``holds``), ``sat``
gives a countermodel (verdict ``violated``; for a twin, ``refuted``, which is
the expected answer), anything else (``unknown``, a timeout) is ``unknown`` and
never ``holds``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

#: Default time limit of one Z3 call (milliseconds).
DEFAULT_TIMEOUT_MS = 10_000

#: Verdicts of an obligation, and of a negative twin.
OBLIGATION_VERDICTS = ("holds", "violated", "unknown")
TWIN_VERDICTS = ("refuted", "holds", "unknown")


def z3_version() -> str:
    """The version string of the Z3 library doing the proofs."""
    return z3.get_version_string()


# ----------------------------------------------------------------- formulas

def Abs(x: z3.ArithRef) -> z3.ArithRef:  # mathematical name
    """``|x|`` as a Z3 term."""
    return z3.If(x >= 0, x, -x)


def Relu(x: z3.ArithRef) -> z3.ArithRef:  # mathematical name
    """The ReLU ``sigma(x) = max(0, x)`` as a Z3 term."""
    return z3.If(x > 0, x, z3.RealVal(0))


def Seq(name: str) -> z3.FuncDeclRef:  # a sort constructor
    """A sequence of reals of arbitrary length: an uninterpreted ``Int -> Real`` function."""
    return z3.Function(name, z3.IntSort(), z3.RealSort())


@dataclass
class Goal:
    """A formula to prove valid: ``And(hypotheses) => conclusion`` for all its variables."""

    hypotheses: list[z3.BoolRef]
    conclusion: z3.BoolRef

    def formula(self) -> z3.BoolRef:
        """The implication itself (for printing)."""
        return z3.Implies(z3.And(*self.hypotheses), self.conclusion)


@dataclass(frozen=True)
class Obligation:
    """One step of a proof that Z3 discharges for all values of its variables.

    ``build(**params)`` gives the obligation, ``build(**twin)`` its negative
    twin (``twin_text`` says what was changed); ``logic`` names the fragment
    (LIA, NIA, NRA, UFLRA, UFNRA) and ``text`` states the formula in words.
    """

    name: str
    statement: str
    text: str
    logic: str
    build: Callable[..., Goal]
    params: dict[str, Any] = field(default_factory=dict)
    twin: dict[str, Any] = field(default_factory=dict)
    twin_text: str = ""

    def goal(self, **overrides: Any) -> Goal:
        """The formula with the obligation's parameters, updated by ``overrides``."""
        return self.build(**{**self.params, **overrides})

    def twin_goal(self) -> Goal:
        """The negative twin's formula."""
        return self.build(**{**self.params, **self.twin})


@dataclass(frozen=True)
class MetaStep:
    """A proof step Z3 cannot take, named and stated once, with its justification.

    ``combines`` lists the obligations whose conclusions it turns into its own
    (e.g. an induction combines a base case and a step).
    """

    name: str
    statement: str
    justification: str
    combines: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChainStep:
    """``uses`` (obligation and meta-step names) give ``conclusion``."""

    conclusion: str
    uses: tuple[str, ...]


@dataclass(frozen=True)
class Proof:
    """A proof script: obligations + meta-steps, and the chain to the statement."""

    name: str
    title: str
    statement: str
    scope: str
    obligations: tuple[Obligation, ...]
    meta_steps: tuple[MetaStep, ...]
    chain: tuple[ChainStep, ...]

    def obligation(self, name: str) -> Obligation:
        """The obligation called ``name`` (``KeyError`` if none)."""
        for ob in self.obligations:
            if ob.name == name:
                return ob
        raise KeyError(name)

    def check_references(self, others: Iterable[str] = ()) -> list[str]:
        """Names used by meta-steps and the chain that are defined nowhere (should be []).

        ``others``: names defined by the other proofs (a chain may cite them).
        """
        known = {o.name for o in self.obligations} | {m.name for m in self.meta_steps}
        known |= {c.conclusion for c in self.chain} | set(others)
        missing = [n for m in self.meta_steps for n in m.combines if n not in known]
        missing += [n for c in self.chain for n in c.uses if n not in known]
        return missing

    def describe(self) -> str:
        """The proof script as text: the chain "obligations + meta-steps => statement"."""
        lines = [f"{self.title}: {self.statement}", f"  scope: {self.scope}"]
        for m in self.meta_steps:
            via = f" [combines {', '.join(m.combines)}]" if m.combines else ""
            lines.append(f"  meta-step {m.name}: {m.statement}{via}")
            lines.append(f"      justification: {m.justification}")
        for c in self.chain:
            lines.append(f"  {' + '.join(c.uses)}  =>  {c.conclusion}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The script as JSON (obligations by name and text; meta-steps; chain)."""
        return {
            "name": self.name, "title": self.title, "statement": self.statement,
            "scope": self.scope,
            "obligations": [{"name": o.name, "text": o.text, "logic": o.logic,
                             "twin": o.twin_text} for o in self.obligations],
            "meta_steps": [{"name": m.name, "statement": m.statement,
                            "justification": m.justification, "combines": list(m.combines)}
                           for m in self.meta_steps],
            "chain": [{"conclusion": c.conclusion, "uses": list(c.uses)} for c in self.chain],
        }


# ----------------------------------------------------------------- discharge

@dataclass
class ObligationResult:
    """What Z3 said about one obligation or one negative twin.

    ``verdict``: for an obligation ``holds`` / ``violated`` / ``unknown``; for a
    twin ``refuted`` (expected) / ``holds`` (the proof may be vacuous) /
    ``unknown``.  ``ok`` is True exactly when the verdict is the expected one.
    """

    statement: str
    obligation: str
    kind: str  # "obligation" or "twin"
    text: str
    logic: str
    verdict: str
    z3_answer: str
    seconds: float
    z3_version: str
    countermodel: str | None = None
    reason: str = ""

    @property
    def expected(self) -> str:
        """The verdict a sound, non-vacuous proof gives."""
        return "holds" if self.kind == "obligation" else "refuted"

    @property
    def ok(self) -> bool:
        """True when the verdict is the expected one."""
        return self.verdict == self.expected

    @property
    def bad(self) -> bool:
        """A finding: an obligation violated, or a twin that holds (exit 1)."""
        return (self.kind == "obligation" and self.verdict == "violated") or \
            (self.kind == "twin" and self.verdict == "holds")

    def to_json(self) -> dict[str, Any]:
        """JSON record: names, verdict, expected, time, Z3 version, countermodel."""
        return {"statement": self.statement, "obligation": self.obligation,
                "kind": self.kind, "text": self.text, "logic": self.logic,
                "verdict": self.verdict, "expected": self.expected, "ok": self.ok,
                "z3_answer": self.z3_answer, "seconds": self.seconds,
                "z3_version": self.z3_version, "countermodel": self.countermodel,
                "reason": self.reason}


def check_goal(goal: Goal, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> tuple[str, str | None, str]:
    """Ask Z3 for a countermodel of ``goal``: ``(answer, model, reason)``.

    ``answer`` is ``"unsat"`` (the goal is valid), ``"sat"`` (``model`` is a
    countermodel) or ``"unknown"`` (``reason`` says why, e.g. a timeout).
    """
    s = z3.Solver()
    s.set("timeout", int(timeout_ms))
    s.add(*goal.hypotheses)
    s.add(z3.Not(goal.conclusion))
    r = s.check()
    if r == z3.unsat:
        return "unsat", None, ""
    if r == z3.sat:
        m = s.model()
        # Z3's internal division-by-zero functions ("/0", "div0", "mod0") are no variables
        shown = sorted(f"{d.name()} = {m[d]}" for d in m.decls()
                       if d.name() not in ("/0", "div0", "mod0"))
        return "sat", ", ".join(shown), ""
    return "unknown", None, s.reason_unknown()


def verdict_of(answer: str, kind: str) -> str:
    """Map a Z3 answer to a verdict: unsat -> holds; sat -> violated (twin: refuted)."""
    if answer == "unsat":
        return "holds"
    if answer == "sat":
        return "violated" if kind == "obligation" else "refuted"
    return "unknown"


def discharge(statement: str, name: str, text: str, logic: str, goal: Goal, kind: str,
              timeout_ms: int = DEFAULT_TIMEOUT_MS) -> ObligationResult:
    """Discharge one goal with Z3 and time it."""
    t0 = time.perf_counter()
    answer, model, reason = check_goal(goal, timeout_ms)
    return ObligationResult(statement, name, kind, text, logic, verdict_of(answer, kind),
                            answer, time.perf_counter() - t0, z3_version(), model, reason)


def run_proof(proof: Proof, timeout_ms: int = DEFAULT_TIMEOUT_MS,
              twins: bool = True) -> list[ObligationResult]:
    """Every obligation of ``proof`` (and, with ``twins``, its negative twin), in order."""
    out: list[ObligationResult] = []
    for ob in proof.obligations:
        out.append(discharge(proof.name, ob.name, ob.text, ob.logic, ob.goal(), "obligation",
                             timeout_ms))
        if twins:
            out.append(discharge(proof.name, ob.name, ob.twin_text, ob.logic, ob.twin_goal(),
                                 "twin", timeout_ms))
    return out


def summary_exit_code(results: Iterable[ObligationResult]) -> int:
    """0 all as expected; 1 an obligation violated or a twin holds; 3 something unknown."""
    results = list(results)
    if any(r.bad for r in results):
        return 1
    if any(not r.ok for r in results):
        return 3
    return 0


def ints(names: str) -> Sequence[z3.ArithRef]:
    """``z3.Ints`` (typed helper)."""
    return z3.Ints(names)


def reals(names: str) -> Sequence[z3.ArithRef]:
    """``z3.Reals`` (typed helper)."""
    return z3.Reals(names)
