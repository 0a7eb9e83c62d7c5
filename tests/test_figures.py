"""Issue 12, point 6: figures a researcher reads at a glance.

Asserted on the matplotlib objects: one quantity per axis (relative and absolute
errors never share one), reference lines for eps, the bound and the calibrated C,
unknowns and expected violations drawn apart, configuration labels naming
(d, c0, c1, eps); and every figure placed, with its caption, in its claim's section
of report.md and of the HTML report.
"""

from __future__ import annotations

import html
import json
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from slth_check.claims.base import Outcome
from slth_check.claims.calibration import Calibration
from slth_check.claims.layer import CALIBRATED_C
from slth_check.claims.lemma2 import Lemma2
from slth_check.claims.lueker import Lueker
from slth_check.figures import claims as claim_figures
from slth_check.figures import paper as paper_figures
from slth_check.figures.common import CATEGORIES, pyplot
from slth_check.figures.report import draw_claim_figures, tightness_figure, write_figures
from slth_check.report import ClaimRecord, build_report, to_markdown
from slth_check.report.html import html_document


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    pyplot().close("all")


def _labels(fig: Any) -> list[str]:
    """Every axis label of a figure, the figure-level ones included."""
    out = []
    for ax in fig.axes:
        out += [ax.get_xlabel(), ax.get_ylabel()]
    for attr in ("_supxlabel", "_supylabel"):
        t = getattr(fig, attr, None)
        if t is not None:
            out.append(t.get_text())
    return [s for s in out if s]


def _assert_one_quantity_per_axis(fig: Any) -> None:
    for text in _labels(fig):
        low = text.lower()
        assert not ("relative" in low and "absolute" in low), text


def _hlines(ax: Any) -> list[float]:
    """y of the horizontal lines spanning the axis (axhline)."""
    ys = []
    for line in ax.get_lines():
        x, y = line.get_xdata(), line.get_ydata()
        if len(y) == 2 and y[0] == y[1] and list(x) == [0, 1]:
            ys.append(float(y[0]))
    return ys


def _texts(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _colors(ax: Any) -> set[str]:
    from matplotlib.colors import to_hex

    return {to_hex(c) for coll in ax.collections for c in coll.get_facecolors()}


# ---------------------------------------------------------------- calibration

ROWS = [{"d": 1, "c0": 1, "c1": 1, "eps": 0.1, "C": 14.8, "ci95": [10.4, 16.5]},
        {"d": 2, "c0": 2, "c1": 1, "eps": 0.1, "C": 4.3, "ci95": [4.0, 7.1]},
        {"d": 3, "c0": 1, "c1": 2, "eps": 0.05, "C": math.inf, "ci95": [9.0, math.inf]}]


def _vlines(ax: Any) -> list[float]:
    """x of the vertical lines spanning the axis (axvline)."""
    return [float(line.get_xdata()[0]) for line in ax.get_lines()
            if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]
            and list(line.get_ydata()) == [0, 1]]


def test_calibration_plot_shows_C_and_names_each_configuration(tmp_path: Path) -> None:
    fig = claim_figures.calibration(ROWS, C=CALIBRATED_C, n_max=44)
    (ax,) = fig.axes
    assert _vlines(ax) == [CALIBRATED_C]  # the calibrated C as a line ...
    assert any(f"C = {CALIBRATED_C:g}" in t for t in _texts(ax))  # ... named on the plot
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert len(ticks) == len(ROWS)
    for r, t in zip(ROWS, ticks):
        for name in ("d", "c0", "c1", "eps"):
            assert re.search(rf"\b{name}={r[name]:g}\b", t), (name, t)
    assert all(t.get_rotation() == 0 for t in ax.get_yticklabels())  # read without tilting
    assert "C needed" in ax.get_xlabel() and "quantile" in ax.get_xlabel()
    lo, hi = ax.get_xlim()
    assert math.isfinite(hi) and hi > CALIBRATED_C
    # the configuration whose C is infinite is still drawn (an arrow at the right edge)
    ys = [float(v) for line in ax.get_lines() if line.get_marker() == ">"
          for v in line.get_ydata()]
    assert ys == [2.0]
    # through the claim: the PNG and its caption
    out = draw_claim_figures(Calibration(), {"rows": ROWS}, [], tmp_path)
    assert out[0][0] == "figures/calibration.png" and (tmp_path / "calibration.png").is_file()
    assert "C = 17" in out[0][1]


