"""The property suite ships as ``slth_check.properties`` (issue 12, item 2).

``pytest --pyargs slth_check.properties`` runs it from any folder, against the
reference or a conv2d named by ``--slth-impl`` / ``SLTH_CHECK_IMPL`` (a module in
the current folder loads without ``PYTHONPATH``), with ``--slth-xfails FILE``; the
repository's ``properties/`` holds shims that collect the very same test functions.

The subprocesses start pytest through a launcher script in another folder, so the
current folder is *not* on ``sys.path`` (as with the ``pytest`` command; ``python -m
pytest`` would add it and hide a loader that forgets to).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

import slth_check.properties as suite
from slth_check.testing.plugin import read_xfails, xfail_matches

ROOT = Path(__file__).resolve().parents[1]

WRONG = '''from slth_check.conv import conv2d


def conv(K, X, padding="paper", stride=1):
    """A correlation: Definition 1 without the kernel flip."""
    return conv2d(K[::-1, ::-1], X, padding=padding, stride=stride)
'''

RIGHT = '''from slth_check.conv import conv2d


def conv(K, X, padding="paper", stride=1):
    return conv2d(K, X, padding=padding, stride=stride)
'''


def _launcher(tmp_path: Path) -> Path:
    folder = tmp_path / "launcher"
    folder.mkdir(exist_ok=True)
    script = folder / "runpytest.py"
    script.write_text("import sys\nimport pytest\nsys.exit(pytest.main())\n")
    return script


def _pytest(tmp_path: Path, *args: str, env: dict | None = None,
            python: str = sys.executable) -> subprocess.CompletedProcess:
    """Run pytest in ``tmp_path/work`` (created), the current folder off ``sys.path``."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("PYTHONPATH", "SLTH_CHECK_IMPL", "PYTEST_ADDOPTS")}
    full_env.update(env or {})
    return subprocess.run([python, str(_launcher(tmp_path)), "-p", "no:cacheprovider", *args],
                          cwd=work, env=full_env, capture_output=True, text=True, timeout=900)


def test_shims_collect_the_package_functions_themselves():
    """Each ``properties/test_*.py`` exposes the package module's test functions (the
    same objects: one copy), and every package module has its shim."""
    shipped = sorted(p.stem for p in Path(suite.__file__).parent.glob("test_*.py"))
    assert shipped == sorted(suite.MODULES)
    assert sorted(p.stem for p in (ROOT / "properties").glob("test_*.py")) == shipped
    sys.path.insert(0, str(ROOT))
    try:
        for name in shipped:
            pkg = importlib.import_module(f"slth_check.properties.{name}")
            shim = importlib.import_module(f"properties.{name}")
            tests = {k for k in vars(pkg) if k.startswith("test_")}
            assert tests, name
            assert {k for k in vars(shim) if k.startswith("test_")} == tests, name
            for k in tests:
                assert getattr(shim, k) is getattr(pkg, k), (name, k)
    finally:
        sys.path.remove(str(ROOT))


def _ids(res: subprocess.CompletedProcess) -> list[str]:
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    ids = [line.rsplit("/", 1)[-1] for line in res.stdout.splitlines() if "::" in line]
    return sorted(ids)


def test_repository_and_package_collect_the_same_test_ids(tmp_path):
    here = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--collect-only", "-q", "properties/"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    there = _pytest(tmp_path, "--pyargs", "slth_check.properties", "--collect-only", "-q")
    assert _ids(here) == _ids(there)
    assert len(_ids(there)) >= 20


def test_wrong_module_in_current_folder_fails_with_reproducer(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "wrongconv.py").write_text(WRONG)
    res = _pytest(tmp_path, "--pyargs", "slth_check.properties.test_definition1",
                  "-k", "rounding_bound", "--slth-impl", "wrongconv:conv")
    out = res.stdout + res.stderr
    assert res.returncode == 1, out[-3000:]
    assert "slth-check: conv2d under test = wrongconv:conv" in out
    # the copy-paste reproducer calls the user's function, not the reference
    assert "replay (with your function):" in out and "user_conv('wrongconv:conv'" in out
    assert "should be" in out


