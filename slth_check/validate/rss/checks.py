"""The checks of a normalised RSS answer, decided exactly: the reported sum against the
exact sum of the returned subset within the proven tolerance ``gamma_n sum |v_i|`` only, and
(``claims_optimal``) the subset's exact error against the exact optimum (meet in the
middle) within ``2 gamma_n (|t| + sum |v_i|)``."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from slth_check.validate.rss.answers import Answer, resolve


def _abs_sum(values: np.ndarray) -> Fraction:
    return sum((abs(Fraction(float(v))) for v in values), start=Fraction(0))


def sum_tolerance(values: np.ndarray) -> Fraction:
    """``T_sum = gamma_n sum |v_i|``: the largest error of a float64 subset sum (module docs)."""
    from slth_check.arithmetic import gamma

    return gamma(max(int(np.asarray(values).size), 1)) * _abs_sum(values)


def optimality_slack(values: np.ndarray, target: float) -> Fraction:
    """``2 gamma_n (|t| + sum |v_i|)``: the error gap no float64 solver can be blamed for."""
    from slth_check.arithmetic import gamma

    n = max(int(np.asarray(values).size), 1)
    return 2 * gamma(n) * (abs(Fraction(float(target))) + _abs_sum(values))


def check_result(values: np.ndarray, target: float, answer: Answer,
                 claims_optimal: bool) -> str | None:
    """The problem with a normalised answer on one instance, or None (exact comparisons)."""
    from slth_check.rss.exact import exact_sum

    mask, problem = resolve(answer, values.size)
    if problem:
        return problem
    assert mask is not None
    s = exact_sum(values, mask)
    if answer.reported is not None:
        tol = sum_tolerance(values)
        diff = abs(answer.reported - s)
        if diff > tol:
            return (f"reported sum {float(answer.reported)!r} but the subset "
                    f"{np.flatnonzero(mask).tolist()} sums to {float(s)!r} (difference "
                    f"{float(diff):.3g} > float64 rounding bound {float(tol):.3g})")
    if claims_optimal:
        from slth_check.rss import solve

        opt = solve(values, float(target), method="mitm")
        if opt.status != "optimal":  # pragma: no cover - mitm is exact for n <= 44
            raise RuntimeError(f"internal: mitm returned status {opt.status!r}")
        err = abs(Fraction(float(target)) - s)
        slack = optimality_slack(values, target)
        if err > opt.error + slack:
            return (f"claimed optimal, but the subset {np.flatnonzero(mask).tolist()} has "
                    f"error {float(err):.17g} > exact optimum {float(opt.error):.17g} "
                    f"(subset {np.flatnonzero(opt.mask).tolist()}; float64 slack "
                    f"{float(slack):.3g})")
    return None


__all__ = ["check_result", "optimality_slack", "sum_tolerance"]