# ---------------------------------------------------------------- lemmas 1-2

def _lemma_outcomes() -> list[Outcome]:
    outs = []
    for k, eps in enumerate((0.05, 0.1, 0.2)):
        for j in range(4):
            err = Fraction(1, 10 ** (6 + j))
            outs.append(Outcome("lemma2", "holds", err, Fraction(eps), method="closed-form",
                                extra={"n": 50 + 10 * j + k, "eps": eps, "failed": False}))
    outs.append(Outcome("lemma2", "unknown", Fraction(3, 10), Fraction(0.2),
                        method="closed-form", extra={"n": 40, "eps": 0.2, "failed": True}))
    outs.append(Outcome("lemma2", "holds", Fraction(0), Fraction(0.1), method="closed-form",
                        extra={"n": 90, "eps": 0.1, "failed": False}))
    outs.append(Outcome("lemma2", "violated", Fraction(4), Fraction(1, 10), method="exact",
                        expected=True, extra={"eps": 0.1, "control": "K = 4"}))
    return outs


def test_error_vs_n_one_panel_per_eps_with_eps_line_and_failed_draws_marked() -> None:
    outs = _lemma_outcomes()
    pts = [(o.extra["n"], float(o.observed), o.extra["eps"], o.verdict) for o in outs
           if "n" in o.extra]
    fig = claim_figures.error_vs_n(pts, C=CALIBRATED_C, title="t")
    axes = fig.axes
    assert len(axes) == 3
    for ax, eps in zip(axes, (0.05, 0.1, 0.2)):
        assert _hlines(ax) == [eps]
        assert any(f"eps = {eps:g}" in t for t in _texts(ax))
        assert ax.get_yscale() == "log"
    assert "absolute" in axes[0].get_ylabel()
    assert any("C = 17" in s for s in _labels(fig))
    _assert_one_quantity_per_axis(fig)
    unknown = [t.get_text() for t in axes[2].get_legend().get_texts()
               if "unknown" in t.get_text()]
    assert unknown == ["unknown: failed draw (1)"]
    assert CATEGORIES["unknown"].color in _colors(axes[2])
    assert CATEGORIES["holds"].color in _colors(axes[2])
    lo = axes[1].get_ylim()[0]  # the error 0 drawn at the bottom edge, not lost
    assert any(np.allclose(c.get_offsets()[:, 1], 10 ** math.floor(math.log10(1e-9) - 1))
               for c in axes[1].collections if len(c.get_offsets())) and lo > 0


def test_lemma_figures_through_the_claim(tmp_path: Path) -> None:
    outs = _lemma_outcomes()
    summary = {"failure_rate": {"0.1": {"failures": 0, "draws": 5, "rate": 0.0,
                                        "cp99": [0.0, 0.65]},
                                "0.2": {"failures": 1, "draws": 5, "rate": 0.2,
                                        "cp99": [0.001, 0.81]}}}
    out = draw_claim_figures(Lemma2(), summary, outs, tmp_path)
    assert [p for p, _ in out] == ["figures/lemma2-error-vs-n.png",
                                   "figures/lemma2-failure-rate.png"]
    fig = claim_figures.failure_rate(summary["failure_rate"], title="t")
    (ax,) = fig.axes
    segs = [s for coll in ax.collections if hasattr(coll, "get_segments")
            for s in coll.get_segments() if len(s) == 2 and s[0][1] == s[1][1]
            and s[0][0] != s[1][0]]
    assert sorted({round(float(s[0][1]), 6) for s in segs} & {0.1, 0.2}) == [0.1, 0.2]
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["eps=0.1",
                                                                         "eps=0.2"]


