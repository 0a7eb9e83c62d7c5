"""The claims' own figures, drawn from plain data (the claims extract it from their
outcomes and summaries; see ``Claim.figures``).

* :func:`error_vs_n` (Lemmas 1-2): the certified sup error of each draw against n,
  one panel per eps with eps drawn as the bound;
* :func:`failure_rate` (Lemmas 1-2): the failure rate over draws with its 99 %
  Clopper-Pearson interval against the allowed rate eps;
* :func:`calibration`: the C each configuration (d, c0, c1, eps) needs with its
  95 % CI (a forest plot, one row per configuration), the calibrated C of the
  library (``CALIBRATED_C``) as a labelled line;
* :func:`error_bracket` (Theorem 1): per instance the certified bracket
  [exact lower bound, certified upper bound] of the sup error, with its eps;
* :func:`gap_decay` (Theorem 2): the mean exact subset-sum gap against n with the
  fitted exponential.

Each returns a matplotlib figure (the caller saves it with
:func:`slth_check.figures.common.save_png`); every axis carries one quantity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from slth_check.figures.common import CATEGORIES, config_label, pyplot, reference_line

__all__ = ["calibration", "error_bracket", "error_vs_n", "failure_rate", "gap_decay"]

FAILED = "unknown: failed draw"
#: One error-vs-n point: (n, certified sup error or None, eps, verdict category).
Point = tuple[int, "float | None", float, str]


def error_vs_n(points: Sequence[Point], *, C: float, title: str) -> Any | None:
    """Certified sup error (absolute, log scale) against n, one panel per eps: eps as
    the bound line, holds and unknown (a failed draw, allowed with probability eps)
    drawn with their own marker; an error exactly 0 as a down triangle at the bottom."""
    eps_values = sorted({p[2] for p in points})
    if not eps_values:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(eps_values), figsize=(3.2 * len(eps_values) + 0.6, 3.6),
                             sharey=True, squeeze=False)
    errs = [p[1] for p in points if p[1] is not None and p[1] > 0]
    lo = 10 ** math.floor(math.log10(min(errs)) - 1) if errs else 1e-12
    hi = 8 * max(max(errs, default=0.0), max(eps_values))
    for ax, eps in zip(axes[0], eps_values):
        mine = [p for p in points if p[2] == eps]
        for cat in ("holds", "unknown", "violated"):
            st = CATEGORIES[cat]
            sel = [(n, e) for n, e, _, c in mine if c == cat and e is not None]
            if not sel:
                continue
            n = np.array([s[0] for s in sel], float)
            e = np.array([s[1] for s in sel], float)
            ax.scatter(n[e > 0], e[e > 0], marker=st.marker, color=st.color, s=20,
                       label=f"{FAILED if cat == 'unknown' else st.label} ({len(sel)})")
            if (e <= 0).any():
                ax.scatter(n[e <= 0], np.full(int((e <= 0).sum()), lo), marker="v",
                           color=st.color, s=20)
        no_value = sum(1 for p in mine if p[1] is None)
        reference_line(ax, eps, f"bound eps = {eps:g}", color="#d7191c")
        ax.set_yscale("log")
        ax.set_ylim(lo / 2, hi)
        ax.set_title(f"eps = {eps:g}" + (f" ({no_value} without a value)" if no_value else ""),
                     fontsize=9)
        ax.legend(fontsize=7, loc="center right")
    axes[0][0].set_ylabel("certified sup_X ||K*X - g(X)||_max\n(absolute error, log scale)",
                          fontsize=8)
    fig.supxlabel(f"n (number of samples; n = ceil(C c1 log(d^2 c0 c1/eps)) with C = {C:g})",
                  fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def failure_rate(rows: dict[str, dict[str, Any]], *, title: str) -> Any | None:
    """Per eps the observed failure rate (failures / draws) with its 99 % Clopper-Pearson
    interval, and the allowed rate eps as a short line at each eps."""
    if not rows:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    keys = sorted(rows, key=float)
    x = np.arange(len(keys))
    rate = np.array([rows[k]["rate"] for k in keys])
    lo = np.array([rows[k]["cp99"][0] for k in keys])
    hi = np.array([rows[k]["cp99"][1] for k in keys])
    ax.errorbar(x, rate, yerr=[rate - lo, hi - rate], fmt="o", color="#1b7837", capsize=4,
                label="failure rate, 99% Clopper-Pearson")
    for i, k in enumerate(keys):
        ax.hlines(float(k), i - 0.3, i + 0.3, color="#d7191c", lw=2,
                  label="allowed: eps" if i == 0 else None)
    ax.set_xticks(x, [f"eps={float(k):g}\n{rows[k]['failures']}/{rows[k]['draws']} failed"
                      for k in keys], fontsize=8)
    ax.set_xlim(-0.6, len(keys) - 0.4)
    ax.set_ylim(-0.02, max(1.15 * float(hi.max()), 1.15 * max(float(k) for k in keys)))
    ax.set_ylabel("failure rate (fraction of draws)", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def calibration(rows: Sequence[dict[str, Any]], *, C: float, n_max: int) -> Any | None:
    """A forest plot: one row per configuration (d, c0, c1, eps), the calibrated C with
    its 95 % CI along x, the library's C as a labelled vertical line.  A C (or CI end)
    that is infinite (n' = ``n_max`` samples per output channel were not enough on too
    many draws) is drawn as a right arrow at the edge."""
    if not rows:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.8, 1.5 + 0.24 * len(rows)))
    y = np.arange(len(rows))
    est = np.array([r["C"] for r in rows], float)
    lo = np.array([r["ci95"][0] for r in rows], float)
    hi = np.array([r["ci95"][1] for r in rows], float)
    vals = np.r_[est, lo, hi]
    edge = 1.25 * max(C, float(vals[np.isfinite(vals)].max(initial=0.0)))
    ok = np.isfinite(est)
    ax.hlines(y, lo, np.where(np.isfinite(hi), hi, edge), color="#1b7837", lw=1.5,
              label="95% CI")
    ax.plot(est[ok], y[ok], "o", color="#1b7837", label="calibrated C")
    off = ~ok | ~np.isfinite(hi)
    if off.any():
        ax.plot(np.full(int(off.sum()), edge), y[off], ">", color="#d7191c",
                label=f"infinite (n' = {n_max} samples not enough)")
    ax.axvline(C, color="#d7191c", ls="--", lw=1.2, gid=f"C = {C:g}")
    ax.annotate(f"C = {C:g}\n(CALIBRATED_C)", xy=(C, 1.0), xycoords=("data", "axes fraction"),
                xytext=(3, 2), textcoords="offset points", ha="left", va="bottom",
                fontsize=8, color="#d7191c")
    ax.set_yticks(y, [config_label(("d", "c0", "c1", "eps"),
                                   (r["d"], r["c0"], r["c1"], r["eps"]), per_line=4)
                      for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, edge * 1.04)
    ax.set_ylabel("configuration", fontsize=8)
    ax.set_xlabel("C needed: (1 - eps)-quantile over draws of n' / log(d^2 c0 c1 / eps)",
                  fontsize=8)
    ax.set_title("Calibration of the constant C of Lemmas 1-2", fontsize=10, pad=22)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def error_bracket(items: Sequence[tuple[str, float, float, float, str]], *,
                  title: str) -> Any | None:
    """Per instance ``(label, lower, upper, eps, category)`` the sup error's bracket
    (absolute, log scale: a segment from the exact lower bound to the certified upper
    bound, a marker of the verdict's style at the upper end) and its eps as a red tick;
    the instance holds when the whole bracket lies below its eps.  A lower bound 0 is
    drawn from the bottom edge."""
    if not items:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(items) + 1.8), 4.0))
    pos = [v for it in items for v in (it[1], it[2], it[3]) if v > 0]
    floor = min(pos) / 10 if pos else 1e-12
    seen: set[str] = set()
    for x, (_, lo, up, eps, cat) in enumerate(items):
        st = CATEGORIES[cat]
        ax.vlines(x, max(lo, floor), max(up, floor), color=st.color, lw=2)
        ax.plot([x], [max(up, floor)], st.marker, color=st.color,
                label=None if cat in seen else f"{st.label}: certified upper end")
        ax.hlines(eps, x - 0.3, x + 0.3, color="#d7191c", lw=2,
                  label=None if seen else "eps (the bound)")
        seen.add(cat)
    ax.set_yscale("log")
    ax.set_ylim(floor / 2, 300 * max(pos, default=1.0))  # room for the legend above eps
    ax.set_xticks(range(len(items)), [it[0] for it in items], fontsize=7)
    ax.set_xlim(-0.6, len(items) - 0.4)
    ax.set_ylabel("absolute sup error sup_X ||f(X) - g(X)||_max\n"
                  "bracket: exact lower .. certified upper (log scale)", fontsize=8)
    ax.set_xlabel("instance (depth l, samples n per layer)", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def gap_decay(study: dict[str, dict[str, Any]]) -> Any | None:
    """Mean exact subset-sum gap (absolute, log scale) against n: colour per law of the
    summands, filled markers on Theorem 2's interval, hollow on [-1, 1]; dashed the
    fit a exp(-b n), with b in the legend."""
    if not study:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    laws = sorted({s["law"] for s in study.values()})
    colors = dict(zip(laws, ("#2166ac", "#b2182b", "#1b7837", "#762a83")))
    law_text = {"unif": "Unif([-1,1]) summands", "lemma1": "V*U+ summands (Lemma 1)"}
    for s in study.values():
        n = np.asarray(s["n"], float)
        c = colors[s["law"]]
        on_thm = s["interval"] == "theorem2"
        where = "[(mu-+1/32)n, (mu+-1/32)n]" if on_thm else "[-1, 1]"
        f = s["fit"]
        ax.semilogy(n, s["mean_gap"], "o" if on_thm else "s", color=c,
                    mfc=c if on_thm else "none",
                    label=f"{law_text.get(s['law'], s['law'])} on {where}: b = {f['b']:.2f}")
        ax.semilogy(n, f["a"] * np.exp(-f["b"] * n), "--" if on_thm else ":", lw=0.9,
                    color=c)
    ax.set_xlabel("n (number of summands)", fontsize=8)
    ax.set_ylabel("mean exact subset-sum gap (absolute, log scale)", fontsize=8)
    ax.set_title("Theorem 2 (Lueker): gap against n, lines: fit a exp(-b n)\n"
                 "b > 0 is decay (verdict unknown: statistical evidence)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


#: The drawing function of each :class:`~slth_check.claims.base.FigureData` kind.
DRAWERS: dict[str, Callable[..., Any]] = {
    "calibration": calibration, "error_bracket": error_bracket, "error_vs_n": error_vs_n,
    "failure_rate": failure_rate, "gap_decay": gap_decay,
}
