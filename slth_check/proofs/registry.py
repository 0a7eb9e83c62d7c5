"""The registry of proofs for all sizes: look up, run and summarise the proof scripts.

One module per statement: :mod:`.proposition1` (Proposition 1, Appendix A),
:mod:`.lemma1` (Lemma 1's identity, Eq. 1-2, and its final bound, step 4),
:mod:`.lemma2` (Lemma 2's reduction to Lemma 1, section 4.3) and
:mod:`.theorem1` (Theorem 1's error recursion, Appendix B, Eq. 3-5).
Each defines a :class:`~.core.Proof`: obligations (Z3 formulas over
universally quantified Int/Real variables and Int -> Real sequences, built
from parameters so that tests can mutate them), each with a negative twin Z3
must refute, plus the named meta-steps Z3 cannot take (induction, exchange of
finite sums, two inequalities of exp) and the chain "obligations + meta-steps
=> statement".

:func:`run_all` discharges everything; ``slth-check prove`` prints it.
"""

from __future__ import annotations

from typing import Any

from slth_check.proofs.core import (
    DEFAULT_TIMEOUT_MS,
    ChainStep,
    Goal,
    MetaStep,
    Obligation,
    ObligationResult,
    Proof,
    check_goal,
    run_proof,
    summary_exit_code,
    z3_version,
)

__all__ = ["DEFAULT_TIMEOUT_MS", "PROOFS", "ChainStep", "Goal", "MetaStep", "Obligation",
           "ObligationResult", "Proof", "check_goal", "known_names", "outcome_fields", "proof",
           "run_all", "run_proof", "status", "summary_exit_code", "z3_version"]


def _proofs() -> dict[str, Proof]:
    from slth_check.proofs import lemma1, lemma2, proposition1, theorem1

    return {p.NAME: p.PROOF for p in (proposition1, lemma1, lemma2, theorem1)}


#: The proof scripts by statement name: ``proposition1``, ``lemma1``, ``lemma2``, ``theorem1``.
PROOFS: dict[str, Proof] = _proofs()


def proof(name: str) -> Proof:
    """The proof script of the statement ``name`` (``ValueError`` naming the choices)."""
    if name not in PROOFS:
        raise ValueError(f"statement: expected one of {sorted(PROOFS)}, got {name!r}")
    return PROOFS[name]


def known_names() -> set[str]:
    """Every obligation, meta-step and chain conclusion name over all proofs."""
    out: set[str] = set()
    for p in PROOFS.values():
        out |= {o.name for o in p.obligations} | {m.name for m in p.meta_steps}
        out |= {c.conclusion for c in p.chain}
    return out


def run_all(statement: str | None = None, *, timeout_ms: int = DEFAULT_TIMEOUT_MS,
            twins: bool = True) -> list[ObligationResult]:
    """Discharge every obligation (and negative twin) of one statement or of all.

    Returns one :class:`ObligationResult` per obligation and per twin, in
    script order.  A statement is proved for all sizes exactly when every
    obligation of its proof has verdict ``holds`` (and every twin ``refuted``):
    ``all(r.ok for r in run_all("proposition1"))``.
    """
    names = [statement] if statement is not None else list(PROOFS)
    out: list[ObligationResult] = []
    for n in names:
        out += run_proof(proof(n), timeout_ms=timeout_ms, twins=twins)
    return out


def status(statement: str, results: list[ObligationResult] | None = None) -> str:
    """``"proved (all sizes)"``, ``"failed"`` or ``"unknown"`` for one statement.

    ``proved (all sizes)``: every obligation holds and every negative twin is
    refuted.  ``failed``: an obligation is violated or a twin holds (the proof
    script is wrong or vacuous; this is *not* a violation of the paper's
    statement, whose witnesses must be concrete).  ``unknown``: otherwise (a
    timeout).  ``results`` defaults to ``run_all(statement)``.
    """
    proof(statement)  # validates the name
    mine = [r for r in (run_all(statement) if results is None else results)
            if r.statement == statement]
    if mine and all(r.ok for r in mine):
        return "proved (all sizes)"
    return "failed" if any(r.bad for r in mine) else "unknown"


def outcome_fields(statement: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS,
                   results: list[ObligationResult] | None = None) -> dict[str, Any]:
    """Keyword arguments for a claim's ``Outcome(claim_id, **outcome_fields(name))``.

    ``verdict`` is ``holds`` when the statement's proof script is ``proved (all
    sizes)`` and ``unknown`` otherwise, never ``violated``: a countermodel of
    an obligation is not a witness replayed on concrete tensors.  ``method`` is
    ``z3``; ``detail`` says what is proved (for Lemma 1 and Theorem 1 the
    deterministic part only: Eq. 1-2, the error recursion given Eq. 3);
    ``extra`` carries ``proof = "all sizes"``, the status, the Z3 version and
    every obligation and twin as JSON.
    """
    p = proof(statement)
    res = run_all(statement, timeout_ms=timeout_ms) if results is None else \
        [r for r in results if r.statement == statement]
    st = status(statement, res)
    n_obl = sum(r.kind == "obligation" for r in res)
    n_twin = sum(r.kind == "twin" for r in res)
    seconds = sum(r.seconds for r in res)
    detail = (f"{st}: {p.title}: {p.statement} [{p.scope}]; {n_obl} Z3 obligations, "
              f"{n_twin} negative twins, meta-steps {', '.join(m.name for m in p.meta_steps)}; "
              f"Z3 {z3_version()}, in {seconds:.2f} s")
    return {"verdict": "holds" if st == "proved (all sizes)" else "unknown", "method": "z3",
            "detail": detail,
            "extra": {"proof": "all sizes", "status": st, "statement": p.title,
                      "scope": p.scope, "z3_version": z3_version(), "seconds": seconds,
                      "obligations": [r.to_json() for r in res]}}
