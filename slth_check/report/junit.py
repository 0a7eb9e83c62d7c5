"""JUnit XML for CI dashboards: claims as test suites, instances as test cases.

``write_junit(report, path)`` renders a ``slth-check check`` report (schema_version 1):
one ``<testsuite>`` per claim, one ``<testcase>`` per instance checked. An unexpected
violation is a ``<failure>`` whose message names the witness file and the command
that replays it; ``unknown`` and ``hypotheses_unmet`` instances are ``<skipped>``
(neither a pass nor a failure); an expected violation (a hypothesis dropped on
purpose, a negative control) passes, with its detail in ``<system-out>``. The report
keeps the violations one by one but only the counts of the other verdicts, so those
test cases are numbered, not named after their instance.

``write_validate_junit(verdict, path, what)`` renders one ``validate`` verdict: one
suite (the validator) with one case (the implementation under test).

The XML is built with ``xml.etree.ElementTree`` (escaping done by the library) and
written atomically.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from slth_check.fileio.files import atomic_write

__all__ = ["junit_document", "validate_junit_document", "write_junit", "write_validate_junit"]


def _witness_path(witness: str | None, out_dir: Path | None) -> str | None:
    if witness is None:
        return None
    return str(Path(out_dir) / witness) if out_dir is not None else witness


def _violation_text(v: dict[str, Any], out_dir: Path | None) -> tuple[str, str]:
    """(one-line message, body) of a violation: observed, bound, witness, replay command."""
    w = _witness_path(v.get("witness"), out_dir)
    msg = f"violated: observed {v.get('observed')} > bound {v.get('bound')}"
    msg += f"; witness {w}" if w else "; no witness file"
    body = [msg, str(v.get("detail") or "")]
    if w:
        body.append(f"replay: slth-check replay {w}")
    return msg, "\n".join(b for b in body if b)


def junit_document(report: dict[str, Any], out_dir: str | Path | None = None) -> ET.Element:
    """The ``<testsuites>`` element of a report; witness paths are joined to ``out_dir``
    (the report's folder) when given, else left relative to it."""
    od = Path(out_dir) if out_dir is not None else None
    run = report.get("run", {})
    root = ET.Element("testsuites", name=f"slth-check {run.get('id', '')}".strip())
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for c in report["claims"]:
        cid = c["id"]
        viol = [v for v in report["violations"] if v["claim"] == cid]
        suite = ET.SubElement(root, "testsuite", name=cid)
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="statement",
                      value=str(c.get("statement", "")))
        k = 0

        def case(verdict: str, _cid: str = cid, _suite: ET.Element = suite) -> ET.Element:
            nonlocal k
            k += 1
            return ET.SubElement(_suite, "testcase", classname=f"slth_check.{_cid}",
                                 name=f"{_cid} instance {k} ({verdict})")

        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for v in viol:
            msg, body = _violation_text(v, od)
            if v["expected"]:
                tc = case("expected violation")
                ET.SubElement(tc, "system-out").text = "expected (a hypothesis dropped on " \
                    "purpose): " + body
            else:
                tc = case("violated")
                ET.SubElement(tc, "failure", message=msg, type="violated").text = body
                counts["failures"] += 1
            counts["tests"] += 1
        verdicts = c["verdicts"]
        # the violations without an entry in the list (none in reports written by check)
        missing = verdicts.get("violated", 0) - sum(not v["expected"] for v in viol)
        for _ in range(max(missing, 0)):
            tc = case("violated")
            ET.SubElement(tc, "failure", message="violated (no witness recorded)",
                          type="violated")
            counts["tests"] += 1
            counts["failures"] += 1
        for _ in range(verdicts.get("holds", 0)):
            case("holds")
            counts["tests"] += 1
        for word, why in (("unknown", "unknown: neither a proof nor a replayed witness"),
                          ("hypotheses_unmet", "hypotheses unmet: the claim does not apply")):
            for _ in range(verdicts.get(word, 0)):
                ET.SubElement(case(word), "skipped", message=why)
                counts["tests"] += 1
                counts["skipped"] += 1
        for key, val in counts.items():
            suite.set(key, str(val))
            totals[key] += val
        suite.set("errors", "0")
    for key, val in totals.items():
        root.set(key, str(val))
    root.set("errors", "0")
    return root


def _write(root: ET.Element, path: str | Path) -> None:
    ET.indent(root)
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    atomic_write(Path(path), data + b"\n")


def write_junit(report: dict[str, Any], path: str | Path,
                out_dir: str | Path | None = None) -> None:
    """Write the JUnit XML of a ``check`` report to ``path`` (atomically)."""
    _write(junit_document(report, out_dir), path)


def validate_junit_document(verdict: Any, what: str) -> ET.Element:
    """One suite ``validate <what>`` with one case: the implementation under test.

    ``consistent``/``holds`` pass; ``discrepancy``/``violated`` fail (message, diagnosis
    and reproducer in the body); ``unknown`` is skipped.
    """
    cfg = getattr(verdict, "config", None) or {}
    impl = str(cfg.get("impl") or cfg.get("target") or what)
    root = ET.Element("testsuites", name=f"slth-check validate {what}")
    suite = ET.SubElement(root, "testsuite", name=f"validate {what}")
    tc = ET.SubElement(suite, "testcase", classname=f"slth_check.validate.{what}", name=impl)
    failures = skipped = 0
    body = [f"{verdict.verdict}: {verdict.message}"]
    if verdict.diagnosis:
        body.append("diagnosis: " + "; ".join(verdict.diagnosis))
    if verdict.reproducer:
        body.append("reproducer:\n" + verdict.reproducer)
    if verdict.verdict in ("discrepancy", "violated"):
        ET.SubElement(tc, "failure", message=f"{verdict.verdict}: {verdict.message}",
                      type=verdict.verdict).text = "\n".join(body)
        failures = 1
    elif verdict.verdict not in ("consistent", "holds"):
        ET.SubElement(tc, "skipped", message=f"{verdict.verdict}: {verdict.message}")
        skipped = 1
    else:
        ET.SubElement(tc, "system-out").text = "\n".join(body)
    for el in (root, suite):
        el.set("tests", "1")
        el.set("failures", str(failures))
        el.set("skipped", str(skipped))
        el.set("errors", "0")
    return root


def write_validate_junit(verdict: Any, path: str | Path, what: str) -> None:
    """Write the JUnit XML of one ``validate`` verdict to ``path`` (atomically)."""
    _write(validate_junit_document(verdict, what), path)
