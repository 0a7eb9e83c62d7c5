"""The paper's claims about its own data, audited from the authors' files (issue 21,
point 4); ``unknown`` without the files."""

from __future__ import annotations

import pytest
from support import shared_artifacts

from slth_check.claims.data_audit import data_audit

ART = shared_artifacts()


@pytest.mark.skipif(ART is None, reason="the authors' files are absent")
def test_the_paper_s_data_claims_against_the_files(monkeypatch):
    monkeypatch.setenv("SLTH_CHECK_ARTIFACTS", str(ART))
    by = {a.item: a for a in data_audit()}
    norms = by["1-norms of the trained kernels"]
    # hand-checked: dense1 of Fashion-MNIST is the largest (15003.9), conv1 of MNIST the
    # smallest whole tensor (39.9); per output channel the conv kernels hold 5.2 .. 35.2
    assert norms.status == "confirmed" and "39.9 .. 15003.9" in norms.measured
    assert "5.2 .. 35.2" in norms.measured
    ratio = by["Fashion-MNIST filters against MNIST's"]
    assert ratio.status == "discrepancy" and "max|w| 1.12" in ratio.measured  # not ~2
    for ds in ("MNIST", "FashionMNIST"):
        assert by[f"test accuracy of LeNet5 on {ds}"].status == "confirmed"


def test_without_the_files_every_entry_is_unknown(monkeypatch, tmp_path):
    monkeypatch.delenv("SLTH_CHECK_ARTIFACTS", raising=False)
    monkeypatch.setenv("SLTH_CHECK_DATA_DIR", str(tmp_path / "empty-cache"))
    entries = data_audit()
    assert entries and all(a.status == "unknown" for a in entries)


def test_the_audit_reaches_the_report(tmp_path, monkeypatch):
    import json

    from slth_check.cli import main

    monkeypatch.delenv("SLTH_CHECK_ARTIFACTS", raising=False)
    monkeypatch.setenv("SLTH_CHECK_DATA_DIR", str(tmp_path / "empty-cache"))
    assert main(["check", "--claims", "proposition1", "--out", str(tmp_path / "o")]) == 0
    rep = json.loads((tmp_path / "o" / "report.json").read_text())
    assert any(a["claim"] == "data" and a["status"] == "unknown" for a in rep["audit"])
