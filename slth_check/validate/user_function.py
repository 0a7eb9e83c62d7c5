"""The parent side of the sandbox (:mod:`slth_check.validate.sandbox`): a user's function
run in a worker process with a per-call timeout, private copies of every argument and the
check that none was modified (bit for bit).  The worker loads ``sandbox.py`` on its own,
so that module stays importable without the package."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from slth_check.validate import sandbox
from slth_check.validate.sandbox import (
    CONVERTERS,
    IMPORT_TIMEOUT,
    ImplementationLoadError,
    InputModified,
    UserCodeFailure,
    bits_changed,
    call_checked,
    describe_status,
    load_user_function,
    private_copy,
)


def _kill(proc: subprocess.Popen, conn: Connection | None) -> None:
    if conn is not None:
        try:
            conn.close()
        except OSError:
            pass
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass


class UserFunction:
    """The implementation under test, callable as ``.call(*arrays)``.

    Parameters
    ----------
    impl : ``"MODULE:ATTR"`` (run in a worker process) or a Python callable
        (run in-process, see the module docs).
    timeout : seconds allowed per call, and for the import (default 60).
    factory_args : if given, ``MODULE:ATTR`` is a factory called once with these
        (picklable) arguments in the worker, and its result is the function.
    convert : a picklable module-level function applied to the result in the
        worker, or the name of one of :data:`CONVERTERS` (``"real_array"``);
        its exceptions are reported as "returned an unusable value".
    arg_names : names of the arguments, for messages ("modified its input K").
    what : the option name for usage errors (default ``--impl``).

    Use as a context manager (or call :meth:`close`) to stop the worker.
    """

    def __init__(self, impl: str | Callable, timeout: float = 60.0, *,
                 factory_args: Sequence[Any] | None = None,
                 convert: Callable | str | None = None,
                 arg_names: Sequence[str] = (), what: str = "--impl") -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
                or not (timeout > 0 and np.isfinite(timeout)):
            raise ValueError(f"timeout: expected a positive number of seconds, got {timeout!r}")
        if not isinstance(impl, str) and not callable(impl):
            raise ValueError(f"{what}: expected MODULE:ATTR or a callable, got {impl!r}")
        self.spec = impl
        self.timeout = float(timeout)
        self.factory_args = None if factory_args is None else tuple(factory_args)
        # the name the user gave (a factory's first argument is the user's MODULE:ATTR)
        self.label = self.factory_args[0] if self.factory_args and \
            isinstance(self.factory_args[0], str) else impl
        self.convert = convert
        self.arg_names = tuple(arg_names)
        self.what = what
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._finalizer: Any = None
        self.in_process = not isinstance(impl, str) or os.name == "nt"
        self._fn: Callable | None = None
        if isinstance(convert, str) and convert not in CONVERTERS:
            raise ValueError(f"convert: expected a callable or one of {tuple(CONVERTERS)}, "
                             f"got {convert!r}")
        if self.in_process:
            self._fn = load_user_function(impl, self.factory_args, what) \
                if isinstance(impl, str) else impl
            if isinstance(convert, str):
                self.convert = CONVERTERS[convert]

    # -- worker management -------------------------------------------------
    def start(self) -> None:
        """Start the worker and import the function (UserCodeFailure / ValueError)."""
        if self.in_process or self._proc is not None:
            return
        parent, child = socket.socketpair()
        # load this file on its own (not the slth_check package, whose import is slow)
        cmd = [sys.executable, "-c",
               "import importlib.util as u; "
               f"s = u.spec_from_file_location('_slth_check_sandbox', {sandbox.__file__!r}); "
               "m = u.module_from_spec(s); s.loader.exec_module(m); "
               f"m._worker_main({child.fileno()})"]
        try:
            proc = subprocess.Popen(cmd, pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL)
        finally:
            child.close()
        conn = Connection(parent.detach())
        self._proc, self._conn = proc, conn
        self._finalizer = weakref.finalize(self, _kill, proc, conn)
        conn.send(("init", list(sys.path), os.getcwd(), self.spec, self.factory_args,
                   self.convert, self.what))
        try:
            reply = self._receive("while being imported", max(self.timeout, IMPORT_TIMEOUT))
        except UserCodeFailure as exc:  # hung, exited or crashed at import
            raise ImplementationLoadError(f"{self.what}: cannot load {self.label!r}: {exc}") \
                from None
        if reply[0] == "usage":
            self._stop()
            raise ValueError(reply[1])
        if reply[0] == "import":
            self._stop()
            raise ImplementationLoadError(f"{self.what}: cannot load {self.label!r}: {reply[1]}")

    def _receive(self, during: str, timeout: float | None = None) -> tuple:
        assert self._conn is not None and self._proc is not None
        conn, proc = self._conn, self._proc
        timeout = self.timeout if timeout is None else timeout
        try:
            ready = conn.poll(timeout)
        except (EOFError, OSError):
            ready = True
        if not ready:
            self._stop()
            raise UserCodeFailure(f"did not return within {timeout:g} s {during} "
                                  f"(--timeout)", kind="timeout", fatal=True)
        try:
            return conn.recv()
        except (EOFError, OSError):
            try:
                code = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                code = None
            self._stop()
            if code is None:  # pragma: no cover
                raise UserCodeFailure(f"closed its connection {during}", kind="exit",
                                      fatal=True) from None
            kind = "signal" if code < 0 else "exit"
            raise UserCodeFailure(f"{describe_status(code)} {during}", kind=kind,
                                  fatal=True) from None

    def _stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # kills the worker and closes the connection
        self._proc, self._conn, self._finalizer = None, None, None

    def close(self) -> None:
        """Stop the worker process (idempotent)."""
        self._stop()

    def __enter__(self) -> UserFunction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls ---------------------------------------------------------------
    def _name(self, i: int) -> str:
        return self.arg_names[i] if i < len(self.arg_names) else f"argument {i + 1}"

    def call(self, *arrays: np.ndarray, during: str = "while computing a case") -> Any:
        """Call the function on private copies of ``arrays``; its (converted) result.

        Raises :class:`UserCodeFailure` when the function raises, exits,
        crashes, hangs past the timeout or returns something ``convert``
        rejects, and :class:`InputModified` when it changed an input.
        """
        originals = [np.asarray(a) for a in arrays]
        copies = [private_copy(a) for a in originals]
        if self.in_process:
            assert self._fn is not None
            convert = CONVERTERS[self.convert] if isinstance(self.convert, str) else self.convert
            status, value, after = call_checked(self._fn, copies, convert)
        else:
            self.start()
            assert self._conn is not None
            try:
                self._conn.send(("call", copies))
            except OSError:  # the worker died between calls
                self._stop()
                self.start()
                assert self._conn is not None
                self._conn.send(("call", copies))
            status, value, after = self._receive(during)
        if status == "exit":
            if not self.in_process:
                self._stop()
            raise UserCodeFailure(f"called sys.exit({value!r}) {during}", kind="exit",
                                  fatal=True)
        if status == "raised":
            raise UserCodeFailure(f"raised {value} {during}", kind="raised")
        if status == "result":
            raise UserCodeFailure(f"{value} {during}", kind="result")
        for i, (a, b) in enumerate(zip(originals, after)):
            changed = bits_changed(a, np.asarray(b))
            if changed:
                raise InputModified(f"modified its input {self._name(i)} in place "
                                    f"({changed} of {a.size} entries changed) {during}", i)
        return value


__all__ = ["UserFunction"]
