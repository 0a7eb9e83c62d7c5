"""The compiled kernel's disk cache follows every kernel module (issue 19 review): numba
keys a cached function by its own file only, while ``solve_rows`` inlines code of the
other kernel modules, so the cache lives in a folder named by a digest of them all."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from slth_check.rss import compiled

PKG = Path(compiled.__file__).resolve().parent.parent


def test_every_module_compiled_by_the_kernel_jit_is_in_the_digest():
    from slth_check.rss.jit import KERNEL_MODULES

    users = {p.relative_to(PKG).as_posix() for p in PKG.rglob("*.py")
             if re.search(r"from slth_check\.rss\.jit import|rss import jit", p.read_text())}
    assert users | {"rss/jit.py"} == set(KERNEL_MODULES)


def test_the_digest_changes_with_any_kernel_module(tmp_path):
    from slth_check.rss.jit import KERNEL_MODULES, kernel_digest

    for name in KERNEL_MODULES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((PKG / name).read_bytes())
    base = kernel_digest(tmp_path)
    assert base == kernel_digest(PKG) == kernel_digest(tmp_path)
    for name in KERNEL_MODULES:
        original = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(original.replace(b"+ ONE", b"- ONE", 1) + b"#")
        assert kernel_digest(tmp_path) != base, name
        (tmp_path / name).write_bytes(original)
    assert kernel_digest(tmp_path) == base


@pytest.mark.skipif(not compiled.AVAILABLE, reason="numba is not installed")
def test_compiled_functions_are_cached_in_the_digest_folder(tmp_path):
    """In a fresh process with its own NUMBA_CACHE_DIR, a kernel function's cache files
    land in ``numba-kernels-<digest>`` and nowhere else."""
    from slth_check.rss.jit import kernel_digest

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    code = "from slth_check.rss.merge import offset; assert offset(3) == 13"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    files = [p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()]
    assert files, "nothing cached"
    assert {f.parts[0] for f in files} == {f"numba-kernels-{kernel_digest()[:20]}"}, files
    assert any(f.name.startswith("merge.offset") and f.suffix == ".nbi" for f in files), files
