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


def test_every_subcommand_takes_json(tmp_path):
    """Every subcommand's parser has --json (PATH or -)."""
    import argparse

    from slth_check.cli import build_parser

    def leaves(parser, path=()):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            yield path, parser
        for a in subs:
            for name, sub in a.choices.items():
                yield from leaves(sub, path + (name,))

    missing = [" ".join(p) for p, q in leaves(build_parser())
               if not any("--json" in a.option_strings for a in q._actions)]
    assert missing == [], missing


def test_replay_json_dash(tmp_path):
    np.savez(tmp_path / "w.npz", meta=np.array(json.dumps({"claim": "definition1"})),
             K=np.ones((1, 1, 1, 1)), X=np.ones((2, 2, 1)))
    r = _run(["replay", str(tmp_path / "w.npz"), "--json", "-"], tmp_path, tmp_path)
    assert json.loads(r.stdout)["verdict"] == "holds" and r.returncode == 0, r.stderr


def test_the_overall_line_says_holds_only_when_every_outcome_holds():
    from slth_check.cli.check import overall_line

    def rep(**v):
        base = {"holds": 3, "violated": 0, "unknown": 0, "hypotheses_unmet": 0}
        return {"claims": [{"verdicts": {**base, **v}, "expected_violations": 1}]}

    assert overall_line(rep(), []).startswith("overall: holds (")
    assert overall_line(rep(unknown=1), []).startswith("overall: no violation found (")
    assert overall_line(rep(hypotheses_unmet=2), []).startswith("overall: no violation found (")
    assert overall_line(rep(), [{"expected": False}]).startswith("overall: violated (")
