"""The one scheduling loop of bulk work: tasks submitted to any executor with at most
``window`` in flight, results yielded as they finish (``solve_many``, ``approximate``,
``reproduce paper``, the constructions)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any, TypeVar

J = TypeVar("J")


def windowed(executor: Executor, fn: Callable[..., Any], jobs: Sequence[J],
             args: Callable[[J], tuple], window: int) -> Iterator[tuple[J, Any]]:
    """``fn(*args(job))`` for every job on ``executor``, at most ``window`` in flight,
    yielded as ``(job, result)`` in the order they finish; what is still queued is
    cancelled when the consumer stops (an error, Ctrl-C)."""
    pending: dict[Future, J] = {}
    queue = list(reversed(jobs))
    try:
        while queue or pending:
            while queue and len(pending) < max(1, window):
                job = queue.pop()
                pending[executor.submit(fn, *args(job))] = job
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in finished:
                yield pending.pop(fut), fut.result()
    finally:
        for fut in pending:
            fut.cancel()


__all__ = ["windowed"]
