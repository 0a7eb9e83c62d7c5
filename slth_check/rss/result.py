"""The result types of the RSS solvers."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, get_args

import numpy as np

from slth_check.rss.exact import exact_sum

#: What an RSS result proves (see :class:`RSSResult`).
Status = Literal["optimal", "feasible", "infeasible", "unknown"]
STATUSES: tuple[str, ...] = get_args(Status)


def status_codes(status: np.ndarray) -> np.ndarray:
    """Statuses (strings) as uint8 codes, the index in :data:`STATUSES` (compact transfer
    and storage); ValueError on a string that is no status."""
    status = np.asarray(status)
    codes = np.full(status.shape, 255, dtype=np.uint8)
    for i, name in enumerate(STATUSES):
        codes[status == name] = i
    if np.any(codes == 255):
        bad = status[codes == 255].flat[0]
        raise ValueError(f"status: expected one of {STATUSES}, got {bad!r}")
    return codes


def status_names(codes: np.ndarray) -> np.ndarray:
    """The inverse of :func:`status_codes`: uint8 codes as a ``<U10`` string array."""
    return np.array(STATUSES, dtype="<U10")[np.asarray(codes)]


@dataclass
class RSSResult:
    """One random-subset-sum answer; ``achieved`` and ``error`` are always exact.

    ``achieved`` is the chosen subset's sum recomputed exactly from the float
    values (whatever a solver reported) and ``error = |target - achieved|``.
    ``status``: ``optimal`` (proved: no subset is closer), ``feasible`` (a
    subset, optimality not proved; with ``eps``: within eps), ``infeasible``
    (proved: no subset within eps) or ``unknown``.  ``certificate`` says what
    proves the status.
    """

    mask: np.ndarray
    achieved: Fraction
    error: Fraction
    status: Status
    method: str
    certificate: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mask(cls, values: np.ndarray, target: float, mask: np.ndarray, status: Status,
                  method: str, certificate: dict | None = None,
                  stats: dict | None = None) -> RSSResult:
        if status not in STATUSES:
            raise ValueError(f"status: expected one of {STATUSES}, got {status!r}")
        mask = np.asarray(mask, dtype=bool)
        achieved = exact_sum(values, mask)
        return cls(mask, achieved, abs(Fraction(float(target)) - achieved), status, method,
                   certificate or {}, stats or {})

    def within(self, eps: float) -> bool:
        """Exactly: is the error at most eps?"""
        return self.error <= Fraction(float(eps))


@dataclass
class BatchResult:
    """Results of :func:`slth_check.rss.solve_many`, one row per target."""

    errors: np.ndarray  # float64 (m,), the exact errors rounded to nearest
    masks: np.ndarray  # bool (m, n)
    status: np.ndarray  # str (m,)
    method: str
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def all_optimal(self) -> bool:
        return bool(np.all(self.status == "optimal"))
