"""A zoo of subset-sum solvers for ``slth-check validate rss``: wrong and correct ones.

Each solver is ``f(values, target)``; ``ZOO`` lists every entry as
``(name, kind, expected verdict, extra command-line flags)``.  ``IMPORT_FAILURES``
holds module sources that fail at import (written to a temporary folder by the
tests).  ``python tests/adversarial/rss_zoo.py [TABLE.md]`` runs the whole zoo
through the command and writes the table (solver | kind | expected | got).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import numpy as np

TIMEOUT_FLAGS = ["--timeout", "5"]
"""A short timeout for the hanging solver (it also covers the worker's start-up, ~2 s
on a loaded machine, so not much shorter)."""
OPT = ["--claims-optimal"]


# -- helpers ---------------------------------------------------------------------------
def _all_sums(values: np.ndarray) -> np.ndarray:
    """The 2**n float64 subset sums; bit i of the index <=> values[i] chosen."""
    sums = np.zeros(1)
    for v in values:
        sums = np.concatenate([sums, sums + v])
    return sums


def _mask(index: int, n: int) -> np.ndarray:
    return np.array([(index >> i) & 1 for i in range(n)], dtype=bool)


def _best(values: np.ndarray, target: float) -> np.ndarray:
    """Brute force in float64: a mask of a subset of least computed error."""
    errors = np.abs(target - _all_sums(np.asarray(values, dtype=np.float64)))
    return _mask(int(np.argmin(errors)), len(values))


def _indices(values: np.ndarray, target: float) -> list[int]:
    return [int(i) for i in np.flatnonzero(_best(values, target))]


# -- correct solvers -------------------------------------------------------------------
def brute_mask(values: np.ndarray, target: float) -> np.ndarray:
    """Correct: a bool ndarray mask."""
    return _best(values, target)


def brute_mask_list(values: np.ndarray, target: float) -> list[bool]:
    """Correct: a list of Python bools."""
    return [bool(b) for b in _best(values, target)]


def brute_tuple(values: np.ndarray, target: float) -> tuple[int, ...]:
    """Correct: a tuple of indices (a 2-tuple when two values are chosen)."""
    return tuple(_indices(values, target))


def brute_tuple_numpy_ints(values: np.ndarray, target: float) -> tuple:
    """Correct: a tuple of NumPy integers (``tuple(np.flatnonzero(mask))``)."""
    return tuple(np.flatnonzero(_best(values, target)))


def brute_set(values: np.ndarray, target: float) -> set[int]:
    """Correct: a set of indices."""
    return set(_indices(values, target))


def brute_frozenset(values: np.ndarray, target: float) -> frozenset[int]:
    """Correct: a frozenset of indices."""
    return frozenset(_indices(values, target))


def brute_pair(values: np.ndarray, target: float) -> tuple[list[int], float]:
    """Correct: an explicit pair ``(indices, reported_sum)``."""
    idx = _indices(values, target)
    return idx, float(sum(values[i] for i in idx))


def brute_tuple_pair(values: np.ndarray, target: float) -> tuple[tuple[int, ...], float]:
    """Correct: ``((i, j, ...), sum)``, a pair whose subset is a tuple."""
    idx = _indices(values, target)
    return tuple(idx), float(np.sum(values[idx]))


def brute_dict(values: np.ndarray, target: float) -> dict[str, Any]:
    """Correct: ``{"subset": mask, "sum": s}``."""
    m = _best(values, target)
    return {"subset": m.tolist(), "sum": float(values[m].sum())}


def np_array_of_list(values: np.ndarray, target: float) -> np.ndarray:
    """Correct: ``np.array(list_of_indices)``, float64 and empty for the empty subset."""
    return np.array(_indices(values, target))


def sorts_a_copy(values: np.ndarray, target: float) -> list[int]:
    """Correct: sorts a copy (not the input) and maps back to the original positions."""
    order = np.argsort(values, kind="stable")
    sorted_values = np.sort(values)
    return sorted(int(order[i]) for i in np.flatnonzero(_best(sorted_values, target)))


def mitm(values: np.ndarray, target: float) -> tuple[np.ndarray, np.float64]:
    """Correct: meet in the middle in float64 (sorted right half, bisection)."""
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    h = n // 2
    left, right = _all_sums(v[:h]), _all_sums(v[h:])
    order = np.argsort(right, kind="stable")
    rs = right[order]
    best, best_err = (0, 0), np.inf
    for i, s in enumerate(left):
        pos = int(np.searchsorted(rs, target - s))
        for p in (pos - 1, pos):
            if 0 <= p < len(rs):
                err = abs(target - (s + rs[p]))
                if err < best_err:
                    best, best_err = (i, int(order[p])), err
    mask = np.concatenate([_mask(best[0], h), _mask(best[1], n - h)])
    idx = np.flatnonzero(mask)
    return idx, np.float64(left[best[0]] + right[best[1]])


# -- wrong solvers ---------------------------------------------------------------------
def one_based(values: np.ndarray, target: float) -> list[int]:
    """Wrong: 1-based indices."""
    return [i + 1 for i in _indices(values, target)]


def wrong_sum(values: np.ndarray, target: float) -> tuple[np.ndarray, float]:
    """Wrong: the right subset with a reported sum off by a relative 1e-9."""
    m = _best(values, target)
    s = float(values[m].sum())
    return m, s + 1e-9 * (1 + abs(s))


def greedy(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong when it claims optimality: largest-first greedy."""
    mask = np.zeros(len(values), bool)
    s = 0.0
    for i in np.argsort(-np.abs(values)):
        if abs(target - s - values[i]) < abs(target - s):
            mask[i] = True
            s += values[i]
    return mask


