"""Progress bars (tqdm) shown on a terminal, quiet otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def progress_iter(it: Iterable[T], *, desc: str = "", total: int | None = None,
                  enable: bool | None = None) -> Iterable[T]:
    """Wrap ``it`` in a tqdm bar when ``enable`` (default: stderr is a terminal)."""
    if enable is None:
        enable = sys.stderr.isatty()
    if not enable:
        return it
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional
        return it
    return tqdm(it, desc=desc, total=total, leave=False)
