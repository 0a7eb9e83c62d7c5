"""The slth-check command and its report."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import without_times

from slth_check.cli.main import main


def test_check_writes_report(tmp_path):
    out = tmp_path / "r"
    rc = main(["check", "--claims", "definition1,proposition1", "--out", str(out)])
    assert rc == 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["schema_version"] == 1
    assert set(rep) >= {"schema_version", "run", "claims", "violations", "audit"}
    assert set(rep["run"]) >= {"id", "seed", "profile", "start", "end", "versions"}
    ids = [c["id"] for c in rep["claims"]]
    assert ids == ["definition1", "proposition1"]
    for c in rep["claims"]:
        assert set(c["verdicts"]) == {"holds", "violated", "unknown", "hypotheses_unmet"}
        assert c["instances"] == sum(c["verdicts"].values()) + c["expected_violations"] > 0
        assert c["verdicts"]["violated"] == 0
        assert {"ratio", "observed", "bound", "witness"} <= set(c["worst"])
    prop = rep["claims"][1]
    assert any("proved for all real K (3,3,1,1)" in n for n in prop["notes"])
    md = (out / "report.md").read_text()
    assert md.startswith("# slth-check report")
    # each claim's figures exist and sit, captioned, in the claim's own section
    for c in rep["claims"]:
        assert c["figures"] and all((out / f["path"]).is_file() for f in c["figures"])
        section = md.split(f"## {c['id']}\n", 1)[1].split("\n## ", 1)[0]
        for f in c["figures"]:
            assert f"]({f['path']})" in section and f["caption"] in section
    assert sorted(rep["figures"]) == sorted(f["path"] for c in rep["claims"]
                                            for f in c["figures"])



def _without_figures(o):
    """A report without its figure entries (the one part a run without figures lacks)."""
    if isinstance(o, dict):
        return {k: _without_figures(v) for k, v in o.items() if k != "figures"}
    if isinstance(o, list):
        return [_without_figures(v) for v in o]
    return o


def test_same_seed_same_report(tmp_path):
    """Every claim of the default run (profile ci), twice with seed 7: once as
    ``slth-check check`` (processes, figures), once in-process without figures and on the
    synchronous scheduler; the reports are equal but for times and figure entries."""
    from slth_check.runner import run_check

    assert main(["check", "--seed", "7", "--out", str(tmp_path / "0")]) == 0
    first = json.loads((tmp_path / "0" / "report.json").read_text())
    assert first["figures"]  # the first run drew its figures
    second, _ = run_check(seed=7, out_dir=tmp_path / "1", figures=False,
                          scheduler="synchronous", progress=False)
    assert json.loads((tmp_path / "1" / "report.json").read_text()) == second
    assert _without_figures(without_times(first)) == _without_figures(without_times(second))
    other, _ = run_check(claim_ids=["lemma2"], seed=8, out_dir=tmp_path / "other",
                         figures=False, progress=False)
    assert without_times(other)["claims"][0] != next(
        c for c in without_times(first)["claims"] if c["id"] == "lemma2")


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["check", "--claims", "nonsense", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "claims: unknown claim id" in err and "Traceback" not in err
    assert main(["replay", str(tmp_path / "missing.npz")]) == 2


def test_console_script_runs(tmp_path):
    r = subprocess.run([sys.executable, "-m", "slth_check.cli.main", "check", "--claims",
                        "definition1", "--out", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "definition1" in r.stdout


def test_replay_of_a_violation(tmp_path):
    """A deliberately wrong conv2d gives a witness that replays as violated... on the wrong
    implementation only: replay uses the reference, which holds."""
    import numpy as np

    from slth_check.claims.definition1 import ConvInstance, Definition1
    from slth_check.fileio.witnesses import save_witness
    from slth_check.replay import replay

    wrong = lambda K, X, padding="paper", stride=1: np.zeros((3, 3, 1))  # noqa: E731
    out = Definition1(wrong).check(ConvInstance(np.ones((2, 2, 1, 1)), np.ones((3, 3, 1))))
    assert out.verdict == "violated"
    path = save_witness(tmp_path / "witnesses", "w", out)
    verdict, _ = replay(tmp_path / path)
    assert verdict == "holds"  # the reference satisfies Definition 1 on the witness
    with pytest.raises(ValueError, match="witness: .* not a slth-check witness"):
        (tmp_path / "bad.npz").write_bytes(b"not a zip")
        replay(tmp_path / "bad.npz")


def test_interrupted_run_leaves_no_complete_report(tmp_path, monkeypatch):
    import slth_check.report.document as report
    import slth_check.runner as runner

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "to_markdown", boom)
    with pytest.raises(KeyboardInterrupt):
        runner.run_check(claim_ids=["proposition1"], out_dir=tmp_path, figures=False)
    assert not (tmp_path / "report.json").exists()
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_atomic_write_cleans_up_on_failure(tmp_path):
    from slth_check.fileio.files import atomic_write

    target = tmp_path / "f.json"
    atomic_write(target, "old")

    with pytest.raises(TypeError):
        atomic_write(target, 123)  # not str/bytes: the write fails
    assert target.read_text() == "old"  # the previous file is intact


def test_output_files_follow_the_umask(tmp_path):
    import os

    from slth_check.fileio.files import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.json", "{}")
        os.umask(0o077)
        atomic_write(tmp_path / "b.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644  # mkstemp alone gives 0600
    assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".*.tmp"))


def test_every_witness_of_a_report_replays(tmp_path, capsys):
    assert main(["check", "--claims", "lemma2,theorem1", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    rep = json.loads((tmp_path / "report.json").read_text())
    assert len(rep["violations"]) == 4 and all(v["expected"] for v in rep["violations"])
    for v in rep["violations"]:  # negative controls: a hypothesis dropped on purpose
        assert main(["replay", str(tmp_path / v["witness"])]) == 3
        out = capsys.readouterr().out
        assert out.startswith("hypotheses_unmet:") and "exact error at X" in out, out


def test_reproduce_without_artifacts_is_a_usage_error(tmp_path, capsys):
    assert main(["reproduce", "paper", "--artifacts", str(tmp_path / "none")]) == 2
    assert "artifacts: no such folder" in capsys.readouterr().err
