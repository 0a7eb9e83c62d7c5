"""matplotlib set-up and conventions shared by every figure.

One backend (Agg), one atomic PNG writer, and the conventions that make a figure
readable at a glance: one quantity per axis (an axis label says what is measured
and in which unit), reference lines labelled on the plot itself (eps, the bound,
the calibrated C), one marker and colour per verdict (holds, violated, unknown,
expected violation: a violation on a negative control, where a hypothesis was
dropped on purpose), and configuration labels that name their parameters.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slth_check.fileio.files import atomic_write

__all__ = ["CATEGORIES", "VerdictStyle", "config_label", "plain_log_ticks",
           "pyplot", "reference_line", "save_png"]


def pyplot() -> Any:
    """matplotlib.pyplot with the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, path: Path) -> str:
    """Write a figure as PNG atomically, close it; returns ``figures/<name>``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    pyplot().close(fig)
    atomic_write(path, buf.getvalue())
    return f"figures/{Path(path).name}"


@dataclass(frozen=True)
class VerdictStyle:
    """How one verdict category is drawn (colour-blind safe colours, distinct markers)."""

    label: str
    color: str
    marker: str


#: Verdict categories in the order they are drawn, with their style.  An expected
#: violation is a ``violated`` outcome with ``expected=True`` (a negative control).
CATEGORIES: dict[str, VerdictStyle] = {
    "holds": VerdictStyle("holds", "#1b7837", "o"),
    "unknown": VerdictStyle("unknown", "#e08214", "s"),
    "violated": VerdictStyle("violated", "#d7191c", "X"),
    "expected violation": VerdictStyle("expected violation (negative control)",
                                       "#5e3c99", "^"),
    "hypotheses_unmet": VerdictStyle("hypotheses unmet", "#878787", "."),
}


def reference_line(ax: Any, value: float, text: str, *, color: str = "k",
                   ls: str = "--", vertical: bool = False) -> Any:
    """A labelled reference line: the text is written on the plot next to the line
    (above the right end of a horizontal line, left of the top of a vertical one), so it is
    read without a legend; the line's gid is the text.  Returns the line."""
    if vertical:
        line = ax.axvline(value, color=color, ls=ls, lw=1.2)
        ax.annotate(text, xy=(value, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(-3, -3), textcoords="offset points", ha="right", va="top",
                    fontsize=8, color=color)
    else:
        line = ax.axhline(value, color=color, ls=ls, lw=1.2)
        ax.annotate(text, xy=(1.0, value), xycoords=("axes fraction", "data"),
                    xytext=(-3, 3), textcoords="offset points", ha="right", va="bottom",
                    fontsize=8, color=color)
    line.set_gid(text)  # named for tests and tools; the annotation is what a reader sees
    return line


def config_label(names: Sequence[str], values: Sequence[Any], per_line: int = 2) -> str:
    """``name=value`` pairs, ``per_line`` to a line: e.g. ``d=2, c0=1\\nc1=1, eps=0.1``."""
    pairs = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
             for k, v in zip(names, values)]
    return "\n".join(", ".join(pairs[i:i + per_line]) for i in range(0, len(pairs), per_line))


def plain_log_ticks(ax: Any) -> None:
    """On a log y axis spanning less than two decades, label the ticks as plain numbers
    (``4``, ``40``, not ``4 x 10^0``); wider axes keep matplotlib's powers of ten."""
    from matplotlib.ticker import LogFormatter

    lo, hi = ax.get_ylim()
    if ax.get_yscale() != "log" or lo <= 0 or hi / lo >= 100:
        return
    ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))
