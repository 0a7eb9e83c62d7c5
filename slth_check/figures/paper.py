"""Figures of ``slth-check reproduce paper`` (section 3 of the paper), drawn from the
result dict of :func:`slth_check.experiment.reproduce.reproduce_paper`.

* ``figure3.png``: Figure 3 side by side, the max relative weight error
  ``max |w - w'| / max |w|`` of the authors' stored approximation and of the exact
  subset-sum optimum, against n;
* ``validation.png``: per (dataset, n) the empirical CDF of the absolute weight
  errors ``|w - w'|``, stored against exact optimum;
* ``construction.png``: the pruned random LeNet5, relative and absolute output
  errors on two separate axes (never one axis for both);

and of ``slth-check approximate``: :func:`approximate_figure` (Figure 3 style, the
per-tensor distribution of the exact errors with Figure 3's value marked).

:func:`reproduce_figures` writes all three; each ``*_figure`` returns the figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from slth_check.figures.common import plain_log_ticks, pyplot, save_png

__all__ = ["approximate_figure", "construction_figure", "figure3_figure", "reproduce_figures",
           "validation_figure"]

_ZERO_LOG10 = -12.0  # where an exact zero error is drawn on a log10 axis


def figure3_figure(rows: list[dict[str, Any]]) -> Any:
    """Figure 3 of the paper side by side: per dataset the authors' stored error and
    the exact optimum's (median over seeds, band from min to max) against n."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for ds in sorted({r["dataset"] for r in rows}):
        mine = sorted((r for r in rows if r["dataset"] == ds), key=lambda r: r["n"])
        ns = [r["n"] for r in mine]
        (line,) = ax.semilogy(ns, [r["authors"] for r in mine], "o-",
                              label=f"{ds}: authors' stored approximation")
        ax.semilogy(ns, [r["slth_check_median"] for r in mine], "s--", color=line.get_color(),
                    mfc="none", label=f"{ds}: exact optimum (median over seeds, band: range)")
        ax.fill_between(ns, [r["slth_check_min"] for r in mine],
                        [r["slth_check_max"] for r in mine], alpha=0.2, color=line.get_color())
    ax.set_xlabel("n (random samples per target weight)", fontsize=8)
    ax.set_ylabel("max relative weight error max|w - w'| / max|w|\n"
                  "(relative, dimensionless, log scale)", fontsize=8)
    ax.set_title("Figure 3 side by side: conv weights of LeNet5 approximated by subset sums",
                 fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def validation_figure(ecdf: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]) -> Any:
    """Per (dataset, n) the empirical CDFs of the absolute weight errors |w - w'|, the
    authors' stored ones against the exact optimum's (exact zeros drawn at 1e-12)."""
    plt = pyplot()
    keys = sorted(ecdf, key=lambda k: (k[0], k[1]))
    cols = min(len(keys), 4)
    nrows = (len(keys) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(2.6 * cols + 0.6, 2.3 * nrows + 0.8),
                             squeeze=False, sharex=True, sharey=True)
    for ax, key in zip(axes.ravel(), keys):
        for errs, label, ls in zip(ecdf[key], ("authors' stored", "exact optimum"),
                                   ("-", "--")):
            e = np.asarray(errs, dtype=float)
            x = np.sort(np.log10(np.maximum(e, 10.0 ** _ZERO_LOG10)))
            ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", ls=ls, label=label)
        ax.set_title(f"{key[0]}, n = {key[1]}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    axes.ravel()[0].legend(fontsize=7, loc="upper left")
    fig.supxlabel("log10 |w - w'| (absolute weight error; an exact 0 is drawn at -12)",
                  fontsize=8)
    fig.supylabel("fraction of weights with at most this error (ECDF)", fontsize=8)
    fig.tight_layout()
    return fig


def construction_figure(rows: list[dict[str, Any]]) -> Any:
    """The pruned random LeNet5 against n' (samples per output channel): left the
    relative output error max|f - g| / max|f| (on the input families, and at the exact
    lower bound's witness), right the absolute sup error over X in [0, 1] bracketed by
    the certified upper bound and the exact lower bound."""
    plt = pyplot()
    fig, (rel, ab) = plt.subplots(1, 2, figsize=(10, 5.4))
    ns = [r["n_per_channel"] for r in rows]
    for name in rows[0]["figure4_error"]:
        rel.semilogy(ns, [r["figure4_error"][name] for r in rows], "o-",
                     label=f"{name} inputs (max over inputs)")
    lr = [r.get("lower_relative") for r in rows]
    if all(v is not None for v in lr):
        rel.semilogy(ns, lr, "k^:", label="at the exact lower bound's witness")
    rel.set_ylabel("relative output error\nmax|f - g| / max|f| (dimensionless, log scale)",
                   fontsize=8)
    rel.set_title("relative error on given inputs", fontsize=9)
    up = [r["certified_upper"] for r in rows]
    lo = [r["certified_lower"] for r in rows]
    ab.fill_between(ns, lo, up, color="#92c5de", alpha=0.5, label="sup error lies here")
    ab.semilogy(ns, up, "v-", color="#d7191c", label="certified upper bound (sound)")
    ab.semilogy(ns, lo, "^-", color="#2166ac", label="exact lower bound (replayed witness)")
    ab.set_ylabel("absolute sup error\nsup over X in [0,1]^(28x28) of ||f(X) - g(X)||_max\n"
                  "(log scale)", fontsize=8)
    ab.set_title("absolute sup error over all inputs", fontsize=9)
    for ax in (rel, ab):
        ax.set_xlabel("n' (random samples per output channel)", fontsize=8)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2))
        plain_log_ticks(ax)
    fig.suptitle("Pruned random LeNet5, convolutional part", fontsize=10)
    fig.tight_layout()
    return fig


