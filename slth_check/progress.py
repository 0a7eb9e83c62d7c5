"""The one progress bar (tqdm): shown on a terminal, quiet otherwise (CI, pipes)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")


def progress_bar(total: int, *, initial: int = 0, desc: str = "", unit: str = "it",
                 enable: bool | None = None) -> Any:
    """A tqdm bar to ``update(k)`` by hand, or None (not a terminal, or ``enable`` False)."""
    if enable is None:
        enable = sys.stderr.isatty()
    if not enable:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit=unit, unit_scale=True, desc=desc,
                smoothing=0.1, file=sys.stderr)


def progress_iter(it: Iterable[T], *, desc: str = "", total: int | None = None,
                  enable: bool | None = None) -> Iterable[T]:
    """Wrap ``it`` in a tqdm bar when ``enable`` (default: stderr is a terminal)."""
    if enable is None:
        enable = sys.stderr.isatty()
    if not enable:
        return it
    from tqdm import tqdm  # a dependency

    return tqdm(it, desc=desc, total=total, leave=False)


__all__ = ["progress_bar", "progress_iter"]
