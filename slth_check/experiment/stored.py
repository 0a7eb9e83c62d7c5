"""The authors' stored RSS results against exact subset sums (the reproduction's check of
their Figure 3 data): a two-sample KS test of the error distributions and a Fisher test of
the fraction of exact zeros, with the verdict the p-values call for."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats


def verdict_from(p_values: list[float]) -> str:
    if min(p_values) < 0.001:
        return "inconsistent"
    if min(p_values) >= 0.01:
        return "consistent"
    return "undetermined"


def compare_stored(ds: str, n: int, auth_err: np.ndarray, e_ours: np.ndarray) -> dict[str, Any]:
    """The stored errors of dataset ``ds`` at sample size ``n`` against ``e_ours``, the
    exact-optimal errors of fresh draws (float32-rounded): statistics and verdict."""
    ks = stats.ks_2samp(auth_err, e_ours)
    z_auth, z_ours = int(np.sum(auth_err == 0)), int(np.sum(e_ours == 0))
    table = [[z_auth, auth_err.size - z_auth], [z_ours, e_ours.size - z_ours]]
    fisher = stats.fisher_exact(table)
    verdict = verdict_from([float(ks.pvalue), float(fisher.pvalue)])
    ratio = float(np.median(auth_err) / np.median(e_ours)) if np.median(e_ours) > 0 \
        else float("inf") if np.median(auth_err) > 0 else 1.0
    too_good = z_auth / auth_err.size > z_ours / e_ours.size and fisher.pvalue < 0.001
    note = (" The stored errors are smaller than exact subset sums of n Unif([-1,1]) "
            "numbers can achieve: no choice of samples explains them; a MIP solution "
            "whose binaries are fractional within the solver's integrality tolerance "
            "would (a hypothesis: the samples were not saved)." if too_good else "")
    return {
        "dataset": ds, "n": n, "verdict": verdict, "statistic": float(ks.statistic),
        "p_value": float(ks.pvalue),
        "detail": (f"KS D = {ks.statistic:.3g} (p = {ks.pvalue:.2g}) between the "
                   f"{auth_err.size} stored errors and {e_ours.size} exact-optimal "
                   f"errors (float32-rounded); exact zeros: stored "
                   f"{z_auth / auth_err.size:.3f}, exact optimum "
                   f"{z_ours / e_ours.size:.3f} (Fisher p = {fisher.pvalue:.2g}); "
                   f"median stored / exact-optimal error = {ratio:.3g}." + note),
        "zero_fraction_stored": z_auth / auth_err.size,
        "zero_fraction_exact": z_ours / e_ours.size, "fisher_p_value":
        float(fisher.pvalue), "median_error_ratio": ratio}


__all__ = ["compare_stored", "verdict_from"]
