"""Run user code where its failures cannot pass for results (shared by the validators).

:class:`UserFunction` wraps the implementation under test.  Given a
``MODULE:ATTR`` string, it imports and calls the function in a separate
worker process (``python -c``, talking over a socketpair with
:mod:`multiprocessing.connection`), so that

* a call that does not return within ``timeout`` seconds is killed and
  reported ("did not return within 60 s");
* ``sys.exit(...)`` (caught in the worker), ``os._exit(...)`` and a crash in
  native code (a segfault: the worker dies from a signal) are reported as
  failures of the implementation, with the exit status or the signal;
* a module that cannot be loaded (``SyntaxError``, a ``raise``, ``sys.exit``,
  ``os._exit``, a crash or a hang while being imported, a missing dependency)
  raises :class:`ImplementationLoadError` from :meth:`UserFunction.start`, and a
  module that does not exist, a missing attribute or a non-callable attribute a
  :class:`ValueError`: both are input errors of the command (exit 2, one line):
  no call was made, so there is no finding about the function;
* an exception raised by the function is reported with its type and message.

Every such failure raises :class:`UserCodeFailure` from :meth:`UserFunction.call`
(its ``kind`` says which); the validators turn it into a *discrepancy*, never
into ``consistent`` and never into a crash of slth-check.

One worker is kept alive across calls (the start-up, an interpreter with
NumPy, costs a fraction of a second) and restarted after a fatal failure.
The worker prepends the current folder to ``sys.path`` (after the parent's
``sys.path``, which it inherits), ignores Ctrl-C (the parent kills it on
exit) and exits when its parent disappears.

Arguments are handed over as *private copies*: C-contiguous NumPy arrays with
non-negative strides, in the dtype the caller chose.  After the call the
arrays the function received are compared with the caller's originals; a
function that modified one raises :class:`InputModified` ("modified its input
K in place").

A Python callable given directly (the Python API, not a string) runs
*in-process*: it gets private copies and the modification check, but no
timeout and no protection against ``sys.exit`` / ``os._exit``.  On Windows
(no ``pass_fds``) string specs run in-process too.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

__all__ = ["CONVERTERS", "IMPORT_TIMEOUT", "ImplementationLoadError", "ImportFailed",
           "InputModified", "UserCodeFailure", "bits_changed", "call_checked", "describe_status",
           "load_user_function", "private_copy", "real_array"]

#: Seconds a worker may take to start and import the implementation, whatever the
#: per-call ``timeout``: start-up on a loaded machine must not read as a failure.
IMPORT_TIMEOUT = 120.0


class UserCodeFailure(Exception):
    """The user's code failed: raised, exited, crashed, hung, or could not be imported.

    ``kind`` is one of ``"raised"``, ``"exit"``, ``"signal"``, ``"timeout"``,
    ``"import"``, ``"modified"``, ``"result"``; ``fatal`` is true when the
    worker process had to be (re)started (exit, signal, timeout, import).
    """

    def __init__(self, message: str, kind: str = "raised", fatal: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.fatal = fatal


class ImplementationLoadError(ValueError):
    """The implementation could not be loaded: its module raised, exited, crashed or hung
    while being imported.  An input error of the command (exit 2, one line), not a
    finding about the function: no call was ever made."""


class InputModified(UserCodeFailure):
    """The function modified one of its input arrays in place (``index`` 0-based)."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message, kind="modified")
        self.index = index


def private_copy(a: Any, dtype: Any = None) -> np.ndarray:
    """A fresh C-contiguous copy of ``a`` (non-negative strides), as ``dtype`` if given."""
    return np.array(a, dtype=dtype, order="C", copy=True)


def real_array(Y: Any) -> np.ndarray:
    """A result as a float64 array: NumPy arrays, array-likes and torch tensors of real
    numbers (ValueError for complex or non-numeric results).  Usable as ``convert``
    by name (``convert="real_array"``): the worker then needs no other import."""
    if hasattr(Y, "detach") and hasattr(Y, "cpu"):  # a torch tensor
        Y = Y.detach().cpu()
        if str(getattr(Y, "dtype", "")) == "torch.bfloat16":
            Y = Y.float()
        Y = Y.numpy()
    a = np.asarray(Y)
    if a.dtype.kind == "c":
        raise ValueError(f"a complex array of shape {a.shape} (take the real part?)")
    if a.dtype == object:
        return _real_objects(a)
    if a.dtype.kind not in "fiu":
        raise ValueError(f"an array of dtype {a.dtype} and shape {a.shape}, expected real "
                         "numbers")
    return np.array(a, dtype=np.float64)


def _real_objects(a: np.ndarray) -> np.ndarray:
    """An object array of real numbers (Fractions, ints, mpmath numbers: an exact
    implementation's result), each correctly rounded to float64."""
    import numbers

    out = np.empty(a.shape, dtype=np.float64)
    for idx, v in np.ndenumerate(a):
        if isinstance(v, (str, bytes, complex)) or not (
                isinstance(v, numbers.Real) or hasattr(v, "__float__")):
            raise ValueError(f"an array of dtype object and shape {a.shape} whose entry "
                             f"{idx} is {type(v).__name__} {v!r:.40}, expected real numbers")
        try:
            out[idx] = float(v)
        except (OverflowError, TypeError, ValueError) as exc:
            raise ValueError(f"entry {idx} of the result, {v!r:.40}, is not a float64 "
                             f"number ({exc})") from None
    return out


