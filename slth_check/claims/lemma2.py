"""Lemma 2 (convolutional layer) and Lemma 1 (its c1 = 1 case) as checked claims.

For a kernel K of the class (entries in [-1, 1], ``||K||_1 <= 1``), ``eps``
and ``n = ceil(C c1 log(d^2 c0 c1 / eps))`` with the calibrated constant C,
seeded U and V are drawn, the construction of the proof is built
(:func:`slth_check.construction.build_layer`) and its error
``sup_{X in [0,1]^{D x D x c0}} ||K*X - g_{T,S}(X)||_max`` is certified exactly
in closed form.  A draw whose error is not below eps is not a violation (the
lemma allows failure with probability eps): its verdict is ``unknown`` and
the failure rate over draws is compared with eps (Clopper-Pearson, 99 %).

Negative controls (expected violations, with minimal witnesses replayed
exactly): signed inputs, entries outside [-1, 1], n far below the formula.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np

from slth_check.certify import exact_error
from slth_check.claims.base import Claim, FigureData, Outcome, category, compare_or_unknown
from slth_check.claims.controls import negative_controls
from slth_check.claims.layer import CALIBRATED_C, build_instance, layer_error
from slth_check.construction import required_n
from slth_check.fileio.networks import networks_from_arrays
from slth_check.network import TargetCNN, class_F_unmet, scale_into_class
from slth_check.proofs import outcome_fields
from slth_check.pruned import PrunedCNN, PrunedLayer

#: Draws of the summary's failure-rate study at eps = 0.2, by profile.
STUDY_DRAWS = {"ci": 50, "dev": 200, "thorough": 1000}


@dataclass
class LayerInstance:
    K: np.ndarray
    eps: float
    seed: int
    C: float = CALIBRATED_C
    n: int | None = None


def layer_hypotheses(K: np.ndarray) -> list[str]:
    """Unmet hypotheses of Lemmas 1-2 on the kernel (:func:`class_F_unmet`)."""
    return class_F_unmet(K)


def clopper_pearson(k: int, N: int, level: float = 0.99) -> tuple[float, float]:
    """Two-sided Clopper-Pearson ("exact") interval for a binomial proportion
    (``scipy.stats.binomtest(k, N).proportion_ci``)."""
    from scipy import stats

    ci = stats.binomtest(int(k), int(N)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


class Lemma2(Claim):
    id = "lemma2"
    c1_choices: tuple[int, ...] = (1, 2, 3)
    statement = ("Lemma 2: with n >= C c1 log(d^2 c0 c1/eps) and U, V i.i.d. Unif([-1,1]), with "
                 "probability >= 1 - eps every K in [-1,1]^{d x d x c0 x c1} with ||K||_1 <= 1 "
                 "has masks S, T with sup_{X in [0,1]} ||K*X - g_{T,S}(X)||_max < eps. "
                 "Checked on the proof's construction, error certified exactly (closed form).")
    hypotheses_text = "entries of K in [-1, 1], ||K||_1 <= 1, X in [0, 1], n from the formula"
    #: The executor of the bulk work, set by :func:`slth_check.runner.run_check` (None:
    #: inline): the runner maps the instances over it, and the summary its study.
    executor: Executor | None = None

    def hypotheses(self, instance: LayerInstance) -> list[str]:
        return layer_hypotheses(instance.K)

    def check(self, instance: LayerInstance) -> Outcome:
        d, _, c0, c1 = instance.K.shape
        n = instance.n or required_n(instance.C, d, c0, c1, 1, instance.eps)
        layer = build_instance(instance.K, n, instance.seed)
        if not layer.linearisable():  # the closed form rests on Eq. 1-2: never assume them
            return Outcome(self.id, "unknown", method="closed-form",
                           detail="the construction kept a non-positive entry of U")
        err, X = layer_error(instance.K, layer)
        eps = Fraction(instance.eps)
        return compare_or_unknown(
            self.id, err, eps, strict=True, method="closed-form",
            detail=f"d={d} c0={c0} c1={c1} n={n} seed={instance.seed}"
            + ("" if err < eps else ": construction failed on this draw "
               "(allowed with probability eps)"),
            extra={"n": n, "failed": err >= eps, "eps": instance.eps})

    def summary(self, outcomes: Sequence[Outcome], rng: np.random.Generator,
                profile: str) -> dict[str, Any]:
        """Failure rates over the instances, and a dedicated study at one eps with enough
        draws for the 99 % Clopper-Pearson upper bound to be able to fall below eps."""
        study_eps, draws = 0.2, STUDY_DRAWS.get(profile, STUDY_DRAWS["ci"])
        todo = []
        for _ in range(draws):
            d, c0 = int(rng.integers(1, 3)), int(rng.integers(1, 3))
            c1 = int(rng.choice(self.c1_choices))
            K = rng.uniform(-1, 1, (d, d, c0, c1))
            K = scale_into_class(K, boundary=True)
            todo.append(LayerInstance(K, study_eps, int(rng.integers(2**31))))
        check = partial(Lemma2.check, type(self)())  # without the executor; in order
        study = (list(self.executor.map(check, todo, chunksize=max(1, draws // 32)))
                 if self.executor is not None else [check(i) for i in todo])
        fs = failure_summary([o for o in outcomes if not o.expected])
        st = failure_summary(study)[str(study_eps)]
        st["confirmed"] = st["cp99"][1] <= study_eps
        lines = ["| draws | eps | failures / draws | 99% Clopper-Pearson | verdict |",
                 "|---|---|---|---|---|"]
        lines += [f"| instances | {e} | {r['failures']}/{r['draws']} | "
                  f"{r['cp99'][0]:.3f}..{r['cp99'][1]:.3f} | {r['verdict']} |"
                  for e, r in fs.items()]
        lines.append(f"| study (d <= 2, c0 <= 2) | {study_eps} | {st['failures']}/{st['draws']}"
                     f" | {st['cp99'][0]:.3f}..{st['cp99'][1]:.3f} | "
                     + ("failure rate <= eps confirmed (upper bound below eps)"
                        if st["confirmed"] else st["verdict"]) + " |")
        return {"failure_rate": fs, "study": st, "C": CALIBRATED_C, "table": "\n".join(lines)}

    def figure_data(self, summary: dict[str, Any],
                    outcomes: Sequence[Outcome]) -> list[FigureData]:
        """The certified sup error of each draw against its n (one panel per eps, eps
        as the bound) and the failure rate over draws against eps."""
        pts = [(o.extra["n"], None if o.observed is None else float(o.observed),
                o.extra["eps"], category(o.verdict, o.expected))
               for o in outcomes if "n" in o.extra]
        return [
            FigureData("error_vs_n", f"{self.id}-error-vs-n",
                       f"Certified sup error of each {self.id} draw against its n, one panel "
                        "per eps: a point on or above the red line eps is a failed draw "
                       "(verdict unknown, allowed with probability eps).", (pts,),
                       {"C": CALIBRATED_C, "title": f"{self.id}: certified error of each draw"}),
            FigureData("failure_rate", f"{self.id}-failure-rate",
                       "Failure rate of the construction over the draws at each eps with its "
                       "99% Clopper-Pearson interval; the lemma allows at most eps (red).",
                       (summary.get("failure_rate", {}),),
                       {"title": f"{self.id}: failure rate against eps"}),
        ]

    def instances(self, rng: np.random.Generator, profile: str) -> Iterator[Any]:
        count = {"ci": 40, "dev": 150, "thorough": 1000}.get(profile, 40)
        for _ in range(count):
            d = int(rng.integers(1, 4))
            c0 = int(rng.integers(1, 3))
            c1 = int(rng.choice(self.c1_choices))
            K = rng.uniform(-1, 1, (d, d, c0, c1))
            K = scale_into_class(K, boundary=True) * (1.0 if rng.random() < 0.7 else rng.random())
            eps = float(rng.choice([0.2, 0.1, 0.05]))
            yield LayerInstance(K, eps, int(rng.integers(2**31)))

    def extra_outcomes(self, rng: np.random.Generator, profile: str) -> Iterator[Outcome]:
        yield Outcome(self.id, **outcome_fields(self.id))  # the deterministic part, all sizes
        yield from negative_controls(self.id, rng)

    def replay(self, arrays: dict, meta: dict) -> Outcome:
        """Replay a negative-control witness: exact error at X vs eps."""
        if "K1" in arrays:  # network_arrays' encoding
            target, pruned = networks_from_arrays(arrays, arrays, arrays, names=("witness",) * 3)
        else:  # witnesses written before 0.2.0 had unnumbered K, U, V, S, T
            pruned = PrunedCNN([PrunedLayer(arrays["U"], arrays["V"], arrays["S"], arrays["T"])])
            target = TargetCNN.from_kernels([arrays["K"]])
        return replay_network(self.id, target, pruned, arrays["X"], meta)


def replay_network(claim: str, target: TargetCNN, pruned: PrunedCNN, X: np.ndarray,
                   meta: dict) -> Outcome:
    """A network witness replayed: ``hypotheses_unmet`` (with the exact error, which shows
    the hypothesis is needed) when it is outside the statement's hypotheses
    (:func:`~slth_check.claims.hypotheses.network_unmet`); else the exact error against
    eps, a failure being ``unknown``: one draw of a statement that holds with
    probability at least 1 - eps cannot refute it."""
    from slth_check.claims.hypotheses import network_unmet

    unmet = network_unmet(target, pruned, X, meta["eps"], float(meta.get("C", CALIBRATED_C)))
    control = meta.get("control", "")
    if unmet:
        err = exact_error(target, pruned, np.asarray(X, dtype=np.float64))
        return Outcome(claim, "hypotheses_unmet", err, None, "exact",
                       detail=f"{control + ': ' if control else ''}hypotheses unmet: "
                       + "; ".join(unmet) + f" (exact error at X: {float(err):.6g})")
    err = exact_error(target, pruned, X)
    return compare_or_unknown(claim, err, Fraction(float(meta["eps"])), strict=True,
                              method="exact", detail=control)


def failure_summary(outcomes: list[Outcome]) -> dict[str, Any]:
    """Failure rate per eps with a 99 % Clopper-Pearson interval, compared with eps."""
    rows: dict[Any, list[int]] = {}  # eps -> [failures, draws]
    for o in outcomes:
        if "failed" not in o.extra:
            continue
        r = rows.setdefault(o.extra["eps"], [0, 0])
        r[0] += int(o.extra["failed"])
        r[1] += 1
    out = {}
    for eps, (k, N) in sorted(rows.items()):
        lo, hi = clopper_pearson(k, N)
        out[str(eps)] = {"failures": k, "draws": N, "rate": k / N, "cp99": [lo, hi],
                         "verdict": "inconsistent" if lo > eps else "consistent"}
    return out


# ------------------------------------------------------------------ negative controls


