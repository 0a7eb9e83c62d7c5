"""Figures of a report (matplotlib, Agg backend), written atomically as PNG."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from . import atomic_write


def pyplot():
    """matplotlib.pyplot with the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: Path) -> str:
    """Write a figure as PNG atomically, close it; returns ``figures/<name>``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    pyplot().close(fig)
    atomic_write(path, buf.getvalue())
    return f"figures/{path.name}"


def write_figures(report: dict[str, Any], records: list, out_dir: Path) -> list[str]:
    """Per claim the observed/bound distribution, the RSS gap fit, the certified error
    against n, and the calibration of C.  Returns the relative paths written."""
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
    claims = {c["id"]: c for c in report["claims"]}
    study = claims.get("lueker", {}).get("summary", {}).get("study")
    if study:
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, s in study.items():
            n = np.asarray(s["n"], float)
            (pts,) = ax.semilogy(n, s["mean_gap"], "o", label=name)
            f = s["fit"]
            ax.semilogy(n, f["a"] * np.exp(-f["b"] * n), "--", lw=0.8, color=pts.get_color())
        ax.set_xlabel("n")
        ax.set_ylabel("mean subset-sum gap")
        ax.set_title("Theorem 2 (Lueker): gap against n, fitted a exp(-b n)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        written.append(save_png(fig, fig_dir / "rss-gap.png"))
    for cid in ("lemma1", "lemma2"):
        rec = next((r for r in records if r.claim.id == cid), None)
        pts = [(o.extra["n"], float(o.observed)) for o in (rec.outcomes if rec else [])
               if "n" in o.extra and o.observed is not None]
        if pts:
            fig, ax = plt.subplots(figsize=(5, 3))
            n, e = np.array(pts).T
            ax.semilogy(n, np.maximum(e, 1e-300), "o", ms=3)
            ax.set_xlabel("n")
            ax.set_ylabel("certified sup error")
            ax.set_title(f"{cid}: certified error against n")
            fig.tight_layout()
            written.append(save_png(fig, fig_dir / f"{cid}-error-vs-n.png"))
    rows = claims.get("calibration", {}).get("summary", {}).get("rows")
    if rows:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        x = np.arange(len(rows))
        C = np.array([r["C"] for r in rows])
        lo = np.array([r["ci95"][0] for r in rows])
        hi = np.array([min(r["ci95"][1], 1e3) for r in rows])
        ax.errorbar(x, C, yerr=[C - lo, np.maximum(hi - C, 0)], fmt="o")
        ax.set_xticks(x, [f"d{r['d']}c{r['c0']}{r['c1']}e{r['eps']}" for r in rows],
                      rotation=90, fontsize=6)
        ax.set_ylabel("calibrated C (95% CI)")
        ax.set_title("Calibration of the constant C")
        fig.tight_layout()
        written.append(save_png(fig, fig_dir / "calibration.png"))
    return written
