"""The summary of a ``slth-check approximate`` run (:mod:`slth_check.experiment.approximate`):
per-tensor statistics, the authors' stored result beside the weights, the Markdown
table and the Figure-3 style plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from slth_check.errors import InputError
from slth_check.experiment.sampling import SAMPLING, STATUS_CODES
from slth_check.fileio.weights import Weights

#: Version of ``approximate.json`` (and of ``run.json``).
SCHEMA_VERSION = 1


def relative_max_error(errors: np.ndarray, s: float, w: np.ndarray) -> float:
    """Figure 3's ``max|w - w'| / max|w|`` of one tensor from its exact errors (in units
    of ``w / s``): ``s max(errors) / max|w|`` (the errors themselves for a zero tensor)."""
    mx = float(np.abs(w).max())
    e = float(errors.max())
    return e * s / mx if mx > 0 else e


def stats(errors: np.ndarray, codes: np.ndarray) -> dict[str, Any]:
    """Max / median / 99th percentile of the errors, and how many are not proven optimal."""
    return {"max_error": float(errors.max()), "median_error": float(np.median(errors)),
            "p99_error": float(np.percentile(errors, 99)),
            "not_proven_optimal": int(np.sum(codes != STATUS_CODES["optimal"]))}



def authors_stored(weights: Path, w: Weights, n: int) -> dict[str, Any] | None:
    """Figure 3 from the authors' stored RSS result for this n, when it lies beside WEIGHTS.

    ``<stem>-RSS-n<n>-hInf.bson`` (their ``saves/`` naming): per tensor the
    relative error ``max|w - w_stored| / max|w|`` and its maximum (the paper's
    Figure 3 value), for the selected tensors that the file holds.
    """
    from slth_check.fileio.bson import load_cnnslth

    path = weights.parent / f"{weights.stem}-RSS-n{n}-hInf.bson"
    if not path.is_file():
        return None
    try:
        stored = load_cnnslth(path)
    except InputError as exc:
        raise InputError(f"WEIGHTS: the authors' stored result {' '.join(str(exc).split())}") \
            from exc
    per = {name: float(np.abs(a - stored[name]).max() / np.abs(a).max())
           for name, a in w.arrays if name in stored and stored[name].shape == a.shape
           and np.abs(a).max() > 0}
    if not per:
        return None
    return {"file": path.name, "relative_max_error": per, "figure3": max(per.values()),
            "meaning": "max|w - w_stored| / max|w| per tensor; figure3 is the maximum over "
                       "the selected tensors it holds (the paper's Figure 3)"}


def report_dict(manifest: dict[str, Any], weights: Path, w: Weights, n: int, seed: int,
                scale: str, figure: bool, rows: list[dict[str, Any]], errs: np.ndarray,
                codes: np.ndarray) -> dict[str, Any]:
    """The dict of ``approximate.json`` (nothing in it depends on time or scheduler)."""
    return {
        "schema_version": SCHEMA_VERSION, "command": "slth-check approximate",
        "input": manifest["input"], "n": n, "seed": seed,
        "method": "meet in the middle, every answer verified in exact integer arithmetic "
                  "(status optimal = proven exact optimum)",
        "sampling": SAMPLING,
        "scale": {"mode": scale, "meaning": "target = fl(w / s) per tensor, s = max|w| "
                  "(1 for an all-zero tensor)" if scale == "max" else "target = w (s = 1)"},
        "errors": "|target - subset sum|, exact, rounded once to float64 (units of w / s: "
                  "with --scale max the tensor's max error is Figure 3's max|w - w'|/max|w|)",
        "files": {"tensors": "tensors/<index>-<name>.npz: errors (float64), masks "
                  "(np.packbits(mask, axis=1), n bits per weight in flat C order), status "
                  f"(uint8 codes {STATUS_CODES}), shape, scale",
                  "figure": "figure3.png" if figure else None,
                  "summary": "approximate.md", "timing": "timing.json (not reproducible)"},
        "tensors": rows,
        "overall": {"weights": int(errs.size), **stats(errs, codes),
                    "figure3": max(r["relative_max_error"] for r in rows)},
        "skipped": w.skipped,
        "authors_stored": authors_stored(weights, w, n) if w.fmt == "bson" else None,
    }


def summary_markdown(report: dict[str, Any]) -> str:
    """The summary table: max / median / 99th percentile error per tensor and overall."""
    lines = [f"# slth-check approximate: {report['input']['file']}, n = {report['n']}, "
             f"seed = {report['seed']}", "",
             f"Scale: {report['scale']['meaning']}. Errors: {report['errors']}.", "",
             "| tensor | shape | weights | scale | max | median | p99 | not proven optimal |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["tensors"] + [dict(report["overall"], name="**overall**", shape="",
                                       scale="")]:
        sc = f"{r['scale']:.4g}" if r["scale"] != "" else ""
        lines.append(f"| {r['name']} | {r['shape']} | {r['weights']} | {sc} | "
                     f"{r['max_error']:.3g} | {r['median_error']:.3g} | {r['p99_error']:.3g} | "
                     f"{r['not_proven_optimal']} |")
    lines += ["", f"Figure 3 (max over tensors of max|w - w'| / max|w|, w' = s x subset "
                  f"sum): {report['overall']['figure3']:.3g}"]
    auth = report.get("authors_stored")
    if auth:
        lines.append(f"The authors' stored result ({auth['file']}): {auth['figure3']:.3g} "
                     f"(" + ", ".join(f"{k} {v:.3g}" for k, v in
                                      auth["relative_max_error"].items()) + ")")
    if report.get("sparsest"):
        lines += _sparsest_lines(report)
    if report["skipped"]:
        lines += ["", "Skipped: " + "; ".join(f"{s['name']} ({s['reason']})"
                                              for s in report["skipped"])]
    return "\n".join(lines) + "\n"


def _sparsest_lines(report: dict[str, Any]) -> list[str]:
    """The sparsest tickets beside each tensor's error (issue 22, point 5)."""
    sp = report["sparsest"]
    lines = ["", f"Sparsest tickets within eps = {sp['eps']:g} (the fewest of each weight's "
             f"n = {sp['n']} samples whose sum is within eps, exact; density = kept / "
             "(n x weights)):", "",
             "| tensor | max error | kept | density | mean k | max k | no subset within eps "
             "| unknown |", "|---|---|---|---|---|---|---|---|"]
    for r in report["tensors"] + [dict(report["overall"], name="**overall**",
                                       sparsest=sp)]:
        t = r["sparsest"]
        mk = "" if t["mean_k"] is None else f"{t['mean_k']:.3g}"
        lines.append(f"| {r['name']} | {r['max_error']:.3g} | {t['kept']} | "
                     f"{t['density']:.4g} | {mk} | {t['max_k'] if t['max_k'] is not None else ''}"
                     f" | {t['infeasible']} | {t['unknown']} |")
    return lines


