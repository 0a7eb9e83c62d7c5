"""Z3 in exact rational arithmetic: minimisation and the decision "within eta?"."""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np

from slth_check.rss.result import RSSResult, Status


def _model(values: np.ndarray):
    import z3

    xs = [z3.Bool(f"x{i}") for i in range(values.size)]
    total = z3.Sum([z3.If(x, z3.RealVal(Fraction(float(v))), z3.RealVal(0))
                    for x, v in zip(xs, values)])
    return z3, xs, total


def _mask(model, xs) -> np.ndarray:
    import z3

    return np.array([z3.is_true(model.eval(x, model_completion=True)) for x in xs], dtype=bool)


def solve_z3(values: np.ndarray, target: float, *, time_limit: float | None = None) -> RSSResult:
    """Exact minimisation of ``|target - sum|`` with ``z3.Optimize``.

    Status ``optimal`` when Z3 reports the optimum (certificate: z3 Optimize
    over exact rationals); ``unknown`` on timeout (with the best model seen,
    if any).
    """
    z3, xs, total = _model(values)
    t = z3.RealVal(Fraction(float(target)))
    e = z3.Real("e")
    opt = z3.Optimize()
    if time_limit is not None:
        opt.set("timeout", max(1, int(time_limit * 1000)))
    opt.add(e >= t - total, e >= total - t)
    opt.minimize(e)
    t0 = time.perf_counter()
    r = opt.check()
    stats = {"seconds": time.perf_counter() - t0}
    if r == z3.sat:
        mask = _mask(opt.model(), xs)
        return RSSResult.from_mask(values, target, mask, "optimal", "z3",
                                   {"proof": "z3 Optimize over exact rationals"}, stats)
    return RSSResult.from_mask(values, target, np.zeros(values.size, bool), "unknown", "z3",
                               {"reason": f"z3 {r}: {opt.reason_unknown()}"}, stats)


def decide_z3(values: np.ndarray, target: float, eta: Fraction | float, *,
              time_limit: float | None = None) -> RSSResult:
    """Is there a subset with ``|target - sum| <= eta``?  Exact rationals.

    ``feasible`` with the subset (re-verified exactly) when sat; ``infeasible``
    when unsat (the certificate: no subset comes within eta); ``unknown`` on
    timeout.
    """
    z3, xs, total = _model(values)
    eta = Fraction(eta) if not isinstance(eta, Fraction) else eta
    t = z3.RealVal(Fraction(float(target)))
    s = z3.Solver()
    if time_limit is not None:
        s.set("timeout", max(1, int(time_limit * 1000)))
    s.add(total - t <= z3.RealVal(eta), t - total <= z3.RealVal(eta))
    t0 = time.perf_counter()
    r = s.check()
    stats = {"seconds": time.perf_counter() - t0}
    if r == z3.sat:
        res = RSSResult.from_mask(values, target, _mask(s.model(), xs), "feasible", "z3",
                                  {"proof": f"z3 model within eta={eta}"}, stats)
        if res.error > eta:  # never trust the model without exact re-verification
            res.status = "unknown"
            res.certificate = {"reason": "z3 model failed exact re-verification"}
        return res
    status: Status = "infeasible" if r == z3.unsat else "unknown"
    cert = ({"proof": f"z3 unsat: no subset within eta={eta}"} if r == z3.unsat
            else {"reason": f"z3 {r}: {s.reason_unknown()}"})
    return RSSResult.from_mask(values, target, np.zeros(values.size, bool), status, "z3",
                               cert, stats)
