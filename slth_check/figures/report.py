"""Figures of a report (matplotlib, Agg backend), written atomically as PNG.

Per claim one tightness figure (:func:`tightness_figure`: observed / bound per
instance, one row per verdict, the bound drawn at ratio 1) and the claim's own
figures (:meth:`~slth_check.claims.base.Claim.figures`).  Every figure comes with
a caption, the sentence it supports; :func:`write_figures` stores the
``(path, caption)`` pairs in the claim's report entry under ``"figures"`` so the
Markdown and HTML reports show each figure beside its sentence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.claims.base import Claim, FigureData, Outcome, category
from slth_check.figures import claims as claim_figures
from slth_check.figures.common import CATEGORIES, pyplot, reference_line, save_png

__all__ = ["RATIO_MEANING", "attach_figures", "draw_claim_figures", "draw_record_figures",
           "pyplot", "save_png", "submit_figures", "tightness_figure", "write_figures"]

#: What ``observed / bound`` measures for each built-in claim (the x axis label).
RATIO_MEANING: dict[str, str] = {
    "definition1": "float64 conv error / proven rounding bound (worst entry)",
    "proposition1": "||K*X||_max / (||K||_1 ||X||_max)",
    "rss": "milp error / exact optimal error",
    "lemma1": "certified sup error / eps",
    "lemma2": "certified sup error / eps",
    "theorem1": "certified upper bound on sup error / eps",
    "calibration": "calibrated C / CALIBRATED_C",
}


def _row(o: Outcome) -> str:
    """The figure row of an outcome: its verdict category, with the outcomes listed in
    the report's notes (``extra["proof"]``: a proof, a step inside a proof or a study,
    not an instance of the statement) in rows of their own."""
    cat = category(o.verdict, o.expected)
    return f"{cat}|proof" if o.extra.get("proof") else cat


def _points(outcomes: Sequence[Outcome]) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Ratios per figure row, and per row the outcomes without a ratio."""
    keys = [f"{k}{p}" for p in ("", "|proof") for k in CATEGORIES]
    pts: dict[str, list[float]] = {k: [] for k in keys}
    missing: dict[str, int] = {k: 0 for k in keys}
    for o in outcomes:
        row = _row(o)
        r = o.ratio
        if r is None or not math.isfinite(r):
            missing[row] += 1
        else:
            pts[row].append(r)
    return pts, missing


def tightness_figure(claim_id: str, outcomes: Sequence[Outcome]) -> Any | None:
    """Observed / bound of each outcome, one row per verdict (holds, unknown, violated,
    expected violation; the notes in rows of their own), with the bound at ratio 1
    as a labelled line; x on a log scale when the ratios span more than two decades
    (a ratio 0 is then drawn at the left edge as a left-pointing triangle).  Outcomes
    without a ratio are counted in a note under the axis.  None when no outcome has
    a ratio or only one."""
    pts, missing = _points(outcomes)
    rows = [k for k in pts if pts[k]]
    if sum(len(pts[k]) for k in rows) < 2:  # one point says nothing the table does not
        return None
    allr = np.array([r for k in rows for r in pts[k]], dtype=float)
    pos = allr[allr > 0]
    log = pos.size > 0 and (pos.max() / pos.min() > 100 or pos.max() < 0.01)
    floor = 10 ** math.floor(math.log10(pos.min()) - 1) if log else 0.0
    fig, ax = pyplot().subplots(figsize=(7.5, 1.5 + 0.5 * len(rows)))
    rng = np.random.default_rng(0)  # fixed jitter: the same report draws the same figure
    for y, row in enumerate(rows):
        st = CATEGORIES[row.partition("|")[0]]
        r = np.asarray(pts[row], dtype=float)
        if log:
            r = np.where(r > 0, r, floor)
        ax.scatter(r, y + rng.uniform(-0.18, 0.18, r.size), color=st.color, s=22, alpha=0.8,
                   linewidths=0, marker=st.marker)
    if log:
        zeros = int((allr <= 0).sum())
        if zeros:  # drawn over the row marker at the floor: a left triangle says "0"
            ax.annotate(f"{zeros} at ratio 0 (left edge)", xy=(0.0, 0.0),
                        xycoords="axes fraction", xytext=(2, 2), textcoords="offset points",
                        fontsize=7, color="#444")
        ax.set_xscale("log")
        ax.set_xlim(floor / 3, max(3.0, float(allr.max()) * 3))
    else:
        ax.set_xlim(0, max(1.15, float(allr.max()) * 1.1))
    reference_line(ax, 1.0, "bound (ratio 1)", color="#d7191c", vertical=True)
    ax.set_yticks(range(len(rows)), [_row_label(k, len(pts[k])) for k in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.4, -0.6)
    ax.set_xlabel(_xlabel(claim_id, any("|" in k for k in rows), log), fontsize=8)
    ax.set_title(f"{claim_id}: how close each outcome comes to its bound", fontsize=10)
    note = ", ".join(f"{n} {_row_label(k)}" for k, n in missing.items() if n)
    if note:
        fig.text(0.01, 0.01, f"not drawn (no observed / bound): {note}", fontsize=7,
                 color="#444", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.06 if note else 0, 1, 1))
    return fig


