"""Issue 12, point 7: what a library already does is not hand-written, and nothing at
run time needs pytest.

* HiGHS (``scipy.optimize.milp``) prints nothing with ``disp=False``: no fd-level
  redirection around it (``os.dup2`` on fd 1 is unsafe with threads);
* the Clopper-Pearson interval of Lemmas 1-2 is scipy's ``binomtest(...).proportion_ci``;
* ``slth-check check`` and ``validate`` run with pytest unimportable.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from slth_check.claims.lemma2 import clopper_pearson
from slth_check.rss import milp as rss_milp


def test_milp_prints_nothing_on_fd1(capfd: pytest.CaptureFixture[str]) -> None:
    """A solve (minimisation and feasibility) leaves fd 1 and fd 2 empty, with pytest's
    fd-level capture in place (the dup2 hack would also have hidden any output, so the
    next test checks the hack is gone)."""
    v = np.random.default_rng(3).uniform(-1, 1, 14)
    r1 = rss_milp.solve_milp(v, 0.37)
    r2 = rss_milp.solve_milp(v, 0.37, eps=0.05)
    assert r1.status in ("optimal", "feasible") and r2.status != "unknown"
    out, err = capfd.readouterr()
    assert out == "" and "HiGHS" not in err


def test_milp_has_no_fd_redirection(monkeypatch: pytest.MonkeyPatch) -> None:
    """No dup/dup2 of a file descriptor during a solve (it would race with any other
    thread writing to stdout)."""
    calls: list[str] = []
    monkeypatch.setattr(os, "dup2", lambda *a, **k: calls.append("dup2"))
    monkeypatch.setattr(os, "dup", lambda *a, **k: calls.append("dup") or 99)
    rss_milp.solve_milp(np.random.default_rng(4).uniform(-1, 1, 10), 0.2)
    assert calls == []


@pytest.mark.parametrize("k,N", [(0, 9), (3, 40), (17, 50), (50, 50)])
def test_clopper_pearson_is_scipys(k: int, N: int) -> None:
    ci = stats.binomtest(k, N).proportion_ci(confidence_level=0.99, method="exact")
    lo, hi = clopper_pearson(k, N)
    assert (lo, hi) == (ci.low, ci.high)
    # and it is the Clopper-Pearson interval: its ends are beta quantiles
    beta_lo = 0.0 if k == 0 else stats.beta.ppf(0.005, k, N - k + 1)
    beta_hi = 1.0 if k == N else stats.beta.ppf(0.995, k + 1, N - k)
    assert abs(lo - beta_lo) < 1e-9 and abs(hi - beta_hi) < 1e-9


_NO_PYTEST = textwrap.dedent("""
    import sys
    for name in ("pytest", "_pytest"):
        sys.modules[name] = None  # any import of pytest now raises ImportError
    from slth_check.cli.main import main
    codes = []
    for argv in ({argvs}):
        try:
            codes.append(main(argv) or 0)
        except SystemExit as e:
            codes.append(e.code)
    print("codes", codes)
    loaded = [m for m in sys.modules if m.split(".")[0] in ("pytest", "_pytest")
              and sys.modules[m] is not None]
    print("pytest modules", loaded)
""")


def test_check_and_validate_run_without_pytest(tmp_path: Path) -> None:
    argvs = [["check", "--claims", "definition1,proposition1", "--out", str(tmp_path / "r")],
             ["validate", "conv2d", "--impl", "scipy", "--max-examples", "5"]]
    proc = subprocess.run([sys.executable, "-c", _NO_PYTEST.format(argvs=argvs)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "codes [0, 0]" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "pytest modules []" in proc.stdout
    assert (tmp_path / "r" / "report.json").is_file()


def test_a_missing_optional_package_is_one_usage_error_naming_the_extra(monkeypatch):
    """Every optional integration goes through errors.require_extra: a missing package is
    a UsageError (exit 2) naming what needs it and the install command, never an
    ImportError traceback; an installed one is returned as the module."""
    import sys

    from slth_check.errors import UsageError, require_extra

    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed
    with pytest.raises(UsageError, match=r"^export: needs the onnx package, which is not "
                       r"installed; install it with pip install 'slth-check\[onnx\]'$"):
        require_extra("onnx", what="export", needs="the onnx package",
                      install="pip install 'slth-check[onnx]'")
    assert require_extra("json", what="x", needs="y", install="z") is sys.modules["json"]
