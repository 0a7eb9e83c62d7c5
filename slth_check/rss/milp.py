"""``scipy.optimize.milp`` (HiGHS) for random subset sum, never trusted.

HiGHS works in floating point with tolerances; its answer is re-verified in
exact arithmetic.  Minimisation: the status is ``optimal`` only when an exact
method (meet in the middle, n <= 44) confirms that no subset is better;
otherwise ``feasible``.  Feasibility within ``eps``: ``feasible`` when the
returned subset is within eps exactly; ``infeasible`` only when the exact
optimum (mitm) exceeds eps; otherwise ``unknown``.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from slth_check.rss.mitm import MITM_MAX_N, solve_mitm
from slth_check.rss.result import RSSResult

if TYPE_CHECKING:  # scipy.optimize costs about a second to import: only when a MILP runs
    from scipy.optimize import Bounds, LinearConstraint


def _program(values: np.ndarray, target: float, eps: float | Fraction | None
             ) -> tuple[np.ndarray, LinearConstraint, np.ndarray, Bounds]:
    """The MILP: ``min e`` s.t. ``-e <= target - a.x <= e`` (no ``eps``), else the
    feasibility of ``|target - a.x| <= eps``; binaries ``x``."""
    from scipy.optimize import Bounds, LinearConstraint

    n = values.size
    if eps is None:
        c = np.r_[np.zeros(n), 1.0]
        A = np.vstack([np.r_[values, 1.0], np.r_[values, -1.0]])
        return (c, LinearConstraint(A, [target, -np.inf], [np.inf, target]),
                np.r_[np.ones(n), 0], Bounds(np.zeros(n + 1), np.r_[np.ones(n), np.inf]))
    fe = float(eps)
    return (np.zeros(n), LinearConstraint(values[None, :], target - fe, target + fe),
            np.ones(n), Bounds(np.zeros(n), np.ones(n)))


def solve_milp(values: np.ndarray, target: float, *, eps: float | Fraction | None = None,
               time_limit: float | None = None, verify: bool = True) -> RSSResult:
    from scipy.optimize import milp

    n = values.size
    options: dict[str, bool | float] = {"disp": False}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    t0 = time.perf_counter()
    c, cons, integrality, bounds = _program(values, target, eps)
    # disp=False keeps HiGHS silent (no fd-level redirection: that is unsafe with threads)
    res = milp(c, constraints=cons, integrality=integrality, bounds=bounds, options=options)
    stats = {"seconds": time.perf_counter() - t0, "milp_status": int(res.status),
             "milp_message": str(res.message),
             "nodes": getattr(res, "mip_node_count", None)}
    if res.x is None:
        mask = np.zeros(n, bool)
        found = False
    else:
        mask = np.asarray(res.x[:n]) > 0.5
        found = True
    result = RSSResult.from_mask(values, target, mask, "unknown", "milp", {}, stats)
    exact_opt = solve_mitm(values, target) if verify and n <= MITM_MAX_N else None
    if exact_opt is not None and exact_opt.status != "optimal":
        exact_opt = None
    if eps is None:
        if not found:
            result.certificate = {"reason": f"milp returned no solution: {res.message}"}
        elif exact_opt is not None and result.error == exact_opt.error:
            result.status = "optimal"
            result.certificate = {"proof": "milp answer equals the exact mitm optimum"}
        else:
            result.status = "feasible"
            result.certificate = {"reason": "milp answer re-verified exactly; optimality "
                                  + ("refuted: mitm found a better subset" if exact_opt
                                     is not None else "not verified (n beyond mitm)")}
            if exact_opt is not None:
                result.stats["exact_optimum"] = float(exact_opt.error)
    else:
        e = eps if isinstance(eps, Fraction) else Fraction(float(eps))
        if found and result.error <= e:
            result.status = "feasible"
            result.certificate = {"proof": f"subset re-verified exactly within eps={float(e)}"}
        elif exact_opt is not None and exact_opt.error > e:
            result.status = "infeasible"
            result.certificate = {"proof": "exact mitm optimum exceeds eps"}
        elif exact_opt is not None:
            result.certificate = {"reason": "milp found no subset within eps, but the exact "
                                            "mitm optimum is within eps: milp is wrong here"}
            result.stats["exact_optimum"] = float(exact_opt.error)
        else:
            result.certificate = {"reason": f"milp: {res.message}; not verified exactly"}
    return result