def bits_changed(a: np.ndarray, b: np.ndarray) -> int:
    """How many entries of ``b`` differ from ``a`` bit for bit (all of them when the shape
    or dtype differ): +0.0 -> -0.0 and a NaN's payload count as changes."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return max(a.size, 1)
    if a.size == 0:
        return 0
    if a.dtype == object:
        return int(np.sum(a != b))
    ab = np.ascontiguousarray(a).reshape(-1).view(np.uint8).reshape(a.size, -1)
    bb = np.ascontiguousarray(b).reshape(-1).view(np.uint8).reshape(b.size, -1)
    return int(np.any(ab != bb, axis=1).sum())


#: Converters that can be named by a string (resolved inside the worker).
CONVERTERS: dict[str, Callable] = {"real_array": real_array}


def describe_status(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name} (a crash in native code?)"
    return f"exited with status {code} (sys.exit / os._exit)"


class ImportFailed(Exception):
    """The user's module raised while being imported (a ValueError included: kept apart
    from the loader's own usage errors)."""


def load_user_function(spec: str, factory_args: Sequence[Any] | None = None,
                       what: str = "--impl") -> Callable:
    """Import ``MODULE:ATTR`` (in the worker, or in-process): ``ValueError`` only for usage
    errors (malformed spec, module or attribute not found, not callable); whatever the
    user's module raises while being imported propagates, a ``ValueError`` wrapped in
    :class:`ImportFailed`.  ``factory_args``: call ``ATTR(*factory_args)`` for the
    function."""
    if not isinstance(spec, str) or ":" not in spec or spec.startswith(":") \
            or spec.endswith(":"):
        raise ValueError(f"{what}: expected MODULE:ATTR, got {spec!r}")
    mod, attr = spec.split(":", 1)
    try:
        obj: Any = importlib.import_module(mod)
    except ModuleNotFoundError as exc:
        # the module itself (or a parent package) is missing: a usage error;
        # a missing dependency imported *by* the user's module is a failure.
        if exc.name is not None and (mod == exc.name or mod.startswith(exc.name + ".")):
            raise ValueError(f"{what}: cannot load {spec!r} (no module named "
                             f"{exc.name!r}; is the current folder or PYTHONPATH right?)") \
                from exc
        raise
    except ValueError as exc:  # raised by the user's module: not a usage error
        raise ImportFailed(_exc_text(exc)) from exc
    try:
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError as exc:
        raise ValueError(f"{what}: cannot load {spec!r} (AttributeError: {exc})") from exc
    if factory_args is not None:
        obj = obj(*factory_args)
    if not callable(obj):
        raise ValueError(f"{what}: {spec!r} is not callable (got {type(obj).__name__})")
    return obj


def _exc_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def call_checked(fn: Callable, args: Sequence[np.ndarray],
                  convert: Callable | None) -> tuple[str, Any, Any]:
    """Call ``fn`` on ``args`` (already private copies): a reply tuple."""
    try:
        result = fn(*args)
    except SystemExit as exc:
        return ("exit", exc.code, None)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the user's code, whatever it raises
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {tb[-1].filename}:{tb[-1].lineno})" if tb else ""
        return ("raised", _exc_text(exc) + where, None)
    if convert is not None:
        try:
            result = convert(result)
        except Exception as exc:
            return ("result", f"returned an unusable value: {exc}", None)
    return ("ok", result, list(args))


def _watch_parent(ppid: int) -> None:  # pragma: no cover - runs in the worker
    while True:
        time.sleep(0.5)
        if os.getppid() != ppid:
            os._exit(1)


def _worker_main(fd: int) -> None:  # pragma: no cover - runs in the worker process
    """The worker loop: load once, then answer calls until the connection closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(fd)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    try:
        _, sys_path, cwd, spec, factory_args, convert, what = conn.recv()
    except EOFError:
        return
    sys.path[:] = [cwd] + [p for p in sys_path if p != cwd]
    if isinstance(convert, str):
        convert = CONVERTERS[convert]
    try:
        fn = load_user_function(spec, factory_args, what)
    except ValueError as exc:
        conn.send(("usage", str(exc)))
        return
    except SystemExit as exc:
        conn.send(("import", f"called sys.exit({exc.code!r}) while being imported"))
        return
    except BaseException as exc:
        conn.send(("import", f"raised {_exc_text(exc)} while being imported"))
        return
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        reply = call_checked(fn, msg[1], convert)
        try:
            conn.send(reply)
        except Exception as exc:  # e.g. an unpicklable result
            conn.send(("result", f"returned an object that cannot be sent back ({exc})",
                       None))
        if reply[0] == "exit":
            return