# ---------------------------------------------------------------- tightness

def test_tightness_rows_per_verdict_and_bound_line() -> None:
    fig = tightness_figure("lemma2", _lemma_outcomes())
    (ax,) = fig.axes
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows[0].startswith("holds: 13")
    assert any(r.startswith("unknown: 1") for r in rows)
    assert any(r.startswith("expected violation") for r in rows)
    assert [line.get_gid() for line in ax.get_lines()] == ["bound (ratio 1)"]
    assert list(ax.get_lines()[0].get_xdata()) == [1, 1]
    assert ax.get_xscale() == "log"  # ratios from 0 to 40
    assert "observed / bound" in ax.get_xlabel() and "eps" in ax.get_xlabel()
    assert any("ratio 0" in t for t in _texts(ax))  # the zero, drawn at the edge
    colors = _colors(ax)
    for cat in ("holds", "unknown", "expected violation"):
        assert CATEGORIES[cat].color in colors
    assert len({CATEGORIES[c].color for c in CATEGORIES}) == len(CATEGORIES)
    assert len({CATEGORIES[c].marker for c in CATEGORIES}) == len(CATEGORIES)


def test_tightness_none_without_two_ratios_and_notes_apart() -> None:
    one = Outcome("x", "holds", Fraction(1), Fraction(2))
    assert tightness_figure("x", [Outcome("x", "unknown"), one]) is None
    note = Outcome("x", "holds", Fraction(1), Fraction(1), extra={"proof": True})
    (ax,) = tightness_figure("x", [one, note]).axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["holds: 1",
                                                           "holds (in the notes): 1"]
    assert "in the notes" in ax.get_xlabel()


# ---------------------------------------------------------------- gap decay

def test_gap_decay_names_law_interval_and_rate() -> None:
    ns = [2, 4, 6, 8]
    study = {f"{law} on {iv}": {"law": law, "interval": iv, "n": ns,
                                "mean_gap": [0.5 * math.exp(-0.3 * n) for n in ns],
                                "fit": {"a": 0.5, "b": 0.3}}
             for law in ("unif", "lemma1") for iv in ("theorem2", "[-1,1]")}
    fig = claim_figures.gap_decay(study)
    (ax,) = fig.axes
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 4 and all("b = 0.30" in t for t in legend)
    assert any("Unif([-1,1]) summands on [-1, 1]" in t for t in legend)
    assert any("(mu-+1/32)n" in t for t in legend)
    assert "absolute" in ax.get_ylabel() and "n" in ax.get_xlabel()


# ---------------------------------------------------------------- the report

