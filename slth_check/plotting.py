"""matplotlib set-up shared by every figure (Agg backend, atomic PNG writes)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from .files import atomic_write


def pyplot() -> Any:
    """matplotlib.pyplot with the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, path: Path) -> str:
    """Write a figure as PNG atomically, close it; returns ``figures/<name>``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    pyplot().close(fig)
    atomic_write(path, buf.getvalue())
    return f"figures/{Path(path).name}"
