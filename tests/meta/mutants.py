"""Mutants of public components, each with the property file that must catch it.

``MUTANTS[name] = (property file, module, attribute, make)``: ``make(original)``
returns the broken replacement.  Applied by ``mutant_plugin`` in a fresh pytest
process; ``test_mutants.py`` asserts that the property file then fails.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np


def _keeps_nothing(original):
    from slth_check.rss.result import RSSResult

    def solve_entries(problems, method="auto", *, executor=None):
        results = original(problems, method, executor=executor)
        return [RSSResult.from_mask(values, target, np.zeros(values.size, dtype=bool),
                                    r.status, r.method, r.certificate)  # keeps no sample
                for (target, values), r in zip(problems, results)]
    return solve_entries


def _no_flip(original):
    def conv2d_exact(K, X, *, padding="paper", stride=1):
        K = np.asarray(K)
        return original(K[::-1, ::-1], X, padding=padding, stride=stride)  # correlation
    return conv2d_exact


def _second_best(original):
    def solve_mitm(values, target):
        r = original(values, target)
        if r.mask.size == 0:
            return r
        mask = r.mask.copy()
        mask[0] = not mask[0]  # a neighbouring subset, still called optimal
        achieved = sum((Fraction(float(v)) for v in np.asarray(values)[mask]),
                       start=Fraction(0))
        return replace(r, mask=mask, achieved=achieved,
                       error=abs(Fraction(float(target)) - achieved))
    return solve_mitm


def _halved_upper(original):
    def upper_bounds(target, pruned, D):
        out = dict(original(target, pruned, D))
        for key in ("interval_bound", "proof_bound", "entrywise_bound", "linear_bound", "upper"):
            if key in out:
                out[key] = out[key] / 2
        if "proof_bound_exact" in out:
            out["proof_bound_exact"] = out["proof_bound_exact"] / 2
        return out
    return upper_bounds


def _l1_low(original):
    def l1_exact(K):
        return original(K) * Fraction(9, 10)  # 10 % low
    return l1_exact


MUTANTS = {
    "construction-keeps-nothing": ("properties/test_lemma1_lemma2.py",
                                   "slth_check.construction", "solve_entries", _keeps_nothing),
    "exact-conv-without-flip": ("properties/test_definition1.py", "slth_check.conv",
                                "conv2d_exact", _no_flip),
    "solver-second-best": ("properties/test_rss.py", "slth_check.rss.mitm", "solve_mitm",
                           _second_best),
    "upper-bound-halved": ("properties/test_certify.py", "slth_check.certify", "upper_bounds",
                           _halved_upper),
    "l1-ten-percent-low": ("properties/test_proposition1.py", "slth_check.conv", "l1_exact",
                           _l1_low),
}