def test_env_variable_and_xfails_file(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "wrongconv.py").write_text(WRONG)
    (tmp_path / "work" / "xfails.txt").write_text(
        "# known failures of wrongconv\n\n"
        "test_definition1.py::test_float_within_proven_rounding_bound  # no flip\n"
        "test_definition1.py::test_no_such_test\n")
    env = {"SLTH_CHECK_IMPL": "wrongconv:conv"}
    args = ("--pyargs", "slth_check.properties.test_definition1", "-k", "rounding_bound")
    res = _pytest(tmp_path, *args, env=env)
    assert res.returncode == 1, res.stdout[-3000:]
    assert "conv2d under test = wrongconv:conv" in res.stdout
    res = _pytest(tmp_path, *args, "--slth-xfails", "xfails.txt", env=env)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "1 xfailed" in res.stdout
    assert "no test matches test_definition1.py::test_no_such_test" in res.stdout
    res = _pytest(tmp_path, *args, "--slth-xfails", "missing.txt", env=env)
    assert res.returncode == 4 and "--slth-xfails: cannot read" in res.stderr, res.stderr


def test_right_module_in_current_folder_passes(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "rightconv.py").write_text(RIGHT)
    res = _pytest(tmp_path, "--pyargs", "slth_check.properties.test_definition1",
                  "-k", "proven_rounding_bound or batch", "--slth-impl", "rightconv:conv")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "2 passed" in res.stdout


@pytest.mark.parametrize("spec,message", [
    ("nosuchmodule_xyz:conv", "No module named 'nosuchmodule_xyz'"),
    ("slth_check.conv:no_such_attr", "AttributeError"),
    ("slth_check:__version__", "is not callable"),
    ("slth_check.conv.conv2d", "expected MODULE:ATTR"),
])
def test_unloadable_impl_is_a_usage_error(tmp_path, spec, message):
    res = _pytest(tmp_path, "--pyargs", "slth_check.properties.test_proposition1",
                  "--slth-impl", spec)
    assert res.returncode == 4, res.stdout[-2000:] + res.stderr[-2000:]
    assert "--slth-impl: " in res.stderr and message in res.stderr, res.stderr[-2000:]


def test_xfails_file_parsing_and_matching(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("# comment\n  a.py::t  # why\n\nt2\n")
    assert read_xfails(str(f)) == ["a.py::t", "t2"]
    assert xfail_matches("a.py::t", "a.py::t")
    assert xfail_matches("a.py::t", "site/pkg/a.py::t[3]")
    assert xfail_matches("t", "a.py::t")
    assert not xfail_matches("a.py::t", "b.py::t")
    assert not xfail_matches("a.py::t", "a.py::t2")
    assert not xfail_matches("a.py::t", "xa.py::t")


@pytest.mark.slow
def test_installed_suite_passes_from_another_folder(tmp_path):
    """The whole shipped suite, from a folder that is not the repository (slow: the
    default run already runs these tests through the ``properties/`` shims)."""
    res = _pytest(tmp_path, "--pyargs", "slth_check.properties", "-q")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert " passed" in res.stdout and "failed" not in res.stdout


@pytest.mark.slow
def test_wheel_installed_suite(tmp_path):
    """A wheel built from this tree (not editable), in a fresh venv whose dependencies
    come from this environment: the suite passes; a wrong module fails it."""
    whl = tmp_path / "whl"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "-q", "-w", str(whl), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    wheels = list(whl.glob("*.whl"))
    if build.returncode != 0 or not wheels:
        pytest.skip(f"cannot build the wheel here: {build.stderr[-500:]}")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = str(env_dir / ("Scripts" if os.name == "nt" else "bin") / "python")
    inst = subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                           str(wheels[0])], capture_output=True, text=True, timeout=600)
    assert inst.returncode == 0, inst.stderr
    purelib = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], capture_output=True, text=True).stdout.strip()
    # the dependencies of this environment, after the wheel (no .pth of it is processed,
    # so its editable finder stays off)
    Path(purelib, "zz_dev_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run([py, "-c", "import slth_check; print(slth_check.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert where.stdout.startswith(str(env_dir)), where.stdout + where.stderr
    res = _pytest(tmp_path, "--pyargs", "slth_check.properties", "-q", python=py)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (tmp_path / "work" / "wrongconv.py").write_text(WRONG)
    res = _pytest(tmp_path, "--pyargs", "slth_check.properties", "-q", "-x",
                  "--slth-impl", "wrongconv:conv", python=py)
    assert res.returncode == 1 and "replay:" in res.stdout, res.stdout[-3000:]
