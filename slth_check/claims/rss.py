"""Random subset sum solvers agree (the foundation of Lemma 1's RSS step).

For one instance (values, target): the exact methods (bruteforce, mitm, z3)
return exactly the same optimal error; milp never beats it and is reported
optimal only when it equals it; z3's decision just below the optimum is unsat
(a certificate that no subset is closer, independent of mitm).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from slth_check.claims.base import Claim, Outcome
from slth_check.rss import solve
from slth_check.rss.bruteforce import BRUTEFORCE_MAX_N

Z3_MAX_N = 10


@dataclass
class RSSInstance:
    values: np.ndarray
    target: float


def _z3_agreement(v: np.ndarray, t: float, opt: Any, problems: list[str],
                  unknown: list[str]) -> None:
    """Z3 against the exact optimum ``opt``: its minimisation finds the same error, and
    no subset lies within ``eta = opt (1 - 2^-20) < opt`` (unsat just below the optimum).
    Appends disagreements to ``problems`` and timeouts to ``unknown``."""
    z = solve(v, t, method="z3", time_limit=20)
    if z.status != "optimal":
        unknown.append("z3 minimisation timed out")
    elif z.error != opt:
        problems.append(f"z3 {z.error} != mitm {opt}")
    if opt > 0:
        eta = opt - opt / 2**20
        dec = solve(v, t, method="z3", eps=eta, time_limit=20)
        if dec.status == "feasible":
            problems.append(f"z3 found a subset within {eta} < mitm optimum {opt}")
        elif dec.status != "infeasible":
            unknown.append("z3 decision timed out")


class RSSAgreement(Claim):
    id = "rss"
    statement = ("Random subset sum: bruteforce, meet-in-the-middle and Z3 find exactly the same "
                 "optimal error; milp never beats it and is optimal only when verified; Z3 "
                 "proves no subset is closer than the optimum (unsat just below it).")
    hypotheses_text = "finite float values and target"

    def check(self, instance: RSSInstance) -> Outcome:
        v, t = np.asarray(instance.values, dtype=float), float(instance.target)
        n = v.size
        mitm = solve(v, t, method="mitm")
        problems: list[str] = []
        if mitm.status != "optimal":
            return Outcome(self.id, "unknown", method="mitm", detail="mitm did not certify")
        opt = mitm.error
        if n <= BRUTEFORCE_MAX_N - 4:
            bf = solve(v, t, method="bruteforce")
            if bf.error != opt:
                problems.append(f"bruteforce {bf.error} != mitm {opt}")
        unknown: list[str] = []
        if n <= Z3_MAX_N:
            _z3_agreement(v, t, opt, problems, unknown)
        mi = solve(v, t, method="milp", time_limit=20)
        if mi.error < opt:
            problems.append(f"milp error {mi.error} beats the exact optimum {opt}")
        if mi.status == "optimal" and mi.error != opt:
            problems.append("milp reported optimal without being optimal")
        witness = {"values": v, "target": np.array([t])}
        if problems:
            return Outcome(self.id, "violated", mi.error, opt, method="exact", witness=witness,
                           detail="; ".join(problems))
        if unknown:
            return Outcome(self.id, "unknown", method="z3", detail="; ".join(unknown))
        # several exact checks above decide the verdict (none failed): not one comparison
        return Outcome(self.id, "holds", mi.error, opt, method="exact",
                       detail=f"n={n}: exact optimum {float(opt):.3e}, milp {mi.status}",
                       extra={"milp_optimal": mi.status == "optimal"})

    def replay(self, arrays: dict, meta: dict) -> Outcome:
        return self.check(RSSInstance(arrays["values"], float(arrays["target"][0])))

    def instances(self, rng: np.random.Generator, profile: str) -> Iterator[Any]:
        count = {"ci": 12, "dev": 40, "thorough": 200}.get(profile, 12)
        for _ in range(count):
            n = int(rng.integers(1, 17))
            yield RSSInstance(rng.uniform(-1, 1, n), float(rng.uniform(-1, 1)))
