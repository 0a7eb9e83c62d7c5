"""Random subset sum (RSS): exact and MILP solvers with verified certificates.

The package's public names, re-exported from their modules (the implementation of
the entry points is in :mod:`slth_check.rss.dispatch`)."""

from slth_check.rss.dispatch import (
    BRUTEFORCE_MAX_N,
    METHODS,
    MITM_MAX_N,
    BatchResult,
    RSSResult,
    choose_method,
    chunk_bounds,
    solve,
    solve_chunk,
    solve_many,
)

__all__ = [
    "BRUTEFORCE_MAX_N",
    "METHODS",
    "MITM_MAX_N",
    "BatchResult",
    "RSSResult",
    "chunk_bounds",
    "choose_method",
    "solve",
    "solve_chunk",
    "solve_many",
]
