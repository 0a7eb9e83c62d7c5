"""Machine-checked proofs for all sizes (issue 13, part 1): proof scripts discharged by Z3.

The package's public names, re-exported from their modules (the implementation of
the entry points is in :mod:`slth_check.proofs.registry`)."""

from slth_check.proofs.registry import (
    DEFAULT_TIMEOUT_MS,
    PROOFS,
    ChainStep,
    Goal,
    MetaStep,
    Obligation,
    ObligationResult,
    Proof,
    check_goal,
    known_names,
    outcome_fields,
    proof,
    run_all,
    run_proof,
    status,
    summary_exit_code,
    z3_version,
)

__all__ = [
    "DEFAULT_TIMEOUT_MS",
    "PROOFS",
    "ChainStep",
    "Goal",
    "MetaStep",
    "Obligation",
    "ObligationResult",
    "Proof",
    "check_goal",
    "known_names",
    "outcome_fields",
    "proof",
    "run_all",
    "run_proof",
    "status",
    "summary_exit_code",
    "z3_version",
]