def _report(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    lemma, lueker = Lemma2(), Lueker()
    recs = [ClaimRecord(lemma), ClaimRecord(lueker)]
    for o in _lemma_outcomes():
        recs[0].add(o)
    ns = [2, 4, 6]
    study = {"unif on [-1,1]": {"law": "unif", "interval": "[-1,1]", "n": ns,
                                "mean_gap": [0.3, 0.1, 0.03], "fit": {"a": 1.0, "b": 0.5}}}
    recs[1].add(Outcome("lueker", "unknown", method="statistical", extra={"proof": True}))
    summaries = {"lemma2": {}, "lueker": {"study": study, "table": "| t |"}}
    rep = build_report(recs, run={"id": "r", "profile": "ci", "seed": 0, "start": "s",
                                  "end": "e"}, out_dir=tmp_path, audit=[], summaries=summaries)
    rep["figures"] = write_figures(rep, recs, tmp_path)
    return rep, tmp_path


def test_every_figure_sits_with_its_caption_in_its_claims_section(tmp_path: Path) -> None:
    rep, out = _report(tmp_path)
    assert rep["figures"] == ["figures/lemma2-ratios.png", "figures/lemma2-error-vs-n.png",
                              "figures/lueker-gap.png"]
    assert all((out / f).is_file() for f in rep["figures"])
    md = to_markdown(rep)
    sections = dict(re.findall(r"^## (\S+)\n(.*?)(?=^## )", md, flags=re.S | re.M))
    for c in rep["claims"]:
        assert c["figures"], c["id"]
        for f in c["figures"]:
            assert f["caption"] and f["caption"] in sections[c["id"]]
            assert f"]({f['path']})" in sections[c["id"]]
    assert "Figure 1." in sections["lemma2"] and "Figure 3." in sections["lueker"]
    assert "## Other figures" not in md
    page = html_document(rep, out)
    parts = dict(re.findall(r'<h2 id="([^"]+)">(.*?)(?=<h2)', page, flags=re.S))
    for c in rep["claims"]:
        for f in c["figures"]:
            assert f". {html.escape(f['caption'])} <code>{f['path']}" in parts[c["id"]]
    assert "<figcaption>Figure 3. " in parts["lueker"]
    assert page.count("data:image/png;base64,") == len(rep["figures"])


def test_figures_no_claim_lists_still_appear(tmp_path: Path) -> None:
    rep, out = _report(tmp_path)
    rep["figures"].append("figures/extra.png")
    (out / "figures" / "extra.png").write_bytes((out / rep["figures"][0]).read_bytes())
    assert "## Other figures" in to_markdown(rep)
    assert "<h2>Other figures</h2>" in html_document(rep, out)


# ---------------------------------------------------------------- reproduce paper

def _construction_rows() -> list[dict[str, Any]]:
    return [{"n_per_channel": n, "figure4_error": {"uniform": 0.1 / n, "structured": 0.2 / n},
             "certified_upper": 3.0 / n, "certified_lower": 1.0 / n,
             "lower_relative": 0.05 / n} for n in (3, 5, 8)]


def test_construction_figure_keeps_relative_and_absolute_apart() -> None:
    fig = paper_figures.construction_figure(_construction_rows())
    rel, ab = fig.axes
    _assert_one_quantity_per_axis(fig)
    assert "relative" in rel.get_ylabel() and "absolute" in ab.get_ylabel()
    rel_y = sorted(float(v) for line in rel.get_lines() for v in line.get_ydata())
    ab_y = sorted(float(v) for line in ab.get_lines() for v in line.get_ydata())
    assert max(rel_y) <= 0.2 / 3 + 1e-12  # only the relative errors on the left
    assert sorted(ab_y) == sorted([3.0 / n for n in (3, 5, 8)] + [1.0 / n for n in (3, 5, 8)])


def test_reproduce_figures_write_three_pngs(tmp_path: Path) -> None:
    rows3 = [{"dataset": "MNIST", "n": n, "authors": 1.0 / n, "slth_check_median": 0.5 / n,
              "slth_check_min": 0.4 / n, "slth_check_max": 0.6 / n} for n in (5, 10)]
    rng = np.random.default_rng(0)
    ecdf = {("MNIST", 5): (rng.uniform(0, 1e-2, 50), np.r_[0.0, rng.uniform(0, 1e-2, 49)])}
    written = paper_figures.reproduce_figures(
        {"figure3": rows3, "construction": _construction_rows()}, tmp_path, ecdf)
    assert written == ["figures/figure3.png", "figures/validation.png",
                       "figures/construction.png"]
    assert all((tmp_path / Path(w).name).stat().st_size > 1000 for w in written)
    for fig in (paper_figures.figure3_figure(rows3), paper_figures.validation_figure(ecdf)):
        _assert_one_quantity_per_axis(fig)
    assert "relative" in paper_figures.figure3_figure(rows3).axes[0].get_ylabel()
    assert any("absolute" in s for s in _labels(paper_figures.validation_figure(ecdf)))


def test_approximate_figure_units_follow_the_scale_and_mark_figure3() -> None:
    rng = np.random.default_rng(1)
    errors = [np.r_[0.0, rng.uniform(1e-5, 1e-2, 30)], rng.uniform(1e-4, 0.3, 40)]
    rows = [{"name": "conv1.weight", "max_error": float(errors[0].max())},
            {"name": "conv2.weight", "max_error": float(errors[1].max())}]
    report = {"n": 10, "scale": {"mode": "max"}, "tensors": rows,
              "overall": {"figure3": float(errors[1].max())},
              "authors_stored": {"figure3": 0.2}}
    (ax,) = paper_figures.approximate_figure(report, errors).axes
    assert "relative" in ax.get_xlabel() and "absolute" not in ax.get_xlabel()
    assert _vlines(ax) == [report["overall"]["figure3"], 0.2]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("Figure 3 value") for t in legend)
    assert any(t.startswith("authors' stored") for t in legend)
    assert ax.get_lines()[0].get_xdata().min() > 0  # the exact zero is drawn, at the edge
    report["scale"]["mode"] = "none"
    (ax,) = paper_figures.approximate_figure(report, errors).axes
    assert "absolute" in ax.get_xlabel() and "relative" not in ax.get_xlabel()
    assert _vlines(ax) == [report["overall"]["figure3"]]  # authors' value is relative only


