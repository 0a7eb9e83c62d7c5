"""The user-code sandbox: private copies, worker reuse and restart, failures named."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from slth_check.validate.sandbox import InputModified, UserCodeFailure
from slth_check.validate.user_function import UserFunction

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def _probe_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


def test_arguments_are_private_contiguous_copies_in_their_dtype():
    K = np.arange(4.0).reshape(1, 1, 2, 2)[::-1, ::-1]  # a 1x1 flip: negative strides
    assert min(K.strides) < 0
    X = np.ones((3, 2), dtype=np.float32)[::2]  # not contiguous
    with UserFunction("sandbox_probe:describe", 30) as f:
        seen, _ = f.call(K, X)
    assert seen[0][0] and min(seen[0][1]) >= 0 and seen[0][2] == "<f8"
    assert seen[1][0] and min(seen[1][1]) >= 0 and seen[1][2] == "<f4"
    from sandbox_probe import describe

    seen, _ = UserFunction(describe).call(K, X)  # in-process: no pickling in between
    assert all(c and min(s) >= 0 for c, s, _ in seen), seen


def test_one_worker_serves_many_calls_and_is_restarted_after_a_failure():
    a = np.ones(3)
    with UserFunction("sandbox_probe:exit_on_negative", 30) as f:
        assert not f.in_process
        f.start()
        assert f._proc is not None
        pid1 = f._proc.pid
        np.testing.assert_array_equal(f.call(a, a), 2 * a)
        np.testing.assert_array_equal(f.call(a, a), 2 * a)
        assert f._proc is not None and f._proc.pid == pid1  # the same worker
        with pytest.raises(UserCodeFailure, match="exited with status 0") as exc:
            f.call(-a, a)
        assert exc.value.fatal and exc.value.kind == "exit"
        np.testing.assert_array_equal(f.call(a, a), 2 * a)  # a new worker
        assert f._proc is not None and f._proc.pid != pid1


def test_modified_input_is_reported_by_name_and_caller_arrays_are_untouched():
    a, b = np.ones(3), np.full(3, 5.0)
    with UserFunction("sandbox_probe:modify_second", 30, arg_names=("K", "X")) as f:
        with pytest.raises(InputModified, match="modified its input X in place") as exc:
            f.call(a, b)
    assert exc.value.index == 1
    np.testing.assert_array_equal(b, 5.0)


def test_python_callables_run_in_process_with_the_same_checks():
    def relu_in_place(K, X):
        np.maximum(X, 0, out=X)
        return X

    X = np.array([-1.0, 2.0])
    f = UserFunction(relu_in_place, arg_names=("K", "X"))
    assert f.in_process
    with pytest.raises(InputModified, match="input X"):
        f.call(np.ones(1), X)
    np.testing.assert_array_equal(X, [-1.0, 2.0])

    def exits(K, X):
        sys.exit(0)

    with pytest.raises(UserCodeFailure, match=r"sys.exit\(0\)"):
        UserFunction(exits).call(np.ones(1), X)


def test_bad_arguments_name_what_was_expected():
    with pytest.raises(ValueError, match="timeout"):
        UserFunction("sandbox_probe:add", 0)
    with pytest.raises(ValueError, match="MODULE:ATTR"):
        UserFunction("sandbox_probe_add", 5).start()
    with pytest.raises(ValueError, match="convert"):
        UserFunction("sandbox_probe:add", 5, convert="no_such_converter")
