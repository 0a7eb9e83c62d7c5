"""Aggregate outcomes into a report document (JSON schema_version 1 and Markdown)."""

from __future__ import annotations

import datetime as _dt
import json
import platform
import zlib
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.claims.base import VERDICTS, AuditEntry, Claim, Outcome, as_number
from slth_check.fileio.files import atomic_write
from slth_check.fileio.witnesses import save_witness

SCHEMA_VERSION = 1


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:

    out = {"python": platform.python_version()}
    for name in ("slth-check", "numpy", "scipy", "hypothesis", "mpmath", "z3-solver"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out




class ClaimRecord:
    """Accumulates a claim's outcomes into the report's per-claim entry."""

    def __init__(self, claim: Claim) -> None:
        self.claim = claim
        self.counts = {v: 0 for v in VERDICTS}
        self.expected = 0
        self.methods: set[str] = set()
        self.worst: Outcome | None = None
        self.instances = 0
        self.ratios: list[float] = []
        self.outcomes: list[Outcome] = []

    def add(self, out: Outcome) -> None:
        self.instances += 1
        if out.verdict == "violated" and out.expected:
            self.expected += 1  # a hypothesis dropped on purpose: counted apart
        else:
            self.counts[out.verdict] += 1
        self.methods.add(out.method)
        self.outcomes.append(out)
        r = out.ratio
        if r is not None and out.verdict in ("holds", "violated") and not out.expected:
            self.ratios.append(r)
            if self.worst is None or r > (self.worst.ratio or 0):
                self.worst = out


def build_report(records: Iterable[ClaimRecord], *, run: dict[str, Any], out_dir: Path,
                 audit: list[AuditEntry], summaries: dict[str, Any]) -> dict[str, Any]:
    """The report dict (schema_version 1); witnesses are written under out_dir."""
    claims, violations = [], []
    wdir = Path(out_dir) / "witnesses"
    for rec in records:
        worst = None
        if rec.worst is not None:
            wpath = save_witness(wdir, f"{rec.claim.id}-worst", rec.worst) \
                if rec.worst.witness else None
            worst = {"ratio": rec.worst.ratio, "observed": as_number(rec.worst.observed),
                     "bound": as_number(rec.worst.bound), "witness": wpath,
                     "detail": rec.worst.detail}
        k = 0
        for out in rec.outcomes:
            if out.verdict != "violated":
                continue
            k += 1
            wpath = save_witness(wdir, f"{rec.claim.id}-violation-{k}", out)
            violations.append({"claim": rec.claim.id, "expected": bool(out.expected),
                               "observed": as_number(out.observed), "bound": as_number(out.bound),
                               "witness": wpath, "detail": out.detail})
        claims.append({
            "id": rec.claim.id, "statement": rec.claim.statement,
            "hypotheses": rec.claim.hypotheses_text,
            "instances": rec.instances, "verdicts": dict(rec.counts),
            "expected_violations": rec.expected,
            "methods": sorted(rec.methods), "worst": worst,
            "ratios": _ratio_summary(rec.ratios),
            "notes": [o.detail for o in rec.outcomes if o.extra.get("proof")],
            "summary": summaries.get(rec.claim.id, {}),
        })
    return report_document(run, claims, violations, [a.to_json() for a in audit])


def report_document(run: dict[str, Any], claims: list[dict[str, Any]],
                    violations: list[dict[str, Any]], audit: list[dict[str, Any]],
                    **extra: Any) -> dict[str, Any]:
    """The report dict (``schema_version`` 1, ``report_schema.json``): the one builder
    used by ``slth-check check`` and by the pytest plugin's ``--slth-report``."""
    return {"schema_version": SCHEMA_VERSION, "run": run, "claims": claims,
            "violations": violations, "audit": audit, **extra}


def write_report(out_dir: Path, report: dict[str, Any], markdown_tail: str = "") -> None:
    """Write ``report.md`` then ``report.json`` (last, atomically: a folder without it is
    an interrupted run)."""
    out_dir = Path(out_dir)
    atomic_write(out_dir / "report.md", to_markdown(report) + markdown_tail)
    atomic_write(out_dir / "report.json", json.dumps(report, indent=2, default=json_default))


def _ratio_summary(ratios: list[float]) -> dict[str, Any]:
    if not ratios:
        return {"count": 0}
    a = np.asarray(ratios, dtype=float)
    return {"count": int(a.size), "min": float(a.min()), "median": float(np.median(a)),
            "max": float(a.max())}


def to_markdown(report: dict[str, Any]) -> str:
    """Human-readable rendering of a report dict."""
    run = report["run"]
    lines = [f"# slth-check report `{run['id']}`", "",
             f"profile `{run['profile']}`, seed {run['seed']}, "
             f"started {run['start']}, ended {run['end']}", "",
             "| claim | instances | holds | violated | unknown | hypotheses unmet | "
             "expected violations | worst ratio | methods |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in report["claims"]:
        v = c["verdicts"]
        worst = c["worst"]["ratio"] if c["worst"] else None
        lines.append(f"| {c['id']} | {c['instances']} | {v['holds']} | {v['violated']} | "
                     f"{v['unknown']} | {v['hypotheses_unmet']} | {c['expected_violations']} | "
                     f"{'-' if worst is None else f'{worst:.4g}'} | {', '.join(c['methods'])} |")
    lines.append("")
    number = 0
    for c in report["claims"]:
        lines += [f"## {c['id']}", "", c["statement"], ""]
        if c["hypotheses"]:
            lines += [f"Hypotheses: {c['hypotheses']}", ""]
        for note in c["notes"]:
            lines.append(f"- {note}")
        if c["notes"]:
            lines.append("")
        for key, val in c.get("summary", {}).items():
            if isinstance(val, str):
                lines += [f"**{key}**", "", val, ""]
        for f in c.get("figures", []):  # each figure beside the sentence it supports
            number += 1
            lines += [f"**Figure {number}.** {f['caption']}", "",
                      f"![Figure {number}: {Path(f['path']).stem}]({f['path']})", ""]
    exp = [v for v in report["violations"] if v["expected"]]
    unexp = [v for v in report["violations"] if not v["expected"]]
    lines += ["## Unexpected violations", ""]
    lines += [f"- {v['claim']}: observed {v['observed']}, bound {v['bound']}, "
              f"witness `{v['witness']}` {v['detail']}" for v in unexp] or ["none"]
    lines += ["", "## Expected violations (a hypothesis dropped on purpose)", ""]
    lines += [f"- {v['claim']}: observed {v['observed']}, bound {v['bound']}, "
              f"witness `{v['witness']}` {v['detail']}" for v in exp] or ["none"]
    lines += ["", "## Audit of the constants inside the proofs", ""]
    if report["audit"]:
        lines += ["| claim | item | stated | measured | status | consequence |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {a['claim']} | {a['item']} | {a['stated']} | {a['measured']} | "
                  f"{a['status']} | {a['consequence']} |" for a in report["audit"]]
    else:
        lines.append("none yet")
    rest = unattached_figures(report)
    if rest:
        lines += ["", "## Other figures", ""]
        lines += [f"![{f}]({f})" for f in rest]
    lines.append("")
    return "\n".join(lines)


def unattached_figures(report: dict[str, Any]) -> list[str]:
    """The figures of ``report["figures"]`` that no claim entry lists with a caption."""
    attached = {f["path"] for c in report["claims"] for f in c.get("figures", [])}
    return [f for f in report.get("figures", []) if f not in attached]


def json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def stable_hash(s: str) -> int:

    return zlib.crc32(s.encode())
