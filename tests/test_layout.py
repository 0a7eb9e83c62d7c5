"""The house rules of docs/architecture.md, checked on the package's source (issue 20).

Each rule is read off the syntax tree of every module of ``slth_check``, so a change
that breaks one fails here with the module and line named.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "slth_check"
TESTS = Path(__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
#: The functions an ``__init__.py`` may define: lazy re-export and the claim registry.
DISPATCH = {"__getattr__", "__dir__", "_module", "register"}


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every ``import a.b`` and ``from a.b import c`` (as ``a.b`` and ``a.b.c``)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def test_the_package_has_modules() -> None:
    assert len(MODULES) > 50 and PACKAGE / "__init__.py" in MODULES


def test_no_module_is_over_300_lines() -> None:
    long = {_rel(p): n for p in MODULES
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_is_over_60_lines() -> None:
    long = [f"{_rel(p)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
            for p in MODULES for node in ast.walk(_tree(p))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


@pytest.mark.parametrize("path", [p for p in MODULES if p.name == "__init__.py"], ids=_rel)
def test_init_files_only_re_export_and_dispatch(path: Path) -> None:
    bad = []
    for node in _tree(path).body:
        if isinstance(node, ast.ClassDef):
            bad.append(f"class {node.name}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and node.name not in DISPATCH:
            bad.append(f"def {node.name}")
        elif isinstance(node, (ast.For, ast.While, ast.With, ast.Try)):
            bad.append(f"{type(node).__name__.lower()} statement at line {node.lineno}")
    assert not bad, f"{_rel(path)} holds logic: {bad}"


def test_only_figures_import_matplotlib() -> None:
    bad = [f"{_rel(p)}:{line}" for p in MODULES if "figures" not in p.parts
           for line, name in _imported_modules(_tree(p)) if name.split(".")[0] == "matplotlib"]
    assert not bad, f"matplotlib imported outside slth_check/figures/: {bad}"


def test_claims_return_data_and_never_draw() -> None:
    bad = [f"{_rel(p)}:{line} {name}" for p in MODULES if "claims" in p.parts
           for line, name in _imported_modules(_tree(p))
           if name.startswith("slth_check.figures")]
    assert not bad, f"claims import the figures: {bad}"


def _dynamic_imports(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            arg = node.args[0] if node.args else None
            text = arg.value if isinstance(arg, ast.Constant) else ast.unparse(arg or node)
            if name in ("__import__", "import_module") and (
                    "slth_check" in str(text) or str(text).startswith(("f'.", 'f".', "."))):
                lines.append(node.lineno)
    return lines


def test_no_dynamic_import_of_the_project() -> None:
    bad = {_rel(p): lines for p in MODULES if (lines := _dynamic_imports(_tree(p)))}
    assert not bad, f"__import__ / import_module of the project's own code: {bad}"


def test_tests_import_no_private_name_of_the_package() -> None:
    bad = []
    for p in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(_tree(p)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("slth_check"):
                bad += [f"{p.name}:{node.lineno} {a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
    assert not bad, f"tests import private names: {bad}"
