"""The search for a failing case of ``validate conv2d``: the grid first, then the random
cases from the run's seed; a failure is sparsified (every entry that can be zeroed is)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis.errors import NoSuchExample

from slth_check.validate.conv2d.case import Case, Problem
from slth_check.validate.conv2d.generation import Limits, conv_cases
from slth_check.validate.conv2d.grid import conv_grid
from slth_check.validate.determinism import seeded_find

#: Calls of the implementation allowed for shrinking a failure (bounds the run time;
#: the counterexample is then the smallest found within them).
SHRINK_CALLS = 200


def case_key(case: tuple[np.ndarray, np.ndarray]) -> tuple:
    K, X = case
    return (K.shape, K.tobytes(), X.shape, X.tobytes())


@dataclass
class Search:
    """The state of the search for a minimal failing case."""

    case: Case
    problems: dict[tuple, tuple[tuple[np.ndarray, np.ndarray], Problem]] = field(
        default_factory=dict)
    fatal: tuple | None = None
    best: tuple | None = None
    calls: int = 0

    def mismatch(self, case: tuple[np.ndarray, np.ndarray]) -> bool:
        key = case_key(case)
        if self.fatal is not None:  # no shrinking after a hang/exit/crash: each try
            return key == self.fatal  # could cost the timeout
        if self.best is not None:
            self.calls += 1
            if self.calls > SHRINK_CALLS:  # keep the smallest failure found so far
                return key == self.best
        prob = self.case.evaluate(case)
        if prob is None:
            return False
        self.problems[key] = (case, prob)
        self.best = key  # the shrinker only tries cases smaller than its best
        if prob.fatal:
            self.fatal = key
        return True


def sparsify(search: Search, found: tuple[np.ndarray, np.ndarray]
              ) -> tuple[np.ndarray, np.ndarray]:
    """Zero the entries of K, then of X, one at a time, keeping every zero after which
    the case still fails (at most :data:`SHRINK_CALLS` calls).

    Hypothesis's shrinker may stop at a local minimum that depends on the
    generated cases; this deterministic pass makes the counterexample sparse
    (one non-zero kernel entry for a kernel that is not flipped).  A call that
    hangs, exits or crashes ends the pass (each could cost the timeout).
    """
    K, X = (np.array(a, copy=True) for a in found)
    budget, changed = SHRINK_CALLS, True
    while changed and budget > 0:
        changed = False
        for arr in (K, X):
            for idx in zip(*np.nonzero(arr)):
                if budget <= 0:
                    break
                old, arr[idx] = arr[idx], 0
                budget -= 1
                prob = search.case.evaluate((K, X))
                if prob is None or prob.fatal:
                    arr[idx] = old
                    if prob is not None:
                        return found
                    continue
                search.problems[case_key((K, X))] = ((K.copy(), X.copy()), prob)
                changed = True
    return K, X


def find_failure(case: Case, lim: Limits, seed: int
          ) -> tuple[tuple[np.ndarray, np.ndarray], Problem] | None:
    """A minimal failing case and its problem, or None when every case agreed: the grid
    first (:func:`conv_grid`, sparsified on failure), then the random cases from
    ``seed``."""
    search = Search(case)
    for _label, K, X in grid_cases(case.padding, case.p.name, lim):
        if search.mismatch((K, X)):
            return settle(case, search, (K, X))
    strategy = conv_cases(case.padding, precision=case.p.name, **lim.shapes())
    try:
        found = seeded_find(strategy, search.mismatch, lim.max_examples, seed)
    except NoSuchExample:
        return None
    except Exception:  # e.g. Flaky: a non-deterministic implementation
        if not search.problems:
            raise
        found = min((c for c, _ in search.problems.values()),
                    key=lambda c: (c[0].size + c[1].size))
    return settle(case, search, found)


def grid_cases(padding: str, precision: str, lim: Limits
               ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The grid of a run (:func:`conv_grid` within the run's limits)."""
    return conv_grid(padding, precision=precision, max_d=lim.max_d, max_D=lim.max_D,
                     max_channels=lim.max_channels, max_batch=lim.max_batch,
                     max_abs=lim.max_abs)


def settle(case: Case, search: Search, found: tuple[np.ndarray, np.ndarray]
            ) -> tuple[tuple[np.ndarray, np.ndarray], Problem]:
    """The failing case sparsified (unless fatal) with its problem."""
    if search.fatal is None:
        found = sparsify(search, found)
    key = case_key(found)
    prob = search.problems[key][1] if key in search.problems else case.evaluate(found)
    if prob is None:  # pragma: no cover - flaky user code passing on replay
        prob = Problem("the implementation is not deterministic: it failed this case once")
    return found, prob


__all__ = ["SHRINK_CALLS", "Search", "case_key", "find_failure", "grid_cases", "settle", "sparsify"]