def approximate_figure(report: dict[str, Any], errors: list[np.ndarray]) -> Any:
    """Per tensor the empirical CDF of the exact subset-sum errors of ``slth-check
    approximate`` (``report`` is its ``approximate.json`` dict, ``errors`` the tensors'
    error arrays in its order), in the units of the scale (relative to max|w| with
    ``--scale max``, absolute with ``--scale none``); Figure 3's value (the largest
    error) and the authors' stored value, when known, as vertical lines (in the legend).  An
    exact zero error is drawn at the left edge.  With ``--sparsest`` each tensor's density of
    the sparsest tickets stands beside its largest error in the legend, the network's in the
    title."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    relative = report["scale"]["mode"] == "max"
    pos_all = np.concatenate([e[e > 0] for e in errors] or [np.zeros(0)])
    floor = float(pos_all.min()) / 3 if pos_all.size else 1e-12
    for r, e in zip(report["tensors"][:12], errors[:12]):
        e = np.sort(np.maximum(np.asarray(e, dtype=float), floor))
        dens = f"; sparsest density {r['sparsest']['density']:.3g}" if "sparsest" in r else ""
        ax.step(e, np.arange(1, e.size + 1) / e.size, where="post",
                label=f"{r['name']} (max {r['max_error']:.2g}{dens})")
    ax.set_xscale("log")
    f3 = report["overall"]["figure3"]  # two close values: named in the legend, not on the plot
    ax.axvline(f3, color="#d7191c", ls="--", lw=1.2, gid="figure3",
               label=f"Figure 3 value (largest error): {f3:.3g}")
    auth = report.get("authors_stored")
    if auth and relative:
        ax.axvline(auth["figure3"], color="#5e3c99", ls=":", lw=1.5, gid="authors",
                   label=f"authors' stored file: {auth['figure3']:.3g} (its tensors)")
    ax.set_xlabel("exact error |w - w'| / max|w| (relative to the tensor's largest weight, "
                  "log scale)" if relative else
                  "exact error |w - w'| (absolute, in the weights' units, log scale)",
                  fontsize=8)
    ax.set_ylabel("fraction of the tensor's weights with at most this error", fontsize=8)
    sp = report.get("sparsest")
    ax.set_title(f"Exact-optimal random subset sum, n = {report['n']} samples per weight"
                 + (f"\nsparsest tickets within eps = {sp['eps']:g}: density "
                    f"{sp['density']:.3g} ({sp['kept']} of {sp['n'] * sp['weights']} samples "
                    "kept)" if sp else ""), fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def reproduce_figures(result: dict[str, Any], fig_dir: Path,
                      ecdf: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] | None = None
                      ) -> list[str]:
    """Write ``figure3.png``, ``validation.png`` (when ``ecdf``) and ``construction.png``
    (when the result has a construction) into ``fig_dir``; returns the paths written."""
    fig_dir = Path(fig_dir)
    written = [save_png(figure3_figure(result["figure3"]), fig_dir / "figure3.png")]
    if ecdf:
        written.append(save_png(validation_figure(ecdf), fig_dir / "validation.png"))
    if result.get("construction"):
        written.append(save_png(construction_figure(result["construction"]),
                                fig_dir / "construction.png"))
    return written
