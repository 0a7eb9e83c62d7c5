"""``--json -`` (issue 18, point 5): nothing but JSON on stdout, even when native code
or a user's function writes to file descriptor 1, or Python code prints."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np

NOISY = textwrap.dedent('''
    import os
    import numpy as np

    def solver(values, target):
        os.write(1, b"HiGHS-like native line on fd 1\\n")
        print("a print of the user's solver")
        return np.zeros(len(values), dtype=bool)
''')


def _run(args, cwd, env_path):
    env = {"PYTHONPATH": str(env_path), "PATH": "/usr/bin:/bin"}
    import os

    env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "slth_check", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


def test_native_and_python_writes_to_stdout_leave_the_json_alone(tmp_path):
    (tmp_path / "noisy_solver.py").write_text(NOISY)
    r = _run(["validate", "rss", "--impl", "noisy_solver:solver", "--max-n", "3",
              "--max-examples", "5", "--json", "-"], tmp_path, tmp_path)
    doc = json.loads(r.stdout)  # the whole of stdout is one JSON document
    assert doc["verdict"] == "consistent" and r.returncode == 0, r.stderr
    assert "HiGHS-like" in r.stderr and "print of the user" in r.stderr


def test_in_process_native_writes_go_to_stderr(tmp_path):
    """The guard itself: fd-1 writes inside the block reach stderr, emit_json stdout."""
    code = textwrap.dedent('''
        import os
        from slth_check.cli.json_stdout import emit_json, json_only_stdout
        with json_only_stdout():
            os.write(1, b"native noise\\n")
            print("python noise")
            emit_json({"ok": 1})
        print("after")
    ''')
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout == '{\n  "ok": 1\n}\nafter\n', r.stdout
    assert "native noise" in r.stderr and "python noise" in r.stderr


def test_validate_pruned_json_dash_is_json_only(tmp_path):
    one = np.ones((1, 1, 1, 1))
    for name, d in (("T", {"K1": one}), ("R", {"U1": one, "V1": one}),
                    ("M", {"S1": one, "T1": one})):
        np.savez(tmp_path / f"{name}.npz", **d)
    r = _run(["validate", "pruned", "--target", "T.npz", "--random", "R.npz", "--masks",
              "M.npz", "--eps", "0.1", "--json", "-"], tmp_path, tmp_path)
    assert json.loads(r.stdout)["verdict"] == "holds", r.stdout + r.stderr
    assert r.returncode == 0


def test_check_takes_json_dash_and_prints_an_overall_verdict(tmp_path):
    r = _run(["check", "--claims", "proposition1", "--out", str(tmp_path / "o"), "--json",
              "-"], tmp_path, tmp_path)
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["claims"][0]["id"] == "proposition1"
    assert "overall: holds" in r.stderr, r.stderr