def _xlabel(claim_id: str, proof_rows: bool, log: bool) -> str:
    text = "observed / bound: " + RATIO_MEANING.get(claim_id, "as stated by the claim")
    if proof_rows:
        text += ("\n(rows 'in the notes': the claim's proof steps and studies, each against "
                 "its own bound)")
    return text + (" (log scale)" if log else "")


def _row_label(row: str, shown: int | None = None) -> str:
    cat, _, proof = row.partition("|")
    text = CATEGORIES[cat].label + (" (in the notes)" if proof else "")
    return text if shown is None else f"{text}: {shown}"


def _caption(claim_id: str, outcomes: Sequence[Outcome]) -> str:
    pts, _ = _points(outcomes)
    decided = [r for k in ("holds", "violated", "holds|proof", "violated|proof")
               for r in pts[k]]
    text = (f"How close each {claim_id} outcome comes to its bound (observed / bound, one "
            f"row per verdict); right of the red line at 1 the bound is exceeded.")
    if decided:
        text += (f" Over the outcomes that hold or are violated the worst ratio is "
                 f"{max(decided):.3g}; {sum(r > 1 for r in decided)} exceed 1.")
    return text


def _draw_specs(specs: Sequence[FigureData], fig_dir: Path) -> list[tuple[str, str]]:
    """Draw figure specs into ``fig_dir``; ``(path, caption)`` pairs, empty figures left out."""
    pairs = []
    for spec in specs:
        fig = claim_figures.DRAWERS[spec.kind](*spec.args, **spec.kwargs)
        if fig is not None:
            pairs.append((save_png(fig, Path(fig_dir) / f"{spec.name}.png"), spec.caption))
    return pairs


def draw_claim_figures(claim: Claim, summary: dict[str, Any], outcomes: Sequence[Outcome],
                       fig_dir: Path) -> list[tuple[str, str]]:
    """Draw a claim's own figures from its :meth:`~slth_check.claims.base.Claim.figure_data`
    into ``fig_dir``; returns ``(path, caption)`` pairs (paths relative to the report
    folder).  A figure with nothing to draw is left out."""
    return _draw_specs(claim.figure_data(summary, outcomes), fig_dir)


def draw_record_figures(claim_id: str, outcomes: Sequence[Outcome],
                        specs: Sequence[FigureData], fig_dir: Path) -> list[tuple[str, str]]:
    """All figures of one claim: its tightness figure, then its own ``specs`` (data only, so
    the task can run in a worker process); ``(path, caption)`` pairs."""
    pairs: list[tuple[str, str]] = []
    fig = tightness_figure(claim_id, outcomes)
    if fig is not None:
        pairs.append((save_png(fig, Path(fig_dir) / f"{claim_id}-ratios.png"),
                      _caption(claim_id, outcomes)))
    return pairs + _draw_specs(specs, fig_dir)


def submit_figures(executor: Executor | None, claim: Claim, summary: dict[str, Any],
                   outcomes: Sequence[Outcome], fig_dir: Path) -> Future:
    """Start drawing one claim's figures: on ``executor`` (a process pool, so the drawing
    overlaps the next claims' work), or inline with ``None``.  The figure specs are
    computed here, in the calling process; the future's result is
    :func:`draw_record_figures`'s pairs (the same files whichever runs it)."""
    specs = claim.figure_data(summary, outcomes)
    if executor is not None:
        return executor.submit(draw_record_figures, claim.id, list(outcomes), specs,
                               Path(fig_dir))
    done: Future = Future()
    done.set_result(draw_record_figures(claim.id, outcomes, specs, fig_dir))
    return done


def attach_figures(report: dict[str, Any], drawn: dict[str, Future]) -> list[str]:
    """Wait for each claim's drawing (``claim id -> future`` of :func:`submit_figures`), in
    the report's claim order; each claim's entry gets ``"figures": [{"path", "caption"}]``.
    Returns the relative paths written (``report["figures"]``)."""
    written: list[str] = []
    for entry in report["claims"]:
        if entry["id"] not in drawn:
            continue
        pairs = drawn[entry["id"]].result()
        entry["figures"] = [{"path": p, "caption": c} for p, c in pairs]
        written += [p for p, _ in pairs]
    return written


def write_figures(report: dict[str, Any], records: list, out_dir: Path) -> list[str]:
    """Per claim the tightness figure and the claim's own figures (the RSS gap fit, the
    certified error against n, the calibration of C), drawn inline; each claim's entry of
    ``report["claims"]`` gets ``"figures": [{"path", "caption"}]``.  Returns the
    relative paths written (``report["figures"]``)."""
    fig_dir = Path(out_dir) / "figures"
    entries = {c["id"]: c for c in report["claims"]}
    drawn = {rec.claim.id: submit_figures(None, rec.claim,
                                          entries.get(rec.claim.id, {}).get("summary", {}),
                                          rec.outcomes, fig_dir) for rec in records}
    return attach_figures(report, drawn)
