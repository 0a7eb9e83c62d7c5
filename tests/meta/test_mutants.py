"""Each mutant of a public component makes its property file fail (the suite can fail).

Every run is a fresh pytest process on one property file with the mutant applied by
``mutant_plugin`` before collection; the unmutated file passes in the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mutants import MUTANTS

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def run_property_file(path: str, mutant: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    env.pop("SLTH_MUTANT", None)
    if mutant:
        env["SLTH_MUTANT"] = mutant
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "mutant_plugin",
                           "-p", "no:cacheprovider", path], cwd=ROOT, env=env,
                          capture_output=True, text=True)


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_mutant_makes_its_property_file_fail(mutant):
    path = MUTANTS[mutant][0]
    res = run_property_file(path, mutant)
    assert res.returncode == 1, (f"{mutant}: {path} did not fail (exit {res.returncode})\n"
                                 + res.stdout[-2000:] + res.stderr[-2000:])


def test_plugin_without_a_mutant_changes_nothing():
    """The plugin loaded without SLTH_MUTANT patches nothing: a property file passes (the
    cheapest one; every property file also passes in the main run, without the plugin)."""
    res = run_property_file("properties/test_proposition1.py", None)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert " passed" in res.stdout and "failed" not in res.stdout
