"""The pytest plugin stays out of other projects' way: no header line, no profile named
like theirs, nothing of slth-check imported at start-up."""

from __future__ import annotations

import subprocess
import sys


def _run(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=tmp_path, capture_output=True, text=True)


def test_foreign_project_keeps_its_ci_profile_and_header(tmp_path):
    (tmp_path / "conftest.py").write_text(
        "from hypothesis import settings\nsettings.register_profile('ci', max_examples=3)\n")
    (tmp_path / "test_x.py").write_text(
        "import sys\nfrom hypothesis import settings\n"
        "def test_profile():\n    assert settings.default.max_examples == 3\n"
        "def test_nothing_heavy_imported():\n"
        "    assert 'slth_check.conv' not in sys.modules and 'scipy' not in sys.modules\n")
    res = _run(tmp_path, "--hypothesis-profile=ci")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "conv2d under test" not in res.stdout


def test_header_line_only_with_slth_impl(tmp_path):
    (tmp_path / "test_x.py").write_text("def test_ok():\n    pass\n")
    res = _run(tmp_path, "--slth-impl", "slth_check.conv:conv2d")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "slth-check: conv2d under test = slth_check.conv:conv2d" in res.stdout
