"""Theorem 2 (Lueker 1998, Corollary 3.3) as used in the proofs, and the audit of
the constants of Lemma 1's proof (section 4.2, step 3).

Definition 3: the ``[a, b]``-subset-sum gap of ``S`` is the smallest ``eta``
such that every ``z`` in ``[a, b]`` is within ``2 eta`` of a subset sum.
:func:`subset_sum_gap` computes it exactly up to the float rounding of the
``2**n`` sums: the worst ``z`` is ``a``, ``b`` or the midpoint of two
consecutive subset sums.  Theorem 2 says the expected gap on
``[(mu- + xi) n, (mu+ - xi) n]`` decays exponentially in n; the claim fits
``log E[gap] = log a - b n`` (evidence, not proof: verdict unknown).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.claims.base import AuditEntry, Claim, FigureData, Outcome
from slth_check.distributions import PARTIAL_MEANS, sample
from slth_check.rss.exact import subset_sums

XI = Fraction(1, 32)


def subset_sum_gap(values: np.ndarray, a: float, b: float, *,
                   grid: int = 0) -> tuple[float, float | None]:
    """(gap, grid gap): the exact worst z and, if ``grid`` > 0, the worst on a grid."""
    if not a <= b:
        raise ValueError(f"a, b: expected a <= b, got [{a}, {b}]")
    s = np.sort(subset_sums(np.asarray(values, dtype=float)))

    def dist(z: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(s, z)
        lo = s[np.maximum(pos - 1, 0)]
        hi = s[np.minimum(pos, s.size - 1)]
        return np.minimum(np.abs(z - lo), np.abs(z - hi))

    mids = (s[1:] + s[:-1]) / 2
    inside = (mids >= a) & (mids <= b)
    worst = float(dist(np.array([a, b])).max())
    if inside.any():
        worst = max(worst, float(((s[1:] - s[:-1]) / 2)[inside].max()))
    g = float(dist(np.linspace(a, b, grid)).max()) / 2 if grid else None
    return worst / 2, g


def gap_interval(kind: str, n: int) -> tuple[Fraction, Fraction]:
    """Theorem 2's interval ``[(mu- + xi) n, (mu+ - xi) n]`` with xi = 1/32, exactly."""
    mu_minus, mu_plus = PARTIAL_MEANS[kind]
    return (mu_minus + XI) * n, (mu_plus - XI) * n


def fit_decay(ns: np.ndarray, mean_gaps: np.ndarray) -> dict[str, float]:
    """Least-squares fit of ``log mean_gap = log a - b n`` with a 95 % CI on b."""
    from scipy import stats

    res = stats.linregress(ns, np.log(mean_gaps))
    tq = stats.t.ppf(0.975, len(ns) - 2) if len(ns) > 2 else float("nan")
    b = -res.slope
    return {"b": float(b), "b_low": float(b - tq * res.stderr),
            "b_high": float(b + tq * res.stderr),
            "a": float(np.exp(res.intercept)), "r2": float(res.rvalue**2)}


class Lueker(Claim):
    id = "lueker"
    statement = ("Theorem 2 (Lueker 1998, Cor. 3.3): for n i.i.d. bounded summands whose law "
                 "contains a uniform, the expected [(mu-+xi)n, (mu+-xi)n]-subset-sum gap "
                 "decays exponentially in n (xi = 1/32). Fitted empirically.")
    hypotheses_text = "i.i.d. bounded summands; the law contains a uniform (Definition 2)"

    def _study(self, rng: np.random.Generator, profile: str) -> dict[str, Any]:
        reps = {"ci": 40, "dev": 200, "thorough": 1000}.get(profile, 40)
        ns = np.arange(2, 17, 2) if profile == "ci" else np.arange(2, 21, 2)
        out = {}
        studies = [("unif", "theorem2"), ("lemma1", "theorem2"), ("unif", "[-1,1]"),
                   ("lemma1", "[-1,1]")]
        for kind, interval in studies:
            means, grids = [], []
            for n in ns:
                a, b = gap_interval(kind, int(n)) if interval == "theorem2" else (-1, 1)
                gaps = [subset_sum_gap(sample(kind, rng, int(n)), float(a), float(b),
                                       grid=1001) for _ in range(reps)]
                means.append(float(np.mean([g for g, _ in gaps])))
                grids.append(float(np.mean([g for _, g in gaps])))
            fit = fit_decay(ns.astype(float), np.array(means))
            out[f"{kind} on {interval}"] = {"law": kind, "interval": interval,
                                             "n": ns.tolist(), "mean_gap": means,
                                             "mean_grid_gap": grids,
                                             "samples_per_n": reps, "fit": fit}
        return out

    def extra_outcomes(self, rng: np.random.Generator, profile: str) -> Iterator[Outcome]:
        study = self._study(rng, profile)
        for kind, res in study.items():
            f = res["fit"]
            decays = f["b_low"] > 0
            out = Outcome(self.id, "unknown", method="statistical",
                          detail=(f"{kind}: E[gap] ~ {f['a']:.3g} exp(-b n), b = {f['b']:.3f}, "
                                  f"95% CI for b [{f['b_low']:.3f}, {f['b_high']:.3f}], "
                                  f"R^2 {f['r2']:.3f}; "
                                  + ("exponential decay supported (evidence, not proof)"
                                     if decays else "decay NOT supported by the fit at these n"
                                     + (" (Theorem 2 is asymptotic: with xi = 1/32 the interval "
                                        "edge sits within the sqrt(n) fluctuations of the "
                                        "extreme subset sums until n is in the hundreds)"
                                        if "theorem2" in kind else ""))),
                          extra={"proof": True, "study": {kind: res}})  # listed among the notes
            yield out

    def summary(self, outcomes: Sequence[Outcome], rng: np.random.Generator,
                profile: str) -> dict[str, Any]:
        res = {k: v for o in outcomes for k, v in o.extra.get("study", {}).items()}
        if not res:  # summary asked for without this run's outcomes: compute the study
            res = self._study(rng, profile)
        rows = ["| law, interval | n | mean exact gap | mean grid gap (1001 points) |",
                "|---|---|---|---|"]
        for kind, r in res.items():
            for n, g, gg in zip(r["n"], r["mean_gap"], r["mean_grid_gap"]):
                rows.append(f"| {kind} | {n} | {g:.3e} | {gg:.3e} |")
        rows.append("")
        rows.append("theorem2 = [(mu- + 1/32) n, (mu+ - 1/32) n] (Theorem 2 as Lemma 1 uses it); "
                    "[-1,1] = the range Lemma 1 needs.")
        return {"study": res, "table": "\n".join(rows)}

    def figure_data(self, summary: dict[str, Any],
                    outcomes: Sequence[Outcome]) -> list[FigureData]:
        """The mean exact subset-sum gap against n per law and interval, with its fit."""
        return [FigureData(
            "gap_decay", "lueker-gap",
            "Lueker's decay: the mean exact subset-sum gap against n for each law and "
                 "interval, with the fitted a exp(-b n); b > 0 supports the decay (evidence, "
            "not proof).", (summary.get("study") or {},))]

    def audit(self) -> list[AuditEntry]:
        return lemma1_audit()


