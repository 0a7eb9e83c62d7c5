"""Mutation testing of the modules whose verdicts users trust (issue 20, point 4).

Not part of the default test run: run by hand, one module at a time::

    nice -n 10 .venv/bin/python scripts/mutation.py construction
    nice -n 10 .venv/bin/python scripts/mutation.py --list          # the modules and their tests
    nice -n 10 .venv/bin/python scripts/mutation.py mitm --ids 12,40  # re-run some mutants only

Each mutant is one mutmut-like change of the module's AST (a comparison flipped,
``+``/``-`` or ``*``/``/`` swapped, an integer constant moved by one, ``and``/``or``
swapped, a ``not`` dropped, ``min``/``max`` swapped, ``True``/``False`` swapped, a
``return`` value replaced by ``None``).  It is written over the module in place
(restored in a ``finally``; the script refuses to start on a module with
uncommitted changes), and the module's tests run in a fresh pytest process with
the ``slth-dev`` Hypothesis profile: a failing run kills the mutant, a passing
one lets it survive, a run over the time limit is a timeout.  Survivors are
printed with their line and change; docs/mutation.md lists the equivalent ones.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent

#: module (short name) -> (file, functions to mutate or None for all, tests: files or node ids;
#: the slow test_validate.py contributes its four tolerance tests only)
MODULES: dict[str, tuple[str, tuple[str, ...] | None, tuple[str, ...]]] = {
    "construction": ("slth_check/construction.py", ("required_n", "block_mask"),
                     ("tests/test_formulas.py", "tests/test_construction.py")),
    "closed_form": ("slth_check/certify/closed_form.py", None,
                    ("tests/test_mutation_killers_certify.py", "tests/test_construction.py")),
    "interval": ("slth_check/certify/interval.py", None,
                 ("tests/test_mutation_killers_interval.py",
                  "tests/test_mutation_killers_certify.py", "tests/test_certify_soundness.py")),
    "exact": ("slth_check/rss/exact.py", None,
              ("tests/test_mutation_killers_rss.py",)),
    "mitm": ("slth_check/rss/mitm.py", None,
             ("tests/test_mutation_killers_rss.py",)),
    "conv": ("slth_check/conv.py", None,
             ("tests/test_mutation_killers_conv.py", "tests/test_reference.py")),
    "tolerance": ("slth_check/validate/conv2d/tolerance.py", None,
                  ("tests/test_mutation_killers_tolerance.py", *(
                      f"tests/test_validate.py::{t}" for t in (
                          "test_exact_tolerance_boundary",
                          "test_fft_needs_the_normwise_term_and_it_stays_small",
                          "test_underflow_term_admits_flush_to_zero_in_float32_only",
                          "test_float_screen_is_not_fooled_by_the_float_reference_rounding")))),
    "precision": ("slth_check/precision.py", None, ("tests/test_mutation_killers_precision.py",)),
}

_CMP_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
             ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
             ast.In: ast.NotIn, ast.NotIn: ast.In}
_BIN_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
             ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult}


def _docstring_ids(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant):
            ids.add(id(body[0].value))
    return ids


def _in_scope(tree: ast.Module, functions: tuple[str, ...] | None) -> list[ast.AST]:
    if functions is None:
        return [tree]
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in functions]


def _variants(node: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(description, replacement) for one node."""
    new: Any
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _CMP_SWAP:
                new = copy.deepcopy(node)
                new.ops[i] = _CMP_SWAP[type(op)]()
                yield f"{type(op).__name__} -> {type(new.ops[i]).__name__}", new
    elif isinstance(node, ast.BinOp) and type(node.op) in _BIN_SWAP:
        new = copy.deepcopy(node)
        new.op = _BIN_SWAP[type(node.op)]()
        yield f"{type(node.op).__name__} -> {type(new.op).__name__}", new
    elif isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield f"{type(node.op).__name__} -> {type(new.op).__name__}", new
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        yield f"drop {type(node.op).__name__}", copy.deepcopy(node.operand)
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        yield f"{node.value} -> {not node.value}", ast.Constant(not node.value)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        v = cast(float, node.value)
        yield f"{v!r} -> {v + 1!r}", ast.Constant(v + 1)
        if v != 0:
            yield f"{v!r} -> {v - 1!r}", ast.Constant(v - 1)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in ("min", "max"):
        new = copy.deepcopy(node)
        new.func = ast.Name("max" if node.func.id == "min" else "min", ast.Load())
        yield f"{node.func.id} -> {new.func.id}", new
    elif isinstance(node, ast.Return) and node.value is not None \
            and not (isinstance(node.value, ast.Constant) and node.value.value is None):
        yield "return None", ast.Return(ast.Constant(None))


def _skipped(tree: ast.Module) -> set[int]:
    """Docstrings, f-strings (messages: their text is not a verdict), imports and annotations."""
    skip = _docstring_ids(tree)
    for node in ast.walk(tree):
        parts: list[ast.AST | None] = []
        if isinstance(node, (ast.JoinedStr, ast.Import, ast.ImportFrom)):
            parts = [node]
        elif isinstance(node, ast.AnnAssign):  # the annotation only: the value is code
            parts = [node.annotation]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parts = [node.returns, *(a.annotation for a in ast.walk(node.args)
                                     if isinstance(a, ast.arg))]
        for part in parts:
            if part is not None:
                skip.update(id(n) for n in ast.walk(part))
    return skip


