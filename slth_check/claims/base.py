"""The claims spine: one shared way of stating a claim and its outcome.

A :class:`Claim` knows its statement, its hypotheses (a predicate on an
instance) and how to ``check`` an instance, returning an :class:`Outcome`.
Everything else (properties, the ``slth-check`` command, validators) consumes
outcomes.  Soundness rule: ``holds`` only on exact arithmetic, an exact
optimisation or a sound bound; ``violated`` only with a witness replayed in
exact arithmetic; anything else is ``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Literal, get_args

import numpy as np

#: The verdict of one outcome (see the module docstring for what each rests on).
Verdict = Literal["holds", "violated", "unknown", "hypotheses_unmet"]
VERDICTS: tuple[str, ...] = get_args(Verdict)
#: What produced an outcome's verdict.
Method = Literal["exact", "closed-form", "bounds", "milp", "interval", "z3", "mitm",
                 "statistical", "sampled"]
#: The audit status of a constant inside a proof.
AuditStatus = Literal["confirmed", "discrepancy", "illegible", "unknown"]


def as_number(x: Any) -> float | None:
    """A JSON-friendly float for a Fraction, mpf, numpy scalar or None."""
    if x is None:
        return None
    try:
        return float(x)
    except OverflowError:  # an exact number beyond float64 (a huge witness): +-inf
        return float("inf") if x > 0 else float("-inf")


@dataclass(frozen=True)
class Outcome:
    """The result of checking one instance of one claim (immutable: derive a changed
    copy with :meth:`replace`; ``extra`` holds per-claim data for its summary)."""

    claim: str
    verdict: Verdict
    observed: Any = None
    bound: Any = None
    method: str = "exact"
    witness: dict[str, np.ndarray] | None = None
    detail: str = ""
    expected: bool = False  # a violation expected because a hypothesis was dropped on purpose
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict: expected one of {VERDICTS}, got {self.verdict!r}")

    def replace(self, **changes: Any) -> Outcome:
        """A copy with ``changes`` applied (the outcome itself never changes)."""
        return replace(self, **changes)

    @property
    def ratio(self) -> float | None:
        """observed / bound (tightness); None when undefined, inf when huge."""
        if self.observed is None or self.bound is None:
            return None
        obs, b = self.observed, self.bound
        if isinstance(obs, (int, Fraction)) and isinstance(b, (int, Fraction)):
            if b == 0:
                return 0.0 if obs == 0 else float("inf")
            q = Fraction(obs) / Fraction(b)
            try:
                return float(q)
            except OverflowError:
                return float("inf") if q > 0 else float("-inf")
        fb = float(b)
        if fb == 0:
            return 0.0 if float(obs) == 0 else float("inf")
        return float(obs) / fb

    def to_json(self) -> dict[str, Any]:
        return {"claim": self.claim, "verdict": self.verdict,
                "observed": as_number(self.observed), "bound": as_number(self.bound),
                "ratio": self.ratio, "method": self.method, "detail": self.detail,
                "expected": self.expected}


def compare(claim: str, observed: Any, bound: Any, *, method: str, witness=None,
            detail: str = "", strict: bool = False, expected: bool = False,
            on_pass: Verdict = "holds", on_fail: Verdict = "violated",
            extra: dict[str, Any] | None = None) -> Outcome:
    """Outcome of the exact comparison ``observed <= bound`` (``<`` if strict).

    Both must be exact numbers (Fraction or int): this is the one place where a
    numeric comparison becomes a verdict.  ``on_fail="unknown"`` is for a bound
    that may fail with a stated probability (see :func:`compare_or_unknown`);
    ``on_pass="unknown"`` for a negative control whose break was not found.  The
    witness is kept only on a violation.
    """
    if not isinstance(observed, (int, Fraction)) or not isinstance(bound, (int, Fraction)):
        raise TypeError("compare: observed and bound must be exact (Fraction or int)")
    ok = observed < bound if strict else observed <= bound
    verdict = on_pass if ok else on_fail
    return Outcome(claim, verdict, observed, bound, method,
                   witness=witness if verdict == "violated" else None, detail=detail,
                   expected=expected and verdict == "violated", extra=dict(extra or {}))


def compare_or_unknown(claim: str, observed: Any, bound: Any, **kw: Any) -> Outcome:
    """:func:`compare` for a bound allowed to fail (with probability eps or delta): a
    failed comparison is ``unknown``, never ``violated``."""
    return compare(claim, observed, bound, on_fail="unknown", **kw)


@dataclass
class AuditEntry:
    """One constant or step inside a proof, re-derived and compared."""

    claim: str
    item: str
    stated: str
    measured: str
    status: AuditStatus
    consequence: str

    def to_json(self) -> dict[str, str]:
        return dict(self.__dict__)



def category(verdict: str, expected: bool = False) -> str:
    """The category of an outcome in tables and figures: its verdict, or
    ``expected violation`` (a negative control that is violated, as it must be)."""
    return "expected violation" if verdict == "violated" and expected else verdict


@dataclass(frozen=True)
class FigureData:
    """One figure of a claim, as data: ``kind`` names the drawing function of
    :mod:`slth_check.figures.claims`, called as ``kind(*args, **kwargs)``; the PNG is
    written as ``figures/<name>.png`` with ``caption`` under it in the report."""

    kind: str
    name: str
    caption: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


class Claim:
    """Base class: subclasses set ``id`` and ``statement`` and implement ``check``."""

    id: str = ""
    statement: str = ""
    hypotheses_text: str = ""

    def hypotheses(self, instance: Any) -> list[str]:
        """Unmet hypotheses of the statement for this instance (empty: all met)."""
        return []

    def check(self, instance: Any) -> Outcome:  # pragma: no cover - abstract
        raise NotImplementedError

    def instances(self, rng: np.random.Generator, profile: str) -> Iterator[Any]:
        """The built-in default instances for ``slth-check check``."""
        return iter(())

    def extra_outcomes(self, rng: np.random.Generator, profile: str) -> Iterator[Outcome]:
        """Outcomes not tied to one generated instance (proofs, negative controls)."""
        return iter(())

    def audit(self) -> list[AuditEntry]:
        """Audit entries of the constants inside this statement's proof."""
        return []

    def summary(self, outcomes: Sequence[Outcome], rng: np.random.Generator,
                profile: str) -> dict[str, Any]:
        """Extra per-claim results for the report (fits, tables), computed from this
        run's ``outcomes`` only: a claim keeps no state between calls."""
        return {}

    def figure_data(self, summary: dict[str, Any],
                    outcomes: Sequence[Outcome]) -> list[FigureData]:
        """The data of this claim's own figures (drawn by :mod:`slth_check.figures`;
        a claim never draws)."""
        return []

    def replay(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Outcome:
        """Re-check a saved witness in exact arithmetic (claims with witnesses override)."""
        raise ValueError(f"witness: claim {self.id!r} has no replay")

    def run(self, instance: Any) -> Outcome:
        """``check`` guarded by the hypotheses."""
        unmet = self.hypotheses(instance)
        if unmet:
            return Outcome(self.id, "hypotheses_unmet", method="exact", detail="; ".join(unmet))
        return self.check(instance)
