"""MkDocs hook: the build fails when a public name of slth-check has no docstring.

Public names: ``slth_check.__all__`` and the ``__all__`` of every module the API
reference documents.  A missing docstring is an error, so ``mkdocs build --strict``
(CI) fails on it.
"""

from __future__ import annotations

import importlib
import inspect

MODULES = ["slth_check", "slth_check.rss", "slth_check.certify",
           "slth_check.construction", "slth_check.rss.sparsest",
           "slth_check.experiment.laws",
           "slth_check.validate.conv2d.grid", "slth_check.validate.rss.generation",
           "slth_check.fileio.datasets", "slth_check.claims.hypotheses",
           "slth_check.testing.user_conv",
           "slth_check.testing.assertions"]


def undocumented() -> list[str]:
    """``module.name`` of every public function or class without a docstring."""
    missing = []
    for modname in MODULES:
        mod = importlib.import_module(modname)
        if not (mod.__doc__ or "").strip():
            missing.append(modname)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) \
                    and not (inspect.getdoc(obj) or "").strip():
                missing.append(f"{modname}.{name}")
    return missing


def on_pre_build(config, **kwargs) -> None:
    missing = undocumented()
    if missing:
        raise SystemExit(f"public names without a docstring: {', '.join(missing)}")