def mutants(source: str, functions: tuple[str, ...] | None) -> Iterator[tuple[int, str, str]]:
    """Every mutant of ``source``: (line, description, mutated source)."""
    tree = ast.parse(source)
    skip = _skipped(tree)
    targets = [n for scope in _in_scope(tree, functions) for n in ast.walk(scope)
               if id(n) not in skip]
    for target in targets:
        for desc, repl in _variants(target):
            saved = {f: getattr(target, f) for f in target._fields}
            attrs = {f: getattr(repl, f) for f in repl._fields}
            cls = target.__class__
            target.__class__ = repl.__class__
            for f in saved:
                delattr(target, f)
            for f, v in attrs.items():
                setattr(target, f, v)
            try:
                yield getattr(target, "lineno", 0), desc, ast.unparse(tree)
            finally:
                for f in attrs:
                    delattr(target, f)
                target.__class__ = cls
                for f, v in saved.items():
                    setattr(target, f, v)


PYTEST_ARGS = ("-x", "-q", "-rf", "-p", "no:cacheprovider", "--hypothesis-profile", "slth-dev")
#: Imported once by the parent of --fork (never slth_check itself: each child imports the mutant).
PRELOAD = ("numpy", "scipy.optimize", "scipy.signal", "mpmath", "hypothesis", "pytest")


def _outcome(returncode: int | None, output: str) -> tuple[str, str]:
    if returncode is None:
        return "timeout", ""
    failed = [ln.split()[1] for ln in output.splitlines() if ln.startswith("FAILED ")]
    return ("survived" if returncode == 0 else "killed"), (failed[0] if failed else "")


def run_tests(tests: tuple[str, ...], timeout: float) -> tuple[str, str]:
    """(outcome, the failing test's id or '') of one pytest run in a fresh interpreter."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", *PYTEST_ARGS, *tests]
    try:
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    return _outcome(r.returncode, r.stdout.decode(errors="replace"))


def run_tests_forked(tests: tuple[str, ...], timeout: float) -> tuple[str, str]:
    """Like :func:`run_tests` in a forked child of this process, which has the heavy
    dependencies (:data:`PRELOAD`) imported already and slth_check not imported: the
    child imports the mutated module from ``ROOT`` (first on its path)."""
    with tempfile.TemporaryFile() as log:
        pid = os.fork()
        if pid == 0:  # the child: pytest in-process, output to the log, exit with its code
            code = 4
            try:
                os.dup2(log.fileno(), 1)
                os.dup2(log.fileno(), 2)
                os.chdir(ROOT)
                sys.path.insert(0, str(ROOT))
                sys.dont_write_bytecode = True
                import pytest
                code = int(pytest.main([*PYTEST_ARGS, *tests]))
            finally:
                sys.stdout.flush()
                os._exit(code)
        deadline = time.monotonic() + timeout
        returncode: int | None = None
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.05)
        log.seek(0)
        return _outcome(returncode, log.read().decode(errors="replace"))


def _clear_pyc(path: Path) -> None:
    for pyc in (path.parent / "__pycache__").glob(path.stem + ".*.pyc"):
        pyc.unlink()


def _ids(text: str) -> set[int]:
    return {int(v) for v in text.split(",") if v.strip()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("module", nargs="?", choices=sorted(MODULES))
    ap.add_argument("--list", action="store_true", help="list the modules and their tests")
    ap.add_argument("--ids", type=_ids, default=None,
                    help="comma-separated mutant numbers (as printed) to run, e.g. the survivors "
                         "of an earlier run; the others are skipped")
    ap.add_argument("--tests", nargs="+", default=None,
                    help="test files to run instead of the module's own list")
    ap.add_argument("--fork", action="store_true",
                    help="run each mutant's tests in a forked child with numpy, scipy, mpmath, "
                         "hypothesis and pytest imported once (POSIX; several times faster)")
    args = ap.parse_args(argv)
    if args.list or args.module is None:
        for name, (file, funcs, tests) in MODULES.items():
            print(f"{name}: {file} {funcs or '(all)'} <- {' '.join(tests)}")
        return 0
    file, funcs, tests = MODULES[args.module]
    tests = tuple(args.tests) if args.tests else tests
    path = ROOT / file
    if subprocess.run(["git", "diff", "--quiet", "--", file], cwd=ROOT).returncode:
        print(f"{file}: uncommitted changes; commit or stash them first", file=sys.stderr)
        return 2
    original = path.read_text()
    run = run_tests
    if args.fork:
        for name in PRELOAD:
            importlib.import_module(name)
        run = run_tests_forked
    # a SIGTERM must still restore the module (the finally below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    if run(tests, 600)[0] != "survived":
        print("the tests fail on the unmutated code", file=sys.stderr)
        return 2
    timeout = 5 * (time.monotonic() - t0) + 10
    counts = {"killed": 0, "survived": 0, "timeout": 0}
    try:
        for number, (line, desc, src) in enumerate(mutants(original, funcs)):
            if args.ids is not None and number not in args.ids:
                continue
            path.write_text(src)
            _clear_pyc(path)
            outcome, by = run(tests, timeout)
            counts[outcome] += 1
            if outcome != "killed" or args.ids is not None:
                print(f"{outcome.upper()}: #{number} {file}:{line}: {desc}"
                      + (f" (by {by})" if by else ""), flush=True)
    finally:
        path.write_text(original)
        _clear_pyc(path)
    total = sum(counts.values())
    print(f"{args.module}: {total} mutants, {counts['killed']} killed, "
          f"{counts['survived']} survived, {counts['timeout']} timeout")
    return 0


if __name__ == "__main__":
    sys.exit(main())
