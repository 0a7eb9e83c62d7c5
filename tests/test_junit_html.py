"""JUnit XML and the single-file HTML report (issue 12, item 4).

The XML is parsed back (one ``<testcase>`` per instance, violations as failures that
name the witness); the HTML embeds its figures as base64 PNG, defines the verdict
words and "worst ratio", and gives each violation its replay command; a real headless
Chromium loads it and takes a screenshot (skipped when no browser is installed).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from slth_check.cli.main import main
from slth_check.report.html import LEGEND, html_document, write_html
from slth_check.report.junit import junit_document, write_junit, write_validate_junit
from slth_check.validate import Verdict

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "docs" / "sample-report"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
       b"\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _report(tmp_path: Path) -> dict:
    """A small report with every verdict, an unexpected and an expected violation, a
    figure and a witness under ``tmp_path``."""
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "lemma2-ratios.png").write_bytes(PNG)
    (tmp_path / "figures" / "rss-gap.png").write_bytes(PNG)
    claims = [
        {"id": "lemma2", "statement": "Lemma 2 <eps>", "hypotheses": "K in class", "instances": 7,
         "verdicts": {"holds": 2, "violated": 1, "unknown": 1, "hypotheses_unmet": 2},
         "expected_violations": 1, "methods": ["exact"],
         "worst": {"ratio": 1.5, "observed": 0.15, "bound": 0.1,
                   "witness": "witnesses/lemma2-violation-1.npz", "detail": ""},
         "ratios": {"count": 3}, "notes": ["a note"], "summary": {"table": "| a |"}},
        {"id": "proposition1", "statement": "Proposition 1", "hypotheses": "", "instances": 3,
         "verdicts": {"holds": 3, "violated": 0, "unknown": 0, "hypotheses_unmet": 0},
         "expected_violations": 0, "methods": ["z3"], "worst": None, "ratios": {"count": 0},
         "notes": [], "summary": {}},
    ]
    violations = [
        {"claim": "lemma2", "expected": False, "observed": 0.15, "bound": 0.1,
         "witness": "witnesses/lemma2-violation-1.npz", "detail": "error 0.15 >= eps"},
        {"claim": "lemma2", "expected": True, "observed": 0.5, "bound": 0.1,
         "witness": "witnesses/lemma2-violation-2.npz", "detail": "negative control"},
    ]
    return {"schema_version": 1, "run": {"id": "r1", "seed": 0, "profile": "ci",
                                         "start": "s", "end": "e"},
            "claims": claims, "violations": violations, "audit": [],
            "figures": ["figures/lemma2-ratios.png", "figures/rss-gap.png"]}


def test_junit_one_testcase_per_instance_and_failures_name_the_witness(tmp_path):
    rep = _report(tmp_path)
    path = tmp_path / "junit.xml"
    write_junit(rep, path, out_dir=tmp_path)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"lemma2", "proposition1"}
    for c in rep["claims"]:
        cases = suites[c["id"]].findall("testcase")
        assert len(cases) == c["instances"] == int(suites[c["id"]].get("tests"))
    lemma2 = suites["lemma2"]
    failures = lemma2.findall("testcase/failure")
    assert len(failures) == 1 == int(lemma2.get("failures"))
    witness = str(tmp_path / "witnesses/lemma2-violation-1.npz")
    assert witness in failures[0].get("message")
    assert f"slth-check replay {witness}" in failures[0].text
    assert len(lemma2.findall("testcase/skipped")) == 3 == int(lemma2.get("skipped"))
    assert int(root.get("tests")) == 10 and int(root.get("failures")) == 1


def test_junit_of_the_sample_report_counts_every_instance():
    rep = json.loads((SAMPLE / "report.json").read_text())
    root = ET.fromstring(ET.tostring(junit_document(rep, SAMPLE)))
    assert len(root.findall("testsuite/testcase")) == sum(c["instances"]
                                                           for c in rep["claims"])


def test_validate_junit_pass_fail_skip(tmp_path):
    for verdict, tag in (("consistent", None), ("discrepancy", "failure"),
                         ("unknown", "skipped")):
        v = Verdict(verdict, "msg <&>", None, "repro()", ["not flipped"], {"impl": "m:f"})
        path = tmp_path / f"{verdict}.xml"
        write_validate_junit(v, path, "conv2d")
        root = ET.parse(path).getroot()
        cases = root.findall("testsuite/testcase")
        assert len(cases) == 1 and cases[0].get("name") == "m:f"
        children = {c.tag for c in cases[0]} - {"system-out"}
        assert children == ({tag} if tag else set()), verdict
        if tag == "failure":
            assert "not flipped" in cases[0].find("failure").text
            assert "repro()" in cases[0].find("failure").text


class _Parse(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag in ("link", "script") or (tag == "a" and not a.get("href", "#").startswith("#")):
            self.links.append(tag)


def test_html_is_self_contained_with_definitions_and_replay_commands(tmp_path):
    rep = _report(tmp_path)
    path = tmp_path / "report.html"
    write_html(rep, tmp_path, path)
    text = path.read_text()
    parser = _Parse()
    parser.feed(text)
    assert len(parser.imgs) == 2
    for src in parser.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == PNG
    assert parser.links == []  # no external file, script or link
    for word in ("holds", "violated", "unknown", "hypotheses unmet", "expected violation",
                 "worst ratio"):
        assert f"<dt>{word}</dt>" in text, word
        assert LEGEND[word].split()[2] in text
    for n in (1, 2):
        assert f"slth-check replay {tmp_path / f'witnesses/lemma2-violation-{n}.npz'}" in text
    assert "Lemma 2 &lt;eps&gt;" in text  # escaped


def test_html_of_the_sample_report_embeds_all_its_figures():
    rep = json.loads((SAMPLE / "report.json").read_text())
    text = html_document(rep, SAMPLE)
    assert text.count("data:image/png;base64,") == len(rep["figures"]) > 0
    assert "is missing" not in text


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None,
                    reason="no Chromium installed (Debian: apt-get install chromium)")
def test_html_opens_in_headless_chromium(tmp_path):
    rep = _report(tmp_path)
    page = tmp_path / "report.html"
    write_html(rep, tmp_path, page)
    shot = tmp_path / "shot.png"
    res = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                          f"--screenshot={shot}", "--window-size=1200,1600",
                          page.resolve().as_uri()], capture_output=True, text=True,
                         timeout=120)
    assert shot.is_file(), res.stdout + res.stderr
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000  # a rendered page, not blank
    dom = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                          "--dump-dom", page.resolve().as_uri()], capture_output=True,
                         text=True, timeout=120)
    assert "worst ratio" in dom.stdout and "slth-check replay" in dom.stdout


def test_check_writes_junit_and_html(tmp_path):
    out = tmp_path / "run"
    code = main(["check", "--claims", "proposition1", "--out", str(out),
                 "--junit", str(tmp_path / "j.xml"), "--html", str(tmp_path / "r.html")])
    assert code == 0
    rep = json.loads((out / "report.json").read_text())
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert len(root.findall("testsuite/testcase")) == rep["claims"][0]["instances"]
    text = (tmp_path / "r.html").read_text()
    assert text.count("data:image/png;base64,") == len(rep["figures"])


def test_validate_writes_junit(tmp_path):
    path = tmp_path / "v.xml"
    code = main(["validate", "conv2d", "--impl", "scipy", "--max-examples", "5",
                 "--junit", str(path)])
    assert code == 0
    root = ET.parse(path).getroot()
    assert root.find("testsuite").get("name") == "validate conv2d"
    assert len(root.findall("testsuite/testcase")) == 1
    assert root.find("testsuite/testcase/failure") is None
