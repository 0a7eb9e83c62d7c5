"""Exhaustive search in exact integer arithmetic (n <= 20): the test oracle.

Independent of floating point: the values become integers over a common
power-of-two denominator and all ``2**n`` subset sums are formed exactly.
"""

from __future__ import annotations

import time

import numpy as np

from slth_check.rss.exact import DyadicInstance, mask_from_index
from slth_check.rss.result import RSSResult

BRUTEFORCE_MAX_N = 20


def solve_bruteforce(values: np.ndarray, target: float) -> RSSResult:
    n = values.size
    if n > BRUTEFORCE_MAX_N:
        raise ValueError(f"values: method 'bruteforce' handles n <= {BRUTEFORCE_MAX_N}, "
                         f"got n={n}")
    t0 = time.perf_counter()
    dy = DyadicInstance(values, target)
    sums = np.zeros(1, dtype=object)
    sums[0] = 0
    for v in dy.ints:
        sums = np.concatenate([sums, sums + v])
    errors = np.abs(dy.target - sums)
    best = int(np.argmin(errors))
    return RSSResult.from_mask(values, target, mask_from_index(best, n), "optimal",
                               "bruteforce", {"proof": f"all 2**{n} subsets enumerated exactly"},
                               {"seconds": time.perf_counter() - t0, "subsets": 2**n})