def lemma1_audit() -> list[AuditEntry]:
    """Exact re-derivation of the constants of Lemma 1's proof, step 3."""
    mu_m, mu_p = PARTIAL_MEANS["lemma1"]
    a, b = gap_interval("lemma1", 32)
    prod_mu = PARTIAL_MEANS["product"]
    return [
        AuditEntry("lemma1", "law of the summands V_t * U+_{i,j,k,t}",
                   "has a density (Definition 2 is stated for densities)",
                   "atom of mass 1/2 at 0 (U+ = 0 when U < 0) plus density -(1/4) log|z| "
                   "on [-1, 1]", "discrepancy",
                   "Definition 2 and Theorem 2 do not apply literally; they apply to the "
                   "non-zero summands (a Binomial(n, 1/2) number of them), which only changes "
                   "the constants of Lemma 1."),
        AuditEntry("lemma1", "density of V_t * U+ on [-1/2, 1/2]", ">= (log 2)/2 ~ 0.3466",
                   "continuous part >= (log 2)/4 ~ 0.1733 (min at |z| = 1/2); (log 2)/2 "
                   "holds for X1*X2 (Lemma 3) and for the summands conditioned on U > 0",
                   "discrepancy",
                   "The summands contain a (log 2)/4-scaled Unif([-1/2,1/2]) in their "
                   "continuous part; only the hidden constants a, b, C change."),
        AuditEntry("lemma1", "mu- = E[1_{X<=0} X] for X = V*U+", "< -1/16 (strict)",
                   f"= {mu_m} exactly (E[V 1{{V<=0}}] E[U | U>0] P(U>0) = -1/4 * 1/2 * 1/2; "
                   f"for X1*X2 it would be {prod_mu[0]})", "discrepancy",
                   "Equality, not strict: with xi = 1/32 the interval is still exactly "
                   "[-n/32, n/32], so the step holds with <= in place of <."),
        AuditEntry("lemma1", "mu+ = E[1_{X>0} X] for X = V*U+", "> 1/16 (strict)",
                   f"= {mu_p} exactly", "discrepancy",
                   "As for mu-: equality; the interval [-n/32, n/32] is unaffected."),
        AuditEntry("lemma1", "xi = 1/32 gives [(mu- + xi) n, (mu+ - xi) n] = [-n/32, n/32]",
                   "[-n/32, n/32]", f"[{a / 32}*n, {b / 32}*n] with the exact mu (n = 32: "
                   f"[{a}, {b}])", "confirmed" if (a, b) == (-1, 1) else "discrepancy",
                   "The RSS interval of Lemma 1's proof is right given the exact means."),
        AuditEntry("lemma1", "[-n/32, n/32] covers [-1, 1] when n >= 32",
                   "n >= 32", "n/32 >= 1 iff n >= 32 (exact)", "confirmed",
                   "Lemma 1 needs n >= 32 for the target range [-1, 1]: C log(d^2 c/eps) "
                   "must be at least 32."),
        AuditEntry("lemma1", "an intermediate bound on mu- involving log 2",
                   "illegible in the extraction ('<= - log2 ...')",
                   f"mu- = {mu_m} exactly (for X1*X2: {prod_mu[0]})", "illegible",
                   "Whatever the intermediate expression, the exact value is -1/16."),
        AuditEntry("lemma1", "C = 2 + (log a)/b", "partly illegible",
                   "a, b are Lueker's unspecified constants; see the fitted decay rate of "
                   "the lueker claim", "illegible",
                   "C is not computable from the paper; slth-check calibrates it empirically."),
    ]