def second_best(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong when it claims optimality: the second-best subset."""
    errors = np.abs(target - _all_sums(np.asarray(values)))
    return _mask(int(np.argsort(errors, kind="stable")[1]), len(values))


def drops_last(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong when it claims optimality: an off-by-one loop that never uses the last value."""
    m = np.zeros(len(values), bool)
    m[:-1] = _best(values[:-1], target) if len(values) > 1 else m[:-1]
    return m


def sorts_in_place(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong: sorts ``values`` in place and answers in sorted positions."""
    values.sort()
    return _best(values, target)


def hangs(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong: never returns once n >= 3 (run with a small --timeout)."""
    while len(values) >= 3:
        time.sleep(0.05)
    return _best(values, target)


def exits_zero(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong: ``sys.exit(0)`` in the middle of the run."""
    sys.exit(0)


def os_exit_zero(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong: ``os._exit(0)``, the process vanishes with status 0."""
    os._exit(0)


def float_indices(values: np.ndarray, target: float) -> list[float]:
    """Wrong: indices as floats (``[0.0, 2.0]``)."""
    return [float(i) for i in _indices(values, target)] or [0.0]


def duplicate_indices(values: np.ndarray, target: float) -> list[int]:
    """Wrong: repeats an index."""
    idx = _indices(values, target) or [0]
    return idx + [idx[0]]


def zero_one_int_array(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong: a 0/1 integer array meant as a mask (read as indices)."""
    return _best(values, target).astype(np.int64)


def negative_indices(values: np.ndarray, target: float) -> list[int]:
    """Wrong: Python negative indexing (``i - n``)."""
    n = len(values)
    return [i - n for i in _indices(values, target)] or [-1]


def mask_too_long(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong: a mask with one entry too many."""
    return np.append(_best(values, target), False)


def list_pair(values: np.ndarray, target: float) -> list[Any]:
    """Wrong: ``[indices, sum]``, a list (only a tuple makes a pair)."""
    idx = _indices(values, target)
    return [idx, float(np.sum(values[idx]))]


def returns_none(values: np.ndarray, target: float) -> None:
    """Wrong: forgets to return."""
    _best(values, target)


def raises_value_error(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong: raises ValueError (must not read as a usage error) once n >= 2."""
    if len(values) >= 2:
        raise ValueError("not implemented for n >= 2")
    return _best(values, target)


# -- wrong only on a class of instances (issue 18: must be caught at the defaults) --------
def _second(values: np.ndarray, target: float) -> np.ndarray:
    """A subset of the second-least computed error (the best when all errors tie)."""
    errors = np.abs(target - _all_sums(np.asarray(values, dtype=np.float64)))
    order = np.argsort(errors, kind="stable")
    return _mask(int(order[1] if len(order) > 1 else order[0]), len(values))


def claims_target_when_close(values: np.ndarray, target: float) -> tuple[list[int], float]:
    """Wrong: reports the target itself as the sum whenever within 1e-9 of it."""
    idx = _indices(values, target)
    s = float(np.sum(values[idx]))
    return idx, (target if abs(s - target) <= 1e-9 else s)


def second_best_at_16(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong (claims optimal): the second-best subset when n = 16."""
    return _second(values, target) if len(values) == 16 else _best(values, target)


def empty_at_5_11_13(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong (claims optimal): the empty subset when n is 5, 11 or 13."""
    if len(values) in (5, 11, 13):
        return np.zeros(len(values), dtype=bool)
    return _best(values, target)


def second_best_if_positive(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong (claims optimal): second best when every value is positive (n >= 2)."""
    return _second(values, target) if (values > 0).all() else _best(values, target)


def second_best_if_negative(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong (claims optimal): second best when every value is negative (n >= 2)."""
    return _second(values, target) if (values < 0).all() else _best(values, target)


def all_when_zero_target(values: np.ndarray, target: float) -> np.ndarray:
    """Wrong (claims optimal): every value when the target is 0 (the empty set is exact)."""
    if target == 0 and not (values == 0).all():
        return np.ones(len(values), dtype=bool)
    return _best(values, target)


def fsum_pair(values: np.ndarray, target: float) -> tuple[list[int], float]:
    """Correct: the best subset with its correctly rounded sum (math.fsum)."""
    import math

    idx = _indices(values, target)
    return idx, math.fsum(values[idx])


def float32_sums_reported(values: np.ndarray, target: float) -> tuple[list[int], float]:
    """Wrong: reports the subset's sum computed in float32."""
    idx = _indices(values, target)
    return idx, float(np.sum(values[idx].astype(np.float32)))


DEFAULT_RUN = [
    ("claims_target_when_close", "reports the target as its sum within 1e-9", [],
     r"reported sum .* > float64 rounding bound"),
    ("second_best_at_16", "second best at n = 16", OPT, r"claimed optimal"),
    ("empty_at_5_11_13", "empty subset at n = 5, 11, 13", OPT, r"claimed optimal"),
    ("second_best_if_positive", "second best on all-positive values", OPT,
     r"claimed optimal"),
    ("second_best_if_negative", "second best on all-negative values", OPT,
     r"claimed optimal"),
    ("all_when_zero_target", "every value for the zero target", OPT, r"claimed optimal"),
    ("float32_sums_reported", "reported sum computed in float32", [],
     r"reported sum .* > float64 rounding bound"),
]
"""Solvers wrong only on one class of instances, caught at the DEFAULT settings (no
--max-n, --max-examples): (name, kind, extra flags, pattern)."""

DEFAULT_RUN_CORRECT = [("fsum_pair", "(indices, math.fsum sum) pair"),
                       ("brute_mask", "bool ndarray mask")]
"""Correct solvers run at the default settings with --claims-optimal."""


IMPORT_FAILURES = {
    "raises_at_import": "raise RuntimeError('no GPU found')\n\ndef f(values, target):\n"
                        "    return []\n",
    "value_error_at_import": "raise ValueError('bad config')\n\ndef f(values, target):\n"
                             "    return []\n",
    "syntax_error": "def f(values, target:\n    return []\n",
    "exits_at_import": "import sys\nsys.exit(0)\n\ndef f(values, target):\n    return []\n",
}
"""Module sources that fail while being imported (the solver is ``f``)."""

CORRECT = [
    ("brute_mask", "bool ndarray mask"),
    ("brute_tuple", "tuple of indices (2-tuples included)"),
    ("brute_set", "set of indices"),
    ("brute_pair", "(indices, sum) pair"),
    ("mitm", "float64 meet in the middle, (int array, np.float64) pair"),
]
"""Correct solvers, run through the command (a worker process) with --claims-optimal."""

CORRECT_IN_PROCESS = [
    ("brute_mask_list", "list of bools"),
    ("brute_tuple_numpy_ints", "tuple of NumPy ints"),
    ("brute_frozenset", "frozenset of indices"),
    ("brute_tuple_pair", "((i, j), sum) pair"),
    ("brute_dict", "{'subset', 'sum'} dict"),
    ("np_array_of_list", "np.array(indices), float64 when empty"),
    ("sorts_a_copy", "sorts a copy, not its input"),
]
"""More correct answer forms, run in-process through :func:`validate_rss` (each worker
start costs ~1-2 s, mostly importing slth_check; the answer rules do not depend on it)."""

WRONG = [
    ("one_based", "1-based indices", [], r"out of range 0\.\.\d+ .*\(1-based indices\?\)"),
    ("wrong_sum", "reported sum off by 1e-9 relative", [],
     r"reported sum .* > float64 rounding bound"),
    ("greedy", "greedy, claims optimal", OPT, r"claimed optimal, but .* > exact optimum"),
    ("second_best", "second-best subset, claims optimal", OPT,
     r"claimed optimal, but .* > exact optimum"),
    ("drops_last", "off-by-one: never uses the last value, claims optimal", OPT,
     r"claimed optimal, but .* > exact optimum"),
    ("sorts_in_place", "sorts values in place, sorted positions", [],
     r"modified its input values in place"),
    ("hangs", "never returns once n >= 3", TIMEOUT_FLAGS, r"did not return within 5 s"),
    ("exits_zero", "sys.exit(0)", [], r"called sys\.exit\(0\)"),
    ("os_exit_zero", "os._exit(0)", [], r"exited with status 0"),
    ("float_indices", "floats as indices", [], r"is a float, not an integer"),
    ("duplicate_indices", "repeated index", [], r"repeated .* indices must be distinct"),
    ("raises_value_error", "raises ValueError for n >= 2", [],
     r"raised ValueError: not implemented for n >= 2"),
]
"""Wrong solvers run through the command (a worker process):
(name, kind, extra flags, pattern the discrepancy message matches)."""

WRONG_IN_PROCESS = [
    ("zero_one_int_array", "0/1 int array as mask, claims optimal", OPT,
     r"out of range|repeated|claimed optimal"),
    ("negative_indices", "negative indices", [], r"negative index"),
    ("mask_too_long", "mask of length n + 1", [], r"bool mask of length \d+, should be"),
    ("list_pair", "[indices, sum] list, not a tuple", [], r"nested list"),
    ("returns_none", "returns None", [], r"returned None"),
]
"""More wrong answer forms, run in-process through :func:`validate_rss`."""

ZOO_FLAGS = ["--max-n", "10", "--max-examples", "40"]
"""Flags of every zoo run (n <= 10 keeps the brute-force solvers fast)."""


def run_entry(spec: str, flags: list[str]) -> int:
    """Exit code of ``slth-check validate rss --impl SPEC`` with the zoo's flags."""
    from slth_check.cli.main import main

    return main(["validate", "rss", "--impl", spec, *ZOO_FLAGS, *flags])


def run_in_process(name: str, flags: list[str]) -> Any:
    """The :class:`~slth_check.validate.Verdict` of the zoo's solver ``name``, in-process."""
    from slth_check.validate.rss.core import validate_rss

    return validate_rss(globals()[name], claims_optimal="--claims-optimal" in flags,
                        max_n=10, max_examples=40)


def write_table(path: str) -> tuple[int, int, int, int]:
    """Run the whole zoo, write the Markdown table; (caught, wrong, false alarms, correct)."""
    import tempfile
    from contextlib import redirect_stdout
    from io import StringIO
    from pathlib import Path

    here = str(Path(__file__).resolve().parent)
    rows = []
    caught = alarms = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, src in IMPORT_FAILURES.items():
            Path(tmp, f"rss_zoo_{name}.py").write_text(src)
        sys.path[:0] = [here, tmp]
        try:
            entries = ([(f"rss_zoo:{n}", n, k, "discrepancy", f) for n, k, f, _ in WRONG]
                       + [(f"rss_zoo_{n}:f", n, "fails at import", "discrepancy", [])
                          for n in IMPORT_FAILURES]
                       + [(None, n, k + " (in-process)", "discrepancy", f)
                          for n, k, f, _ in WRONG_IN_PROCESS]
                       + [(f"rss_zoo:{n}", n, k, "consistent", OPT) for n, k in CORRECT]
                       + [(None, n, k + " (in-process)", "consistent", OPT)
                          for n, k in CORRECT_IN_PROCESS])
            for spec, name, kind, expected, flags in entries:
                if spec is None:
                    got = run_in_process(name, flags).verdict
                else:
                    with redirect_stdout(StringIO()):
                        rc = run_entry(spec, flags)
                    got = {0: "consistent", 1: "discrepancy"}.get(rc, f"exit {rc}")
                if expected == "discrepancy" and got == expected:
                    caught += 1
                if expected == "consistent" and got != expected:
                    alarms += 1
                rows.append(f"| {name} | {kind} | {expected} | {got} |")
        finally:
            del sys.path[:2]
    n_wrong = len(WRONG) + len(IMPORT_FAILURES) + len(WRONG_IN_PROCESS)
    n_correct = len(CORRECT) + len(CORRECT_IN_PROCESS)
    text = ("| solver | kind | verdict expected | got |\n|---|---|---|---|\n"
            + "\n".join(rows)
            + f"\n\nwrong caught: {caught} of {n_wrong}; false alarms: {alarms} of "
              f"{n_correct} correct\n")
    Path(path).write_text(text)
    return caught, n_wrong, alarms, n_correct


if __name__ == "__main__":
    print(write_table(sys.argv[1] if len(sys.argv) > 1 else "/tmp/rss_zoo_table.md"))
