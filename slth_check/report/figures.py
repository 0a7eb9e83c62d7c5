"""Figures of a report (matplotlib, Agg backend), written atomically as PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..plotting import pyplot, save_png

__all__ = ["pyplot", "save_png", "write_figures"]


def write_figures(report: dict[str, Any], records: list, out_dir: Path) -> list[str]:
    """Per claim the observed/bound distribution (here) and the claim's own figures
    (:meth:`~slth_check.claims.base.Claim.figures`: the RSS gap fit, the certified
    error against n, the calibration of C).  Returns the relative paths written."""
    plt = pyplot()
    fig_dir = Path(out_dir) / "figures"
    written = []
    for rec in records:
        if not rec.ratios:
            continue
        fig, ax = plt.subplots(figsize=(5, 3))
        r = np.asarray(rec.ratios, dtype=float)
        r = r[np.isfinite(r)]
        ax.hist(r, bins=30)
        ax.set_xlabel("observed / bound")
        ax.set_ylabel("instances")
        ax.set_title(f"{rec.claim.id}: tightness")
        fig.tight_layout()
        written.append(save_png(fig, fig_dir / f"{rec.claim.id}-ratios.png"))
    for rec in records:  # each claim draws its own figures from its summary and outcomes
        summary: dict[str, Any] = next((c.get("summary", {}) for c in report["claims"]
                        if c["id"] == rec.claim.id), {})
        written += [path for path, _ in rec.claim.figures(summary, rec.outcomes, fig_dir)]
    return written