def _figure3_row(r: dict[str, Any]) -> dict[str, Any]:
    """One n of the table; beside the authors' value, ours over the same tensors."""
    auth = r["authors_stored"] or {}
    held = set(auth.get("relative_max_error", {}))
    same = [t["relative_max_error"] for t in r["tensors"] if t["name"] in held]
    return {"n": r["n"], "exact_optimum": r["overall"]["figure3"],
            "authors_stored": auth.get("figure3"),
            "exact_optimum_stored_tensors": max(same) if same else None,
            "stored_tensors": sorted(held),
            "not_proven_optimal": r["overall"]["not_proven_optimal"]}


def figure3_table(reports: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """Figure 3 over several n: per n the exact optimum's value (this run's samples) beside
    the authors' stored one when their file lies beside WEIGHTS, both over the tensors
    that file holds (ours over all selected tensors as well); Markdown and JSON."""
    first = reports[0]
    rows = [_figure3_row(r) for r in reports]
    lines = [f"# Figure 3: {first['input']['file']}, seed {first['seed']}, scale "
             f"{first['scale']['mode']}", "",
             "max over tensors of max|w - w'| / max|w|; w' = s x (exact-optimal subset sum "
             "of n Unif([-1,1]) samples)" + (" (the paper's experiment: --scale none)"
                                             if first["scale"]["mode"] != "none" else ""), "",
             "| n | exact optimum | on the stored tensors | authors' stored | stored / exact "
             "| not proven optimal |", "|---|---|---|---|---|---|"]
    for r in rows:
        a, e, s = r["authors_stored"], r["exact_optimum"], r["exact_optimum_stored_tensors"]
        cells = ["n/a"] * 3 if a is None or s is None else \
            [f"{s:.3g}", f"{a:.3g}", f"{a / s:.3g}" if s > 0 else "inf"]
        lines.append(f"| {r['n']} | {e:.3g} | " + " | ".join(cells)
                     + f" | {r['not_proven_optimal']} |")
    held = sorted({n for r in rows for n in r["stored_tensors"]})
    if held:
        lines += ["", f"The authors' stored files hold {', '.join(held)}."]
    data = {"schema_version": SCHEMA_VERSION, "input": first["input"], "seed": first["seed"],
            "scale": first["scale"]["mode"], "rows": rows}
    return "\n".join(lines) + "\n", data


__all__ = ["SCHEMA_VERSION", "authors_stored", "relative_max_error",
           "figure3_table", "report_dict", "stats", "summary_markdown"]