def test_theorem1_bracket_absolute_with_eps_and_verdicts(tmp_path: Path) -> None:
    from slth_check.claims.theorem1 import Theorem1

    sizes = {"ell": 2, "n": [51, 149]}
    outs = [Outcome("theorem1", "holds", Fraction(1, 10**8), Fraction(1, 5),
                    method="interval", extra={"lower": 1e-9, "sizes": sizes}),
            Outcome("theorem1", "unknown", Fraction(3), Fraction(3, 10), method="interval",
                    extra={"lower": 0.0, "sizes": dict(sizes, ell=3, n=[5, 6, 7])}),
            Outcome("theorem1", "holds", Fraction(1, 10), Fraction(1, 5), method="interval",
                    extra={"proof": True})]  # a proof step: not an instance, not drawn
    assert [p for p, _ in draw_claim_figures(Theorem1(), {}, outs, tmp_path)] == [
        "figures/theorem1-bracket.png"]
    items = [("a", 1e-9, 1e-8, 0.2, "holds"), ("b", 0.0, 3.0, 0.3, "unknown")]
    (ax,) = claim_figures.error_bracket(items, title="t").axes
    assert "absolute" in ax.get_ylabel() and ax.get_yscale() == "log"
    _assert_one_quantity_per_axis(ax.figure)
    eps_segments = sorted(round(float(s[0][1]), 9) for c in ax.collections
                          if hasattr(c, "get_segments") for s in c.get_segments()
                          if s[0][1] == s[1][1])
    assert eps_segments == [0.2, 0.3]
    markers = {line.get_marker() for line in ax.get_lines()}
    assert markers == {CATEGORIES["holds"].marker, CATEGORIES["unknown"].marker}
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["a", "b"]


def test_figures_drawn_in_the_process_pool_equal_those_drawn_inline(tmp_path: Path) -> None:
    """``check`` on the process pool draws each claim's figures in a worker while the next
    claims run: the report lists the same figures, in the same order and with the same
    captions, and the PNG files are byte for byte those drawn inline."""
    from slth_check.runner import run_check

    ids = ["proposition1", "rss"]
    pool, _ = run_check(claim_ids=ids, seed=3, out_dir=tmp_path / "pool",
                        scheduler="processes", workers=2, progress=False)
    inline, _ = run_check(claim_ids=ids, seed=3, out_dir=tmp_path / "inline",
                          scheduler="synchronous", progress=False)
    assert len(pool["figures"]) >= 2 and pool["figures"] == inline["figures"]
    assert [c["figures"] for c in pool["claims"]] == [c["figures"] for c in inline["claims"]]
    for f in pool["figures"]:
        assert (tmp_path / "pool" / f).read_bytes() == (tmp_path / "inline" / f).read_bytes()
    assert json.loads((tmp_path / "pool" / "report.json").read_text())["figures"] == \
        pool["figures"]
