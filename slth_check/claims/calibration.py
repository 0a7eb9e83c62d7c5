"""The hidden constant C of Lemmas 1-2 (and Theorem 1), calibrated empirically.

For a configuration (d, c0, c1, eps) and a draw of nested samples
(``n'_max`` per output channel), the construction with the first ``n'``
samples of each block is built for ``n' = 1, 2, ...`` until its exact
certified error (closed form) on a kernel of the class drops below eps; the
draw then *requires* ``C = c1 n' / (c1 log(d^2 c0 c1/eps))``.  The calibrated
C of a configuration is the (1 - eps)-quantile of the required C over draws
(the construction succeeds with probability at least 1 - eps), with a 95 %
order-statistic confidence interval; the reported C is the largest over
configurations.

The sweep is bulk work (:func:`sweep`): one task per (configuration, draw), each
with its own generator seeded by ``(base, d, c0, c1, eps, draw)`` (``base`` drawn
once from the claim's seeded generator, eps in millionths), mapped in order over
the run's executor (``slth-check check --scheduler/--workers``): the rows are
the same whatever the executor, worker count or order of completion.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np

from slth_check.certify import layer_sup_error
from slth_check.claims.base import Claim, FigureData, Outcome
from slth_check.claims.layer import CALIBRATED_C
from slth_check.construction import build_layer
from slth_check.network import scale_into_class

CONFIGS = {
    "ci": [(1, 1, 1, 0.1), (2, 1, 1, 0.1), (2, 2, 1, 0.1), (2, 1, 2, 0.1), (3, 1, 1, 0.2)],
    "dev": [(d, c0, c1, e) for d in (1, 2, 3) for c0 in (1, 2) for c1 in (1, 2)
            for e in (0.2, 0.1)],
    "thorough": [(d, c0, c1, e) for d in (1, 2, 3) for c0 in (1, 2, 3) for c1 in (1, 2, 3)
                 for e in (0.2, 0.1, 0.05)],
}
DRAWS = {"ci": 30, "dev": 60, "thorough": 200}
N1_MAX = 44


def required_C(K: np.ndarray, eps: float, rng: np.random.Generator) -> float:
    """The C one draw of nested samples needs (inf when n' = N1_MAX is not enough)."""
    d, _, c0, c1 = K.shape
    U = rng.uniform(-1, 1, (d, d, c0, c1 * N1_MAX))
    V = rng.uniform(-1, 1, (1, 1, c1 * N1_MAX, c1))
    log_term = math.log(d * d * c0 * c1 / eps)
    for n1 in range(1, N1_MAX + 1):
        cols = np.concatenate([np.arange(l * N1_MAX, l * N1_MAX + n1) for l in range(c1)])
        layer = build_layer(K, U[..., cols], V[:, :, cols, :])
        err, _, _ = layer_sup_error(K, layer.effective_kernel(exact=True), d)
        if err < eps:
            return c1 * n1 / (c1 * log_term)
    return math.inf


def draw_task(task: tuple[int, int, int, int, float, int]) -> float:
    """One (configuration, draw) of the sweep: the C a fresh kernel of the class and fresh
    samples need, from the generator seeded by ``(base, d, c0, c1, eps, draw)``."""
    base, d, c0, c1, eps, draw = task
    rng = np.random.default_rng([base, d, c0, c1, round(eps * 10**6), draw])
    K = scale_into_class(rng.uniform(-1, 1, (d, d, c0, c1)), boundary=True)
    return required_C(K, eps, rng)


def sweep(configs: Sequence[tuple[int, int, int, float]], draws: int, base: int,
          executor: Executor | None = None) -> list[dict[str, Any]]:
    """The calibration rows: per configuration (d, c0, c1, eps) the (1 - eps)-quantile of the
    required C over ``draws`` draws with its 95 % CI, the tasks mapped over ``executor``
    (inline without one); the rows do not depend on it."""
    tasks = [(int(base), d, c0, c1, float(eps), j) for d, c0, c1, eps in configs
             for j in range(draws)]
    if executor is None:
        req = [draw_task(t) for t in tasks]
    else:
        req = list(executor.map(draw_task, tasks, chunksize=max(1, len(tasks) // 32)))
    rows = []
    for k, (d, c0, c1, eps) in enumerate(configs):
        r = np.array(req[k * draws:(k + 1) * draws])
        est, lo, hi = quantile_ci(r, 1 - eps)
        rows.append({"d": d, "c0": c0, "c1": c1, "eps": eps, "C": est, "ci95": [lo, hi],
                     "median_required": float(np.median(r)), "draws": int(r.size)})
    return rows


def quantile_ci(x: np.ndarray, q: float, level: float = 0.95) -> tuple[float, float, float]:
    """Sample q-quantile and a distribution-free order-statistic CI."""
    from scipy import stats

    x = np.sort(x)
    N = x.size
    lo_i = int(stats.binom.ppf((1 - level) / 2, N, q))
    hi_i = int(stats.binom.ppf(1 - (1 - level) / 2, N, q))
    est = float(np.quantile(x, q, method="inverted_cdf"))
    return est, float(x[max(lo_i - 1, 0)]), float(x[min(hi_i, N - 1)])


class Calibration(Claim):
    id = "calibration"
    statement = ("The constant C of Lemmas 1-2: the smallest C with which the construction "
                 "succeeds with probability >= 1 - eps, estimated over draws, d, c0, c1 and eps.")
    hypotheses_text = "kernels of the class with ||K||_1 = 1 (the hardest budget)"
    #: The executor of the sweep, set by :func:`slth_check.runner.run_check` (None: inline).
    executor: Executor | None = None

    def extra_outcomes(self, rng: np.random.Generator, profile: str) -> Iterator[Outcome]:
        rows = sweep(CONFIGS.get(profile, CONFIGS["ci"]), DRAWS.get(profile, 30),
                     int(rng.integers(2**63)), self.executor)
        worst = max(rows, key=lambda r: r["C"])
        out = Outcome(self.id, "unknown", worst["C"], CALIBRATED_C, method="statistical",
                      detail=(f"calibrated C = {worst['C']:.3f} (95% CI {worst['ci95'][0]:.3f}"
                              f"..{worst['ci95'][1]:.3f}) at d={worst['d']} c0={worst['c0']} "
                              f"c1={worst['c1']} eps={worst['eps']}; default CALIBRATED_C = "
                              f"{CALIBRATED_C} "
                              + ("covers it" if worst["C"] <= CALIBRATED_C else
                                 "is BELOW it: raise CALIBRATED_C")),
                      extra={"proof": True, "rows": rows})
        yield out

    def figure_data(self, summary: dict[str, Any],
                    outcomes: Sequence[Outcome]) -> list[FigureData]:
        """Per configuration (d, c0, c1, eps) the calibrated C with its 95 % CI, and the
        default ``CALIBRATED_C`` as a labelled line."""
        return [FigureData(
            "calibration", "calibration",
            f"The C each configuration (d, c0, c1, eps) needs, with its 95% confidence "
                 f"interval; every point below the red line C = {CALIBRATED_C:g} is covered "
            f"by the library's default.",
            (summary.get("rows") or [],), {"C": CALIBRATED_C, "n_max": N1_MAX})]

    def summary(self, outcomes: Sequence[Outcome], rng: np.random.Generator,
                profile: str) -> dict[str, Any]:
        rows = [r for o in outcomes for r in o.extra.get("rows", [])]
        lines = ["| d | c0 | c1 | eps | calibrated C | 95% CI | median required C |",
                 "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['d']} | {r['c0']} | {r['c1']} | {r['eps']} | {r['C']:.3f} | "
                  f"{r['ci95'][0]:.3f}..{r['ci95'][1]:.3f} | {r['median_required']:.3f} |"
                  for r in rows]
        return {"rows": rows, "table": "\n".join(lines)}
