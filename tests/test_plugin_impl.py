"""The pytest route with a user's conv2d (issue 18, point 6): the signature is checked up
front with one clear message, the user says which paddings and strides the function
implements, and a failure's replay snippet calls the user's function."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from slth_check.testing.user_conv import parse_paddings, parse_strides, user_conv

PAPER_ONLY = textwrap.dedent('''
    import numpy as np
    from slth_check import conv2d

    def paper_only(K, X):
        """Definition 1's padding, stride 1: correct."""
        return conv2d(K, X)

    def paper_only_wrong(K, X):
        """Not flipped: wrong."""
        return conv2d(np.asarray(K)[::-1, ::-1], X)

    def one_arg(K):
        return K
''')


def _pytest(tmp_path, *args):
    (tmp_path / "userconv.py").write_text(PAPER_ONLY)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           "--pyargs", "slth_check.properties.test_definition1",
                           "-k", "rounding_bound", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)


def test_a_function_without_padding_keyword_needs_the_modes_said(tmp_path):
    r = _pytest(tmp_path, "--slth-impl", "userconv:paper_only")
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "--slth-paddings paper" in out and "no padding= keyword" in out
    assert out.count("Traceback") == 0


def test_with_the_modes_said_the_function_is_tested_on_them(tmp_path):
    r = _pytest(tmp_path, "--slth-impl", "userconv:paper_only", "--slth-paddings", "paper",
                "--slth-strides", "1")
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_failure_replays_with_the_users_function(tmp_path):
    r = _pytest(tmp_path, "--slth-impl", "userconv:paper_only_wrong", "--slth-paddings",
                "paper", "--slth-strides", "1")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "user_conv('userconv:paper_only_wrong', ('paper',), (1,))" in r.stdout, r.stdout


def test_a_wrong_signature_is_one_clear_message(tmp_path):
    r = _pytest(tmp_path, "--slth-impl", "userconv:one_arg")
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "taking K and X positionally" in out


def test_the_reference_draws_every_mode():
    ref = user_conv(None)
    assert ref.spec is None and len(ref.paddings) == 5 and ref.strides == (1, 2)


@pytest.mark.parametrize("text", ["", "paper,circular", "sideways"])
def test_bad_paddings_are_refused(text):
    with pytest.raises(ValueError, match="--slth-paddings"):
        parse_paddings(text)


@pytest.mark.parametrize("text", ["", "0", "1,x", "-2"])
def test_bad_strides_are_refused(text):
    with pytest.raises(ValueError, match="--slth-strides"):
        parse_strides(text)
